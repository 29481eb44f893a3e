"""Notices through a hub in-process: the ingest rules, the status of a notice, matching accounts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.client.notices import (
    NOTICE_TEMPLATE,
    PseudonymCache,
    acknowledge,
    fetch_notices,
    issue_notice,
    match_accounts,
    pseudonymise_accounts,
    read_accounts,
    read_notice_facts,
    withdraw_notice,
)
from hub.client.reports import LocalProblems
from hub.common.errors import NotFound
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.services.notices import tally
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.signing.documents import sign_objects
from hub.stix.notice import ack_id, build_ack, build_notice
from hub.stix.notice_facts import AckFacts, NoticeFacts
from tests.harness import FrozenClock, HubUnderTest

PARTIES = {"gov": "agency", "gov2": "agency", "alice": "provider", "bob": "provider", "carol": "provider"}
GRANTS = {"notices": {name: (True, True) for name in PARTIES}}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(time.time_ns() // 1000)


@pytest.fixture
def hub(tmp_path: Path, clock: FrozenClock) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path / "hub", parties=PARTIES, grants=GRANTS, keys_for=PARTIES,
                            clock=clock, prepare=True) as made:
        with made.services() as services:  # acknowledgements are TLP:RED
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
        yield made


def _facts(hub: HubUnderTest, **over: Any) -> NoticeFacts:
    facts: dict[str, Any] = {
        "issuer_identity_id": hub.identities["gov"], "notice_kind": "special-measure",
        "title": "Special measure 7", "legal_reference": "Order 2026-7", "measures": ["prohibit-new-accounts"],
        "jurisdictions": ["KP"], "resellers": [{"name": "Resell Co., Ltd.", "country": "CN"}],
        "effective_from": datetime.now(UTC) - timedelta(days=1),
    }
    facts.update(over)
    return NoticeFacts.from_mapping(facts)


def _issue(hub: HubUnderTest, **over: Any) -> dict[str, Any]:
    with hub.client("gov") as client:
        notice, outcome = issue_notice(client, hub.collections["notices"], _facts(hub, **over),
                                       hub.keys["gov"], hub.identities["gov"])
    assert outcome.stored == [notice["id"]], outcome.refused
    return notice


def _ack(hub: HubUnderTest, party: str, notice_id: str, status: str, **kw: Any) -> Any:
    with hub.client(party) as client:
        return acknowledge(client, hub.collections["notices"], notice_id, status, hub.keys[party],
                           hub.identities[party], **kw)[1]


def _submit(hub: HubUnderTest, party: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    with hub.client(party) as client:
        status = client.submit(hub.collections["notices"], [obj])
    from hub.client.taxii import read_outcome
    return read_outcome(status).refused


# -- ingest --------------------------------------------------------------------------------------------


def test_only_an_agency_issues_a_signed_notice(hub: HubUnderTest) -> None:
    unsigned = build_notice(_facts(hub))
    [(_, reason)] = _submit(hub, "gov", unsigned)
    assert "must be signed by its issuer" in reason
    by_provider = sign_objects([build_notice(_facts(hub, issuer_identity_id=hub.identities["alice"]))],
                               hub.keys["alice"], hub.identities["alice"])[0]
    [(_, reason)] = _submit(hub, "alice", by_provider)
    assert "issued by an agency party; alice is a provider" in reason
    other_key = sign_objects([build_notice(_facts(hub))], hub.keys["gov2"], hub.identities["gov"])[0]
    [(_, reason)] = _submit(hub, "gov", other_key)
    assert "gov" in reason and "key" in reason.lower()


def test_a_scope_that_does_not_parse_is_refused(hub: HubUnderTest) -> None:
    notice = build_notice(_facts(hub))
    notice["jurisdictions"] = ["Atlantis"]
    notice["effective_until"] = "2020-01-01T00:00:00.000Z"
    signed = sign_objects([notice], hub.keys["gov"], hub.identities["gov"])[0]
    [(_, reason)] = _submit(hub, "gov", signed)
    assert "jurisdictions[0]" in reason and "effective_until is earlier than effective_from" in reason


def test_acknowledgements_are_checked_and_read_by_the_agency_alone(hub: HubUnderTest) -> None:
    notice = _issue(hub, addressee_refs=[hub.identities["alice"], hub.identities["bob"]])
    assert _ack(hub, "alice", notice["id"], "applied", accounts_affected=2).stored

    with pytest.raises(LocalProblems, match="does not address"):
        _ack(hub, "carol", notice["id"], "received")
    # Past the client's own check, the hub refuses it too.
    ack = build_ack(AckFacts(notice_ref=notice["id"], notice_modified=notice["modified"], status="received"),
                    provider=hub.identities["carol"], agency=hub.identities["gov"])
    [(_, reason)] = _submit(hub, "carol", sign_objects([ack], hub.keys["carol"], hub.identities["carol"])[0])
    assert "does not address" in reason
    # An unknown notice; an acknowledgement not readable by the issuing agency.
    unknown = dict(ack, notice_ref="abusehub-notice--00000000-0000-4000-8000-000000000000")
    unknown["id"] = ack_id(unknown["notice_ref"], hub.identities["bob"])
    unknown["created_by_ref"] = hub.identities["bob"]
    [(_, reason)] = _submit(hub, "bob", sign_objects([unknown], hub.keys["bob"], hub.identities["bob"])[0])
    assert "unknown notice" in reason
    hidden = build_ack(AckFacts(notice_ref=notice["id"], notice_modified=notice["modified"], status="received"),
                       provider=hub.identities["bob"], agency=hub.identities["gov2"])
    [(_, reason)] = _submit(hub, "bob", sign_objects([hidden], hub.keys["bob"], hub.identities["bob"])[0])
    assert "issuing agency" in reason

    # The markings decide who reads an acknowledgement: the agency and its provider only.
    col = hub.collections["notices"]
    for party, sees in (("gov", 1), ("alice", 1), ("bob", 0), ("gov2", 0)):
        with hub.client(party) as client:
            assert len(fetch_notices(client, col, "abusehub-notice-ack")) == sees, party

    with hub.client("gov") as client:
        gone, outcome = withdraw_notice(client, col, notice["id"], hub.keys["gov"], hub.identities["gov"])
    assert outcome.stored == [notice["id"]]
    with pytest.raises(LocalProblems, match="withdrawn"):
        with hub.client("gov") as client:
            withdraw_notice(client, col, notice["id"], hub.keys["gov"], hub.identities["gov"])
    stale = build_ack(AckFacts(notice_ref=notice["id"], notice_modified=notice["modified"], status="applied"),
                      provider=hub.identities["bob"], agency=hub.identities["gov"])
    [(_, reason)] = _submit(hub, "bob", sign_objects([stale], hub.keys["bob"], hub.identities["bob"])[0])
    assert "was withdrawn" in reason
    # A withdrawn notice stays withdrawn.
    back = {k: v for k, v in gone.items() if k != "withdrawn"}
    back["extensions"] = {k: v for k, v in gone["extensions"].items() if k != SIGNATURE_EXTENSION_ID}
    back["modified"] = format_timestamp_us(parse_timestamp_us(gone["modified"]) + 1000)
    [(_, reason)] = _submit(hub, "gov", sign_objects([back], hub.keys["gov"], hub.identities["gov"])[0])
    assert "was withdrawn" in reason
    # Nor does another agency make versions of it.
    taken = dict(back, created_by_ref=hub.identities["gov2"])
    [(_, reason)] = _submit(hub, "gov2", sign_objects([taken], hub.keys["gov2"], hub.identities["gov2"])[0])
    assert "only its issuer makes new versions" in reason


# -- status ---------------------------------------------------------------------------------------------


def test_status_shows_each_addressee_and_the_overdue(hub: HubUnderTest, clock: FrozenClock) -> None:
    notice = _issue(hub, effective_from=datetime.now(UTC) + timedelta(hours=1))
    assert _ack(hub, "alice", notice["id"], "received").stored
    assert _ack(hub, "bob", notice["id"], "not-applicable").stored
    with hub.services() as services:
        before = services.notices.status("gov", hub.collections["notices"], notice["id"])
    states = {a.name: a.state for a in before.addressees}
    assert states == {"alice": "received", "bob": "not-applicable", "carol": "pending"}
    assert before.state == "not yet in force"

    # By the number `notice list` shows (the first notice in the collection).
    assert _ack(hub, "alice", "1", "applied", accounts_affected=3, note="Closed three.").stored
    clock.advance(2 * 3600)
    with hub.services() as services:
        after = services.notices.status("gov", hub.collections["notices"], notice["id"])
        # Another agency reads none of the acknowledgements: every provider is overdue for it.
        other = services.notices.status("gov2", hub.collections["notices"], "1")
        with pytest.raises(NotFound):
            services.notices.status("gov", hub.collections["notices"], "2")
    rows = {a.name: a for a in after.addressees}
    assert {n: r.state for n, r in rows.items()} == {"alice": "applied", "bob": "not-applicable", "carol": "overdue"}
    assert rows["alice"].accounts_affected == 3 and after.counts == {"applied": 1, "not-applicable": 1, "overdue": 1}
    assert after.state == "in force"
    assert {a.state for a in other.addressees} == {"overdue"}


def test_tally_keeps_the_newest_answer() -> None:
    notice = {"id": "abusehub-notice--1", "name": "n", "notice_kind": "advisory"}
    acks = [{"notice_ref": notice["id"], "created_by_ref": "a", "status": "applied", "modified": "2026-01-02"},
            {"notice_ref": notice["id"], "created_by_ref": "a", "status": "received", "modified": "2026-01-01"},
            {"notice_ref": "abusehub-notice--2", "created_by_ref": "b", "status": "applied", "modified": "2026-01-03"},
            {"notice_ref": notice["id"], "created_by_ref": "stranger", "status": "applied", "modified": "2026-01-03"}]
    status = tally(notice, acks, {"a": "alice", "b": "bob"}, 0)
    assert [(a.identity_id, a.state) for a in status.addressees] == [("a", "applied"), ("b", "pending")]
    assert status.due is None


# -- matching ---------------------------------------------------------------------------------------------


ACCOUNTS_CSV = """\
account_id,country,reseller_name,reseller_country,reseller_registration,email,phone,payment_instrument,ips,domains
a-1,kp,,,,one@example.com,,,,
a-2,DE,RESELL CO LTD,cn,,,,,,
a-3,DE,,,,two@example.com,,,203.0.113.9,shop.bad.example
a-4,DE,,,,,,,198.51.100.1,good.example
a-5,Atlantis,,,,,,,,
a-6,DE,,,,not-an-email,,,,
"""


def test_match_names_bad_rows_and_matches_the_rest(hub: HubUnderTest, tmp_path: Path) -> None:
    accounts_file = tmp_path / "accounts.csv"
    accounts_file.write_text(ACCOUNTS_CSV)
    accounts, problems = read_accounts(accounts_file)
    assert [(p.row, p.problem) for p in problems] == [
        (6, "country must be an ISO 3166-1 alpha-2 code"), (7, "email is not a valid value of its kind")]
    provider = hub.identities["alice"]
    cache = PseudonymCache(tmp_path / "cache.json")
    with hub.client("alice") as client:
        made, evaluated = pseudonymise_accounts(client, accounts, provider, cache)
        email_pseudonym = client.pseudonymise([("email", "two@example.com")])[0]
    assert evaluated == 6  # four account ids, two e-mail addresses
    cache.save()
    notice = _issue(hub, ip_ranges=["203.0.113.0/24"], domains=["bad.example"],
                    account_pseudonyms={"email": [email_pseudonym]})
    [match] = match_accounts([notice], made, provider)
    assert match.accounts == [("a-1", ["jurisdiction KP"]), ("a-2", ["reseller"]),
                              ("a-3", ["pseudonym", "ip range", "domain"])]

    # The cache answers the next run: nothing is evaluated again, even without the hub.
    again, evaluated = pseudonymise_accounts(None, accounts, provider, PseudonymCache(tmp_path / "cache.json"))
    assert evaluated == 0 and [a.pseudonyms for a in again] == [a.pseudonyms for a in made]
    # A notice that does not address the provider, or is withdrawn, matches nothing.
    assert match_accounts([dict(notice, addressee_refs=[hub.identities["bob"]])], made, provider) == []
    assert match_accounts([dict(notice, withdrawn=True)], made, provider) == []


def test_the_template_is_a_valid_notice(hub: HubUnderTest, tmp_path: Path) -> None:
    path = tmp_path / "notice.toml"
    path.write_text(NOTICE_TEMPLATE)
    facts = read_notice_facts(path, hub.identities["gov"])
    assert facts.notice_kind == "special-measure" and facts.resellers
    with pytest.raises(LocalProblems, match="not --as"):
        path.write_text(NOTICE_TEMPLATE + f'issuer_identity_id = "{hub.identities["gov2"]}"\n')
        read_notice_facts(path, hub.identities["gov"])
