"""The browser's signing code gives byte for byte the signed form the hub verifies.

hub/web/static/js/signing.js (the timestamp rule of docs/SIGNING.md, version 2) with the
vendored RFC 8785 package is run under node over a corpus of report objects (every builder
output of tests/stix's validator corpus, reports built from varied facts, the known-answer
object of docs/SIGNING.md) and compared with :func:`hub.signing.signing_input`; the known-answer
signature is reproduced with WebCrypto. Starts node: slow.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.client.reports import MappedPseudonymiser, pseudonym_values
from hub.signing import CanonicalizationError, SigningError, signing_input
from hub.stix.report import ReportFacts, build_report
from tests.signing.test_signing_forms import KAT_ENTRY, KAT_OBJECT
from tests.signing.vectors import RFC8037_D, RFC8037_X
from tests.stix.test_validator_corpus import build_corpus
from tests.web.forms import report_form

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")]

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60"


def _reports() -> list[dict[str, Any]]:
    """Objects of reports built from varied facts (fractions of every length in the times)."""
    out: list[dict[str, Any]] = []
    variants = [
        {},
        {"acquisition": "reseller", "reseller_identity_id": "identity--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
         "reseller_name": "Resell Co", "tlp": "amber+strict"},
        {"first_abuse_seen": "2025-02-12T21:14:00.5Z", "last_seen": "2025-02-14T02:40:00.123456Z",
         "action_taken": "none", "action_taken_at": None, "confidence": None, "summary": "Zürich — 東京 \u2028 \"quoted\""},
    ]
    for i, extra in enumerate(variants):
        form = report_form(**extra)
        facts = {k: v for k, v in form.items() if not k.startswith("personal.")}
        facts["resources"] = facts["resources"].split("\n")
        for name in ("confidence", "indicator_validity_days"):
            if name in facts:
                facts[name] = int(facts[name])
        facts.update(provider_identity_id=PROVIDER, personal={"email": "holder@example.com"})
        rf = ReportFacts.from_mapping(facts)
        values = pseudonym_values(rf)
        fake = [f"hmac-sha256:k1:{i:02d}{j:062x}" for j in range(len(values))]
        out += build_report(rf, MappedPseudonymiser(values, fake),
                            now=datetime(2026, 11, 22, 10, 0, i, 120000 * i, tzinfo=UTC))
    return out


def _entry(signed: str) -> dict[str, str]:
    return {"type": "jss", "version": "2", "algorithm": "Ed25519", "signer": PROVIDER,
            "key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "signed": signed}


def test_js_signed_form_matches_python_over_the_corpus() -> None:
    objects = _reports() + [obj for _, _, obj in build_corpus()] + [KAT_OBJECT]
    cases, expected = [], []
    for i, obj in enumerate(objects):
        entry = _entry(["2026-11-22T10:00:00.000Z", "2026-11-22T10:00:00.120Z", "2026-11-22T10:00:00Z"][i % 3])
        try:
            want = signing_input(obj, entry)
        except (CanonicalizationError, SigningError):
            continue  # no RFC 8785 form: nothing to sign in either language
        cases.append({"obj": obj, "entry": entry})
        expected.append(want)
    assert len(cases) > 400
    kat_obj = {k: v for k, v in KAT_OBJECT.items()}
    kat = {"obj": kat_obj, "signer": KAT_ENTRY["signer"], "signed": KAT_ENTRY["signed"],
           "jwk": {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}}
    proc = subprocess.run(["node", str(ROOT / "tests/web/signing_parity.js"), str(ROOT)],
                          input=json.dumps({"cases": cases, "kat": kat}), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    got = [base64.b64decode(b) for b in result["inputs"]]
    mismatches = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    assert not mismatches, (cases[mismatches[0]]["obj"], got[mismatches[0]], expected[mismatches[0]])
    # The known answer of docs/SIGNING.md, signed by WebCrypto with the RFC 8037 key.
    assert result["kat"]["kid"] == KAT_ENTRY["key_id"]
    assert result["kat"]["entry"] == KAT_ENTRY
