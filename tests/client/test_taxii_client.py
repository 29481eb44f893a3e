"""The TAXII 2.1 client library against a real hub, in-process.

Each hub is built by :func:`hub.server.create_app` over SQLite (and PostgreSQL when it runs) and
reached through :class:`httpx.WSGITransport`: the same client a provider runs against a remote
hub, without a server process. Middleware around the hub's app plays other TAXII servers (one
that pages by date only, one that pretty-prints, one that ignores ``added_after``); small WSGI
apps play servers that are not TAXII at all.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.client.envelope import ExactObject, json_line
from hub.client.errors import (
    AccessDenied,
    AuthenticationFailed,
    ClientError,
    ConnectionFailed,
    HubRefused,
    NotTaxii,
    ProtocolError,
    Redirected,
    ResourceNotFound,
)
from hub.client.taxii import TAXII_21, StatusResource, TaxiiClient, read_outcome
from hub.pseudonyms import PSEUDONYM_RE
from hub.signing import SigningKey
from tests.client.conftest import HubPerBackend, MakeHubs
from tests.client.wsgi_apps import Rewriting, Scripted, drop_query, without_next
from tests.factories import identity, indicator, ipv4, ts
from tests.harness import BACKENDS, HubUnderTest, free_port

PARTIES = {"alice": "provider", "soc": "agency", "eve": "provider"}
COLLECTIONS = {"feed": {"alice": (True, True), "soc": (True, False), "eve": (False, True)}}
TOKEN_PREFIX = "ahub_"


@pytest.fixture(scope="module")
def taxii_hubs(module_hubs: MakeHubs) -> HubPerBackend:
    return HubPerBackend(module_hubs, PARTIES)


@pytest.fixture()
def feed(taxii_hubs: HubPerBackend) -> HubUnderTest:
    """The module's SQLite hub with a new collection 'feed': alice writes, soc reads, eve may
    only write."""
    hub = taxii_hubs("sqlite")
    hub.add_collection("feed", COLLECTIONS["feed"])
    return hub


@pytest.fixture(params=BACKENDS)
def any_feed(request: pytest.FixtureRequest, taxii_hubs: HubPerBackend) -> HubUnderTest:
    """:func:`feed` on each store backend (PostgreSQL too, when it runs)."""
    hub = taxii_hubs(request.param)
    hub.add_collection("feed", COLLECTIONS["feed"])
    return hub


def post(h: HubUnderTest, objects: list[dict[str, Any]], party: str = "alice") -> StatusResource:
    with h.client(party) as client:
        status = client.add_objects(h.collections["feed"], objects)
    assert status.complete and not status.failures, status.failures
    return status


def some_objects(h: HubUnderTest, n: int) -> list[dict[str, Any]]:
    alice = h.identities["alice"]
    objects: list[dict[str, Any]] = [indicator(created_by_ref=alice) for _ in range(n - 2)]
    # Two more of other kinds: an observable (no timestamps) and an identity.
    return objects + [ipv4(f"198.51.100.{n}"), identity("Alice Cloud", alice)]


def client_over(h: HubUnderTest, app: Any, party: str = "soc", **kwargs: Any) -> TaxiiClient:
    return TaxiiClient(h.url, h.tokens[party], transport=httpx.WSGITransport(app=app), **kwargs)


# -- reading -----------------------------------------------------------------------------------


def test_discovery_api_root_and_collections(feed: HubUnderTest) -> None:
    col = feed.collections["feed"]
    with feed.client("soc") as client:
        assert client.discovery()["title"]
        info = client.api_root_information()
        assert TAXII_21 in info["versions"] and info["max_content_length"] > 0
        assert col in [c["id"] for c in client.collections()]
        one = client.collection(col)
        assert (one["id"], one["can_read"], one["can_write"]) == (col, True, False)
    with feed.client("eve") as client:
        assert client.collection(col)["can_write"] is True


def test_paging_by_next_keeps_each_objects_text_as_stored(any_feed: HubUnderTest) -> None:
    objects = some_objects(any_feed, 12)
    post(any_feed, objects[:7])
    post(any_feed, objects[7:])
    recorder = Rewriting(any_feed.app)
    with client_over(any_feed, recorder) as client:
        pages = list(client.pages(any_feed.collections["feed"], limit=5, versions=("all",)))
    assert [len(p.objects) for p in pages] == [5, 5, 2]
    assert [p.more for p in pages] == [True, True, False]
    # The second and third requests followed the server's 'next'.
    assert [dict(s.query).get("next") for s in recorder.seen] == [None, pages[0].next, pages[1].next]
    got = [o.text for p in pages for o in p.objects]
    assert got == [text for _, _, text in any_feed.stored("feed")]  # byte for byte, in order
    for page, body in zip(pages, recorder.bodies, strict=True):
        assert all(o.text in body.decode() for o in page.objects)
        assert page.date_added_last is not None


def test_paging_by_added_after_when_the_server_gives_no_next(any_feed: HubUnderTest) -> None:
    post(any_feed, some_objects(any_feed, 11))
    by_date = Rewriting(any_feed.app, answer=without_next)
    with client_over(any_feed, by_date) as client:
        pages = list(client.pages(any_feed.collections["feed"], limit=4, versions=("all",)))
    assert all(p.next is None for p in pages) and [len(p.objects) for p in pages] == [4, 4, 3]
    afters = [dict(s.query).get("added_after") for s in by_date.seen]
    assert afters == [None, pages[0].date_added_last, pages[1].date_added_last]
    assert [o.text for p in pages for o in p.objects] == [t for _, _, t in any_feed.stored("feed")]


def test_a_pretty_printing_server_gives_exact_slices(feed: HubUnderTest) -> None:
    post(feed, some_objects(feed, 4))
    pretty = Rewriting(feed.app, answer=lambda b: json.dumps(json.loads(b), indent=2).encode())
    with client_over(feed, pretty) as client:
        (page,) = client.pages(feed.collections["feed"], versions=("all",))
    body = pretty.bodies[0].decode()
    stored = feed.stored("feed")
    for obj, (_, _, text) in zip(page.objects, stored, strict=True):
        assert "\n" in obj.text and obj.text in body  # the server's own bytes, not a re-serialisation
        assert obj.data == orjson.loads(text)
        line = json_line(obj.text)
        assert line.count(b"\n") == 1 and orjson.loads(line) == obj.data


def test_resuming_from_the_last_date_added_gives_only_new_objects(feed: HubUnderTest) -> None:
    col = feed.collections["feed"]
    post(feed, some_objects(feed, 6))
    with feed.client("soc") as client:
        first = list(client.pages(col, limit=4, versions=("all",)))
        cursor = first[-1].date_added_last
        assert cursor is not None and not list(client.pages(col, added_after=cursor))[0].objects
        newer = [indicator(created_by_ref=feed.identities["alice"]) for _ in range(3)]
        post(feed, newer)
        again = [o for p in client.pages(col, added_after=cursor, limit=2) for o in p.objects]
    assert [o.id for o in again] == [o["id"] for o in newer]


def test_a_server_that_ignores_added_after_is_refused_not_duplicated(feed: HubUnderTest) -> None:
    col = feed.collections["feed"]
    post(feed, some_objects(feed, 6))
    broken = Rewriting(feed.app, answer=without_next, request=drop_query("added_after"))
    with client_over(feed, broken) as client:
        pages = client.pages(col, limit=3, versions=("all",))
        first = next(pages)
        assert len(first.objects) == 3
        with pytest.raises(ProtocolError, match="could repeat objects"):
            next(pages)


def test_manifest_pages(feed: HubUnderTest) -> None:
    post(feed, some_objects(feed, 7))
    col = feed.collections["feed"]
    with feed.client("soc") as client:
        entries, page_next = [], None
        while True:
            page = client.manifest(col, limit=3, next=page_next)
            entries += page.entries
            if not page.more:
                break
            page_next = page.next
    assert [(e.id, e.version) for e in entries] == [(i, v) for i, v, _ in feed.stored("feed")]
    assert all(e.date_added.endswith("Z") for e in entries)


# -- writing -----------------------------------------------------------------------------------


def test_submit_and_submit_again(any_feed: HubUnderTest) -> None:
    col = any_feed.collections["feed"]
    objects = some_objects(any_feed, 5)
    with any_feed.client("alice") as client:
        first = read_outcome(client.submit(col, objects))
        # Relaying exact texts: the same objects as the server sent them, posted again.
        texts = [o for p in client.pages(col, versions=("all",)) for o in p.objects]
        again = read_outcome(client.submit(col, texts))
        status = client.status(first.status_id)
    assert first.complete and sorted(first.stored) == sorted(o["id"] for o in objects)
    assert again.complete and not again.stored and sorted(again.already_stored) == sorted(first.stored)
    assert status.id == first.status_id and status.complete and status.total_count == 5


def test_submit_refuses_a_string_that_is_not_one_object(feed: HubUnderTest) -> None:
    with feed.client("alice") as client, pytest.raises(ClientError, match="object 1: not JSON"):
        client.add_objects(feed.collections["feed"], [ExactObject.parse('{"a": 1}'), '{"a": '])


# -- the hub's endpoints ------------------------------------------------------------------------


def test_pseudonymise_in_one_request(feed: HubUnderTest) -> None:
    recorder = Rewriting(feed.app)
    values = [("email", "holder@example.com"), ("phone", "+14155552671"), ("email", "other@example.org")]
    with client_over(feed, recorder, party="alice") as client:
        out = client.pseudonymise_in_clear(values)
        assert client.pseudonymise_in_clear([]) == []
        again = client.pseudonymise_in_clear(values[:1])
    assert len(recorder.seen) == 2  # one request per call with values; none for no values
    assert all(PSEUDONYM_RE.match(p) for p in out) and len(set(out)) == 3
    assert again == out[:1]


def test_key_set_is_public(feed: HubUnderTest) -> None:
    key = feed.hub.keys.add("alice", SigningKey.generate().public_key.to_jwk())
    with feed.client() as anonymous:
        keys = anonymous.key_set()["keys"]
    assert [(k["kid"], k["identity"]) for k in keys] == [(key.key_id, feed.identities["alice"])]


# -- errors ------------------------------------------------------------------------------------


def test_hub_errors_are_typed_and_name_what_to_do(feed: HubUnderTest) -> None:
    col = feed.collections["feed"]
    wrong = TaxiiClient(feed.url, "ahub_not-a-valid-token-0123456789", transport=feed.transport())
    with wrong, pytest.raises(AuthenticationFailed) as info:
        list(wrong.pages(col))
    assert f"polling collection {col}: the hub did not accept the token (401)" in str(info.value)
    assert "not-a-valid-token" not in str(info.value) and info.value.status == 401

    with feed.client("eve") as eve, pytest.raises(AccessDenied, match=f"no read access to collection {col} \\(403\\)"):
        eve.get_objects(col)
    with feed.client("soc") as soc:
        with pytest.raises(AccessDenied, match=f"no write access to collection {col} \\(403\\)"):
            soc.add_objects(col, some_objects(feed, 3))
        missing = "7d1b3a8e-2b43-4d59-9a4c-0e6f0c9d8a11"
        with pytest.raises(ResourceNotFound, match=f"no collection {missing} at {feed.url} \\(404\\)"):
            soc.get_objects(missing)
        with pytest.raises(ResourceNotFound, match="no status"):
            soc.status(missing)
    for exc in (info.value,):
        assert "\n" not in str(exc)


def test_a_refused_pseudonym_request_does_not_echo_the_values(feed: HubUnderTest) -> None:
    with feed.client("alice") as client, pytest.raises(HubRefused) as info:
        client.pseudonymise_in_clear([("shoe-size", "holder@example.com")])
    assert info.value.status == 400 and "pseudonymising through the hub" in str(info.value)
    assert "holder@" not in str(info.value)


HTML = {"Content-Type": "text/html"}


@pytest.mark.parametrize(("status", "error", "fragments"), [
    (200, NotTaxii, ["did not answer as a TAXII 2.1 server", "text/html", "is --url the API root"]),
    (404, ResourceNotFound, ["no collection c1 at http://127.0.0.1/api/ (404)", "is --url the API root"]),
    (500, HubRefused, ["the hub answered 500: Internal Server Error; is --url the API root"]),
])
def test_answers_that_are_not_taxii(status: int, error: type[ClientError], fragments: list[str]) -> None:
    app = Scripted([(status, HTML, b"<html><body>Welcome</body></html>")])
    with TaxiiClient("http://127.0.0.1/api/", "ahub_x", transport=httpx.WSGITransport(app=app)) as client:
        with pytest.raises(error) as info:
            client.get_objects("c1")
    for fragment in fragments:
        assert fragment in str(info.value)


def test_redirects_are_not_followed() -> None:
    app = Scripted([(302, {"Location": "https://elsewhere.example/api/"}, b"")])
    with TaxiiClient("http://127.0.0.1/api/", "ahub_secret", transport=httpx.WSGITransport(app=app)) as client:
        with pytest.raises(Redirected) as info:
            client.collections()
    assert len(app.seen) == 1 and info.value.location == "https://elsewhere.example/api/"
    assert "redirects to https://elsewhere.example/api/ (302)" in str(info.value)


def test_the_token_goes_to_the_api_root_only() -> None:
    body = orjson.dumps({"keys": [], "title": "t", "collections": []})
    app = Scripted([(200, {"Content-Type": TAXII_21}, body)])
    with TaxiiClient("http://127.0.0.1/api/", "ahub_secret", transport=httpx.WSGITransport(app=app)) as client:
        client.collections()
        client.discovery()  # the same server's /taxii2/
        client.key_set("http://127.0.0.1/other/keys/")
        client.key_set()
        client.discovery("http://127.0.0.1/elsewhere/taxii2/")
    auth = [(s.path, s.headers.get("Authorization")) for s in app.seen]
    assert auth == [("/api/collections/", "Bearer ahub_secret"), ("/taxii2/", "Bearer ahub_secret"),
                    ("/other/keys/", None), ("/api/keys/", None), ("/elsewhere/taxii2/", None)]


def test_plain_http_only_to_this_machine() -> None:
    with pytest.raises(ClientError, match="plain http to another machine: the token would travel"):
        TaxiiClient("http://hub.example/api/", "ahub_x")
    TaxiiClient("http://hub.example/api/", "ahub_x", unsafe_plain_http=True).close()
    TaxiiClient("https://hub.example/api/", "ahub_x").close()
    with pytest.raises(ClientError, match="must not carry credentials") as info:
        TaxiiClient("https://me:ahub_x@hub.example/api/")
    assert "ahub_x" not in str(info.value)


def test_nothing_listening() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"
    with TaxiiClient(url, "ahub_x") as client, pytest.raises(ConnectionFailed) as info:
        client.collections()
    assert str(info.value) == f"listing collections: cannot reach the hub at {url} (connection refused)"


class _Recording(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.requests.append((self.path, dict(self.headers)))
        body = orjson.dumps({"collections": []})
        self.send_response(200)
        self.send_header("Content-Type", TAXII_21)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def loopback_server() -> Iterator[tuple[int, type[_Recording]]]:
    handler = type("Handler", (_Recording,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def test_proxies_and_netrc_from_the_environment_are_ignored(
        loopback_server: tuple[int, type[_Recording]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, handler = loopback_server
    with socket.socket() as s:  # a proxy address where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password from-netrc\n")
    monkeypatch.setenv("NETRC", str(netrc))
    with TaxiiClient(f"http://127.0.0.1:{port}/api/", "ahub_x") as client:
        assert client.collections() == []
    ((path, headers),) = handler.requests
    assert path == "/api/collections/" and headers["Authorization"] == "Bearer ahub_x"
    # Without a token, nothing from .netrc is sent either.
    with TaxiiClient(f"http://127.0.0.1:{port}/api/") as client:
        client.collections()
    assert "Authorization" not in handler.requests[1][1]


# -- following a status --------------------------------------------------------------------------


def _status(state: str, **extra: Any) -> bytes:
    return orjson.dumps({"id": "s1", "status": state, "total_count": 1, **extra})


class FakeTime:
    """A clock that moves only when the client sleeps; records the sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_follow_status_until_complete() -> None:
    done = _status("complete", successes=[{"id": "x", "message": "stored"}])
    app = Scripted([(202, {"Content-Type": TAXII_21}, _status("pending", pendings=[{"id": "x"}])),
                    (200, {"Content-Type": TAXII_21}, _status("pending", pendings=[{"id": "x"}])),
                    (200, {"Content-Type": TAXII_21}, _status("pending", pendings=[{"id": "x"}])),
                    (200, {"Content-Type": TAXII_21}, done)])
    t = FakeTime()
    with TaxiiClient("http://127.0.0.1/api/", "ahub_x", transport=httpx.WSGITransport(app=app),
                     sleep=t.sleep, clock=t.clock) as client:
        final = client.submit("c1", [{"type": "x"}], wait=100)
    assert final.complete and read_outcome(final).stored == ["x"]
    assert [(s.method, s.path) for s in app.seen] == [
        ("POST", "/api/collections/c1/objects/"), *[("GET", "/api/status/s1/")] * 3]
    assert app.seen[0].headers["Content-Type"] == TAXII_21 and app.seen[0].headers["Accept"] == TAXII_21
    assert t.sleeps == [0.5, 1.0, 2.0]


def test_follow_status_gives_up_at_its_deadline() -> None:
    app = Scripted([(200, {"Content-Type": TAXII_21}, _status("pending", pendings=[{"id": "x"}]))])
    t = FakeTime()
    with TaxiiClient("http://127.0.0.1/api/", "ahub_x", transport=httpx.WSGITransport(app=app),
                     sleep=t.sleep, clock=t.clock) as client:
        last = client.follow_status(client.status("s1"), timeout=10)
    assert not last.complete and read_outcome(last).pending == ["x"]
    assert sum(t.sleeps) == pytest.approx(10) and t.sleeps[:4] == [0.5, 1.0, 2.0, 4.0]


def test_a_status_without_id_is_not_taxii() -> None:
    app = Scripted([(202, {"Content-Type": TAXII_21}, b'{"title": "accepted"}')])
    with TaxiiClient("http://127.0.0.1/api/", "ahub_x", transport=httpx.WSGITransport(app=app)) as client:
        with pytest.raises(NotTaxii, match="submitting to collection c1"):
            client.add_objects("c1", [{"type": "x"}])


def test_read_outcome_sorts_a_status() -> None:
    outcome = read_outcome({
        "id": "s1", "status": "complete",
        "successes": [{"id": "a", "message": "stored"}, {"id": "b", "message": "already stored: not added again"}],
        "failures": [{"id": "c", "message": "signature does not verify:\n object changed"}],
        "pendings": [],
    })
    assert outcome.complete and outcome.stored == ["a"] and outcome.already_stored == ["b"]
    assert outcome.refused == [("c", "signature does not verify: object changed")]


def test_timestamps_of_pages_are_checked() -> None:
    envelope = b'{"more": true, "objects": [{"type": "x", "id": "x--1"}]}'
    app = Scripted([(200, {"Content-Type": TAXII_21, "X-TAXII-Date-Added-First": "yesterday",
                           "X-TAXII-Date-Added-Last": "yesterday"}, envelope)])
    with TaxiiClient("http://127.0.0.1/api/", "ahub_x", transport=httpx.WSGITransport(app=app)) as client:
        with pytest.raises(ProtocolError, match="bad paging value"):
            list(client.pages("c1", added_after=ts(0)))
