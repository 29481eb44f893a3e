"""The oblivious-pseudonym benchmark measures correct work (no figure is asserted)."""

from __future__ import annotations

from bench import oprf


def test_measure_checks_its_work_and_reports_every_figure() -> None:
    # measure() refuses to time evaluations that do not verify or do not match the server's own
    # evaluation in clear, so a run at all means the measured path works end to end.
    figures = oprf.measure(batch=3, client_values=2, seconds=0.01)
    assert set(figures) == {
        "batch", "server_batch_s", "server_values_per_s", "server_bare_values_per_s",
        "client_values", "client_report_s", "client_blind_s", "client_verify_finalize_s",
        "client_values_per_s",
    }
    assert figures["batch"] == 3 and figures["client_values"] == 2
    assert figures["client_report_s"] == figures["client_blind_s"] + figures["client_verify_finalize_s"]


def test_report_new_figure_files_real_reports_with_six_oblivious_pseudonyms() -> None:
    # measure_report_new() stops unless each report was stored with poprf-r255: pseudonyms.
    figures = oprf.measure_report_new(rounds=1)
    assert figures["report_values"] == 6 and figures["report_rounds"] == 1
    assert figures["report_new_max_s"] >= figures["report_new_s"] > 0
