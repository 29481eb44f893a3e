"""Operations benchmark: throughput by worker count, memory per process, and a large collection,
on SQLite and on PostgreSQL side by side.

Usage (from /work/main)::

    .venv/bin/python -m bench.ops                       # the full run
    .venv/bin/python -m bench.ops --big 50000 --n 2000  # a smoke run

For each store (SQLite in the hub's home; PostgreSQL in a fresh schema of
``HUB_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
skipped with the reason when it does not answer) and each worker count (1, 2, 4):

ingest
    a fresh ``abusehub serve --workers W`` (gthread, the configured threads per worker) over an
    empty store; ``--clients`` client processes POST ``--n`` indicators (:mod:`bench.data`) in
    envelopes of 100 at once; objects/s over the wall time, every status all successes.
poll
    the same clients page through the collection at ``limit=100`` (full polls by ``next``,
    fresh connections as the pages come) for ``--poll-s`` seconds; objects/s received.
memory
    the gunicorn master and each worker sampled every 0.2 s from start to end of the two phases
    above: peak RSS and peak PSS (psutil ``memory_full_info``; PSS counts pages shared between
    processes once, split among them).

Ratios: each throughput against the same store's one-worker figure. The clients run on the
same machine and take CPU from the server: on a machine of C cores the ratio at W workers is
bounded by what the clients leave.

large collection
    one store per database holding a collection of 10,000 and one of ``--big`` objects,
    bulk-loaded **through the store's transaction API** (``SqlStore.transaction()`` /
    ``add_versions``, 20,000 objects per transaction), not through HTTP: the objects are the
    same kind of indicators, serialised by the loader, and skip the ingest checks. A server is
    then started over it and the median latency of one page (``limit=100``; the first page, and
    a middle page selected with ``added_after``) is measured on both collections. Size on disk
    per object: SQLite, the database file (after a WAL checkpoint) / objects; PostgreSQL,
    ``pg_total_relation_size`` of every table of the schema (indexes and TOAST included) /
    objects.

where memory goes
    ``python -X importtime -c "import hub.server"``: the top-level packages by cumulative import
    time; and tracemalloc over ``import hub.server`` plus ``create_app``: the packages holding
    the most allocated memory.

Output: a table on stdout, ``bench/results/ops-<timestamp>.json`` and
``bench/results/ops-latest.json``. Targets are printed met / NOT met: polls at 2 workers at
least 1.7x one worker on PostgreSQL; master at most 30 MiB and each worker at most 50 MiB (PSS);
a page at ``--big`` within 1.5x of the page at 10,000.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import requests

from bench import data as bench_data
from bench import servers as srv
from bench.servers import TAXII_ACCEPT, log

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKER_COUNTS = (1, 2, 4)
MIB = 2**20
TARGET_POLL_RATIO_PG = 1.7
TARGET_MASTER_MIB = 30
TARGET_WORKER_MIB = 50
TARGET_BIG_RATIO = 1.5
SMALL = 10_000
BULK_TX = 20_000
TOML = "[taxii]\nmax_content_length = 8388608\nmax_page_size = 1000\n"


# --------------------------------------------------------------------------------------------
# stores and servers


@dataclass
class Store:
    """A fresh store: its database URL (None: the SQLite file of the home), the standbys that
    serve its reads (``database_read_urls``), and how to drop it."""

    kind: str
    url: str | None
    schema: str | None = None
    read_urls: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        env = {"HUB_DATABASE_URL": self.url} if self.url else {}
        if self.read_urls:
            env["HUB_DATABASE_READ_URLS"] = ",".join(self.read_urls)
        return env

    def drop(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(_plain(POSTGRES_URL), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (None: it answers)."""
    try:
        import psycopg

        with psycopg.connect(_plain(POSTGRES_URL), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: skip the store, and say why
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def new_store(kind: str) -> Store:
    if kind == "sqlite":
        return Store("sqlite", None)
    import psycopg

    schema = f"abusehub_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_plain(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    return Store("postgres", f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}", schema)


@dataclass
class Hub:
    """A seeded home: one provider party with read and write on the collections."""

    home: Path
    store: Store
    token: str
    party_pk: int
    collections: dict[str, tuple[str, int]]  # alias -> (id, pk)


def seed(workdir: Path, store: Store, aliases: list[str]) -> Hub:
    from hub.config import load_config
    from hub.services.hub import open_hub

    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(TOML)
    hub = open_hub(load_config(home, environ=store.env()), migrate=True)
    try:
        hub.prepare()  # the hub's keys, as 'abusehub init' makes them: serve never does
        party, token = hub.admin.add_party("bench", "provider")
        cols = {}
        for alias in aliases:
            col = hub.admin.add_collection(alias, alias=alias)
            hub.admin.grant("bench", col.id, True, True)
            cols[alias] = (col.id, col.pk)
    finally:
        hub.close()
    return Hub(home, store, token, party.pk, cols)


def serve(hub: Hub, workers: int, workdir: Path) -> srv.Running:
    port = srv.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(hub.store.env())
    log_path = workdir / f"server-{workers}.log"
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen([str(srv.ABUSEHUB_BIN), "--home", str(hub.home), "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", str(workers)],
                                stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    run = srv.Running("abusehub", proc, port, f"http://127.0.0.1:{port}/api/",
                      [c for c, _ in hub.collections.values()], srv.BearerAuth(hub.token), workdir, log_path)
    srv._wait_ready(run, 60)
    # Until every worker has booted (the first answer comes from the first one ready).
    deadline = time.monotonic() + 60
    while len(psutil.Process(proc.pid).children()) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    return run


def stop(run: srv.Running) -> None:
    import signal

    if run.proc.poll() is None:
        os.killpg(run.proc.pid, signal.SIGTERM)
        try:
            run.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.proc.pid, signal.SIGKILL)
            run.proc.wait(timeout=10)


class MemorySampler:
    """Peak RSS and PSS of the master and of each worker (by pid), sampled in a thread."""

    def __init__(self, master_pid: int, interval_s: float = 0.2) -> None:
        self.master_pid = master_pid
        self.interval_s = interval_s
        self.peaks: dict[int, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            master = psutil.Process(self.master_pid)
            procs = [master] + master.children()
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                info = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            peak = self.peaks.setdefault(p.pid, {"rss": 0, "pss": 0, "uss": 0})
            peak["rss"] = max(peak["rss"], info.rss)
            peak["pss"] = max(peak["pss"], getattr(info, "pss", 0))
            peak["uss"] = max(peak["uss"], info.uss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
        master = self.peaks.get(self.master_pid, {})
        workers = [v for pid, v in sorted(self.peaks.items()) if pid != self.master_pid]
        return {"master": master, "workers": workers}


# --------------------------------------------------------------------------------------------
# clients (separate processes: the GIL of one client process would cap the figures)


def _post_share(args: tuple[str, str, list[bytes]]) -> tuple[int, int]:
    url, token, bodies = args
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_ACCEPT, "Content-Type": TAXII_ACCEPT}
    ok = bad = 0
    with requests.Session() as http:
        for body in bodies:
            resp = http.post(url, data=body, headers=headers, timeout=120)
            if resp.status_code != 202:
                bad += 1
                continue
            status = resp.json()
            ok += int(status.get("success_count", 0))
            bad += int(status.get("failure_count", 0))
    return ok, bad


def _poll_for(args: tuple[str, str, float, int]) -> tuple[int, int]:
    """Full polls by ``next`` (limit 100) for ``seconds``; returns (objects, requests)."""
    url, token, seconds, expected = args
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_ACCEPT}
    end = time.monotonic() + seconds
    objects = reqs = 0
    with requests.Session() as http:
        while time.monotonic() < end:
            params: dict[str, str] = {"limit": "100"}
            got = 0
            while time.monotonic() < end:
                resp = http.get(url, params=params, headers=headers, timeout=120)
                reqs += 1
                if resp.status_code != 200:
                    raise RuntimeError(f"poll answered HTTP {resp.status_code}: {resp.text[:200]}")
                body = orjson.loads(resp.content)
                got += len(body.get("objects", []))
                if not body.get("more"):
                    if got != expected:
                        raise RuntimeError(f"a full poll received {got} objects, expected {expected}")
                    break
                params = {"limit": "100", "next": body["next"]}
            objects += got
    return objects, reqs


@dataclass
class RunFigures:
    store: str
    workers: int
    ingest_objs: float | None = None
    poll_objs: float | None = None
    poll_reqs: float | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_workers(kind: str, workers: int, n: int, clients: int, poll_s: float,
                objs: list[dict[str, Any]]) -> RunFigures:
    fig = RunFigures(kind, workers)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-ops-{kind}-{workers}-"))
    store = new_store(kind)
    run = None
    try:
        hub = seed(workdir, store, ["load"])
        run = serve(hub, workers, workdir)
        sampler = MemorySampler(run.proc.pid)
        url = run.objects_url(hub.collections["load"][0])
        bodies = [orjson.dumps({"objects": objs[i:i + 100]}) for i in range(0, n, 100)]
        shares = [(url, hub.token, bodies[c::clients]) for c in range(clients)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            t0 = time.perf_counter()
            results = pool.map(_post_share, shares)
            secs = time.perf_counter() - t0
            ok = sum(r[0] for r in results)
            bad = sum(r[1] for r in results)
            if ok != n or bad:
                raise RuntimeError(f"ingest stored {ok} of {n} ({bad} refused or failed)")
            fig.ingest_objs = n / secs
            t0 = time.perf_counter()
            polled = pool.map(_poll_for, [(url, hub.token, poll_s, n)] * clients)
            secs = time.perf_counter() - t0
            fig.poll_objs = sum(p[0] for p in polled) / secs
            fig.poll_reqs = sum(p[1] for p in polled) / secs
        fig.memory = sampler.stop()
        log(f"{kind} W={workers}: ingest {fig.ingest_objs:,.0f} obj/s, poll {fig.poll_objs:,.0f} obj/s "
            f"({fig.poll_reqs:,.0f} pages/s)")
    except Exception as exc:
        fig.error = f"failed: {exc}"[:300]
        log(f"{kind} W={workers}: {fig.error}")
    finally:
        if run is not None:
            stop(run)
        store.drop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return fig


# --------------------------------------------------------------------------------------------
# the large collection


def _bulk_versions(start: int, count: int) -> list[Any]:
    from hub.store.records import NewVersion

    created = "2026-01-01T00:00:00.000Z"
    version_us = 1_767_225_600_000_000
    out = []
    for i in range(start, start + count):
        sid = f"indicator--{uuid.uuid4()}"
        text = orjson.dumps({
            "type": "indicator", "spec_version": "2.1", "id": sid, "created": created, "modified": created,
            "name": f"C2 on abused IaaS instance {i}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
            "pattern_type": "stix", "valid_from": created,
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        }).decode()
        out.append(NewVersion(sid, "indicator", version_us, created, "2.1", text))
    return out


def bulk_load(sql_store: Any, collection_pk: int, party_pk: int, count: int) -> float:
    """Insert ``count`` objects through the store's transaction API; returns objects/s."""
    t0 = time.perf_counter()
    done = 0
    while done < count:
        k = min(BULK_TX, count - done)
        versions = _bulk_versions(done, k)
        with sql_store.transaction() as tx:
            tx.add_versions(collection_pk, party_pk, versions, time.time_ns() // 1000)
        done += k
        if sql_store.dialect == "postgresql" and (done == k or done % 200_000 == 0):
            # Fresh tables have no statistics: without them the planner scans the table for
            # add_versions' look-up of already-stored ids (autovacuum would catch up later).
            with sql_store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        if done % 200_000 == 0 or done == count:
            log(f"  bulk load: {done:,} / {count:,} ({done / (time.perf_counter() - t0):,.0f} obj/s)")
    return count / (time.perf_counter() - t0)


def _page_ms(url: str, token: str, params: dict[str, str], reps: int) -> float:
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_ACCEPT}
    times = []
    with requests.Session() as http:
        http.get(url, params=params, headers=headers, timeout=120)  # warm the connection
        for _ in range(reps):
            t0 = time.perf_counter()
            resp = http.get(url, params=params, headers=headers, timeout=120)
            times.append(time.perf_counter() - t0)
            if resp.status_code != 200 or len(resp.json().get("objects", [])) != 100:
                raise RuntimeError(f"page answered HTTP {resp.status_code}: {resp.text[:200]}")
    return statistics.median(times) * 1000


def _middle_mark(sql_store: Any, collection_pk: int, count: int) -> str:
    from sqlalchemy import select

    from hub.common.timestamps import format_timestamp_us
    from hub.store import schema as t

    o = t.objects
    with sql_store.engine.connect() as conn:
        us = conn.execute(select(o.c.date_added_us).where(o.c.collection_pk == collection_pk)
                          .order_by(o.c.date_added_us).offset(count // 2).limit(1)).scalar_one()
    return str(format_timestamp_us(us))


def _disk_bytes(sql_store: Any, store: Store, home: Path) -> int:
    if store.kind == "sqlite":
        with sql_store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in home.glob("hub.db*"))
    with sql_store.engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (store.schema,)).scalar_one())


def run_big(kind: str, big: int, reps: int) -> dict[str, Any]:
    from hub.store.sql import SqlStore

    out: dict[str, Any] = {"store": kind, "big": big}
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-ops-big-{kind}-"))
    store = new_store(kind)
    run = None
    sql_store = None
    try:
        hub = seed(workdir, store, ["small", "big"])
        sql_store = SqlStore(store.url or f"sqlite:///{(hub.home / 'hub.db').resolve()}")
        log(f"{kind}: bulk-loading {SMALL:,} + {big:,} objects through the store")
        bulk_load(sql_store, hub.collections["small"][1], hub.party_pk, SMALL)
        out["bulk_objs"] = bulk_load(sql_store, hub.collections["big"][1], hub.party_pk, big)
        if kind == "postgres":
            with sql_store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        total = SMALL + big
        out["disk_bytes"] = _disk_bytes(sql_store, store, hub.home)
        out["bytes_per_object"] = out["disk_bytes"] / total
        marks = {a: _middle_mark(sql_store, hub.collections[a][1], SMALL if a == "small" else big)
                 for a in ("small", "big")}
        run = serve(hub, 1, workdir)
        for alias in ("small", "big"):
            url = run.objects_url(hub.collections[alias][0])
            out[f"{alias}_first_ms"] = _page_ms(url, hub.token, {"limit": "100"}, reps)
            out[f"{alias}_middle_ms"] = _page_ms(url, hub.token, {"limit": "100", "added_after": marks[alias]}, reps)
        log(f"{kind}: page at {SMALL:,}: {out['small_first_ms']:.2f} / {out['small_middle_ms']:.2f} ms; "
            f"at {big:,}: {out['big_first_ms']:.2f} / {out['big_middle_ms']:.2f} ms; "
            f"{out['bytes_per_object']:,.0f} bytes/object on disk")
    except Exception as exc:
        out["error"] = f"failed: {exc}"[:300]
        log(f"{kind} large collection: {out['error']}")
    finally:
        if run is not None:
            stop(run)
        if sql_store is not None:
            sql_store.close()
        store.drop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return out


# --------------------------------------------------------------------------------------------
# where the memory goes


_TRACE = r"""
import sys, tracemalloc, tempfile, collections
tracemalloc.start(1)
import hub.server
from hub.config import load_config
home = tempfile.mkdtemp()
app = hub.server.create_app(load_config(home, environ={}))
snap = tracemalloc.take_snapshot()
by = collections.Counter()
for st in snap.statistics("filename"):
    f = st.traceback[0].filename
    key = "importlib (code objects, module dicts)"
    if "site-packages/" in f:
        key = f.split("site-packages/")[1].split("/")[0]
    elif "/hub/" in f:
        key = "hub." + f.split("/hub/")[1].split("/")[0].removesuffix(".py")
    elif "/lib/python3" in f:
        key = "stdlib"
    by[key] += st.size
import json, re
rss_kib = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"total": sum(by.values()), "top": by.most_common(12), "rss_kib": rss_kib,
                  "modules": len(sys.modules)}))
"""


def memory_breakdown() -> dict[str, Any]:
    py = str(srv.ROOT / ".venv" / "bin" / "python")
    out: dict[str, Any] = {}
    res = subprocess.run([py, "-X", "importtime", "-c", "import hub.server"], capture_output=True, text=True,
                         cwd=str(srv.ROOT), timeout=120)
    cum: dict[str, int] = {}
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m:  # self time, summed by top-level package (hub by its subpackage)
            parts = m.group(3).split(".")
            name = ".".join(parts[:2]) if parts[0] == "hub" else parts[0]
            cum[name] = cum.get(name, 0) + int(m.group(1))
    out["importtime_top_ms"] = sorted(((k, v / 1000) for k, v in cum.items()), key=lambda x: -x[1])[:12]
    # VmRSS, not ru_maxrss: the latter keeps this (large) process's peak across fork and exec.
    base = subprocess.run([py, "-c", "import re; print(re.search(r'VmRSS:\\s+(\\d+)', "
                           "open('/proc/self/status').read()).group(1))"], capture_output=True, text=True, timeout=60)
    out["bare_python_rss_mib"] = int(base.stdout.strip()) / 1024
    # The same without tracemalloc (which keeps a trace per allocation and so doubles the RSS).
    plain = _TRACE.replace("tracemalloc.start(1)", "").split("snap = ")[0] + (
        "import re\nprint(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n")
    res = subprocess.run([py, "-c", plain], capture_output=True, text=True, cwd=str(srv.ROOT), timeout=120)
    if res.returncode == 0:
        out["app_process_rss_mib"] = int(res.stdout.strip().splitlines()[-1]) / 1024
    res = subprocess.run([py, "-c", _TRACE], capture_output=True, text=True, cwd=str(srv.ROOT), timeout=120)
    if res.returncode == 0:
        info = json.loads(res.stdout.strip().splitlines()[-1])
        out["tracemalloc_total_mib"] = info["total"] / MIB
        out["tracemalloc_top_mib"] = [(k, v / MIB) for k, v in info["top"]]
        out["traced_process_rss_mib"] = info["rss_kib"] / 1024
        out["modules_loaded"] = info["modules"]
    else:
        out["tracemalloc_error"] = res.stderr[-300:]
    return out


# --------------------------------------------------------------------------------------------
# output


def _f(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}") + unit


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def render(runs: list[RunFigures], bigs: list[dict[str, Any]], mem: dict[str, Any], kinds: list[str],
           skipped: dict[str, str]) -> tuple[str, list[str]]:
    lines: list[str] = []
    header = ["figure", "workers"] + kinds + [f"{k} vs 1 worker" for k in kinds]
    rows: list[list[str]] = []
    by = {(r.store, r.workers): r for r in runs}

    def cell(kind: str, w: int, attr: str) -> float | None:
        r = by.get((kind, w))
        return getattr(r, attr) if r and not r.error else None

    for attr, label in (("ingest_objs", "ingest, 100/envelope (obj/s)"), ("poll_objs", "poll, limit 100 (obj/s)"),
                        ("poll_reqs", "poll, limit 100 (pages/s)")):
        for w in WORKER_COUNTS:
            row = [label, str(w)]
            for k in kinds:
                r = by.get((k, w))
                row.append(skipped.get(k) or (r.error if r and r.error else _f(cell(k, w, attr))))
            for k in kinds:
                row.append(_ratio(cell(k, w, attr), cell(k, 1, attr)))
            rows.append(row)
    for what in ("rss", "pss"):
        for w in WORKER_COUNTS:
            row = [f"peak {what.upper()} master / each worker (MiB)", str(w)]
            for k in kinds:
                r = by.get((k, w))
                if r and r.memory:
                    ws = " ".join(_f(x[what] / MIB) for x in r.memory["workers"])
                    row.append(f"{_f(r.memory['master'].get(what, 0) / MIB)} / {ws}")
                else:
                    row.append("-")
            row += [""] * len(kinds)
            rows.append(row)
    bigd = {b["store"]: b for b in bigs}
    big_n = bigs[0]["big"] if bigs else 0
    for key, label in (("bulk_objs", "bulk load through the store (obj/s)"),
                       ("small_first_ms", f"first page at {SMALL:,} (ms)"),
                       ("big_first_ms", f"first page at {big_n:,} (ms)"),
                       ("small_middle_ms", f"middle page at {SMALL:,} (ms)"),
                       ("big_middle_ms", f"middle page at {big_n:,} (ms)"),
                       ("bytes_per_object", "on disk per object (bytes)")):
        row = [label, "1" if "ms" in key else ""]
        for k in kinds:
            b = bigd.get(k, {})
            row.append(skipped.get(k) or b.get("error") or _f(b.get(key)))
        for k in kinds:
            b = bigd.get(k, {})
            if key.startswith("big_"):
                row.append(_ratio(b.get(key), b.get(key.replace("big_", "small_"))) + f" of {SMALL:,}")
            else:
                row.append("")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines.append(" | ".join(h.ljust(widths[i]) for i, h in enumerate(header)))
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) for r in rows]

    targets: list[str] = []
    pg1, pg2 = cell("postgres", 1, "poll_objs"), cell("postgres", 2, "poll_objs")
    if pg1 and pg2:
        gain = pg2 / pg1
        targets.append(f"polls at 2 workers vs 1 on PostgreSQL: {gain:.2f}x (target >= {TARGET_POLL_RATIO_PG}x): "
                       f"{'met' if gain >= TARGET_POLL_RATIO_PG else 'NOT met'}")
    else:
        targets.append("polls at 2 workers vs 1 on PostgreSQL: not measured: NOT met")
    for run in runs:
        if not run.memory:
            continue
        m = run.memory["master"].get("pss", 0) / MIB
        worst = max((x["pss"] for x in run.memory["workers"]), default=0) / MIB
        targets.append(f"{run.store}, {run.workers} worker(s): master peak PSS {m:.1f} MiB (target <= {TARGET_MASTER_MIB}): "
                       f"{'met' if m <= TARGET_MASTER_MIB else 'NOT met'}; largest worker peak PSS {worst:.1f} MiB "
                       f"(target <= {TARGET_WORKER_MIB}): {'met' if worst <= TARGET_WORKER_MIB else 'NOT met'}")
    for b in bigs:
        for what in ("first", "middle"):
            s, g = b.get(f"small_{what}_ms"), b.get(f"big_{what}_ms")
            if s and g:
                r = g / s
                targets.append(f"{b['store']}: {what} page at {b['big']:,} vs {SMALL:,}: {g:.2f} / {s:.2f} ms = {r:.2f}x "
                               f"(target within {TARGET_BIG_RATIO}x): {'met' if r <= TARGET_BIG_RATIO else 'NOT met'}")
    if mem:
        targets.append("")
        targets.append(f"Where the memory goes (one process: import hub.server + create_app): RSS "
                       f"{_f(mem.get('app_process_rss_mib'))} MiB, against {_f(mem.get('bare_python_rss_mib'))} "
                       f"MiB for a bare python; {mem.get('modules_loaded', '-')} modules; tracemalloc "
                       f"{_f(mem.get('tracemalloc_total_mib'))} MiB allocated by Python code, by package:")
        targets.append("  " + ", ".join(f"{k} {v:.1f}" for k, v in mem.get("tracemalloc_top_mib", [])))
        targets.append("  import time of 'import hub.server', self time by package (ms): "
                       + ", ".join(f"{k} {v:.0f}" for k, v in mem.get("importtime_top_ms", [])))
    return "\n".join(lines), targets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ops", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--stores", default="sqlite,postgres", help="sqlite,postgres (default: both)")
    ap.add_argument("--n", type=int, default=10_000, help="objects ingested and polled per run (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=4, help="client processes (default: %(default)s)")
    ap.add_argument("--poll-s", type=float, default=6.0, help="seconds of polling per run (default: %(default)s)")
    ap.add_argument("--big", type=int, default=1_000_000, help="objects in the large collection (default: %(default)s)")
    ap.add_argument("--page-reps", type=int, default=20, help="GETs per page latency (default: %(default)s)")
    ap.add_argument("--skip-big", action="store_true", help="leave out the large collection")
    ap.add_argument("--out", default=str(srv.BENCH_DIR / "results"), help="results folder")
    args = ap.parse_args(argv)
    started = datetime.now(UTC)
    t_start = time.monotonic()
    kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
    skipped: dict[str, str] = {}
    if "postgres" in kinds:
        problem = postgres_problem()
        if problem:
            skipped["postgres"] = f"skipped: no PostgreSQL at {POSTGRES_URL} ({problem})"
            log(skipped["postgres"])
    log(f"generating {args.n:,} indicators")
    objs = bench_data.objects("indicators", args.n)
    bench_data.require_valid(objs[:500], "a sample of the indicators")
    runs: list[RunFigures] = []
    for kind in kinds:
        if kind in skipped:
            continue
        for w in WORKER_COUNTS:
            runs.append(run_workers(kind, w, args.n, args.clients, args.poll_s, objs))
    log("where the memory goes: importtime and tracemalloc")
    mem = memory_breakdown()
    bigs = [] if args.skip_big else [run_big(k, args.big, args.page_reps) for k in kinds if k not in skipped]
    table, targets = render(runs, bigs, mem, kinds, skipped)
    elapsed = time.monotonic() - t_start
    print()
    print(table)
    print()
    print("\n".join(targets))
    print(f"\nThe {args.clients} client processes run on the same {os.cpu_count()} CPUs as the server. "
          f"The large collection was bulk-loaded through SqlStore.transaction().add_versions, "
          f"{BULK_TX:,} objects per transaction (not through HTTP).")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"started": started.isoformat(), "elapsed_s": round(elapsed, 1), "argv": sys.argv[1:] if argv is None else argv,
           "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                       "python": platform.python_version(), "platform": platform.platform()},
           "skipped": skipped, "runs": [r.__dict__ for r in runs], "large": bigs, "memory_breakdown": mem,
           "table": table, "targets": targets}
    written = srv.write_results(out, "ops", doc, started)
    print(f"Results: {written} (and ops-latest.json); elapsed {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
