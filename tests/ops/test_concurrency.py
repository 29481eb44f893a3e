"""Many writers and pollers at once against a real `abusehub serve` (gunicorn, two workers), on
SQLite and on PostgreSQL.

Four writer processes, each a party with its own token, POST envelopes of 100 indicators to one
collection while two poller processes page through it, one by ``added_after`` (the
``X-TAXII-Date-Added-Last`` of each page, TAXII 2.1 section 3.4) and one by ``next``. Then:
every acknowledged object is stored exactly once (through TAXII and through the store), no
object is stored twice, ``date_added`` is distinct and strictly increasing in commit order, each
poller saw every object exactly once, and every ``next`` token of a full poll gives the same
page on either worker.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from sqlalchemy import select

from hub.store import schema as t
from hub.store.sql import SqlStore
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow

WRITERS = 4
PER_WRITER = 2_500  # objects per writer
BATCH = 100  # objects per envelope
TOTAL = WRITERS * PER_WRITER
PAGE = 250  # the pollers' page size
POLL_DEADLINE_S = 150.0  # a poller gives up (and the test fails) after this long
TAXII = "application/taxii+json;version=2.1"
TOML = "[taxii]\nmax_content_length = 4194304\ndefault_page_size = 100\nmax_page_size = 1000\n"
GET_OBJECTS = {"endpoint": "objects.get_objects", "method": "GET", "status": "200"}


def _indicators(writer: int, count: int) -> list[dict[str, Any]]:
    """``count`` valid STIX 2.1 indicators, each with an identifier of its own."""
    created = "2026-01-01T00:00:00.000Z"
    return [{
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": created, "modified": created, "name": f"abused instance {writer}-{i}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '10.{writer}.{i // 250}.{i % 250}']", "pattern_type": "stix",
        "valid_from": created,
    } for i in range(count)]


def write(objects_url: str, token: str, writer: int) -> list[str]:
    """Writer process: POST ``PER_WRITER`` indicators in envelopes of ``BATCH``; return the ids
    the hub acknowledged as stored (each status must be complete and all successes)."""
    objs = _indicators(writer, PER_WRITER)
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII}
    acknowledged: list[str] = []
    with requests.Session() as http:
        for start in range(0, len(objs), BATCH):
            batch = objs[start:start + BATCH]
            resp = http.post(objects_url, data=orjson.dumps({"objects": batch}), headers=headers, timeout=60)
            assert resp.status_code == 202, resp.text[:300]
            status = resp.json()
            assert status["status"] == "complete" and status["failure_count"] == 0, status
            assert status["success_count"] == len(batch), status
            assert all(s["message"] == "stored" for s in status["successes"]), status
            acknowledged += [s["id"] for s in status["successes"]]
    assert sorted(acknowledged) == sorted(o["id"] for o in objs)
    return acknowledged


@dataclass
class Polled:
    """What one poller received: object ids in the order they came, and each page's
    ``(X-TAXII-Date-Added-First, -Last)``."""

    ids: list[str]
    pages: list[tuple[str, str]]
    requests: int


def _get(objects_url: str, token: str, params: dict[str, str]) -> requests.Response:
    # A new connection per request (no Session): successive pages go to whichever worker accepts.
    resp = requests.get(objects_url, params=params, timeout=60,
                        headers={"Authorization": f"Bearer {token}", "Accept": TAXII})
    assert resp.status_code == 200, resp.text[:300]
    return resp


def poll(objects_url: str, token: str, by_next: bool) -> Polled:
    """Poller process: page through the collection while it is written, until ``TOTAL``
    distinct objects were received or ``POLL_DEADLINE_S`` passed. By ``added_after``: each
    request starts after the previous page's ``X-TAXII-Date-Added-Last``. By ``next``: the
    ``next`` token while ``more`` is true, then ``added_after`` as above to wait for more."""
    deadline = time.monotonic() + POLL_DEADLINE_S
    ids: list[str] = []
    pages: list[tuple[str, str]] = []
    seen: set[str] = set()
    after: str | None = None
    token_next: str | None = None
    sent = 0
    while len(seen) < TOTAL and time.monotonic() < deadline:
        params = {"limit": str(PAGE)}
        if after is not None:
            params["added_after"] = after
        if by_next and token_next:
            params["next"] = token_next  # with the same added_after: the token belongs to that query
        resp = _get(objects_url, token, params)
        sent += 1
        body = resp.json()
        got = [o["id"] for o in body.get("objects", [])]
        if got:
            first, last = resp.headers["X-TAXII-Date-Added-First"], resp.headers["X-TAXII-Date-Added-Last"]
            pages.append((first, last))
            ids += got
            seen.update(got)
        if by_next and body.get("more") and body.get("next"):
            token_next = body["next"]
        else:
            token_next = None
            if got:
                after = resp.headers["X-TAXII-Date-Added-Last"]
            elif not body.get("more"):
                time.sleep(0.05)
    return Polled(ids, pages, sent)


def _pid_counts(metrics_dir: Path) -> dict[int, float]:
    """Each worker's count of successful GETs of objects, from prometheus-client's per-process
    files (``counter_<pid>.db``)."""
    from prometheus_client.mmap_dict import MmapedDict

    out: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = orjson.loads(key)
            if name == "abusehub_http_requests_total" and labels == GET_OBJECTS:
                out[pid] = out.get(pid, 0) + value
    return out


@dataclass
class LoadedHub:
    objects_url: str
    writer_tokens: list[str]
    reader_token: str
    collection_id: str
    database_url: str
    metrics_dir: Path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LoadedHub]:
    """A real two-worker server over a fresh store of each database, one collection that four
    writer parties may write and a reader party may read."""
    writers = {f"writer{i}": "provider" for i in range(WRITERS)}
    with HubUnderTest.served(tmp_path / "home", backend=request.param, toml=TOML, workers=2,
                             parties={**writers, "reader": "agency"},
                             grants={"load": {**{w: (False, True) for w in writers}, "reader": (True, False)}}) as h:
        yield LoadedHub(objects_url=h.collection_url("load", "objects"),
                        writer_tokens=[h.tokens[w] for w in writers], reader_token=h.tokens["reader"],
                        collection_id=h.collections["load"], database_url=h.config.effective_database_url,
                        metrics_dir=h.home / "metrics")


def _stored_rows(database_url: str, collection_id: str) -> list[tuple[str, int]]:
    """``(stix_id, date_added_us)`` of every row of the collection, in insertion order (the
    primary key: a writer holds the collection's counter row from its first statement to its
    commit, so insertion order is commit order)."""
    store = SqlStore(database_url)
    try:
        col = store.get_collection(collection_id)
        assert col is not None
        with store.engine.connect() as conn:
            rows = conn.execute(select(t.objects.c.stix_id, t.objects.c.date_added_us)
                                .where(t.objects.c.collection_pk == col.pk).order_by(t.objects.c.pk)).all()
        assert store.count_objects(col.pk) == len(rows)
        return [(r[0], r[1]) for r in rows]
    finally:
        store.close()


def _assert_saw_each_once(polled: Polled, acknowledged: set[str], how: str) -> None:
    dupes = [i for i, n in Counter(polled.ids).items() if n > 1]
    assert not dupes, f"the poller by {how} received {len(dupes)} objects more than once, e.g. {dupes[:3]}"
    assert set(polled.ids) == acknowledged, (
        f"the poller by {how} missed {len(acknowledged - set(polled.ids))} objects")
    # Pages come in date_added order, each strictly after the one before.
    for (first, last), (nxt_first, _l) in zip(polled.pages, polled.pages[1:], strict=False):
        assert first <= last < nxt_first, (first, last, nxt_first)


def _full_poll_on_both_workers(lh: LoadedHub) -> list[str]:
    """Page through the whole collection by ``next``; send every request (each token included)
    on fresh connections, several at once, until both workers have answered it, and require
    every answer to the same request to be the same page."""
    ids: list[str] = []
    params = {"limit": str(PAGE)}
    pages = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        while True:
            served: set[int] = set()
            answers: set[bytes] = set()
            body: dict[str, Any] = {}
            for _round in range(40):  # bounded: which worker accepts is the kernel's choice
                before = _pid_counts(lh.metrics_dir)
                resps = list(pool.map(lambda p: _get(lh.objects_url, lh.reader_token, p), [params] * 8))
                after = _pid_counts(lh.metrics_dir)
                served |= {pid for pid, n in after.items() if n > before.get(pid, 0)}
                answers |= {r.content for r in resps}
                body = resps[0].json()
                if len(served) >= 2:
                    break
            assert len(served) >= 2, f"page {pages}: only worker(s) {served} answered 320 requests"
            assert len(answers) == 1, f"page {pages}: the workers gave different answers to the same request"
            ids += [o["id"] for o in body.get("objects", [])]
            pages += 1
            if not body.get("more"):
                return ids
            assert body.get("next"), "more is true without a next token"
            params = {"limit": str(PAGE), "next": body["next"]}


def test_concurrent_writers_and_pollers_lose_and_repeat_nothing(hub_server: LoadedHub) -> None:
    lh = hub_server
    ctx = multiprocessing.get_context("spawn")  # no forked copies of the test process's state
    with ProcessPoolExecutor(max_workers=WRITERS + 2, mp_context=ctx) as pool:
        pollers = [pool.submit(poll, lh.objects_url, lh.reader_token, by_next) for by_next in (False, True)]
        writers = [pool.submit(write, lh.objects_url, token, i) for i, token in enumerate(lh.writer_tokens)]
        acknowledged_lists = [w.result(timeout=300) for w in writers]
        by_added_after, by_next = (p.result(timeout=300) for p in pollers)

    acknowledged = [i for ids in acknowledged_lists for i in ids]
    assert len(acknowledged) == TOTAL and len(set(acknowledged)) == TOTAL
    wanted = set(acknowledged)

    # The store: every acknowledged object exactly once, date_added distinct and increasing
    # in commit order.
    rows = _stored_rows(lh.database_url, lh.collection_id)
    stored_ids = [sid for sid, _ in rows]
    assert len(rows) == TOTAL
    assert len(set(stored_ids)) == TOTAL, "an object was stored twice"
    assert set(stored_ids) == wanted
    added = [us for _, us in rows]
    assert all(a < b for a, b in zip(added, added[1:], strict=False)), "date_added is not strictly increasing"

    # Each concurrent poller saw every object exactly once, in date_added order.
    _assert_saw_each_once(by_added_after, wanted, "added_after")
    _assert_saw_each_once(by_next, wanted, "next")

    # TAXII: a full poll by next tokens, each token answered by both workers alike.
    polled = _full_poll_on_both_workers(lh)
    assert len(polled) == TOTAL and set(polled) == wanted
    # The order of the full poll is the store's commit order.
    assert polled == stored_ids
