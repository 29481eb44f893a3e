"""Tombstones in the store (revision 0009), on every backend: a deleted version is remembered
and never stored again; a peer's tombstone deletes the copy held here; the feed pages in order;
retention forgets old tombstones; a removed collection takes its tombstones with it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import inspect

from hub.services.federation.tombstones import held_facts
from hub.stix.basics import check_basics
from hub.store.records import NewVersion, ObjectFilter
from hub.store.sql import SqlStore
from tests.conftest import alembic_step
from tests.factories import indicator, ipv4, ts
from tests.harness import open_test_store

NOW = 1_795_000_000_000_000
ALICE = "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f"
PEER_HUB = "identity--1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
ALL = ObjectFilter(versions=("all",))


def nv(obj: dict, audience_pk: int = 0) -> NewVersion:
    sid, typ, vus = check_basics(obj)
    return NewVersion(sid, typ, vus, obj.get("modified") or obj.get("created"), "2.1", orjson.dumps(obj).decode(),
                      audience_pk=audience_pk)


@pytest.fixture
def setup(store: SqlStore) -> tuple[SqlStore, int, int]:
    party = store.create_party("alice", "provider", ALICE, False, NOW)
    col = store.create_collection("6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", "reports", "", None, "amber",
                                  False, False, False, NOW)
    return store, col.pk, party.pk


def _versions(store: SqlStore, cpk: int, oid: str) -> list[str]:
    return [i.version for i in store.object_versions(cpk, oid, ALL, None, 100).items]


def test_a_deleted_version_is_remembered_and_never_stored_again(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    v1 = indicator(created=ts(1), modified=ts(1))
    v2 = {**v1, "modified": ts(2)}
    store.add_versions(cpk, ppk, [nv(v1), nv(v2)], NOW)
    made = store.delete_remembered(cpk, v1["id"], ObjectFilter(versions=("last",)), None, ALICE, NOW + 10, held_facts)
    assert [(m.stix_id, m.version, m.deleted_by, m.deleted_us, m.hub) for m in made] == [
        (v1["id"], ts(2), ALICE, NOW + 10, None)]
    assert made[0].held_party_pk == ppk and made[0].held_added_us is not None
    assert _versions(store, cpk, v1["id"]) == [ts(1)]
    # Offered again, by anyone: not stored. The other version stays as it was.
    (again,) = store.add_versions(cpk, ppk, [nv(v2)], NOW + 20)
    assert not again.stored and _versions(store, cpk, v1["id"]) == [ts(1)]
    with store.transaction() as tx:
        (inside,) = tx.add_versions(cpk, ppk, [nv(v2)], NOW + 21)
    assert not inside.stored
    assert store.tombstone_mark(cpk) == made[0].added_us and store.tombstoned_ids(cpk) == {v1["id"]}
    key = (v1["id"], made[0].version_us)
    assert set(store.tombstoned(cpk, [key, (v1["id"], 1)])) == {key}
    # A new version of the object is a new version: stored.
    (v3,) = store.add_versions(cpk, ppk, [nv({**v1, "modified": ts(3)})], NOW + 30)
    assert v3.stored and _versions(store, cpk, v1["id"]) == [ts(1), ts(3)]
    # Deleting a party's own objects only: another's are left, and nothing is remembered.
    assert store.delete_remembered(cpk, v1["id"], ALL, ppk + 1000, ALICE, NOW + 40, held_facts) == []
    assert store.count_tombstones(cpk) == 1


def test_an_unversioned_object_is_buried_by_its_id(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obs = ipv4("203.0.113.9")
    store.add_versions(cpk, ppk, [nv(obs)], NOW)
    (made,) = store.delete_remembered(cpk, obs["id"], ALL, None, ALICE, NOW + 1, held_facts)
    assert (made.version_us, made.version) == (-1, "")
    (again,) = store.add_versions(cpk, ppk, [nv(obs)], NOW + 2)  # its version would be a new date_added
    assert not again.stored and _versions(store, cpk, obs["id"]) == []


def test_a_peer_tombstone_deletes_the_copy_held_here_once(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator(created=ts(5), modified=ts(6), object_marking_refs=[
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"])  # TLP:AMBER
    keep = indicator()
    (stored, _) = store.add_versions(cpk, ppk, [nv(obj), nv(keep)], NOW)
    version_us = check_basics(obj)[2]
    made, removed = store.apply_tombstone(cpk, obj["id"], version_us, ts(6), NOW - 5, ALICE, PEER_HUB,
                                          '{"type":"abusehub-tombstone"}', NOW + 1, held_facts)
    assert removed == 1 and made is not None
    assert (made.hub, made.record_json, made.held_added_us, made.held_party_pk, made.held_tlp) == (
        PEER_HUB, '{"type":"abusehub-tombstone"}', stored.date_added_us, ppk, 2)
    assert _versions(store, cpk, obj["id"]) == [] and _versions(store, cpk, keep["id"]) == [keep["modified"]]
    # The same tombstone again (it came round the ring): nothing changes.
    assert store.apply_tombstone(cpk, obj["id"], version_us, ts(6), NOW - 5, ALICE, PEER_HUB, "{}", NOW + 2,
                                 held_facts) == (None, 0)
    # A tombstone of a version never held here is kept all the same: it is refused when it comes.
    other = indicator()
    made2, removed2 = store.apply_tombstone(cpk, other["id"], check_basics(other)[2], other["modified"], NOW,
                                            ALICE, PEER_HUB, "{}", NOW + 3, held_facts)
    assert removed2 == 0 and made2 is not None and made2.held_added_us is None
    assert not store.add_versions(cpk, ppk, [nv(other)], NOW + 4)[0].stored


def test_the_feed_pages_in_order_and_retention_forgets_old_tombstones(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    objs = [indicator() for _ in range(5)]
    store.add_versions(cpk, ppk, [nv(o) for o in objs], NOW)
    for i, o in enumerate(objs):  # the same clock for all: places are still distinct
        store.delete_remembered(cpk, o["id"], ALL, None, ALICE, NOW + (0 if i < 3 else 10**9), held_facts)
    first, more = store.tombstones_after(cpk, None, 2)
    assert [t.stix_id for t in first] == [o["id"] for o in objs[:2]] and more
    rest, more = store.tombstones_after(cpk, first[-1].added_us, 10)
    assert [t.stix_id for t in rest] == [o["id"] for o in objs[2:]] and not more
    places = [t.added_us for t in first + rest]
    assert places == sorted(set(places))
    # Objects added after a deletion still get later date_added values than every tombstone.
    (later,) = store.add_versions(cpk, ppk, [nv(indicator())], NOW)
    assert later.date_added_us > places[-1]
    assert store.purge_tombstones(cpk, NOW + 1) == 3
    assert [t.stix_id for t in store.tombstones_after(cpk, None, 10)[0]] == [o["id"] for o in objs[3:]]
    assert store.add_versions(cpk, ppk, [nv(objs[0])], NOW + 2)[0].stored  # forgotten: taken again


def test_a_removed_collection_takes_its_tombstones(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator()
    store.add_versions(cpk, ppk, [nv(obj)], NOW)
    store.delete_remembered(cpk, obj["id"], ALL, None, ALICE, NOW + 1, held_facts)
    assert store.delete_collection(cpk) == 0
    assert store.count_tombstones(cpk) == 0


def test_a_tombstone_keeps_its_copys_audience_and_a_reader_is_told_only_what_it_could_read(
        setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    bob = store.create_party("bob", "agency", "identity--b0000000-0000-4000-8000-000000000000", False, NOW).pk
    canonical = '{"who":"alice only"}'
    alone = store.ensure_audience(hashlib.sha256(canonical.encode()).hexdigest(), canonical, [ppk], NOW)
    hidden = [indicator() for _ in range(4)]
    shown, held_by_peer, never_held = indicator(), indicator(), indicator()
    store.add_versions(cpk, ppk, [nv(o, alone) for o in hidden[:2]] + [nv(shown)] + [nv(o, alone) for o in hidden[2:]]
                       + [nv(held_by_peer, alone)], NOW)
    for o in [*hidden[:2], shown, *hidden[2:]]:  # deleted here, in this order
        (made,) = store.delete_remembered(cpk, o["id"], ALL, None, ALICE, NOW + 1, held_facts)
        assert made.held_audience_pk == (0 if o is shown else alone)
    # A peer's tombstones: of a copy held here (its audience kept), of a version never held.
    for o in (held_by_peer, never_held):
        taken, _ = store.apply_tombstone(cpk, o["id"], check_basics(o)[2], o["modified"], NOW, ALICE, PEER_HUB,
                                         "{}", NOW + 2, held_facts)
        assert taken is not None and taken.held_audience_pk == (alone if o is held_by_peer else None)
    assert [t.held_audience_pk for t in store.tombstones_after(cpk, None, 10)[0]] == \
        [alone, alone, 0, alone, alone, alone, None]

    def told(reader: int | None, limit: int) -> list[str]:
        """Every page the reader is told, paging on with each page's last place."""
        out: list[str] = []
        after = None
        while True:
            items, more = store.tombstones_after(cpk, after, limit, reader_pk=reader)
            out += [t.stix_id for t in items]
            if not more:
                return out
            assert items
            after = items[-1].added_us

    everything = [o["id"] for o in (*hidden[:2], shown, *hidden[2:], held_by_peer, never_held)]
    for limit in (1, 2, 10):
        # bob: the copy audience 0 held, and the version never held here (told as before).
        assert told(bob, limit) == [shown["id"], never_held["id"]], limit
        assert told(ppk, limit) == everything, limit  # alice: a member of every audience
    assert told(None, 3) == everything
    items, more = store.tombstones_after(cpk, None, 1, reader_pk=bob)  # hidden ones are no page
    assert [t.stix_id for t in items] == [shown["id"]] and more
    # A tombstone's audience follows the memberships as they are when it is read.
    store.set_memberships(bob, [alone])
    assert told(bob, 2) == everything


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_revision_0009_adds_and_removes_the_tombstones(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        def shape() -> tuple[bool, bool]:
            with store.engine.connect() as conn:
                insp = inspect(conn)
                return ("tombstones" in insp.get_table_names(),
                        "tombstone_cursor" in {c["name"] for c in insp.get_columns("fed_links")})

        assert shape() == (True, True)
        alembic_step(store, "0008", down=True)
        assert shape() == (False, False)
        alembic_step(store, "0009")
        assert shape() == (True, True)
