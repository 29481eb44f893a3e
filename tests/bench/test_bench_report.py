"""How the benchmark turns measurements into cells, verdicts and options (no server started)."""

from __future__ import annotations

import pytest

from bench import run
from bench.run import Bench, Cell, ProbeResult


def _args(*argv: str):  # type: ignore[no-untyped-def]
    return run.parse_args(list(argv))


def test_quick_fills_only_what_is_not_given() -> None:
    a = _args("--quick")
    assert (a.size_list, a.data_list, a.page_reps) == ([1000], ["indicators"], 5)
    b = _args("--quick", "--data", "signed", "--sizes", "2000")
    assert (b.size_list, b.data_list, b.page_reps) == ([2000], ["signed"], 5)
    c = _args()
    assert c.size_list == [1000, 10_000, 100_000]
    assert c.data_list == ["indicators", "reports", "signed"]
    assert c.page_reps == 20


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(SystemExit):
        _args("--data", "signed,nonsense")


def test_peers_get_na_cells_for_signed_data_without_being_started() -> None:
    bench = Bench(_args("--servers", "abusehub,medallion,opentaxii"))
    for server in ("medallion", "opentaxii"):
        bench.run_cell(server, "signed", 1000, [])
    assert {c.metric for c in bench.cells} == set(run.METRIC_INFO)
    assert len(bench.cells) == 2 * len(run.METRIC_INFO)
    assert all(c.value is None and c.text() == run.NA_SIGNED for c in bench.cells)
    table = run.render_table(bench.cells, ["abusehub", "medallion", "opentaxii"], ["signed"], [1000])
    assert "verify no signatures" in table
    assert "ingest with full validation, batches of 1000 (obj/s)" in table  # never cut


def _signed_cell(metric: str, value: float | None, error: str | None = None, n: int = 10_000) -> Cell:
    return Cell("abusehub", "signed", n, metric, value, "obj/s", error)


def test_signed_target_verdicts() -> None:
    cells = [_signed_cell("ingest_b100", 2_400.0), _signed_cell("ingest_b1000", 2_600.0),
             _signed_cell("ingest_b100", 3_000.0, "MISMATCH: 9 succeeded", n=100_000),
             _signed_cell("ingest_b1000", None, "skipped: the run reached --max-minutes 3", n=100_000)]
    text = run.render_targets(cells, ["indicators", "signed"])
    lines = text.splitlines()
    assert "2,500" in lines[0]
    assert lines[1].endswith("2,400 obj/s: NOT met")
    assert lines[2].endswith("2,600 obj/s: met")
    assert "MISMATCH" in lines[3] and lines[3].endswith("NOT met")
    assert "not measured" in lines[4] and "met" not in lines[4].replace("not measured", "")
    assert run.render_targets([], ["signed"]) == ""  # nothing measured: nothing claimed


def _validated(probe: ProbeResult | str, ingest: Cell | None) -> Cell:
    bench = Bench(_args("--servers", "abusehub"))
    if ingest is not None:
        bench.cells.append(ingest)
    bench._validation_cells("abusehub", "indicators", 1000, probe)
    return bench.cells[-1]


def _ingest(value: float | None = 3_000.0, error: str | None = None) -> Cell:
    return Cell("abusehub", "indicators", 1000, "ingest_b1000", value, "obj/s", error)


def test_validation_cell_shows_the_figure_only_when_every_probe_was_refused() -> None:
    refused = ProbeResult(["a (HTTP 400)", "b", "c", "d", "e"], [], [])
    cell = _validated(refused, _ingest())
    assert (cell.metric, cell.value, cell.error) == ("ingest_validated", 3_000.0, None)

    none = ProbeResult([], ["a", "b", "c", "d", "e"], [])
    cell = _validated(none, _ingest())
    assert cell.value is None and cell.text().startswith("n/a: no STIX validation (accepted 5 of 5")

    partial = ProbeResult(["a", "b", "c"], ["d"], ["e (HTTP 500)"])
    cell = _validated(partial, _ingest())
    assert cell.value == 3_000.0 and cell.error and cell.error.startswith("PARTIAL validation: refused 3 of 5")

    cell = _validated(refused, _ingest(None, "failed: every POST answered HTTP 500"))
    assert cell.value is None and "HTTP 500" in cell.text()

    cell = _validated("timed out after 5 s", _ingest())
    assert cell.value is None and cell.text() == "failed: validation probe: timed out after 5 s"

    cell = _validated(ProbeResult([], [], ["a (HTTP 500)"]), _ingest())
    assert cell.value is None and cell.text().startswith("failed: validation probe")
