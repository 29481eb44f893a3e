"""What differs between the databases the store runs on, in one place.

The SQL of :mod:`hub.store.sql` is written once, in SQLAlchemy Core, for both SQLite and
PostgreSQL. What cannot be written once lives here:

- **URLs.** ``postgresql://`` and ``postgres://`` mean psycopg 3 (:func:`normalise_url`).
- **Connections.** SQLite: write-ahead log (readers never wait for the writer), ``synchronous=FULL``
  (a committed transaction survives a power cut), foreign keys on, a 30 s busy timeout.
  PostgreSQL: a small pool whose connections are checked before use (a restarted server does not
  fail the first request).
- **Write locks.** A write transaction must own what it changes from its first statement: the
  store hands out ``date_added`` and audit sequence numbers from counters it reads and then
  writes. SQLite takes the database's one write lock at ``BEGIN IMMEDIATE`` (a plain ``BEGIN``
  would take it lazily, at the first write, and two writers that both read first would deadlock
  upgrading their locks). PostgreSQL locks the counter rows with ``SELECT ... FOR UPDATE``
  (:func:`lock_rows`), so writers to different collections do not wait for each other.
  SQLite has no row locks; there ``FOR UPDATE`` is left out of the SQL and the database lock
  already covers those rows.

The services never see any of this: they talk to :class:`hub.store.base.Store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql import Select

__all__ = ["WRITE", "lock_rows", "make_engine", "normalise_url"]

#: Execution options of a connection that writes: :func:`make_engine` makes SQLite begin its
#: transactions with ``BEGIN IMMEDIATE`` on such connections.
WRITE: dict[str, Any] = {"hub_write": True}

_S = TypeVar("_S", bound=Select[Any])


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for ``url``: plain ``postgresql://`` and ``postgres://`` use psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), its connections prepared as described above.

    For a SQLite file, the folder is created if missing.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A host that drops packets must fail a check in seconds, not hang it.
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                             connect_args={"connect_timeout": 5})

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself: the driver's own (lazy) BEGIN
        # cannot take the write lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hub_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def lock_rows(stmt: _S) -> _S:
    """``stmt`` locking the rows it reads until the transaction ends (``FOR UPDATE``).

    On PostgreSQL this is a row lock. SQLAlchemy leaves ``FOR UPDATE`` out of SQLite's SQL:
    there a write transaction holds the whole database from ``BEGIN IMMEDIATE`` on, which covers
    these rows too. Use it only on connections opened with :data:`WRITE`.
    """
    return stmt.with_for_update()
