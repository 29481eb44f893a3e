"""What differs between the databases the store runs on, in one place.

The SQL of :mod:`hub.store.sql` is written once, in SQLAlchemy Core, for both SQLite and
PostgreSQL. What cannot be written once lives here:

- **URLs.** ``postgresql://`` and ``postgres://`` mean psycopg 3 (:func:`normalise_url`).
- **Connections.** SQLite: write-ahead log (readers never wait for the writer), ``synchronous=FULL``
  (a committed transaction survives a power cut), foreign keys on, a 30 s busy timeout, and a
  page cache of 128 KiB per connection instead of SQLite's 2 MiB: a worker's threads each hold a
  connection, the operating system caches the file's pages anyway, and a read transaction that
  finds the database changed since the connection's last one (every audit flush changes it)
  starts with an empty cache. Measured with ``bench.memory`` and ``bench.reads``: from 2 MiB to
  512 KiB a worker held 3.4 MiB less after the poll workload, from 512 to 128 KiB the two workers
  of a server together some 3 MiB less, for the same CPU per object polled and ingested.
- **The SQLite file.** A connection opens an existing file only (SQLite's ``mode=rw``): nothing
  but :func:`create_database_file` makes one. Each connection taken from the pool first checks
  that the file at the database's path is still the one the store opened, by device and inode
  (:class:`SqliteFile`, one ``stat``): a database moved, deleted or replaced under a running hub
  is refused with :class:`~hub.common.errors.Unavailable` (503) instead of being read, written
  or silently made anew.
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
- **Ingest's statements** (in :mod:`hub.store.sql`, where each is written next to the form
  both databases share). Looking up an envelope's ids: PostgreSQL probes the unique index once
  per id (``unnest`` and ``LATERAL``, planned at each use), since on a table without statistics
  it would otherwise walk the whole collection for an ``IN`` list; SQLite keeps the ``IN`` list.
  Storing the new versions: PostgreSQL one ``COPY``, SQLite one ``executemany``.

The services never see any of this: they talk to :class:`hub.store.base.Store`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql import Select

from hub.common.errors import Unavailable

__all__ = ["WRITE", "FileIdentity", "SqliteFile", "create_database_file", "lock_rows", "make_engine",
           "normalise_url", "shown_url", "sqlite_file"]

#: Which file a path names, whatever its name: its (device, inode).
FileIdentity = tuple[int, int]

#: Execution options of a connection that writes: :func:`make_engine` makes SQLite begin its
#: transactions with ``BEGIN IMMEDIATE`` on such connections.
WRITE: dict[str, Any] = {"hub_write": True}

_S = TypeVar("_S", bound=Select[Any])


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for ``url``: plain ``postgresql://`` and ``postgres://`` use psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def shown_url(url: str) -> str:
    """``url`` as the hub shows it: its password hidden (an unparsable one by its scheme only)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":..."


def _file_path(url: str) -> Path | None:
    """The absolute path of the SQLite file ``url`` names; None for PostgreSQL, an in-memory
    database or a SQLite URI filename."""
    parsed = make_url(normalise_url(url))
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(os.path.abspath(name))


def _identity(path: Path) -> FileIdentity | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class SqliteFile:
    """The path of a SQLite database and the identity of the file the store serves there.

    The identity is the one given (a server's workers are given the file ``serve`` checked at
    start-up), else the file's when the store is opened, else (a database not made yet) the
    file's at the first connection after it is made.
    """

    def __init__(self, path: Path, identity: FileIdentity | None = None) -> None:
        self.path = path
        self.identity = identity or _identity(path)

    def check(self) -> None:
        """Raise :class:`Unavailable` unless the file at :attr:`path` is the one served."""
        now = _identity(self.path)
        if self.identity is None:
            if now is None:
                raise Unavailable(f"there is no database file {self.path.name}")
            self.identity = now  # the first file seen; racing threads see the same one
        if now == self.identity:
            return
        if now is None:
            raise Unavailable(f"the database file {self.path.name} was moved or deleted after the hub "
                              "opened it: nothing is read or written until it is back in place")
        raise Unavailable(f"the database file {self.path.name} was replaced after the hub opened it: "
                          "nothing is read or written until the hub is restarted")


def sqlite_file(url: str, identity: FileIdentity | None = None) -> SqliteFile | None:
    """The :class:`SqliteFile` of ``url`` (None for PostgreSQL or an in-memory database)."""
    path = _file_path(url)
    return SqliteFile(path, identity) if path is not None else None


def create_database_file(url: str) -> bool:
    """Create the empty SQLite file (and its folder) that ``url`` names if there is none; True
    if this call made it. Called only to migrate a database that does not exist yet, which only
    ``init``, ``demo`` and ``serve --init-if-empty`` do."""
    path = _file_path(url)
    if path is None or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(path).close()
    return True


def make_engine(url: str, file: SqliteFile | None = None) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), its connections prepared as described above.

    For a SQLite file, ``file`` (:func:`sqlite_file`) is checked before every connection is made
    or taken from the pool.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A host that drops packets must fail a check in seconds, not hang it.
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                             connect_args={"connect_timeout": 5})

    file = file or sqlite_file(url)
    if file is None:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        guard = file
        uri = f"file:{quote(str(guard.path))}?mode=rw"

        def connect() -> sqlite3.Connection:
            guard.check()
            return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)

        engine = create_engine(url, creator=connect)

        @event.listens_for(engine, "checkout")
        def _same_file(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            guard.check()

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
        cur.execute("PRAGMA cache_size=-128")  # KiB; see the module text
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
