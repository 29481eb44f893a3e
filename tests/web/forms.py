"""Report facts as the filing form sends them, and signing as the browser does (for the
in-process tests: the browser tests sign with WebCrypto itself)."""

from __future__ import annotations

import json
import re
from typing import Any

from hub.signing import SigningKey
from hub.signing.documents import sign_objects

_OBJECTS_RE = re.compile(r'<script type="application/json" id="objects-json">(.*?)</script>', re.S)


def report_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid filing form (the values of the report template)."""
    form: dict[str, Any] = {
        "provider_name": "Example Cloud",
        "provider_account_id": "acct-0042-9917",
        "acquisition": "direct-signup",
        "kyc_status": "unverified",
        "declared_country": "US",
        "account_created": "2025-02-10T08:00:00Z",
        "first_abuse_seen": "2025-02-12T21:14:00Z",
        "last_seen": "2025-02-14T02:40:00Z",
        "resources": "203.0.113.45\n2001:db8::45\nlogin-update.example\nhttps://login-update.example/verify",
        "abuse_types": ["phishing", "scanning"],
        "summary": "Phishing kit served from a trial account; the same VMs scanned for SSH.",
        "action_taken": "suspended",
        "action_taken_at": "2025-02-14T03:05:00Z",
        "confidence": "80",
        "tlp": "amber",
        "indicator_validity_days": "90",
        "personal.email": "holder@example.com",
        "personal.phone": "+1 415 555 2671",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def preview_objects(html: str) -> list[dict[str, Any]]:
    """The objects the hub built for the preview, as the page hands them to its script."""
    m = _OBJECTS_RE.search(html)
    assert m, "the page has no preview"
    objects: list[dict[str, Any]] = json.loads(m.group(1))
    return objects


def sign_as(objects: list[dict[str, Any]], key: SigningKey, identity: str) -> list[dict[str, Any]]:
    """The objects signed as the page's script signs them (scheme version 2)."""
    return sign_objects(objects, key, identity)
