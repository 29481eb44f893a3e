"""Two hubs wired together in one process, through the client library only.

Hub A and hub B are independent: each has its own home, configuration, database (B runs on
SQLite and on PostgreSQL), pseudonym keyring and countersigning key, and each is served by its
own :func:`hub.server.create_app` behind :class:`httpx.WSGITransport`. Provider alice files a
report at A with the report service and posts a few more signed objects; A countersigns them.
B's relay party polls A's collection page by page with :class:`TaxiiClient` and submits each
page's objects, with their exact text, into B's collection, which requires signatures and
countersigns too. B checks alice's signature on arrival; afterwards every signature of every
object polled back from B verifies against the two hubs' published keys, and the object
versions at B are those of A, each unchanged but for B's countersignature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.client.reports import file_report, load_facts
from hub.client.taxii import TaxiiClient, read_outcome
from hub.client.verify import KeySource, ObjectVerifier, version_of
from hub.common.timestamps import parse_timestamp_us
from hub.signing import SIGNATURE_EXTENSION_ID, KeySet
from hub.signing.documents import sign_objects, verify_objects
from tests.client.conftest import MakeHubs
from tests.client.report_kit import example_table
from tests.factories import indicator, ipv4
from tests.harness import BACKENDS, HubUnderTest


def _signers(obj: dict[str, Any]) -> list[str]:
    return [s["signer"] for s in obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]]


def _without_last_signature(obj: dict[str, Any]) -> dict[str, Any]:
    ext = obj["extensions"][SIGNATURE_EXTENSION_ID]
    return {**obj, "extensions": {**obj["extensions"],
                                  SIGNATURE_EXTENSION_ID: {**ext, "signatures": ext["signatures"][:-1]}}}


def _relay(source: TaxiiClient, source_col: str, target: TaxiiClient, target_col: str,
           added_after: str | None) -> tuple[list[str], list[str], str | None]:
    """Poll ``source`` after ``added_after`` and submit each page into ``target``; returns
    (stored ids, already stored ids, where the poll ended)."""
    stored: list[str] = []
    again: list[str] = []
    position = added_after
    for page in source.pages(source_col, added_after=added_after, limit=4, versions=("all",)):
        if not page.objects:
            continue
        outcome = read_outcome(target.submit(target_col, page.objects))
        assert outcome.complete and outcome.refused == [], outcome.refused
        stored += outcome.stored
        again += outcome.already_stored
        position = page.date_added_last
    return stored, again, position


@pytest.fixture(params=BACKENDS)
def hubs(request: pytest.FixtureRequest, make_hubs: MakeHubs) -> tuple[HubUnderTest, HubUnderTest]:
    a = make_hubs("hub-a", {"alice": "provider", "hub-b": "peer"},
                    {"reports": {"alice": (True, True), "hub-b": (True, False)}},
                    signed={"reports": True}, keys_for=("alice",), base="http://127.0.0.1:8001")
    b = make_hubs("hub-b", {"hub-a": "peer", "soc": "agency"},
                    {"relayed": {"hub-a": (True, True), "soc": (True, False)}},
                    signed={"relayed": True}, backend=request.param, base="http://127.0.0.1:8002")
    # B learns of alice as A publishes her: her identity and her key, valid from the same time.
    # (The parties of a peer are set up by B's operator; the services offer no import yet.)
    published = {k["kid"]: k for k in a.client().key_set()["keys"]}[a.keys["alice"].key_id]
    b.hub.store.create_party("alice", "provider", a.identities["alice"], False, b.hub.clock())
    b.hub.keys.add("alice", a.keys["alice"].public_key.to_jwk(),
                   not_before_us=parse_timestamp_us(published["not_before"], "not_before"))
    b.identities["alice"] = a.identities["alice"]
    return a, b


def test_two_hubs_federate_through_the_client_library(hubs: tuple[HubUnderTest, HubUnderTest],
                                                     tmp_path: Path) -> None:
    a, b = hubs
    alice, key = a.identities["alice"], a.keys["alice"]
    col_a, col_b = a.collections["reports"], b.collections["relayed"]

    with a.client("alice") as at_a:
        # The report service: facts -> pseudonyms at A -> build -> sign -> submit -> status.
        # TLP:GREEN: what a peer that does not enforce markings (hub-b, as A knows it) may read.
        table = {**example_table(), "provider_identity_id": alice, "tlp": "green"}
        result = file_report(at_a, col_a, load_facts(table), key, alice)
        assert result.state == "stored" and not result.refused, result.refused
        more = sign_objects([indicator(created_by_ref=alice), ipv4("198.51.100.77")], key, alice)
        assert read_outcome(at_a.submit(col_a, more)).stored
    at_a_stored = a.stored("reports")
    assert len(at_a_stored) == len(result.objects) + 2

    with a.client("hub-b") as from_a, b.client("hub-a") as into_b:
        stored, again, cursor = _relay(from_a, col_a, into_b, col_b, None)
        assert sorted(stored) == sorted(i for i, _, _ in at_a_stored) and again == []

        # Later objects at A: the relay resumes where it ended and moves only those.
        with a.client("alice") as at_a:
            later = sign_objects([indicator(created_by_ref=alice) for _ in range(3)], key, alice)
            at_a.submit(col_a, later)
        stored, again, _ = _relay(from_a, col_a, into_b, col_b, cursor)
        assert stored == [o["id"] for o in later] and again == []

        # Relaying everything again changes nothing at B.
        stored, again, _ = _relay(from_a, col_a, into_b, col_b, None)
        assert stored == [] and len(again) == len(at_a_stored) + 3

        # B checks alice's signature: an object changed on the way is refused.
        (page,) = list(from_a.pages(col_a, ids=(later[0]["id"],)))
        changed = dict(page.objects[0].data, confidence=1)
        outcome = read_outcome(into_b.submit(col_b, [changed]))
        assert [oid for oid, _ in outcome.refused] == [later[0]["id"]]
        assert "does not verify" in outcome.refused[0][1]

    # The same object versions on both sides (an observable's one version is its id); at B
    # each is A's object plus B's countersignature.
    objects_a = {(obj["id"], version_of(obj)): obj for obj in map(orjson.loads, (t for _, _, t in a.stored("reports")))}
    objects_b = {(obj["id"], version_of(obj)): obj for obj in map(orjson.loads, (t for _, _, t in b.stored("relayed")))}
    assert set(objects_a) == set(objects_b) and len(objects_b) == len(at_a_stored) + 3
    hub_a_id, hub_b_id = a.hub.signer.ensure()[1], b.hub.signer.ensure()[1]
    for version, obj_b in objects_b.items():
        assert _signers(obj_b) == [alice, hub_a_id, hub_b_id]
        assert _without_last_signature(obj_b) == objects_a[version]

    # Polled back from B page by page, every signature verifies against the two hubs' keys.
    with a.client() as pub_a, b.client() as pub_b:
        both = {"keys": pub_a.key_set()["keys"] + pub_b.key_set()["keys"]}
    keys_file = tmp_path / "keys.json"
    keys_file.write_bytes(orjson.dumps(both))
    with b.client("soc") as soc:
        verifier = ObjectVerifier("require", KeySource(str(keys_file)))
        b_only = ObjectVerifier("require", KeySource(soc.api + "keys/", soc))
        polled = []
        for page in soc.pages(col_b, limit=5, versions=("all",)):
            polled += page.objects
            assert verifier.check([o.data for o in page.objects]) == []
            b_only.check([o.data for o in page.objects])
    assert [o.text for o in polled] == [t for _, _, t in b.stored("relayed")]
    assert verifier.tally.verified == len(polled) and not verifier.tally.failed
    verdicts = verify_objects([o.data for o in polled], KeySet.from_jwks(both), a.hub.clock())
    assert all(set(v.signers) == {alice, hub_a_id, hub_b_id} for v in verdicts)
    # B's key set alone (fetched through the client) lacks A's countersigning key: checking
    # with it fails closed and says which key is unknown.
    assert b_only.tally.verified == 0 and len(b_only.tally.failed) == len(polled)
    assert all(f"key {a.hub.signer.ensure()[0].key_id} is unknown" in f.reason for f in b_only.tally.failed)
