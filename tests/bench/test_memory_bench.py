"""bench.memory judges its targets from the figures it measured (no server started here)."""

from __future__ import annotations

from typing import Any

from bench.memory import render_targets, targets


def _run(workers: int, *pss: float) -> dict[str, Any]:
    roles = ["master"] + [f"worker {i + 1}" for i in range(len(pss) - 1)]
    return {"workers": workers, "processes": [{"role": r, "pss_mib": p} for r, p in zip(roles, pss, strict=True)],
            "total_pss_mib": round(sum(pss), 1)}


def test_each_target_is_met_not_met_or_not_measured() -> None:
    judged = targets([_run(1, 44.0, 50.5), _run(2, 31.0, 40.0, 29.0)])
    assert [t["met"] for t in judged] == [True, False]
    assert [t["figure_mib"] for t in judged] == [100.0, 50.5]
    text = render_targets(judged)
    assert "together <= 100 MiB PSS: 100.0 MiB, met" in text
    assert "each process <= 50 MiB PSS: 50.5 MiB, NOT met" in text
    assert [t["met"] for t in targets([_run(4, 23.0, 22.0, 22.0, 22.0, 22.0)])] == [None, None]
    assert render_targets(targets([])).count("not measured") == 2
