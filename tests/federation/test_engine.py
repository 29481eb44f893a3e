"""Federation in-process (the fast tier): independent hubs (each its own home, database, keys) wired together
with :class:`httpx.WSGITransport`, synced by their :class:`FederationService` engines.

Alice is a provider at hub A. Hubs pull from (or push to) each other; each collection requires
signatures and countersigns, so an object that went round carries one signature per hub.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.client.blocklist import build_blocklist
from hub.client.taxii import read_outcome
from hub.common.errors import BadRequest, Conflict
from hub.services.federation import Credentials
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.signing.documents import sign_objects, verify_objects
from hub.store.records import NewVersion, ObjectFilter
from tests.factories import indicator, ts
from tests.harness import BACKENDS, HubUnderTest

NAMES = ("a", "b", "c")


class Net:
    """Hubs by URL: the transport a federating hub reaches its peers through."""

    def __init__(self) -> None:
        self.hubs: dict[str, HubUnderTest] = {}
        self.broken: dict[str, httpx.BaseTransport] = {}

    def transport_for(self, peer: Any) -> httpx.BaseTransport:
        if peer.url in self.broken:
            return self.broken[peer.url]
        return self.hubs[peer.url].transport()


class Hubs(dict[str, HubUnderTest]):
    """The hubs A, B and C, each made on first use (most tests need two)."""

    def __init__(self, net: Net, folder: Path, backend: str) -> None:
        super().__init__()
        self.net, self.folder, self.backend = net, folder, backend

    def __missing__(self, name: str) -> HubUnderTest:
        others = {f"hub-{o}": "peer" for o in NAMES if o != name}
        parties = {**others, **({"alice": "provider"} if name == "a" else {})}
        grants = {p: (True, True) for p in parties}
        made = HubUnderTest.build(self.folder / name, parties=parties, grants={"shared": grants}, signed={"shared": True},
                                  keys_for=("alice",) if name == "a" else (), backend=self.backend, copied=True,
                                  base=f"http://127.0.0.1:{8100 + NAMES.index(name)}",
                                  toml="[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n"
                                       "[federation]\npage_size = 4\nmax_retries = 0\nmax_response_bytes = 1000000\n")
        made.hub.signer.prepare()  # as `abusehub init` does
        made.hub.federation.set_transport(self.net.transport_for)
        self.net.hubs[made.url] = made
        self[name] = made
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def items(self) -> Any:
        return [(name, self[name]) for name in NAMES]

    def values(self) -> Any:
        return [self[name] for name in NAMES]


@pytest.fixture()
def net(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Net, dict[str, HubUnderTest]]]:
    """Hubs A, B, C (made when first used); alice (with a key) at A. Every hub has a collection
    ``shared`` that requires signatures and countersigns; every other hub has a peer party with
    read and write there."""
    n = Net()
    hubs = Hubs(n, tmp_path, getattr(request, "param", "sqlite"))
    yield n, hubs
    for h in list(dict.values(hubs)):
        h.close()


def _peer(hubs: dict[str, HubUnderTest], here: str, there: str, tmp_path: Path) -> None:
    """Hub ``here`` adds hub ``there`` as a peer with the token ``there`` issued to it."""
    token_file = tmp_path / f"{here}-{there}.token"
    token_file.write_text(hubs[there].tokens[f"hub-{here}"] + "\n")
    hubs[here].hub.federation.peers.add(f"hub-{there}", hubs[there].url, Credentials(token=token_file.read_text()))


def _link(hubs: dict[str, HubUnderTest], here: str, there: str, direction: str, **kw: Any) -> int:
    fed = hubs[here].hub.federation
    link = fed.peers.add_link(f"hub-{there}", direction, hubs[there].collections["shared"],
                              hubs[here].collections["shared"], **kw)
    return link.pk


def _signed(hub: HubUnderTest, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sign_objects(objs, hub.keys["alice"], hub.identities["alice"])


def _post(hub: HubUnderTest, objs: list[dict[str, Any]]) -> None:
    with hub.client("alice") as c:
        outcome = read_outcome(c.submit(hub.collections["shared"], objs))
    assert outcome.refused == [] and len(outcome.stored) == len(objs)


def _objects(hub: HubUnderTest) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(i, v): orjson.loads(t) for i, v, t in hub.stored("shared")}


def _signers(obj: dict[str, Any]) -> list[str]:
    return [s["signer"] for s in obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]]


def _hub_identity(hub: HubUnderTest) -> str:
    return hub.hub.signer.ensure()[1]


def _pin_and_import(hubs: dict[str, HubUnderTest], here: str, there: str, identities: list[str]) -> None:
    fed = hubs[here].hub.federation
    for identity in identities:
        fed.peers.map_identity(f"hub-{there}", identity)
    report = fed.import_keys(f"hub-{there}")
    assert report.added or report.unchanged


def _sync(hubs: dict[str, HubUnderTest], rounds: int = 3) -> None:
    for _ in range(rounds):
        for name in NAMES:
            results = hubs[name].hub.federation.sync_once()
            assert all(r.error is None for r in results), [r.error for r in results]


def _ring(hubs: dict[str, HubUnderTest], tmp_path: Path) -> None:
    """B pulls from A, C pulls from B, A pulls from C; keys travel along the ring, pinned."""
    alice, ha, hb = hubs["a"].identities["alice"], _hub_identity(hubs["a"]), _hub_identity(hubs["b"])
    for here, there in (("b", "a"), ("c", "b"), ("a", "c")):
        _peer(hubs, here, there, tmp_path)
        _link(hubs, here, there, "pull")
    _pin_and_import(hubs, "b", "a", [alice])
    _pin_and_import(hubs, "c", "b", [alice, ha])
    # A learns B's and C's hub keys through C (the way objects come back to it).
    _pin_and_import(hubs, "a", "c", [hb])


@pytest.mark.parametrize("net", BACKENDS, indirect=True)
def test_a_three_hub_ring_converges_with_every_signature_verifying(net: tuple[Net, dict[str, HubUnderTest]],
                                                                   tmp_path: Path) -> None:
    _n, hubs = net
    _ring(hubs, tmp_path)
    alice = hubs["a"].identities["alice"]
    _post(hubs["a"], _signed(hubs["a"], [indicator(created_by_ref=alice) for _ in range(9)]))
    _sync(hubs)

    sets = {name: set(_objects(h)) for name, h in hubs.items()}
    assert sets["a"] == sets["b"] == sets["c"] and len(sets["a"]) == 9
    ids = {name: _hub_identity(h) for name, h in hubs.items()}
    for name, h in hubs.items():
        objs = list(_objects(h).values())
        verdicts = verify_objects(objs, h.hub.keys.keyset(), h.hub.clock())
        assert all(v.ok for v in verdicts), [v.reason for v in verdicts if not v.ok]
        # A's copies are its own; B's and C's carry each relay's countersignature in order.
        path = {"a": ["a"], "b": ["a", "b"], "c": ["a", "b", "c"]}[name]
        assert all(_signers(o) == [alice, *(ids[p] for p in path)] for o in objs)
    # Nothing was stored twice anywhere, and the pass after convergence moves nothing.
    for h in hubs.values():
        results = h.hub.federation.sync_once()
        assert all(r.stored == 0 and r.quarantined == 0 for r in results)
        assert len(h.stored("shared")) == 9


@pytest.mark.parametrize("net", BACKENDS, indirect=True)
def test_a_tampered_object_is_quarantined_and_the_others_arrive(net: tuple[Net, dict[str, HubUnderTest]],
                                                                tmp_path: Path) -> None:
    _n, hubs = net
    a, b = hubs["a"], hubs["b"]
    _peer(hubs, "b", "a", tmp_path)
    link = _link(hubs, "b", "a", "pull")
    alice = a.identities["alice"]
    _pin_and_import(hubs, "b", "a", [alice])
    before = _signed(a, [indicator(created_by_ref=alice) for _ in range(3)])
    _post(a, before)
    # Injected at A behind its ingest: a signed object whose content was changed afterwards.
    bad = _signed(a, [indicator(created_by_ref=alice)])[0]
    bad["confidence"] = 99
    col = a.hub.store.get_collection(a.collections["shared"])
    assert col is not None
    text = orjson.dumps(bad).decode()
    a.hub.store.add_versions(col.pk, a.hub.store.get_party("alice").pk,  # type: ignore[union-attr]
                             [NewVersion(bad["id"], "indicator", 1_767_225_600_000_000, bad["modified"], "2.1",
                                         text)], a.hub.clock())
    after = _signed(a, [indicator(created_by_ref=alice) for _ in range(3)])
    _post(a, after)

    (result,) = b.hub.federation.sync_once()
    assert result.error is None and result.stored == 6 and result.quarantined == 1
    assert {i for i, _ in _objects(b)} == {o["id"] for o in before + after}
    (held,) = b.hub.federation.quarantined()
    assert held.stix_id == bad["id"] and held.link_pk == link and held.json_text == text
    assert "does not verify" in held.reason
    # Pulled again from the start: nothing new is stored or held twice.
    b.hub.federation.store.set_link_cursor(link, None, b.hub.clock(), None)
    (again,) = b.hub.federation.sync_once()
    assert again.stored == 0 and again.already == 6 and again.quarantined == 0
    assert len(b.hub.federation.quarantined()) == 1
    status = {s.link.pk: s for s in b.hub.federation.status()}[link]
    assert status.quarantined == 1 and status.lag_objects == 0
    # Released, it fails again with the same reason and stays; dropped, it is gone.
    release = b.hub.federation.release(held.pk)
    assert not release.accepted and "does not verify" in (release.reason or "")
    b.hub.federation.drop(held.pk)
    assert b.hub.federation.quarantined() == []


def test_an_unknown_signer_is_quarantined_until_its_key_is_imported(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    _n, hubs = net
    a, b = hubs["a"], hubs["b"]
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "b", "a", "pull")
    alice = a.identities["alice"]
    _post(a, _signed(a, [indicator(created_by_ref=alice) for _ in range(2)]))
    (result,) = b.hub.federation.sync_once()
    assert result.quarantined == 2 and result.stored == 0
    held = b.hub.federation.quarantined()
    assert all("unknown" in h.reason for h in held), [h.reason for h in held]
    # The key set is read pinned: alice's key is ignored until alice is pinned to hub-a.
    report = b.hub.federation.import_keys("hub-a")
    assert a.keys["alice"].key_id in [k for k, _, _ in report.ignored]
    _pin_and_import(hubs, "b", "a", [alice])
    assert all(b.hub.federation.release(h.pk).accepted for h in held)
    assert len(_objects(b)) == 2 and b.hub.federation.quarantined() == []


def test_pinning_refuses_keys_a_peer_publishes_for_identities_pinned_elsewhere(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    _n, hubs = net
    c = hubs["c"]
    alice = hubs["a"].identities["alice"]
    # B publishes alice's key too (it imported it from A).
    _peer(hubs, "b", "a", tmp_path)
    _pin_and_import(hubs, "b", "a", [alice])
    _peer(hubs, "c", "a", tmp_path)
    _peer(hubs, "c", "b", tmp_path)
    c.hub.federation.peers.map_identity("hub-a", alice)
    with pytest.raises(Conflict, match="pinned to another peer"):
        c.hub.federation.peers.map_identity("hub-b", alice)
    report = c.hub.federation.import_keys("hub-b")
    assert report.added == [_key_of(hubs["b"])]  # only B's own hub key: it is pinned to hub-b
    ignored = {k: reason for k, _, reason in report.ignored}
    assert ignored[hubs["a"].keys["alice"].key_id] == "identity not pinned to peer hub-b"
    assert hubs["a"].keys["alice"].key_id not in {k.key_id for k in c.hub.keys.list()}
    # From hub-a, where alice is pinned, her key is taken.
    assert hubs["a"].keys["alice"].key_id in c.hub.federation.import_keys("hub-a").added


def _key_of(hub: HubUnderTest) -> str:
    return hub.hub.signer.ensure()[0].key_id


def test_two_hubs_pushing_to_each_other_do_not_loop(net: tuple[Net, dict[str, HubUnderTest]],
                                                     tmp_path: Path) -> None:
    _n, hubs = net
    a, b = hubs["a"], hubs["b"]
    alice = a.identities["alice"]
    _peer(hubs, "a", "b", tmp_path)
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "a", "b", "push")
    _link(hubs, "b", "a", "push")
    _pin_and_import(hubs, "b", "a", [alice])
    _pin_and_import(hubs, "a", "b", [])
    _post(a, _signed(a, [indicator(created_by_ref=alice) for _ in range(5)]))
    (pushed,) = a.hub.federation.sync_once()
    assert pushed.pushed == 5 and pushed.refused_by_peer == 0
    (back,) = b.hub.federation.sync_once()
    # B holds them as submitted by hub-a: none goes back to A.
    assert back.pushed == 0 and back.already == 0
    for h in (a, b):
        (r,) = h.hub.federation.sync_once()
        assert r.pushed == 0
    assert set(_objects(a)) == set(_objects(b)) and len(_objects(b)) == 5
    (status,) = a.hub.federation.status()
    assert status.lag_objects == 0 and status.link.last_success_us is not None


@pytest.mark.slow  # also covered, between served hubs, by tests/federation/test_processes.py
def test_a_revocation_reaches_every_hub_and_leaves_their_blocklists(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    _n, hubs = net
    _ring(hubs, tmp_path)
    alice = hubs["a"].identities["alice"]
    first = indicator(created_by_ref=alice, pattern="[ipv4-addr:value = '203.0.113.9']", created=ts(0))
    _post(hubs["a"], _signed(hubs["a"], [first]))
    _sync(hubs)
    for name, h in hubs.items():
        listed = _blocklist(h, tmp_path / f"{name}-1.jsonl")
        assert "203.0.113.9" in listed
    revoked = {**first, "modified": ts(30), "revoked": True}
    revoked.pop("extensions", None)
    _post(hubs["a"], _signed(hubs["a"], [revoked]))
    _sync(hubs)
    for name, h in hubs.items():
        assert len(h.stored("shared")) == 2
        assert "203.0.113.9" not in _blocklist(h, tmp_path / f"{name}-2.jsonl")


def _blocklist(hub: HubUnderTest, path: Path) -> set[str]:
    path.write_text("".join(t + "\n" for _, _, t in hub.stored("shared")))
    result = build_blocklist(path, at=ts(40))
    return {e.value for e in result.entries}


def test_a_peer_answering_garbage_or_5xx_does_not_stop_the_other_links(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    n, hubs = net
    a, b, c = hubs["a"], hubs["b"], hubs["c"]
    _peer(hubs, "c", "a", tmp_path)
    _peer(hubs, "c", "b", tmp_path)
    _link(hubs, "c", "b", "pull")
    _link(hubs, "c", "a", "pull")
    _pin_and_import(hubs, "c", "a", [a.identities["alice"]])
    _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(3)]))
    for answer in (httpx.Response(500, text="boom"),
                   httpx.Response(200, headers={"Content-Type": "application/taxii+json;version=2.1"},
                                  content=b"{not json"),
                   httpx.Response(200, headers={"Content-Type": "application/taxii+json;version=2.1"},
                                  content=b'{"more": true, "objects": []}')):
        n.broken[b.url] = httpx.MockTransport(lambda _req, answer=answer: answer)
        results = {r.peer: r for r in c.hub.federation.sync_once()}
        assert results["hub-b"].error is not None
        assert results["hub-a"].error is None
    assert len(_objects(c)) == 3
    statuses = {s.link.peer_name: s for s in c.hub.federation.status()}
    assert statuses["hub-b"].link.last_error and statuses["hub-b"].link.last_success_us is None
    assert statuses["hub-a"].link.last_error is None and statuses["hub-a"].lag_objects == 0


def test_bad_input_is_refused_and_nothing_is_stored(net: tuple[Net, dict[str, HubUnderTest]],
                                                    tmp_path: Path) -> None:
    _n, hubs = net
    fed = hubs["b"].hub.federation
    with pytest.raises(BadRequest, match="http"):
        fed.peers.add("x", "ftp://127.0.0.1/api/", Credentials(token="t"))
    with pytest.raises(BadRequest, match="credentials do not work"):
        fed.peers.add("hub-a", hubs["a"].url, Credentials(token="ahub_wrong"))
    assert fed.peers.all() == []
    assert not (hubs["b"].home / "federation" / "hub-a.token").exists()
    _peer(hubs, "b", "a", tmp_path)
    secret = hubs["b"].home / "federation" / "hub-a.token"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    local, remote = hubs["b"].collections["shared"], hubs["a"].collections["shared"]
    with pytest.raises(BadRequest, match="no collection"):
        fed.peers.add_link("hub-a", "pull", "no-such-collection", local)
    with pytest.raises(BadRequest, match="no collection"):
        fed.peers.add_link("hub-a", "pull", remote, "no-such-collection")
    with pytest.raises(BadRequest, match="max-tlp"):
        fed.peers.add_link("hub-a", "pull", remote, local, max_tlp="purple")
    assert fed.peers.links() == []


def test_a_full_mesh_converges_without_storing_anything_twice(net: tuple[Net, dict[str, HubUnderTest]],
                                                              tmp_path: Path) -> None:
    _n, hubs = net
    alice = hubs["a"].identities["alice"]
    for here in NAMES:
        for there in NAMES:
            if here != there:
                _peer(hubs, here, there, tmp_path)
                _link(hubs, here, there, "pull")
                _link(hubs, here, there, "push")
    # Alice is pinned to her own hub; each hub's countersigning key is pinned to it on `peer add`.
    for here in NAMES:
        for there in NAMES:
            if here != there:
                _pin_and_import(hubs, here, there, [alice] if there == "a" else [])
    _post(hubs["a"], _signed(hubs["a"], [indicator(created_by_ref=alice) for _ in range(6)]))
    _sync(hubs)
    sets = [set(_objects(h)) for h in hubs.values()]
    assert sets[0] == sets[1] == sets[2] and len(sets[0]) == 6
    for h in hubs.values():
        assert h.hub.federation.quarantined() == []
        assert all(r.stored == 0 and r.pushed == 0 for r in h.hub.federation.sync_once())


def test_a_push_link_keeps_to_its_types_and_tlp_ceiling(net: tuple[Net, dict[str, HubUnderTest]],
                                                        tmp_path: Path) -> None:
    _n, hubs = net
    a, b = hubs["a"], hubs["b"]
    alice = a.identities["alice"]
    _peer(hubs, "a", "b", tmp_path)
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "a", "b", "push", types=("indicator",), max_tlp="green")
    _pin_and_import(hubs, "b", "a", [alice])
    from hub.stix.markings import tlp_marking_id

    green = indicator(created_by_ref=alice, object_marking_refs=[tlp_marking_id("green")])
    amber = indicator(created_by_ref=alice, object_marking_refs=[tlp_marking_id("amber")])
    _post(a, _signed(a, [green, amber, _identity_of(alice)]))
    (r,) = a.hub.federation.sync_once()
    assert r.error is None and r.pushed == 1
    assert {i for i, _ in _objects(b)} == {green["id"]}


def test_a_push_link_sends_only_what_the_peers_party_may_read_and_passes_over_the_rest(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    """B's party at A does not enforce markings at first: it is sent GREEN, not AMBER, and not
    the DELETE of an AMBER object deleted since (that would tell it the id). The cursor passes
    over what was withheld: once B's party enforces markings and is of the organisation an
    AMBER object names, that object is still not sent, but the next one is."""
    n, hubs = net
    a, b = hubs["a"], hubs["b"]
    alice = a.identities["alice"]
    _peer(hubs, "a", "b", tmp_path)
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "a", "b", "push")
    _pin_and_import(hubs, "b", "a", [alice])
    deletes: list[str] = []  # what B is asked to delete

    def to_b(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            deletes.append(request.url.path)
        response = b.transport().handle_request(request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())

    n.broken[b.url] = httpx.MockTransport(to_b)
    from hub.stix.extensions import SHARING_EXTENSION_ID
    from hub.stix.markings import tlp_marking_id

    def marked(tlp: str, **sharing: list[str]) -> dict[str, Any]:
        ext = {SHARING_EXTENSION_ID: {"extension_type": "property-extension", **sharing}} if sharing else None
        return indicator(created_by_ref=alice, object_marking_refs=[tlp_marking_id(tlp)],
                         **({"extensions": ext} if ext else {}))

    green, amber, amber_b = marked("green"), marked("amber"), marked("amber", organisations=["USA.ORGB"])
    _post(a, _signed(a, [green, amber, amber_b]))  # the last two withheld, after all that is sent
    fed = a.hub.federation
    (r,) = fed.sync_once()
    assert r.error is None and r.pushed == 1
    assert {i for i, _ in _objects(b)} == {green["id"]}
    (row,) = fed.status()
    assert row.lag_objects == 0 and int(row.link.cursor or 0) > 0  # passed over the withheld ones

    with a.client("alice") as c:
        c.delete_object(a.collections["shared"], amber["id"])
        c.delete_object(a.collections["shared"], green["id"])
    (r,) = fed.sync_once()
    assert r.error is None and r.deletes_sent == 1
    assert len(deletes) == 1 and green["id"] in deletes[0]

    a.hub.admin.edit_party("hub-b", organisation="USA.ORGB", enforces_markings=True)
    (r,) = fed.sync_once()
    assert r.error is None and r.pushed == 0
    later = marked("amber", organisations=["USA.ORGB"])
    _post(a, _signed(a, [later]))
    (r,) = fed.sync_once()
    assert r.error is None and r.pushed == 1
    assert {i for i, _ in _objects(b)} == {later["id"]}


@pytest.mark.parametrize("net", BACKENDS, indirect=True)
def test_a_push_links_lag_counts_only_what_the_peer_may_read(net: tuple[Net, dict[str, HubUnderTest]],
                                                             tmp_path: Path) -> None:
    """B's party at A does not enforce markings: AMBER objects past the link's cursor are not
    lag (they will never be sent); GREEN ones are. A turn that ends on withheld objects leaves
    the cursor on the newest version of the collection."""
    from hub.stix.markings import tlp_marking_id

    _n, hubs = net
    a, b = hubs["a"], hubs["b"]
    alice = a.identities["alice"]
    _peer(hubs, "a", "b", tmp_path)
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "a", "b", "push")
    _pin_and_import(hubs, "b", "a", [alice])
    fed = a.hub.federation

    def marked(tlp: str) -> dict[str, Any]:
        return indicator(created_by_ref=alice, object_marking_refs=[tlp_marking_id(tlp)])

    def lag() -> int | None:
        (row,) = fed.status()
        return row.lag_objects

    _post(a, _signed(a, [marked("green")]))
    (r,) = fed.sync_once()
    assert r.error is None and r.pushed == 1 and lag() == 0
    _post(a, _signed(a, [marked("amber"), marked("amber")]))
    assert lag() == 0
    _post(a, _signed(a, [marked("green")]))
    assert lag() == 1
    # Five versions to send past the cursor, a page of four: the link records its lag after the
    # first page, counting the one GREEN left and none of the AMBER after it.
    _post(a, _signed(a, [marked("green") for _ in range(4)] + [marked("amber")]))
    assert lag() == 5
    stop = threading.Event()
    stop.set()  # the turn ends after its first page
    (link,) = a.hub.store.list_links()
    r = fed.engine.sync_link(link, stop=stop)
    assert r.error is None and r.pushed == 4
    (link,) = a.hub.store.list_links()
    assert link.lag_objects == 1 and lag() == 1
    (r,) = fed.sync_once()
    assert r.error is None and r.pushed == 1 and lag() == 0
    col = a.hub.store.get_collection(a.collections["shared"])
    assert col is not None
    newest = a.hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100).items[-1]
    assert int(fed.status()[0].link.cursor or 0) == newest.key  # passed over the last AMBER
    assert len(b.stored("shared")) == 6


def _identity_of(identity_id: str) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": identity_id, "created": ts(0), "modified": ts(0),
            "name": "Alice Cloud", "identity_class": "organization"}


def test_an_answer_over_the_size_limit_fails_that_link_only(net: tuple[Net, dict[str, HubUnderTest]],
                                                            tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n, hubs = net
    a, c = hubs["a"], hubs["c"]
    _peer(hubs, "c", "a", tmp_path)
    _peer(hubs, "c", "b", tmp_path)
    _link(hubs, "c", "b", "pull")
    _link(hubs, "c", "a", "pull")
    _pin_and_import(hubs, "c", "a", [a.identities["alice"]])
    _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(2)]))
    huge = b'{"objects": [' + b'{"type": "x"},' * 200_000 + b'{}]}'
    n.broken[hubs["b"].url] = httpx.MockTransport(lambda _req: httpx.Response(
        200, headers={"Content-Type": "application/taxii+json;version=2.1"}, content=huge))
    results = {r.peer: r for r in c.hub.federation.sync_once()}
    error = results["hub-b"].error or ""
    assert "larger than [federation] max_response_bytes = 1000000 bytes" in error
    assert "DecodingError" not in error and error in caplog.text
    assert results["hub-a"].error is None and results["hub-a"].stored == 2


def test_a_failing_link_waits_with_growing_backoff_while_the_others_go_on(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    n, hubs = net
    a, c = hubs["a"], hubs["c"]
    _peer(hubs, "c", "a", tmp_path)
    _peer(hubs, "c", "b", tmp_path)
    _link(hubs, "c", "b", "pull")
    _link(hubs, "c", "a", "pull")
    _pin_and_import(hubs, "c", "a", [a.identities["alice"]])

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    n.broken[hubs["b"].url] = httpx.MockTransport(down)
    engine = c.hub.federation.engine
    now = [1000.0]
    waits = []
    for _ in range(4):
        results = {r.peer: r for r in engine.run_once(now=lambda: now[0], honour_backoff=True)}
        assert results["hub-a"].error is None and not results["hub-a"].skipped
        assert results["hub-b"].error and c.hub.federation.store.get_link(results["hub-b"].link).last_error  # type: ignore[union-attr]
        # Until its wait is over, the failing link is skipped; the other one is not.
        skipped = {r.peer: r for r in engine.run_once(now=lambda: now[0], honour_backoff=True)}
        assert skipped["hub-b"].skipped and not skipped["hub-a"].skipped
        waits.append(engine._not_before[results["hub-b"].link] - now[0])
        now[0] += 10_000
    # Equal jitter: each wait lies between half and all of 1, 2, 4, 8 seconds.
    assert all(2 ** i / 2 <= w <= 2 ** i for i, w in enumerate(waits)), waits
    del n.broken[hubs["b"].url]
    results = {r.peer: r for r in engine.run_once(now=lambda: now[0], honour_backoff=True)}
    assert results["hub-b"].error is None and results["hub-b"].link not in engine._not_before
