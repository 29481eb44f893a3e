"""Each link's turn in a thread of its own (the fast tier, in-process hubs as in test_engine): a
peer that does not answer holds up only its own link; a turn ends at its deadline after its
current page and goes on next turn; stopping never waits for a peer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.factories import indicator
from tests.federation.test_engine import Net, _link, _objects, _peer, _pin_and_import, _post, _signed, net
from tests.harness import HubUnderTest

__all__ = ["net"]  # the fixture, shared with test_engine


class Stalled(httpx.BaseTransport):
    """A peer that takes every request and answers none until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.asked = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.set()
        self.release.wait(timeout=60)
        raise httpx.ReadTimeout("no answer", request=request)


class Slow(httpx.BaseTransport):
    """A peer that answers, each answer ``delay`` seconds late."""

    def __init__(self, inner: httpx.BaseTransport, delay: float) -> None:
        self.inner, self.delay, self.requests = inner, delay, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        time.sleep(self.delay)
        return self.inner.handle_request(request)


def _wait(done: object, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if callable(done) and done():
            return True
        time.sleep(0.05)
    return False


def _two_links(n: Net, hubs: dict[str, HubUnderTest], tmp_path: Path) -> Stalled:
    """C pulls from B (stalled, its link first) and from A; A holds three of alice's objects."""
    a = hubs["a"]
    _peer(hubs, "c", "b", tmp_path)
    _peer(hubs, "c", "a", tmp_path)
    _link(hubs, "c", "b", "pull")
    _link(hubs, "c", "a", "pull")
    _pin_and_import(hubs, "c", "a", [a.identities["alice"]])
    _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(3)]))
    stalled = Stalled()
    n.broken[hubs["b"].url] = stalled
    return stalled


def test_a_stalled_peer_holds_up_only_its_own_link_and_stopping_does_not_wait_for_it(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    n, hubs = net
    c = hubs["c"]
    stalled = _two_links(n, hubs, tmp_path)
    stop = threading.Event()
    left: list[int] = []
    loop = threading.Thread(target=lambda: left.append(c.hub.federation.engine.run_forever(0.2, stop)))
    loop.start()
    try:
        assert _wait(stalled.asked.is_set)
        # The link to A delivers while the link to B waits for an answer that does not come.
        assert _wait(lambda: len(_objects(c)) == 3), "the link to A waited for the stalled peer"
        a = hubs["a"]
        _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"])]))
        assert _wait(lambda: len(_objects(c)) == 4), "the link to A stopped while the other one waited"
        assert not stalled.release.is_set()
        asked = time.monotonic()
        stop.set()
        loop.join(timeout=30)
        assert not loop.is_alive() and left == [1]  # the turn waiting for B was left behind
        assert time.monotonic() - asked < 10
    finally:
        stop.set()
        stalled.release.set()
        loop.join(timeout=30)


def test_one_pass_runs_the_links_side_by_side(net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    n, hubs = net
    c = hubs["c"]
    stalled = _two_links(n, hubs, tmp_path)
    results: list[object] = []
    once = threading.Thread(target=lambda: results.extend(c.hub.federation.sync_once()))
    once.start()
    try:
        # While the turn of the link to B waits, the one of the link to A has already stored.
        assert _wait(lambda: len(_objects(c)) == 3), "the link to A waited for the link to B"
    finally:
        stalled.release.set()
        once.join(timeout=30)
    by_peer = {r.peer: r for r in results}  # type: ignore[attr-defined]
    assert [r.link for r in results] == sorted(r.link for r in results)  # type: ignore[attr-defined]
    assert by_peer["hub-a"].error is None and by_peer["hub-a"].stored == 3
    assert "no answer in time" in (by_peer["hub-b"].error or "")


def test_a_turn_past_its_deadline_ends_after_its_page_and_the_link_goes_on_next_turn(
        net: tuple[Net, dict[str, HubUnderTest]], tmp_path: Path) -> None:
    n, hubs = net
    a, b = hubs["a"], hubs["b"]
    _peer(hubs, "b", "a", tmp_path)
    _link(hubs, "b", "a", "pull")
    _pin_and_import(hubs, "b", "a", [a.identities["alice"]])
    _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(20)]))  # 5 pages
    slow = Slow(a.transport(), 0.3)
    n.broken[a.url] = slow
    engine = b.hub.federation.engine
    engine.deadline = 0.5
    (first,) = engine.run_once()
    # Ended by its deadline, not by an error: what it stored is committed, the cursor moved.
    assert first.error is None and 0 < first.stored < 20
    (row,) = b.hub.federation.status()
    assert row.link.cursor is not None and row.link.last_success_us is not None
    stored, turns = first.stored, 1
    while stored < 20 and turns < 20:
        (r,) = engine.run_once()
        assert r.error is None and r.already == 0
        stored, turns = stored + r.stored, turns + 1
    assert stored == 20 and len(_objects(b)) == 20 and turns > 1
