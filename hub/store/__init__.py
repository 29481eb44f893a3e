"""Persistence: the :class:`~hub.store.base.Store` protocol the services use, and its SQL
implementation.

- :mod:`hub.store.base` — the protocol, documented method by method, and its transactions; it
  includes the store's parts (:mod:`hub.store.ops`, :mod:`hub.store.lifecycle`, :mod:`hub.store.federation`,
  :mod:`hub.store.audiences`: who may read each object version, and the reads filtered by it);
- :mod:`hub.store.errors` — the errors the store raises besides the driver's;
- :mod:`hub.store.sql` — :class:`~hub.store.sql.SqlStore`, SQLAlchemy Core for SQLite and PostgreSQL;
- :mod:`hub.store.dialect` — everything that differs between the two databases;
- :mod:`hub.store.replicas` — PostgreSQL standbys: which database each read goes to;
- :mod:`hub.store.limits` — what every database stores alike, checked before writing;
- :mod:`hub.store.records`, :mod:`hub.store.audit` — the records passed to and from the store;
- :mod:`hub.store.schema` and ``migrations/`` — the tables and their history;
- :mod:`hub.store.dumps` — the database tools: a SQLite online-backup copy, ``pg_dump``, and
  loading a dump with ``psql``.

A hub opens its store with :func:`open_store`; nothing above this package names
:class:`~hub.store.sql.SqlStore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hub.store.base import Store
    from hub.store.dialect import FileIdentity

__all__ = ["open_store"]


def open_store(url: str, *, migrate: bool = False, database_file: FileIdentity | None = None,
               read_urls: Iterable[str] = (), max_lag_s: float = 10.0) -> Store:
    """The store at the database ``url`` (SQLite or PostgreSQL), serving the SQLite file
    ``database_file`` (its device and inode) and no other when given; with ``migrate``, its
    schema brought up to date first (making a SQLite file that is not there). ``read_urls``
    are PostgreSQL hot standbys of ``url`` that serve the reads the services route to them
    (:mod:`hub.store.replicas`), when at most ``max_lag_s`` seconds behind."""
    from hub.store.sql import SqlStore

    store = SqlStore(url, database_file=database_file, read_urls=read_urls, max_lag_s=max_lag_s)
    if migrate:
        store.migrate()
    return store
