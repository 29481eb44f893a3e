"""Revision 0005 on a database that already holds parties, tokens and collections: everything
stays as it was (parties active, tokens valid, collections keep everything), on every backend.
And the one rule for schema changes, from the command line: 'init' makes a schema, 'migrate'
is the only way to bring one up to date, and nothing else (serve, any admin command) creates
or migrates a database."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import insert

from hub.store import schema as t
from hub.store.sql import SqlStore
from tests.conftest import alembic_step
from tests.harness import POSTGRES_URL, _postgres_available, open_test_store, run_cli


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_0005_keeps_existing_parties_active_and_collections_unbounded(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        alembic_step(store, "0004", down=True)
        with store.engine.begin() as conn:
            # Rows as revision 0004 knew them: no lifecycle columns yet.
            conn.exec_driver_sql(
                "INSERT INTO parties (pk, name, kind, identity_id, operator, created_us) "
                "VALUES (1, 'acme', 'provider', 'identity--1', false, 1)")
            conn.exec_driver_sql(
                "INSERT INTO tokens (party_pk, token_hash, label, created_us) VALUES (1, 'h1', '', 1)")
            conn.exec_driver_sql(
                "INSERT INTO collections (pk, id, title, description, max_tlp, require_signatures, "
                "countersign, allow_personal_data, created_us, last_added_us) VALUES "
                "(1, 'c1', 'Reports', '', 'amber', false, false, false, 1, 0)")
        store.migrate()
        party = store.party_for_token("h1")
        assert party is not None and party.name == "acme"
        assert store.party_state(1).active
        assert store.collection_max_age(1) is None and store.retention_policies() == []
        assert store.list_certificates(1) == []
        with store.engine.begin() as conn:
            conn.execute(insert(t.party_certificates).values(
                party_pk=1, fingerprint="a" * 64, subject="CN=x", not_after_us=2, created_us=1))
        assert store.party_for_certificate("a" * 64) == party


# -- one rule: only 'migrate' changes a schema, and only 'init' makes one ----------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def home_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A hub home with no database yet, on each backend (PostgreSQL: an empty schema of its
    own, named by database_url in hub.toml), and the database's URL."""
    home = tmp_path / "hub"
    home.mkdir()
    if request.param == "sqlite":
        (home / "hub.toml").write_text("")
        yield home, f"sqlite:///{home / 'hub.db'}"
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
    import psycopg

    schema = f"abusehub_rule_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    (home / "hub.toml").write_text(f'[hub]\ndatabase_url = "{url}"\n')
    try:
        yield home, url
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _revision(url: str) -> str | None:
    store = SqlStore(url)
    try:
        return store.schema_revisions()[0]
    finally:
        store.close()


def _refused(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and fragment in lines[0], (proc.returncode, proc.stderr)


@pytest.mark.slow
def test_admin_commands_never_migrate_and_migrate_is_the_only_way_up(home_on: tuple[Path, str]) -> None:
    home, url = home_on
    # Nothing but init makes a schema: not migrate, not an admin command, not serve.
    _refused(run_cli(home, "migrate", check=False), "run 'abusehub")
    _refused(run_cli(home, "party", "list", check=False), "run 'abusehub")
    if url.startswith("sqlite"):
        assert not (home / "hub.db").exists()
    else:
        assert _revision(url) is None
    assert "database created at schema revision" in run_cli(home, "init").stdout
    head = _revision(url)
    acme = run_cli(home, "party", "add", "acme", "--kind", "provider", "--json").stdout
    col = run_cli(home, "collection", "add", "Reports", "--json").stdout
    col_id = json.loads(col)["id"]

    # The code is now a revision ahead of the database (as after installing a new version).
    store = SqlStore(url)
    alembic_step(store, "-1", down=True)
    store.close()
    behind = _revision(url)
    assert behind is not None and behind != head
    for args in (("party", "list"), ("party", "add", "other", "--kind", "provider"),
                 ("grant", "acme", col_id, "--read"), ("collection", "list"), ("grants", "list"),
                 ("audit", "verify"), ("peer", "list"), ("pseudonym", "key"), ("init",),
                 ("serve", "--port", "0"), ("serve", "--init-if-empty", "--port", "0")):
        _refused(run_cli(home, *args, check=False), "run 'abusehub migrate'")
        assert _revision(url) == behind, args  # refused, and nothing migrated
    done = run_cli(home, "migrate")
    assert done.stdout.strip() == f"schema revision {head} (was {behind})"
    assert _revision(url) == head
    assert "acme" in run_cli(home, "party", "list").stdout and json.loads(acme)["token"]
    assert run_cli(home, "migrate").stdout.strip() == f"schema revision {head} (already up to date)"


@contextmanager
def _empty_database_like(url: str) -> Iterator[str]:
    """For a PostgreSQL ``url``: a new, empty database on the same server, its URL keeping
    ``url``'s query (the schema it searches), dropped afterwards. For SQLite: nothing (None)."""
    if url.startswith("sqlite"):
        yield ""
        return
    import psycopg
    from sqlalchemy.engine import make_url

    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    name = f"abusehub_behind_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_a_hub_behind_the_code_is_backed_up_as_it_is_and_its_restore_says_to_migrate(
        home_on: tuple[Path, str], tmp_path: Path) -> None:
    """The upgrade backs up before it migrates, maybe with the new code installed already:
    backup reads a schema that is behind, leaves it there, and the archive says which it is."""
    home, url = home_on
    run_cli(home, "init")
    head = _revision(url)
    run_cli(home, "party", "add", "acme", "--kind", "provider")
    store = SqlStore(url)
    alembic_step(store, "-1", down=True)
    store.close()
    behind = _revision(url)
    assert behind is not None and behind != head
    archive = tmp_path / "before-upgrade.tar.gz"
    done = run_cli(home, "backup", str(archive))
    assert f"schema revision {behind}," in done.stdout
    assert f"next: the database schema is at revision {behind} but this abusehub needs {head}: " \
           "run 'abusehub migrate'" in done.stdout
    assert _revision(url) == behind  # read as it is, never migrated
    listed = json.loads(run_cli(home, "backup", str(tmp_path / "again.tar.gz"), "--json").stdout)
    assert listed["schema_revision"] == behind
    assert _revision(url) == behind
    # A schema this code does not know (a newer abusehub's) is still refused, in one line.
    with SqlStore(url).engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    _refused(run_cli(home, "backup", str(tmp_path / "newer.tar.gz"), check=False), "which this abusehub")
    assert not (tmp_path / "newer.tar.gz").exists()

    new = tmp_path / "restored"
    with _empty_database_like(url) as target:
        restored = run_cli(home, "restore", str(archive), "--home", str(new),
                           *(["--database-url", target] if target else []))
        assert f"(schema revision {behind})" in restored.stdout
        assert (f"next: the backup's schema is at revision {behind} and this abusehub's at {head}: "
                f"run 'abusehub --home {new} migrate' before serving") in restored.stdout
        _refused(run_cli(new, "party", "list", check=False), "run 'abusehub migrate'")
        assert run_cli(new, "migrate").stdout.strip() == f"schema revision {head} (was {behind})"
        assert "acme" in run_cli(new, "party", "list").stdout
        assert run_cli(new, "audit", "verify").stdout.startswith("audit chain OK: ")
