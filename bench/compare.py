"""The benchmark of two versions of abusehub, run by turns: medians and ratios of every figure.

Usage (from the checkout whose benchmark code is used)::

    .venv/bin/python -m bench.compare b7583f0 HEAD            # make bench-before-after BEFORE=b7583f0
    .venv/bin/python -m bench.compare ../old ../new --runs 5 -- --servers abusehub --sizes 10000
    .venv/bin/python -m bench.compare --report bench/results/compare-<stamp>   # print again

BEFORE and AFTER are each a checkout of abusehub with its venv (``make .venv/.deps-hub`` in it)
or a commit, checked out with ``git worktree add`` under ``bench/results/trees/`` and given a
venv on first use. Both are measured by this checkout's benchmark (:mod:`bench.run`, the arguments of
``make bench-pages`` unless others follow ``--``), which starts the tree's own ``abusehub``
(``BENCH_ABUSEHUB``): only the hub differs between the two sides, never the measuring code.

The runs alternate, each pair in the other order than the one before (before, after; after,
before; before, after; ...), so that a change in the machine's load during the session falls on
both sides alike; the load average is recorded before each run. Per figure of :mod:`bench.run`
(data kind, N, metric): the median of each side's runs, the ratio after/before, the change in
per cent, and the noise: the larger of ``--tolerance`` and each side's spread ((max - min) /
median of its runs). A figure worse by more than the noise is marked ``WORSE``, one worse
within it ``worse, within noise``; ``better`` and ``same`` likewise. Results go to
``bench/results/compare-<stamp>/`` (each run's JSON, and ``compare.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
TREES = RESULTS / "trees"  # ignored by git, as the results are
#: What ``make bench-pages`` passes to bench.run.
MAKE_BENCH_ARGS = ["--servers", "abusehub", "--sizes", "10000,100000"]
#: A change smaller than this is never called worse: the project's limit for a drop without a reason.
TOLERANCE = 0.10

Key = tuple[str, str, int, str]  # (server, data kind, N, metric)


def log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- arithmetic ---------------------------------------------------------------------------------

def spread(values: Sequence[float]) -> float:
    """(max - min) / median of the runs: 0 for one run."""
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else 0.0


@dataclass
class Row:
    """One figure compared."""

    server: str
    data: str
    n: int
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    before: list[float]
    after: list[float]
    before_median: float
    after_median: float
    ratio: float  # after / before
    change: float  # after / before - 1
    noise: float
    verdict: str


def judge(before: Sequence[float], after: Sequence[float], higher_is_better: bool,
          tolerance: float = TOLERANCE) -> tuple[float, float, float, float, str]:
    """Medians, ratio after/before, noise and verdict of one figure's runs on both sides."""
    b, a = statistics.median(before), statistics.median(after)
    ratio = a / b if b else float("inf")
    change = ratio - 1
    noise = max(tolerance, spread(before), spread(after))
    better = change > 0 if higher_is_better else change < 0
    if abs(change) <= noise:
        verdict = "same" if better or change == 0 else "worse, within noise"
    else:
        verdict = "better" if better else "WORSE"
    return b, a, ratio, noise, verdict


def figures(doc: dict[str, Any]) -> dict[Key, float]:
    """The measured figures of one bench.run results document (cells with a number and no error)."""
    out: dict[Key, float] = {}
    for c in doc.get("cells", []):
        if c.get("value") is not None and not c.get("error"):
            out[(c["server"], c["data"], int(c["n"]), c["metric"])] = float(c["value"])
    return out


def compare(before_docs: Iterable[dict[str, Any]], after_docs: Iterable[dict[str, Any]],
            metrics: dict[str, tuple[str, str, str, bool]], tolerance: float = TOLERANCE) -> list[Row]:
    """A row per figure measured in at least one run on each side, in ``metrics`` order
    (``metrics``: key -> (key, label, unit, higher is better), as bench.run's METRIC_INFO)."""
    sides: list[dict[Key, list[float]]] = [{}, {}]
    for side, docs in zip(sides, (before_docs, after_docs), strict=True):
        for doc in docs:
            for key, value in figures(doc).items():
                side.setdefault(key, []).append(value)
    order = list(metrics)
    keys = sorted(set(sides[0]) & set(sides[1]),
                  key=lambda k: (k[0], k[1], k[2], order.index(k[3]) if k[3] in order else len(order), k[3]))
    rows = []
    for key in keys:
        _, label, unit, higher = metrics.get(key[3], (key[3], key[3], "", True))
        b, a, ratio, noise, verdict = judge(sides[0][key], sides[1][key], higher, tolerance)
        rows.append(Row(*key, label, unit, higher, sides[0][key], sides[1][key], b, a, ratio, ratio - 1,
                        noise, verdict))
    return rows


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def render(rows: list[Row]) -> str:
    """The table: a line per figure, how many runs measured it on each side, medians, ratio,
    change, noise and verdict."""
    header = ["data", "N", "figure", "runs", "before", "after", "after/before", "change", "noise", "verdict"]
    lines = [[r.data, f"{r.n:,}", f"{r.label} ({r.unit})", f"{len(r.before)}/{len(r.after)}",
              _num(r.before_median), _num(r.after_median),
              f"{r.ratio:.2f}", f"{r.change:+.1%}", f"±{r.noise:.0%}", r.verdict] for r in rows]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(h.ljust(widths[i]) for i, h in enumerate(header)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(widths[i]) for i, c in enumerate(x)) for x in lines]
    return "\n".join(out)


def run_order(runs: int) -> list[str]:
    """before, after; after, before; before, after; ... (``runs`` of each)."""
    order: list[str] = []
    for i in range(runs):
        order += ["before", "after"] if i % 2 == 0 else ["after", "before"]
    return order


# -- the runs -----------------------------------------------------------------------------------

def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def tree(spec: str) -> tuple[Path, str]:
    """The checkout ``spec`` names (a folder, or a commit checked out under bench/results/trees/) with a
    venv holding its hub, and the commit it is at."""
    path = Path(spec)
    if not path.is_dir():
        commit = _git("rev-parse", "--verify", f"{spec}^{{commit}}")
        path = TREES / commit[:12]
        if not path.is_dir():
            log(f"checking out {commit[:12]} into {path}")
            _git("worktree", "add", "--detach", str(path), commit)
    if not (path / ".venv" / "bin" / "abusehub").exists():
        log(f"making the venv of {path}")
        subprocess.run(["make", "-C", str(path), ".venv/.deps-hub"], check=True)
    head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--", "hub"],
                           capture_output=True, text=True).stdout.strip()
    return path.resolve(), head + (" (hub/ modified)" if dirty else "")


def bench_once(path: Path, out: Path, bench_args: list[str]) -> dict[str, Any]:
    """One bench.run (this checkout's) against the abusehub of ``path``; its results document."""
    env = {**os.environ, "BENCH_ABUSEHUB": str(path / ".venv" / "bin" / "abusehub")}
    cmd = [sys.executable, "-m", "bench.run", *bench_args, "--out", str(out)]
    with (out.parent / f"{out.name}.log").open("wb") as logf:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.run exited with {proc.returncode}: see {out.parent / f'{out.name}.log'}")
    return dict(json.loads((out / "latest.json").read_text()))


def report(folder: Path, tolerance: float) -> int:
    """Print the comparison of a finished session again (or of the runs it finished)."""
    from bench.run import METRIC_INFO

    meta = json.loads((folder / "session.json").read_text())
    docs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for run in meta["runs"]:
        latest = folder / run["name"] / "latest.json"
        if latest.exists():
            docs[run["side"]].append(json.loads(latest.read_text()))
    rows = compare(docs["before"], docs["after"], METRIC_INFO, tolerance)
    print(f"before: {meta['before']}\nafter:  {meta['after']}\n"
          f"runs: {len(docs['before'])} before, {len(docs['after'])} after, alternating; "
          f"{meta['cpus']} CPUs")
    for run in meta["runs"]:
        load = run.get("load_before")
        print(f"  {run['name']}: started {run.get('started', '-')}, load average {load or '-'}, "
              f"{run.get('elapsed_s', '-')} s")
    print()
    print(render(rows))
    print("\nMedians of each side's runs; change = after/before - 1; noise = the larger of "
          f"{tolerance:.0%} and each side's (max - min) / median.")
    (folder / "compare.json").write_text(json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=1))
    worse = [r for r in rows if r.verdict == "WORSE"]
    if worse:
        print(f"\n{len(worse)} figure(s) worse by more than the noise.")
    return 1 if worse else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bench_args = MAKE_BENCH_ARGS
    if "--" in argv:
        cut = argv.index("--")
        argv, bench_args = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(prog="python -m bench.compare", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("before", nargs="?", help="a checkout with its venv, or a commit")
    ap.add_argument("after", nargs="?", help="a checkout with its venv, or a commit")
    ap.add_argument("--runs", type=int, default=3, help="runs of each side (default: %(default)s)")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE,
                    help="the smallest change called worse or better (default: %(default)s)")
    ap.add_argument("--report", type=Path, help="print a finished session's comparison again")
    args = ap.parse_args(argv)
    if args.report:
        return report(args.report, args.tolerance)
    if not (args.before and args.after) or args.runs < 1:
        ap.error("give BEFORE and AFTER (and --runs of at least 1), or --report FOLDER")
    sides = {"before": tree(args.before), "after": tree(args.after)}
    folder = RESULTS / f"compare-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    folder.mkdir(parents=True)
    meta: dict[str, Any] = {"before": f"{sides['before'][1]} at {sides['before'][0]}",
                            "after": f"{sides['after'][1]} at {sides['after'][0]}",
                            "bench_args": bench_args, "cpus": os.cpu_count(), "runs": []}
    counts = {"before": 0, "after": 0}
    for side in run_order(args.runs):
        counts[side] += 1
        name = f"{side}-{counts[side]}"
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        log(f"{name}: load average {load}")
        run: dict[str, Any] = {"name": name, "side": side, "started": datetime.now(UTC).isoformat(timespec="seconds"),
               "load_before": load}
        meta["runs"].append(run)
        (folder / "session.json").write_text(json.dumps(meta, indent=1))
        t0 = time.monotonic()
        bench_once(sides[side][0], folder / name, bench_args)
        run["elapsed_s"] = round(time.monotonic() - t0)
        (folder / "session.json").write_text(json.dumps(meta, indent=1))
    print(f"Results: {folder}")
    return report(folder, args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
