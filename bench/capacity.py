"""The capacity model: what N providers polling every minute, with M new objects a minute, need.

:func:`plan` turns the figures one run of ``make bench`` (:mod:`bench.suite`) measured on this
machine into the load a programme puts on the hub and its database, and the machines, workers,
standbys and disk that carry it. The arithmetic, per minute of the programme:

* each provider polls once per ``poll_interval_s`` with ``added_after`` (what is new since its
  last poll) and ``limit=page_size``: ``ceil(M / page_size)`` requests a poll (at least one: a
  poll that finds nothing still costs a request), so
  ``polls/s = N / poll_interval_s * ceil(M / page_size)``;
* every provider reads every new object: ``objects served/s = N * M / 60``;
* CPU (hub and database together, and the database's share) of the polls:
  ``polls/s * poll_request_ms / 1000 + objects served/s * poll_ms_per_1000 / 1e6`` cores, the
  per-request cost measured by polls that find nothing new, the per-object cost by full polls at
  ``limit=1000`` less their requests' own cost;
* CPU of ingest: ``M / 60 * ingest_ms_per_1000 / 1e6`` cores (envelopes of 100);
* cores are planned at ``utilisation`` (polls arrive together, near the minute); the hub's
  share gives the workers (one per core, ``threads_per_worker`` threads each, the
  ``[server]`` defaults) and the hub hosts of ``cores_per_host`` cores; the database's share
  stays on the primary while it fits one machine of ``cores_per_host`` cores, else the poll
  reads go to ``ceil(database read cores / cores_per_host)`` streaming standbys and the
  primary keeps the writes;
* disk a year: ``M * 525,600 * bytes_per_object`` (each object or new version a row: its
  indexes, TOAST and its share of the envelope's audit record included) plus
  ``polls/s * 31,536,000 * bytes_per_read_record`` (every poll request appends one record to
  the audit chain, kept for good); and, held rather than growing, the statuses of the last
  ``status_retention_hours``: ``M / envelope * 60 * status_retention_hours * bytes_per_status``.
  WAL, backups and the standbys' own copies (each holds the same again) are not counted;
* memory of a hub host, when :mod:`bench.memory` ran: the server (master and workers together,
  PSS) measured at several worker counts is a fixed part plus a part per worker
  (:func:`fit_memory`), and a host runs ``ceil(workers / hub_hosts)`` workers (spread evenly), so
  ``memory_base_mib + memory_per_worker_mib * ceil(workers / hub_hosts)`` MiB. The figures are
  from a SQLite home after a poll workload; a PostgreSQL hub's workers hold about as much. The
  database's page cache (SQLite's file in the host's page cache, or the PostgreSQL machine's
  shared buffers) is not counted and needs room of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

MINUTES_PER_YEAR = 365 * 24 * 60
SECONDS_PER_YEAR = MINUTES_PER_YEAR * 60
GB = 1e9


@dataclass(frozen=True)
class Figures:
    """Measured costs (CPU in ms of one core: hub and database processes together, and the
    database's share of it; bytes on disk, indexes included) and, when :mod:`bench.memory` ran,
    the server's memory: the PSS of master and workers together (MiB) at each worker count it
    measured, fitted by least squares to ``memory_base_mib + memory_per_worker_mib * workers``
    (:func:`fit_memory`; with two worker counts, the line through them)."""

    poll_request_ms: float  # one poll request that finds nothing new
    poll_request_db_ms: float
    poll_ms_per_1000: float  # per 1,000 objects polled, beyond the requests' own cost
    poll_db_ms_per_1000: float
    ingest_ms_per_1000: float  # per 1,000 objects ingested in envelopes of 100
    ingest_db_ms_per_1000: float
    bytes_per_object: float  # on disk per object version stored through the API
    bytes_per_read_record: float  # on disk per audit record of a poll request
    bytes_per_status: float  # on disk per status (one per envelope)
    # PSS of one server = base + per_worker * workers; None when the memory part did not run
    memory_base_mib: float | None = None
    memory_per_worker_mib: float | None = None
    source: dict[str, str] = field(default_factory=dict)  # where each figure came from

    def __post_init__(self) -> None:
        if (self.memory_base_mib is None) != (self.memory_per_worker_mib is None):
            raise ValueError("memory_base_mib and memory_per_worker_mib are given together or not at all")


def fit_memory(points: Iterable[tuple[int, float]]) -> tuple[float, float]:
    """``(base, per_worker)`` in MiB of the line ``PSS = base + per_worker * workers`` that fits
    ``(workers, total PSS in MiB)`` points by least squares (through them when there are two).

    The server's total PSS counts each page once however many processes share it: the pages the
    master holds (the application and the libraries loaded before forking, which the workers
    share) plus what each worker made its own by serving, close to a line in the workers."""
    pts = [(int(w), float(mib)) for w, mib in points]
    n = len(pts)
    if len({w for w, _ in pts}) < 2:
        raise ValueError(
            f"a line of memory by workers needs at least two different worker counts, got {sorted(w for w, _ in pts)}"
        )
    mean_w = sum(w for w, _ in pts) / n
    mean_m = sum(m for _, m in pts) / n
    per_worker = sum((w - mean_w) * (m - mean_m) for w, m in pts) / sum((w - mean_w) ** 2 for w, _ in pts)
    return mean_m - per_worker * mean_w, per_worker


@dataclass(frozen=True)
class Assumptions:
    poll_interval_s: float = 60.0
    page_size: int = 1000  # providers poll with limit=1000 (the hub's max_page_size here)
    utilisation: float = 0.5  # the busy fraction of a core planned for
    cores_per_host: int = 8  # cores of one hub host and of one database machine
    threads_per_worker: int = 4  # [server] threads
    envelope: int = 100  # objects per envelope posted
    status_retention_hours: int = 168  # [taxii] status_retention_hours


@dataclass(frozen=True)
class Row:
    providers: int
    new_per_min: int
    polls_s: float
    objects_served_s: float
    poll_cores: float  # hub and database, polls
    poll_db_cores: float  # the database's share
    ingest_cores: float
    ingest_db_cores: float
    hub_cores: float  # planned (utilisation applied)
    workers: int
    hub_hosts: int
    db_cores: float  # planned
    standbys: int
    disk_objects_gb_year: float
    disk_audit_gb_year: float
    disk_statuses_gb: float  # held, not growing
    host_memory_mib: float | None = None  # PSS of the server on one hub host; None: not measured

    @property
    def disk_gb_year(self) -> float:
        return self.disk_objects_gb_year + self.disk_audit_gb_year


def plan(fig: Figures, providers: int, new_per_min: int, a: Assumptions | None = None) -> Row:
    """One row of the model (see the module's text)."""
    a = a or Assumptions()
    if providers < 0 or new_per_min < 0:
        raise ValueError("providers and new objects per minute must not be negative")
    pages = max(1, math.ceil(new_per_min / a.page_size))
    polls_s = providers / a.poll_interval_s * pages
    served_s = providers * new_per_min / 60.0
    poll_cores = polls_s * fig.poll_request_ms / 1e3 + served_s * fig.poll_ms_per_1000 / 1e6
    poll_db = polls_s * fig.poll_request_db_ms / 1e3 + served_s * fig.poll_db_ms_per_1000 / 1e6
    ingest_s = new_per_min / 60.0
    ingest_cores = ingest_s * fig.ingest_ms_per_1000 / 1e6
    ingest_db = ingest_s * fig.ingest_db_ms_per_1000 / 1e6
    hub_cores = (poll_cores - poll_db + ingest_cores - ingest_db) / a.utilisation
    workers = max(2, math.ceil(hub_cores))
    hub_hosts = math.ceil(workers / a.cores_per_host)
    db_cores = (poll_db + ingest_db) / a.utilisation
    standbys = 0 if db_cores <= a.cores_per_host else math.ceil(poll_db / a.utilisation / a.cores_per_host)
    host_memory = None
    if fig.memory_base_mib is not None and fig.memory_per_worker_mib is not None:
        host_memory = fig.memory_base_mib + fig.memory_per_worker_mib * math.ceil(workers / hub_hosts)
    return Row(
        providers,
        new_per_min,
        polls_s,
        served_s,
        poll_cores,
        poll_db,
        ingest_cores,
        ingest_db,
        hub_cores,
        workers,
        hub_hosts,
        db_cores,
        standbys,
        new_per_min * MINUTES_PER_YEAR * fig.bytes_per_object / GB,
        polls_s * SECONDS_PER_YEAR * fig.bytes_per_read_record / GB,
        new_per_min / a.envelope * 60 * a.status_retention_hours * fig.bytes_per_status / GB,
        host_memory,
    )


def table(
    fig: Figures,
    providers: tuple[int, ...] = (100, 1_000, 10_000, 100_000),
    new_per_min: tuple[int, ...] = (100, 1_000),
    a: Assumptions | None = None,
) -> list[Row]:
    return [plan(fig, n, m, a) for n in providers for m in new_per_min]


def _num(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _mib(v: float | None) -> str:
    return "-" if v is None else f"{_num(v)} MiB"


def render(fig: Figures, rows: list[Row], a: Assumptions | None = None) -> str:
    """The figures used, the assumptions and the table, as markdown."""
    a = a or Assumptions()
    lines = [
        "Figures (CPU of one core; hub and database together, the database's share in brackets):",
        f"- a poll that finds nothing new: {fig.poll_request_ms:.2f} ms ({fig.poll_request_db_ms:.2f} ms)",
        f"- per 1,000 objects polled: {fig.poll_ms_per_1000:.0f} ms ({fig.poll_db_ms_per_1000:.0f} ms)",
        f"- per 1,000 objects ingested, envelopes of 100: {fig.ingest_ms_per_1000:.0f} ms "
        f"({fig.ingest_db_ms_per_1000:.0f} ms)",
        f"- on disk per object version: {fig.bytes_per_object:,.0f} bytes; per poll's audit record: "
        f"{fig.bytes_per_read_record:,.0f} bytes; per status (an envelope's): {fig.bytes_per_status:,.0f} bytes",
    ]
    if fig.memory_base_mib is not None and fig.memory_per_worker_mib is not None:
        lines.append(
            f"- memory of a hub host (PSS, master and workers): {fig.memory_base_mib:.1f} MiB + "
            f"{fig.memory_per_worker_mib:.1f} MiB a worker (the database's page cache not counted)"
        )
    else:
        lines.append("- memory of a hub host: not measured")
    if fig.source:
        lines.append("- from: " + "; ".join(f"{k}: {v}" for k, v in fig.source.items()))
    lines += [
        f"Assumptions: every provider polls every {a.poll_interval_s:g} s with added_after and "
        f"limit={a.page_size} and reads every new object; cores planned at {a.utilisation:.0%} busy; "
        f"hosts of {a.cores_per_host} cores; one worker per core, {a.threads_per_worker} threads each; "
        f"envelopes of {a.envelope}; statuses kept {a.status_retention_hours} h.",
        "",
        "| providers | new/min | polls/s | objects served/s | poll cores (db) | ingest cores (db) | "
        "workers | hub hosts | memory a hub host | db cores | standbys | disk/year (objects + audit) | "
        "statuses held |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.providers:,} | {r.new_per_min:,} | {_num(r.polls_s)} | {_num(r.objects_served_s)} | "
            f"{_num(r.poll_cores)} ({_num(r.poll_db_cores)}) | {_num(r.ingest_cores)} ({_num(r.ingest_db_cores)}) | "
            f"{r.workers} | {r.hub_hosts} | {_mib(r.host_memory_mib)} | {_num(r.db_cores)} | {r.standbys} | "
            f"{_num(r.disk_gb_year)} GB ({_num(r.disk_objects_gb_year)} + {_num(r.disk_audit_gb_year)}) | "
            f"{_num(r.disk_statuses_gb)} GB |"
        )
    return "\n".join(lines)


def as_dict(fig: Figures, rows: list[Row], a: Assumptions | None = None) -> dict[str, Any]:
    return {
        "figures": asdict(fig),
        "assumptions": asdict(a or Assumptions()),
        "rows": [asdict(r) | {"disk_gb_year": r.disk_gb_year} for r in rows],
    }
