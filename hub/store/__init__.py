"""Persistence: the :class:`~hub.store.base.Store` protocol the services use, and its SQL
implementation.

- :mod:`hub.store.base` — the protocol, documented method by method, and its transactions; it
  includes the store's parts (:mod:`hub.store.ops`, :mod:`hub.store.lifecycle`, :mod:`hub.store.federation`);
- :mod:`hub.store.errors` — the errors the store raises besides the driver's;
- :mod:`hub.store.sql` — :class:`~hub.store.sql.SqlStore`, SQLAlchemy Core for SQLite and PostgreSQL;
- :mod:`hub.store.dialect` — everything that differs between the two databases;
- :mod:`hub.store.limits` — what every database stores alike, checked before writing;
- :mod:`hub.store.records`, :mod:`hub.store.audit` — the records passed to and from the store;
- :mod:`hub.store.schema` and ``migrations/`` — the tables and their history.
"""
