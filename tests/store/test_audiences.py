"""Audiences in the store (revision 0010), on every backend: each version's audience is stored
with it, reads on behalf of a party keep only what its audiences admit (paging exact for that
party), memberships are replaced whole, an audience is made once whoever asks, the upgrade's
pending audiences are counted and applied, parties keep their attributes, and revision 0010
upgrades a database that holds data."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from hub.stix.basics import check_basics
from hub.store import schema as t
from hub.store.base import StaleMembers, UnstorableError
from hub.store.records import AudienceRecord, NewVersion, ObjectFilter, Party, PartyAttributes
from hub.store.sql import SqlStore
from hub.store.tombstones import Held
from tests.conftest import alembic_step
from tests.factories import indicator, ts
from tests.harness import open_test_store

NOW = 1_795_000_000_000_000
ALL = ObjectFilter(versions=("all",))
RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
SHARING = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"


def nv(obj: dict[str, Any], audience_pk: int = 0, pending: int | None = None,
       terms: tuple[tuple[str, str], ...] = ()) -> NewVersion:
    sid, typ, vus = check_basics(obj)
    return NewVersion(sid, typ, vus, obj.get("modified") or obj.get("created"), "2.1",
                      orjson.dumps(obj).decode(), terms, audience_pk=audience_pk, pending_audience_pk=pending)


def key(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


class Hub:
    """A store with a collection and three parties: ``alice`` submits, ``bob`` and ``carol`` read."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.alice = store.create_party("alice", "provider", "identity--a0000000-0000-4000-8000-000000000000",
                                        False, NOW).pk
        self.bob = store.create_party("bob", "agency", "identity--b0000000-0000-4000-8000-000000000000",
                                      False, NOW).pk
        self.carol = store.create_party("carol", "peer", "identity--c0000000-0000-4000-8000-000000000000",
                                        False, NOW).pk
        self.col = store.create_collection("6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", "reports", "", None,
                                           "red", False, False, False, NOW).pk

    def audience(self, name: str, *members: int) -> int:
        canonical = orjson.dumps({"name": name}).decode()
        return self.store.ensure_audience(key(canonical), canonical, members, NOW)

    def page_ids(self, reader: int | None, limit: int, flt: ObjectFilter = ObjectFilter()) -> list[list[str]]:
        """Every page a reader gets, paging on with each page's last key until ``more`` is False."""
        pages: list[list[str]] = []
        after = None
        while True:
            page = self.store.query_objects(self.col, ObjectFilter(
                ids=flt.ids, types=flt.types, versions=flt.versions, reader_pk=reader), after, limit)
            pages.append([v.stix_id for v in page.items])
            if not page.more:
                return pages
            assert page.items, "a page that says more follows holds something"
            after = page.items[-1].key


@pytest.fixture
def hub(store: SqlStore) -> Hub:
    return Hub(store)


# -- reads on behalf of a party


def test_paging_is_exact_for_a_reader_who_sees_every_other_object(hub: Hub) -> None:
    only_alice = hub.audience("alice only", hub.alice)
    objs = [indicator() for _ in range(23)]
    # Every other object is hidden from bob, and the last four (from the 19th) are all hidden.
    hidden = {i for i in range(23) if i % 2 == 1 or i >= 19}
    hub.store.add_versions(hub.col, hub.alice, [nv(o, only_alice if i in hidden else 0)
                                                for i, o in enumerate(objs)], NOW)
    visible = [o["id"] for i, o in enumerate(objs) if i not in hidden]
    for limit in (1, 2, 3, 5, 10, 100):
        pages = hub.page_ids(hub.bob, limit)
        seen = [sid for page in pages for sid in page]
        assert seen == visible, limit  # nothing skipped, nothing repeated, in date_added order
        # The last page is full or not, and says nothing more follows although hidden ones do.
        assert all(len(p) == limit for p in pages[:-1]), limit
    assert hub.page_ids(hub.bob, len(visible)) == [visible]  # exactly full: more is False
    everything = [o["id"] for o in objs]
    assert [sid for page in hub.page_ids(hub.alice, 4) for sid in page] == everything  # a member
    assert [sid for page in hub.page_ids(None, 4) for sid in page] == everything  # no reader: all


def test_a_page_of_hidden_objects_does_not_look_like_the_end(hub: Hub) -> None:
    only_alice = hub.audience("alice only", hub.alice)
    objs = [indicator() for _ in range(12)]
    # Ten hidden objects between two that bob may read.
    hub.store.add_versions(hub.col, hub.alice, [nv(o, 0 if i in (0, 11) else only_alice)
                                                for i, o in enumerate(objs)], NOW)
    first = hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.bob), None, 1)
    assert [v.stix_id for v in first.items] == [objs[0]["id"]] and first.more
    second = hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.bob), first.items[0].key, 1)
    assert [v.stix_id for v in second.items] == [objs[11]["id"]] and not second.more
    # The filters combine with the reader's condition (ids, types, added_after).
    flt = ObjectFilter(ids=(objs[0]["id"], objs[5]["id"]), reader_pk=hub.bob)
    assert [v.stix_id for v in hub.store.query_objects(hub.col, flt, None, 10).items] == [objs[0]["id"]]
    flt = ObjectFilter(types=("indicator",), added_after_us=first.items[0].key, reader_pk=hub.bob)
    assert [v.stix_id for v in hub.store.query_objects(hub.col, flt, None, 10).items] == [objs[11]["id"]]


def test_versions_are_filtered_and_a_hidden_last_version_is_not_replaced_by_an_older_one(hub: Hub) -> None:
    only_alice = hub.audience("alice only", hub.alice)
    sid = "indicator--11111111-2222-4333-8444-555555555555"
    hub.store.add_versions(hub.col, hub.alice, [
        nv(indicator(id=sid, modified=ts(1))), nv(indicator(id=sid, modified=ts(2)), only_alice),
        nv(indicator(id=sid, modified=ts(3))), nv(indicator(id=sid, modified=ts(4)), only_alice)], NOW)
    mine = ObjectFilter(ids=(sid,), versions=("all",), reader_pk=hub.bob)
    page = hub.store.object_versions(hub.col, sid, mine, None, 1)
    assert [v.version for v in page.items] == [ts(1)] and page.more
    page = hub.store.object_versions(hub.col, sid, mine, page.items[0].key, 1)
    assert [v.version for v in page.items] == [ts(3)] and not page.more  # the hidden 4th is no "more"
    last = ObjectFilter(ids=(sid,), reader_pk=hub.bob)  # match[version]=last: the newest, hidden
    assert hub.store.query_objects(hub.col, last, None, 10).items == []
    assert hub.store.object_versions(hub.col, sid, last, None, 10).items == []
    first = ObjectFilter(ids=(sid,), versions=("first",), reader_pk=hub.bob)
    assert [v.version for v in hub.store.query_objects(hub.col, first, None, 10).items] == [ts(1)]
    assert [v.version for v in hub.store.object_versions(
        hub.col, sid, ObjectFilter(versions=("all",), reader_pk=hub.alice), None, 10).items] == \
        [ts(1), ts(2), ts(3), ts(4)]


def test_terms_and_outgoing_versions_only_of_what_the_reader_may_read(hub: Hub) -> None:
    only_alice = hub.audience("alice only", hub.alice)
    shown, hidden, mixed = indicator(), indicator(), indicator()
    later = indicator(id=mixed["id"], modified=ts(9))
    term = ("pseudonym", "hmac-sha256:k1:" + "c" * 64)
    hub.store.add_versions(hub.col, hub.alice, [
        nv(shown, terms=(term,)), nv(hidden, only_alice, terms=(term,)),
        nv(mixed, only_alice, terms=(term,)), nv(later, 0, terms=(term,))], NOW)
    found = {sid for _c, sid, _t in hub.store.find_terms("pseudonym", [term[1]], [hub.col], reader_pk=hub.bob)}
    assert found == {shown["id"], mixed["id"]}  # an object with one version bob may read counts
    assert len(hub.store.find_terms("pseudonym", [term[1]], [hub.col])) == 3
    assert len(hub.store.find_terms("pseudonym", [term[1]], [hub.col], reader_pk=hub.alice)) == 3

    out = hub.store.outgoing(hub.col, 0, 10, reader_pk=hub.bob)
    assert [(v.stix_id, v.date_added_us) for v in out] == [(shown["id"], NOW), (mixed["id"], NOW + 3)]
    assert len(hub.store.outgoing(hub.col, 0, 10)) == 4
    assert [v.stix_id for v in hub.store.outgoing(hub.col, NOW, 1, reader_pk=hub.bob)] == [mixed["id"]]
    # A push link's lag: what the reader may read, past a place.
    assert hub.store.count_after(hub.col, 0) == 4 and hub.store.count_after(hub.col, 0, reader_pk=hub.alice) == 4
    assert hub.store.count_after(hub.col, 0, reader_pk=hub.bob) == 2
    assert hub.store.count_after(hub.col, NOW, reader_pk=hub.bob) == 1
    assert hub.store.count_after(hub.col, NOW + 3, reader_pk=hub.bob) == 0
    # The newest version's date_added, whoever may read it; a tombstone's place is not one.
    assert hub.store.newest_added_us(hub.col) == NOW + 3
    hub.store.delete_remembered(hub.col, later["id"], ObjectFilter(versions=("last",)), None, "identity--x",
                                NOW, lambda _text: Held(False, None))
    assert hub.store.newest_added_us(hub.col) == NOW + 2
    other = hub.store.create_collection("0b2f7e0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c", "empty", "", None, "red",
                                        False, False, False, NOW).pk
    assert hub.store.newest_added_us(other) is None and hub.store.count_after(other, 0, reader_pk=hub.bob) == 0


# -- audiences and memberships


def test_memberships_are_replaced_whole(hub: Hub) -> None:
    one, two, three = hub.audience("one"), hub.audience("two"), hub.audience("three")
    assert 0 < one < two < three
    objs = [indicator() for _ in range(3)]
    hub.store.add_versions(hub.col, hub.alice, [nv(o, a) for o, a in zip(objs, (one, two, three), strict=True)], NOW)

    def readable_by_bob() -> list[str]:
        return [v.stix_id for v in hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.bob), None, 10).items]

    assert readable_by_bob() == []
    hub.store.set_memberships(hub.bob, [one, two, 0])
    hub.store.set_memberships(hub.carol, [two])
    assert readable_by_bob() == [objs[0]["id"], objs[1]["id"]]
    hub.store.set_memberships(hub.bob, [three, two])
    assert readable_by_bob() == [objs[1]["id"], objs[2]["id"]]
    assert (hub.store.audience_members(one), hub.store.audience_members(two),
            hub.store.audience_members(three)) == ([], sorted([hub.bob, hub.carol]), [hub.bob])
    hub.store.set_memberships(hub.bob, [])
    assert readable_by_bob() == [] and hub.store.audience_members(two) == [hub.carol]
    with pytest.raises(IntegrityError):  # an audience that does not exist: refused, nothing changed
        hub.store.set_memberships(hub.carol, [three, three + 100])
    assert hub.store.audience_members(two) == [hub.carol]


def test_ensure_audience_is_idempotent_and_commits_with_the_transaction(hub: Hub) -> None:
    canonical = '{"tlp":"red"}'
    pk = hub.store.ensure_audience(key(canonical), canonical, [hub.alice, hub.bob, hub.bob], NOW)
    assert pk > 0 and hub.store.audience_members(pk) == sorted([hub.alice, hub.bob])
    # Asked again (other members, as another process might compute them): the same row, as it was.
    assert hub.store.ensure_audience(key(canonical), canonical, [hub.carol], NOW + 1) == pk
    assert hub.store.audience_members(pk) == sorted([hub.alice, hub.bob])
    assert [(a.pk, a.key, a.canonical) for a in hub.store.list_audiences()] == [(pk, key(canonical), canonical)]
    assert hub.store.list_audiences(after_pk=pk) == []

    # Made inside an ingest transaction with the version that uses it: both, or neither.
    other = '{"tlp":"amber"}'
    obj = indicator()
    with pytest.raises(RuntimeError, match="rolled back"):
        with hub.store.transaction() as tx:
            made = tx.ensure_audience(key(other), other, [hub.carol], NOW)
            assert tx.ensure_audience(key(other), other, [], NOW) == made
            tx.add_versions(hub.col, hub.alice, [nv(obj, made)], NOW)
            raise RuntimeError("rolled back")
    assert [a.canonical for a in hub.store.list_audiences()] == [canonical]
    with hub.store.transaction() as tx:
        made = tx.ensure_audience(key(other), other, [hub.carol], NOW)
        tx.add_versions(hub.col, hub.alice, [nv(obj, made)], NOW)
    assert hub.store.audience_members(made) == [hub.carol]
    reads = hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.carol), None, 10).items
    assert [v.stix_id for v in reads] == [obj["id"]]
    assert hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.bob), None, 10).items == []

    for bad in ("A" * 64, "a" * 63, "x" * 64, ""):
        with pytest.raises(ValueError, match="SHA-256"):
            hub.store.ensure_audience(bad, canonical, [], NOW)


def test_two_transactions_making_the_same_audience_get_one_row(hub: Hub) -> None:
    canonical = '{"tlp":"amber+strict"}'
    made = threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def second() -> None:
        try:
            made.wait(30)
            # Runs while the first transaction, which has made the row, is still open.
            results["second"] = hub.store.ensure_audience(key(canonical), canonical, [hub.carol], NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with hub.store.transaction() as tx:
            results["first"] = tx.ensure_audience(key(canonical), canonical, [hub.bob], NOW)
            made.set()
            thread.join(0.5)  # give the second a chance to reach its INSERT (it must wait there)
            assert "second" not in results and not errors
    finally:
        made.set()
        thread.join(60)
    assert not thread.is_alive() and errors == []
    assert results["first"] == results["second"]
    assert len(hub.store.list_audiences()) == 1
    assert hub.store.audience_members(results["first"]) == [hub.bob]


# -- the parties generation: no audience made with members computed before a party changed


def _by_country(country: str) -> Callable[[Party | None, list[AudienceRecord]], list[int]]:
    """A refresh's rule for these tests: every audience admits the parties of ``country``."""

    def admitted(party: Party | None, records: list[AudienceRecord]) -> list[int]:
        return [r.pk for r in records] if party is not None and party.country == country else []

    return admitted


def test_an_audience_is_not_made_with_members_computed_before_a_refresh(hub: Hub) -> None:
    store = hub.store
    canonical = '{"who":"USA"}'
    # The members are computed (bob, not of the USA yet, is left out) at this generation...
    seen = store.parties_generation()
    members = [hub.alice]
    # ... then bob is edited and his memberships refreshed, by another connection, before the
    # audience is made: the generation moves (set_memberships moves it too).
    store.edit_party(hub.bob, PartyAttributes(country="USA"))
    assert store.refresh_memberships(hub.bob, _by_country("USA")) == 0  # no audience yet
    assert store.parties_generation() == seen + 1
    store.set_memberships(hub.carol, [])
    assert store.parties_generation() == seen + 2
    with pytest.raises(StaleMembers) as stale:
        store.ensure_audience(key(canonical), canonical, members, NOW, seen)
    assert stale.value.generation == seen + 2 and store.list_audiences() == []  # nothing made
    # Inside a transaction (ingest's): stale once, then made with members computed again, at
    # the generation the store named, whose row the transaction now holds.
    with store.transaction() as tx:
        with pytest.raises(StaleMembers) as stale:
            tx.ensure_audience(key(canonical), canonical, members, NOW, seen)
        made = tx.ensure_audience(key(canonical), canonical, [hub.alice, hub.bob], NOW, stale.value.generation)
    assert store.audience_members(made) == sorted([hub.alice, hub.bob])
    # An audience that exists is returned whatever the generation: its members are not written.
    assert store.ensure_audience(key(canonical), canonical, [hub.carol], NOW, seen) == made
    assert store.audience_members(made) == sorted([hub.alice, hub.bob])
    # The next refresh reads it, and judges the party as it is stored now.
    store.edit_party(hub.bob, PartyAttributes(country="DEU"))
    assert store.refresh_memberships(hub.bob, _by_country("USA")) == 0
    assert store.audience_members(made) == [hub.alice]


def test_a_refresh_judges_the_party_as_stored_and_a_removed_one_as_none(hub: Hub) -> None:
    store = hub.store
    one, two = hub.audience("one"), hub.audience("two")
    judged: list[Party | None] = []

    def admitted(party: Party | None, records: list[AudienceRecord]) -> list[int]:
        judged.append(party)
        return [r.pk for r in records] if party is not None else []

    assert store.refresh_memberships(hub.carol, admitted) == 2
    assert judged[-1] == store.get_party("carol")
    assert store.audience_members(one) == store.audience_members(two) == [hub.carol]
    store.remove_party(hub.carol, NOW + 1)
    assert store.refresh_memberships(hub.carol, admitted) == 0
    assert judged[-1] is None and store.audience_members(one) == []


@pytest.mark.postgres
def test_a_refresh_waits_for_the_transaction_that_makes_an_audience_then_reads_it(hub: Hub, backend: str) -> None:
    """On PostgreSQL the generation's row is locked by a transaction that made an audience, so a
    refresh begun meanwhile waits for it to end, then reads the new audience. (On SQLite a write
    transaction holds the whole database: the refresh cannot even begin.)"""
    if backend != "postgres":
        pytest.skip("SQLite: a write transaction holds the whole database")
    store = hub.store
    store.edit_party(hub.bob, PartyAttributes(country="USA"))
    canonical = '{"who":"everyone of the USA"}'
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            store.refresh_memberships(hub.bob, _by_country("USA"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=refresh)
    with store.transaction() as tx:
        made = tx.ensure_audience(key(canonical), canonical, [hub.alice], NOW, store.parties_generation())
        thread.start()
        # Until the refresh is seen waiting for a lock (the generation's row), the audience stays
        # uncommitted: a refresh that did not wait would not read it.
        with store.engine.connect() as conn:
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database() AND query LIKE :refresh")
            while not conn.execute(waiting, {"refresh": "%FROM settings%FOR UPDATE%"}).scalar():
                assert thread.is_alive() and not errors, "the refresh did not wait for the transaction"
                conn.rollback()
                threading.Event().wait(0.01)
    thread.join(60)
    assert not thread.is_alive() and errors == []
    assert store.audience_members(made) == sorted([hub.alice, hub.bob])


# -- the upgrade's classification


def test_objects_to_classify_pending_audiences_and_applying_them(hub: Hub) -> None:
    red = hub.audience("red", hub.alice)
    amber = hub.audience("amber", hub.alice)
    plain = indicator()
    marked = indicator(object_marking_refs=[RED])
    shared = indicator(extensions={SHARING: {"extension_type": "property-extension",
                                             "recipients": ["identity--b0000000-0000-4000-8000-000000000000"]}})
    also = indicator(object_marking_refs=[RED])
    hub.store.add_versions(hub.col, hub.alice, [nv(o) for o in (plain, marked, shared, also)], NOW)
    rows = hub.store.objects_to_classify(0, 10)
    assert [orjson.loads(text)["id"] for _pk, _party, text in rows] == [marked["id"], shared["id"], also["id"]]
    assert {party for _pk, party, _text in rows} == {hub.alice}
    # Paged by pk.
    assert hub.store.objects_to_classify(0, 1) == rows[:1]
    assert hub.store.objects_to_classify(rows[0][0], 5) == rows[1:]
    assert hub.store.objects_to_classify(rows[-1][0], 5) == []

    # The upgrade keeps marked's audience (0) with RED pending, and gives shared AMBER at once.
    hub.store.set_object_audiences([(rows[0][0], 0, red), (rows[1][0], amber, None), (rows[2][0], 0, 0)])
    hub.store.set_object_audiences([])
    assert hub.store.count_pending_audiences() == 1  # also's pending audience is the one it has

    def bob_reads() -> set[str]:
        return {v.stix_id for v in hub.store.query_objects(hub.col, ObjectFilter(reader_pk=hub.bob), None, 10).items}

    assert bob_reads() == {plain["id"], marked["id"], also["id"]}  # amber admits nobody but alice yet
    hub.store.set_memberships(hub.bob, [amber])
    assert bob_reads() == {plain["id"], marked["id"], shared["id"], also["id"]}
    assert hub.store.apply_pending_audiences() == 1
    assert hub.store.count_pending_audiences() == 0 and hub.store.apply_pending_audiences() == 0
    assert bob_reads() == {plain["id"], shared["id"], also["id"]}
    with hub.store.engine.connect() as conn:
        assert conn.execute(select(t.objects.c.pending_audience_pk)
                            .where(t.objects.c.pending_audience_pk.is_not(None))).all() == []


def test_versions_keep_their_audience_and_pending_audience(hub: Hub) -> None:
    red = hub.audience("red", hub.alice)
    obj = indicator()
    hub.store.add_versions(hub.col, hub.alice, [nv(obj, red, 0)], NOW)
    with hub.store.engine.connect() as conn:
        assert conn.execute(select(t.objects.c.audience_pk, t.objects.c.pending_audience_pk)).all() == [(red, 0)]
    assert hub.store.count_pending_audiences() == 1


# -- parties' attributes


def test_party_attributes_round_trip(hub: Hub) -> None:
    store = hub.store
    bob = store.get_party("bob")
    assert bob is not None
    assert (bob.organisation, bob.country, bob.entity, bob.shareability, bob.terms_accepted, bob.serves,
            bob.enforces_markings) == (bob.identity_id, None, None, (), False, (), False)
    edited = store.edit_party(hub.bob, PartyAttributes(
        organisation="USA.EXAMPLECLOUD", country="USA", entity="GOV", shareability=("LE", "IC"),
        terms_accepted=True, serves=("identity--d0000000-0000-4000-8000-000000000000",),
        enforces_markings=True))
    assert (edited.organisation, edited.country, edited.entity, edited.shareability, edited.terms_accepted,
            edited.serves, edited.enforces_markings) == (
        "USA.EXAMPLECLOUD", "USA", "GOV", ("LE", "IC"), True,
        ("identity--d0000000-0000-4000-8000-000000000000",), True)
    assert store.get_party("bob") == edited and [p for p in store.list_parties() if p.pk == hub.bob] == [edited]
    store.add_token(hub.bob, "h-bob", "", NOW)
    assert store.party_for_token("h-bob") == edited
    store.add_certificate(hub.bob, "b" * 64, "CN=bob", NOW + 10**9, NOW)
    assert store.party_for_certificate("b" * 64) == edited

    # Nothing given: nothing changes. Cleared and emptied: as asked; the rest stays.
    assert store.edit_party(hub.bob, PartyAttributes()) == edited
    after = store.edit_party(hub.bob, PartyAttributes(clear=frozenset({"country"}), shareability=(),
                                                      terms_accepted=False))
    assert (after.country, after.shareability, after.terms_accepted, after.entity, after.organisation) == (
        None, (), False, "GOV", "USA.EXAMPLECLOUD")
    assert store.get_party("alice").organisation == store.get_party("alice").identity_id  # type: ignore[union-attr]

    for attrs, error in [(PartyAttributes(clear=frozenset({"organisation"})), ValueError),
                         (PartyAttributes(shareability=("LE,IC",)), UnstorableError),
                         (PartyAttributes(serves=("",)), UnstorableError),
                         (PartyAttributes(organisation="x" * 201), UnstorableError),
                         (PartyAttributes(organisation=""), UnstorableError),
                         (PartyAttributes(country="U\x00A"), UnstorableError)]:
        with pytest.raises(error):
            store.edit_party(hub.bob, attrs)
    assert store.get_party("bob") == after
    with pytest.raises(KeyError):
        store.edit_party(10**6, PartyAttributes(country="USA"))


# -- revision 0010


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_revision_0010_upgrades_a_database_holding_data(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        alembic_step(store, "0009", down=True)
        obj = indicator(object_marking_refs=[RED])
        sid, typ, vus = check_basics(obj)
        with store.engine.begin() as conn:  # rows as revision 0009 knew them
            for pk, name in ((1, "acme"), (2, "agency")):
                conn.execute(insert(t.parties).values(pk=pk, name=name, kind="provider", operator=False,
                                                      identity_id=f"identity--{pk}", created_us=NOW))
            conn.execute(insert(t.tokens).values(party_pk=1, token_hash="h1", label="", created_us=NOW))
            conn.execute(insert(t.collections).values(
                pk=1, id="c1", title="Reports", description="", max_tlp="red", require_signatures=False,
                countersign=False, allow_personal_data=False, created_us=NOW, last_added_us=NOW))
            conn.execute(insert(t.objects).values(
                collection_pk=1, date_added_us=NOW, stix_id=sid, type=typ, version_us=vus,
                version=obj["modified"], spec_version="2.1", is_latest=True, is_first=True, party_pk=1,
                json_text=orjson.dumps(obj).decode()))
        store.migrate()
        acme = store.party_for_token("h1")
        assert acme is not None and acme.organisation == "identity--1" and acme.serves == ()
        assert store.get_party("agency").organisation == "identity--2"  # type: ignore[union-attr]
        with store.engine.connect() as conn:
            assert conn.execute(select(t.objects.c.audience_pk, t.objects.c.pending_audience_pk)).all() == [(0, None)]
        page = store.query_objects(1, ObjectFilter(reader_pk=2), None, 10)
        assert [v.stix_id for v in page.items] == [sid]  # audience 0: every reader, as before
        assert [r[0] for r in store.objects_to_classify(0, 10)] and store.list_audiences() == []
        assert store.get_setting("parties_generation") == "0" and store.parties_generation() == 0
        with store.engine.connect() as conn:
            assert "held_audience_pk" in {c["name"] for c in inspect(conn).get_columns("tombstones")}
        # And down again: the columns and tables go, the rows stay.
        alembic_step(store, "0009", down=True)
        with store.engine.connect() as conn:
            insp = inspect(conn)
            assert "audiences" not in insp.get_table_names()
            assert "organisation" not in {c["name"] for c in insp.get_columns("parties")}
            assert "audience_pk" not in {c["name"] for c in insp.get_columns("objects")}
            assert "held_audience_pk" not in {c["name"] for c in insp.get_columns("tombstones")}
            assert conn.exec_driver_sql("SELECT count(*) FROM tokens").scalar() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM objects").scalar() == 1
        assert store.get_setting("parties_generation") is None
        store.migrate()
        assert store.party_for_token("h1").organisation == "identity--1"  # type: ignore[union-attr]


# -- plans: the reader's condition keeps the query's plan and is evaluated once


def _statement(store: SqlStore, call: Callable[[], object]) -> tuple[str, Any]:
    """The one SELECT ``call`` makes the store run, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    assert len(seen) == 1, seen
    return seen[0]


def _subplan_loops(plan: dict[str, Any]) -> list[int]:
    """How many times each subplan of a PostgreSQL plan (EXPLAIN ANALYZE, JSON) ran."""
    loops = [int(plan["Actual Loops"])] if plan.get("Subplan Name") else []
    for child in plan.get("Plans", []):
        loops += _subplan_loops(child)
    return loops


def test_a_readers_page_keeps_the_date_added_plan_and_reads_its_audiences_once(hub: Hub, backend: str) -> None:
    store = hub.store
    hidden = hub.audience("hidden", hub.alice)
    mine = hub.audience("mine", hub.alice, hub.bob)
    store.add_versions(hub.col, hub.alice, [nv(indicator(), (0, hidden, mine)[i % 3]) for i in range(60)], NOW)
    calls = {
        "page": partial(store.query_objects, hub.col, ObjectFilter(reader_pk=hub.bob), NOW + 5, 10),
        "types": partial(store.query_objects, hub.col, ObjectFilter(types=("indicator",), reader_pk=hub.bob),
                         None, 10),
        "outgoing": partial(store.outgoing, hub.col, NOW + 5, 10, reader_pk=hub.bob),
    }
    for name, call in calls.items():
        statement, parameters = _statement(store, call)
        with store.engine.connect() as conn:
            if backend == "sqlite":
                plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                # Read in date_added order from the collection's index, never sorted; the
                # reader's audiences listed once, before the scan (not a correlated subquery).
                assert plan[0].startswith("SEARCH objects USING INDEX"), (name, plan)
                assert "date_added_us" in plan[0] or "ix_objects_collection_type_added" in plan[0], (name, plan)
                assert not any("TEMP B-TREE" in r or "CORRELATED" in r for r in plan), (name, plan)
                assert "LIST SUBQUERY 1" in plan, (name, plan)
            else:
                explained = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
                assert _subplan_loops(explained[0]["Plan"]) == [1], (name, explained)
