"""Per-party access, in-process on every store: every party x every collection x every
endpoint, and no leaks.

Grants (tests.conftest.GRANTS): reports alice rw, bob rw, gov r; advisories gov rw, alice r;
private alice rw; dropbox bob write-only; ops is an operator with no grants.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests.factories import indicator
from tests.harness import GRANTS, PARTIES, HubUnderTest

TAXII = "application/taxii+json;version=2.1"
WRITERS = {"reports": "alice", "advisories": "gov", "private": "alice", "dropbox": "bob"}
ENDPOINTS = ("collection", "get_objects", "post_objects", "get_object", "versions", "manifest", "delete")


def expected(party: str, alias: str, endpoint: str) -> int:
    read, write = GRANTS[alias].get(party, (False, False))
    if not read and not write:
        return 404  # invisible: its existence is not revealed
    if endpoint == "collection":
        return 200
    if endpoint == "post_objects":
        return 202 if write else 403
    if endpoint == "delete":
        return 200 if read and write else 403
    return 200 if read else 403


def _post(h: HubUnderTest, alias: str, party: str, objects: list[dict[str, Any]]) -> TestResponse:
    return h.http.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                         headers={"Content-Type": TAXII, **h.auth(party)})


@pytest.fixture(scope="module")
def markers(shared_hub: HubUnderTest) -> dict[str, dict[str, Any]]:
    """One object per collection, posted by a party that may write it."""
    out = {}
    for alias, writer in WRITERS.items():
        obj = indicator(created_by_ref=shared_hub.identities[writer])
        assert _post(shared_hub, alias, writer, [obj]).json["success_count"] == 1
        out[alias] = obj
    return out


def call(h: HubUnderTest, party: str, alias: str, endpoint: str, markers: dict[str, dict[str, Any]]) -> TestResponse:
    col = h.collection_url(alias).rstrip("/")
    oid = markers[alias]["id"]
    auth = h.auth(party)
    if endpoint == "collection":
        return h.http.get(col + "/", headers=auth)
    if endpoint == "get_objects":
        return h.http.get(col + "/objects/", headers=auth)
    if endpoint == "post_objects":
        return _post(h, alias, party, [indicator()])
    if endpoint == "get_object":
        return h.http.get(f"{col}/objects/{oid}/", headers=auth)
    if endpoint == "versions":
        return h.http.get(f"{col}/objects/{oid}/versions/", headers=auth)
    if endpoint == "manifest":
        return h.http.get(col + "/manifest/", headers=auth)
    if endpoint == "delete":
        if expected(party, alias, "delete") == 200:
            # A party deletes what it submitted itself.
            own = indicator()
            _post(h, alias, party, [own])
            return h.http.delete(f"{col}/objects/{own['id']}/", headers=auth)
        return h.http.delete(f"{col}/objects/{oid}/", headers=auth)
    raise AssertionError(endpoint)


CELLS = [(p, c, e) for p in PARTIES for c in GRANTS for e in ENDPOINTS]


@pytest.mark.parametrize("party,alias,endpoint", CELLS, ids=["-".join(c) for c in CELLS])
def test_access_cell(shared_hub: HubUnderTest, markers: dict[str, dict[str, Any]], party: str, alias: str,
                     endpoint: str) -> None:
    r = call(shared_hub, party, alias, endpoint, markers)
    assert r.status_code == expected(party, alias, endpoint), r.get_data(as_text=True)
    assert r.headers["Content-Type"] == TAXII
    if r.status_code >= 400:
        body = r.json
        assert body["http_status"] == str(r.status_code)
        # An error never names objects of the collection.
        assert markers[alias]["id"] not in r.get_data(as_text=True)


def test_a_party_cannot_delete_what_another_submitted(shared_hub: HubUnderTest, markers: dict[str, dict[str, Any]]) -> None:
    r = shared_hub.http.delete(shared_hub.collection_url("reports", "objects", markers["reports"]["id"]),
                                 headers=shared_hub.auth("bob"))
    assert r.status_code == 403 and "another party" in r.json["description"]


def test_no_object_leaks_anywhere(shared_hub: HubUnderTest, markers: dict[str, dict[str, Any]]) -> None:
    """Walk every read endpoint of every collection as every party: only readable objects appear."""
    h = shared_hub
    marker_ids = {alias: obj["id"] for alias, obj in markers.items()}
    for party in PARTIES:
        readable = {a for a, g in GRANTS.items() if g.get(party, (False, False))[0]}
        visible = {h.collections[a] for a, g in GRANTS.items() if any(g.get(party, (False, False)))}
        listed = h.http.get(h.api + "/collections/", headers=h.auth(party)).json.get("collections", [])
        assert {c["id"] for c in listed} == visible
        seen: set[str] = set()
        for alias in GRANTS:
            col = h.collection_url(alias).rstrip("/")
            for oid in marker_ids.values():
                r = h.http.get(f"{col}/objects/{oid}/", headers=h.auth(party))
                seen |= {o["id"] for o in r.json.get("objects", [])} if r.status_code == 200 else set()
                if h.http.get(f"{col}/objects/{oid}/versions/", headers=h.auth(party)).status_code == 200:
                    seen.add(oid)
            for path in ("/objects/?limit=50", "/manifest/?limit=50"):
                r = h.http.get(col + path, headers=h.auth(party))
                seen |= {o["id"] for o in r.json.get("objects", [])} if r.status_code == 200 else set()
        for alias, oid in marker_ids.items():
            assert (oid in seen) == (alias in readable), (party, alias)
    # The markers of collections nobody but their writer reads are still stored.
    col = h.hub.store.get_collection(h.collections["dropbox"])
    assert col is not None and h.hub.store.count_objects(col.pk) >= 1


def test_revoked_token_and_revoked_grant_take_effect_at_once(shared_hub: HubUnderTest) -> None:
    """Changes made by another process (the operator's CLI, with its own connections to the
    same database) apply to the very next request: nothing about access is cached."""
    h = shared_hub
    operator = Hub(h.hub.config, SqlStore(h.hub.store.url))
    try:
        party, token = operator.admin.add_party(f"temp-{uuid.uuid4().hex[:6]}", "provider")
        operator.admin.grant(party.name, h.collections["reports"], True, False)
        auth = {"Authorization": f"Bearer {token}"}
        url = h.collection_url("reports", "objects")
        assert h.http.get(url, headers=auth).status_code == 200
        operator.admin.revoke(party.name, h.collections["reports"], True, True)
        assert h.http.get(url, headers=auth).status_code == 404
        operator.admin.revoke_tokens(party.name)
        assert h.http.get(url, headers=auth).status_code == 401
    finally:
        operator.close()
