"""Ingest benchmark: what one envelope costs, on SQLite and PostgreSQL side by side.

Usage (from /work/main)::

    .venv/bin/python -m bench.ingest                         # both stores, 1 and 2 workers, 10,000 objects
    .venv/bin/python -m bench.ingest --stores postgres --n 2000 --workers 2

Two parts per store (SQLite in the hub's home; PostgreSQL in a fresh schema of
``HUB_TEST_POSTGRES_URL``, as :mod:`bench.ops` makes them):

statements per envelope
    in this process, the hub's app (:func:`hub.server.create_app`, Flask's test client) over a
    fresh store takes ``--n`` indicators (:mod:`bench.data`) in envelopes of 100 from one
    party; every statement the store's engine sends is counted (SQLAlchemy's
    ``before_cursor_execute``: an ``executemany`` is one), and so is every connection taken from
    the pool (each is checked with a ping on PostgreSQL: one more round trip). On PostgreSQL the
    rows the envelopes made the server read are counted too, from ``pg_stat_user_tables``
    (``idx_tup_fetch + seq_tup_read`` of the schema's tables: what index and table scans
    fetched; foreign-key checks included), per object stored, and the index scans per envelope.
    These do not depend on the machine's load.
served
    a fresh ``abusehub serve --workers W`` over a fresh store; ``--clients`` client processes
    POST the ``--n`` indicators in envelopes of 100 at once: objects/s over the wall time
    (depends on the load: the load average is printed with it), and the CPU time (user and
    system) per 1,000 objects of the hub's process tree and, on PostgreSQL, of the server
    processes serving the hub's connections (found by their client ports), from /proc through
    psutil.

Output: a table on stdout and ``bench/results/ingest-<timestamp>.json`` (and ``ingest-latest.json``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench import data as bench_data
from bench import ops
from bench import servers as srv
from bench.servers import TAXII_ACCEPT, log

ENVELOPE = 100


@dataclass
class Counts:
    """What the envelopes of the in-process part cost the store, per envelope (per object)."""

    store: str
    envelopes: int = 0
    statements: float = 0.0
    checkouts: float = 0.0
    rows_read_per_object: float | None = None
    index_scans: float | None = None
    by_statement: list[tuple[float, str]] = field(default_factory=list)
    error: str | None = None


@dataclass
class Served:
    store: str
    workers: int
    objects_s: float | None = None
    hub_cpu_ms: float | None = None  # per 1,000 objects
    db_cpu_ms: float | None = None  # per 1,000 objects (PostgreSQL's processes serving the hub)
    load: tuple[float, float, float] | None = None
    error: str | None = None


def _rows_read(conn: Any) -> tuple[int, int]:
    conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
    row = conn.exec_driver_sql(
        "SELECT coalesce(sum(coalesce(idx_tup_fetch, 0) + seq_tup_read), 0), coalesce(sum(coalesce(idx_scan, 0)), 0) "
        "FROM pg_stat_user_tables WHERE schemaname = current_schema()").one()
    return int(row[0]), int(row[1])


def count_statements(kind: str, n: int, objs: list[dict[str, Any]]) -> Counts:
    """The in-process part (see the module's text)."""
    from sqlalchemy import event

    from hub.config import load_config
    from hub.server import create_app
    from hub.services.hub import open_hub

    out = Counts(kind)
    store = ops.new_store(kind)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{kind}-"))
    try:
        seeded = ops.seed(workdir, store, ["load"])
        config = load_config(seeded.home, environ=store.env())
        hub = open_hub(config)
        try:
            app = create_app(config, hub)
            http = app.test_client()
            col_id = seeded.collections["load"][0]
            url = f"/{config.taxii.api_root.strip('/')}/collections/{col_id}/objects/"
            headers = {"Authorization": f"Bearer {seeded.token}", "Accept": TAXII_ACCEPT,
                       "Content-Type": TAXII_ACCEPT}
            engine = hub.store.engine  # type: ignore[attr-defined]
            statements: Counter[str] = Counter()
            checkouts = [0]

            def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                statements[re.sub(r"\s+", " ", statement)[:120]] += 1

            def taken(*_: Any) -> None:
                checkouts[0] += 1

            bodies = [orjson.dumps({"objects": objs[i:i + ENVELOPE]}) for i in range(0, n, ENVELOPE)]
            resp = http.post(url, data=bodies[0], headers=headers)  # the first: caches warmed
            if resp.status_code != 202:
                raise RuntimeError(f"the first envelope answered HTTP {resp.status_code}")
            before = None
            if kind == "postgres":
                time.sleep(0.6)  # the statistics collector's interval (PostgreSQL < 15 reports late)
                with engine.connect() as conn:
                    before = _rows_read(conn)
            event.listen(engine, "before_cursor_execute", sent)
            event.listen(engine, "checkout", taken)
            for body in bodies[1:]:
                resp = http.post(url, data=body, headers=headers)
                if resp.status_code != 202 or resp.get_json()["success_count"] != ENVELOPE:
                    raise RuntimeError(f"an envelope answered HTTP {resp.status_code}: {resp.get_data()[:200]!r}")
            event.remove(engine, "before_cursor_execute", sent)
            event.remove(engine, "checkout", taken)
            envelopes = len(bodies) - 1
            out.envelopes = envelopes
            out.statements = sum(statements.values()) / envelopes
            out.checkouts = checkouts[0] / envelopes
            out.by_statement = [(round(c / envelopes, 2), s) for s, c in statements.most_common()]
            if before is not None:
                time.sleep(0.6)
                with engine.connect() as conn:
                    after = _rows_read(conn)
                out.rows_read_per_object = (after[0] - before[0]) / (envelopes * ENVELOPE)
                out.index_scans = (after[1] - before[1]) / envelopes
        finally:
            hub.close()
        log(f"{kind}: {out.statements:.1f} statements and {out.checkouts:.1f} connections taken per envelope"
            + (f", {out.rows_read_per_object:.1f} rows read per object, {out.index_scans:.1f} index scans "
               "per envelope" if out.rows_read_per_object is not None else ""))
    except Exception as exc:
        out.error = f"failed: {exc}"[:300]
        log(f"{kind}: {out.error}")
    finally:
        store.drop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _hub_procs(run: srv.Running) -> list[psutil.Process]:
    root = psutil.Process(run.proc.pid)
    return [root] + root.children(recursive=True)


def _db_backends(run: srv.Running) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL server process serving one of the hub's
    connections (by the client port of the connection)."""
    ports = set()
    for p in _hub_procs(run):
        try:
            ports |= {c.laddr.port for c in p.net_connections(kind="tcp") if c.raddr and c.raddr.port == 5432}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    if not ports:
        return {}
    import psycopg

    with psycopg.connect(ops._plain(ops.POSTGRES_URL), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)",
                                           (sorted(ports),))]
    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[pid] = t.user + t.system
    return out


def serve_ingest(kind: str, workers: int, n: int, clients: int, objs: list[dict[str, Any]]) -> Served:
    """The served part (see the module's text)."""
    fig = Served(kind, workers)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{kind}-{workers}-"))
    store = ops.new_store(kind)
    run = None
    try:
        hub = ops.seed(workdir, store, ["load"])
        run = ops.serve(hub, workers, workdir)
        url = run.objects_url(hub.collections["load"][0])
        bodies = [orjson.dumps({"objects": objs[i:i + ENVELOPE]}) for i in range(0, n, ENVELOPE)]
        shares = [(url, hub.token, bodies[c::clients]) for c in range(clients)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            hub0 = run.cpu_seconds()
            db0 = _db_backends(run) if kind == "postgres" else {}
            t0 = time.perf_counter()
            results = pool.map(ops._post_share, shares)
            secs = time.perf_counter() - t0
            hub1 = run.cpu_seconds()
            db1 = _db_backends(run) if kind == "postgres" else {}
        fig.load = os.getloadavg()
        ok, bad = sum(r[0] for r in results), sum(r[1] for r in results)
        if ok != n or bad:
            raise RuntimeError(f"ingest stored {ok} of {n} ({bad} refused or failed)")
        fig.objects_s = n / secs
        fig.hub_cpu_ms = (hub1 - hub0) * 1e6 / n
        if kind == "postgres":
            fig.db_cpu_ms = sum(v - db0.get(pid, 0.0) for pid, v in db1.items()) * 1e6 / n
        log(f"{kind} W={workers}: {fig.objects_s:,.0f} obj/s, CPU per 1,000 objects: hub {fig.hub_cpu_ms:.0f} ms"
            + (f", PostgreSQL {fig.db_cpu_ms:.0f} ms" if fig.db_cpu_ms is not None else "")
            + f" (load average {fig.load[0]:.2f})")
    except Exception as exc:
        fig.error = f"failed: {exc}"[:300]
        log(f"{kind} W={workers}: {fig.error}")
    finally:
        if run is not None:
            ops.stop(run)
        store.drop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return fig


def render(counts: list[Counts], served: list[Served]) -> str:
    lines = ["| store | statements / envelope | connections taken / envelope | rows read / object | index scans / envelope |",
             "| --- | --- | --- | --- | --- |"]
    for c in counts:
        if c.error:
            lines.append(f"| {c.store} | {c.error} | | | |")
            continue
        rows = "-" if c.rows_read_per_object is None else f"{c.rows_read_per_object:.1f}"
        scans = "-" if c.index_scans is None else f"{c.index_scans:.1f}"
        lines.append(f"| {c.store} | {c.statements:.1f} | {c.checkouts:.1f} | {rows} | {scans} |")
    lines += ["", "| store | workers | obj/s | hub CPU / 1,000 obj (ms) | PostgreSQL CPU / 1,000 obj (ms) | "
              "together (ms) | load average |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in served:
        if s.error:
            lines.append(f"| {s.store} | {s.workers} | {s.error} | | | | |")
            continue
        together = (s.hub_cpu_ms or 0) + (s.db_cpu_ms or 0)
        db = "-" if s.db_cpu_ms is None else f"{s.db_cpu_ms:.0f}"
        load = "" if s.load is None else f"{s.load[0]:.2f}"
        lines.append(f"| {s.store} | {s.workers} | {s.objects_s:,.0f} | {s.hub_cpu_ms:.0f} | {db} | {together:.0f} | {load} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ingest", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--stores", default="sqlite,postgres", help="sqlite,postgres (default: both)")
    ap.add_argument("--n", type=int, default=10_000, help="objects per run, in envelopes of 100 (default: %(default)s)")
    ap.add_argument("--workers", default="1,2", help="worker counts served (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=2, help="client processes (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=1, help="served runs of each store and worker count, "
                    "interleaved (default: %(default)s)")
    ap.add_argument("--skip-served", action="store_true", help="only count statements")
    ap.add_argument("--out", default=str(srv.BENCH_DIR / "results"), help="results folder")
    args = ap.parse_args(argv)
    started = datetime.now(UTC)
    kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
    if "postgres" in kinds and (problem := ops.postgres_problem()):
        log(f"skipped PostgreSQL: no server at {ops.POSTGRES_URL} ({problem})")
        kinds.remove("postgres")
    n = max(ENVELOPE * 2, args.n - args.n % ENVELOPE)
    objs = bench_data.objects("indicators", n)
    bench_data.require_valid(objs[:500], "a sample of the indicators")
    counts = [count_statements(k, n, objs) for k in kinds]
    served: list[Served] = []
    if not args.skip_served:
        for _ in range(args.rounds):
            for w in (int(x) for x in args.workers.split(",") if x.strip()):
                for k in kinds:
                    served.append(serve_ingest(k, w, n, args.clients, objs))
    table = render(counts, served)
    print()
    print(table)
    print(f"\n{n:,} indicators in envelopes of {ENVELOPE} from {args.clients} client processes on the same "
          f"{os.cpu_count()} CPUs as the hub and PostgreSQL; statements counted over "
          f"{n:,} objects in-process.")
    for c in counts:
        print(f"\n{c.store}, statements per envelope:")
        for per, text in c.by_statement:
            print(f"  {per:6.2f}  {text}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"started": started.isoformat(), "argv": sys.argv[1:] if argv is None else argv,
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "counts": [asdict(c) for c in counts], "served": [asdict(s) for s in served], "table": table}
    print(f"\nResults: {srv.write_results(out, 'ingest', doc, started)} (and ingest-latest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
