"""Benchmark abusehub alone, or side by side with medallion 3.0.0 and OpenTAXII 0.9.3.

Usage (from /work/main)::

    # a smoke run: N=1000, indicators, 5 GETs per page latency (well under 2 minutes)
    .venv/bin/python -m bench.run --quick --servers abusehub
    .venv/bin/python -m bench.run --quick --servers abusehub --data signed

    # the comparison (peers installed on first use into bench/.peers/, about 30 minutes at most)
    .venv/bin/python -m bench.run --install-peers

    # abusehub alone, the figures the core targets are about
    .venv/bin/python -m bench.run --servers abusehub --sizes 10000,100000

Per server, data kind (``indicators``, ``reports``, ``signed``: see :mod:`bench.data`) and
collection size N, a fresh server with two empty collections (and a third, the probe collection)
is started and measured with real HTTP clients (``requests`` with a keep-alive Session;
``taxii2-client`` for the full poll). Before anything is measured, every generated object is held
to the hub's own ingest rules (:func:`bench.data.check_sample`: full STIX 2.1 validation, TLP
markings only, no personal data in clear); data that fails them stops the run with the problems
listed (exit code 2), since a validating server would refuse it and the figures would measure
refusals.

``signed`` (abusehub only)
    The indicators, signed by the benchmark provider. abusehub is started with the provider's
    Ed25519 public key registered (``abusehub party key add``) and both measured collections
    created with ``--require-signatures``; once it runs, the client signs the objects as the
    provider party's identity (``created_by_ref`` included) and checks a sample, signatures
    verified. Signing is the submitter's cost: it happens before the clock starts and is only
    reported in the notes. Every figure below is then measured as for the other kinds; the
    hub verifies each signature on ingest. medallion and OpenTAXII verify no signatures: they
    are not started for this kind and their cells say ``n/a: no signature verification``.

ingest b100 / b1000
    objects/s POSTing the N objects in batches of 100 (collection 1) and of 1000 (collection 2);
    every status resource must say all succeeded (followed to ``complete`` when pending).
ingest with full validation
    the batch-1000 ingest figure, for a server seen to validate STIX 2.1 fully. Before the
    ingest, five invalid objects (:func:`bench.data.invalid_probes`: an indicator without its
    required pattern, one whose pattern does not parse, valid_until before valid_from, confidence
    250, a created_by_ref that is not an identifier; each passes the id/type/spec_version/
    timestamp basics) are POSTed one per request to the probe collection. A server that refuses
    all five (HTTP 4xx, or a failure in the status) gets its figure; one that refuses some gets
    it marked ``PARTIAL validation``; one that accepts them all gets ``n/a: no STIX validation``.
    The notes under the table list what each server did with each probe. What the code does:
    abusehub validates every object on ingest with its own validator (:mod:`hub.stix.validator`,
    with the markings and personal-data checks), so its figure is its normal ingest, which the
    probe confirms on the server measured. medallion 3.0.0 does no STIX validation: its memory
    backend's ``add_objects`` appends whatever the envelope holds, reading only ``id`` and
    ``modified`` to skip duplicates. OpenTAXII 0.9.3 runs ``stix2.parse(obj, allow_custom)`` on
    each object before storing (``validate_envelope``, python-stix2 3.0.x): required
    properties, property types, identifiers and STIX patterns are checked, ranges such as
    confidence 0-100 are not, the first invalid object refuses the whole envelope (HTTP 400),
    and a plain ``ValueError`` from python-stix2 (e.g. valid_until before valid_from) is not
    caught there and ends as a server error.
full poll p100 / p1000
    objects/s paging through collection 1 with taxii2-client ``as_pages`` (``next``), falling
    back to ``added_after`` + ``X-TAXII-Date-Added-Last`` with requests when the server gives
    ``more`` without ``next``; the number of distinct objects received must equal N.
server CPU per 1,000 objects
    the CPU time (user and system) the server's process tree used during the ingest at each
    batch size, and during the full polls at each page size (their mean when repeated), per
    1,000 objects, in ms: less sensitive than the rates to other work on the same machine.
first page / middle page
    median latency of ~20 GETs at ``limit=100``: the first page, and a middle page selected with
    ``added_after`` set to a client clock mark taken between two POSTs half way through ingest
    (fewer repetitions when a single request is slow; the cell says how many).
newest 1%
    time to fetch the newest N/100 objects with ``added_after`` (a clock mark taken before they
    were POSTed as their own batch), median of 5; the count must equal N/100.
peak RSS
    summed resident memory of the server process tree over the whole cell.

A figure that could not be measured is a string: ``failed: <reason>``, ``timed out after T s``,
``skipped: <reason>``, ``n/a: <why it does not apply>``, or the figure followed by ``MISMATCH …``
when a count is wrong. Every HTTP call has a timeout (``--timeout-s``). A server that times out,
dies or fails to load its data at some N is not run at larger N for that data kind; a size whose
ingest would take longer than ``--cell-budget-s`` at the rate measured at the previous size is
skipped and says so. medallion is bounded to N ≤ 2,000 (its first page grows with the square of
the collection) unless ``--force-medallion``.

Output: a table on stdout (each figure per server and the ratio abusehub/peer: above 1 means
abusehub is faster for objects/s, slower for ms and bigger for MB), ``<out>/results-<timestamp>.json``
and ``<out>/latest.json``, and ``<out>/page_latency.png`` (first-page latency vs N, log x).
Progress lines go to stderr. Targets, each printed as met / NOT met with its figure: signed
ingest of at least 2,500 objects/s on one core (the server runs one worker), at every N where
``signed`` was measured, batches of 100 and of 1000; and, when abusehub is measured at both
10,000 and 100,000, page latency at 100k within 1.5x of 10k and full poll at page size 1000 ≥
50,000 objects/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import requests
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection, as_pages

from bench import data as bench_data
from bench import servers as srv
from bench.servers import TAXII_ACCEPT, log

SERVERS = ("abusehub", "medallion", "opentaxii")
PEERS = ("medallion", "opentaxii")
MEDALLION_MAX_N = 2000
TARGET_PAGE_RATIO = 1.5
TARGET_POLL_OBJS = 50_000
TARGET_SIGNED_OBJS = 2_500  # signed objects/s on one core (the server runs one worker)
# Servers that verify signatures; the others' cells in a signed data kind say why they have none.
SIGNATURE_SERVERS = ("abusehub",)
NA_SIGNED = "n/a: no signature verification"
QUICK = {"sizes": "1000", "data": "indicators", "page_reps": 5, "page_budget_s": 5.0, "max_minutes": 3.0}
DEFAULTS = {"sizes": "1000,10000,100000", "data": "indicators,reports,signed", "page_reps": 20,
            "page_budget_s": 20.0, "max_minutes": 30.0}

# (key, label, unit, higher is better)
METRICS: list[tuple[str, str, str, bool]] = [
    ("ingest_b100", "ingest, batches of 100", "obj/s", True),
    ("ingest_b1000", "ingest, batches of 1000", "obj/s", True),
    ("ingest_validated", "ingest with full validation, batches of 1000", "obj/s", True),
    ("cpu_ingest_b100", "server CPU per 1,000 objects, ingest batches of 100", "ms", False),
    ("cpu_ingest_b1000", "server CPU per 1,000 objects, ingest batches of 1000", "ms", False),
    ("poll_p100", "full poll, page 100", "obj/s", True),
    ("poll_p1000", "full poll, page 1000", "obj/s", True),
    ("poll_p1000_s", "full poll, page 1000: time", "s", False),
    ("cpu_poll_p100", "server CPU per 1,000 objects, full poll page 100", "ms", False),
    ("cpu_poll_p1000", "server CPU per 1,000 objects, full poll page 1000", "ms", False),
    ("page_first_ms", "first page (limit 100), median", "ms", False),
    ("page_middle_ms", "middle page (added_after, limit 100), median", "ms", False),
    ("newest_1pct_ms", "newest 1% via added_after", "ms", False),
    ("rss_peak_mb", "peak RSS of server tree", "MB", False),
]
METRIC_INFO = {m[0]: m for m in METRICS}


@dataclass
class Cell:
    """One figure: a number, or the reason there is none."""

    server: str
    data: str
    n: int
    metric: str
    value: float | None = None
    unit: str = ""
    error: str | None = None
    note: str | None = None

    def text(self) -> str:
        if self.value is None:
            return self.error or "-"
        v = self.value
        s = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"
        return f"{s} {self.error}" if self.error else s


class TimedOut(Exception):
    pass


class Failed(Exception):
    pass


class TimeoutSession(requests.Session):
    """A requests Session whose every call has a timeout."""

    def __init__(self, timeout_s: float, auth: requests.auth.AuthBase | None = None) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        self.auth = auth
        self.headers["Accept"] = TAXII_ACCEPT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout_s)
        try:
            return super().request(method, url, *args, **kwargs)
        except (requests.Timeout, requests.exceptions.ReadTimeout) as exc:
            raise TimedOut(f"timed out after {self.timeout_s:g} s") from exc
        except requests.ConnectionError as exc:
            raise Failed(f"connection failed: {str(exc)[:200]}") from exc


def _utc_mark() -> str:
    """The client clock as a TAXII timestamp (microseconds), with a gap on both sides so that no
    server stamps an object with the same instant."""
    time.sleep(0.03)
    mark = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.03)
    return mark


_ERR_RE = re.compile(r"""(\w+(?:Error|Exception))\((['"])(.*?)\2\)""")


def _server_error_hint(run: srv.Running) -> str:
    """The last exception named in the server log (for servers that answer 500 with no detail)."""
    try:
        text = run.log_path.read_text(errors="replace")
    except OSError:
        return ""
    found = _ERR_RE.findall(text)
    for exc_name, _q, msg in reversed(found):
        if "did not return a valid response" not in msg:
            return f"{exc_name}: {msg}"
    return ""


def _http_error(run: srv.Running, resp: requests.Response) -> str:
    """``HTTP <code> <body>``; an HTML error page is replaced by its reason phrase, and a 5xx is
    followed by the last exception in the server log."""
    body = " ".join(resp.text.split())
    if body.startswith("<"):
        body = resp.reason or ""
    hint = _server_error_hint(run) if resp.status_code >= 500 else ""
    return f"HTTP {resp.status_code} {body[:200]}".rstrip() + (f" (server log: {hint})" if hint else "")


def probe(run: srv.Running, sess: requests.Session) -> list[str]:
    """GET the discovery, API root, collections and collection resources; name those that fail."""
    col = run.collections[0]
    problems = []
    for what, url in (("discovery", run.discovery), ("API root", run.api_root),
                      ("collections", f"{run.api_root}collections/"),
                      ("collection", f"{run.api_root}collections/{col}/")):
        try:
            resp = sess.get(url)
        except (TimedOut, Failed) as exc:
            problems.append(f"GET {what} resource: {exc}")
            continue
        if resp.status_code != 200:
            problems.append(f"GET {what} resource answers {_http_error(run, resp)}")
    return problems


# --------------------------------------------------------------------------------------------
# ingest


def _batches(objs: list[dict[str, Any]], size: int, cuts: list[int]) -> list[tuple[int, bytes]]:
    """Serialised envelopes of ``size`` objects, also cut at the indices in ``cuts``."""
    bounds = sorted(set(list(range(0, len(objs), size)) + [c for c in cuts if 0 < c < len(objs)]))
    bounds.append(len(objs))
    return [(bounds[i], orjson.dumps({"objects": objs[bounds[i]:bounds[i + 1]]}))
            for i in range(len(bounds) - 1)]


def _follow_status(run: srv.Running, sess: TimeoutSession, status: dict[str, Any],
                   timeout_s: float) -> dict[str, Any]:
    """GET a status resource until it is ``complete``."""
    deadline = time.monotonic() + timeout_s
    while status.get("status") != "complete":
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout_s:g} s (status stayed {status.get('status')})")
        time.sleep(0.05)
        sresp = sess.get(run.status_url(status["id"]))
        if sresp.status_code != 200:
            raise Failed(f"status {status['id']}: {_http_error(run, sresp)}")
        status = sresp.json()
    return status


@dataclass
class IngestResult:
    objects_per_s: float
    seconds: float
    success: int
    failure: int
    http_errors: int
    first_error: str | None
    failure_examples: list[str]
    marks: dict[int, str]


def ingest(run: srv.Running, sess: TimeoutSession, collection: str, objs: list[dict[str, Any]],
           batch: int, marks_at: list[int], timeout_s: float) -> IngestResult:
    """POST ``objs`` in batches; take a client clock mark just before the batch starting at each
    index in ``marks_at``. Client-side serialisation is done before the clock starts."""
    bodies = _batches(objs, batch, marks_at)
    url = run.objects_url(collection)
    headers = {"Content-Type": TAXII_ACCEPT, "Accept": TAXII_ACCEPT}
    success = failure = http_errors = 0
    first_error: str | None = None
    examples: list[str] = []
    marks: dict[int, str] = {}
    paused = 0.0
    t0 = time.perf_counter()
    for start, body in bodies:
        if start in marks_at:
            p0 = time.perf_counter()
            marks[start] = _utc_mark()
            paused += time.perf_counter() - p0
        resp = sess.post(url, data=body, headers=headers)
        if resp.status_code != 202:
            http_errors += 1
            if first_error is None:
                first_error = _http_error(run, resp)
            continue
        status = _follow_status(run, sess, resp.json(), timeout_s)
        success += int(status.get("success_count", 0))
        failure += int(status.get("failure_count", 0))
        for f in status.get("failures", [])[:3]:
            if len(examples) < 3:
                examples.append(f"{f.get('id')}: {f.get('message')}")
    seconds = time.perf_counter() - t0 - paused
    return IngestResult(len(objs) / seconds, seconds, success, failure, http_errors, first_error,
                        examples, marks)


@dataclass
class ProbeResult:
    """What a server did with each invalid object of :func:`bench.data.invalid_probes`."""

    refused: list[str]
    accepted: list[str]
    unclear: list[str]  # answered neither a refusal nor a success (e.g. HTTP 500)

    @property
    def total(self) -> int:
        return len(self.refused) + len(self.accepted) + len(self.unclear)

    def summary(self) -> str:
        parts = [f"refused {len(self.refused)} of {self.total} invalid objects"]
        if self.accepted:
            parts.append("accepted " + "; ".join(self.accepted))
        if self.unclear:
            parts.append("no verdict on " + "; ".join(self.unclear))
        return ", ".join(parts)


def validation_probe(run: srv.Running, sess: TimeoutSession, timeout_s: float) -> ProbeResult:
    """POST each invalid probe object alone to the probe collection: refused (HTTP 4xx, or a
    status naming it a failure), accepted (a status counting it a success), or neither."""
    if run.probe_collection is None:
        raise Failed("the server was started without a probe collection")
    url = run.objects_url(run.probe_collection)
    headers = {"Content-Type": TAXII_ACCEPT, "Accept": TAXII_ACCEPT}
    result = ProbeResult([], [], [])
    for what, obj in bench_data.invalid_probes():
        resp = sess.post(url, data=orjson.dumps({"objects": [obj]}), headers=headers)
        if 400 <= resp.status_code < 500:
            result.refused.append(f"{what} (HTTP {resp.status_code})")
            continue
        if resp.status_code != 202:
            result.unclear.append(f"{what} ({_http_error(run, resp)})")
            continue
        status = _follow_status(run, sess, resp.json(), timeout_s)
        if int(status.get("success_count", 0)) > 0:
            result.accepted.append(what)
        elif int(status.get("failure_count", 0)) > 0:
            msgs = [str(f.get("message", "")) for f in status.get("failures", [])]
            result.refused.append(f"{what} ({msgs[0][:120] if msgs else 'failure'})")
        else:
            result.unclear.append(f"{what} (status counts neither a success nor a failure)")
    return result


# --------------------------------------------------------------------------------------------
# polling


def _taxii2client_collection(run: srv.Running, collection: str, timeout_s: float) -> Collection:
    conn = _HTTPConnection(auth=run.auth, version="2.1")
    session = TimeoutSession(timeout_s, run.auth)
    session.headers.update({"User-Agent": conn.user_agent})
    conn.session = session
    # collection_info given, so no GET of the collection resource (OpenTAXII 0.9.3 answers 500).
    info = {"id": collection, "title": "bench", "can_read": True, "can_write": True,
            "media_types": ["application/stix+json;version=2.1"]}
    return Collection(f"{run.api_root}collections/{collection}/", conn=conn, collection_info=info)


def poll_taxii2client(run: srv.Running, collection: str, limit: int, timeout_s: float) -> tuple[int, int, float]:
    """Page through the whole collection with taxii2-client; (objects, distinct ids, seconds)."""
    col = _taxii2client_collection(run, collection, timeout_s)
    count = 0
    ids: set[str] = set()
    t0 = time.perf_counter()
    for envelope in as_pages(col.get_objects, per_request=limit):
        objs = envelope.get("objects", [])
        count += len(objs)
        ids.update(o["id"] for o in objs)
        if envelope.get("more") and not envelope.get("next"):
            raise Failed("more without next")
    return count, len(ids), time.perf_counter() - t0


def poll_requests(run: srv.Running, sess: TimeoutSession, collection: str, limit: int) -> tuple[int, int, float]:
    """Page through the whole collection with requests: ``next`` when given, otherwise
    ``added_after`` = the page's ``X-TAXII-Date-Added-Last``."""
    url = run.objects_url(collection)
    params: dict[str, Any] = {"limit": limit}
    count = 0
    ids: set[str] = set()
    t0 = time.perf_counter()
    while True:
        resp = sess.get(url, params=params)
        if resp.status_code != 200:
            raise Failed(_http_error(run, resp))
        env = orjson.loads(resp.content)
        objs = env.get("objects", [])
        count += len(objs)
        ids.update(o["id"] for o in objs)
        if not env.get("more"):
            break
        if env.get("next"):
            params = {"limit": limit, "next": env["next"]}
        else:
            last = resp.headers.get("X-TAXII-Date-Added-Last")
            if not last:
                raise Failed("more without next or X-TAXII-Date-Added-Last")
            params = {"limit": limit, "added_after": last}
    return count, len(ids), time.perf_counter() - t0


def page_latency(run: srv.Running, sess: TimeoutSession, collection: str, params: dict[str, Any],
                 reps: int, budget_s: float) -> tuple[float, int, int]:
    """Median milliseconds of up to ``reps`` identical GETs (one warm-up not counted; stop early
    once ``budget_s`` is spent, after at least 3); (median ms, samples, objects on the page)."""
    url = run.objects_url(collection)
    resp = sess.get(url, params=params)
    if resp.status_code != 200:
        raise Failed(_http_error(run, resp))
    got = len(orjson.loads(resp.content).get("objects", []))
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < reps:
        t0 = time.perf_counter()
        resp = sess.get(url, params=params)
        resp.content  # noqa: B018 - read the whole body inside the timing
        samples.append(time.perf_counter() - t0)
        if resp.status_code != 200:
            raise Failed(_http_error(run, resp))
        if len(samples) >= 3 and time.perf_counter() - start > budget_s:
            break
    return statistics.median(samples) * 1000, len(samples), got


def fetch_added_after(run: srv.Running, sess: TimeoutSession, collection: str, after: str) -> tuple[int, float]:
    """All objects added after ``after`` (pages of 1000, following ``next``); (count, seconds)."""
    url = run.objects_url(collection)
    params: dict[str, Any] = {"added_after": after, "limit": 1000}
    count = 0
    t0 = time.perf_counter()
    while True:
        resp = sess.get(url, params=params)
        if resp.status_code != 200:
            raise Failed(_http_error(run, resp))
        env = orjson.loads(resp.content)
        count += len(env.get("objects", []))
        if not env.get("more"):
            break
        if env.get("next"):
            params = {"added_after": after, "limit": 1000, "next": env["next"]}
        else:
            params = {"added_after": resp.headers["X-TAXII-Date-Added-Last"], "limit": 1000}
    return count, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# one server, one data kind, one size


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.t0 = time.monotonic()
        self.cells: list[Cell] = []
        self.notes: dict[str, list[str]] = {}
        self.stopped: dict[tuple[str, str], str] = {}  # (server, data) -> why larger N are skipped
        self.rates: dict[tuple[str, str], dict[int, float]] = {}  # batch -> obj/s at the last N
        self.key = bench_data.bench_key()  # the benchmark provider's signing key (signed kinds)

    def add(self, server: str, data: str, n: int, metric: str, value: float | None = None,
            error: str | None = None, note: str | None = None) -> Cell:
        cell = Cell(server, data, n, metric, value, METRIC_INFO[metric][2], error, note)
        self.cells.append(cell)
        shown = cell.text()
        log(f"  {server} {data} N={n:,} {metric}: {shown}" + (f" [{note}]" if note else ""))
        return cell

    def note(self, server: str, text: str) -> None:
        lst = self.notes.setdefault(server, [])
        if text not in lst:
            lst.append(text)

    def skip_all(self, server: str, data: str, n: int, reason: str) -> None:
        for metric in METRIC_INFO:
            self.add(server, data, n, metric, error=reason)

    def run_cell(self, server: str, kind: str, n: int, objs: list[dict[str, Any]]) -> None:
        a = self.args
        key = (server, kind)
        signed = kind in bench_data.SIGNED_KINDS
        if signed and server not in SIGNATURE_SERVERS:
            self.skip_all(server, kind, n, NA_SIGNED)
            return
        if time.monotonic() - self.t0 > a.max_minutes * 60:
            self.skip_all(server, kind, n, f"skipped: the run reached --max-minutes {a.max_minutes:g}")
            return
        if key in self.stopped:
            self.skip_all(server, kind, n, f"skipped: {self.stopped[key]}")
            return
        if server == "medallion" and n > MEDALLION_MAX_N and not a.force_medallion:
            self.skip_all(server, kind, n, "skipped above 2,000 (quadratic first page)")
            return
        if key in self.rates and not a.no_budget:
            rates = self.rates[key]
            predicted = sum(n / r for r in rates.values())
            if predicted > a.cell_budget_s:
                shown = ", ".join(f"{r:,.0f}" for r in rates.values())
                self.skip_all(server, kind, n,
                              f"skipped: its ingests would take ~{predicted:,.0f} s at the "
                              f"{shown} obj/s measured at the previous size "
                              f"(--cell-budget-s {a.cell_budget_s:g})")
                return

        log(f"{server}: {kind}, N={n:,}: starting a fresh server")
        options = {"signing_jwk": self.key.public_key.to_jwk()} if signed else {}
        try:
            run = srv.start(server, 2, **options)
        except Exception as exc:  # noqa: BLE001 - any start failure becomes the cells' text
            reason = " ".join(str(exc).split())[:300]
            self.skip_all(server, kind, n, f"failed: could not start: {reason}")
            self.stopped[key] = f"could not start at N={n:,}"
            return
        for text in run.notes:
            self.note(server, text)
        for text in probe(run, TimeoutSession(self.args.timeout_s, run.auth)):
            self.note(server, text)
        try:
            if signed:
                objs = self._sign(run, kind, n, objs)
            self._measure(run, kind, n, objs)
        finally:
            peak = run.stop()
            self.add(server, kind, n, "rss_peak_mb", peak / 1e6)

    def _sign(self, run: srv.Running, kind: str, n: int, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sign ``objs`` as the server's benchmark party (the submitter's cost: before any timing),
        then check a spread sample of up to 2,000 of them, signatures verified; raises
        :class:`bench.data.DataInvalid` if one fails."""
        if run.identity is None:
            raise bench_data.DataInvalid(f"{run.name} has no party identity to sign as")
        log(f"{run.name}: {kind}, N={n:,}: signing {n:,} objects as {run.identity} (client side, not timed)")
        t0 = time.perf_counter()
        signed = bench_data.sign(objs, self.key, run.identity)
        secs = time.perf_counter() - t0
        sample = signed[::max(1, len(signed) // 2000)]
        bench_data.require_valid(sample, f"signed {kind}", verify_key=self.key.public_key)
        self.note(run.name, f"{kind} N={n:,}: the client signed the objects (Ed25519, key "
                            f"{self.key.key_id}) in {secs:.1f} s ({n / secs:,.0f} obj/s) before "
                            "timing started; not counted in the ingest figures")
        return signed

    def _validation_cells(self, server: str, kind: str, n: int, probe: ProbeResult | str) -> None:
        """The "ingest with full validation" cell: the batch-1000 ingest figure of a server that
        refused every invalid probe object, and says why not otherwise."""
        ing = _find(self.cells, server, kind, n, "ingest_b1000")
        if isinstance(probe, str):
            self.add(server, kind, n, "ingest_validated", error=f"failed: validation probe: {probe}")
            return
        self.note(server, f"validation probe ({kind} N={n:,}): {probe.summary()}")
        if not probe.refused:
            if probe.accepted:
                self.add(server, kind, n, "ingest_validated",
                         error=f"n/a: no STIX validation (accepted {len(probe.accepted)} of "
                               f"{probe.total} invalid objects)", note=probe.summary())
            else:
                self.add(server, kind, n, "ingest_validated",
                         error=f"failed: validation probe: {probe.summary()}")
            return
        value = ing.value if ing else None
        err = ing.error if ing else "failed: no batch-1000 ingest figure"
        if ing and ing.value is None:
            err = ing.text()
        if probe.accepted or probe.unclear:
            partial = (f"PARTIAL validation: refused {len(probe.refused)} of {probe.total} invalid "
                       "objects (see notes)")
            err = f"{partial}; {err}" if err else partial
        self.add(server, kind, n, "ingest_validated", value, error=err,
                 note=f"the batch-1000 ingest; validation probe: {probe.summary()}")

    def _measure(self, run: srv.Running, kind: str, n: int, objs: list[dict[str, Any]]) -> None:
        a = self.args
        server, key = run.name, (run.name, kind)
        T = a.timeout_s
        sess = TimeoutSession(T, run.auth)
        k = max(1, n // 100)
        mid, newest = n // 2, n - k
        col_poll, col_big = run.collections[:2]

        def guarded(metrics: list[str], fn: Callable[[], None]) -> bool:
            """Run ``fn``; on a timeout or failure fill ``metrics`` with the reason."""
            try:
                fn()
                return True
            except TimedOut as exc:
                for m in metrics:
                    self.add(server, kind, n, m, error=str(exc))
                self.stopped[key] = f"timed out at N={n:,}"
            except Failed as exc:
                for m in metrics:
                    self.add(server, kind, n, m, error=f"failed: {exc}")
                if not run.alive():
                    self.stopped[key] = f"server died at N={n:,}"
            return False

        # ---- ingest: collection 1 in batches of 100 (with the clock marks), 2 in batches of 1000
        marks: dict[int, str] = {}
        loaded = {"ok": True}

        def do_ingest(metric: str, col: str, batch: int, marks_at: list[int]) -> Callable[[], None]:
            def fn() -> None:
                log(f"{server}: {kind}, N={n:,}: POSTing in batches of {batch}")
                cpu0 = run.cpu_seconds()
                res = ingest(run, sess, col, objs, batch, marks_at, T)
                self.add(server, kind, n, f"cpu_ingest_b{batch}", (run.cpu_seconds() - cpu0) * 1e6 / n,
                         note="server process tree, user and system")
                marks.update(res.marks)
                self.rates.setdefault(key, {})[batch] = res.objects_per_s
                if res.http_errors:
                    self.add(server, kind, n, metric, error=(
                        f"failed: {res.http_errors} of {len(_batches(objs, batch, marks_at))} POSTs "
                        f"answered {res.first_error}"),
                        note=f"objects POSTed at {res.objects_per_s:,.0f} obj/s regardless; "
                             "stored count checked by the full poll")
                    self.note(server, f"{kind} N={n:,} batches of {batch}: every POST answered "
                              f"{res.first_error}, yet the objects were stored; POSTing them took "
                              f"{res.seconds:.1f} s ({res.objects_per_s:,.0f} obj/s; not a success "
                              "figure: no status resource came back)")
                elif res.failure or res.success != n:
                    self.add(server, kind, n, metric, res.objects_per_s,
                             error=f"MISMATCH: {res.success} succeeded, {res.failure} failed of {n}",
                             note="; ".join(res.failure_examples) or None)
                    if res.success == 0:
                        loaded["ok"] = False
                else:
                    self.add(server, kind, n, metric, res.objects_per_s,
                             note=f"{res.seconds:.1f} s, status: all {n:,} succeeded")
            return fn

        # ---- does the server validate? (invalid objects into the probe collection, untimed)
        log(f"{server}: {kind}, N={n:,}: validation probe")
        probe: ProbeResult | str
        try:
            probe = validation_probe(run, sess, T)
        except (TimedOut, Failed) as exc:
            probe = str(exc)

        ok1 = guarded(["ingest_b100", "cpu_ingest_b100"], do_ingest("ingest_b100", col_poll, 100, [mid, newest]))
        if ok1:
            guarded(["ingest_b1000", "cpu_ingest_b1000"], do_ingest("ingest_b1000", col_big, 1000, []))
        else:
            self.add(server, kind, n, "ingest_b1000", error="skipped: collection 1 did not load")
        self._validation_cells(server, kind, n, probe)
        poll_metrics = ["poll_p100", "poll_p1000", "poll_p1000_s", "cpu_poll_p100", "cpu_poll_p1000", "page_first_ms",
                        "page_middle_ms", "newest_1pct_ms"]
        if not ok1 or not loaded["ok"] or not run.alive():
            reason = "skipped: data did not load" if run.alive() else "failed: server died"
            for m in poll_metrics:
                self.add(server, kind, n, m, error=reason)
            self.stopped[key] = f"data did not load at N={n:,}"
            return

        # ---- full polls
        def do_poll(limit: int) -> Callable[[], None]:
            def fn() -> None:
                log(f"{server}: {kind}, N={n:,}: full poll at page size {limit}")
                how = "taxii2-client as_pages (next)"
                use_requests = False
                runs: list[float] = []
                cpu0 = run.cpu_seconds()
                # Short polls are repeated (up to 3 runs, while under 3 s in all): median.
                while len(runs) < 3 and (not runs or sum(runs) < 3.0):
                    if not use_requests:
                        try:
                            count, distinct, secs = poll_taxii2client(run, col_poll, limit, T)
                        except TimedOut:
                            raise
                        except Exception as exc:  # noqa: BLE001 - fall back to plain requests
                            use_requests = True
                            how = (f"requests (taxii2-client failed: {type(exc).__name__}: "
                                   f"{str(exc)[:150]})")
                    if use_requests:
                        count, distinct, secs = poll_requests(run, sess, col_poll, limit)
                    runs.append(secs)
                    if count != n or distinct != n:
                        break
                cpu_ms = (run.cpu_seconds() - cpu0) * 1e6 / (n * len(runs))
                secs = statistics.median(runs)
                how += f", median of {len(runs)}"
                err = None if count == n and distinct == n else \
                    f"MISMATCH: received {count:,} objects ({distinct:,} distinct), expected {n:,}"
                self.add(server, kind, n, f"poll_p{limit}", count / secs, error=err,
                         note=f"{secs:.2f} s, {how}")
                self.add(server, kind, n, f"cpu_poll_p{limit}", cpu_ms, error=err,
                         note=f"server process tree, user and system, mean of {len(runs)}")
                if limit == 1000:
                    self.add(server, kind, n, "poll_p1000_s", secs, error=err)
            return fn

        if guarded(["poll_p100", "cpu_poll_p100"], do_poll(100)):
            guarded(["poll_p1000", "poll_p1000_s", "cpu_poll_p1000"], do_poll(1000))
        else:
            self.add(server, kind, n, "poll_p1000", error="skipped: page-100 poll failed")
            self.add(server, kind, n, "poll_p1000_s", error="skipped: page-100 poll failed")

        # ---- one page
        def do_page(metric: str, params: dict[str, Any]) -> Callable[[], None]:
            def fn() -> None:
                ms, reps, got = page_latency(run, sess, col_poll, params, a.page_reps, a.page_budget_s)
                expect = min(100, n - mid) if "added_after" in params else min(100, n)
                err = None if got == expect else f"MISMATCH: page has {got} objects, expected {expect}"
                self.add(server, kind, n, metric, ms, error=err, note=f"median of {reps}")
            return fn

        log(f"{server}: {kind}, N={n:,}: one-page latency")
        guarded(["page_first_ms"], do_page("page_first_ms", {"limit": 100}))
        if mid in marks:
            guarded(["page_middle_ms"], do_page("page_middle_ms", {"limit": 100, "added_after": marks[mid]}))
        else:
            self.add(server, kind, n, "page_middle_ms", error="failed: no clock mark")

        # ---- newest 1 %
        def do_newest() -> None:
            times = []
            count = 0
            for _ in range(5):
                count, secs = fetch_added_after(run, sess, col_poll, marks[newest])
                times.append(secs)
            err = None if count == k else f"MISMATCH: received {count:,}, expected {k:,}"
            self.add(server, kind, n, "newest_1pct_ms", statistics.median(times) * 1000, error=err,
                     note=f"{k:,} objects, median of 5")

        if newest in marks:
            guarded(["newest_1pct_ms"], do_newest)
        else:
            self.add(server, kind, n, "newest_1pct_ms", error="failed: no clock mark")
        if not run.alive():
            self.stopped[key] = f"server died at N={n:,}: {run.log_tail(3)}"


# --------------------------------------------------------------------------------------------
# output


def _find(cells: list[Cell], server: str, data: str, n: int, metric: str) -> Cell | None:
    for c in cells:
        if (c.server, c.data, c.n, c.metric) == (server, data, n, metric):
            return c
    return None


def _ratio(a: Cell | None, b: Cell | None) -> str:
    if a and b and a.value and b.value and not a.error and not b.error:
        return f"{a.value / b.value:.2f}x"
    return "-"


def render_table(cells: list[Cell], servers: list[str], kinds: list[str], sizes: list[int]) -> str:
    peers = [p for p in servers if p != "abusehub"] if "abusehub" in servers else []
    header = ["metric", "N"] + servers + [f"abusehub/{p}" for p in peers]
    rows: list[list[str]] = []
    for kind in kinds:
        rows.append([f"== {kind} =="] + [""] * (len(header) - 1))
        for metric, label, unit, _hb in METRICS:
            for n in sizes:
                row = [f"{label} ({unit})", f"{n:,}"]
                for s in servers:
                    c = _find(cells, s, kind, n, metric)
                    row.append(c.text() if c else "-")
                for p in peers:
                    row.append(_ratio(_find(cells, "abusehub", kind, n, metric), _find(cells, p, kind, n, metric)))
                rows.append(row)
    wrap_w = 48  # figure cells longer than this are cut here and listed in full underneath
    widths = [max(len(r[i]) for r in rows + [header]) if i < 2 else
              min(wrap_w, max(len(r[i]) for r in rows + [header])) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        # The metric label and N are never cut.
        return " | ".join((c if i < 2 else c[:wrap_w]).ljust(widths[i]) for i, c in enumerate(row))

    lines = [fmt(header), "-+-".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    unsigned = [s for s in servers if s not in SIGNATURE_SERVERS]
    for kind in kinds:
        if kind in bench_data.SIGNED_KINDS and unsigned:
            lines.append(f"{kind}: {' and '.join(unsigned)} verify no signatures, so they are not run for "
                         f"this kind and their cells say \"{NA_SIGNED}\".")
    # Long reasons are cut in the table: list them in full underneath.
    long = sorted({(c.server, c.text()) for c in cells if len(c.text()) > wrap_w})
    if long:
        lines.append("")
        lines.append("Full text of the cells cut above:")
        for server, text in long:
            lines.append(f"  {server}: {text}")
    return "\n".join(lines)


def render_signed_target(cells: list[Cell], kinds: list[str]) -> list[str]:
    """Signed ingest against TARGET_SIGNED_OBJS, at every N where abusehub was run."""
    out = []
    for kind in kinds:
        if kind not in bench_data.SIGNED_KINDS:
            continue
        sizes = sorted({c.n for c in cells if c.server == "abusehub" and c.data == kind})
        lines = []
        for n in sizes:
            for metric, what in (("ingest_b100", "batches of 100"), ("ingest_b1000", "batches of 1000")):
                c = _find(cells, "abusehub", kind, n, metric)
                if c is None:
                    continue
                if c.value is not None and not c.error:
                    verdict = "met" if c.value >= TARGET_SIGNED_OBJS else "NOT met"
                    lines.append(f"  N={n:,}, {what}: {c.text()} obj/s: {verdict}")
                elif (c.error or "").startswith("skipped"):
                    lines.append(f"  N={n:,}, {what}: not measured ({c.text()})")
                else:
                    lines.append(f"  N={n:,}, {what}: no valid figure ({c.text()}): NOT met")
        if lines:
            out.append(f"abusehub signed ingest ({kind}), target >= {TARGET_SIGNED_OBJS:,} signed obj/s "
                       "on one core (one server worker):")
            out.extend(lines)
    return out


def render_targets(cells: list[Cell], kinds: list[str]) -> str:
    out = render_signed_target(cells, kinds)
    for kind in kinds:
        small, big = _find(cells, "abusehub", kind, 10_000, "page_first_ms"), \
            _find(cells, "abusehub", kind, 100_000, "page_first_ms")
        if not (small and big):
            continue
        out.append(f"abusehub targets ({kind}):")
        for n in (10_000, 100_000):
            ing = _find(cells, "abusehub", kind, n, "ingest_b1000")
            ing100 = _find(cells, "abusehub", kind, n, "ingest_b100")
            poll = _find(cells, "abusehub", kind, n, "poll_p1000")
            secs = _find(cells, "abusehub", kind, n, "poll_p1000_s")
            out.append(f"  N={n:,}: ingest {ing100.text() if ing100 else '-'} obj/s (batches of 100), "
                       f"{ing.text() if ing else '-'} obj/s (batches of 1000); full poll at page size "
                       f"1000 (taxii2-client): {secs.text() if secs else '-'} s, "
                       f"{poll.text() if poll else '-'} obj/s")
        for label, metric in (("first page", "page_first_ms"), ("middle page", "page_middle_ms")):
            s, b = _find(cells, "abusehub", kind, 10_000, metric), _find(cells, "abusehub", kind, 100_000, metric)
            if s and b and s.value and b.value and not s.error and not b.error:
                r = b.value / s.value
                verdict = "met" if r <= TARGET_PAGE_RATIO else "NOT met"
                out.append(f"  {label} latency at 100k vs 10k: {b.value:.2f} ms / {s.value:.2f} ms = "
                           f"{r:.2f}x (target within {TARGET_PAGE_RATIO}x): {verdict}")
            else:
                out.append(f"  {label} latency at 100k vs 10k: not measured "
                           f"({s.text() if s else '-'} / {b.text() if b else '-'}): NOT met")
        for n in (10_000, 100_000):
            poll = _find(cells, "abusehub", kind, n, "poll_p1000")
            ok = poll is not None and poll.value is not None and not poll.error and poll.value >= TARGET_POLL_OBJS
            out.append(f"  full poll at N={n:,}, page 1000: {poll.text() if poll else '-'} obj/s "
                       f"(target >= {TARGET_POLL_OBJS:,}): {'met' if ok else 'NOT met'}")
    return "\n".join(out)


def plot(cells: list[Cell], servers: list[str], kinds: list[str], path: Path) -> bool:
    """Median one-page latency vs N (log-log): first page on the left, middle page on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    drawn = False
    styles = {"indicators": "-", "reports": "--", "signed": ":"}
    colours = {"abusehub": "tab:blue", "medallion": "tab:orange", "opentaxii": "tab:green"}
    for ax, metric, title in ((axes[0], "page_first_ms", "first page (limit 100)"),
                              (axes[1], "page_middle_ms", "middle page (added_after, limit 100)")):
        for server in servers:
            for kind in kinds:
                pts = sorted((c.n, c.value) for c in cells
                             if c.server == server and c.data == kind and c.metric == metric
                             and c.value is not None and not c.error)
                if pts:
                    xs, ys = zip(*pts, strict=True)
                    ax.plot(xs, ys, styles.get(kind, "-"), marker="o", color=colours.get(server),
                            label=f"{server} ({kind})")
                    drawn = True
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.set_xlabel("objects in the collection (N)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    if not drawn:
        plt.close(fig)
        return False
    axes[0].set_ylabel("median latency (ms)")
    axes[0].legend(fontsize="small")
    fig.suptitle("One-page latency vs collection size (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=doc.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default=",".join(SERVERS),
                    help="comma-separated: abusehub,medallion,opentaxii (default: all)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run (about a minute per server): unless given, --sizes "
                         f"{QUICK['sizes']} --data {QUICK['data']} --page-reps {QUICK['page_reps']} "
                         f"--page-budget-s {QUICK['page_budget_s']:g} --max-minutes {QUICK['max_minutes']:g}")
    ap.add_argument("--sizes", default=None, help=f"collection sizes N (default: {DEFAULTS['sizes']})")
    ap.add_argument("--data", default=None,
                    help=f"data kinds: {', '.join(bench_data.KINDS)} (default: {DEFAULTS['data']})")
    ap.add_argument("--install-peers", action="store_true",
                    help="install medallion 3.0.0 / opentaxii 0.9.3 into bench/.peers/ if missing")
    ap.add_argument("--timeout-s", type=float, default=120.0,
                    help="timeout of every HTTP call (default: %(default)s)")
    ap.add_argument("--cell-budget-s", type=float, default=240.0,
                    help="skip a size whose two ingests would take longer than this at the rate "
                         "measured at the previous size (default: %(default)s)")
    ap.add_argument("--page-reps", type=int, default=None,
                    help=f"GETs per one-page latency (default: {DEFAULTS['page_reps']})")
    ap.add_argument("--page-budget-s", type=float, default=None,
                    help="stop repeating a one-page GET after this long, once 3 are done "
                         f"(default: {DEFAULTS['page_budget_s']:g})")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help=f"start no new server after this many minutes (default: {DEFAULTS['max_minutes']:g})")
    ap.add_argument("--no-budget", action="store_true", help="never skip a size for --cell-budget-s")
    ap.add_argument("--force-medallion", action="store_true",
                    help="run medallion above N=2,000 too (its first page is quadratic)")
    ap.add_argument("--out", default=str(srv.BENCH_DIR / "results"), help="results folder")
    args = ap.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.server_list = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.size_list = sorted({int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()})
    args.data_list = [d.strip() for d in args.data.split(",") if d.strip()]
    for s in args.server_list:
        if s not in SERVERS:
            ap.error(f"unknown server {s!r} (known: {', '.join(SERVERS)})")
    for d in args.data_list:
        if d not in bench_data.KINDS:
            ap.error(f"unknown data kind {d!r} (known: {', '.join(bench_data.KINDS)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.monotonic()
    started = datetime.now(UTC)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    peers = [s for s in args.server_list if s in PEERS]
    if args.install_peers and peers:
        srv.install_peers(peers)

    bench = Bench(args)
    checked: set[tuple[str, int]] = set()
    try:
        for kind in args.data_list:
            base = bench_data.unsigned_kind(kind)
            for n in args.size_list:
                log(f"generating {n:,} {base}" + (f" (to be signed for {kind})" if base != kind else ""))
                objs = bench_data.objects(base, n)
                if (base, n) not in checked:
                    t0 = time.perf_counter()
                    bench_data.require_valid(objs, f"{n:,} {base}")
                    checked.add((base, n))
                    log(f"  all {n:,} pass the hub's validator, markings and personal-data checks "
                        f"({time.perf_counter() - t0:.1f} s)")
                for server in args.server_list:
                    bench.run_cell(server, kind, n, objs)
                del objs
    except bench_data.DataInvalid as exc:
        print(f"\nbench: refusing to measure: {exc}", file=sys.stderr)
        return 2

    elapsed = time.monotonic() - t_start
    table = render_table(bench.cells, args.server_list, args.data_list, args.size_list)
    targets = render_targets(bench.cells, args.data_list) if "abusehub" in args.server_list else ""
    print()
    print(table)
    if bench.notes:
        print("\nHow each server was run:")
        for server, notes in bench.notes.items():
            for text in notes:
                print(f"  {server}: {text}")
    print("\nRatios are abusehub/peer: above 1 is better for obj/s, worse for ms and MB.")
    if targets:
        print()
        print(targets)

    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    doc = {
        "started": started.isoformat(),
        "elapsed_s": round(elapsed, 1),
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version(), "platform": platform.platform()},
        "servers": args.server_list, "data": args.data_list, "sizes": args.size_list,
        "notes": bench.notes,
        "cells": [asdict(c) for c in bench.cells],
        "table": table,
        "targets": targets,
    }
    blob = json.dumps(doc, indent=1)
    (out / f"results-{stamp}.json").write_text(blob)
    (out / "latest.json").write_text(blob)
    plotted = plot(bench.cells, args.server_list, args.data_list, out / "page_latency.png")
    print(f"\nResults: {out / f'results-{stamp}.json'} (and latest.json)"
          + (f"; plot: {out / 'page_latency.png'}" if plotted else "; no plot (no latency figure)"))
    print(f"Elapsed: {elapsed / 60:.1f} min ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
