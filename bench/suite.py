"""``make bench``: every figure of the scale targets in one run, and the capacity model from them.

Usage (from /work/main)::

    .venv/bin/python -m bench.suite            # the whole run (about 20 minutes on two cores)
    .venv/bin/python -m bench.suite --quick    # a smoke run of every part (about 3 minutes)
    .venv/bin/python -m bench.suite --parts ingest,requests   # some parts only

Each part is a benchmark module run as a subprocess of its own (a fresh interpreter, with its own
timeout; its output goes to ``<part>.log`` in the results folder), in this order:

ingest
    :mod:`bench.ingest`: SQLite and PostgreSQL, 1 and 2 workers, indicators in envelopes of 100
    from two clients: objects/s, CPU of the hub and PostgreSQL per 1,000 objects, PostgreSQL's
    figures against SQLite's. Targets: PostgreSQL at 2 workers at least 5,000 objects/s, and its
    CPU (hub and PostgreSQL) per object within 1.5x of SQLite's.
requests
    this module's own part (``--part requests``), one worker per store: CPU (hub and database)
    of a poll that finds nothing new (``added_after`` the newest object) and per 1,000 objects
    of full polls at ``limit=1000``, and the bytes on disk per object stored through the API
    and per read's audit record (SQLite: ``dbstat``; PostgreSQL: ``pg_total_relation_size`` of
    each table, indexes and TOAST included). The capacity model's per-request and disk figures.
reads
    :mod:`bench.reads` (``--out DIR``; ``DIR/reads-latest.json``): CPU per 1,000 objects polled at
    1, 2 and 4 workers, SQLite, PostgreSQL and a standby. Target: 2 and 4 workers at most 10 %
    above 1 worker's.
memory
    :mod:`bench.memory` at 1, 2 and 4 workers: PSS after the poll workload. Targets: master and
    workers together at most 100 MiB with 2 workers; each process at most 50 MiB with 1.
federation
    :mod:`bench.federation` (``--out DIR``; ``DIR/federation-latest.json``): objects/s between two
    hubs, end to end and catching up. Target: 2,000 objects/s.
pages
    :mod:`bench.run` (abusehub alone, indicators, 10,000 and 100,000 objects): page latency,
    full polls; left out when the run has already taken ``--pages-after-min`` minutes. Target:
    the first page at 100k within 1.5x of the page at 10k.

A part that cannot run says why in its cells (``skipped: ...`` when PostgreSQL does not answer,
``not measured: ...`` when its module or its result file is missing, ``failed: ...`` or ``timed
out ...``), never a number. The load average before and after each part and the machine's cores
are printed with it. Then :mod:`bench.capacity`'s table from this run's figures.

Output: ``bench/results/suite-<timestamp>/`` with each part's results and log, ``summary.json``
and ``summary.md`` (the same tables as printed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import capacity

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

INGEST_TARGET_OBJ_S = 5_000
INGEST_TARGET_CPU_RATIO = 1.5
READS_TARGET_RATIO = 1.10
MEMORY_TARGET_2W_MIB = 100.0
MEMORY_TARGET_1W_PROC_MIB = 50.0
FEDERATION_TARGET_OBJ_S = 2_000
PAGE_TARGET_RATIO = 1.5


def log(msg: str) -> None:
    print(f"[suite {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# results


@dataclass
class Target:
    name: str
    met: bool | None  # None: not measured (skipped, missing, failed)
    figure: str

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "skipped" if self.figure.startswith("skipped") else "not measured"
        return "met" if self.met else "NOT met"


@dataclass
class PartResult:
    name: str
    state: str = "measured"  # measured | skipped | not measured | failed | timed out
    reason: str = ""
    seconds: float = 0.0
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    rows: list[list[str]] = field(default_factory=list)  # figure, measured
    targets: list[Target] = field(default_factory=list)

    def why(self) -> str:
        """The text of a cell with no figure."""
        return f"{self.state}: {self.reason}" if self.reason else self.state


class NotMeasured(Exception):
    """A part's figures are not there (the text says why)."""


# --------------------------------------------------------------------------------------------
# small helpers


def _f(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cores() -> dict[str, int]:
    """The machine's cores, and those this process may run on."""
    return {"cpus": os.cpu_count() or 0, "usable": len(os.sched_getaffinity(0))}


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be measured (None: it answers)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure: skip the store, and say why
        first = str(exc).splitlines()[0] if str(exc) else ""
        return f"no server at {POSTGRES_URL.split('@')[-1]} ({type(exc).__name__}: {first})"


def _read_json(path: Path, module: str) -> dict[str, Any]:
    if not path.is_file():
        raise NotMeasured(f"{module} wrote no {path.name}")
    try:
        doc = json.loads(path.read_text())
    except ValueError as exc:
        raise NotMeasured(f"{path.name} is not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise NotMeasured(f"{path.name} is not a JSON object")
    return doc


# --------------------------------------------------------------------------------------------
# readers: a part's result files -> summary, rows, targets


def read_ingest(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "ingest-latest.json", "bench.ingest")
    by: dict[str, dict[int, dict[str, Any]]] = {}
    for s in doc.get("served", []):
        by.setdefault(s["store"], {})[int(s["workers"])] = s
    summary: dict[str, Any] = {}
    for store in ("sqlite", "postgres"):
        if store not in by:
            why = f"skipped: PostgreSQL: {pg_problem}" if store == "postgres" and pg_problem else "not measured"
            summary[store] = {"error": why}
            res.rows.append([f"ingest {store}", why])
            continue
        summary[store] = {}
        for w, s in sorted(by[store].items()):
            if s.get("error"):
                summary[store][str(w)] = {"error": s["error"]}
                res.rows.append([f"ingest {store}, {w} worker(s)", s["error"]])
                continue
            together = (s.get("hub_cpu_ms") or 0.0) + (s.get("db_cpu_ms") or 0.0)
            summary[store][str(w)] = {
                "objects_s": s["objects_s"],
                "hub_cpu_ms": s["hub_cpu_ms"],
                "db_cpu_ms": s.get("db_cpu_ms"),
                "cpu_ms_per_1000": together,
                "load": s.get("load"),
            }
            db = f", PostgreSQL {s['db_cpu_ms']:.0f}" if s.get("db_cpu_ms") is not None else ""
            res.rows.append(
                [
                    f"ingest {store}, {w} worker(s)",
                    f"{s['objects_s']:,.0f} obj/s; CPU per 1,000 objects {together:.0f} ms "
                    f"(hub {s['hub_cpu_ms']:.0f}{db})",
                ]
            )

    def two(store: str) -> dict[str, Any] | None:
        cell = summary.get(store, {}).get("2")
        return cell if cell and "error" not in cell else None

    pg, lite = two("postgres"), two("sqlite")
    if pg and lite:
        ratio_s = pg["objects_s"] / lite["objects_s"]
        ratio_cpu = pg["cpu_ms_per_1000"] / lite["cpu_ms_per_1000"]
        summary["postgres_vs_sqlite_2w"] = {"objects_s": ratio_s, "cpu": ratio_cpu}
        res.rows.append(["ingest PostgreSQL / SQLite, 2 workers", f"{ratio_s:.2f}x obj/s, {ratio_cpu:.2f}x CPU"])
    skip = summary["postgres"].get("error") if "error" in summary.get("postgres", {}) else "not measured"
    res.targets.append(
        Target(
            f"PostgreSQL ingest at 2 workers >= {INGEST_TARGET_OBJ_S:,} obj/s",
            pg["objects_s"] >= INGEST_TARGET_OBJ_S if pg else None,
            f"{pg['objects_s']:,.0f} obj/s" if pg else skip,
        )
    )
    res.targets.append(
        Target(
            f"PostgreSQL ingest CPU per object <= {INGEST_TARGET_CPU_RATIO}x SQLite's (2 workers)",
            summary["postgres_vs_sqlite_2w"]["cpu"] <= INGEST_TARGET_CPU_RATIO if pg and lite else None,
            f"{pg['cpu_ms_per_1000']:.0f} / {lite['cpu_ms_per_1000']:.0f} ms = "
            f"{summary['postgres_vs_sqlite_2w']['cpu']:.2f}x"
            if pg and lite
            else skip,
        )
    )
    res.summary = summary


def read_requests(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "requests.json", "bench.suite --part requests")
    summary: dict[str, Any] = {}
    for store in ("sqlite", "postgres"):
        fig = doc.get("stores", {}).get(store)
        if fig is None:
            why = f"skipped: PostgreSQL: {pg_problem}" if store == "postgres" and pg_problem else "not measured"
            summary[store] = {"error": why}
            res.rows.append([f"requests {store}", why])
            continue
        summary[store] = fig
        if fig.get("error"):
            res.rows.append([f"requests {store}", fig["error"]])
            continue
        res.rows.append(
            [
                f"poll finding nothing new, {store}",
                f"{fig['empty_poll_ms']:.2f} ms CPU per request (database {fig['empty_poll_db_ms']:.2f})",
            ]
        )
        res.rows.append(
            [
                f"full polls limit=1000, {store}",
                f"{fig['poll_ms_per_1000']:.0f} ms CPU per 1,000 objects beyond the requests "
                f"(database {fig['poll_db_ms_per_1000']:.0f})",
            ]
        )
        res.rows.append(
            [
                f"on disk, {store}",
                f"{fig['bytes_per_object']:,.0f} bytes per object; {fig['bytes_per_read_record']:,.0f} "
                f"bytes per poll's audit record; {fig['bytes_per_status']:,.0f} bytes per status "
                "(envelope of 100)",
            ]
        )
    res.summary = summary


def read_reads(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "reads-latest.json", "bench.reads")
    summary = doc.get("summary")
    if not isinstance(summary, dict):
        raise NotMeasured("reads-latest.json has no summary")
    met = doc.get("targets_met") or {}
    res.summary = {"summary": summary, "targets_met": met}
    for store in ("sqlite", "postgres", "standby"):
        per = summary.get(store)
        if not isinstance(per, dict) or not per:
            why = (
                f"skipped: PostgreSQL: {pg_problem}"
                if store != "sqlite" and pg_problem
                else "not measured: not in reads-latest.json"
            )
            res.rows.append([f"reads {store}", why])
            res.targets.append(
                Target(f"reads {store}: CPU per object at 2 and 4 workers <= 1.10x 1 worker's", None, why)
            )
            continue
        cells = []
        for w in sorted(per, key=lambda k: int(k)):
            c = per[w]
            if not isinstance(c, dict):
                continue
            cells.append(
                f"{w}w {_f(c.get('objects_s'))} obj/s, {_f(c.get('cpu_ms_per_1000'))} ms/1,000 "
                f"({_f(c.get('ratio_to_1'), 2)}x)"
            )
        res.rows.append([f"reads {store}", "; ".join(cells)])
        ratios = [per[w].get("ratio_to_1") for w in per if w != "1" and isinstance(per[w], dict)]
        figure = ", ".join(f"{r:.2f}x" for r in ratios if isinstance(r, int | float)) or "-"
        res.targets.append(
            Target(
                f"reads {store}: CPU per object at 2 and 4 workers <= 1.10x 1 worker's",
                bool(met[store]) if store in met else None,
                figure,
            )
        )


def read_memory(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "memory.json", "bench.memory")
    runs = {int(r["workers"]): r for r in doc.get("runs", [])}
    if not runs:
        raise NotMeasured("memory.json has no runs")
    summary: dict[str, Any] = {}
    for w, r in sorted(runs.items()):
        largest = max(p["pss_mib"] for p in r["processes"])
        summary[str(w)] = {
            "total_pss_mib": r["total_pss_mib"],
            "largest_process_pss_mib": largest,
            "processes": {p["role"]: p["pss_mib"] for p in r["processes"]},
        }
        res.rows.append(
            [
                f"memory, {w} worker(s)",
                f"{r['total_pss_mib']:.1f} MiB PSS together ("
                + ", ".join(f"{p['role']} {p['pss_mib']:.1f}" for p in r["processes"])
                + ")",
            ]
        )
    res.summary = summary
    two, one = summary.get("2"), summary.get("1")
    res.targets.append(
        Target(
            f"memory with 2 workers <= {MEMORY_TARGET_2W_MIB:.0f} MiB PSS",
            two["total_pss_mib"] <= MEMORY_TARGET_2W_MIB if two else None,
            f"{two['total_pss_mib']:.1f} MiB" if two else "not measured",
        )
    )
    res.targets.append(
        Target(
            f"memory with 1 worker <= {MEMORY_TARGET_1W_PROC_MIB:.0f} MiB PSS per process",
            one["largest_process_pss_mib"] <= MEMORY_TARGET_1W_PROC_MIB if one else None,
            f"largest {one['largest_process_pss_mib']:.1f} MiB" if one else "not measured",
        )
    )


def read_federation(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "federation-latest.json", "bench.federation")
    summary = doc.get("summary")
    if not isinstance(summary, dict):
        raise NotMeasured("federation-latest.json has no summary")
    res.summary = {"summary": summary, "target_met": doc.get("target_met")}
    e2e, catch = summary.get("end_to_end_objects_per_s"), summary.get("catch_up_objects_per_s")
    res.rows.append(["federation", f"end to end {_f(e2e)} obj/s, catching up {_f(catch)} obj/s"])
    met = doc.get("target_met")
    res.targets.append(
        Target(
            f"federation >= {FEDERATION_TARGET_OBJ_S:,} obj/s",
            bool(met) if met is not None else None,
            f"end to end {_f(e2e)}, catching up {_f(catch)} obj/s",
        )
    )


def read_pages(folder: Path, res: PartResult, pg_problem: str | None) -> None:
    doc = _read_json(folder / "latest.json", "bench.run")
    cells: dict[tuple[int, str], Any] = {}
    for c in doc.get("cells", []):
        if c.get("server") == "abusehub" and c.get("data") == "indicators":
            cells[(int(c["n"]), c["metric"])] = c.get("value") if c.get("value") is not None else c.get("error")
    sizes = sorted({n for n, _ in cells})
    summary: dict[str, Any] = {}
    for n in sizes:
        fig = {
            m: cells.get((n, m))
            for m in ("page_first_ms", "page_middle_ms", "poll_p1000", "cpu_poll_p1000", "ingest_b100")
        }
        summary[str(n)] = fig

        def show(v: Any, d: int, unit: str) -> str:
            return f"{_f(v, d)} {unit}" if isinstance(v, int | float) else "-" if v is None else str(v)

        res.rows.append(
            [
                f"pages, {n:,} objects (SQLite, 1 worker)",
                f"first page {show(fig['page_first_ms'], 2, 'ms')}, middle page {show(fig['page_middle_ms'], 2, 'ms')}, "
                f"full poll p1000 {show(fig['poll_p1000'], 0, 'obj/s')}",
            ]
        )
    res.summary = summary
    small, big = summary.get("10000", {}).get("page_first_ms"), summary.get("100000", {}).get("page_first_ms")
    if isinstance(small, int | float) and isinstance(big, int | float) and small > 0:
        ratio = big / small
        target = Target(
            f"first page at 100k within {PAGE_TARGET_RATIO}x of 10k",
            ratio <= PAGE_TARGET_RATIO,
            f"{big:.2f} / {small:.2f} ms = {ratio:.2f}x",
        )
    else:
        target = Target(f"first page at 100k within {PAGE_TARGET_RATIO}x of 10k", None, "not measured at 10k and 100k")
    res.targets.append(target)


# --------------------------------------------------------------------------------------------
# the parts


@dataclass
class Part:
    name: str
    module: str
    full: list[str]
    quick: list[str]
    timeout_s: float
    quick_timeout_s: float
    reader: Callable[[Path, PartResult, str | None], None]
    result_flag: str = "--out"  # how the part is told its folder ("--json": a file in it)
    optional: bool = False  # written by another module that may not be in this checkout
    quick_flag: str | None = None  # passed in quick mode when the module's --help offers it


def parts() -> list[Part]:
    return [
        Part(
            "ingest",
            "bench.ingest",
            ["--stores", "sqlite,postgres", "--workers", "1,2", "--n", "10000"],
            ["--stores", "sqlite,postgres", "--workers", "2", "--n", "1000"],
            480,
            90,
            read_ingest,
        ),
        Part(
            "requests",
            "bench.suite",
            ["--part", "requests", "--n", "10000", "--polls", "2000"],
            ["--part", "requests", "--n", "500", "--polls", "200"],
            300,
            60,
            read_requests,
        ),
        Part(
            "reads",
            "bench.reads",
            [],
            ["--stores", "sqlite"],
            600,
            90,
            read_reads,
            optional=True,
            quick_flag="--quick",
        ),
        Part(
            "memory",
            "bench.memory",
            ["--workers", "1,2,4"],
            ["--workers", "1,2", "--objects", "1000", "--polled", "20000"],
            300,
            60,
            read_memory,
            result_flag="--json",
        ),
        Part(
            "federation", "bench.federation", ["-n", "30000"], ["-n", "1000"], 360, 60, read_federation, optional=True
        ),
        Part(
            "pages",
            "bench.run",
            ["--servers", "abusehub", "--sizes", "10000,100000", "--data", "indicators"],
            ["--quick", "--servers", "abusehub"],
            420,
            90,
            read_pages,
        ),
    ]


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _offers(module: str, flag: str) -> bool:
    """Whether ``python -m module --help`` names ``flag``."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return False
    return flag in out.stdout


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def run_part(part: Part, quick: bool, out: Path, pg_problem: str | None) -> PartResult:
    """Run one part as a subprocess with its timeout; read its figures."""
    res = PartResult(part.name)
    folder = out / part.name
    folder.mkdir(parents=True, exist_ok=True)
    if part.optional and not _has_module(part.module):
        res.state, res.reason = "not measured", f"{part.module} is not in this checkout"
        return res
    argv = list(part.quick if quick else part.full)
    if quick and part.quick_flag:
        if not _offers(part.module, part.quick_flag):
            res.state, res.reason = "not measured", f"{part.module} has no {part.quick_flag} (a quick run)"
            return res
        argv.append(part.quick_flag)
    argv += [part.result_flag, str(folder / "memory.json" if part.result_flag == "--json" else folder)]
    res.argv = ["python", "-m", part.module, *argv]
    log_path = out / f"{part.name}.log"
    timeout = part.quick_timeout_s if quick else part.timeout_s
    res.load_before = _load()
    t0 = time.monotonic()
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(
            [sys.executable, "-m", part.module, *argv],
            stdout=logf,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            rc = None
    res.seconds = round(time.monotonic() - t0, 1)
    res.load_after = _load()
    if rc is None:
        res.state, res.reason = "timed out", f"after {timeout:.0f} s (see {log_path.name})"
        return res
    if rc != 0:
        tail = _last_line(log_path)
        if part.optional and "unrecognized arguments" in tail:
            res.state, res.reason = "not measured", f"{part.module} does not take {part.result_flag}: {tail}"
        else:
            res.state, res.reason = "failed", f"{part.module} exited {rc}: {tail}"
        return res
    try:
        part.reader(folder, res, pg_problem)
    except NotMeasured as exc:
        res.state, res.reason = "not measured", str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        res.state, res.reason = "failed", f"its results could not be read ({type(exc).__name__}: {exc})"
    return res


# --------------------------------------------------------------------------------------------
# the capacity model's figures


def capacity_figures(results: dict[str, PartResult]) -> tuple[capacity.Figures | None, str]:
    """The model's figures from this run (PostgreSQL's when measured, else SQLite's), or why not.

    The memory figures are the least-squares line (:func:`capacity.fit_memory`) through the
    memory part's total PSS at each worker count it measured (a SQLite home, whatever the store
    of the other figures); None when that part did not run or measured one worker count."""
    req = results.get("requests")
    ing = results.get("ingest")
    mem = results.get("memory")
    if req is None or req.state != "measured":
        return None, f"no per-request figures ({req.why() if req else 'requests not run'})"
    store = "postgres" if not req.summary.get("postgres", {}).get("error") else "sqlite"
    r = req.summary.get(store, {})
    if r.get("error"):
        return None, f"no per-request figures ({r['error']})"
    source = {"polls and disk": f"requests part, {store}, 1 worker"}
    ingest = None
    if ing is not None and ing.state == "measured":
        for w in ("2", "1"):
            cell = ing.summary.get(store, {}).get(w)
            if isinstance(cell, dict) and "error" not in cell:
                ingest = cell
                source["ingest"] = f"ingest part, {store}, {w} workers"
                break
    if ingest is None:
        ingest = {"cpu_ms_per_1000": r["ingest_ms_per_1000"], "db_cpu_ms": r["ingest_db_ms_per_1000"]}
        source["ingest"] = f"requests part, {store}, 1 worker, one client"
    memory: tuple[float, float] | tuple[None, None] = (None, None)
    if mem is not None and mem.state == "measured":
        totals = {int(w): cell["total_pss_mib"] for w, cell in mem.summary.items()}
        counts = sorted(totals)
        if len(counts) >= 2:
            memory = capacity.fit_memory(totals.items())
            names = ", ".join(map(str, counts[:-1])) + f" and {counts[-1]}"
            source["memory"] = f"memory part, SQLite home, {names} workers"
        else:
            source["memory"] = f"not fitted: the memory part measured one worker count ({counts[0]})"
    return capacity.Figures(
        poll_request_ms=r["empty_poll_ms"],
        poll_request_db_ms=r["empty_poll_db_ms"],
        poll_ms_per_1000=r["poll_ms_per_1000"],
        poll_db_ms_per_1000=r["poll_db_ms_per_1000"],
        ingest_ms_per_1000=ingest["cpu_ms_per_1000"],
        ingest_db_ms_per_1000=ingest.get("db_cpu_ms") or 0.0,
        bytes_per_object=r["bytes_per_object"],
        bytes_per_read_record=r["bytes_per_read_record"],
        bytes_per_status=r["bytes_per_status"],
        memory_base_mib=memory[0],
        memory_per_worker_mib=memory[1],
        source=source,
    ), store


# --------------------------------------------------------------------------------------------
# rendering


def render(results: list[PartResult], machine: dict[str, Any], cap_text: str) -> str:
    lines = [
        f"Machine: {machine['cpus']} cores ({machine['usable']} usable by the run), Python {machine['python']}; "
        f"load average at the start {machine['load_start']}",
        "",
        "| part | state | seconds | load before | load after |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.why()} | {r.seconds:.0f} | {' '.join(map(str, r.load_before)) or '-'} | "
            f"{' '.join(map(str, r.load_after)) or '-'} |"
        )
    lines += ["", "| figure | measured |", "| --- | --- |"]
    for r in results:
        if r.state != "measured":
            lines.append(f"| {r.name} | {r.why()} |")
        for figure, text in r.rows:
            lines.append(f"| {figure} | {text} |")
    lines += ["", "| target | figure | verdict |", "| --- | --- | --- |"]
    for r in results:
        if r.state != "measured" and not r.targets:
            lines.append(f"| {r.name} | {r.why()} | not measured |")
        for t in r.targets:
            lines.append(f"| {t.name} | {t.figure} | {t.verdict} |")
    lines += ["", "Capacity model (bench/capacity.py, docs/OPERATIONS.md):", "", cap_text]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the requests part (run as its own subprocess by the suite)


def _disk(kind: str, store: Any, home: Path) -> dict[str, int]:
    """Bytes on disk per table (its indexes and TOAST included)."""
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(f"file:{home / 'hub.db'}?mode=ro", uri=True)
        try:
            owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
            out: dict[str, int] = {}
            for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
                table = owner.get(name, name)
                out[table] = out.get(table, 0) + int(size)
            return out
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (store.schema,),
        ).fetchall()
    return {name: int(size) for name, size in rows}


def _audit_rows(kind: str, store: Any, home: Path) -> int:
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(f"file:{home / 'hub.db'}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{store.schema}".audit_log').fetchone()
    return int(row[0]) if row else 0


def _delta(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b)) if b.get(k, 0) != a.get(k, 0)}


def measure_requests(kind: str, n: int, polls: int) -> dict[str, Any]:
    """One store, one worker: ingest ``n`` indicators (one client, envelopes of 100), full polls
    at limit=1000, then ``polls`` polls that find nothing new; CPU of the hub's processes and of
    the database processes serving them, and the bytes each step added on disk."""
    import shutil
    import tempfile

    import orjson
    import requests

    from bench import data as bench_data
    from bench import ops
    from bench.ingest import _db_backends
    from bench.servers import TAXII_ACCEPT

    def cpu(run: Any) -> tuple[float, float]:
        db = sum(_db_backends(run).values()) if kind == "postgres" else 0.0
        return run.cpu_seconds(), db

    out: dict[str, Any] = {"store": kind, "objects": n, "workers": 1}
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-suite-{kind}-"))
    store = ops.new_store(kind)
    run = None
    try:
        hub = ops.seed(workdir, store, ["load"])
        run = ops.serve(hub, 1, workdir)
        url = run.objects_url(hub.collections["load"][0])
        headers = {"Authorization": f"Bearer {hub.token}", "Accept": TAXII_ACCEPT, "Content-Type": TAXII_ACCEPT}
        objs = bench_data.objects("indicators", n)
        bodies = [orjson.dumps({"objects": objs[i : i + 100]}) for i in range(0, n, 100)]
        time.sleep(1.5)  # the start-up's own records flushed
        disk0, audit0 = _disk(kind, store, hub.home), _audit_rows(kind, store, hub.home)
        with requests.Session() as http:
            c0 = cpu(run)
            for body in bodies:
                resp = http.post(url, data=body, headers=headers, timeout=120)
                if resp.status_code != 202 or resp.json().get("success_count") != len(orjson.loads(body)["objects"]):
                    raise RuntimeError(f"an envelope answered HTTP {resp.status_code}: {resp.text[:200]}")
            c1 = cpu(run)
            time.sleep(1.5)
            disk1, audit1 = _disk(kind, store, hub.home), _audit_rows(kind, store, hub.home)
            out["ingest_ms_per_1000"] = (c1[0] + c1[1] - c0[0] - c0[1]) * 1e6 / n
            out["ingest_db_ms_per_1000"] = (c1[1] - c0[1]) * 1e6 / n
            grown = _delta(disk0, disk1)
            out["ingest_bytes_by_table"] = grown
            # statuses are kept status_retention_hours, the rest for good
            out["bytes_per_object"] = sum(v for k, v in grown.items() if k != "statuses") / n
            out["bytes_per_status"] = grown.get("statuses", 0) / len(bodies)
            out["audit_records_ingest"] = audit1 - audit0

            # full polls at limit=1000 (whole passes), then polls finding nothing new
            passes = max(3, math.ceil(100_000 / n))
            pages = got = 0
            last = ""
            c2 = cpu(run)
            for _ in range(passes):
                params: dict[str, str] = {"limit": "1000"}
                while True:
                    resp = http.get(url, params=params, headers=headers, timeout=120)
                    pages += 1
                    if resp.status_code != 200:
                        raise RuntimeError(f"a poll answered HTTP {resp.status_code}: {resp.text[:200]}")
                    body = orjson.loads(resp.content)
                    got += len(body.get("objects", []))
                    last = resp.headers.get("X-TAXII-Date-Added-Last", last)
                    if not body.get("more"):
                        break
                    params = {"limit": "1000", "next": body["next"]}
            c3 = cpu(run)
            if got != passes * n:
                raise RuntimeError(f"full polls received {got} objects, expected {passes * n}")
            for _ in range(polls):
                resp = http.get(url, params={"limit": "1000", "added_after": last}, headers=headers, timeout=120)
                if resp.status_code != 200 or orjson.loads(resp.content).get("objects"):
                    raise RuntimeError(
                        f"a poll after the newest object answered HTTP {resp.status_code} "
                        f"with objects: {resp.text[:200]}"
                    )
            time.sleep(2.5)  # the read records flushed (every second) and their CPU counted
            c4 = cpu(run)
        disk2, audit2 = _disk(kind, store, hub.home), _audit_rows(kind, store, hub.home)
        empty_ms, empty_db = (c4[0] + c4[1] - c3[0] - c3[1]) * 1e3 / polls, (c4[1] - c3[1]) * 1e3 / polls
        full_ms = (c3[0] + c3[1] - c2[0] - c2[1]) * 1e3
        full_db = (c3[1] - c2[1]) * 1e3
        out.update(
            {
                "empty_poll_ms": empty_ms,
                "empty_poll_db_ms": empty_db,
                "empty_polls": polls,
                "full_poll_pages": pages,
                "objects_polled": got,
                "full_poll_ms_per_1000": full_ms * 1e3 / got,
                # the objects' own cost: the pages' request cost taken out
                "poll_ms_per_1000": max(0.0, full_ms - pages * empty_ms) * 1e3 / got,
                "poll_db_ms_per_1000": max(0.0, full_db - pages * empty_db) * 1e3 / got,
            }
        )
        records = audit2 - audit1
        grown = _delta(disk1, disk2)
        out["read_bytes_by_table"] = grown
        out["audit_records_read"] = records
        if records < pages + polls:
            raise RuntimeError(f"{records} audit records for {pages + polls} poll requests")
        out["bytes_per_read_record"] = grown.get("audit_log", 0) / records
        out["load"] = list(os.getloadavg())
    except Exception as exc:  # the part's cell says what failed
        out["error"] = f"failed: {type(exc).__name__}: {exc}"[:400]
    finally:
        if run is not None:
            ops.stop(run)
        store.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def requests_main(args: argparse.Namespace) -> int:
    problem = postgres_problem()
    stores = [s for s in args.stores.split(",") if s]
    doc: dict[str, Any] = {"what": "bench.suite --part requests", "stores": {}, "skipped": {}}
    for kind in stores:
        if kind == "postgres" and problem:
            doc["skipped"]["postgres"] = problem
            log(f"requests: skipped PostgreSQL: {problem}")
            continue
        log(f"requests: {kind}")
        fig = measure_requests(kind, max(100, args.n - args.n % 100), args.polls)
        doc["stores"][kind] = fig
        log(
            f"requests {kind}: "
            + (
                fig.get("error")
                or (
                    f"empty poll {fig['empty_poll_ms']:.2f} ms CPU, {fig['poll_ms_per_1000']:.0f} ms per 1,000 polled, "
                    f"{fig['bytes_per_object']:,.0f} B/object, {fig['bytes_per_read_record']:,.0f} B/read record"
                )
            )
        )
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requests.json").write_text(json.dumps(doc, indent=1))
    return 0


# --------------------------------------------------------------------------------------------


def run_suite(args: argparse.Namespace, part_list: list[Part]) -> tuple[Path, dict[str, Any]]:
    started = datetime.now(UTC)
    out = Path(args.out) / f"suite-{started.strftime('%Y%m%dT%H%M%SZ')}"
    out.mkdir(parents=True, exist_ok=True)
    machine = {**cores(), "python": platform.python_version(), "platform": platform.platform(), "load_start": _load()}
    pg_problem = postgres_problem()
    if pg_problem:
        log(f"PostgreSQL parts skipped: {pg_problem}")
    wanted = [p.strip() for p in args.parts.split(",") if p.strip()] if args.parts else None
    t0 = time.monotonic()
    results: dict[str, PartResult] = {}
    for part in part_list:
        if wanted is not None and part.name not in wanted:
            continue
        if part.name == "pages" and not args.quick and (time.monotonic() - t0) / 60 > args.pages_after_min:
            results[part.name] = PartResult(
                part.name,
                "skipped",
                f"the run had taken {(time.monotonic() - t0) / 60:.0f} "
                f"min (more than --pages-after-min {args.pages_after_min:g})",
            )
            continue
        log(
            f"{part.name}: python -m {part.module} (load average {' '.join(map(str, _load()))}, "
            f"{machine['usable']} cores)"
        )
        res = run_part(part, args.quick, out, pg_problem)
        results[part.name] = res
        log(f"{part.name}: {res.why()} in {res.seconds:.0f} s (load average {' '.join(map(str, res.load_after))})")
        for figure, text in res.rows:
            log(f"  {figure}: {text}")
        for t in res.targets:
            log(f"  target {t.name}: {t.figure}: {t.verdict}")
    fig, store = capacity_figures(results)
    if fig is None:
        cap_text, cap = f"not computed: {store}", None
    else:
        rows = capacity.table(fig)
        cap_text = f"From this run's {store} figures.\n" + capacity.render(fig, rows)
        cap = capacity.as_dict(fig, rows) | {"store": store}
    text = render(list(results.values()), machine, cap_text)
    doc = {
        "started": started.isoformat(),
        "elapsed_s": round(time.monotonic() - t0, 1),
        "quick": args.quick,
        "machine": machine,
        "postgres": pg_problem or "answered",
        "parts": {k: asdict(v) for k, v in results.items()},
        "capacity": cap,
        "table": text,
    }
    (out / "summary.json").write_text(json.dumps(doc, indent=1))
    (out / "summary.md").write_text(text + "\n")
    return out, doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.suite", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run of every part (about 3 minutes)")
    ap.add_argument(
        "--parts", default="", help="comma-separated parts to run (default: all): " + ",".join(p.name for p in parts())
    )
    ap.add_argument(
        "--pages-after-min",
        type=float,
        default=14.0,
        help="leave out the page latency part when the run has taken longer (default: %(default)s)",
    )
    ap.add_argument("--out", default=str(BENCH_DIR / "results"), help="results folder (default: bench/results)")
    ap.add_argument("--part", choices=["requests"], help=argparse.SUPPRESS)  # one part, as the suite runs it
    ap.add_argument("--n", type=int, default=10_000, help=argparse.SUPPRESS)
    ap.add_argument("--polls", type=int, default=2_000, help=argparse.SUPPRESS)
    ap.add_argument("--stores", default="sqlite,postgres", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.part == "requests":
        return requests_main(args)
    t0 = time.monotonic()
    out, doc = run_suite(args, parts())
    print()
    print(doc["table"])
    print(f"\nResults: {out}/summary.json and summary.md; elapsed {(time.monotonic() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
