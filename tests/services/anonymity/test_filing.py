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


def _refusal(anon: AnonHub, party: str, prepared: Any, collection: str = "reports") -> str:
    before = _published(anon)
    with pytest.raises(ClientError) as caught:
        anon.file(party, prepared, collection=collection)
    assert _published(anon) == before
    assert anon.hut.hub.anonymous.anon.next_anonymous_publication() is None
    message = str(caught.value)
    for name in ("alice", "bob"):
        assert name not in message.casefold()
        assert anon.hut.identities[name] not in message
    return message


def test_a_collection_that_does_not_accept_anonymous_reports_refuses_them(anon: AnonHub) -> None:
    message = _refusal(anon, "alice", anon.prepare("alice"), collection="private")
    assert "does not accept anonymous reports" in message


def test_a_report_that_names_its_provider_is_refused_naming_no_one(anon: AnonHub) -> None:
    message = _refusal(anon, "alice", anon.prepare("alice", summary="Seen by the alice abuse desk."))
    assert "still names its submitter (its party name)" in message


def test_a_report_that_carries_the_providers_key_id_is_refused(anon: AnonHub) -> None:
    key_id = anon.hut.keys["alice"].key_id
    message = _refusal(anon, "alice", anon.prepare("alice", summary=f"Ticket {key_id} closed."))
    assert "(its key id)" in message


def test_a_report_signed_by_another_party_is_refused(anon: AnonHub) -> None:
    message = _refusal(anon, "bob", anon.prepare("alice"))
    assert "not signed by the filing party" in message


def test_a_tampered_object_is_refused(anon: AnonHub) -> None:
    prepared = anon.prepare("alice")
    prepared.objects[-1]["description"] = "changed after signing"
    message = _refusal(anon, "alice", prepared)
    assert "does not verify" in message


def test_an_invalid_report_is_refused_with_the_validators_reason(anon: AnonHub) -> None:
    prepared = anon.prepare("alice")
    from hub.signing import sign_object
    report = {k: v for k, v in prepared.objects[-1].items() if k not in ("extensions", "published")}
    prepared.objects[-1] = sign_object(report, anon.hut.keys["alice"], anon.hut.identities["alice"])
    message = _refusal(anon, "alice", prepared)
    assert "published" in message


def test_the_sealed_record_opens_with_the_oversight_key_only(anon: AnonHub) -> None:
    result = anon.file("alice")
    sealed = anon.hut.hub.anonymous.sealed_record(result.report_id)
    record = open_sealed(sealed, anon.oversight)
    assert (record.submitter, record.identity_id, record.report_id) == (
        "alice", anon.hut.identities["alice"], result.report_id)
    from hub.anonymity.errors import EscrowError
    from hub.anonymity.escrow import OversightPrivateKey
    with pytest.raises(EscrowError):
        open_sealed(sealed, OversightPrivateKey.generate())


def test_withdrawal_by_secret_deletes_the_reports_own_objects(anon: AnonHub) -> None:
    result = anon.file("alice")
    client = anon.hut.client("gov")  # any client: the secret, not the credentials, counts
    collection = anon.hut.collections["reports"]
    with pytest.raises(ClientError):
        withdraw_anonymous_report(client, collection, result.report_id, commitment(result.secret)[7:50])
    count = withdraw_anonymous_report(client, collection, result.report_id, result.secret)
    left = {o["id"] for o in _published(anon)}
    assert count > 0 and result.report_id not in left
    assert not left & set(r for r in (result.receipt or {})["object_ids"] if not r.startswith(
        ("ipv4-addr", "ipv6-addr", "domain-name", "url", "user-account")))
    with pytest.raises(ClientError):
        withdraw_anonymous_report(client, collection, result.report_id, result.secret)


def test_the_audit_trail_of_a_filing_names_no_party_and_no_object(anon: AnonHub) -> None:
    result = anon.file("alice")
    anon.hut.hub.audit.close()
    records = list(anon.hut.hub.store.iter_audit())
    publications = [r for r in records if r.kind == "anonymous-publication"]
    assert publications and all(r.party == "" for r in publications)
    text = json.dumps([r.data for r in records[-3:]])
    assert result.report_id not in text and "alice" not in text


def test_filings_wait_for_a_random_moment_within_the_window(backend: str, tmp_path: Any) -> None:
    from tests.services.anonymity.conftest import build_anon_hub
    hut, oversight = build_anon_hub(tmp_path / "home", backend, window=3600)
    with hut:
        anon = AnonHub(hut, oversight)
        for _ in range(3):
            anon.file("alice")
        assert not _published(anon)
        now = hut.hub.clock()
        window = 3600 * 1_000_000
        waiting = hut.hub.anonymous.anon.due_anonymous_filings(now + 2 * window)
        assert len(waiting) == 3
        assert len({f.publish_us for f in waiting}) == 3  # random moments (equal by chance: 1 in ~10^9)
        # In the window after the one they were filed in (or the one after, filed at its edge).
        assert all(now // window + 1 <= f.publish_us // window <= now // window + 2 for f in waiting)
        assert hut.hub.anonymous.flush_due() == 0


def test_the_report_says_what_the_hub_attests(anon: AnonHub) -> None:
    from hub.services.anonymity.filing import ATTESTS_PROPERTY, ATTESTS_PROVIDER
    result = anon.file("alice")
    report = next(o for o in _published(anon) if o["id"] == result.report_id)
    assert report[ATTESTS_PROPERTY] == ATTESTS_PROVIDER


def test_the_filings_of_one_window_are_published_together_in_one_shuffled_batch(backend: str, tmp_path: Any) -> None:
    import time

    from tests.harness import FrozenClock
    from tests.services.anonymity.conftest import build_anon_hub
    window = 600
    start = int(time.time()) * 1_000_000
    clock = FrozenClock(start)
    hut, oversight = build_anon_hub(tmp_path / "home", backend, window=window, clock=clock)
    with hut:
        anon = AnonHub(hut, oversight)
        filed = [anon.file(party) for party in ("alice", "bob", "alice", "bob")]
        waiting = hut.hub.anonymous.anon.due_anonymous_filings(start + 3 * window * 1_000_000)
        clock.now = min(f.publish_us for f in waiting)  # the first moment of any of them
        assert hut.hub.anonymous.flush_due() == 4
        objects = _published(anon)
        assert {r.report_id for r in filed} <= {o["id"] for o in objects}
        # One submission: the objects of the four reports interleaved, not one report after another.
        order = [next(i for i, r in enumerate(filed) if o["id"] in (r.receipt or {})["object_ids"])
                 for o in objects if o["type"] in ("indicator", "report", "infrastructure")]
        assert order != sorted(order)


def test_a_countersigning_collection_publishes_the_attestation_alone(backend: str, tmp_path: Any) -> None:
    from tests.services.anonymity.conftest import build_anon_hub
    hut, oversight = build_anon_hub(tmp_path / "home", backend, signed={"reports": True})
    with hut:
        anon = AnonHub(hut, oversight)
        result = anon.file("alice")
        objects = [o for o in _published(anon) if o["id"] in (result.receipt or {})["object_ids"]]
        assert objects
        for obj in objects:
            assert [e["type"] for e in obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]] == ["attestation"]


def test_a_report_naming_its_provider_as_a_domain_label_or_by_organisation_is_refused(anon: AnonHub) -> None:
    message = _refusal(anon, "alice", anon.prepare("alice", resources=["login.alice.example"]))
    assert "(its party name)" in message
    anon.hut.hub.admin.edit_party("alice", organisation="USA.ALICECLOUD")
    message = _refusal(anon, "alice", anon.prepare("alice", summary="Shared by USA.ALICECLOUD."))
    assert "(its organisation code)" in message
    # A word that merely contains the name is not the name.
    assert anon.file("alice", anon.prepare("alice", summary="Seen by the malice team.")).receipt
