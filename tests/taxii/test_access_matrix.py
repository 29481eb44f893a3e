"""Per-party access: every party x every collection x every endpoint, and no leaks.

Grants (tests/taxii/conftest.py): reports alice rw, bob rw, gov r; advisories gov rw, alice r;
private alice rw; dropbox bob write-only; ops is an operator with no grants.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import orjson
import pytest
import requests

from hub.config import load_config
from hub.services.hub import open_hub
from tests.conftest import RunningHub
from tests.factories import indicator
from tests.taxii.conftest import GRANTS, PARTIES

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


@pytest.fixture(scope="module")
def markers(server: RunningHub) -> Iterator[dict[str, dict]]:
    """One object per collection, posted by a party that may write it."""
    out = {}
    for alias, writer in WRITERS.items():
        obj = indicator(created_by_ref=server.identities[writer])
        r = requests.post(f"{server.api}/collections/{server.collections[alias]}/objects/",
                          data=orjson.dumps({"objects": [obj]}),
                          headers={"Content-Type": TAXII, **server.auth(writer)})
        assert r.json()["success_count"] == 1
        out[alias] = obj
    yield out


def call(server: RunningHub, party: str, alias: str, endpoint: str, markers: dict[str, dict]) -> requests.Response:
    col = f"{server.api}/collections/{server.collections[alias]}"
    oid = markers[alias]["id"]
    h = server.auth(party)
    if endpoint == "collection":
        return requests.get(col + "/", headers=h)
    if endpoint == "get_objects":
        return requests.get(col + "/objects/", headers=h)
    if endpoint == "post_objects":
        return requests.post(col + "/objects/", data=orjson.dumps({"objects": [indicator()]}),
                             headers={"Content-Type": TAXII, **h})
    if endpoint == "get_object":
        return requests.get(f"{col}/objects/{oid}/", headers=h)
    if endpoint == "versions":
        return requests.get(f"{col}/objects/{oid}/versions/", headers=h)
    if endpoint == "manifest":
        return requests.get(col + "/manifest/", headers=h)
    if endpoint == "delete":
        if expected(party, alias, "delete") == 200:
            # A party deletes what it submitted itself.
            own = indicator()
            requests.post(col + "/objects/", data=orjson.dumps({"objects": [own]}),
                          headers={"Content-Type": TAXII, **h})
            return requests.delete(f"{col}/objects/{own['id']}/", headers=h)
        return requests.delete(f"{col}/objects/{oid}/", headers=h)
    raise AssertionError(endpoint)


CELLS = [(p, c, e) for p in PARTIES for c in GRANTS for e in ENDPOINTS]


@pytest.mark.parametrize("party,alias,endpoint", CELLS, ids=["-".join(c) for c in CELLS])
def test_access_cell(server: RunningHub, markers: dict[str, dict], party: str, alias: str, endpoint: str) -> None:
    r = call(server, party, alias, endpoint, markers)
    assert r.status_code == expected(party, alias, endpoint), r.text
    assert r.headers["Content-Type"] == TAXII
    if r.status_code >= 400:
        body = r.json()
        assert body["http_status"] == str(r.status_code)
        # An error never names objects of the collection.
        assert markers[alias]["id"] not in r.text


def test_a_party_cannot_delete_what_another_submitted(server: RunningHub, markers: dict[str, dict]) -> None:
    col = f"{server.api}/collections/{server.collections['reports']}"
    r = requests.delete(f"{col}/objects/{markers['reports']['id']}/", headers=server.auth("bob"))
    assert r.status_code == 403 and "another party" in r.json()["description"]


def test_no_object_leaks_anywhere(server: RunningHub, markers: dict[str, dict]) -> None:
    """Walk every read endpoint of every collection as every party: only readable objects appear."""
    marker_ids = {alias: obj["id"] for alias, obj in markers.items()}
    for party in PARTIES:
        readable = {a for a, g in GRANTS.items() if g.get(party, (False, False))[0]}
        visible = {server.collections[a] for a, g in GRANTS.items() if any(g.get(party, (False, False)))}
        listed = requests.get(server.api + "/collections/", headers=server.auth(party)).json()["collections"]
        assert {c["id"] for c in listed} == visible
        seen: set[str] = set()
        for alias in GRANTS:
            col = f"{server.api}/collections/{server.collections[alias]}"
            for oid in marker_ids.values():
                r = requests.get(f"{col}/objects/{oid}/", headers=server.auth(party))
                seen |= {o["id"] for o in r.json().get("objects", [])} if r.ok else set()
                if requests.get(f"{col}/objects/{oid}/versions/", headers=server.auth(party)).ok:
                    seen.add(oid)
            for path in ("/objects/?limit=50", "/manifest/?limit=50"):
                r = requests.get(col + path, headers=server.auth(party))
                seen |= {o["id"] for o in r.json().get("objects", [])} if r.ok else set()
        for alias, oid in marker_ids.items():
            assert (oid in seen) == (alias in readable), (party, alias)
    # The markers of collections nobody but their writer reads are still stored.
    hub = open_hub(load_config(server.home, environ={}))
    try:
        col = hub.store.get_collection(server.collections["dropbox"])
        assert col is not None and hub.store.count_objects(col.pk) >= 1
    finally:
        hub.close()


def test_revoked_token_and_revoked_grant_take_effect_at_once(server: RunningHub) -> None:
    hub = open_hub(load_config(server.home, environ={}))
    try:
        party, token = hub.admin.add_party(f"temp-{uuid.uuid4().hex[:6]}", "provider")
        hub.admin.grant(party.name, server.collections["reports"], True, False)
        h = {"Authorization": f"Bearer {token}"}
        url = f"{server.api}/collections/{server.collections['reports']}/objects/"
        assert requests.get(url, headers=h).status_code == 200
        hub.admin.revoke(party.name, server.collections["reports"], True, True)
        assert requests.get(url, headers=h).status_code == 404
        hub.admin.revoke_tokens(party.name)
        assert requests.get(url, headers=h).status_code == 401
    finally:
        hub.close()
