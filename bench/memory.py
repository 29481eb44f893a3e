"""The memory the hub's server holds: PSS of the master and of each worker after a poll workload.

Usage (from /work/main)::

    .venv/bin/python -m bench.memory                       # 1, 2 and 4 workers
    .venv/bin/python -m bench.memory --workers 2 --objects 1000 --polled 20000   # a quick look
    .venv/bin/python -m bench.memory --json out.json       # the figures as JSON too

For each worker count, a fresh SQLite home is made (``abusehub init``, one provider party with
read and write on one collection), ``abusehub serve --workers N`` is started, ``--objects``
indicators (:mod:`bench.data`) are ingested in envelopes of 100 and ``--polled`` objects are
polled back in pages of 1,000 (whole passes over the collection, repeated, each pass on a
connection of its own; by ``--clients`` clients at once), all through the hub's own client
(:class:`hub.client.taxii.TaxiiClient`). gunicorn gives a connection to one worker, so the passes
spread over the workers; more passes are polled while a worker has served none of them
(:data:`SERVED_CPU_S` of CPU), so that every worker has served, as on a hub many tools poll
(a worker that served nothing holds some 15 MiB less, and with two workers one idle the figure
would be a matter of which worker accepted which connection). Then, with the server idle, each
process's PSS (proportional set size: its private pages plus its share of the pages it shares
with the other processes, so the figures add up to what the server holds) and RSS are read from
``/proc/PID/smaps_rollup``, for the master (the ``serve`` process: gunicorn's arbiter) and for
each worker, with the total, and each process's CPU seconds. PSS does not depend on the machine's load, so the figures are comparable across runs
on a busy machine. Last, the targets, each met or not: with 2 workers the processes together at
most 100 MiB, with 1 worker each process at most 50 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

from bench import data
from bench.servers import ABUSEHUB_BIN, _check_run, _run_json, free_port, log

MIB = 1024 * 1024


def smaps_rollup(pid: int) -> dict[str, int]:
    """The ``Pss``, ``Rss``, ``Private_*`` and ``Shared_*`` lines of ``/proc/PID/smaps_rollup``, in bytes."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return out


#: The targets: master and workers together with 2 workers, and each process with 1 worker.
TARGET_2_WORKERS_TOTAL_MIB = 100.0
TARGET_1_WORKER_EACH_MIB = 50.0


def _process(pid: int, role: str) -> dict[str, Any]:
    s = smaps_rollup(pid)
    cpu = psutil.Process(pid).cpu_times()
    return {"role": role, "pid": pid, "pss_mib": round(s.get("Pss", 0) / MIB, 1),
            "rss_mib": round(s.get("Rss", 0) / MIB, 1),
            "private_mib": round((s.get("Private_Clean", 0) + s.get("Private_Dirty", 0)) / MIB, 1),
            # which workers served the workload (gunicorn gives a connection to one worker)
            "cpu_s": round(cpu.user + cpu.system, 1)}


def _workers(master: psutil.Process, count: int, timeout_s: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        children = master.children(recursive=False)
        if len(children) >= count:
            return sorted(children, key=lambda p: p.pid)
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start {count} worker(s) in {timeout_s:.0f} s")


def _home(workdir: Path) -> tuple[list[str], str, str]:
    home = workdir / "home"
    hub = [str(ABUSEHUB_BIN), "--home", str(home)]
    _check_run(hub + ["init"], "abusehub init")
    party = _run_json(hub + ["party", "add", "bench-provider", "--kind", "provider", "--json"])
    col = _run_json(hub + ["collection", "add", "bench-0", "--json"])
    _check_run(hub + ["grant", party["name"], col["id"], "--read", "--write"], "abusehub grant")
    return hub, str(party["token"]), str(col["id"])


def _wait_ready(client: Any, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"abusehub serve exited ({proc.returncode}):\n{log_path.read_text()[-2000:]}")
        try:
            client.discovery()
            return
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.2)
    raise RuntimeError(f"abusehub serve not ready after {timeout_s:.0f} s:\n{log_path.read_text()[-2000:]}")


def _poll(port: int, token: str, collection: str, n_polled: int) -> int:
    """Poll whole passes over ``collection``, each on a client (and connection) of its own, until
    ``n_polled`` objects have come back; returns how many did. gunicorn gives a connection to one
    worker: a connection per pass spreads the passes over the workers, as many providers' tools
    polling at once do."""
    from hub.client.taxii import TaxiiClient

    polled = 0
    while polled < n_polled:
        with TaxiiClient(f"http://127.0.0.1:{port}/api/", token) as client:
            for page in client.pages(collection, limit=1000):
                polled += len(page.objects)
                if polled >= n_polled:
                    break
    return polled


#: CPU seconds of polling from which a worker counts as having served part of the workload.
SERVED_CPU_S = 0.2
#: Passes added, at most, until every worker has served.
EXTRA_PASSES = 40


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def measure(workers: int, n_objects: int, n_polled: int, objs: list[dict[str, Any]],
            clients: int = 1, served_cpu_s: float = SERVED_CPU_S) -> dict[str, Any]:
    """One fresh server with ``workers`` workers: ingest, poll (``clients`` at once, each on its
    own connection), then the PSS of each process."""
    from hub.client.taxii import TaxiiClient

    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        hub, token, collection = _home(workdir)
        port = free_port()
        log_path = workdir / "server.log"
        with open(log_path, "wb") as logf:
            proc = subprocess.Popen(hub + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                           "--workers", str(workers)],
                                    stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, "HUB_TAXII_MAX_PAGE_SIZE": "1000"})
        with TaxiiClient(f"http://127.0.0.1:{port}/api/", token) as client:
            _wait_ready(client, proc, log_path)
            started = time.monotonic()
            for i in range(0, n_objects, 100):
                status = client.submit(collection, objs[i:i + 100])
                if status.failures or len(status.successes) != len(objs[i:i + 100]):
                    raise RuntimeError(f"envelope {i // 100}: {status.raw}")
            ingested_s = time.monotonic() - started
            started = time.monotonic()
            share = -(-n_polled // clients)
            workers_cpu = {w.pid: _cpu_s(w) for w in _workers(psutil.Process(proc.pid), workers)}
            with ThreadPoolExecutor(clients) as pool:
                polled = sum(pool.map(lambda _i: _poll(port, token, collection, share), range(clients)))
            # Every worker serves part of the polls (the figure of a server whose workers all
            # serve, as in use), however gunicorn happened to hand out the connections.
            extra = 0
            while extra < EXTRA_PASSES and any(_cpu_s(psutil.Process(pid)) - cpu < served_cpu_s
                                               for pid, cpu in workers_cpu.items()):
                polled += _poll(port, token, collection, n_objects)
                extra += 1
            every_worker_served = all(_cpu_s(psutil.Process(pid)) - cpu >= served_cpu_s
                                      for pid, cpu in workers_cpu.items())
            polled_s = time.monotonic() - started
        time.sleep(2.5)  # the workers finish what they were doing (and trim when idle: at most once a second)
        master = psutil.Process(proc.pid)
        procs = [_process(master.pid, "master")]
        procs += [_process(w.pid, f"worker {i + 1}") for i, w in enumerate(_workers(master, workers))]
        return {"workers": workers, "clients": clients, "objects": n_objects, "polled": polled,
                "every_worker_served": every_worker_served,
                "ingest_s": round(ingested_s, 1), "poll_s": round(polled_s, 1),
                "processes": procs, "total_pss_mib": round(sum(p["pss_mib"] for p in procs), 1),
                "total_rss_mib": round(sum(p["rss_mib"] for p in procs), 1)}
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def render(result: dict[str, Any]) -> str:
    """One line per process, and the total."""
    lines = [f"{result['workers']} worker(s): {result['objects']:,} objects ingested, "
             f"{result['polled']:,} polled by {result.get('clients', 1)} client(s), a connection per pass"
             + ("" if result.get("every_worker_served", True) else "; NOT every worker served")]
    for p in result["processes"]:
        lines.append(f"  {p['role']:<9} pid {p['pid']:>7}  PSS {p['pss_mib']:6.1f} MiB  "
                     f"RSS {p['rss_mib']:6.1f} MiB  private {p['private_mib']:6.1f} MiB  CPU {p.get('cpu_s', 0):5.1f} s")
    lines.append(f"  total              PSS {result['total_pss_mib']:6.1f} MiB  RSS {result['total_rss_mib']:6.1f} MiB")
    return "\n".join(lines)


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with the figure it was judged on: ``met`` is None when its worker count was
    not measured."""
    by_workers = {r["workers"]: r for r in results}
    one, two = by_workers.get(1), by_workers.get(2)
    largest = max((p["pss_mib"] for p in one["processes"]), default=0.0) if one else None
    return [
        {"target": f"2 workers: master and workers together <= {TARGET_2_WORKERS_TOTAL_MIB:.0f} MiB PSS",
         "figure_mib": two["total_pss_mib"] if two else None,
         "met": two["total_pss_mib"] <= TARGET_2_WORKERS_TOTAL_MIB if two else None},
        {"target": f"1 worker: each process <= {TARGET_1_WORKER_EACH_MIB:.0f} MiB PSS",
         "figure_mib": largest,
         "met": largest <= TARGET_1_WORKER_EACH_MIB if largest is not None else None},
    ]


def render_targets(judged: list[dict[str, Any]]) -> str:
    """One line per target: met, not met, or not measured."""
    lines = []
    for t in judged:
        if t["met"] is None:
            lines.append(f"target {t['target']}: not measured")
        else:
            lines.append(f"target {t['target']}: {t['figure_mib']:.1f} MiB, {'met' if t['met'] else 'NOT met'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated (1,2,4)")
    parser.add_argument("--objects", type=int, default=10_000, help="indicators ingested (10,000)")
    parser.add_argument("--polled", type=int, default=200_000, help="objects polled (200,000)")
    parser.add_argument("--clients", type=int, default=1,
                        help="clients polling at once (each pass on a connection of its own, so that "
                             "every worker serves part of the polls)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file too")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    objs = data.objects("indicators", args.objects)
    results = []
    for n in counts:
        log(f"{n} worker(s)")
        result = measure(n, args.objects, args.polled, objs, args.clients)
        print(render(result), flush=True)
        results.append(result)
    judged = targets(results)
    print(render_targets(judged), flush=True)
    if args.json:
        args.json.write_text(json.dumps({
            "what": "python -m bench.memory: PSS from /proc/PID/smaps_rollup after the poll workload",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average": [round(x, 2) for x in os.getloadavg()]},
            "runs": results, "targets": judged}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
