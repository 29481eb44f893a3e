"""Retries: a small real WSGI app answers 429 or 503 (with or without ``Retry-After``) before
it answers 200; the client waits as told (an injected sleep records the waits) and gives up after
its bound with one line that says so."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import orjson
import pytest

from hub.client.errors import Busy
from hub.client.retry import RetryNotice, RetryPolicy, parse_retry_after
from hub.client.taxii import TAXII_21, TaxiiClient
from tests.client.wsgi_apps import Scripted

API = "http://127.0.0.1/api/"
OK = (200, {"Content-Type": TAXII_21}, orjson.dumps({"collections": [{"id": "c1", "title": "One"}]}))


def busy(status: int, retry_after: str | None = None, description: str = "slow down") -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": TAXII_21}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return status, headers, orjson.dumps({"title": "Busy", "description": description, "http_status": str(status)})


def client(app: Scripted, waits: list[float], **kwargs: object) -> TaxiiClient:
    return TaxiiClient(API, "ahub_x", transport=httpx.WSGITransport(app=app), sleep=waits.append,
                       rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [429, 503])
def test_waits_as_told_then_succeeds(status: int) -> None:
    app = Scripted([busy(status, "7"), busy(status, "2"), OK])
    waits: list[float] = []
    notices: list[RetryNotice] = []
    with client(app, waits, on_retry=notices.append) as c:
        assert [col["id"] for col in c.collections()] == ["c1"]
    assert waits == [7.0, 2.0] and len(app.seen) == 3
    assert [(n.status, n.wait, n.attempt, n.told) for n in notices] == [(status, 7.0, 1, True), (status, 2.0, 2, True)]
    assert notices[0].message == ("the hub is rate-limiting requests: asking again in 7 s" if status == 429
                                  else "the hub is unavailable (503): asking again in 7 s")


def test_without_retry_after_the_backoff_grows_with_jitter_and_is_capped() -> None:
    app = Scripted([busy(503)] * 5 + [OK])
    waits: list[float] = []
    policy = RetryPolicy(max_retries=5, backoff=1.0, max_backoff=4.0)
    with client(app, waits, retry=policy) as c:
        c.collections()
    assert len(waits) == 5
    for wait, ceiling in zip(waits, [1.0, 2.0, 4.0, 4.0, 4.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling  # "equal jitter": half fixed, half random
    assert len(set(waits)) == 5  # the random half differs from wait to wait


def test_gives_up_after_its_bound() -> None:
    app = Scripted([busy(429, "1")])
    waits: list[float] = []
    with client(app, waits, retry=RetryPolicy(max_retries=2)) as c, pytest.raises(Busy) as info:
        c.collections()
    assert waits == [1.0, 1.0] and len(app.seen) == 3
    assert str(info.value) == ("listing collections: the hub is still rate-limiting requests after 2 retries "
                               "(429): slow down; try again later")
    assert info.value.status == 429 and info.value.retry_after == 1.0


def test_a_retry_after_longer_than_the_bound_ends_at_once() -> None:
    app = Scripted([busy(503, "3600", "maintenance until noon")])
    waits: list[float] = []
    with client(app, waits) as c, pytest.raises(Busy) as info:
        c.collections()
    assert waits == [] and len(app.seen) == 1
    assert "unavailable and asks to wait 3600 s (503): maintenance until noon" in str(info.value)


def test_no_retries_when_told_so() -> None:
    app = Scripted([busy(429, "1"), OK])
    waits: list[float] = []
    with client(app, waits, retry=RetryPolicy(max_retries=0)) as c, pytest.raises(Busy):
        c.collections()
    assert waits == [] and len(app.seen) == 1


def test_a_post_is_sent_again_with_the_same_body() -> None:
    answer = orjson.dumps({"key_version": "k1", "pseudonyms": [
        {"kind": "email", "pseudonym": "hmac-sha256:k1:" + "0" * 64}]})
    app = Scripted([busy(429, "5"), (200, {"Content-Type": "application/json"}, answer)])
    waits: list[float] = []
    notices: list[RetryNotice] = []
    with client(app, waits, on_retry=notices.append) as c:
        assert c.pseudonymise_in_clear([("email", "a@example.org")]) == ["hmac-sha256:k1:" + "0" * 64]
    assert waits == [5.0] and app.seen[0].body == app.seen[1].body
    assert orjson.loads(app.seen[1].body) == {"values": [{"kind": "email", "value": "a@example.org"}]}
    assert notices[0].message == "the hub is rate-limiting pseudonym requests: asking again in 5 s"


def test_the_hubs_error_body_can_say_how_long() -> None:
    body = orjson.dumps({"title": "Too many requests", "description": "slow down", "http_status": "429",
                         "details": {"retry_after": 3}})
    app = Scripted([(429, {"Content-Type": TAXII_21}, body), OK])
    waits: list[float] = []
    with client(app, waits) as c:
        c.collections()
    assert waits == [3.0]


def test_parse_retry_after() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)  # "Sat, 01 Mar 2025 12:01:30 GMT"
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    clock = now.timestamp
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(later, clock) == 90.0
    assert parse_retry_after(earlier, clock) == 0.0
    for unreadable in (None, "", "soon", "nan", "Sat, 01 Mar 2025 12:01:30"):
        assert parse_retry_after(unreadable, clock) is None, unreadable


def test_policy_refuses_negative_settings() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
