"""The Store contract: every implementation must pass these (SQLite and PostgreSQL here).

Besides each method's behaviour: transactions (commit together, roll back together), the same
answer from every database for what one of them would refuse, and an audit chain that takes any
content and whose times never go backwards.
"""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy.exc import IntegrityError

from hub.stix.basics import check_basics
from hub.store.audit import GENESIS, AuditEntry, record_hash
from hub.store.base import DuplicateError, UnstorableError
from hub.store.dialect import normalise_url
from hub.store.limits import unstorable_reason
from hub.store.ops import head_revision
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
    assert store.migrate() == store.migrate() == head_revision() != ""


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


# -- transactions: several writes commit together, or not at all


def _status(cpk: int, ppk: int, sid: str = "1b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11") -> StatusRecord:
    return StatusRecord(id=sid, party_pk=ppk, collection_pk=cpk, request_us=NOW, status="complete",
                        successes=[{"id": "x", "version": "v", "message": "stored"}])


def test_transaction_commits_objects_status_and_audit_together(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator()
    with store.transaction() as tx:
        out = tx.add_versions(cpk, ppk, [nv(obj)], NOW)
        tx.save_status(_status(cpk, ppk), NOW + 100)
        tx.append_audit([AuditEntry("submission", "acme", "c", {"n": 1})], NOW)
    assert [o.stored for o in out] == [True]
    assert [i.stix_id for i in store.query_objects(cpk, ObjectFilter(), None, 10).items] == [obj["id"]]
    assert store.get_status(_status(cpk, ppk).id, NOW) is not None
    assert [(r.seq, r.kind, r.data) for r in store.iter_audit()] == [(1, "submission", {"n": 1})]


def test_an_exception_in_a_transaction_rolls_every_write_back(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    store.append_audit([AuditEntry("grant", "acme")], NOW)
    head = store.audit_head()
    obj = indicator()
    term = ("ref", "user-account--x")
    v = nv(obj)
    v = NewVersion(v.stix_id, v.type, v.version_us, v.version, v.spec_version, v.json_text, (term,))
    with pytest.raises(KeyError, match="boom"):
        with store.transaction() as tx:
            assert tx.add_versions(cpk, ppk, [v], NOW)[0].stored
            tx.save_status(_status(cpk, ppk), NOW + 100)
            tx.append_audit([AuditEntry("submission", "acme", "c", {"n": 1})], NOW)
            raise KeyError("boom")
    assert store.count_objects(cpk) == 0
    assert store.find_terms("ref", ["user-account--x"], [cpk]) == []
    assert store.get_status(_status(cpk, ppk).id, NOW) is None
    assert store.audit_head() == head and len(list(store.iter_audit())) == 1
    # Nothing half-done stays behind: the same writes succeed afterwards.
    assert store.add_versions(cpk, ppk, [v], NOW)[0].stored
    store.save_status(_status(cpk, ppk), NOW + 100)


def test_a_database_error_in_a_transaction_rolls_back_the_writes_before_it(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    store.save_status(_status(cpk, ppk), NOW + 100)
    with pytest.raises(IntegrityError):
        with store.transaction() as tx:
            tx.add_versions(cpk, ppk, [nv(indicator())], NOW)
            tx.save_status(_status(cpk, ppk), NOW + 100)  # the same id again: refused
    assert store.count_objects(cpk) == 0


def test_while_a_transaction_is_open_its_writes_are_invisible_and_other_writes_refused(
        setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    with store.transaction() as tx:
        tx.add_versions(cpk, ppk, [nv(indicator())], NOW)
        assert store.count_objects(cpk) == 0  # reads see what was committed before
        with pytest.raises(RuntimeError, match="already has a write transaction open"):
            store.append_audit([AuditEntry("grant", "acme")], NOW)
        with pytest.raises(RuntimeError):
            with store.transaction():
                pass
    assert store.count_objects(cpk) == 1
    assert store.audit_head()[0] == 0
    store.append_audit([AuditEntry("grant", "acme")], NOW)  # usable again once it ended
    assert store.audit_head()[0] == 1


def test_paging_cursors_have_distinct_names(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    oid = "indicator--31111111-2222-4333-8444-555555555555"
    out = store.add_versions(cpk, ppk, [nv(indicator(id=oid, modified=ts(s))) for s in (1, 2)], NOW)
    page = store.query_objects(cpk, ObjectFilter(versions=("all",)), after_added_us=out[0].date_added_us, limit=5)
    assert [i.version for i in page.items] == [ts(2)]
    from hub.common.timestamps import parse_timestamp_us
    versions = store.object_versions(cpk, oid, ObjectFilter(versions=("all",)),
                                     after_version_us=parse_timestamp_us(ts(1)), limit=5)
    assert [i.version for i in versions.items] == [ts(2)]


# -- the same input gets the same answer from every database


@pytest.mark.parametrize("change,reason", [
    (dict(version="2026-01-01T00:00:00." + "1" * 40 + "Z"), "versions of at most 40 characters"),
    (dict(stix_id="indicator--" + "a" * 290), "id is 301 characters long"),
    (dict(stix_id="indicator--11111111-2222-4333-8444-555555555555\n"), "id contains a control character"),
    (dict(json_text='{"description":"a\\u0000b"}'), "U+0000"),
    (dict(json_text='{"description":"a\x00b"}'), "U+0000"),
    (dict(terms=(("ref", "r" * 301),)), "indexes values of at most 300"),
])
def test_what_one_database_would_refuse_is_refused_by_every_store(
        setup: tuple[SqlStore, int, int], change: dict, reason: str) -> None:
    store, cpk, ppk = setup
    good = nv(indicator())
    fields = dict(stix_id=good.stix_id, type=good.type, version_us=good.version_us, version=good.version,
                  spec_version=good.spec_version, json_text=good.json_text, terms=good.terms)
    bad = NewVersion(**{**fields, **change})  # type: ignore[arg-type]
    assert unstorable_reason(bad) is not None and reason in unstorable_reason(bad)  # type: ignore[operator]
    with pytest.raises(UnstorableError, match="cannot be stored"):
        store.add_versions(cpk, ppk, [good, bad], NOW)
    assert store.count_objects(cpk) == 0  # the whole call, before anything was written


def test_a_backslash_before_u0000_is_text_not_nul(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator(description="C:\\u0000\\path")  # a backslash, then the letters u0000
    v = nv(obj)
    assert unstorable_reason(v) is None
    assert store.add_versions(cpk, ppk, [v], NOW)[0].stored
    assert orjson.loads(store.query_objects(cpk, ObjectFilter(), None, 1).items[0].json_text) == obj


# -- the audit chain


def _chain_ok(store: SqlStore) -> bool:
    prev = GENESIS
    for rec in store.iter_audit():
        if rec.prev_hash != prev or record_hash(prev, rec.seq, rec.at_us, rec.kind, rec.party,
                                                rec.collection, rec.data) != rec.hash:
            return False
        prev = rec.hash
    return store.audit_head()[1] == prev


def test_audit_content_without_a_canonical_form_is_recorded_as_strings(store: SqlStore) -> None:
    data = {"limit": 2**53, "negative": -(2**63), "huge": 10**30, "fine": 2**53 - 1, "nan": float("nan"),
            "inf": float("-inf"), "ratio": 0.5, "surrogate": "a\ud800b", "tuple": (1, 2), 7: "int key",
            "nested": {"deep": [10**20]}}
    store.append_audit([AuditEntry("read", "acme", "c", data)], NOW)
    (rec,) = store.iter_audit()
    assert rec.data == {"limit": str(2**53), "negative": str(-(2**63)), "huge": str(10**30),
                        "fine": 2**53 - 1, "nan": "nan", "inf": "-inf", "ratio": 0.5,
                        "surrogate": "a\\ud800b", "tuple": [1, 2], "7": "int key",
                        "nested": {"deep": [str(10**20)]}}
    assert _chain_ok(store)


def test_audit_times_never_go_backwards_along_the_chain(store: SqlStore) -> None:
    store.append_audit([AuditEntry("grant", "acme")], NOW)
    store.append_audit([AuditEntry("read", "acme", at_us=NOW - 50), AuditEntry("read", "b", at_us=NOW + 7),
                        AuditEntry("read", "c", at_us=NOW + 3)], NOW + 10)
    store.append_audit([AuditEntry("grant", "acme")], NOW - 1_000_000)  # a clock that went back
    assert [(r.party, r.at_us) for r in store.iter_audit()] == [
        ("acme", NOW), ("acme", NOW), ("b", NOW + 7), ("c", NOW + 7), ("acme", NOW + 7)]
    assert _chain_ok(store)


def test_audit_fields_too_long_for_a_column_are_refused_alike(store: SqlStore) -> None:
    with pytest.raises(UnstorableError):
        store.append_audit([AuditEntry("read", "p" * 201, "c")], NOW)
    assert store.audit_head()[0] == 0


def test_urls_are_normalised_for_psycopg() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_lookups_that_can_match_nothing_find_nothing_on_every_database(setup: tuple[SqlStore, int, int]) -> None:
    store, cpk, ppk = setup
    obj = indicator()
    store.add_versions(cpk, ppk, [nv(obj)], NOW)
    nul = "6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f\x00"
    assert store.get_collection(nul) is None
    assert store.get_party("acme\x00") is None
    assert store.party_for_token("h\x00") is None
    assert store.get_status("s\x00", NOW) is None
    assert store.get_setting("n\x00") is None
    assert store.find_terms("ref", ["r\x00"], [cpk]) == []
    assert store.get_token(2**40) is None and store.get_token(-1) is None
    assert store.revoke_token(ppk, 2**40, NOW) is False
    assert store.query_objects(cpk, ObjectFilter(ids=(obj["id"] + "\x00",)), None, 10).items == []
    assert [i.stix_id for i in store.query_objects(
        cpk, ObjectFilter(ids=(obj["id"] + "\x00", obj["id"])), None, 10).items] == [obj["id"]]
    assert store.query_objects(cpk, ObjectFilter(types=("indicator\x00",)), None, 10).items == []
    assert store.object_versions(cpk, obj["id"] + "\x00", ObjectFilter(versions=("all",)), None, 10).items == []
    assert store.delete_object(cpk, obj["id"] + "\x00", ObjectFilter(versions=("all",))) == 0
    assert store.count_objects(cpk) == 1
