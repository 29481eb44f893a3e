"""A hub's rosters of the notices it carries from another hub: made, brought up to date only
when something changed, signed with the hub's key, read by the agency's peer and not by the
providers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.client.notices import acknowledge
from hub.client.taxii import read_outcome
from hub.common.errors import NotFound
from hub.signing import SigningKey
from hub.signing.documents import sign_objects, verify_objects
from hub.stix.notice import build_notice, roster_id
from hub.stix.notice_facts import ROSTER_TYPE, NoticeFacts
from tests.harness import FrozenClock, HubUnderTest

GOV = "identity--00000000-0000-4000-8000-00000000a0a0"  # an agency of the peer hub
PARTIES = {"hub-a": "peer", "bob": "provider", "carol": "provider", "gov-here": "agency"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(time.time_ns() // 1000)


@pytest.fixture
def hub(tmp_path: Path, clock: FrozenClock) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path / "hub", parties=PARTIES, keys_for=("bob", "carol", "gov-here"), clock=clock,
                            grants={"notices": {name: (True, True) for name in PARTIES}}, prepare=True) as made:
        with made.services() as services:
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
            services.admin.edit_party("hub-a", enforces_markings=True, serves=[GOV])
        yield made


def _relay_notice(hub: HubUnderTest, **over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"issuer_identity_id": GOV, "notice_kind": "special-measure", "title": "From A",
                             "legal_reference": "Order 7", "measures": ["restrict"], "jurisdictions": ["KP"],
                             "effective_from": datetime.now(UTC) + timedelta(hours=1), "tlp": "green"}
    facts.update(over)
    notice = sign_objects([build_notice(NoticeFacts.from_mapping(facts))], SigningKey.generate(), GOV)[0]
    with hub.client("hub-a") as client:  # relayed by the peer hub (the collection asks no signature)
        assert read_outcome(client.submit(hub.collections["notices"], [notice])).stored == [notice["id"]]
    return notice


def _rosters(hub: HubUnderTest, party: str) -> list[dict[str, Any]]:
    with hub.client(party) as client:
        return [o.data for page in client.pages(hub.collections["notices"], types=[ROSTER_TYPE], versions=["all"])
                for o in page.objects]


def test_a_roster_reports_this_hubs_addressees_and_changes_with_them(hub: HubUnderTest, clock: FrozenClock) -> None:
    col = hub.collections["notices"]
    notice = _relay_notice(hub)
    with hub.services() as services:
        assert services.notices.refresh_rosters(col) == 1
        assert services.notices.refresh_rosters(col) == 0  # nothing changed
        _key, identity = services.signer.ensure()
        keyset = services.keys.keyset()
    [roster] = _rosters(hub, "hub-a")
    assert roster["id"] == roster_id(notice["id"], identity) and roster["created_by_ref"] == identity
    assert [(e["name"], e["state"]) for e in roster["addressees"]] == [("bob", "pending"), ("carol", "pending")]
    [verdict] = verify_objects([roster], keyset, clock())
    assert verdict.ok, verdict.reason
    for provider in ("bob", "carol"):
        assert _rosters(hub, provider) == []  # for the agency (and its peer), not the providers

    with hub.client("bob") as client:
        acknowledge(client, col, notice["id"], "applied", hub.keys["bob"], hub.identities["bob"])
    clock.advance(2 * 3600)  # past effective_from: carol is overdue
    with hub.services() as services:
        assert services.notices.refresh_rosters(col) == 1
    newest = max(_rosters(hub, "hub-a"), key=lambda r: r["modified"])
    assert [(e["name"], e["state"]) for e in newest["addressees"]] == [("bob", "applied"), ("carol", "overdue")]
    assert newest["created"] == roster["created"] and newest["modified"] > roster["modified"]


def test_no_roster_of_this_hubs_own_notices(hub: HubUnderTest) -> None:
    col = hub.collections["notices"]
    facts = NoticeFacts.from_mapping({
        "issuer_identity_id": hub.identities["gov-here"], "notice_kind": "advisory", "title": "Ours",
        "description": "An advisory of this hub's own agency."})
    notice = sign_objects([build_notice(facts)], hub.keys["gov-here"], hub.identities["gov-here"])[0]
    with hub.client("gov-here") as client:
        assert read_outcome(client.submit(col, [notice])).stored == [notice["id"]]
    with hub.services() as services:
        assert services.notices.refresh_rosters(col) == 0
        with pytest.raises(NotFound):
            services.notices.refresh_rosters("no-such-collection")
    assert hub.cli("notice", "rosters", "--collection", col).stdout.strip() == f"0 roster(s) stored in collection {col}"
