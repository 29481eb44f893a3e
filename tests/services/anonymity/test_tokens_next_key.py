"""The next epoch's token key, published ahead of its start (the token mode, both stores, the HTTP
API in-process, the hub's clock moved by hand): within the last hours of an epoch the directory
shows the next epoch's key too, made by the first request that needs it; providers may be issued
tokens of it, counted against the next epoch's allowance and redeemed through the next epoch,
not before it begins; the current epoch's spent tokens stay spent when the next key is made; a
peer hub's copy holds both keys; a token of a past epoch stays refused."""

from __future__ import annotations

from typing import Any

import pytest

from hub.cli.tokens import _checked_key
from hub.client.errors import ClientError
from hub.client.tokens import (
    check_key_consistency,
    fetch_directory,
    fetch_tokens,
    read_directory,
    read_next_key,
)
from hub.common.canonical import b64url_encode
from hub.common.timestamps import format_timestamp_us
from tests.harness import TEST_TOML
from tests.services.anonymity.test_tokens import DAY_S, PER_EPOCH, TokenHub, _refused, th

__all__ = ["th"]  # the fixture, shared with test_tokens

HOUR_S = 3_600
#: The fixture's epochs are one day long: the next key is published half a day ahead (the lead
#: is at most half an epoch).
LEAD_S = 12 * HOUR_S


def _until_epoch_end(th: TokenHub) -> float:
    """Seconds from the hub's clock to the end of its current epoch."""
    epoch_us = DAY_S * 1_000_000
    return ((th.clock.now // epoch_us + 1) * epoch_us - th.clock.now) / 1_000_000


def _into_the_lead(th: TokenHub) -> None:
    """Move the hub's clock to 2 hours before a lead begins, check no next key shows, then 4 hours
    on: within the last hours of the epoch."""
    left = _until_epoch_end(th)
    if left < LEAD_S + 2 * HOUR_S:
        th.clock.advance(left)  # the start of the next epoch
    th.clock.advance(_until_epoch_end(th) - LEAD_S - 2 * HOUR_S)
    assert "next_key" not in _directory(th)
    th.clock.advance(4 * HOUR_S)


def _directory(th: TokenHub) -> dict[str, Any]:
    with th.session() as http:
        return fetch_directory(http, f"{http.api}anonymity/token-keys/")


def _next_tokens(th: TokenHub, party: str, count: int) -> list[Any]:
    key = read_next_key(_directory(th))
    assert key is not None
    with th.session(party) as http:
        return fetch_tokens(http, key, count)


def test_the_next_key_is_published_within_the_last_hours_of_an_epoch(th: TokenHub) -> None:
    _into_the_lead(th)
    doc = _directory(th)
    current, upcoming = read_directory(doc), read_next_key(doc)
    assert upcoming is not None and upcoming.epoch == current.epoch + 1 and upcoming.key_id != current.key_id
    assert doc["keys"] == [doc["keys"][0]]  # the current key alone in "keys", as clients read it
    assert doc["next_key"]["not_before"] == doc["keys"][0]["not_after"]
    end_us = (current.epoch + 1) * DAY_S * 1_000_000
    assert doc["next_key_published"] == format_timestamp_us(end_us - LEAD_S * 1_000_000)
    # Made once, by the first request that needed it, and stored for every host.
    row = th.hut.hub.store.token_key(upcoming.epoch)
    assert row is not None and row.sealed_private and row.token_key_id == upcoming.key_id.hex()
    assert _directory(th)["next_key"] == doc["next_key"]
    # When its epoch begins it is the current key: the same one.
    th.clock.advance(_until_epoch_end(th))
    after = _directory(th)
    assert read_directory(after).key_id == upcoming.key_id and "next_key" not in after


def test_no_next_key_is_published_when_the_lead_is_0(th: TokenHub, hub_factory: Any) -> None:
    hut = hub_factory(toml=TEST_TOML + "[anonymity]\ntoken_epoch_days = 1\ntoken_next_key_hours = 0\n",
                      clock=th.clock)
    th.clock.advance(_until_epoch_end(th) - 60)
    doc = hut.http.get(f"{hut.api}/anonymity/token-keys/").get_json()
    assert "next_key" not in doc and read_next_key(doc) is None


def test_tokens_of_the_next_key_are_counted_to_its_epoch_and_redeemed_through_it(th: TokenHub) -> None:
    _into_the_lead(th)
    current = read_directory(_directory(th))
    # What 'token fetch --next' checks: the next key, against a second source showing it too.
    with th.session() as http:
        checked = _checked_key(http, (f"{http.api}anonymity/token-keys/",), upcoming=True)
    assert (checked.epoch, checked.key_id) == (current.epoch + 1, read_next_key(_directory(th)).key_id)  # type: ignore[union-attr]
    now_tokens = th.tokens("alice", 2)
    later = _next_tokens(th, "alice", PER_EPOCH)
    assert {t.epoch for t in later} == {current.epoch + 1}
    alice = th.hut.hub.store.get_party("alice")
    assert alice is not None
    pk = alice.pk
    assert th.hut.hub.store.tokens_issued(pk, current.epoch) == 2
    assert th.hut.hub.store.tokens_issued(pk, current.epoch + 1) == PER_EPOCH
    with pytest.raises(ClientError, match=f"would pass this party's {PER_EPOCH}"):
        _next_tokens(th, "alice", 1)
    # Before its epoch begins a token of the next key is refused (spending nothing), while the
    # current epoch's tokens are redeemed as ever.
    assert "next epoch" in _refused(th, later[0].token, 403)
    th.redeem(now_tokens[0])
    # Through the next epoch, to its last moment.
    th.clock.advance(_until_epoch_end(th))
    th.redeem(later[0])
    assert "spent before" in _refused(th, later[0].token, 409)
    th.clock.advance(_until_epoch_end(th) - 1)
    th.redeem(later[1])
    # A token of a past epoch stays refused: the current one's left over, then the next's.
    assert "past epoch" in _refused(th, now_tokens[1].token, 403)
    th.clock.advance(1)
    assert "past epoch" in _refused(th, later[2].token, 403)


def test_the_current_epochs_spent_tokens_stay_spent_when_the_next_key_is_made(th: TokenHub) -> None:
    left = _until_epoch_end(th)
    if left < LEAD_S + HOUR_S:
        th.clock.advance(left)
    (token,) = th.tokens("alice", 1)
    th.redeem(token)
    th.clock.advance(_until_epoch_end(th) - HOUR_S)  # within the lead; the next key not made yet
    assert th.hut.hub.store.token_key(read_directory(_directory(th)).epoch + 1) is not None  # made now
    assert "spent before" in _refused(th, token.token, 409)


def test_issuance_under_a_next_key_not_published_yet_is_refused(th: TokenHub) -> None:
    left = _until_epoch_end(th)
    if left < LEAD_S + HOUR_S:
        th.clock.advance(left)
    key = read_directory(_directory(th))
    # A provider that made the next epoch's key its own way cannot have it signed: the key the
    # hub will use is not published, and asking does not make it.
    body = {"token_key_id": b64url_encode(b"\x00" * 32), "requests": [b64url_encode(b"\x00\x02" + b"\x00" * 257)]}
    resp = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", json=body, headers=th.hut.auth("alice"))
    assert resp.status_code == 409 and "fetch anonymity/token-keys/ again" in resp.get_json()["description"]
    assert th.hut.hub.store.token_key(key.epoch + 1) is None
    with pytest.raises(ClientError, match="does not publish the key of epoch"):
        with th.session() as http:
            _checked_key(http, (), upcoming=True)


def test_a_peer_hubs_copy_holds_both_keys(th: TokenHub, hub_factory: Any) -> None:
    _into_the_lead(th)
    doc = _directory(th)
    current, upcoming = read_directory(doc), read_next_key(doc)
    assert upcoming is not None
    peer = hub_factory(toml='[hub]\ntitle = "peer hub"\n' + TEST_TOML)
    assert peer.hub.tokens.copy_keys(doc, f"{th.hut.url}anonymity/token-keys/") == [
        (current.epoch, True), (upcoming.epoch, True)]
    copy = peer.http.get(f"{peer.api}/anonymity/token-keys/copies/?issuer={current.issuer}").get_json()
    check_key_consistency(current, copy, "the peer's copy")
    check_key_consistency(upcoming, copy, "the peer's copy")
