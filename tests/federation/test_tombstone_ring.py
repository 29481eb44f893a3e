"""Deleted objects do not come back round a ring of real hubs (``abusehub serve`` processes
federated by ``abusehub federate --once``): B pulls from A, C pulls from B and pushes to A.

An object deleted at A after B pulled it reached C through B and is pushed to A again: A
refuses it (its tombstone), and the signed tombstone travels on (B takes it from A's feed,
C from B's), so every hub ends without the object and remembers the deletion."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.client.taxii import read_outcome
from hub.signing import KeySet, signatures_of, unsigned_form
from hub.signing.documents import sign_objects
from tests.factories import indicator
from tests.federation.procs import FedHub, make_fed_hub, peer, pin, status

pytestmark = pytest.mark.slow


@pytest.fixture()
def ring(tmp_path: Path) -> Iterator[dict[str, FedHub]]:
    hubs = {n: make_fed_hub(tmp_path, n, [o for o in "abc" if o != n], alice=n == "a") for n in "abc"}
    try:
        a, b, c = hubs["a"], hubs["b"], hubs["c"]
        peer(b, a, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        peer(c, b, tmp_path)
        c.cli("link", "add", "hub-b", "--pull", b.collection, "--into", c.collection)
        peer(c, a, tmp_path)
        c.cli("link", "add", "hub-a", "--push", c.collection, "--to", a.collection)
        alice = a.identities["alice"]
        pin(b, a, alice)  # alice's key, and A's own (pinned when B added A as a peer)
        pin(c, b, alice)
        pin(c, a)  # A's own key: C checks A's signed tombstones with it
        yield hubs
    finally:
        for h in hubs.values():
            h.close()


def _ids(h: FedHub, party: str) -> set[str]:
    return {o["id"] for o in h.objects(party)}


def _tombstones(h: FedHub, party: str) -> list[dict[str, Any]]:
    with h.client(party) as client:
        return [r for page in client.tombstone_pages(h.collection) for r in page.records]


def test_an_object_deleted_at_a_after_b_pulled_it_does_not_return_to_a(ring: dict[str, FedHub]) -> None:
    a, b, c = ring["a"], ring["b"], ring["c"]
    alice = a.identities["alice"]
    doomed = indicator(created_by_ref=alice)
    kept = [indicator(created_by_ref=alice) for _ in range(3)]
    a.post([doomed, *kept])
    b.cli("federate", "--once")
    assert doomed["id"] in _ids(b, "hub-c")

    with a.client("alice") as client:  # alice deletes her object at A
        client.delete_object(a.collection, doomed["id"])
    assert doomed["id"] not in _ids(a, "alice")

    # C pulls it from B (which has not heard of the deletion yet) and pushes it to A (its links
    # run side by side: the push of the second turn sends what the pull of the first brought).
    c.cli("federate", "--once")
    assert doomed["id"] in _ids(c, "hub-a")
    c.cli("federate", "--once")
    assert doomed["id"] not in _ids(a, "alice")  # the issue: it came back here
    push = next(r for r in status(c) if r["direction"] == "push")
    assert push["last_error"] is None and push["lag_objects"] == 0

    # The deletion travels: B takes A's signed tombstone, C takes it from B.
    said = b.cli("federate", "--once").stdout
    assert "deletions: 1 tombstone(s) taken, 1 version(s) deleted here" in said, said
    for _ in range(2):
        c.cli("federate", "--once")
        b.cli("federate", "--once")
    expected = {o["id"] for o in kept}
    for h, reader in ((a, "alice"), (b, "hub-c"), (c, "hub-a")):
        assert _ids(h, reader) == expected, h.name
    assert all(r["last_error"] is None for h in (b, c) for r in status(h))

    # Every hub remembers the deletion with the record A signed (A signs its own each time it
    # serves them), and serves it on as A signed it.
    (record,) = _tombstones(a, "alice")
    assert (record["object_id"], record["hub"], record["deleted_by"]) == (doomed["id"], a.hub_identity, alice)
    (at_b,) = _tombstones(b, "hub-c")
    assert _tombstones(c, "hub-a") == [at_b] and unsigned_form(at_b) == unsigned_form(record)
    with a.client("alice") as client:
        keys = KeySet.from_jwks(client.key_set())
    for rec in (record, at_b):
        (entry,) = signatures_of(rec)
        assert entry.signer == a.hub_identity
        assert keys.check(rec, entry, int(time.time() * 1e6), new_submission=False) is None

    # Offered again anywhere, by anyone, signed as it was: refused, naming the deletion.
    assert a.alice_key is not None
    (again,) = sign_objects([doomed], a.alice_key, alice)
    for h, party in ((a, "hub-c"), (b, "hub-a"), (c, "hub-b")):
        with h.client(party) as client:
            outcome = read_outcome(client.submit(h.collection, [again]))
        assert [oid for oid, _ in outcome.refused] == [doomed["id"]], h.name
        assert "was deleted from this collection" in outcome.refused[0][1]
