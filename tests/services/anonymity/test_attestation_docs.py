"""The attestation verifier printed in docs/SIGNING.md ("Attestations of anonymous reports"), run
as a reader would run it (with the document's signature verifier, the standard library,
cryptography and rfc8785), on anonymous reports as a hub publishes them, and on altered ones."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from hub.signing import SIGNATURE_EXTENSION_ID, sign_object
from tests.services.anonymity.conftest import AnonHub

DOCS = Path(__file__).resolve().parents[3] / "docs" / "SIGNING.md"


def _verifier() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    code = [b for b in blocks if "def verify_signature(" in b or "def verify_attestation(" in b]
    assert len(code) == 2
    assert all("import hub" not in b and "from hub" not in b for b in code)
    assert len(code[1].strip().splitlines()) <= 30  # short enough to read and to port
    names: dict[str, Any] = {}
    for block in code:
        exec(compile(block, str(DOCS), "exec"), names)  # the document's own code
    return names


def _published(anon: AnonHub, report_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    client = anon.hut.client("gov")
    objects = [o.data for page in client.pages(anon.hut.collections["reports"]) for o in page.objects]
    report = next(o for o in objects if o["id"] == report_id)
    mine = [o for o in objects if o["id"] in report["object_refs"] or o["id"] == report_id]
    return mine, client.key_set()["keys"]


def test_the_documented_verifier_accepts_an_anonymous_report_as_published(anon: AnonHub) -> None:
    verify = _verifier()["verify_attestation"]
    result = anon.file("alice")
    objects, keys = _published(anon, result.report_id)
    assert verify(objects, keys) == "registered-provider"


def test_the_documented_verifier_refuses_altered_and_forged_reports(anon: AnonHub) -> None:
    verify = _verifier()["verify_attestation"]
    result = anon.file("alice")
    objects, keys = _published(anon, result.report_id)

    changed = copy.deepcopy(objects)
    report = next(o for o in changed if o["type"] == "report")
    report["description"] = "changed after the hub attested it"
    with pytest.raises(InvalidSignature):
        verify(changed, keys)

    # A provider that signs an "attestation" with its own key is not the hub.
    forged = copy.deepcopy(objects)
    key, identity = anon.hut.keys["alice"], anon.hut.identities["alice"]
    obj = forged[0]
    del obj["extensions"][SIGNATURE_EXTENSION_ID]
    if not obj["extensions"]:
        del obj["extensions"]
    signed = sign_object(obj, key, identity)
    signed["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]["type"] = "attestation"
    forged[0] = signed
    with pytest.raises(ValueError, match="not attested by the hub"):
        verify(forged, keys)

    named = copy.deepcopy(objects)
    identity_obj = next(o for o in named if o["id"] == report["created_by_ref"])
    identity_obj["name"] = "Alice Cloud"
    with pytest.raises(ValueError, match="anonymous identity"):
        verify(named, keys)
