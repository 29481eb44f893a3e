"""What running the hub needs from the database: shared limits and the schema's state.

Every server process (gunicorn worker) has its own memory, so a limit counted in memory allows
``workers x limit``. The counters here live in the database, where every process sees them:

- ``auth_failures``: failed authentications per key (a hashed source address or claimed party
  name, chosen by the caller), counted in fixed windows of the caller's length.
- ``rate_buckets``: token buckets per key (for example the pseudonym allowance of a party),
  refilled continuously; taking from one is one short write transaction.

:class:`OpsStore` declares this part of the store, and :class:`hub.store.base.Store` (what every
service is given) includes it; :class:`OpsMixin` implements it for :class:`hub.store.sql.SqlStore`.
Keys are opaque strings of at most :data:`KEY_MAX` characters; the caller hashes anything that
should not be stored as it is (an address, a user name).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.store.dialect import lock_rows
from hub.store.schema import metadata

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

__all__ = ["KEY_MAX", "OpsMixin", "OpsStore", "auth_failures", "rate_buckets"]

#: The longest key a counter or bucket takes.
KEY_MAX = 100

auth_failures = Table(
    "auth_failures", metadata,
    Column("key", String(KEY_MAX), primary_key=True),
    Column("window_start_us", BigInteger, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Index("ix_auth_failures_window", "window_start_us"),
)

rate_buckets = Table(
    "rate_buckets", metadata,
    Column("key", String(KEY_MAX), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)


class OpsStore(Protocol):
    """The operations part of :class:`hub.store.base.Store` (implemented by :class:`OpsMixin`)."""

    def ping(self) -> None:
        """Run a trivial query; raises the driver's error when the database does not answer."""
        ...

    def schema_revisions(self) -> tuple[str | None, str]:
        """``(the database's schema revision or None, the newest revision this code knows)``."""
        ...

    def add_auth_failure(self, keys: list[str], window_us: int, now_us: int) -> dict[str, int]:
        """Count one failure under each key in the window holding ``now_us``; returns each
        key's count in that window, this failure included. Windows ended before the previous
        one are deleted on the way."""
        ...

    def auth_failure_counts(self, keys: list[str], window_us: int, now_us: int) -> dict[str, int]:
        """Each key's failures in the window holding ``now_us`` (0 for none)."""
        ...

    def take_tokens(self, key: str, n: int, capacity: float, per_second: float, now_us: int) -> float:
        """Take ``n`` tokens from the bucket ``key`` (full at ``capacity``, refilled at
        ``per_second``); returns 0.0 when taken, else the seconds until there would be enough.
        Nothing is taken when there are too few."""
        ...


@functools.cache
def _revisions() -> dict[str, tuple[str, ...]]:
    """Each schema revision of this code's migrations and the revisions it follows, read from
    the ``revision`` and ``down_revision`` assignments of the files in ``migrations/versions``
    (the files alembic reads) without importing them: alembic's script directory would import
    alembic, Mako and every migration into each server process, some 6 MiB, for two answers."""
    import ast

    found: dict[str, tuple[str, ...]] = {}
    for path in sorted((Path(__file__).parent / "migrations" / "versions").glob("*.py")):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
        revision, down = values.get("revision"), values.get("down_revision")
        if isinstance(revision, str):
            found[revision] = tuple(down) if isinstance(down, (tuple, list)) else ((str(down),) if down else ())
    return found


@functools.cache
def head_revision() -> str:
    """The newest schema revision of this code's migrations (read once per process): the one
    no other revision follows (alembic's ``get_current_head``)."""
    revisions = _revisions()
    followed = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - followed)
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): merge them")
    return heads[0] if heads else ""


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every schema revision this code's migrations know (read once per process): a database
    at one of them is this code's, at head or behind it."""
    return frozenset(_revisions())


def window_start(window_us: int, now_us: int) -> int:
    """The start of the fixed window of length ``window_us`` that holds ``now_us``."""
    return now_us - now_us % window_us


class OpsMixin:
    """:class:`OpsStore` over SQLAlchemy Core, for :class:`hub.store.sql.SqlStore`."""

    engine: Engine
    dialect: str

    if TYPE_CHECKING:
        def _write(self) -> AbstractContextManager[Connection]: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    def _insert(self, table: Table) -> Any:
        """An INSERT that can say ON CONFLICT, in this database's dialect (PostgreSQL's imported
        here, so that a SQLite hub never loads that dialect)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        return sqlite_insert(table)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").scalar()

    def schema_revisions(self) -> tuple[str | None, str]:
        from sqlalchemy import inspect

        head = head_revision()
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None, head
            current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return (str(current) if current is not None else None), head

    def add_auth_failure(self, keys: list[str], window_us: int, now_us: int) -> dict[str, int]:
        start = window_start(window_us, now_us)
        f = auth_failures
        counts: dict[str, int] = {}
        with self._write() as conn:
            conn.execute(delete(f).where(f.c.window_start_us < start - window_us))
            for key in dict.fromkeys(keys):
                stmt = self._insert(f).values(key=key, window_start_us=start, count=1)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=[f.c.key, f.c.window_start_us], set_={"count": f.c.count + 1}))
                counts[key] = int(conn.execute(select(f.c.count).where(
                    f.c.key == key, f.c.window_start_us == start)).scalar_one())
        return counts

    def auth_failure_counts(self, keys: list[str], window_us: int, now_us: int) -> dict[str, int]:
        start = window_start(window_us, now_us)
        f = auth_failures
        counts = dict.fromkeys(keys, 0)
        if not keys:
            return counts
        with self._read() as conn:
            for key, count in conn.execute(select(f.c.key, f.c.count).where(
                    f.c.key.in_(list(counts)), f.c.window_start_us == start)):
                counts[key] = int(count)
        return counts

    def take_tokens(self, key: str, n: int, capacity: float, per_second: float, now_us: int) -> float:
        b = rate_buckets
        with self._write() as conn:
            # A full bucket for a key seen for the first time; then the row is locked (on
            # PostgreSQL; SQLite's write transaction holds the whole database) until commit,
            # so concurrent takers from every process queue here and never overdraw it.
            conn.execute(self._insert(b).values(key=key, tokens=float(capacity), updated_us=now_us)
                         .on_conflict_do_nothing(index_elements=[b.c.key]))
            tokens, updated = conn.execute(lock_rows(select(b.c.tokens, b.c.updated_us)
                                                     .where(b.c.key == key))).one()
            elapsed = max(0, now_us - updated) / 1_000_000
            tokens = min(float(capacity), float(tokens) + elapsed * per_second)
            if tokens < n:
                # Refused: nothing taken, and the refill so far is kept as it was.
                return (n - tokens) / per_second
            conn.execute(update(b).where(b.c.key == key).values(tokens=tokens - n,
                                                                   updated_us=max(now_us, updated)))
            return 0.0
