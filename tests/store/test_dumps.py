"""The database tools of the store (:mod:`hub.store.dumps`): a SQLite copy that stands alone, a
``pg_dump`` loaded back with ``psql`` into an empty database or not at all, both without the browser
sessions' rows; and the URL the PostgreSQL client tools get, without its password."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.store import open_store
from hub.store.dumps import (
    DumpError,
    copy_sqlite,
    dump_postgres,
    libpq_target,
    load_postgres,
    sqlite_path,
)
from hub.store.ops import head_revision
from hub.store.sql import SqlStore
from tests.harness import POSTGRES_URL, open_test_store

NOW = 1_795_000_000_000_000
IDENTITY = "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f"


def _fill(store: SqlStore) -> None:
    """A party, and a browser session of it (what no copy carries)."""
    party = store.create_party("acme", "provider", IDENTITY, False, NOW).pk
    assert store.create_web_session("a" * 64, party, "c" * 64, None, NOW)


def test_a_sqlite_copy_stands_alone_without_sessions(tmp_path: Path) -> None:
    with open_test_store("sqlite", tmp_path / "src") as store:
        _fill(store)
        source = sqlite_path(store.url)
        target = tmp_path / "copy.db"
        assert copy_sqlite(source, target) == head_revision()
        assert store.web_session("a" * 64) is not None  # the source keeps its session
    assert not Path(f"{target}-wal").exists()
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 0
    copy = open_store(f"sqlite:///{target}")
    try:
        assert copy.get_party("acme") is not None
        assert copy.schema_revisions() == (head_revision(), head_revision())
    finally:
        copy.close()


def test_what_cannot_be_copied_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DumpError, match="in memory"):
        sqlite_path("sqlite://")
    with pytest.raises(DumpError, match="does not exist"):
        copy_sqlite(tmp_path / "none.db", tmp_path / "copy.db")


def test_the_database_password_never_goes_on_a_command_line() -> None:
    dbname, env = libpq_target("postgresql+psycopg://hub:s3cr%40t@db.example:5433/hub?"
                               "options=-csearch_path%3Dabusehub&sslmode=require")
    assert "s3cr" not in dbname and env["PGPASSWORD"] == "s3cr@t"
    assert dbname == "postgresql://hub@db.example:5433/hub?options=-csearch_path%3Dabusehub&sslmode=require"
    with pytest.raises(DumpError, match="PostgreSQL URL"):
        libpq_target("mysql://x@y/z")
    with pytest.raises(DumpError, match="not a URL"):
        libpq_target("no url")


@contextmanager
def _empty_database(like: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server, with the options (the schema) of
    the URL ``like``; dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"abusehub_dump_{uuid.uuid4().hex[:10]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(like).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.slow  # pg_dump and psql: processes
def test_a_postgresql_dump_loads_into_an_empty_database_or_not_at_all(tmp_path: Path) -> None:
    dump = tmp_path / "database.sql"
    with open_test_store("postgres", tmp_path) as store:
        _fill(store)
        dump_postgres(store.url, dump)  # the store's own schema only
        source = store.url
    with _empty_database(source) as url:
        load_postgres(dump, url)
        loaded = open_store(url)
        try:
            assert loaded.get_party("acme") is not None
            assert loaded.web_session("a" * 64) is None  # the table came, its rows did not
            assert loaded.schema_revisions() == (head_revision(), head_revision())
            with pytest.raises(DumpError, match="already has tables"):
                load_postgres(dump, url)  # not empty any more: nothing is loaded
            assert [p.name for p in loaded.list_parties()] == ["acme"]
        finally:
            loaded.close()
