"""A poll is one read of the store: the token, the grants, the collection and the page on one
connection from the pool, in one transaction (``Store.reading``), on every store.

Counted with SQLAlchemy's pool ``checkout`` event, on the test's own thread only (the audit trail
appends read records from a thread of its own).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hub.services.hub import EXTENSION
from hub.store.records import ObjectFilter
from hub.store.sql import SqlStore
from tests.factories import indicator
from tests.harness import HubUnderTest


@contextmanager
def checkouts(engine: Engine) -> Iterator[list[int]]:
    """The connections this thread takes from ``engine``'s pool inside the block (one entry each)."""
    me = threading.get_ident()
    taken: list[int] = []

    def hook(*_args: object) -> None:
        if threading.get_ident() == me:
            taken.append(1)

    event.listen(engine, "checkout", hook)
    try:
        yield taken
    finally:
        event.remove(engine, "checkout", hook)


def test_reads_in_a_reading_block_share_one_connection(store: SqlStore) -> None:
    with checkouts(store.engine) as taken:
        store.list_collections()
        store.list_collections()
    assert len(taken) == 2  # outside a block: a connection per read
    with checkouts(store.engine) as taken:
        with store.reading():
            store.list_collections()
            with store.reading():  # nested: the same connection
                store.list_collections()
            store.get_collection("no-such-collection")
    assert len(taken) == 1
    with checkouts(store.engine) as taken:
        store.list_collections()  # after the block: its own again (none is left held)
    assert len(taken) == 1


def test_a_reading_block_that_raises_lets_go_of_its_connection(store: SqlStore) -> None:
    with pytest.raises(ZeroDivisionError), store.reading():
        store.list_collections()
        _ = 1 / 0
    with checkouts(store.engine) as taken:
        assert store.list_collections() == []
    assert len(taken) == 1


def test_writes_inside_a_reading_block_commit_on_their_own(store: SqlStore) -> None:
    with store.reading():
        store.create_collection("c-1", "One", "", None, "TLP:AMBER", False, False, False, 1)
    assert [c.id for c in store.list_collections()] == ["c-1"]
    col = store.get_collection("c-1")
    assert col is not None
    assert store.query_objects(col.pk, ObjectFilter(), None, 10).items == []


@pytest.mark.parametrize("endpoint", ["objects", "manifest", "object", "versions"])
def test_a_poll_takes_one_connection(shared_hub: HubUnderTest, endpoint: str) -> None:
    h = shared_hub
    obj = indicator()
    r = h.http.post(h.collection_url("reports", "objects"), json={"objects": [obj]},
                    headers={"Content-Type": "application/taxii+json;version=2.1", **h.auth("alice")})
    assert r.status_code == 202 and r.json["success_count"] == 1
    path = {"objects": ("objects",), "manifest": ("manifest",), "object": ("objects", obj["id"]),
            "versions": ("objects", obj["id"], "versions")}[endpoint]
    engine = h.app.extensions[EXTENSION].store.engine
    with checkouts(engine) as taken:
        r = h.http.get(h.collection_url("reports", *path), query_string={"limit": "2"}, headers=h.auth("alice"))
    assert r.status_code == 200, r.data[:200]
    assert len(taken) == 1


def test_a_refused_token_inside_the_read_is_answered_401(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    url = h.collection_url("reports", "objects")
    r = h.http.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert h.http.get(url, query_string={"limit": "1"}, headers=h.auth("alice")).status_code == 200


def test_date_added_headers_of_versions_stored_out_of_order(shared_hub: HubUnderTest) -> None:
    """Versions come in version order, not date_added order: the headers still name the oldest and
    newest date_added of the page (objects pages are in date_added order: their first and last)."""
    h = shared_hub
    newer = indicator(modified="2026-03-01T00:00:00.000Z")
    older = indicator(id=newer["id"], modified="2026-02-01T00:00:00.000Z")
    for obj in (newer, older):  # the newer version is added first
        r = h.http.post(h.collection_url("reports", "objects"), json={"objects": [obj]},
                        headers={"Content-Type": "application/taxii+json;version=2.1", **h.auth("alice")})
        assert r.status_code == 202 and r.json["success_count"] == 1
    versions = h.http.get(h.collection_url("reports", "objects", newer["id"], "versions"), headers=h.auth("alice"))
    assert versions.json["versions"] == [older["modified"], newer["modified"]]
    both = h.http.get(h.collection_url("reports", "objects", newer["id"]), query_string={"match[version]": "all"},
                      headers=h.auth("alice"))
    assert [o["modified"] for o in both.json["objects"]] == [newer["modified"], older["modified"]]
    for name in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
        assert versions.headers[name] == both.headers[name]
    assert both.headers["X-TAXII-Date-Added-First"] < both.headers["X-TAXII-Date-Added-Last"]
