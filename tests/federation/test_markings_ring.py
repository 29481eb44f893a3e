"""Markings across a federation of real hubs: each served by ``abusehub serve``, its parties set
with ``abusehub party edit``, its peers, links and turns run by the federation service on its
home (as ``abusehub peer``, ``link`` and ``federate --once`` do) against the served peers.

Hubs A, B and C belong to organisations OA, OB and OC. Alice, a provider at A (organisation
OA), posts objects marked every way; B serves two agencies, ``agency`` and ``other``; C serves
``carol``. At A, B's party serves both of B's agencies and C's serves carol, and both enforce
markings. The same ring runs with pull links (B and C pull from A, C from B) and with push
links (A pushes to B and C, B to C):

- TLP:RED naming B's ``agency`` reaches B, where only ``agency`` reads it, never C;
- TLP:AMBER stays at A; naming OB in the sharing extension's ``organisations``, it reaches B
  only (B does not pass it on to C, whose organisation was not named);
- TLP:AMBER+STRICT reaches no hub of another organisation, named or not: only C once C's party
  at A says C is a hub of OA;
- an ACS marking whose ``further_sharing`` allows no one leaves A for no hub; one that denies OB
  reaches C but not B;
- TLP:GREEN goes everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.services.federation import Credentials
from tests.factories import indicator
from tests.federation.procs import FedHub, acs_definition, make_fed_hub, marked, status

pytestmark = pytest.mark.slow

OA, OB, OC = "USA.ORGA", "USA.ORGB", "USA.ORGC"
TAXII = {"Accept": "application/taxii+json;version=2.1"}


def seen(h: FedHub, party: str, objs: dict[str, dict[str, Any]]) -> set[str]:
    """The names (keys of ``objs``) of the objects ``party`` reads at ``h`` by polling."""
    ids = {o["id"] for o in h.objects(party)}
    return {name for name, o in objs.items() if o["id"] in ids}


def get_status(h: FedHub, party: str, oid: str) -> int:
    """The HTTP status of ``GET .../objects/{oid}/`` by ``party`` at ``h``."""
    return int(h.http.get(h.collection_url("shared", "objects", oid), headers={**TAXII, **h.auth(party)},
                          timeout=30).status_code)


def federate(hubs: dict[str, FedHub], rounds: int = 2) -> None:
    """Turns of every link of B and C (pull) or A and B (push), from services opened on each
    home (as ``abusehub federate --once`` runs them) against the served peers."""
    for _ in range(rounds):
        for name in "abc":
            with hubs[name].services() as hub:
                assert [r.error for r in hub.federation.sync_once() if r.error] == [], name


def add_peer(here: FedHub, there: FedHub) -> None:
    """``here`` adds ``there`` as a peer, with the token ``there`` issued to it."""
    with here.services() as hub:
        hub.federation.peers.add(f"hub-{there.name}", there.url, Credentials(token=there.tokens[f"hub-{here.name}"]))


def add_link(here: FedHub, there: FedHub, direction: str) -> None:
    with here.services() as hub:
        hub.federation.peers.add_link(f"hub-{there.name}", direction, there.collection, here.collection)


@pytest.fixture(params=["pull", "push"])
def ring(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, FedHub]]]:
    direction = request.param
    hubs: dict[str, FedHub] = {}
    try:
        # Collections that do not require signatures: an ACS marking-definition may carry no
        # extension but its ACS one, so none signed by its submitter can be posted.
        hubs["a"] = make_fed_hub(tmp_path, "a", ["b", "c"], alice=True, max_tlp="red", signed=None)
        hubs["b"] = make_fed_hub(tmp_path, "b", ["a", "c"], readers={"agency": "agency", "other": "agency"},
                                 max_tlp="red", signed=None)
        hubs["c"] = make_fed_hub(tmp_path, "c", ["a", "b"], readers={"carol": "agency"}, max_tlp="red",
                                 signed=None)
        a, b, c = hubs["a"], hubs["b"], hubs["c"]
        a.cli("party", "edit", "alice", "--organisation", OA)
        a.cli("party", "edit", "hub-b", "--organisation", OB, "--serves", b.identities["agency"],
              "--serves", b.identities["other"], "--enforces-markings")
        a.cli("party", "edit", "hub-c", "--organisation", OC, "--serves", c.identities["carol"],
              "--enforces-markings")
        b.cli("party", "edit", "hub-a", "--organisation", OA, "--serves", a.identities["alice"],
              "--enforces-markings")
        b.cli("party", "edit", "hub-c", "--organisation", OC, "--serves", c.identities["carol"],
              "--enforces-markings")
        for here, there in ((b, a), (c, a), (c, b)) if direction == "pull" else ((a, b), (a, c), (b, c)):
            add_peer(here, there)
            add_link(here, there, direction)
        yield direction, hubs
    finally:
        for h in hubs.values():
            h.close()


def test_each_marking_reaches_only_the_hubs_and_readers_it_names(ring: tuple[str, dict[str, FedHub]]) -> None:
    direction, hubs = ring
    a, b, c = hubs["a"], hubs["b"], hubs["c"]
    alice, agency = a.identities["alice"], b.identities["agency"]
    closed = acs_definition(OA, "deny")
    not_ob = acs_definition(OA, "permit", [{"sharing_scope": [OB], "rule_effect": "deny"}])
    objs = {
        "red": marked(alice, "red", recipients=[agency]),
        "amber": marked(alice, "amber"),
        "amber for OB": marked(alice, "amber", organisations=[OB]),
        "acs closed": indicator(created_by_ref=alice, object_marking_refs=[closed["id"]]),
        "acs not OB": indicator(created_by_ref=alice, object_marking_refs=[not_ob["id"]]),
        "green": marked(alice, "green"),
        # Last: withheld from every peer, after everything they are sent.
        "strict": marked(alice, "amber+strict", organisations=[OB, OC]),
    }
    a.post([closed, not_ob, *objs.values()])
    federate(hubs)

    assert seen(a, "alice", objs) == set(objs)
    assert seen(b, "agency", objs) == {"red", "amber for OB", "green"}, direction
    assert seen(b, "other", objs) == {"amber for OB", "green"}
    assert seen(c, "carol", objs) == {"acs not OB", "green"}
    # At B the RED object is absent for every reader but its recipient: 404 like a missing one.
    red = objs["red"]["id"]
    assert (get_status(b, "agency", red), get_status(b, "other", red), get_status(b, "hub-c", red)) == (200, 404, 404)
    assert get_status(c, "carol", red) == 404
    # The ACS marking-definitions themselves restrict nothing: they travel.
    assert {closed["id"], not_ob["id"]} <= {o["id"] for o in c.objects("carol")}
    assert all(r["last_error"] is None and r["lag_objects"] == 0 for h in hubs.values() for r in status(h))

    # C's party at A now says C is a hub of A's organisation: AMBER+STRICT posted from now on
    # reaches it (and still not B).
    a.cli("party", "edit", "hub-c", "--organisation", OA)
    later = {"strict, later": marked(alice, "amber+strict")}
    a.post(list(later.values()))
    federate(hubs)
    assert seen(c, "carol", later) == set(later)
    assert seen(b, "agency", later) == seen(b, "other", later) == set()
    if direction == "push":
        # A push link passed over what it withheld: the earlier object is not sent later.
        assert "strict" not in seen(c, "carol", objs)
        assert all(r["lag_objects"] == 0 for r in status(a))
    else:
        # A pull link reads what A serves its party now: the earlier object lies after the
        # cursor of C's link (the last object A had served it), so it comes too.
        assert "strict" in seen(c, "carol", objs)
    assert seen(b, "agency", objs) == {"red", "amber for OB", "green"}
