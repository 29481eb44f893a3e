"""Reads and workers: the server's CPU time per 1,000 objects polled at 1, 2 and 4 workers.

Usage (from /work/main)::

    .venv/bin/python -m bench.reads            # 3 interleaved rounds of 1, 2, 4 workers, ~6 min
    .venv/bin/python -m bench.reads --quick    # 1 round, fewer polls, ~1 min
    .venv/bin/python -m bench.reads --stores sqlite --rounds 5

For each store, one collection is seeded with ``--objects`` indicators (:mod:`bench.data`, POSTed
in envelopes of 100 to a one-worker server):

sqlite
    the SQLite file of the hub's home.
postgres
    a fresh schema of ``HUB_TEST_POSTGRES_URL`` (as :mod:`bench.ops`), analysed once seeded.
standby
    a primary and one streaming hot standby of its own (:func:`tests.replication.clusters.replication_set`:
    ``initdb``, ``pg_basebackup -R``), the hub's ``database_url`` on the primary and its
    ``database_read_urls`` on the standby, so that polls are served by the standby.

Then, in interleaved rounds (the worker counts in a rotated order each round, so that a drift of
the machine's load falls on every count alike), ``abusehub serve --workers W`` is started over the
seeded store, warmed (full polls on fresh connections, so that every worker has served), and
``--clients`` client processes each make the same fixed polls: full polls by ``next`` at
``limit=1000`` and at ``limit=100``, each full poll on a fresh connection (gunicorn hands a
connection to one worker; fresh ones spread the polls over the workers). Measured over the polls:
the CPU time (user + system) of the server's process tree (the gunicorn master and its workers,
from psutil) per 1,000 objects received, and, on PostgreSQL, the CPU time of the database
backends serving the hub (found by the ``application_name`` of its connections), reported
separately; objects/s over the wall time. The table gives per store and worker count the median
over the rounds and the ratio to one worker's median; the target is a ratio of at most 1.10 at
2 and 4 workers on each store (nothing in the hub serialises its workers).

The clients run on the same cores as the server (the table says how many, and the load
average): wall-clock throughput is bounded by what they leave, CPU per object is not.

Output: the table on stdout, ``--out DIR/reads-latest.json`` and ``reads-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import requests

from bench import data as bench_data
from bench import ops
from bench import servers as srv
from bench.servers import TAXII_ACCEPT, log

STORES = ("sqlite", "postgres", "standby")
WORKER_COUNTS = (1, 2, 4)
#: At most this much above one worker's CPU per object, at every other worker count.
TARGET_RATIO = 1.10
APP_NAME = "abusehub_bench_reads"


# --------------------------------------------------------------------------------------------
# the polls (client processes)


@dataclass(frozen=True)
class PollPlan:
    """What each client polls: ``passes_1000`` full polls at limit 1000, ``passes_100`` at 100."""

    passes_1000: int
    passes_100: int

    def objects(self, collection_size: int, clients: int) -> int:
        return (self.passes_1000 + self.passes_100) * collection_size * clients


def full_poll(url: str, token: str, limit: int, expected: int) -> tuple[int, int]:
    """One full poll by ``next`` on a fresh connection; (objects, requests)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_ACCEPT}
    got = reqs = 0
    params = {"limit": str(limit)}
    with requests.Session() as http:
        while True:
            resp = http.get(url, params=params, headers=headers, timeout=120)
            reqs += 1
            if resp.status_code != 200:
                raise RuntimeError(f"poll answered HTTP {resp.status_code}: {resp.text[:200]}")
            body = orjson.loads(resp.content)
            got += len(body.get("objects", []))
            if not body.get("more"):
                break
            params = {"limit": str(limit), "next": body["next"]}
    if got != expected:
        raise RuntimeError(f"a full poll at limit {limit} received {got} objects, expected {expected}")
    return got, reqs


def _client(args: tuple[str, str, int, PollPlan]) -> tuple[int, int]:
    url, token, expected, plan = args
    objects = reqs = 0
    for limit, passes in ((1000, plan.passes_1000), (100, plan.passes_100)):
        for _ in range(passes):
            o, r = full_poll(url, token, limit, expected)
            objects += o
            reqs += r
    return objects, reqs


# --------------------------------------------------------------------------------------------
# CPU time




def backend_cpu(dsn: str | None, app_name: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend whose ``application_name`` is ``app_name`` (the
    database on the same machine: psutil reads its processes)."""
    if dsn is None:
        return {}
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app_name,))]
    out: dict[int, float] = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[pid] = t.user + t.system
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`backend_cpu` readings (a backend new since the first
    counts from zero)."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


# --------------------------------------------------------------------------------------------
# stores


@dataclass
class Target:
    """A seeded store the rounds serve: the hub home, the collection's URL path, and the DSNs of
    the databases whose backends are measured (primary; standby)."""

    kind: str
    hub: ops.Hub
    collection_id: str
    primary_dsn: str | None = None
    standby_dsn: str | None = None
    notes: list[str] = field(default_factory=list)


def _with_app_name(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={APP_NAME}"


def _dsn(url: str) -> str:
    """A libpq DSN of the server and database of a SQLAlchemy URL (no search_path)."""
    return ops._plain(url).split("?", 1)[0]


def _ingest(hub: ops.Hub, workdir: Path, n: int, clients: int) -> None:
    objs = bench_data.objects("indicators", n)
    run = ops.serve(hub, 1, workdir)
    try:
        url = run.objects_url(hub.collections["reads"][0])
        bodies = [orjson.dumps({"objects": objs[i : i + 100]}) for i in range(0, n, 100)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            results = pool.map(ops._post_share, [(url, hub.token, bodies[c::clients]) for c in range(clients)])
        ok = sum(r[0] for r in results)
        bad = sum(r[1] for r in results)
        if ok != n or bad:
            raise RuntimeError(f"seeding stored {ok} of {n} ({bad} refused or failed)")
    finally:
        ops.stop(run)


@contextmanager
def prepared(kind: str, n: int, clients: int) -> Iterator[Target]:
    """A store of ``kind`` seeded with ``n`` indicators in one collection; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-reads-{kind}-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        primary_dsn = standby_dsn = None
        standby = None
        if kind == "standby":
            from tests.replication.clusters import replication_set, wait_streaming

            primary, standbys = stack.enter_context(replication_set(1))
            standby = standbys[0]
            store = ops.Store("standby", _with_app_name(primary.url), read_urls=(_with_app_name(standby.url),))
            primary_dsn, standby_dsn = _dsn(primary.url), _dsn(standby.url)
        else:
            store = ops.new_store(kind)
            stack.callback(store.drop)
            if store.url is not None:
                store.url = _with_app_name(store.url)
                primary_dsn = _dsn(store.url)
        hub = ops.seed(workdir, store, ["reads"])
        log(f"{kind}: seeding {n:,} indicators")
        _ingest(hub, workdir, n, clients)
        if primary_dsn is not None:
            import psycopg

            with psycopg.connect(ops._plain(store.url or ""), autocommit=True) as conn:
                conn.execute("ANALYZE")  # the statistics autovacuum would gather in time
        if standby is not None:
            wait_streaming(primary, standby)
        yield Target(kind, hub, hub.collections["reads"][0], primary_dsn, standby_dsn)


# --------------------------------------------------------------------------------------------
# one measurement


@dataclass
class Measure:
    store: str
    round: int
    workers: int
    objects: int = 0
    requests: int = 0
    wall_s: float = 0.0
    hub_cpu_s: float = 0.0
    primary_cpu_s: float = 0.0
    standby_cpu_s: float = 0.0
    error: str | None = None

    def per_1000(self, cpu_s: float) -> float:
        return cpu_s * 1000 / (self.objects / 1000) if self.objects else 0.0

    @property
    def cpu_ms_per_1000(self) -> float:
        return self.per_1000(self.hub_cpu_s)

    @property
    def objects_s(self) -> float:
        return self.objects / self.wall_s if self.wall_s else 0.0


def measure(target: Target, workers: int, rnd: int, clients: int, plan: PollPlan, warm: int, n: int) -> Measure:
    m = Measure(target.kind, rnd, workers)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-reads-{target.kind}-{workers}-"))
    run = None
    try:
        run = ops.serve(target.hub, workers, workdir)
        url = run.objects_url(target.collection_id)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            # Warm-up: full polls on fresh connections, several per worker.
            pool.map(_client, [(url, target.hub.token, n, PollPlan(warm * workers, 0))] * clients)
            time.sleep(0.5)
            cpu0 = srv.tree_cpu(run.proc.pid)
            p0 = backend_cpu(target.primary_dsn, APP_NAME)
            s0 = backend_cpu(target.standby_dsn, APP_NAME)
            t0 = time.perf_counter()
            results = pool.map(_client, [(url, target.hub.token, n, plan)] * clients)
            m.wall_s = time.perf_counter() - t0
            m.hub_cpu_s = srv.tree_cpu(run.proc.pid) - cpu0
            m.primary_cpu_s = cpu_delta(p0, backend_cpu(target.primary_dsn, APP_NAME))
            m.standby_cpu_s = cpu_delta(s0, backend_cpu(target.standby_dsn, APP_NAME))
        m.objects = sum(r[0] for r in results)
        m.requests = sum(r[1] for r in results)
        log(
            f"{target.kind} round {rnd} W={workers}: {m.objects:,} objects in {m.wall_s:.1f} s "
            f"({m.objects_s:,.0f}/s), hub CPU {m.cpu_ms_per_1000:.1f} ms per 1,000"
            + (f", primary backends {m.per_1000(m.primary_cpu_s):.1f}" if target.primary_dsn else "")
            + (f", standby backends {m.per_1000(m.standby_cpu_s):.1f}" if target.standby_dsn else "")
        )
    except Exception as exc:
        m.error = f"failed: {exc}"[:300]
        log(f"{target.kind} round {rnd} W={workers}: {m.error}")
    finally:
        if run is not None:
            ops.stop(run)
        shutil.rmtree(workdir, ignore_errors=True)
    return m


def rotated(counts: tuple[int, ...], rnd: int) -> list[int]:
    """The worker counts of round ``rnd``: rotated by one each round."""
    k = rnd % len(counts)
    return list(counts[k:] + counts[:k])


# --------------------------------------------------------------------------------------------
# the table


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(measures: list[Measure], stores: list[str], counts: tuple[int, ...]) -> dict[str, Any]:
    """Per store and worker count: medians over the rounds and the ratio to one worker's."""
    out: dict[str, Any] = {}
    for store in stores:
        per: dict[str, Any] = {}
        for w in counts:
            ok = [m for m in measures if m.store == store and m.workers == w and m.error is None and m.objects]
            if not ok:
                continue
            per[str(w)] = {
                "cpu_ms_per_1000": _median([m.cpu_ms_per_1000 for m in ok]),
                "objects_s": _median([m.objects_s for m in ok]),
                "rounds": len(ok),
                "all_cpu_ms_per_1000": [round(m.cpu_ms_per_1000, 2) for m in ok],
            }
            if any(m.primary_cpu_s for m in ok):
                per[str(w)]["primary_db_cpu_ms_per_1000"] = _median([m.per_1000(m.primary_cpu_s) for m in ok])
            if any(m.standby_cpu_s for m in ok):
                per[str(w)]["standby_db_cpu_ms_per_1000"] = _median([m.per_1000(m.standby_cpu_s) for m in ok])
        base = per.get(str(counts[0]), {}).get("cpu_ms_per_1000")
        for v in per.values():
            v["ratio_to_1"] = v["cpu_ms_per_1000"] / base if base else None
        if per:
            out[store] = per
    return out


def targets_met(summary: dict[str, Any], counts: tuple[int, ...]) -> dict[str, bool]:
    met = {}
    for store, per in summary.items():
        ratios = [per[str(w)]["ratio_to_1"] for w in counts[1:] if str(w) in per]
        met[store] = len(ratios) == len(counts) - 1 and all(r is not None and r <= TARGET_RATIO for r in ratios)
    return met


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def render(summary: dict[str, Any], counts: tuple[int, ...]) -> str:
    """The summary as a markdown table."""
    lines = [
        "| store | workers | hub CPU ms / 1,000 objects (median) | ratio to 1 worker | "
        "database CPU ms / 1,000 (primary / standby) | objects/s (median) | rounds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for store, per in summary.items():
        for w in counts:
            v = per.get(str(w))
            if v is None:
                lines.append(f"| {store} | {w} | - | - | - | - | 0 |")
                continue
            db = "-"
            if "primary_db_cpu_ms_per_1000" in v or "standby_db_cpu_ms_per_1000" in v:
                db = (
                    f"{_f(v.get('primary_db_cpu_ms_per_1000'), '.1f')} / "
                    f"{_f(v.get('standby_db_cpu_ms_per_1000'), '.1f')}"
                )
            lines.append(
                f"| {store} | {w} | {_f(v['cpu_ms_per_1000'], '.1f')} | {_f(v['ratio_to_1'], '.2f')} | "
                f"{db} | {_f(v['objects_s'], ',.0f')} | {v['rounds']} |"
            )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.reads", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--stores", default=",".join(STORES), help="sqlite,postgres,standby (default: all)")
    ap.add_argument("--workers", default=",".join(map(str, WORKER_COUNTS)), help="worker counts; the first is the base")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; --quick 1)")
    ap.add_argument("--objects", type=int, default=None, help="objects in the collection (default 10000; --quick 2000)")
    ap.add_argument("--clients", type=int, default=2, help="client processes (default: %(default)s)")
    ap.add_argument("--passes-1000", type=int, default=None, help="full polls at limit 1000 per client (default 2)")
    ap.add_argument("--passes-100", type=int, default=None, help="full polls at limit 100 per client (default 1)")
    ap.add_argument("--warm", type=int, default=1, help="warm-up full polls per client and worker (default 1)")
    ap.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    ap.add_argument("--out", default=str(srv.BENCH_DIR / "results"), help="results folder")
    args = ap.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (1 if quick else 3)
    args.objects = args.objects or (2000 if quick else 10_000)
    args.passes_1000 = 2 if args.passes_1000 is None else args.passes_1000
    args.passes_100 = 1 if args.passes_100 is None else args.passes_100
    args.store_list = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(args.store_list) - set(STORES)
    if unknown:
        ap.error(f"unknown store(s): {', '.join(sorted(unknown))} (known: {', '.join(STORES)})")
    args.counts = tuple(int(w) for w in args.workers.split(","))
    return args


def skipped_stores(kinds: list[str]) -> dict[str, str]:
    out = {}
    if "postgres" in kinds:
        problem = ops.postgres_problem()
        if problem:
            out["postgres"] = f"no PostgreSQL at {ops.POSTGRES_URL} ({problem})"
    if "standby" in kinds:
        from tests.replication.clusters import missing_reason

        reason = missing_reason()
        if reason:
            out["standby"] = reason
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    t_start = time.monotonic()
    skipped = skipped_stores(args.store_list)
    for store, why in skipped.items():
        log(f"{store}: skipped: {why}")
    plan = PollPlan(args.passes_1000, args.passes_100)
    measures: list[Measure] = []
    kinds = [k for k in args.store_list if k not in skipped]
    load_before = os.getloadavg()
    for kind in kinds:
        try:
            with prepared(kind, args.objects, args.clients) as target:
                for rnd in range(args.rounds):
                    for w in rotated(args.counts, rnd):
                        measures.append(measure(target, w, rnd, args.clients, plan, args.warm, args.objects))
        except Exception as exc:
            skipped[kind] = f"failed: {exc}"[:300]
            log(f"{kind}: {skipped[kind]}")
    summary = summarise(measures, kinds, args.counts)
    met = targets_met(summary, args.counts)
    table = render(summary, args.counts)
    mach = machine()
    mach["loadavg_before"] = [round(x, 2) for x in load_before]
    elapsed = time.monotonic() - t_start
    print()
    print(table)
    print()
    for store in kinds:
        print(
            f"{store}: CPU per object at {', '.join(map(str, args.counts[1:]))} workers within "
            f"{TARGET_RATIO:.2f}x of {args.counts[0]}: {'met' if met.get(store) else 'NOT met'}"
        )
    for store, why in skipped.items():
        print(f"{store}: not measured: {why}")
    print(
        f"\n{args.clients} client processes on the same {mach['cpus']} CPUs ({mach['affinity']} usable) as "
        f"the server; load average {mach['loadavg_before']} before, {mach['loadavg']} after; "
        f"{args.rounds} round(s), each client {plan.passes_1000} full poll(s) at limit 1000 and "
        f"{plan.passes_100} at limit 100 of {args.objects:,} objects per measure."
    )
    doc = {
        "started": started.isoformat(),
        "elapsed_s": round(elapsed, 1),
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": mach,
        "rounds": [{**m.__dict__, "cpu_ms_per_1000": m.cpu_ms_per_1000, "objects_s": m.objects_s} for m in measures],
        "table": table,
        "summary": summary,
        "targets_met": met,
        "skipped": skipped,
        "plan": {
            "clients": args.clients,
            "objects": args.objects,
            "passes_1000": plan.passes_1000,
            "passes_100": plan.passes_100,
            "rounds": args.rounds,
            "workers": list(args.counts),
        },
    }
    written = srv.write_results(Path(args.out), "reads", doc, started)
    print(f"Results: {written} (and reads-latest.json); elapsed {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
