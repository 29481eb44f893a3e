"""A hub copies a federation peer's token keys by itself (the token mode's key consistency; both
stores, the peer's HTTP API in-process): what a link's turn calls (``TokenService.copy_from_peer``)
fetches the peer's public directory through the turn's client, at most once an interval, at once
when the peer's epoch has changed since; a peer that serves no token keys is skipped; a key the
peer changes for an epoch copied before is refused, logged, audited, served as refused and shown
by ``token keys``."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete

from hub.client.http import HttpSession
from hub.client.taxii import TaxiiClient
from hub.client.tokens import check_key_consistency, fetch_directory, read_directory
from hub.common.canonical import b64url_encode
from hub.services.hub import Hub
from hub.store.submission_tokens import token_keys
from tests.harness import TEST_TOML, HubUnderTest
from tests.services.anonymity.test_tokens import DAY_S, TokenHub, th

__all__ = ["th"]  # the fixture, shared with test_tokens

INTERVAL_S = 3_600


def tailor_key(hub: Hub, epoch: int) -> None:
    """Play a hub that changes its published key for ``epoch``: its key is dropped, and the next
    request makes another."""
    with hub.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(delete(token_keys).where(token_keys.c.epoch == epoch))
    hub.tokens._issuers.clear()  # noqa: SLF001 - the served process forgets the key it had


class Moment:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def copier(th: TokenHub, hub_factory: Any) -> tuple[HubUnderTest, Moment]:
    """Hub B, whose links copy the token keys of the hub of ``th`` (A), on the same clock."""
    b = hub_factory(toml='[hub]\ntitle = "hub b"\n' + TEST_TOML + f"[federation]\ntoken_keys_interval = {INTERVAL_S}\n",
                    clock=th.clock)
    moment = Moment()
    b.hub.tokens.monotonic = moment
    assert b.hub.federation.engine.on_peer == b.hub.tokens.copy_from_peer
    return b, moment


def _turn(b: HubUnderTest, th: TokenHub, client: TaxiiClient | None = None) -> list[tuple[int, bool]] | None:
    """What a turn of B's link to A does for A's token keys, with the turn's client."""
    with client or th.hut.client() as c:
        return b.hub.tokens.copy_from_peer(SimpleNamespace(name="hub-a"), c)


def test_a_links_turn_copies_the_peers_keys_at_most_once_an_interval(th: TokenHub, copier: Any) -> None:
    b, moment = copier
    key = th.key()
    assert _turn(b, th) == [(key.epoch, True)]
    with HttpSession(b.url, transport=b.transport()) as http:  # as a provider's client reads it
        copy = fetch_directory(http, f"{b.url}anonymity/token-keys/copies/?issuer={key.issuer}")
    check_key_consistency(key, copy, "B's copy")
    # Within the interval, a turn fetches nothing.
    assert _turn(b, th) is None
    moment.now += INTERVAL_S
    assert _turn(b, th) == [(key.epoch, True)]
    # The peer's epoch ended since the last copy: copied at once, the interval not passed.
    th.clock.advance(DAY_S)
    assert _turn(b, th) == [(key.epoch + 1, True)]
    assert [c.epoch for c in b.hub.store.key_copies(key.issuer)] == [key.epoch, key.epoch + 1]
    # Audited when an epoch is new, not at every copy of what was known.
    b.hub.audit.flush()
    copied = [r.data["epochs"] for r in b.hub.audit.export() if r.kind == "submission-token.keys.copy"]
    assert copied == [[key.epoch], [key.epoch + 1]]


def test_links_to_one_peer_turning_at_once_copy_its_keys_once(th: TokenHub, copier: Any) -> None:
    b, _moment = copier
    th.key()
    start = threading.Barrier(4)
    answers: list[Any] = []

    def turn() -> None:
        with th.hut.client() as c:
            start.wait()
            answers.append(b.hub.tokens.copy_from_peer(SimpleNamespace(name="hub-a"), c))

    threads = [threading.Thread(target=turn) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a is None for a in answers) == [False, True, True, True]


def test_a_peer_that_serves_no_token_keys_is_skipped(th: TokenHub, copier: Any,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    b, _moment = copier
    nowhere = TaxiiClient(th.hut.base + "/no-such-root/", None, transport=th.hut.transport())
    with caplog.at_level(logging.WARNING):
        assert _turn(b, th, nowhere) is None
    assert b.hub.store.key_copies() == [] and not caplog.records


def test_a_peer_under_this_hubs_own_issuer_name_is_told_once_an_interval(
        th: TokenHub, hub_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    same = hub_factory(toml=TEST_TOML, clock=th.clock)  # the default title, as the hub of th
    moment = Moment()
    same.hub.tokens.monotonic = moment
    with caplog.at_level(logging.WARNING):
        assert _turn(same, th) is None
        assert _turn(same, th) is None
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1 and "this hub's own issuer name" in told[0] and "titles of their own" in told[0]
    assert same.hub.store.key_copies() == []


def test_a_key_the_peer_changes_is_refused_and_reported(th: TokenHub, copier: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    b, moment = copier
    key = th.key()
    assert _turn(b, th) == [(key.epoch, True)]
    tailor_key(th.hut.hub, key.epoch)
    other = th.key()
    assert other.epoch == key.epoch and other.key_id != key.key_id
    moment.now += INTERVAL_S
    with caplog.at_level(logging.WARNING):
        assert _turn(b, th) == [(key.epoch, False)]
    assert any("not the one copied before" in r.getMessage() for r in caplog.records)
    # The copy stays, the other key is served as refused and shown by 'token keys'.
    copy = b.hub.tokens.copies(key.issuer)
    check_key_consistency(key, copy, "B's copy")
    offered = b64url_encode(other.key_id)
    assert [(r["epoch"], r["token_key_id"]) for r in copy["refused"]] == [(key.epoch, offered)]
    report = b.hub.tokens.report()
    assert report["refused"] == copy["refused"] and [c["epoch"] for c in report["copies"]] == [key.epoch]
    # Audited once, however many turns see it again.
    moment.now += INTERVAL_S
    assert _turn(b, th) == [(key.epoch, False)]
    b.hub.audit.flush()
    events = [r for r in b.hub.audit.export() if r.kind == "submission-token.keys.conflict"]
    assert len(events) == 1 and events[0].data["offered"] == offered
    assert read_directory(th.hut.http.get(f"{th.hut.api}/anonymity/token-keys/").get_json()).key_id == other.key_id
