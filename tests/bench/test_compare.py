"""bench.compare's arithmetic on canned figures: medians, ratios, noise and verdicts (no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import compare
from bench.run import METRIC_INFO


def _doc(**figures: float | str) -> dict[str, Any]:
    """A bench.run results document for indicators at N=10,000; a string is a cell's error."""
    cells = []
    for metric, value in figures.items():
        if isinstance(value, str):
            cells.append({"server": "abusehub", "data": "indicators", "n": 10000, "metric": metric,
                          "value": None, "error": value})
        else:
            cells.append({"server": "abusehub", "data": "indicators", "n": 10000, "metric": metric,
                          "value": value, "error": None})
    return {"cells": cells}


def test_a_rate_that_drops_beyond_the_tolerance_is_worse() -> None:
    b, a, ratio, noise, verdict = compare.judge([1000, 1010, 990], [850, 860, 840], higher_is_better=True)
    assert (b, a) == (1000, 850)
    assert ratio == pytest.approx(0.85)
    assert noise == pytest.approx(0.10)  # the runs agree within 2 %: the tolerance is the noise
    assert verdict == "WORSE"


def test_a_small_drop_is_within_noise_and_a_rise_is_better() -> None:
    assert compare.judge([1000, 1000, 1000], [960, 950, 970], True)[4] == "worse, within noise"
    assert compare.judge([1000, 1000, 1000], [1300, 1290, 1310], True)[4] == "better"
    assert compare.judge([1000, 1000, 1000], [1050, 1040, 1060], True)[4] == "same"
    assert compare.judge([1000], [1000], True)[4] == "same"


def test_for_times_lower_is_better() -> None:
    assert compare.judge([10.0, 10.2, 9.8], [8.0, 8.1, 7.9], higher_is_better=False)[4] == "better"
    assert compare.judge([10.0, 10.2, 9.8], [12.0, 12.1, 11.9], higher_is_better=False)[4] == "WORSE"


def test_spread_of_the_runs_widens_the_noise() -> None:
    assert compare.spread([100, 150, 200]) == pytest.approx(100 / 150)
    assert compare.spread([7.0]) == 0
    # 20 % slower, but one side's runs range over two thirds of their median: within noise
    b, a, ratio, noise, verdict = compare.judge([100, 150, 200], [115, 120, 125], True)
    assert ratio == pytest.approx(0.8)
    assert noise == pytest.approx(100 / 150)
    assert verdict == "worse, within noise"


def test_runs_alternate_and_each_pair_swaps_who_goes_first() -> None:
    assert compare.run_order(3) == ["before", "after", "after", "before", "before", "after"]
    assert compare.run_order(1) == ["before", "after"]


def test_compare_takes_medians_per_figure_and_leaves_out_failed_or_one_sided_cells() -> None:
    before = [_doc(ingest_b100=1000, page_first_ms=10.0, rss_peak_mb=190),
              _doc(ingest_b100=1200, page_first_ms=11.0, rss_peak_mb="failed: server died"),
              _doc(ingest_b100=1100, page_first_ms=30.0, rss_peak_mb=200)]
    after = [_doc(ingest_b100=1100, page_first_ms=10.5, poll_p100=5000),
             _doc(ingest_b100=1000, page_first_ms=10.0),
             _doc(ingest_b100=1050, page_first_ms=9.5)]
    rows = compare.compare(before, after, METRIC_INFO)
    assert [r.metric for r in rows] == ["ingest_b100", "page_first_ms"]  # the order of bench.run's table
    ingest, page = rows
    assert (ingest.before_median, ingest.after_median) == (1100, 1050)
    assert ingest.ratio == pytest.approx(1050 / 1100)
    assert ingest.higher_is_better and not page.higher_is_better
    assert (page.before_median, page.after_median) == (11.0, 10.0)
    assert page.before == [10.0, 11.0, 30.0]
    table = compare.render(rows)
    assert "ingest, batches of 100 (obj/s)" in table
    assert "1,100" in table and "1,050" in table and "-4.5%" in table


def test_report_of_a_session_writes_the_comparison_and_fails_on_a_worse_figure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for side, rate in (("before", 1000), ("after", 700), ("after", 720), ("before", 1010)):
        name = f"{side}-{sum(r['side'] == side for r in runs) + 1}"
        runs.append({"name": name, "side": side, "load_before": "1.00 1.00 1.00"})
        (tmp_path / name).mkdir()
        (tmp_path / name / "latest.json").write_text(json.dumps(_doc(ingest_b100=rate, newest_1pct_ms=20.0)))
    (tmp_path / "session.json").write_text(json.dumps({"before": "b", "after": "a", "cpus": 2, "runs": runs}))
    assert compare.report(tmp_path, compare.TOLERANCE) == 1
    printed = capsys.readouterr().out
    assert "WORSE" in printed and "2 before, 2 after" in printed
    saved = json.loads((tmp_path / "compare.json").read_text())
    by_metric = {r["metric"]: r for r in saved["rows"]}
    assert by_metric["ingest_b100"]["before_median"] == 1005
    assert by_metric["ingest_b100"]["after_median"] == 710
    assert by_metric["newest_1pct_ms"]["verdict"] == "same"
