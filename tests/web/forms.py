"""Report facts as the filing form sends them, pseudonymised and signed as the browser does (for
the in-process tests: the browser tests blind with the page's script and sign with WebCrypto).

:func:`pseudonymised` does what the page's script does before the form is posted, with the
Python client's half of RFC 9497 (held to the script's by the vectors and parity tests):
normalise and blind each value, ``/web/pseudonyms/evaluate`` under the session, verify the
proof against ``/web/pseudonyms/key``, and send only ``pseudonym.<kind>`` fields."""

from __future__ import annotations

import json
import re
from typing import Any

from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms import PERSONAL_KINDS, PseudonymBatch, provider_account_value
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from tests.web.conftest import BASE

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


def pseudonymised(c: Any, form: dict[str, Any], identity: str) -> dict[str, Any]:
    """``form`` with its account id and personal values replaced by their oblivious pseudonyms,
    made through the web session ``c`` (a :class:`tests.web.conftest.WebClient`) as the page's
    script makes them; the values themselves are not sent."""
    out = {k: v for k, v in form.items() if k != "provider_account_id" and not k.startswith("personal.")}
    values: list[tuple[str, str]] = []
    if form.get("provider_account_id"):
        values.append(("provider_account", provider_account_value(identity, form["provider_account_id"])))
    values += [(k, form[f"personal.{k}"]) for k in PERSONAL_KINDS if form.get(f"personal.{k}")]
    if not values:
        return out
    keys = c.get("/web/pseudonyms/key").get_json()
    version = keys["current"]
    public = b64url_decode(next(k["public_key"] for k in keys["keys"] if k["key_version"] == version))
    region = form.get("phone_region") or form.get("declared_country") or None
    batches = [PseudonymBatch(kind, version, [value], default_region=region) for kind, value in values]
    body = {"key_version": version,
            "groups": [{"kind": b.kind, "blinded": [b64url_encode(e) for e in b.blinded]} for b in batches]}
    resp = c.client.post("/web/pseudonyms/evaluate", base_url=BASE, json=body, headers={"X-CSRF-Token": c.csrf})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    for batch, group in zip(batches, resp.get_json()["groups"], strict=True):
        made = batch.finish(public, [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"]))
        out[f"pseudonym.{batch.kind}"] = made[0]
    return out
