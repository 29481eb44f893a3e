"""Black-box: a real server driven by the taxii2-client library, as providers' tools do."""

from __future__ import annotations

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.factories import indicator, ts
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow


def _collection(server: HubUnderTest, alias: str, party: str) -> Collection:
    return Collection(f"{server.api}/collections/{server.collections[alias]}/", user=party,
                      password=server.tokens[party])


def test_discovery_and_api_root(server: HubUnderTest) -> None:
    srv = Server(server.base + "/taxii2/", user="alice", password=server.tokens["alice"])
    assert srv.title == "abusehub"
    # Discovery names the API root by a relative URL (no public_url configured): the client
    # resolves it against the discovery URL.
    assert [r.url for r in srv.api_roots] == [server.api + "/"]
    root = srv.default
    assert isinstance(root, ApiRoot)
    assert "application/taxii+json;version=2.1" in root.versions
    assert root.max_content_length == 65536


def test_collections_listed_per_party(server: HubUnderTest) -> None:
    root = ApiRoot(server.api + "/", user="gov", password=server.tokens["gov"])
    seen = {c.id: (c.can_read, c.can_write) for c in root.collections}
    assert seen == {server.collections["reports"]: (True, False),
                    server.collections["advisories"]: (True, True)}


def test_add_get_pages_manifest_versions_delete(server: HubUnderTest) -> None:
    col = _collection(server, "private", "alice")
    oid = "indicator--5b5c1a3e-6b0e-4f7e-9b43-2f0f3d3c0a01"
    objs = [indicator(id=oid, modified=ts(s)) for s in (1, 2, 3)] + [indicator() for _ in range(9)]
    status = col.add_objects({"objects": objs})
    assert status.status == "complete"
    assert status.success_count == 12 and status.failure_count == 0
    status.refresh()  # GET status
    assert status.total_count == 12

    got = []
    for envelope in as_pages(col.get_objects, per_request=4):
        got += envelope.get("objects", [])
    # match[version] defaults to "last": one version of the three-version object.
    assert len(got) == 10 and len({o["id"] for o in got}) == 10
    assert next(o for o in got if o["id"] == oid)["modified"] == ts(3)

    manifest = []
    for envelope in as_pages(col.get_manifest, per_request=3):
        manifest += envelope.get("objects", [])
    assert [m["id"] for m in manifest] == [o["id"] for o in got]
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)

    versions = col.object_versions(oid)
    assert versions["versions"] == [ts(1), ts(2), ts(3)]
    assert col.get_object(oid, version="first")["objects"][0]["modified"] == ts(1)

    col.delete_object(oid)
    r = requests.get(f"{server.api}/collections/{server.collections['private']}/objects/{oid}/",
                     headers=server.auth("alice"))
    assert r.status_code == 404


def test_polling_through_a_second_worker_with_next(server: HubUnderTest) -> None:
    """next tokens are stateless: any worker process serves the following page."""
    col = _collection(server, "reports", "bob")
    col.add_objects({"objects": [indicator() for _ in range(20)]})
    reader = _collection(server, "reports", "gov")
    pages = list(as_pages(reader.get_objects, per_request=3))
    ids = [o["id"] for p in pages for o in p.get("objects", [])]
    assert len(ids) == len(set(ids)) >= 20
    assert len(pages) >= 7


def test_as_pages_with_its_default_page_size(server: HubUnderTest) -> None:
    """``as_pages`` defaults to ``per_request=0``, which taxii2-client leaves out of the request
    (it drops falsy parameters): the server's default page size applies, and every object comes."""
    col = _collection(server, "advisories", "gov")
    sent = [indicator() for _ in range(12)]
    col.add_objects({"objects": sent})
    reader = _collection(server, "advisories", "alice")
    pages = list(as_pages(reader.get_objects))
    assert all(len(p.get("objects", [])) <= 5 for p in pages)  # the test hub's default page size
    ids = [o["id"] for p in pages for o in p.get("objects", [])]
    assert ids[-12:] == [o["id"] for o in sent]
    manifest = [m["id"] for p in as_pages(reader.get_manifest) for m in p.get("objects", [])]
    assert manifest == ids
