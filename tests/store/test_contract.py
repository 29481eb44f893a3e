"""The Store contract: every implementation must pass these (SQLite and PostgreSQL here)."""

from __future__ import annotations

import orjson
import pytest

from hub.stix.basics import check_basics
from hub.store.base import DuplicateError
from hub.store.records import NewVersion, ObjectFilter, StatusRecord
from hub.store.sql import SqlStore
from tests.factories import indicator, ipv4, ts

NOW = 1_795_000_000_000_000


def nv(obj: dict) -> NewVersion:
    sid, typ, vus = check_basics(obj)
    return NewVersion(sid, typ, vus, obj.get("modified") or obj.get("created"), "2.1",
                      orjson.dumps(obj).decode())


@pytest.fixture
def setup(store: SqlStore) -> tuple[SqlStore, int, int]:
    party = store.create_party("acme", "provider", "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    col = store.create_collection("6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", "reports", "", None, "amber",
                                  False, False, False, NOW)
    return store, col.pk, party.pk


def test_parties_tokens_and_duplicates(store: SqlStore) -> None:
    p = store.create_party("acme", "provider", "identity--0f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    with pytest.raises(DuplicateError):
        store.create_party("acme", "agency", "identity--1f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    store.add_token(p.pk, "h1", "first", NOW)
    assert store.party_for_token("h1") == p
    assert store.party_for_token("nope") is None
    assert store.revoke_tokens(p.pk, NOW + 1) == 1
    assert store.party_for_token("h1") is None
    assert [x.name for x in store.list_parties()] == ["acme"]


def test_tokens_by_id_list_and_revoke_one(store: SqlStore) -> None:
    acme = store.create_party("acme", "provider", "identity--2f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    other = store.create_party("other", "agency", "identity--3f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    old = store.add_token(acme.pk, "h-old", "initial", NOW)
    theirs = store.add_token(other.pk, "h-theirs", "initial", NOW + 1)
    new = store.add_token(acme.pk, "h-new", "rotated", NOW + 2)
    assert len({old, theirs, new}) == 3 and all(isinstance(i, int) for i in (old, theirs, new))
    listed = store.list_tokens(acme.pk)
    assert [(r.id, r.party_pk, r.label, r.created_us, r.revoked_us, r.active) for r in listed] == [
        (old, acme.pk, "initial", NOW, None, True), (new, acme.pk, "rotated", NOW + 2, None, True)]
    assert "h-old" not in repr(listed)  # records carry no hash
    assert store.get_token(theirs).party_pk == other.pk
    assert store.get_token(max(old, theirs, new) + 1000) is None

    assert store.revoke_token(acme.pk, theirs, NOW + 3) is False  # another party's: untouched
    assert store.party_for_token("h-theirs") == other
    assert store.revoke_token(acme.pk, old, NOW + 4) is True
    assert store.revoke_token(acme.pk, old, NOW + 5) is False  # already revoked: keeps its time
    assert store.get_token(old).revoked_us == NOW + 4
    assert store.party_for_token("h-old") is None
    assert store.party_for_token("h-new") == acme
    assert [r.active for r in store.list_tokens(acme.pk)] == [False, True]
    assert store.revoke_tokens(acme.pk, NOW + 6) == 1  # only the one still active
    assert store.get_token(old).revoked_us == NOW + 4
    assert store.list_tokens(other.pk)[0].active


def test_collections_and_grants(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    assert store.get_collection("6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f").pk == cpk
    assert store.get_collection("missing") is None
    assert store.grants_for(ppk) == {}
    store.set_grant(ppk, cpk, True, False)
    g = store.grants_for(ppk)[cpk]
    assert (g.can_read, g.can_write) == (True, False)
    store.set_grant(ppk, cpk, True, True)
    assert store.grants_for(ppk)[cpk].can_write
    store.set_grant(ppk, cpk, False, False)
    assert store.grants_for(ppk) == {}


def test_date_added_is_distinct_and_increasing_even_within_one_batch(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    out = store.add_versions(cpk, ppk, [nv(indicator()) for _ in range(50)], NOW)
    added = [o.date_added_us for o in out]
    assert added == sorted(added) and len(set(added)) == 50
    # A clock that went backwards still yields later date_added values.
    out2 = store.add_versions(cpk, ppk, [nv(indicator())], NOW - 10_000_000)
    assert out2[0].date_added_us > added[-1]


def test_same_version_is_stored_once(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator()
    first = store.add_versions(cpk, ppk, [nv(obj), nv(obj)], NOW)
    assert [o.stored for o in first] == [True, False]
    again = store.add_versions(cpk, ppk, [nv(obj)], NOW + 5)
    assert [o.stored for o in again] == [False]
    assert store.count_objects(cpk) == 1


def test_unversioned_sco_has_one_version(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    sco = ipv4("203.0.113.9")
    assert store.add_versions(cpk, ppk, [nv(sco)], NOW)[0].stored
    assert not store.add_versions(cpk, ppk, [nv(sco)], NOW + 9)[0].stored
    page = store.query_objects(cpk, ObjectFilter(versions=("all",)), None, 10)
    assert len(page.items) == 1


def test_version_selection_first_last_all_and_timestamps(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    oid = "indicator--11111111-2222-4333-8444-555555555555"
    # Posted out of order: the newest version first.
    v3, v1, v2 = (indicator(id=oid, modified=ts(s)) for s in (30, 10, 20))
    store.add_versions(cpk, ppk, [nv(v3)], NOW)
    store.add_versions(cpk, ppk, [nv(v1), nv(v2)], NOW + 10)

    def versions(**kw: object) -> list[str]:
        page = store.query_objects(cpk, ObjectFilter(**kw), None, 10)  # type: ignore[arg-type]
        return sorted(i.version for i in page.items)

    assert versions() == [ts(30)]
    assert versions(versions=("first",)) == [ts(10)]
    assert versions(versions=("first", "last")) == [ts(10), ts(30)]
    assert versions(versions=("all",)) == [ts(10), ts(20), ts(30)]
    from hub.common.timestamps import parse_timestamp_us
    assert versions(versions=(), version_us=(parse_timestamp_us(ts(20)),)) == [ts(20)]
    vpage = store.object_versions(cpk, oid, ObjectFilter(versions=("all",)), None, 2)
    assert [i.version for i in vpage.items] == [ts(10), ts(20)] and vpage.more
    rest = store.object_versions(cpk, oid, ObjectFilter(versions=("all",)), vpage.items[-1].key, 2)
    assert [i.version for i in rest.items] == [ts(30)] and not rest.more


def test_filters_by_id_type_spec_version_and_added_after(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    a, b = indicator(), indicator()
    sco = ipv4("192.0.2.1")
    out = store.add_versions(cpk, ppk, [nv(a), nv(b), nv(sco)], NOW)
    ids = lambda **kw: [i.stix_id for i in store.query_objects(cpk, ObjectFilter(**kw), None, 10).items]  # noqa: E731
    assert ids(ids=(a["id"], sco["id"])) == [a["id"], sco["id"]]
    assert ids(types=("ipv4-addr",)) == [sco["id"]]
    assert ids(spec_versions=("2.0",)) == []
    assert ids(added_after_us=out[0].date_added_us) == [b["id"], sco["id"]]


def test_keyset_paging_never_skips_or_repeats(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    objs = [indicator() for _ in range(23)]
    store.add_versions(cpk, ppk, [nv(o) for o in objs], NOW)
    seen, after = [], None
    while True:
        page = store.query_objects(cpk, ObjectFilter(), after, 5)
        seen += [i.stix_id for i in page.items]
        if not page.more:
            break
        after = page.items[-1].key
    assert seen == [o["id"] for o in objs]
    # The stored text is served exactly as stored.
    first = store.query_objects(cpk, ObjectFilter(), None, 1).items[0]
    assert orjson.loads(first.json_text) == objs[0]


def test_delete_versions_and_owner(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    other = store.create_party("other", "provider", "identity--2f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    oid = "indicator--21111111-2222-4333-8444-555555555555"
    store.add_versions(cpk, ppk, [nv(indicator(id=oid, modified=ts(s))) for s in (1, 2, 3)], NOW)
    assert store.delete_object(cpk, oid, ObjectFilter(ids=(oid,), versions=("all",)), other.pk) == 0
    assert store.delete_object(cpk, oid, ObjectFilter(ids=(oid,), versions=("last",))) == 1
    # After deleting the newest version, the one before it is the latest.
    page = store.query_objects(cpk, ObjectFilter(ids=(oid,)), None, 10)
    assert [i.version for i in page.items] == [ts(2)]
    assert store.delete_object(cpk, oid, ObjectFilter(ids=(oid,), versions=("all",)), ppk) == 2
    assert store.count_objects(cpk) == 0


def test_statuses_expire(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    st = StatusRecord(id="0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11", party_pk=ppk, collection_pk=cpk,
                      request_us=NOW, status="complete",
                      successes=[{"id": "x", "version": "v", "message": "stored"}])
    store.save_status(st, NOW + 100)
    got = store.get_status(st.id, NOW + 50)
    assert got is not None and got.successes == st.successes and got.total_count == 1
    assert store.get_status(st.id, NOW + 100) is None
    assert store.purge_statuses(NOW + 100) == 1


def test_migrate_is_idempotent(store: SqlStore) -> None:
    assert store.migrate() == store.migrate() == "0003"


def test_terms_are_indexed_and_follow_deletes(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator()
    v = nv(obj)
    v = NewVersion(v.stix_id, v.type, v.version_us, v.version, v.spec_version, v.json_text,
                   (("pseudonym", "hmac-sha256:k1:" + "a" * 64), ("ref", "user-account--x")))
    store.add_versions(cpk, ppk, [v, v], NOW)
    assert store.find_terms("pseudonym", ["hmac-sha256:k1:" + "a" * 64], [cpk]) == \
        [(cpk, obj["id"], "hmac-sha256:k1:" + "a" * 64)]
    assert store.find_terms("pseudonym", ["hmac-sha256:k1:" + "a" * 64], [cpk + 1]) == []
    assert store.find_terms("ref", ["user-account--x"], [cpk])[0][1] == obj["id"]
    store.delete_object(cpk, obj["id"], ObjectFilter(ids=(obj["id"],), versions=("all",)))
    assert store.find_terms("ref", ["user-account--x"], [cpk]) == []
