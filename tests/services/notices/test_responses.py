"""Responses to preservation and information requests: signed, checked on ingest, shown in the status."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.client.notices import issue_notice, read_answer, respond
from hub.client.reports import LocalProblems
from hub.client.taxii import read_outcome
from hub.signing.documents import sign_objects
from hub.stix.notice import build_ack
from hub.stix.notice_facts import AckFacts, NoticeFacts
from tests.harness import FrozenClock, HubUnderTest

PARTIES = {"gov": "agency", "alice": "provider", "bob": "provider"}
GRANTS = {"notices": {name: (True, True) for name in PARTIES}}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path / "hub", parties=PARTIES, grants=GRANTS, keys_for=PARTIES,
                            clock=FrozenClock(time.time_ns() // 1000), prepare=True) as made:
        with made.services() as services:
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
        yield made


def _issue(hub: HubUnderTest, kind: str, **over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"issuer_identity_id": hub.identities["gov"], "notice_kind": kind,
                             "title": f"A {kind}"}
    if kind == "special-measure":
        facts.update(legal_reference="Order 7", measures=["restrict"], jurisdictions=["KP"],
                     effective_from=datetime.now(UTC) - timedelta(days=1))
    else:
        facts.update(report_ref="report--00000000-0000-4000-8000-000000000001", requested="Keep the logs.",
                     respond_by=datetime.now(UTC) + timedelta(days=3))
    facts.update(over)
    with hub.client("gov") as client:
        notice, outcome = issue_notice(client, hub.collections["notices"], NoticeFacts.from_mapping(facts),
                                       hub.keys["gov"], hub.identities["gov"])
    assert outcome.stored == [notice["id"]], outcome.refused
    return notice


def _respond(hub: HubUnderTest, party: str, notice_id: str, **kw: Any) -> Any:
    with hub.client(party) as client:
        return respond(client, hub.collections["notices"], notice_id, hub.keys[party], hub.identities[party], **kw)


def _submit(hub: HubUnderTest, party: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    signed = sign_objects([obj], hub.keys[party], hub.identities[party])[0]
    with hub.client(party) as client:
        return read_outcome(client.submit(hub.collections["notices"], [signed])).refused


def test_a_preservation_is_responded_to_with_its_reference(hub: HubUnderTest) -> None:
    notice = _issue(hub, "preservation-request")
    until = datetime(2027, 6, 1, tzinfo=UTC)
    ack, outcome = _respond(hub, "alice", notice["id"], preservation_reference="PR-2026-0042", preserved_until=until)
    assert outcome.stored == [ack["id"]]
    assert (ack["response"], ack["status"], ack["preservation_reference"]) == ("preserved", "applied", "PR-2026-0042")
    with pytest.raises(LocalProblems, match="respond with --reference"):
        _respond(hub, "bob", notice["id"], answer={"email": ["x@example.com"]})
    with hub.services() as services:
        status = services.notices.status("gov", hub.collections["notices"], notice["id"])
    rows = {a.name: a for a in status.addressees}
    assert rows["alice"].state == "preserved" and rows["alice"].preservation_reference == "PR-2026-0042"
    assert rows["alice"].preserved_until == "2027-06-01T00:00:00.000Z"
    assert rows["bob"].state == "pending"


def test_an_answer_leaves_as_pseudonyms(hub: HubUnderTest, tmp_path: Path) -> None:
    notice = _issue(hub, "information-request")
    answer_file = tmp_path / "answer.toml"
    answer_file.write_text('email = ["Someone@Example.com"]\nprovider_account = ["acct-7"]\n')
    ack, outcome = _respond(hub, "bob", notice["id"], answer=read_answer(answer_file), note="Found one account.")
    assert outcome.stored == [ack["id"]]
    text = str(ack)
    assert "someone@example.com" not in text.lower() and "acct-7" not in text
    assert set(ack["answer_pseudonyms"]) == {"email", "provider_account"}
    assert all(p.startswith("poprf-r255:") for ps in ack["answer_pseudonyms"].values() for p in ps)
    with hub.services() as services:
        status = services.notices.status("gov", hub.collections["notices"], "1")
    [bob] = [a for a in status.addressees if a.name == "bob"]
    assert bob.state == "answered" and bob.answer_pseudonyms == ack["answer_pseudonyms"]
    bad = tmp_path / "bad.toml"
    bad.write_text('shoe_size = ["44"]\n')
    with pytest.raises(LocalProblems, match="'shoe_size' is not a kind of value"):
        read_answer(bad)


def test_the_hub_refuses_a_response_that_does_not_fit(hub: HubUnderTest) -> None:
    measure = _issue(hub, "special-measure")
    info = _issue(hub, "information-request")
    with pytest.raises(LocalProblems, match="only a preservation-request or an information-request"):
        _respond(hub, "alice", measure["id"], preservation_reference="PR-1")

    def response(notice: dict[str, Any], **facts: Any) -> dict[str, Any]:
        return build_ack(AckFacts(notice_ref=notice["id"], notice_modified=notice["modified"], status="applied",
                                  **facts), provider=hub.identities["alice"], agency=hub.identities["gov"])

    [(_, reason)] = _submit(hub, "alice", response(measure, response="preserved", preservation_reference="PR-1"))
    assert "is a special-measure: only a preservation-request or an information-request takes a response" in reason
    [(_, reason)] = _submit(hub, "alice", response(info, response="preserved", preservation_reference="PR-1"))
    assert "is an information-request: it is answered with response 'answered'" in reason
    unknown = dict(measure, id="abusehub-notice--00000000-0000-4000-8000-00000000abcd")
    [(_, reason)] = _submit(hub, "alice", response(unknown, response="preserved", preservation_reference="PR-1"))
    assert "unknown notice" in reason
    # A request addressed to alice alone: bob's response is refused.
    mine = _issue(hub, "preservation-request", addressee_refs=[hub.identities["alice"]])
    other = build_ack(AckFacts(notice_ref=mine["id"], notice_modified=mine["modified"], status="applied",
                               response="preserved", preservation_reference="PR-9"),
                      provider=hub.identities["bob"], agency=hub.identities["gov"])
    [(_, reason)] = _submit(hub, "bob", other)
    assert "does not address" in reason
    with hub.client("gov") as client:
        from hub.client.notices import withdraw_notice
        withdraw_notice(client, hub.collections["notices"], info["id"], hub.keys["gov"], hub.identities["gov"])
    [(_, reason)] = _submit(hub, "alice", response(info, response="answered",
                                                   answer_pseudonyms={"email": ["poprf-r255:k1:" + "ab" * 64]}))
    assert "was withdrawn" in reason
