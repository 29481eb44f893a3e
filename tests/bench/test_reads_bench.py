"""bench.reads: how measures become medians, ratios, verdicts and the table; and a tiny real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import reads
from bench.reads import Measure


def _m(store: str, rnd: int, workers: int, cpu_s: float, objects: int = 10_000, wall_s: float = 1.0,
       **kw: float) -> Measure:
    return Measure(store, rnd, workers, objects=objects, requests=10, wall_s=wall_s, hub_cpu_s=cpu_s, **kw)


def test_rounds_rotate_the_worker_counts() -> None:
    assert [reads.rotated((1, 2, 4), r) for r in range(4)] == [[1, 2, 4], [2, 4, 1], [4, 1, 2], [1, 2, 4]]


def test_summary_is_the_median_over_rounds_and_the_ratio_to_one_worker() -> None:
    measures = [
        _m("sqlite", 0, 1, 0.20), _m("sqlite", 1, 1, 0.22), _m("sqlite", 2, 1, 0.90),  # an outlier round
        _m("sqlite", 0, 2, 0.21), _m("sqlite", 1, 2, 0.23), _m("sqlite", 2, 2, 0.21),
        _m("sqlite", 0, 4, 0.30), _m("sqlite", 1, 4, 0.26), _m("sqlite", 2, 4, 0.27),
        _m("postgres", 0, 1, 0.25, primary_cpu_s=0.05), _m("postgres", 0, 2, 0.26, primary_cpu_s=0.06),
        _m("postgres", 0, 4, 0.27, primary_cpu_s=0.05),
        Measure("postgres", 1, 4, error="failed: it broke"),  # left out, not counted as zero
    ]
    summary = reads.summarise(measures, ["sqlite", "postgres"], (1, 2, 4))
    s1, s2, s4 = (summary["sqlite"][w] for w in ("1", "2", "4"))
    assert s1["cpu_ms_per_1000"] == pytest.approx(22.0)  # 0.22 s over 10,000 objects
    assert s2["ratio_to_1"] == pytest.approx(21 / 22)
    assert s4["ratio_to_1"] == pytest.approx(27 / 22)
    assert s1["objects_s"] == pytest.approx(10_000)
    assert summary["postgres"]["4"]["rounds"] == 1
    assert summary["postgres"]["2"]["primary_db_cpu_ms_per_1000"] == pytest.approx(6.0)
    assert reads.targets_met(summary, (1, 2, 4)) == {"sqlite": False, "postgres": True}
    table = reads.render(summary, (1, 2, 4))
    assert "| sqlite | 4 | 27.0 | 1.23 | - |" in table
    assert "| postgres | 2 | 26.0 | 1.04 | 6.0 / - |" in table


def test_a_store_missing_a_worker_count_does_not_meet_the_target() -> None:
    summary = reads.summarise([_m("standby", 0, 1, 0.2), _m("standby", 0, 2, 0.2)], ["standby"], (1, 2, 4))
    assert reads.targets_met(summary, (1, 2, 4)) == {"standby": False}
    assert "| standby | 4 | - | - | - | - | 0 |" in reads.render(summary, (1, 2, 4))


def test_unknown_store_is_refused() -> None:
    with pytest.raises(SystemExit):
        reads.parse_args(["--stores", "sqlite,oracle"])


@pytest.mark.slow
def test_a_tiny_run_writes_its_summary(tmp_path: Path) -> None:
    assert reads.main(["--stores", "sqlite", "--workers", "1,2", "--rounds", "1", "--objects", "300", "--passes-1000", "1",
                       "--passes-100", "1", "--warm", "1", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "reads-latest.json").read_text())
    assert set(doc) >= {"machine", "rounds", "table", "summary", "targets_met"}
    assert doc["machine"]["cpus"] >= 1 and len(doc["machine"]["loadavg"]) == 3
    assert [(r["workers"], r["objects"], r["error"]) for r in doc["rounds"]] == [(1, 1200, None), (2, 1200, None)]
    assert set(doc["summary"]["sqlite"]) == {"1", "2"} and doc["summary"]["sqlite"]["1"]["ratio_to_1"] == 1.0
    assert len(list(tmp_path.glob("reads-2*.json"))) == 1
