"""The status of a notice over HTTP (``GET {api_root}/collections/{id}/notices/{notice}/status/``):
who may read it, what an operator sees, and addressees grouped by hub from a peer hub's roster."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.client.errors import ClientError
from hub.client.notices import acknowledge, fetch_status, issue_notice
from hub.client.taxii import read_outcome
from hub.services.notices import HERE, UNKNOWN
from hub.signing.documents import sign_objects
from hub.stix.notice import build_roster
from hub.stix.notice_facts import NoticeFacts, RosterFacts
from tests.harness import FrozenClock, HubUnderTest

PARTIES = {"gov": "agency", "gov2": "agency", "alice": "provider", "bob": "provider", "ops": "operator",
           "hub-b": "peer"}
GRANTS = {"notices": {name: (True, True) for name in PARTIES}}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path / "hub", parties=PARTIES, grants=GRANTS, keys_for=PARTIES,
                            clock=FrozenClock(time.time_ns() // 1000), prepare=True) as made:
        with made.services() as services:
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
            services.admin.edit_party("hub-b", enforces_markings=True)
        yield made


def _issue(hub: HubUnderTest, **over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "issuer_identity_id": hub.identities["gov"], "notice_kind": "special-measure", "title": "Measure 7",
        "legal_reference": "Order 7", "measures": ["restrict"], "jurisdictions": ["KP"],
        "effective_from": datetime.now(UTC) - timedelta(days=1)}
    facts.update(over)
    with hub.client("gov") as client:
        notice, outcome = issue_notice(client, hub.collections["notices"], NoticeFacts.from_mapping(facts),
                                       hub.keys["gov"], hub.identities["gov"])
    assert outcome.stored == [notice["id"]], outcome.refused
    return notice


def _status(hub: HubUnderTest, party: str, notice_id: str) -> dict[str, Any]:
    with hub.client(party) as client:
        return fetch_status(client, hub.collections["notices"], notice_id)


def test_the_issuing_agency_and_operators_read_the_status_others_get_404(hub: HubUnderTest) -> None:
    notice = _issue(hub)
    col = hub.collections["notices"]
    with hub.client("alice") as client:
        acknowledge(client, col, notice["id"], "applied", hub.keys["alice"], hub.identities["alice"],
                    accounts_affected=2, note="Closed two.")
    mine = _status(hub, "gov", notice["id"])
    assert {a["name"]: a["state"] for a in mine["addressees"]} == {"alice": "applied", "bob": "overdue"}
    assert mine["hubs"] == [{"hub": HERE, "reported": None, "counts": {"applied": 1, "overdue": 1}}]
    assert mine["addressees"][0]["note"] == "Closed two."
    assert _status(hub, "gov", "1")["notice_id"] == notice["id"]  # by the number notice list shows
    ops = _status(hub, "ops", notice["id"])
    assert {a["name"]: a["state"] for a in ops["addressees"]} == {"alice": "applied", "bob": "overdue"}
    assert "note" not in ops["addressees"][0]
    for party in ("gov2", "alice", "hub-b"):
        with pytest.raises(ClientError, match="whose status you may read"):
            _status(hub, party, notice["id"])
    with pytest.raises(ClientError, match="whose status you may read"):
        _status(hub, "gov", "abusehub-notice--00000000-0000-4000-8000-000000000000")
    with pytest.raises(ClientError, match="whose status you may read"):
        _status(hub, "gov", "not-a-notice")


def test_a_peer_hubs_roster_puts_its_addressees_under_its_name(hub: HubUnderTest) -> None:
    carol, dave = "identity--00000000-0000-4000-8000-0000000000c3", "identity--00000000-0000-4000-8000-0000000000d4"
    erin = "identity--00000000-0000-4000-8000-0000000000e5"  # not addressed: what hub-b says of it is ignored
    notice = _issue(hub, addressee_refs=[hub.identities["alice"], carol, dave])
    # hub-b (a peer hub) reports carol, served there, as received, with its key (and more).
    roster = build_roster(RosterFacts.from_mapping({
        "notice_ref": notice["id"], "notice_modified": notice["modified"], "as_of": datetime.now(UTC),
        "addressees": [{"identity_ref": carol, "name": "carol", "state": "received"},
                       {"identity_ref": erin, "name": "erin", "state": "applied"},
                       {"identity_ref": hub.identities["alice"], "name": "alice", "state": "applied"}]}),
        hub=hub.identities["hub-b"], agency=hub.identities["gov"])
    signed = sign_objects([roster], hub.keys["hub-b"], hub.identities["hub-b"])
    with hub.client("hub-b") as client:
        assert read_outcome(client.submit(hub.collections["notices"], signed)).stored == [roster["id"]]
    status = _status(hub, "gov", notice["id"])
    rows = {a["identity_id"]: a for a in status["addressees"]}
    assert (rows[carol]["hub"], rows[carol]["state"], rows[carol]["reported"]) == ("hub-b", "overdue", "received")
    assert erin not in rows and rows[dave]["hub"] == UNKNOWN
    # alice is this hub's own provider: her state is read here, whatever a peer says of her.
    assert (rows[hub.identities["alice"]]["hub"], rows[hub.identities["alice"]]["state"]) == (HERE, "overdue")
    assert [g["hub"] for g in status["hubs"]] == [HERE, "hub-b", UNKNOWN]
    assert status["hubs"][1]["reported"] == roster["as_of"]
    # A provider of this hub cannot pass itself off as a hub.
    fake = sign_objects([dict(roster, created_by_ref=hub.identities["alice"])], hub.keys["alice"],
                        hub.identities["alice"])
    with hub.client("alice") as client:
        [(_, reason)] = read_outcome(client.submit(hub.collections["notices"], fake)).refused
    assert "a notice roster is made by a hub; alice is a provider" in reason
