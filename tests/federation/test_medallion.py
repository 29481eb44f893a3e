"""medallion 3.0.0 (the OASIS reference TAXII 2.1 server, from PyPI) as a peer in both
directions: a served hub pushes its signed collection into medallion and pulls it back into a
second collection, every signature intact. Uses the benchmark's installation in bench/.peers
(``python -m bench.run --install-peers``, or :func:`bench.servers.install_peers`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from hub.signing import KeySet
from hub.signing.documents import verify_objects
from tests.factories import indicator
from tests.federation.procs import acs_definition, make_fed_hub, marked, status

pytestmark = pytest.mark.slow

servers = pytest.importorskip("bench.servers")


@pytest.fixture()
def medallion() -> Iterator[Any]:
    if not servers.peer_installed("medallion"):
        # medallion 3.0.0 from PyPI into bench/.peers (as `python -m bench.run --install-peers`
        # does): a fresh clone runs this test too, it does not skip it.
        servers.install_peers(["medallion"])
    run = servers.start_medallion(1)
    yield run
    run.stop()


def test_medallion_is_a_peer_in_both_directions(medallion: Any, tmp_path: Path) -> None:
    run = medallion
    a = make_fed_hub(tmp_path, "a", [], alice=True)
    try:
        remote = run.collections[0]
        basic = tmp_path / "medallion.basic"
        basic.write_text("bench:bench-password\n")
        a.cli("peer", "add", "medallion", "--url", run.api_root, "--basic-auth-file", str(basic))
        mirror = orjson.loads(a.cli("collection", "add", "Mirror", "--alias", "mirror", "--require-signatures",
                                    "--json").stdout)["id"]
        a.cli("link", "add", "medallion", "--push", a.collection, "--to", remote)
        a.cli("link", "add", "medallion", "--pull", remote, "--into", mirror)
        alice = a.identities["alice"]
        a.post([indicator(created_by_ref=alice) for _ in range(7)])
        a.cli("federate", "--once")  # push, then pull what medallion now holds
        a.cli("federate", "--once")
        rows = {r["direction"]: r for r in status(a)}
        assert rows["push"]["lag_objects"] == 0 and rows["push"]["last_error"] is None
        assert rows["pull"]["last_error"] is None

        with a.client("alice") as c:
            sent = {o.data["id"]: o.data for p in c.pages(a.collection) for o in p.objects}
            keys = KeySet.from_jwks(c.key_set())
        a.cli("grant", "alice", mirror, "--read")
        with a.client("alice") as c:
            back = [o.data for p in c.pages(mirror) for o in p.objects]
        assert {o["id"] for o in back} == set(sent) and len(back) == 7
        # Each object came back unchanged: alice's signature and A's countersignature verify.
        assert all(o == sent[o["id"]] for o in back)
        assert all(v.ok for v in verify_objects(back, keys, int(time.time() * 1e6)))
    finally:
        a.close()


def test_a_push_link_to_medallion_sends_the_delete_of_what_it_pushed(medallion: Any, tmp_path: Path) -> None:
    """Deleted at the hub after it was pushed: the push link's next turn sends medallion the TAXII
    DELETE of that version (medallion 3.0.0 deletes it); the other objects stay."""
    run = medallion
    a = make_fed_hub(tmp_path, "a", [], alice=True)
    try:
        remote = run.collections[0]
        basic = tmp_path / "medallion.basic"
        basic.write_text("bench:bench-password\n")
        a.cli("peer", "add", "medallion", "--url", run.api_root, "--basic-auth-file", str(basic))
        a.cli("link", "add", "medallion", "--push", a.collection, "--to", remote)
        alice = a.identities["alice"]
        objs = [indicator(created_by_ref=alice) for _ in range(3)]
        a.post(objs)

        def at_medallion() -> dict[str, list[str]]:
            r = requests.get(f"{run.api_root}collections/{remote}/objects/", auth=run.auth,
                             params={"match[version]": "all"},
                             headers={"Accept": "application/taxii+json;version=2.1"}, timeout=30)
            r.raise_for_status()
            out: dict[str, list[str]] = {}
            for o in r.json().get("objects", []):
                out.setdefault(o["id"], []).append(o["modified"])
            return out

        a.cli("federate", "--once")
        assert set(at_medallion()) == {o["id"] for o in objs}
        with a.client("alice") as c:
            c.delete_object(a.collection, objs[0]["id"])
        a.cli("federate", "--once")
        assert set(at_medallion()) == {o["id"] for o in objs[1:]}
        (row,) = status(a)
        assert row["last_error"] is None and row["lag_objects"] == 0
    finally:
        a.close()


def test_a_push_link_sends_medallion_only_what_restricts_nothing(medallion: Any, tmp_path: Path) -> None:
    """medallion enforces no markings, so its party (a peer that does not enforce markings) is
    sent only CLEAR, GREEN and unmarked objects: not AMBER naming its organisation, not RED naming
    an identity it serves, not an ACS marking that allows sharing with anyone."""
    run = medallion
    a = make_fed_hub(tmp_path, "a", [], alice=True, max_tlp="red", signed=None)  # ACS: see test_markings_ring
    try:
        remote = run.collections[0]
        basic = tmp_path / "medallion.basic"
        basic.write_text("bench:bench-password\n")
        a.cli("peer", "add", "medallion", "--url", run.api_root, "--basic-auth-file", str(basic))
        served = f"identity--{uuid.uuid4()}"
        a.cli("party", "edit", "medallion", "--organisation", "USA.MEDALLION", "--serves", served)
        a.cli("link", "add", "medallion", "--push", a.collection, "--to", remote)
        alice = a.identities["alice"]
        shared = acs_definition("USA.ORGA", "permit")
        objs = {
            "clear": marked(alice, "clear"), "green": marked(alice, "green"),
            "unmarked": indicator(created_by_ref=alice),
            "amber": marked(alice, "amber", organisations=["USA.MEDALLION"]),
            "amber+strict": marked(alice, "amber+strict"),
            "red": marked(alice, "red", recipients=[served]),
            "acs": indicator(created_by_ref=alice, object_marking_refs=[shared["id"]]),
        }
        a.post([shared, *objs.values()])
        a.cli("federate", "--once")
        r = requests.get(f"{run.api_root}collections/{remote}/objects/", auth=run.auth,
                         headers={"Accept": "application/taxii+json;version=2.1"}, timeout=30)
        r.raise_for_status()
        there = {o["id"] for o in r.json().get("objects", [])}
        assert {name for name, o in objs.items() if o["id"] in there} == {"clear", "green", "unmarked"}
        (row,) = status(a)
        assert row["last_error"] is None and row["lag_objects"] == 0
    finally:
        a.close()
