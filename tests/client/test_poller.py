"""The poller over the client library, in-process: a real hub app behind httpx.WSGITransport.

Every check compares the JSON-lines file with what the hub stored: the same object versions,
in the same order, byte for byte, with a cursor that records exactly what is on disk. The
subprocess tier (``abusehub poll`` killed mid-page, behind a gate) is ``test_poll.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.client import poll as poll_module
from hub.client.envelope import json_line
from hub.client.errors import ClientError, ConnectionFailed, ProtocolError
from hub.client.poll import Poller, poll_collection, split_envelope
from hub.client.taxii import TaxiiClient
from hub.client.verify import KeySource, ObjectVerifier, read_failures
from hub.signing import sign_object
from tests.client.conftest import HubPerBackend, MakeHubs
from tests.client.wsgi_apps import Rewriting, drop_query, without_next
from tests.factories import indicator, ipv4, ts
from tests.harness import BACKENDS, HubUnderTest


@pytest.fixture(scope="module")
def poll_hubs(module_hubs: MakeHubs) -> HubPerBackend:
    return HubPerBackend(module_hubs, {"alice": "provider", "soc": "agency"}, keys_for=("alice",))


@pytest.fixture()
def feed(poll_hubs: HubPerBackend) -> HubUnderTest:
    """The module's SQLite hub with a new collection 'feed': alice (her signing key registered)
    writes and reads it, soc reads it."""
    hub = poll_hubs("sqlite")
    hub.add_collection("feed", {"alice": (True, True), "soc": (True, False)})
    return hub


@pytest.fixture(params=BACKENDS)
def any_feed(request: pytest.FixtureRequest, poll_hubs: HubPerBackend) -> HubUnderTest:
    """:func:`feed` on each store backend (PostgreSQL too, when it runs)."""
    hub = poll_hubs(request.param)
    hub.add_collection("feed", {"alice": (True, True), "soc": (True, False)})
    return hub


def post(h: HubUnderTest, alias: str, objects: list[dict[str, Any]]) -> None:
    with h.client("alice") as client:
        status = client.add_objects(h.collections[alias], objects)
    assert status.complete and not status.failures, status.failures


def indicators(h: HubUnderTest, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [indicator(created_by_ref=h.identities["alice"], **extra) for _ in range(n)]


def cursor_of(out: Path) -> dict[str, Any]:
    return json.loads(out.with_name(out.name + ".cursor").read_text())


def assert_mirror(h: HubUnderTest, alias: str, out: Path) -> None:
    expected = [text for _, _, text in h.stored(alias)]
    lines = out.read_bytes().decode().split("\n")[:-1]
    assert lines == expected  # every version, once, in date_added order, as the hub stored it
    cursor = cursor_of(out)
    assert cursor["count"] == len(expected) and cursor["offset"] == out.stat().st_size


class FailingTransport(httpx.BaseTransport):
    """A hub's app, except that the ``fail_on``-th GET of objects fails as a dropped network would."""

    def __init__(self, app: Any, fail_on: int) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.fail_on = fail_on
        self.gets = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/objects/"):
            self.gets += 1
            if self.gets == self.fail_on:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)


def test_full_pull_then_only_new_objects(any_feed: HubUnderTest, tmp_path: Path) -> None:
    post(any_feed, "feed", indicators(any_feed, 7) + [ipv4("198.51.100.200")])
    out = tmp_path / "feed.jsonl"
    pages: list[int] = []
    with any_feed.client("soc") as client:
        result = poll_collection(client, any_feed.collections["feed"], out, limit=3, on_page=pages.append)
        assert (result.fetched, result.pages, result.total, pages) == (8, 3, 8, [3, 3, 2])
        assert result.complete and not result.resumed
        assert_mirror(any_feed, "feed", out)
        before = out.read_bytes()

        post(any_feed, "feed", indicators(any_feed, 2))
        again = poll_collection(client, any_feed.collections["feed"], out, limit=3)
        assert (again.fetched, again.total, again.resumed) == (2, 10, True)
        assert out.read_bytes().startswith(before)
        assert_mirror(any_feed, "feed", out)
        assert poll_collection(client, any_feed.collections["feed"], out).fetched == 0


def test_a_server_without_next_pages_by_date(feed: HubUnderTest, tmp_path: Path) -> None:
    post(feed, "feed", indicators(feed, 9))
    out = tmp_path / "by-date.jsonl"
    by_date = Rewriting(feed.app, answer=without_next)
    with TaxiiClient(feed.url, feed.tokens["soc"], transport=httpx.WSGITransport(app=by_date)) as client:
        result = poll_collection(client, feed.collections["feed"], out, limit=4)
    assert result.pages == 3 and all("next" not in dict(s.query) for s in by_date.seen)
    assert_mirror(feed, "feed", out)


def test_lines_written_but_not_recorded_are_fetched_again_once(feed: HubUnderTest, tmp_path: Path) -> None:
    post(feed, "feed", indicators(feed, 12))
    out = tmp_path / "crash.jsonl"
    with feed.client("soc") as client:
        poll_collection(client, feed.collections["feed"], out, limit=5)
        first_page = client.get_objects(feed.collections["feed"], limit=5, versions=("all",))
    # The cursor as it stood after the first page, as if the process died after writing (and
    # fsyncing) the lines of pages 2 and 3 but before recording them; and half a line after that.
    cursor = cursor_of(out)
    cursor.update(added_after=first_page.date_added_last, count=5,
                  offset=sum(len(json_line(o.text)) for o in first_page.objects))
    out.with_name(out.name + ".cursor").write_text(json.dumps(cursor))
    with out.open("ab") as f:
        f.write(b'{"type":"indicator","spec_version":"2.1","id":"indicator--')
    with feed.client("soc") as client:
        result = poll_collection(client, feed.collections["feed"], out, limit=5)
    assert result.fetched == 7 and result.discarded_bytes > 0
    assert_mirror(feed, "feed", out)


def test_network_error_mid_pull_keeps_what_was_written(feed: HubUnderTest, tmp_path: Path) -> None:
    post(feed, "feed", indicators(feed, 14))
    out = tmp_path / "net.jsonl"
    failing = TaxiiClient(feed.url, feed.tokens["soc"], transport=FailingTransport(feed.app, fail_on=3))
    poller = Poller(failing, feed.collections["feed"], out, limit=5)
    with failing, pytest.raises(ConnectionFailed, match="cannot reach the hub at .* \\(connection refused\\)"):
        poller.run()
    assert poller.result.fetched == 10 and not poller.result.complete and cursor_of(out)["count"] == 10
    with feed.client("soc") as client:
        result = poll_collection(client, feed.collections["feed"], out, limit=5)
    assert result.fetched == 4 and result.resumed
    assert_mirror(feed, "feed", out)


def test_a_server_that_repeats_objects_writes_nothing_of_that_page(feed: HubUnderTest, tmp_path: Path) -> None:
    post(feed, "feed", indicators(feed, 6))
    out = tmp_path / "repeat.jsonl"
    broken = Rewriting(feed.app, answer=without_next, request=drop_query("added_after"))
    with TaxiiClient(feed.url, feed.tokens["soc"], transport=httpx.WSGITransport(app=broken)) as client:
        poller = Poller(client, feed.collections["feed"], out, limit=4)
        with pytest.raises(ProtocolError, match="could repeat objects"):
            poller.run()
    assert poller.result.fetched == 4 and cursor_of(out)["count"] == 4
    assert out.read_bytes().count(b"\n") == 4


def test_signatures_are_checked_page_by_page(feed: HubUnderTest, tmp_path: Path) -> None:
    alice, key = feed.identities["alice"], feed.keys["alice"]
    good = [sign_object(o, key, alice) for o in indicators(feed, 3)]
    bad = sign_object(indicators(feed, 1)[0], key, alice)
    bad["pattern"] = "[ipv4-addr:value = '192.0.2.66']"
    plain = indicators(feed, 1)[0]
    post(feed, "feed", [*good, bad, plain])
    out = tmp_path / "checked.jsonl"
    with feed.client("soc") as client:
        auto = ObjectVerifier("auto", KeySource(client.api + "keys/", client))
        result = poll_collection(client, feed.collections["feed"], out, limit=2, verifier=auto)
        strict = ObjectVerifier("require", KeySource(client.api + "keys/", client))
        poll_collection(client, feed.collections["feed"], tmp_path / "strict.jsonl", verifier=strict)
    tally = result.signatures
    assert (tally.verified, tally.unsigned, [f.id for f in tally.failed]) == (3, 1, [bad["id"]])
    assert "signature does not verify" in tally.failed[0].reason
    assert read_failures(out.with_name(out.name + ".failed")) == {(bad["id"], bad["modified"])}
    assert_mirror(feed, "feed", out)  # written all the same: the file mirrors the collection
    assert strict.tally.verified == 3 and {f.id for f in strict.tally.failed} == {bad["id"], plain["id"]}


def test_keys_that_cannot_be_fetched_stop_the_poll_early(feed: HubUnderTest, tmp_path: Path) -> None:
    post(feed, "feed", indicators(feed, 2))
    with feed.client("soc") as client:
        verifier = ObjectVerifier("require", KeySource(client.api + "nokeys/", client))
        with pytest.raises(ClientError, match="fetching the signing keys from .*nokeys/.*--no-verify"):
            poll_collection(client, feed.collections["feed"], tmp_path / "k.jsonl", verifier=verifier)
    assert not (tmp_path / "k.jsonl.cursor").exists()


def test_split_envelope_keeps_each_object_text_as_sent() -> None:
    text = '{ "more" : true,\n "objects": [ {"id": "a--1", "x": [1, 2]},\n  {"id":"b"} ], "next": "n1" }'
    members, objects = split_envelope(text)
    assert members == {"more": True, "next": "n1"}
    assert [t for t, _ in objects] == ['{"id": "a--1", "x": [1, 2]}', '{"id":"b"}']
    assert objects[0][1] == {"id": "a--1", "x": [1, 2]}
    assert json_line('{"a":\n 1}') == b'{"a":  1}\n'
    assert orjson.loads(json_line('{"a":\r\n "x\\ny"}')) == {"a": "x\ny"}
    for bad in ("[]", '{"title": "a discovery document"}', '{"objects": {}}', '{"objects": [1]}',
                '{"more": false} trailing', "", '{"objects": [{"a": NaN}]}'):
        with pytest.raises(ValueError):
            split_envelope(bad)


def test_poller_refuses_bad_arguments(tmp_path: Path) -> None:
    for url, fragment in [("hub.example/api", "not an http(s) URL"),
                          ("https://u:p@hub.example/api/", "must not carry credentials")]:
        with pytest.raises(ClientError, match=re.escape(fragment)):
            TaxiiClient(url)
    with TaxiiClient("https://hub.example/api/") as client:
        for kwargs, fragment in [({"types": ["Indicator"]}, "not a STIX type name"),
                                 ({"since": "2025-13-01T00:00:00Z"}, "--since"),
                                 ({"limit": 0}, "--limit")]:
            with pytest.raises(ClientError, match=re.escape(fragment)):
                Poller(client, "c", tmp_path / "x.jsonl", **kwargs)
        with pytest.raises(ClientError, match="--collection"):
            Poller(client, " ", tmp_path / "x.jsonl")


def test_the_output_file_is_locked_while_a_run_writes_it(feed: HubUnderTest, tmp_path: Path) -> None:
    out = tmp_path / "locked.jsonl"
    held = poll_module._Output(out)
    try:
        with feed.client("soc") as client, pytest.raises(ClientError, match=f"another poll is writing {out}"):
            poll_collection(client, feed.collections["feed"], out)
    finally:
        held.close()


def test_since_counts_on_the_first_run_only(feed: HubUnderTest, tmp_path: Path) -> None:
    for obj in indicators(feed, 4):
        post(feed, "feed", [obj])
    with feed.client("soc") as client:
        added = [e.date_added for e in client.manifest(feed.collections["feed"]).entries]
        out = tmp_path / "since.jsonl"
        first = poll_collection(client, feed.collections["feed"], out, since=added[1])
        assert first.fetched == 2 and cursor_of(out)["added_after"] == added[-1]
        post(feed, "feed", indicators(feed, 1, created=ts(3), modified=ts(3)))
        second = poll_collection(client, feed.collections["feed"], out, since=added[0])
    assert second.since_ignored and second.fetched == 1
    assert out.read_bytes().decode().split("\n")[:-1] == [t for _, _, t in feed.stored("feed")[2:]]
