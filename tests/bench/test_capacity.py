"""bench.capacity's arithmetic on given figures, checked by hand (no server)."""

from __future__ import annotations

import dataclasses

import pytest

from bench import capacity

FIG = capacity.Figures(
    poll_request_ms=4.0,
    poll_request_db_ms=1.0,
    poll_ms_per_1000=12.0,
    poll_db_ms_per_1000=3.0,
    ingest_ms_per_1000=300.0,
    ingest_db_ms_per_1000=100.0,
    bytes_per_object=1000.0,
    bytes_per_read_record=400.0,
    bytes_per_status=10_000.0,
)


def _fig_mem() -> capacity.Figures:
    """FIG with a server of 60 MiB PSS and 20 MiB more a worker."""
    return dataclasses.replace(FIG, memory_base_mib=60.0, memory_per_worker_mib=20.0)


def test_a_thousand_providers_and_a_hundred_objects_a_minute() -> None:
    r = capacity.plan(FIG, 1_000, 100)
    # one page a poll: 1,000 / 60 polls/s; every provider reads the 100 new objects
    assert r.polls_s == pytest.approx(16.6667, rel=1e-4)
    assert r.objects_served_s == pytest.approx(1666.667, rel=1e-6)
    # 16.667 * 4 ms + 1,666.7 * 12 ms / 1,000 = 0.0667 + 0.02 cores; the database 0.0167 + 0.005
    assert r.poll_cores == pytest.approx(0.086667, rel=1e-4)
    assert r.poll_db_cores == pytest.approx(0.021667, rel=1e-4)
    # 100 / 60 objects/s * 300 ms / 1,000
    assert r.ingest_cores == pytest.approx(0.0005, rel=1e-6)
    assert r.ingest_db_cores == pytest.approx(0.00016667, rel=1e-4)
    # the hub's share at 50 % busy: (0.065 + 0.000333) / 0.5; at least two workers
    assert r.hub_cores == pytest.approx(0.130667, rel=1e-4)
    assert (r.workers, r.hub_hosts, r.standbys) == (2, 1, 0)
    assert r.db_cores == pytest.approx(0.043667, rel=1e-4)
    # 100 * 525,600 * 1,000 B; 16.667 * 31,536,000 * 400 B; a week of one status a minute
    assert r.disk_objects_gb_year == pytest.approx(52.56, rel=1e-6)
    assert r.disk_audit_gb_year == pytest.approx(210.24, rel=1e-6)
    assert r.disk_gb_year == pytest.approx(262.8, rel=1e-6)
    assert r.disk_statuses_gb == pytest.approx(0.1008, rel=1e-6)


def test_many_pages_a_poll_more_hosts_and_standbys() -> None:
    r = capacity.plan(FIG, 100_000, 2_500)
    # ceil(2,500 / 1,000) = 3 requests a poll
    assert r.polls_s == pytest.approx(5_000)
    # 5,000 * 4 / 1,000 + 4,166,667 * 12 / 1e6 = 20 + 50; the database 5 + 12.5
    assert r.poll_cores == pytest.approx(70.0)
    assert r.poll_db_cores == pytest.approx(17.5)
    # (70 - 17.5 + 0.0125 - 0.0041667) / 0.5
    assert r.hub_cores == pytest.approx(105.01667, rel=1e-6)
    assert r.workers == 106
    assert r.hub_hosts == 14  # 106 / 8 cores a host
    # the database needs (17.5 + 0.004) / 0.5 = 35 cores: more than one machine of 8, so the
    # poll reads go to ceil(17.5 / 0.5 / 8) = 5 standbys
    assert r.db_cores == pytest.approx(35.00833, rel=1e-6)
    assert r.standbys == 5
    assert r.disk_audit_gb_year == pytest.approx(63_072.0)


def test_assumptions_change_the_plan() -> None:
    a = capacity.Assumptions(poll_interval_s=300, utilisation=0.25, cores_per_host=4, page_size=100)
    r = capacity.plan(FIG, 1_000, 100, a)
    assert r.polls_s == pytest.approx(1_000 / 300)
    # poll cores 3.333 * 4 / 1,000 + 1,666.7 * 12 / 1e6 (every provider still reads every object)
    assert r.poll_cores == pytest.approx(0.0133333 + 0.02, rel=1e-4)
    assert r.hub_cores == pytest.approx((0.0333333 - (0.0033333 + 0.005) + 0.0005 - 0.00016667) / 0.25, rel=1e-4)


def test_no_new_objects_still_costs_the_polls() -> None:
    r = capacity.plan(FIG, 600, 0)
    assert r.polls_s == pytest.approx(10.0)
    assert r.objects_served_s == 0
    assert r.poll_cores == pytest.approx(0.04)
    assert r.disk_objects_gb_year == 0
    assert r.disk_statuses_gb == 0
    assert r.disk_audit_gb_year == pytest.approx(10 * 31_536_000 * 400 / 1e9)


def test_negative_load_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        capacity.plan(FIG, -1, 100)


def test_the_table_and_its_text() -> None:
    rows = capacity.table(FIG)
    assert [(r.providers, r.new_per_min) for r in rows] == [
        (100, 100),
        (100, 1000),
        (1000, 100),
        (1000, 1000),
        (10000, 100),
        (10000, 1000),
        (100000, 100),
        (100000, 1000),
    ]
    text = capacity.render(FIG, rows)
    assert "| 1,000 | 100 | 16.7 | 1,667 | 0.09 (0.02) |" in text
    assert "262.8 GB" not in text and "263 GB (52.6 + 210) | 0.10 GB |" in text
    assert "cores planned at 50% busy" in text
    doc = capacity.as_dict(FIG, rows)
    assert doc["rows"][2]["disk_gb_year"] == pytest.approx(262.8)
    assert doc["assumptions"]["cores_per_host"] == 8


def test_the_memory_line_is_fitted_by_least_squares() -> None:
    # bench.memory's 1, 2 and 4 workers: 80.9, 98.2 and 130.5 MiB PSS together. Sums: x 7, y 309.6,
    # xy 799.3, x^2 21; slope (3 * 799.3 - 7 * 309.6) / (3 * 21 - 7^2) = 230.7 / 14
    base, per_worker = capacity.fit_memory([(1, 80.9), (2, 98.2), (4, 130.5)])
    assert per_worker == pytest.approx(16.478571, rel=1e-6)
    assert base == pytest.approx(64.75, rel=1e-6)
    # two worker counts: the line through them
    assert capacity.fit_memory([(2, 115.0), (1, 75.0)]) == pytest.approx((35.0, 40.0))


def test_the_memory_line_needs_two_worker_counts() -> None:
    with pytest.raises(ValueError, match="at least two different worker counts"):
        capacity.fit_memory([(2, 98.2), (2, 99.0)])
    with pytest.raises(ValueError, match="at least two different worker counts"):
        capacity.fit_memory([])


def test_memory_figures_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="memory_base_mib and memory_per_worker_mib"):
        dataclasses.replace(FIG, memory_base_mib=60.0)


def test_the_memory_a_hub_host_needs() -> None:
    fig = _fig_mem()
    # two workers on one host: 60 + 2 * 20 MiB
    assert capacity.plan(fig, 1_000, 100).host_memory_mib == pytest.approx(100.0)
    # 106 workers on 14 hosts: at most ceil(106 / 14) = 8 on one, 60 + 8 * 20 MiB
    r = capacity.plan(fig, 100_000, 2_500)
    assert (r.workers, r.hub_hosts) == (106, 14)
    assert r.host_memory_mib == pytest.approx(220.0)
    # fewer cores a host: more hosts, fewer workers on each
    r = capacity.plan(fig, 100_000, 2_500, capacity.Assumptions(cores_per_host=4))
    assert (r.hub_hosts, r.host_memory_mib) == (27, pytest.approx(60.0 + 4 * 20.0))
    text = capacity.render(fig, [capacity.plan(fig, 1_000, 100)])
    assert "| 2 | 1 | 100 MiB | 0.04 |" in text
    assert "- memory of a hub host (PSS, master and workers): 60.0 MiB + 20.0 MiB a worker" in text
    assert capacity.as_dict(fig, [r])["rows"][0]["host_memory_mib"] == pytest.approx(140.0)


def test_without_the_memory_figures_the_host_memory_is_not_given() -> None:
    r = capacity.plan(FIG, 1_000, 100)
    assert r.host_memory_mib is None
    text = capacity.render(FIG, [r])
    assert "| 2 | 1 | - | 0.04 |" in text
    assert "- memory of a hub host: not measured" in text
    doc = capacity.as_dict(FIG, [r])
    assert doc["rows"][0]["host_memory_mib"] is None
    assert doc["figures"]["memory_base_mib"] is None
