"""Filing anonymously in the attested mode, over the hub's HTTP API in-process (SQLite and
PostgreSQL): what is published, what is refused, the sealed record, withdrawal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.anonymity.escrow import open_sealed
from hub.anonymity.filing import ANONYMOUS_NAME, WITHDRAWAL_PROPERTY, commitment
from hub.client.anonymous import withdraw_anonymous_report
from hub.client.errors import ClientError
from hub.signing import SIGNATURE_EXTENSION_ID
from tests.services.anonymity.conftest import AnonHub


def _published(anon: AnonHub, reader: str = "gov") -> list[dict[str, Any]]:
    client = anon.hut.client(reader)
    return [o.data for page in client.pages(anon.hut.collections["reports"]) for o in page.objects]


def test_a_filed_report_is_published_under_an_anonymous_identity_with_the_hubs_attestation(anon: AnonHub) -> None:
    result = anon.file("alice")
    receipt = result.receipt
    assert receipt is not None
    objects = _published(anon)
    by_id = {o["id"]: o for o in objects}
    assert set(by_id) == set(receipt["object_ids"])
    report = by_id[receipt["report_id"]]
    creator = report["created_by_ref"]
    assert by_id[creator]["name"] == ANONYMOUS_NAME
    assert creator != anon.hut.identities["alice"]
    assert report[WITHDRAWAL_PROPERTY] == commitment(result.secret)
    hub_identity = anon.hut.hub.signer.ensure()[1]
    for obj in objects:
        entries = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
        assert [(e["type"], e["signer"]) for e in entries] == [("attestation", hub_identity)]
    text = json.dumps(objects)
    assert anon.hut.identities["alice"] not in text
    assert "alice" not in text.casefold()
