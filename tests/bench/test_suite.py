"""bench.suite without servers: a part that is missing, refuses its arguments, fails or writes
nothing says so in its cells; the readers turn result files into figures and targets; the
capacity model takes this run's figures (PostgreSQL's, else SQLite's)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from bench import suite
from bench.suite import Part, PartResult


def _part(module: str, argv: list[str], reader: Any = suite.read_reads, optional: bool = False) -> Part:
    return Part("reads", module, argv, argv, 60, 60, reader, optional=optional)


def test_a_part_whose_module_is_missing_is_not_measured(tmp_path: Path) -> None:
    res = suite.run_part(_part("bench.no_such_part", [], optional=True), False, tmp_path, None)
    assert (res.state, res.reason) == ("not measured", "bench.no_such_part is not in this checkout")
    assert res.why() == "not measured: bench.no_such_part is not in this checkout"
    assert res.seconds == 0 and not res.rows


def test_a_part_that_refuses_out_is_not_measured_and_one_that_fails_is_failed(tmp_path: Path) -> None:
    res = suite.run_part(_part("bench.suite", ["--no-such-flag"], optional=True), False, tmp_path, None)
    assert res.state == "not measured"
    assert res.reason.startswith("bench.suite does not take --out:")
    assert "unrecognized arguments: --no-such-flag" in res.reason
    assert res.load_before and res.load_after  # the load average around every part
    assert (tmp_path / "reads.log").is_file()
    res = suite.run_part(_part("bench.suite", ["--part", "nonsense"]), False, tmp_path, None)
    assert res.state == "failed"
    assert res.reason.startswith("bench.suite exited 2:") and "invalid choice" in res.reason


def test_a_part_that_writes_no_results_is_not_measured(tmp_path: Path) -> None:
    res = suite.run_part(_part("bench.suite", ["--help"]), False, tmp_path, None)
    assert (res.state, res.reason) == ("not measured", "bench.reads wrote no reads-latest.json")


def test_reads_figures_and_a_store_left_out(tmp_path: Path) -> None:
    doc = {
        "summary": {
            "sqlite": {
                "1": {"cpu_ms_per_1000": 20.0, "ratio_to_1": 1.0, "objects_s": 9000.0},
                "2": {"cpu_ms_per_1000": 21.0, "ratio_to_1": 1.05, "objects_s": 15000.0},
                "4": {"cpu_ms_per_1000": 23.0, "ratio_to_1": 1.15, "objects_s": 16000.0},
            },
            "postgres": {"1": {"cpu_ms_per_1000": 30.0, "ratio_to_1": 1.0, "objects_s": 8000.0}},
        },
        "targets_met": {"sqlite": False, "postgres": True},
    }
    (tmp_path / "reads-latest.json").write_text(json.dumps(doc))
    res = PartResult("reads")
    suite.read_reads(tmp_path, res, "no server at 127.0.0.1:5432/test (OperationalError: refused)")
    rows = dict((r[0], r[1]) for r in res.rows)
    assert rows["reads sqlite"] == (
        "1w 9,000 obj/s, 20 ms/1,000 (1.00x); 2w 15,000 obj/s, 21 ms/1,000 (1.05x); 4w 16,000 obj/s, 23 ms/1,000 (1.15x)"
    )
    assert rows["reads standby"].startswith("skipped: PostgreSQL: no server at")
    verdicts = {t.name.split(":")[0]: (t.verdict, t.figure) for t in res.targets}
    assert verdicts["reads sqlite"] == ("NOT met", "1.05x, 1.15x")
    assert verdicts["reads postgres"][0] == "met"
    assert verdicts["reads standby"][0] == "skipped"


def test_federation_and_memory_targets(tmp_path: Path) -> None:
    (tmp_path / "federation-latest.json").write_text(
        json.dumps(
            {"summary": {"end_to_end_objects_per_s": 2100.4, "catch_up_objects_per_s": 1900.0}, "target_met": False}
        )
    )
    res = PartResult("federation")
    suite.read_federation(tmp_path, res, None)
    assert res.rows == [["federation", "end to end 2,100 obj/s, catching up 1,900 obj/s"]]
    assert res.targets[0].verdict == "NOT met"

    procs = [{"role": "master", "pss_mib": 30.0}, {"role": "worker 1", "pss_mib": 45.0}]
    runs = [
        {"workers": 1, "processes": procs, "total_pss_mib": 75.0},
        {"workers": 2, "processes": procs + [{"role": "worker 2", "pss_mib": 40.0}], "total_pss_mib": 115.0},
    ]
    (tmp_path / "memory.json").write_text(json.dumps({"runs": runs}))
    res = PartResult("memory")
    suite.read_memory(tmp_path, res, None)
    assert [(t.verdict, t.figure) for t in res.targets] == [("NOT met", "115.0 MiB"), ("met", "largest 45.0 MiB")]


def _ingest_doc(stores: list[str]) -> dict[str, Any]:
    served = []
    for store in stores:
        for w, rate in ((1, 3000.0), (2, 5200.0)):
            served.append(
                {
                    "store": store,
                    "workers": w,
                    "objects_s": rate if store == "postgres" else rate * 1.2,
                    "hub_cpu_ms": 150.0,
                    "db_cpu_ms": 80.0 if store == "postgres" else None,
                    "error": None,
                }
            )
    return {"served": served}


def test_ingest_without_postgresql_says_skipped(tmp_path: Path) -> None:
    (tmp_path / "ingest-latest.json").write_text(json.dumps(_ingest_doc(["sqlite"])))
    res = PartResult("ingest")
    suite.read_ingest(tmp_path, res, "no server at 127.0.0.1:5432/test (OperationalError: refused)")
    assert res.summary["postgres"] == {
        "error": "skipped: PostgreSQL: no server at 127.0.0.1:5432/test (OperationalError: refused)"
    }
    assert [t.verdict for t in res.targets] == ["skipped", "skipped"]


def test_ingest_targets_and_the_capacity_figures_of_the_run(tmp_path: Path) -> None:
    (tmp_path / "ingest-latest.json").write_text(json.dumps(_ingest_doc(["sqlite", "postgres"])))
    ingest = PartResult("ingest")
    suite.read_ingest(tmp_path, ingest, None)
    # 2 workers: 5,200 obj/s; CPU (150 + 80) / 150 = 1.53x SQLite's
    assert [(t.verdict, t.figure) for t in ingest.targets] == [
        ("met", "5,200 obj/s"),
        ("NOT met", "230 / 150 ms = 1.53x"),
    ]
    req = {
        "empty_poll_ms": 4.0,
        "empty_poll_db_ms": 1.0,
        "poll_ms_per_1000": 12.0,
        "poll_db_ms_per_1000": 3.0,
        "ingest_ms_per_1000": 999.0,
        "ingest_db_ms_per_1000": 999.0,
        "bytes_per_object": 1000.0,
        "bytes_per_read_record": 400.0,
        "bytes_per_status": 10_000.0,
    }
    (tmp_path / "requests.json").write_text(
        json.dumps({"stores": {"sqlite": dict(req, empty_poll_ms=3.0), "postgres": req}})
    )
    requests = PartResult("requests")
    suite.read_requests(tmp_path, requests, None)
    fig, store = suite.capacity_figures({"ingest": ingest, "requests": requests})
    assert store == "postgres" and fig is not None
    assert (fig.poll_request_ms, fig.ingest_ms_per_1000, fig.ingest_db_ms_per_1000) == (4.0, 230.0, 80.0)
    assert fig.source["ingest"] == "ingest part, postgres, 2 workers"
    # without the ingest part the requests part's own ingest figure is used
    fig, _ = suite.capacity_figures({"requests": requests})
    assert fig is not None and fig.ingest_ms_per_1000 == 999.0
    # without the requests part there is no model, and the reason is given
    fig, why = suite.capacity_figures({"ingest": ingest})
    assert fig is None and why == "no per-request figures (requests not run)"


def test_the_capacity_figures_of_the_memory_part(tmp_path: Path) -> None:
    req = {
        "empty_poll_ms": 4.0,
        "empty_poll_db_ms": 1.0,
        "poll_ms_per_1000": 12.0,
        "poll_db_ms_per_1000": 3.0,
        "ingest_ms_per_1000": 300.0,
        "ingest_db_ms_per_1000": 100.0,
        "bytes_per_object": 1000.0,
        "bytes_per_read_record": 400.0,
        "bytes_per_status": 10_000.0,
    }
    requests = PartResult("requests", summary={"sqlite": req, "postgres": {"error": "not measured"}})

    def memory(totals: dict[int, float]) -> PartResult:
        runs = [
            {"workers": w, "processes": [{"role": "master", "pss_mib": 30.0}], "total_pss_mib": t}
            for w, t in totals.items()
        ]
        (tmp_path / "memory.json").write_text(json.dumps({"runs": runs}))
        res = PartResult("memory")
        suite.read_memory(tmp_path, res, None)
        return res

    # 1, 2 and 4 workers: the least-squares line, 64.75 MiB + 16.48 MiB a worker
    fig, store = suite.capacity_figures({"requests": requests, "memory": memory({1: 80.9, 2: 98.2, 4: 130.5})})
    assert store == "sqlite" and fig is not None
    assert fig.memory_base_mib == pytest.approx(64.75)
    assert fig.memory_per_worker_mib == pytest.approx(16.478571, rel=1e-6)
    assert fig.source["memory"] == "memory part, SQLite home, 1, 2 and 4 workers"
    # one worker count is no line: no memory figures, and the source says why
    fig, _ = suite.capacity_figures({"requests": requests, "memory": memory({2: 98.2})})
    assert fig is not None and fig.memory_base_mib is None and fig.memory_per_worker_mib is None
    assert fig.source["memory"] == "not fitted: the memory part measured one worker count (2)"
    # without the memory part: none either
    fig, _ = suite.capacity_figures({"requests": requests, "memory": PartResult("memory", state="failed")})
    assert fig is not None and fig.memory_base_mib is None and "memory" not in fig.source


def test_a_run_of_parts_that_are_not_there_writes_its_summary(tmp_path: Path) -> None:
    args = argparse.Namespace(out=str(tmp_path), parts="", quick=False, pages_after_min=14.0)
    parts = [
        _part("bench.no_such_part", [], optional=True),
        Part("federation", "bench.no_such_federation", [], [], 60, 60, suite.read_federation, optional=True),
    ]
    out, doc = suite.run_suite(args, parts)
    assert out.parent == tmp_path and out.name.startswith("suite-")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parts"]["reads"]["state"] == "not measured"
    assert summary["capacity"] is None
    assert summary["machine"]["cpus"] >= 1
    md = (out / "summary.md").read_text()
    assert "| federation | not measured: bench.no_such_federation is not in this checkout | not measured |" in md
    assert "not computed: no per-request figures (requests not run)" in md
    assert md == doc["table"] + "\n"


def test_page_latency_at_10k_and_100k(tmp_path: Path) -> None:
    cells = [
        {"server": "abusehub", "data": "indicators", "n": n, "metric": m, "value": v, "error": None}
        for n, m, v in ((10000, "page_first_ms", 4.0), (100000, "page_first_ms", 5.0), (10000, "poll_p1000", 50000.0))
    ]
    cells.append(
        {
            "server": "abusehub",
            "data": "indicators",
            "n": 100000,
            "metric": "poll_p1000",
            "value": None,
            "error": "timed out after 120 s",
        }
    )
    (tmp_path / "latest.json").write_text(json.dumps({"cells": cells}))
    res = PartResult("pages")
    suite.read_pages(tmp_path, res, None)
    assert [(t.verdict, t.figure) for t in res.targets] == [("met", "5.00 / 4.00 ms = 1.25x")]
    assert res.rows[0][1] == "first page 4.00 ms, middle page -, full poll p1000 50,000 obj/s"
    assert res.rows[1][1].endswith("full poll p1000 timed out after 120 s")
