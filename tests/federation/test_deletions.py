"""Deleted versions stay deleted (in-process, every store backend): the tombstone a TAXII DELETE
leaves, the signed feed that serves it to readers only, ingest refusing the version again,
retention keeping tombstones for the collection's maximum age, a push link's TAXII DELETE at an
abusehub peer, and which peer records a hub takes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.client.taxii import read_outcome
from hub.services.federation import Credentials
from hub.services.operations.retention import RetentionService
from hub.signing import KeySet, SigningKey, sign_object, signatures_of
from hub.signing.documents import sign_objects
from tests.factories import indicator, ts
from tests.harness import BACKENDS, FrozenClock, HubUnderTest

TAXII = "application/taxii+json;version=2.1"
DAY = 86_400


# -- one hub: the tombstone a DELETE leaves, its feed, ingest, retention


def _post(h: HubUnderTest, party: str, objects: list[dict[str, Any]], alias: str = "reports") -> Any:
    r = h.http.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **h.auth(party)})
    assert r.status_code == 202, r.json
    return r.json


def _delete(h: HubUnderTest, party: str, oid: str, version: str | None = None, alias: str = "reports") -> int:
    query = {"match[version]": version} if version else {}
    r = h.http.delete(h.collection_url(alias, "objects", oid), query_string=query,
                        headers={"Accept": TAXII, **h.auth(party)})
    return r.status_code


def _feed(h: HubUnderTest, party: str, alias: str = "reports", **query: str) -> Any:
    return h.http.get(h.collection_url(alias, "tombstones"), query_string=query,
                        headers={"Accept": TAXII, **h.auth(party)})


def test_a_delete_leaves_a_signed_tombstone_that_readers_of_the_collection_get(seeded: HubUnderTest) -> None:
    h = seeded
    v1 = indicator(created=ts(1), modified=ts(1))
    v2 = {**v1, "modified": ts(2)}
    other = indicator()
    _post(h, "alice", [v1, v2, other])
    assert _delete(h, "alice", v1["id"], ts(2)) == 200
    assert _delete(h, "alice", other["id"]) == 200

    r = _feed(h, "gov")  # gov reads 'reports' without writing it
    assert r.status_code == 200 and r.content_type == TAXII
    body = r.json
    assert body["more"] is False and len(body["tombstones"]) == 2
    record = body["tombstones"][0]
    hub_identity = h.hub.signer.ensure()[1]
    assert {k: record[k] for k in ("type", "format", "hub", "collection", "object_id", "object_version",
                                   "deleted_by")} == {
        "type": "abusehub-tombstone", "format": "1", "hub": hub_identity, "collection": h.collections["reports"],
        "object_id": v1["id"], "object_version": ts(2), "deleted_by": h.identities["alice"]}
    assert body["tombstones"][1]["object_id"] == other["id"]
    # Signed by the hub's key, verifiable with what keys/ publishes (no token needed).
    keys = KeySet.from_jwks(h.http.get(f"{h.api}/keys/").json)
    for rec in body["tombstones"]:
        (entry,) = signatures_of(rec)
        assert entry.signer == hub_identity
        assert keys.check(rec, entry, h.hub.clock(), new_submission=False) is None
    # Paged by added_after on the X-TAXII-Date-Added-Last header, as objects are.
    first = _feed(h, "gov", limit="1")
    assert first.json["more"] is True and len(first.json["tombstones"]) == 1
    rest = _feed(h, "gov", added_after=first.headers["X-TAXII-Date-Added-Last"])
    assert [t["object_id"] for t in rest.json["tombstones"]] == [other["id"]] and rest.json["more"] is False

    # The same access as the objects: a party that may not read the collection gets what it
    # gets there (403 for bob, who may only write 'dropbox'; 404 where it sees nothing).
    for party, alias in (("bob", "dropbox"), ("gov", "private"), ("bob", "advisories"), ("alice", "advisories")):
        objects = h.http.get(h.collection_url(alias, "objects"), headers={"Accept": TAXII, **h.auth(party)})
        assert _feed(h, party, alias).status_code == objects.status_code, (party, alias)
    assert h.http.get(h.collection_url("reports", "tombstones"), headers={"Accept": TAXII}).status_code == 401

    # The deleted version is not accepted again, from anyone; the other version and a new one are.
    status = _post(h, "alice", [v2, {**v1, "modified": ts(3)}])
    (failure,) = status["failures"]
    assert failure["id"] == v1["id"] and "was deleted from this collection" in failure["message"]
    assert status["success_count"] == 1
    versions = h.http.get(h.collection_url("reports", "objects", v1["id"], "versions"),
                            headers=h.auth("alice")).json["versions"]
    assert versions == [ts(1), ts(3)]


SHARING = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"


def _sharing(**body: list[str]) -> dict[str, Any]:
    return {SHARING: {"extension_type": "property-extension", **body}}


def test_the_feed_tells_of_a_deleted_version_only_readers_its_audience_admitted(seeded: HubUnderTest) -> None:
    """A tombstone is told to whom the deleted copy's audience admitted: TLP:RED's submitter and
    recipient, not another reader of the collection, on every page."""
    from hub.stix.markings import tlp_marking_id

    h = seeded
    col = h.hub.admin.add_collection("Red", alias="red", max_tlp="red")
    for name, write in (("alice", True), ("bob", False), ("gov", False)):
        h.hub.admin.grant(name, col.id, True, write)
    h.collections["red"] = col.id
    red = indicator(object_marking_refs=[tlp_marking_id("red")], extensions=_sharing(recipients=[h.identities["gov"]]))
    greens = [indicator(), indicator()]
    _post(h, "alice", [greens[0], red, greens[1]], alias="red")
    for o in (greens[0], red, greens[1]):
        assert _delete(h, "alice", o["id"], alias="red") == 200

    def told(party: str) -> list[str]:
        out: list[str] = []
        query = {"limit": "1"}
        while True:
            r = _feed(h, party, "red", **query)
            assert r.status_code == 200
            out += [t["object_id"] for t in r.json.get("tombstones", [])]
            if not r.json["more"]:
                return out
            query = {"limit": "1", "added_after": r.headers["X-TAXII-Date-Added-Last"]}

    everything = [greens[0]["id"], red["id"], greens[1]["id"]]
    assert told("alice") == told("gov") == everything
    assert told("bob") == [greens[0]["id"], greens[1]["id"]]  # bob never read it: not told its id


def test_retention_keeps_tombstones_for_the_collections_maximum_age(store: Any, tmp_path: Path) -> None:
    clock = FrozenClock()
    h = HubUnderTest.build(tmp_path / "home", store=store, clock=clock)
    try:
        gone, kept = indicator(), indicator()
        _post(h, "alice", [gone, kept])
        assert _delete(h, "alice", gone["id"]) == 200
        h.hub.admin.edit_collection(h.collections["reports"], max_age_days=5)
        clock.advance(3 * DAY)
        _post(h, "alice", [indicator()])
        service = RetentionService.of(h.hub)
        (outcome,) = service.run()
        assert (outcome.purged, outcome.tombstones_purged) == (0, 0)
        assert _post(h, "alice", [gone])["failure_count"] == 1  # still remembered
        clock.advance(3 * DAY)  # the deletion is now older than the collection keeps anything
        (outcome,) = service.run()
        assert (outcome.purged, outcome.tombstones_purged) == (1, 1)  # kept (day 0) goes too
        (record,) = [r for r in h.hub.store.iter_audit() if r.kind == "retention.purge"][-1:]
        assert record.data["tombstones_purged"] == 1
        assert _feed(h, "alice").json == {"more": False}
        assert _post(h, "alice", [gone])["success_count"] == 1  # forgotten, as retention forgets
    finally:
        h.close()


# -- two hubs: a push link's DELETE, and the records a hub takes


class Net:
    def __init__(self) -> None:
        self.hubs: dict[str, HubUnderTest] = {}

    def transport_for(self, peer: Any) -> httpx.BaseTransport:
        return self.hubs[peer.url].transport()


@pytest.fixture(params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[HubUnderTest, HubUnderTest]]:
    """Hubs A (alice, with a key) and B, each with a collection 'shared' that requires
    signatures; the other hub is a peer party with read and write there. B adds A as a peer
    (and takes A's keys, alice's pinned to it)."""
    net = Net()
    made = []
    for name, other in (("a", "b"), ("b", "a")):
        parties = {f"hub-{other}": "peer", **({"alice": "provider"} if name == "a" else {})}
        h = HubUnderTest.build(tmp_path / name, parties=parties, grants={"shared": {p: (True, True) for p in parties}},
                               signed={"shared": True}, keys_for=("alice",) if name == "a" else (),
                               base=f"http://127.0.0.1:{8300 + len(made)}", backend=request.param, copied=True,
                               toml="[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n"
                                    "[federation]\npage_size = 3\nmax_retries = 0\n")
        h.hub.signer.prepare()
        h.hub.federation.set_transport(net.transport_for)
        net.hubs[h.url] = h
        made.append(h)
    a, b = made
    for here, there, peer_name, known_there_as in ((a, b, "hub-b", "hub-a"), (b, a, "hub-a", "hub-b")):
        here.hub.federation.peers.add(peer_name, there.url, Credentials(token=there.tokens[known_there_as]))
    b.hub.federation.peers.map_identity("hub-a", a.identities["alice"])
    b.hub.federation.import_keys("hub-a")
    yield a, b
    for h in made:
        h.close()


def _alice_posts(a: HubUnderTest, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    signed = sign_objects(objs, a.keys["alice"], a.identities["alice"])
    with a.client("alice") as c:
        assert read_outcome(c.submit(a.collections["shared"], signed)).refused == []
    return signed


def test_a_push_link_sends_the_delete_of_what_it_pushed(pair: tuple[HubUnderTest, HubUnderTest]) -> None:
    a, b = pair
    fed = a.hub.federation
    fed.peers.add_link("hub-b", "push", b.collections["shared"], a.collections["shared"])
    objs = _alice_posts(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(4)])
    assert [r.error for r in fed.sync_once()] == [None]
    assert {i for i, _v, _t in b.stored("shared")} == {o["id"] for o in objs}
    # Deleted at A after the push: the push link's next turn deletes B's copy, with TAXII DELETE.
    with a.client("alice") as c:
        c.delete_object(a.collections["shared"], objs[0]["id"], versions=[objs[0]["modified"]])
    (result,) = fed.sync_once()
    assert result.error is None and result.deletes_sent == 1
    assert {i for i, _v, _t in b.stored("shared")} == {o["id"] for o in objs[1:]}
    # B remembers it too: the version pushed again (by anyone) is refused there.
    with b.client("hub-a") as c:
        outcome = read_outcome(c.submit(b.collections["shared"], [objs[0]]))
    assert [oid for oid, _ in outcome.refused] == [objs[0]["id"]] and "deleted" in outcome.refused[0][1]
    # Sent once: the next turn sends nothing again.
    (result,) = fed.sync_once()
    assert result.error is None and result.deletes_sent == 0


def test_a_hub_takes_only_tombstones_signed_by_a_hub_it_federates_with(
        pair: tuple[HubUnderTest, HubUnderTest]) -> None:
    a, b = pair
    objs = _alice_posts(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(2)])
    with a.client("alice") as c:
        for o in objs:
            c.delete_object(a.collections["shared"], o["id"])
    with a.client("hub-b") as c:
        records = c.tombstones(a.collections["shared"]).records
    assert len(records) == 2
    col = b.hub.store.get_collection(b.collections["shared"])
    assert col is not None
    service = b.hub.tombstones
    tampered = copy.deepcopy(records[0])
    tampered["deleted_by"] = b.identities["hub-a"]
    stranger = SigningKey.generate()
    unknown = sign_object({k: v for k, v in records[1].items() if k != "extensions"}, stranger, records[1]["hub"])
    not_a_hub = {**{k: v for k, v in records[1].items() if k != "extensions"}, "hub": a.identities["alice"]}
    got = service.take(col, [tampered, unknown, sign_object(not_a_hub, a.keys["alice"], a.identities["alice"]),
                             {"type": "something else"}], peer="hub-a")
    assert got.kept == 0 and len(got.refused) == 4
    reasons = [r for _, r in got.refused]
    assert "does not verify" in reasons[0]
    assert "unknown" in reasons[1]
    assert "not a hub this hub federates with" in reasons[2]
    assert "not a tombstone record" in reasons[3]
    assert b.hub.store.count_tombstones(col.pk) == 0
    got = service.take(col, records, peer="hub-a")
    assert (got.kept, got.refused) == (2, [])
    assert service.take(col, records, peer="hub-a").known == 2  # came round again: nothing new
    # Served on as they came: A's signature, not B's.
    with b.client("hub-a") as c:
        assert c.tombstones(b.collections["shared"]).records == records


def test_a_peer_that_does_not_enforce_markings_is_not_told_of_deleted_amber_versions(
        pair: tuple[HubUnderTest, HubUnderTest]) -> None:
    """The tombstone feed leaves out, for a peer that does not enforce markings, the records of
    versions marked above GREEN: it was never sent them, and a record would tell it the id. A
    peer that enforces markings is told of what the deleted copy's audience admitted it to."""
    from hub.stix.markings import tlp_marking_id

    a, _b = pair
    alice = a.identities["alice"]
    green, amber = (indicator(created_by_ref=alice, object_marking_refs=[tlp_marking_id(t)]) for t in ("green", "amber"))
    _alice_posts(a, [amber, green])
    with a.client("alice") as c:
        for o in (amber, green):  # a page of one record: the first page has none for hub-b
            c.delete_object(a.collections["shared"], o["id"])

    def told() -> list[str]:
        with a.client("hub-b") as c:
            return [r["object_id"] for page in c.tombstone_pages(a.collections["shared"], limit=1)
                    for r in page.records]

    assert told() == [green["id"]]
    with a.client("alice") as c:  # the submitter is told of both
        assert [r["object_id"] for r in c.tombstones(a.collections["shared"]).records] == [amber["id"], green["id"]]
    # Enforcing markings is not enough: AMBER reaches a peer of the submitter's organisation or
    # of one it names, and so does its tombstone.
    a.hub.admin.edit_party("hub-b", enforces_markings=True)
    assert told() == [green["id"]]
    a.hub.admin.edit_party("hub-b", organisation=a.hub.store.get_party("alice").organisation)  # type: ignore[union-attr]
    assert told() == [amber["id"], green["id"]]



def test_a_tombstone_of_a_copy_deleted_before_audiences_keeps_the_tlp_rule(
        pair: tuple[HubUnderTest, HubUnderTest]) -> None:
    """A tombstone without a held audience (a copy deleted before revision 0010) is judged by
    the TLP level of that copy: left out for a peer that does not enforce markings when above
    GREEN, told to one that does (every reader of the collection read such a copy)."""
    from sqlalchemy import update

    from hub.stix.markings import tlp_marking_id
    from hub.store.schema import tombstones

    a, _b = pair
    amber = indicator(created_by_ref=a.identities["alice"], object_marking_refs=[tlp_marking_id("amber")])
    _alice_posts(a, [amber])
    with a.client("alice") as c:
        c.delete_object(a.collections["shared"], amber["id"])
    with a.hub.store.engine.begin() as conn:  # type: ignore[attr-defined]  # as 0010 leaves one made before it
        conn.execute(update(tombstones).values(held_audience_pk=None))

    def told() -> list[str]:
        with a.client("hub-b") as c:
            return [r["object_id"] for r in c.tombstones(a.collections["shared"]).records]

    assert told() == []
    a.hub.admin.edit_party("hub-b", enforces_markings=True)
    assert told() == [amber["id"]]

class Recording(httpx.BaseTransport):
    """A transport that notes the method and path of each request it passes on."""

    def __init__(self, inner: httpx.BaseTransport, seen: list[tuple[str, str]]) -> None:
        self.inner = inner
        self.seen = seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        return self.inner.handle_request(request)


def test_a_push_link_sends_no_delete_of_a_version_withheld_from_the_peer(
        pair: tuple[HubUnderTest, HubUnderTest]) -> None:
    """A peer that enforces markings, of another organisation: AMBER naming its organisation is
    pushed, and its DELETE sent; AMBER that does not name it is withheld, and no DELETE tells
    the peer its id."""
    from hub.stix.markings import tlp_marking_id

    a, b = pair
    seen: list[tuple[str, str]] = []
    a.hub.federation.set_transport(lambda peer: Recording(b.transport(), seen))
    a.hub.admin.edit_party("hub-b", organisation="GBR.PARTNER", enforces_markings=True)
    fed = a.hub.federation
    fed.peers.add_link("hub-b", "push", b.collections["shared"], a.collections["shared"])
    alice, amber = a.identities["alice"], [tlp_marking_id("amber")]
    named = indicator(created_by_ref=alice, object_marking_refs=amber, extensions=_sharing(organisations=["GBR.PARTNER"]))
    withheld = indicator(created_by_ref=alice, object_marking_refs=amber)
    green = indicator(created_by_ref=alice)
    _alice_posts(a, [named, withheld, green])
    assert [r.error for r in fed.sync_once()] == [None]
    assert {i for i, _v, _t in b.stored("shared")} == {named["id"], green["id"]}
    with a.client("alice") as c:
        for o in (named, withheld, green):
            c.delete_object(a.collections["shared"], o["id"])
    seen.clear()
    (result,) = fed.sync_once()
    assert result.error is None and result.deletes_sent == 2
    deletes = [path for method, path in seen if method == "DELETE"]
    assert len(deletes) == 2 and not any(withheld["id"] in path for path in deletes)
    assert b.stored("shared") == []
