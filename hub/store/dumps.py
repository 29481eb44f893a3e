"""The database tools: a consistent copy of a hub's database, and loading one back.

- SQLite: :func:`copy_sqlite`, a copy through SQLite's online backup API (pages copied while
  writers go on, restarted if they change), one file without a write-ahead log beside it.
- PostgreSQL: :func:`dump_postgres` runs ``pg_dump`` (plain SQL; only the schema the URL's
  ``options=-csearch_path=...`` chooses, when it chooses one), and :func:`load_postgres` loads
  such a dump with ``psql`` into an empty database, in one transaction: all of it or nothing.
  The client tools get the URL as a libpq ``--dbname`` (:func:`libpq_target`); its password goes
  in their environment, never on a command line (``ps`` shows those).

A copy or dump leaves the browser sessions' rows behind (the table itself goes): a database
restored from it starts with everyone signed out, so a session ended after the copy cannot come
back with it.

This is persistence only: what an archive holds and how a home is restored is
:mod:`hub.services.operations.backup`. Every failure is a :class:`DumpError`, one line that never
repeats the URL's password.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from hub.common.errors import HubError
from hub.store.dialect import shown_url
from hub.store.schema import web_sessions

__all__ = ["SESSIONS_TABLE", "DumpError", "copy_sqlite", "dump_postgres", "libpq_target", "load_postgres",
           "sqlite_path"]

#: The browser sessions' table, whose rows a copy or dump leaves behind.
SESSIONS_TABLE = web_sessions.name
#: The longest a client tool may run.
TOOL_TIMEOUT_S = 6 * 3600


class DumpError(HubError):
    """A copy, dump or load that cannot be done; the description says why, in one line."""


# -- SQLite --------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path:
    """The file of the SQLite database at ``url``; :class:`DumpError` for one in memory."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DumpError("the hub's SQLite database is in memory: there is nothing to back up")
    return Path(database)


def copy_sqlite(source: Path, target: Path) -> str:
    """A consistent copy of the SQLite database ``source`` at ``target``, without the browser
    sessions' rows; its schema revision ("" when it has none)."""
    if not source.exists():
        raise DumpError(f"the database {source} does not exist")
    try:
        # Read-only, by a URI that escapes whatever the path holds ('?', '#', spaces).
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                if dst.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (SESSIONS_TABLE,)).fetchone():
                    dst.execute(f"DELETE FROM {SESSIONS_TABLE}")
                    dst.commit()
                # The copy must stand alone: one file, no write-ahead log beside it.
                dst.execute("PRAGMA journal_mode=DELETE")
                row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise DumpError(f"cannot copy the database {source}: {exc}") from None
    return str(row[0]) if row else ""


# -- PostgreSQL ----------------------------------------------------------------------------

def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The PostgreSQL client tools' ``--dbname`` for the SQLAlchemy ``url`` (libpq URI, its
    query kept: ``sslmode``, ``options``...) and the environment that carries its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DumpError("the database URL is not a URL, e.g. postgresql+psycopg://user@host/dbname") from None
    if not parsed.drivername.startswith("postgresql"):
        raise DumpError(f"the database URL must be a PostgreSQL URL (postgresql+psycopg://...), "
                        f"not {parsed.drivername}:")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), env


def _client_tool(name: str, doing: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DumpError(f"{name} is not on PATH: install the PostgreSQL client tools (Debian: apt-get "
                        f"install postgresql-client) to {doing}")
    return path


def _run_tool(args: list[str], env: dict[str, str], tool: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DumpError(f"{tool} did not finish within {TOOL_TIMEOUT_S // 3600} hours: stopped") from None
    except OSError as exc:
        raise DumpError(f"cannot run {tool}: {exc.strerror}") from None


def _tool_error(stderr: str, returncode: int) -> str:
    """The line of a PostgreSQL tool's standard error that says what failed (the URL, and so
    any password, is never repeated)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    for line in lines:
        if "ERROR:" in line:
            return line.split("ERROR:", 1)[1].strip()
    for line in lines:
        if "FATAL:" in line or "error:" in line:
            if line.startswith(("pg_dump:", "psql:")):
                line = line.split(":", 1)[1].strip()
            return line.removeprefix("error:").strip()
    return lines[-1] if lines else f"exit status {returncode}"


def dump_postgres(url: str, target: Path) -> None:
    """``pg_dump`` of the PostgreSQL database at ``url`` (its schema only, when the URL chooses
    one with ``options=-csearch_path=...``) into ``target``, as plain SQL."""
    pg_dump = _client_tool("pg_dump", "back up a PostgreSQL hub")
    dbname, env = libpq_target(url)
    args = [pg_dump, "--format=plain", "--no-owner", "--no-privileges", f"--file={target}",
            f"--exclude-table-data=*.{SESSIONS_TABLE}"]
    options = make_url(url).query.get("options")
    for option in ([options] if isinstance(options, str) else list(options or ())):
        for part in option.split():
            if part.startswith("-csearch_path="):
                args.append(f"--schema={part.split('=', 1)[1]}")
    args.append(f"--dbname={dbname}")
    proc = _run_tool(args, env, "pg_dump")
    if proc.returncode != 0:
        raise DumpError(f"pg_dump failed: {_tool_error(proc.stderr, proc.returncode)}")


#: Run by psql before the dump: the schema the URL's connections use must have no tables.
_EMPTY_CHECK = ("DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema()) "
                "THEN RAISE EXCEPTION 'abusehub-restore: the database already has tables in schema %', "
                "current_schema(); END IF; END$$")
#: Run after it, back on the URL's own search_path: the hub's tables must be where the restored
#: hub will look for them.
_FOUND_CHECK = ("DO $$BEGIN IF to_regclass('alembic_version') IS NULL THEN RAISE EXCEPTION "
                "'abusehub-restore: the dump''s tables are not in the schema this URL uses "
                "(current schema: %)', coalesce(current_schema(), 'none'); END IF; END$$")


def load_postgres(dump: Path, url: str) -> None:
    """Load ``dump`` into the empty database at ``url`` with ``psql``, in one transaction that
    also checks the database was empty and that the hub finds its tables there afterwards:
    either all of it is loaded or nothing is."""
    psql = _client_tool("psql", "restore a PostgreSQL backup")
    dbname, env = libpq_target(url)
    args = [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
            f"--command={_EMPTY_CHECK}", f"--file={dump}", "--command=RESET search_path",
            f"--command={_FOUND_CHECK}", f"--dbname={dbname}"]
    proc = _run_tool(args, env, "psql")
    if proc.returncode != 0:
        problem = _tool_error(proc.stderr, proc.returncode).removeprefix("abusehub-restore: ")
        raise DumpError(f"loading the dump into {shown_url(url)} failed, nothing was loaded: {problem}")
