"""Streaming standbys: which database each read goes to.

A hub on PostgreSQL may be given hot standbys of its database (``database_read_urls``). The
store keeps one small pool per standby and decides, read by read, where a read goes; the
services decide which reads may go to a standby at all, by running them through
:meth:`ReadRouter.routed` (the store never knows why).

- **Routed reads** (inside :meth:`ReadRouter.routed`) go to the first standby, in the configured
  order, that answers, is still in recovery, is at most ``max_lag`` seconds behind its primary,
  and has replayed the reader's own writes (below). The standby chosen serves every read of the
  call. A standby that fails is skipped for a second (:data:`RETRY_DOWN_S`) and the call is run
  again on the next standby, and finally on the primary, so a standby killed mid-read costs the
  reader nothing but time. Reads the callers did not route go to the primary.
- **Read-your-writes by LSN.** After a write transaction that stored a party's objects or status
  commits, the primary's WAL insert position (``pg_current_wal_insert_lsn()``, at or past the
  commit) is kept as that party's mark, in an ``UNLOGGED`` table on the primary
  (``abusehub_read_marks``: never replicated, never in the WAL, emptied by a crash, which is
  harmless). A routed read of that party asks the primary for its mark once and goes only to a
  standby whose ``pg_last_wal_replay_lsn()`` is at or past it; every process and every hub host
  on the same primary sees the same marks. While the primary does not answer, no mark is read:
  then the standbys serve reads as far as they have replayed.
- **Paging** stays exact: a ``next`` token or ``added_after`` names a ``date_added``, which is
  handed out in commit order per collection, so a standby (replaying in commit order) holds a
  prefix of every collection. A standby whose newest ``date_added`` of the collection is older
  than the reader's cursor is behind that reader (it may have seen it on the primary or another
  standby): the read raises :class:`Behind` and runs again elsewhere. A status id not found on a
  standby is looked up on the primary the same way.
- **The primary down.** A read that is not routed tries the primary first; when the primary
  does not answer it is read from the first standby that does (lag is not asked then: nothing
  newer exists anywhere that answers), and the primary is tried again a second later. A write
  while the primary does not answer is refused with :class:`~hub.common.errors.Unavailable`.
- **Start-up checks** (:meth:`ReadRouter.check`): each standby must be in recovery and have the
  primary's ``system_identifier`` (``pg_control_system()``); one that is not is refused for good
  (one line each). One that does not answer is only reported (:meth:`ReadRouter.report`) and
  tried again later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from hub.common.errors import Unavailable
from hub.store.dialect import normalise_url

__all__ = ["Behind", "ReadRouter", "StandbyReport", "on_standby", "routing"]

log = logging.getLogger("abusehub.store.replicas")

T = TypeVar("T")

#: Seconds a standby (or the primary) that failed is left alone before it is tried again.
RETRY_DOWN_S = 1.0
#: Seconds a standby's state, lag and replay position are taken as read, for readers whose
#: own writes that position already covers (a position only grows; a lag a moment old).
STATE_TTL_S = 0.5

_MARKS_TABLE = ("CREATE UNLOGGED TABLE IF NOT EXISTS abusehub_read_marks "
                "(party_pk integer PRIMARY KEY, lsn pg_lsn NOT NULL)")
_MARK = text("INSERT INTO abusehub_read_marks (party_pk, lsn) VALUES (:p, pg_current_wal_insert_lsn()) "
             "ON CONFLICT (party_pk) DO UPDATE SET lsn = GREATEST(abusehub_read_marks.lsn, EXCLUDED.lsn)")
_READ_MARK = text("SELECT lsn - '0/0'::pg_lsn FROM abusehub_read_marks WHERE party_pk = :p")
#: In recovery?; replayed position (bytes); seconds behind the primary (0 when everything
#: received is replayed and the WAL receiver is streaming; else the age of the last transaction
#: replayed, and a day when none was replayed since the standby started).
_STATE = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn, "
    "CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() "
    "AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0.0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 86400.0) END")
_SYSTEM_ID = text("SELECT system_identifier FROM pg_control_system()")


class Behind(Exception):
    """The standby serving this read has not replayed what its reader has already seen: the
    read is run again on another standby or on the primary (raised by the store's reads only
    while :func:`on_standby`)."""


@dataclass(frozen=True)
class StandbyReport:
    """What ``/readyz`` and the metrics say of one standby (never its address)."""

    name: str
    state: str  # serving, ready, lagging, down, promoted, refused, not checked
    lag_seconds: float | None
    problem: str = ""


@dataclass
class _Route:
    """One routed call: its reader, what it excluded, the standby it settled on."""

    party_pk: int | None
    mark: int | None = None
    mark_read: bool = False
    excluded: set[int] = field(default_factory=set)
    chosen: _Standby | None = None
    current: _Standby | None = None  # the standby of the read running now (None: the primary)


_ROUTE: ContextVar[_Route | None] = ContextVar("abusehub_read_route", default=None)


def routing() -> bool:
    """Whether this thread is inside :meth:`ReadRouter.routed` (its reads are routed one by one)."""
    return _ROUTE.get() is not None


def on_standby() -> bool:
    """Whether the read running now, in this thread, is served by a standby."""
    route = _ROUTE.get()
    return route is not None and route.current is not None


class _Standby:
    """One configured standby: its pool and what was last seen of it."""

    def __init__(self, index: int, url: str) -> None:
        self.index = index
        self.name = f"standby {index + 1}"
        # No ping before each use: a routed read that fails on a dead connection is run again
        # elsewhere (and the pool emptied), which costs less than a round trip per read.
        self.engine: Engine = create_engine(normalise_url(url), pool_size=5, max_overflow=10,
                                            connect_args={"connect_timeout": 3})
        self.refused = ""  # a lasting problem: not a standby, or another primary's
        self.verified = False  # its system identifier was compared with the primary's
        self.state = "not checked"
        self.lag: float | None = None
        self.replayed: int | None = None  # the replay position last seen (it only grows)
        self.seen_at = -1e9  # when state, lag and position were last read (monotonic seconds)
        self.down_until = 0.0

    def report(self) -> StandbyReport:
        if self.refused:
            return StandbyReport(self.name, "refused", None, self.refused)
        return StandbyReport(self.name, self.state, self.lag)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0]}" if lines else type(orig).__name__


class ReadRouter:
    """The standbys of one store and where each read goes (see the module's text)."""

    def __init__(self, primary: Engine, urls: Iterable[str], max_lag_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        # The read marks' own pool on the primary: autocommit and no ping, one round trip a
        # lookup (a dead pooled connection is retried once on a new one).
        self._marks = create_engine(primary.url, isolation_level="AUTOCOMMIT", pool_size=5, max_overflow=10,
                                    connect_args={"connect_timeout": 5})
        self.standbys = [_Standby(i, url) for i, url in enumerate(urls)]
        self.max_lag_s = max_lag_s
        self.clock = clock
        self._primary_down_until = 0.0
        self._primary_id: int | None = None
        self._marks_ready = False
        self._lock = threading.Lock()

    # -- start-up and reports

    def check(self) -> list[str]:
        """Check every standby now; one line per lasting problem (a URL that is not a standby,
        a standby of another primary). A standby that does not answer is not a problem here:
        it is reported by :meth:`report` and tried again later."""
        now = self.clock()
        for s in self.standbys:
            if s.refused or s.down_until > now:  # one that just failed is not asked again yet
                continue
            try:
                with s.engine.connect() as conn:
                    self._verify(s, conn)
                    if not s.refused:
                        self._observe(s, conn)
            except DBAPIError as exc:
                self._down(s, exc)
        self._ensure_marks()
        return [f"database_read_urls: {s.name}: {s.refused}" for s in self.standbys if s.refused]

    def report(self) -> list[StandbyReport]:
        """What is known of each standby, in the configured order."""
        return [s.report() for s in self.standbys]

    def primary_answers(self) -> bool:
        """Whether the primary answered the last time it was tried (or was not tried yet)."""
        return self.clock() >= self._primary_down_until

    def close(self) -> None:
        self._marks.dispose()
        for s in self.standbys:
            s.engine.dispose()

    # -- what the store calls

    def routed(self, fn: Callable[[], T], party_pk: int | None) -> T:
        """Run ``fn`` (reads of the store) with its reads served by a standby when one is fit;
        run again on the next standby, then on the primary, when the one serving fails."""
        route = _Route(party_pk)
        token = _ROUTE.set(route)
        try:
            while True:
                try:
                    return fn()
                except Behind:
                    failed = route.current or route.chosen
                except DBAPIError as exc:
                    failed = route.current
                    if failed is None:
                        raise  # the primary's own failure: nowhere else to go
                    self._down(failed, exc)
                if failed is None:
                    raise RuntimeError("a read was found behind on the primary")  # pragma: no cover
                route.excluded.add(failed.index)
                route.chosen = route.current = None
        finally:
            _ROUTE.reset(token)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction on the database this read goes to (see the module's text)."""
        route = _ROUTE.get()
        conn, standby = self._open(route)
        if route is not None:
            route.current = standby
        try:
            tx = conn.begin()
            try:
                yield conn
            except BaseException:
                with suppress(Exception):
                    tx.rollback()
                raise
            tx.commit()
        finally:
            conn.close()

    def connect_primary(self) -> Connection:
        """A connection to the primary for a write; :class:`Unavailable` when it does not answer."""
        try:
            conn = self.primary.connect()
        except DBAPIError as exc:
            self._primary_failed(exc)
            raise Unavailable("the primary database does not answer: writes are refused until it is "
                              "back or another is configured (reads are served by the standbys)") from None
        self._primary_down_until = 0.0
        return conn

    def mark(self, party_pks: Iterable[int]) -> None:
        """Keep the primary's WAL position (now, after a commit) as each party's read mark."""
        pks = sorted(set(party_pks))
        if not pks:
            return
        try:
            self._ensure_marks()
            self._on_marks(lambda conn: [conn.execute(_MARK, {"p": pk}) for pk in pks])
        except DBAPIError as exc:  # the write itself committed; its reader reads the primary longer
            log.warning("could not keep the read mark of a write (%s)", _first_line(exc))

    # -- choosing

    def _open(self, route: _Route | None) -> tuple[Connection, _Standby | None]:
        if route is not None:
            if self.primary_answers() and not route.mark_read:
                route.mark = self._read_mark(route.party_pk)
                route.mark_read = True
            found = self._standby_for(route)
            if found is not None:
                return found
        if self.primary_answers():
            try:
                conn = self.primary.connect()
                self._primary_down_until = 0.0
                return conn, None
            except DBAPIError as exc:
                self._primary_failed(exc)
        for s in self.standbys:  # the primary does not answer: whichever standby does
            if s.refused or (route is not None and s.index in route.excluded):
                continue
            try:
                conn = s.engine.connect()
                self._verify(s, conn)
                if not s.refused:
                    self._observe(s, conn)
                    if s.state != "promoted":
                        s.state = "serving"
                    return conn, s
                conn.close()
            except DBAPIError as exc:
                self._down(s, exc)
        raise Unavailable("neither the primary database nor any standby answers")

    def _standby_for(self, route: _Route) -> tuple[Connection, _Standby] | None:
        now = self.clock()
        for s in self.standbys:
            if s.refused or s.index in route.excluded or s.down_until > now:
                continue
            if route.chosen is not None and route.chosen is not s:
                continue
            try:
                conn = s.engine.connect()
            except DBAPIError as exc:
                self._down(s, exc)
                continue
            try:
                fit = self._fit(s, conn, route)
            except DBAPIError as exc:
                conn.close()
                self._down(s, exc)
                continue
            if fit:
                route.chosen = s
                return conn, s
            conn.close()
            route.excluded.add(s.index)
        return None

    def _fit(self, s: _Standby, conn: Connection, route: _Route) -> bool:
        """Whether ``s`` may serve ``route``'s reads (checked on ``conn``)."""
        if route.chosen is s:
            return True
        self._verify(s, conn)
        if s.refused:
            return False
        if self.clock() - s.seen_at < STATE_TTL_S and s.replayed is not None and (
                route.mark is None or s.replayed >= route.mark):
            replayed: int | None = s.replayed  # seen a moment ago, and enough for this reader
        else:
            replayed = self._observe(s, conn)
        if s.state == "promoted":
            return not self.primary_answers()  # no longer following the primary: only while it is down
        if s.state == "lagging":
            return False
        if route.mark is not None and (replayed is None or replayed < route.mark):
            return False  # behind this reader's own writes (not a state of the standby)
        s.state = "serving"
        return True

    def _observe(self, s: _Standby, conn: Connection) -> int | None:
        """Read ``s``'s state and lag (on ``conn``); its replayed position."""
        recovering, replayed, lag = conn.execute(_STATE).one()
        conn.rollback()
        s.lag = float(lag) if recovering else None
        s.replayed = int(replayed) if replayed is not None else None
        s.seen_at = self.clock()
        s.down_until = 0.0
        if not recovering:
            s.state = "promoted"
        elif s.lag is not None and s.lag > self.max_lag_s and self.primary_answers():
            s.state = "lagging"
        elif s.state != "serving":
            s.state = "ready"
        return int(replayed) if replayed is not None else None

    def _verify(self, s: _Standby, conn: Connection) -> None:
        """Refuse ``s`` for good when it is not a standby of this primary (checked once)."""
        if s.verified:
            return
        recovering = conn.execute(text("SELECT pg_is_in_recovery()")).scalar()
        standby_id = conn.execute(_SYSTEM_ID).scalar()
        conn.rollback()
        primary_id = self._primary_system_id()
        if not recovering and primary_id is not None and standby_id == primary_id:
            s.verified = True  # a promoted standby of this primary: kept (serves while the primary is down)
            return
        if not recovering:
            s.refused = "is not a hot standby (pg_is_in_recovery() is false): it is not used for reads"
        elif primary_id is None:
            return  # compared when the primary answers
        elif standby_id != primary_id:
            s.refused = (f"is a standby of another primary (system identifier {standby_id}, the "
                         f"primary's is {primary_id}): it is not used for reads")
        s.verified = True
        if s.refused:
            s.state = "refused"
            log.error("database_read_urls: %s %s", s.name, s.refused)

    def _primary_system_id(self) -> int | None:
        if self._primary_id is None and self.primary_answers():
            try:
                with self.primary.connect() as conn:
                    self._primary_id = int(conn.execute(_SYSTEM_ID).scalar_one())
            except DBAPIError as exc:
                self._primary_failed(exc)
        return self._primary_id

    def _read_mark(self, party_pk: int | None) -> int | None:
        if party_pk is None:
            return None
        try:
            value = self._on_marks(lambda conn: conn.execute(_READ_MARK, {"p": party_pk}).scalar())
        except DBAPIError as exc:
            if "abusehub_read_marks" in str(getattr(exc, "orig", "")):
                return None  # no table yet: nobody wrote since the standbys were configured
            self._primary_failed(exc)
            return None
        return int(value) if value is not None else None

    def _on_marks(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` on a connection of the marks' pool; once more on a new connection when the
        pooled one was dead (the primary restarted since)."""
        try:
            with self._marks.connect() as conn:
                return fn(conn)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self._marks.connect() as conn:
            return fn(conn)

    def _ensure_marks(self) -> None:
        if self._marks_ready or not self.primary_answers():
            return
        try:
            with self.primary.connect() as conn, conn.begin():
                conn.exec_driver_sql(_MARKS_TABLE)
            self._marks_ready = True
        except DBAPIError as exc:
            log.warning("cannot make the table of read marks on the primary (%s)", _first_line(exc))

    def _down(self, s: _Standby, exc: BaseException) -> None:
        with self._lock:
            first = s.state != "down"
            s.state, s.lag, s.down_until = "down", None, self.clock() + RETRY_DOWN_S
            s.seen_at = -1e9
        s.engine.dispose()  # its pooled connections died with it
        if first:
            log.warning("database_read_urls: %s does not answer (%s): its reads go elsewhere",
                        s.name, _first_line(exc))

    def _primary_failed(self, exc: BaseException) -> None:
        first = self.primary_answers()
        self._primary_down_until = self.clock() + RETRY_DOWN_S
        if first and self.standbys:
            log.warning("the primary database does not answer (%s): reads go to the standbys, writes are "
                        "refused", _first_line(exc))


def describe(reports: list[StandbyReport]) -> list[dict[str, Any]]:
    """``reports`` as JSON-ready objects (what ``/readyz`` shows)."""
    out: list[dict[str, Any]] = []
    for r in reports:
        item: dict[str, Any] = {"name": r.name, "state": r.state}
        if r.lag_seconds is not None:
            item["lag_seconds"] = round(r.lag_seconds, 3)
        if r.problem:
            item["problem"] = r.problem
        out.append(item)
    return out
