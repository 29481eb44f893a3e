"""bench.memory judges its targets from the figures it measured, and measures a server whose
workers have all served part of the polls."""

from __future__ import annotations

from typing import Any

import pytest

from bench import data
from bench.memory import measure, render_targets, targets


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


@pytest.mark.slow
def test_every_worker_of_the_measured_server_has_served_part_of_the_polls() -> None:
    objs = data.objects("indicators", 200)
    result = measure(2, 200, 2_000, objs, served_cpu_s=0.03)
    assert result["every_worker_served"] is True
    assert [p["role"] for p in result["processes"]] == ["master", "worker 1", "worker 2"]
    assert result["polled"] >= 2_000
    assert result["total_pss_mib"] == round(sum(p["pss_mib"] for p in result["processes"]), 1)
