"""The one hub harness of the tests: a hub home set up through the services, reached in-process or
served by a real ``abusehub serve`` on loopback, and what both stand on (stores of every backend,
processes on loopback).

:class:`HubUnderTest` is one hub: its home and configuration, the parties it was seeded with (their
tokens and identities), its collections by alias, the signing keys registered for parties. It comes
in two variants of the same object, with the same seeding and the same ways in:

- **in-process** (:meth:`HubUnderTest.build`): the services run in the test process and each
  request is handed to the app :func:`hub.server.create_app` builds over them. ``http`` is Flask's
  test client (``api`` is then the API root's path), ``client(party)`` a
  :class:`~hub.client.taxii.TaxiiClient` over :class:`httpx.WSGITransport` (``url`` is a loopback
  address that no socket listens on). No port, no process: the fast tier.
- **real server** (:meth:`HubUnderTest.serve`, or :meth:`HubUnderTest.served`): the services in the
  test process are closed and ``abusehub serve`` serves the same home on 127.0.0.1; ``api`` and
  ``url`` are then its absolute addresses, ``http`` a :class:`requests.Session`, ``client(party)`` a
  TaxiiClient over the network, ``server`` the process. Tests that use it start processes and are
  marked ``slow``.

``auth(party)``, ``collection_url(alias, ...)``, ``tokens``, ``identities``, ``collections``,
``keys``, ``add_collection``, ``stored`` and ``services()`` (the hub's services, in-process: the
ones serving; served: opened on the home for the block) are the same in both.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
import psutil
import pytest
import requests
from sqlalchemy import event

from hub.client.taxii import TaxiiClient
from hub.config import HubConfig, load_config
from hub.server import create_app
from hub.services.clock import Clock, system_clock
from hub.services.hub import Hub, open_hub
from hub.signing import SigningKey
from hub.store.sql import SqlStore

# -- property tests --------------------------------------------------------------------------------

#: The share of each property test's examples a run tries: all of them by default (``make test``,
#: a plain run), fewer in ``make test-fast`` (HUB_TEST_PROPERTY_SCALE=0.2 there).
PROPERTY_SCALE = float(os.environ.get("HUB_TEST_PROPERTY_SCALE", "1"))


def examples(full: int) -> int:
    """How many examples a property test that tries ``full`` of them in a full run tries in this
    one (``full`` scaled by HUB_TEST_PROPERTY_SCALE, never fewer than 10): its ``max_examples``.
    The tests are derandomised, so a scaled run tries the first of the same examples."""
    return max(10, round(full * PROPERTY_SCALE))


# -- stores of every backend ---------------------------------------------------------------------

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_skip_reason: list[str] = []
#: CI sets this: there the PostgreSQL tier must run, and a missing server fails the run.
REQUIRE_POSTGRES = os.environ.get("HUB_TEST_REQUIRE_POSTGRES") == "1"
#: The store backends every store-touching test runs on.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_available() -> bool:
    if _pg_skip_reason:
        return False
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return True
    except Exception as exc:  # any failure to connect means: skip the tier, and say so
        _pg_skip_reason.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
        if REQUIRE_POSTGRES:
            pytest.fail(f"the PostgreSQL tier is required (HUB_TEST_REQUIRE_POSTGRES=1) but there is no "
                        f"server at {POSTGRES_URL}: {_pg_skip_reason[0]}")
        return False


# A store of a test is a database migrated to head, empty. Migrating takes most of the time of
# making one, so each test process migrates one database of each backend once and makes every
# store after from it, in this process: a copy of the SQLite file; on PostgreSQL, the statements
# the migrations sent, replayed in one script. Either way the store has the same schema and rows
# (the migrations' own, such as the audit chain's genesis) as one migrated on its own, and the
# migrations themselves are tested on their own (tests/lifecycle/test_migration.py, the
# revisions' tests in tests/store).
_migrated_once: dict[str, Any] = {}
#: The name of the PostgreSQL schema migrated once; where it appears in the recorded script, the
#: new schema's name is put.
_SCHEMA_MARK = f"abusehub_template_{uuid.uuid4().hex[:12]}"


def _migrated_sqlite_file() -> Path:
    """A SQLite file migrated to head once in this process (removed when the process ends)."""
    if "sqlite" not in _migrated_once:
        folder = Path(tempfile.mkdtemp(prefix="abusehub-tests-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "hub.db"
        made = SqlStore(f"sqlite:///{path}")
        try:
            made.migrate()
        finally:
            made.close()
        with sqlite3.connect(path) as conn:  # everything in the file itself, no -wal beside it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        _migrated_once["sqlite"] = path
    path: Path = _migrated_once["sqlite"]
    return path


def _postgres_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def _sqlite_without_flush(dbapi_connection: Any, connection_record: Any) -> None:
    """A test store's SQLite connections commit without waiting for the disk (``synchronous=OFF``
    after the hub's own ``FULL``): a commit stays atomic and visible to every connection, and a
    process that dies loses nothing; only the machine crashing could, which no test makes."""
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _commit_without_flush(dbapi_connection: Any, connection_record: Any) -> None:
    """A test store's sessions commit without waiting for the disk (``synchronous_commit`` off):
    a commit is as atomic and as visible to every other session as before; only a crash of the
    PostgreSQL server itself could lose the last ones, which no test makes. A test's set-up
    commits often, and a flush each was most of its time. (Set on the engine, not in the URL:
    the URL stays the one the hub and its tools are given.)"""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()


def _migrated_postgres_script() -> str:
    """Every statement the migrations sent to a schema migrated once in this process, its
    parameters bound, in order (the reads among them too): run again as one script in a new,
    empty schema (the search path set to it), it makes what the migrations made."""
    if "postgres" not in _migrated_once:
        import psycopg
        from sqlalchemy import event

        plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
        sent: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            bind = psycopg.ClientCursor(cursor.connection).mogrify
            sent.extend(bind(statement, params or None) for params in (parameters if many else [parameters]))

        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{_SCHEMA_MARK}"')
        made = SqlStore(_postgres_url(_SCHEMA_MARK))
        event.listen(made.engine, "before_cursor_execute", record)
        try:
            made.migrate()
        finally:
            made.close()
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{_SCHEMA_MARK}" CASCADE')
        _migrated_once["postgres"] = ";\n".join(sent)
    script: str = _migrated_once["postgres"]
    return script


def _postgres_store(seeded: str = "") -> Iterator[SqlStore]:
    """A new schema made by the migrations' script, then by ``seeded`` (a recorded seed's
    statements, :func:`open_seeded_store`), in one transaction."""
    schema = f"abusehub_test_{uuid.uuid4().hex[:10]}"
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    script = ";\n".join(filter(None, [_migrated_postgres_script(), seeded])).replace(_SCHEMA_MARK, schema)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("SET synchronous_commit TO off")
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(script.encode())  # one implicit transaction: all of it or nothing
    store = SqlStore(_postgres_url(schema))
    event.listen(store.engine, "connect", _commit_without_flush)
    store.engine.dispose()  # any connection made before the listener is made again
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute("SET synchronous_commit TO off")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def open_test_store(backend: str, folder: Path, *, migrated: bool = False) -> Iterator[SqlStore]:
    """A migrated, empty store of ``backend`` (the SQLite file ``folder``/hub.db, or a PostgreSQL
    schema of its own), removed afterwards; skips the test when PostgreSQL is not there. A SQLite
    file already there is migrated to head, unless ``migrated`` says it is."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "hub.db"
        made = not path.exists()
        if made:
            shutil.copyfile(_migrated_sqlite_file(), path)
        s = SqlStore(f"sqlite:///{path}")
        event.listen(s.engine, "connect", _sqlite_without_flush)
        s.engine.dispose()  # any connection made before the listener is made again
        if not made and not migrated:
            s.migrate()
        try:
            yield s
        finally:
            s.close()
    else:
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
        yield from _postgres_store()


# A test's store with rows in it (parties, collections, grants) is made the same way: the seed
# runs once per test process on an empty store, and every store after is a copy of that one, a
# store of the test's own that its writes change alone.
_seeded_once: dict[tuple[str, str], dict[str, Any]] = {}


class _Recorder:
    """The statements sent on ``engine`` in transactions that committed, their parameters bound,
    in order. ``usable`` turns False when a transaction or savepoint that wrote was rolled back
    (its statements cannot be told apart from the ones that stayed) or is still open at the end."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.sent: list[str] = []
        self.usable = True
        self._open: dict[int, list[str]] = {}
        self._engine = engine
        self._hooks = [("before_cursor_execute", self._execute), ("commit", self._commit),
                       ("rollback", self._rollback), ("rollback_savepoint", self._rollback_savepoint)]
        for name, hook in self._hooks:
            event.listen(engine, name, hook)

    def _execute(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        import psycopg

        bind = psycopg.ClientCursor(cursor.connection).mogrify
        self._open.setdefault(id(conn), []).extend(
            bind(statement, params or None) for params in (parameters if many else [parameters]))

    @staticmethod
    def _writes(statements: list[str]) -> bool:
        return any(not s.lstrip().upper().startswith(("SELECT", "SHOW")) for s in statements)

    def _commit(self, conn: Any) -> None:
        self.sent.extend(self._open.pop(id(conn), []))

    def _rollback(self, conn: Any) -> None:
        if self._writes(self._open.pop(id(conn), [])):
            self.usable = False

    def _rollback_savepoint(self, conn: Any, name: str, context: Any) -> None:
        self.usable = False

    def close(self) -> str:
        from sqlalchemy import event

        for name, hook in self._hooks:
            event.remove(self._engine, name, hook)
        if any(self._writes(left) for left in self._open.values()):
            self.usable = False
        return ";\n".join(self.sent)


@contextmanager
def open_seeded_store(backend: str, folder: Path, key: str, seed: Callable[[SqlStore], Any]) -> Iterator[tuple[SqlStore, Any]]:
    """A migrated store of ``backend`` holding what ``seed`` wrote into an empty one, with what
    ``seed`` returned (a copy of it). ``seed`` runs once per test process and ``key``; each store
    after is a copy of the one it filled (:func:`open_test_store`'s copies: the SQLite file, or the
    statements it committed replayed after the migrations' in a new schema), so it holds the same
    rows, ids and tokens, and is the test's alone. ``seed`` writes through the store only and
    leaves nothing open. On PostgreSQL, the first copy is checked to have as many rows in every
    table as the seeded store had; when it has not, or the seed's writes were rolled back (they
    cannot be recorded then), the seed runs again for each store instead."""
    import copy

    made = _seeded_once.get((backend, key))
    if made is None:
        template = Path(tempfile.mkdtemp(prefix="abusehub-seeded-"))
        atexit.register(shutil.rmtree, template, True)
        with open_test_store(backend, template) as s:
            recorder = _Recorder(s.engine) if backend != "sqlite" else None
            value = seed(s)
            recorded = recorder.close() if recorder is not None else ""
            counts = _row_counts(s)
        if backend == "sqlite":
            with sqlite3.connect(template / "hub.db") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            made = {"source": template / "hub.db", "value": value}
        else:
            usable = recorder is not None and recorder.usable
            made = {"source": recorded if usable else None, "value": value, "counts": counts, "checked": False}
        _seeded_once[(backend, key)] = made
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made["source"], folder / "hub.db")
        with open_test_store(backend, folder, migrated=True) as s:
            yield s, copy.deepcopy(made["value"])
        return
    if made["source"] is not None:
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
        with contextmanager(_postgres_store)(made["source"]) as s:
            if made["checked"] or _row_counts(s) == made["counts"]:
                made["checked"] = True
                yield s, copy.deepcopy(made["value"])
                return
        made["source"] = None  # the replay made other rows than the seed did: seed each store
    with open_test_store(backend, folder) as s:
        yield s, seed(s)


def _row_counts(store: SqlStore) -> dict[str, int]:
    """How many rows each table of ``store`` holds."""
    from sqlalchemy import inspect, text

    with store.engine.connect() as conn:
        return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in inspect(conn).get_table_names()}


def seed_services(seed: Callable[[Hub], Any], clock: FrozenClock | None = None) -> Callable[[SqlStore], int]:
    """A seed for :func:`open_seeded_store`: ``seed`` run on the services over the store (a hub
    home of its own, a FrozenClock), their audit records written; it gives where the clock
    stopped, so that a test's clock can go on from there (``clock.now = ...``)."""

    def run(store: SqlStore) -> int:
        frozen = clock or FrozenClock()
        home = Path(tempfile.mkdtemp(prefix="abusehub-seed-home-"))
        try:
            hub = Hub(load_config(home, environ={}), store, frozen)
            try:
                seed(hub)
            finally:
                hub.audit.close()
        finally:
            shutil.rmtree(home, True)
        return frozen.now

    return run


class FrozenClock:
    """A clock the test moves by hand; each call advances it by one microsecond."""

    def __init__(self, start_us: int = 1_795_000_000_000_000) -> None:
        self.now = start_us

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


# -- processes on loopback -----------------------------------------------------------------------

#: How long a started process may take to become ready, and how long each readiness request may
#: take to be answered: generous, so that a machine whose cores are busy with other work (two
#: test processes, a browser, a build) still passes. HUB_TEST_READY_DEADLINE changes the first.
READY_DEADLINE_S = float(os.environ.get("HUB_TEST_READY_DEADLINE", "120"))
READY_REQUEST_TIMEOUT_S = 10.0


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its HUB_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(extra or {})
    return env


def run_cli(home: Path, *args: str, check: bool = True,
            env_extra: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``abusehub --home HOME ARGS`` in its own process, without the caller's HUB_* settings
    (``env_extra`` added); with ``check``, a non-zero exit fails the test with its standard error."""
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args],
                          capture_output=True, text=True, env=clean_environ(env_extra), timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of the log at ``path`` ("" when there is none)."""
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_process(proc: subprocess.Popen[Any], grace_s: float = 30) -> None:
    """SIGTERM ``proc`` and wait up to ``grace_s`` for it; then SIGKILL it and every process
    below it (a gunicorn master's workers, nginx's), and wait for them."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        below = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        below = []
    for p in below:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.kill()
    proc.wait(timeout=grace_s)
    psutil.wait_procs(below, timeout=grace_s)


def wait_until_ready(proc: subprocess.Popen[Any], url: str, what: str, log: Path | None = None, *,
                     deadline_s: float | None = None, **request_kwargs: Any) -> None:
    """Poll ``url`` until it answers 200, each request allowed READY_REQUEST_TIMEOUT_S and all
    of them ``deadline_s`` (READY_DEADLINE_S). When ``proc`` exits first, or the deadline
    passes (``proc`` is then stopped), raise RuntimeError naming ``what``, the last answer or
    error, and the tail of ``log``."""
    allowed = READY_DEADLINE_S if deadline_s is None else deadline_s
    deadline = time.monotonic() + allowed
    last = "no answer yet"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before it was ready "
                               f"({url}: {last}); its log ends:\n{log_tail(log)}")
        try:
            r = requests.get(url, timeout=READY_REQUEST_TIMEOUT_S, **request_kwargs)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:300]}"
        except requests.RequestException as exc:  # not listening yet, or too busy to answer in time
            last = f"{type(exc).__name__}: {str(exc)[:300]}"
        if time.monotonic() >= deadline:
            stop_process(proc)
            raise RuntimeError(f"{what} was not ready after {allowed:.0f} s "
                               f"({url}: {last}); its log ends:\n{log_tail(log)}")
        time.sleep(0.2)


@dataclass
class RunningHub:
    """A real ``abusehub serve`` process on loopback (see :func:`start_server`)."""

    base: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path | None = None

    @property
    def api(self) -> str:
        return self.base + "/api"

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


def start_server(home: Path, env_extra: Mapping[str, str] | None = None, workers: int = 2) -> RunningHub:
    """Start ``abusehub serve`` for ``home`` on a free port of 127.0.0.1 and wait until its
    ``/readyz`` answers 200 (see :func:`wait_until_ready`: an error naming the cause, with the
    server's log, otherwise)."""
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env=clean_environ(env_extra))
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(proc, base + "/readyz", f"abusehub serve for {home}", log)
    return RunningHub(base=base, home=home, process=proc, log=log)


def stop_server(running: RunningHub) -> None:
    """Stop the server (SIGTERM; SIGKILL for it and its workers when it does not end)."""
    stop_process(running.process)


# -- the hub under test --------------------------------------------------------------------------

Grants = Mapping[str, tuple[bool, bool]]

#: The parties of a seeded test hub (name: kind) ...
PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "ops": "operator"}
#: ... and its collections (alias: party: (read, write)).
GRANTS: dict[str, dict[str, tuple[bool, bool]]] = {
    "reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False)},
    "advisories": {"gov": (True, True), "alice": (True, False)},
    "private": {"alice": (True, True)},
    "dropbox": {"bob": (False, True)},
}
#: The settings of a seeded test hub: small pages, so that paging shows with a few objects.
TEST_TOML = "[taxii]\nmax_content_length = 65536\ndefault_page_size = 5\nmax_page_size = 50\n"
#: Where an in-process hub is addressed: loopback, with nothing listening (requests go to the app).
IN_PROCESS_BASE = "http://127.0.0.1"


class HubUnderTest:
    """One hub of a test, in-process or served by a real process (see the module's text)."""

    def __init__(self, home: Path, config: HubConfig, *, base: str = IN_PROCESS_BASE) -> None:
        self.home = home
        self.config = config
        self.name = home.name
        self.base = base
        self.tokens: dict[str, str] = {}
        self.identities: dict[str, str] = {}
        self.collections: dict[str, str] = {}
        self.keys: dict[str, SigningKey] = {}
        #: The ``abusehub serve`` process of the real-server variant (None in-process).
        self.server: RunningHub | None = None
        #: A plain HTTP client of ``api``: Flask's test client in-process, a requests session served.
        self.http: Any = None
        self._hub: Hub | None = None
        self._app: Any = None
        self._env: dict[str, str] = {}  # what a process on this home needs (HUB_DATABASE_URL)
        self._own_store = True  # the database is the one the home's configuration names
        self._serve_with: tuple[int, dict[str, str]] | None = None  # workers, environment
        self._closing = ExitStack()

    # -- the two variants

    @classmethod
    def build(cls, home: Path, *, store: SqlStore | None = None, backend: str = "sqlite",
              toml: str = TEST_TOML, parties: Mapping[str, str] | None = None,
              grants: Mapping[str, Grants] | None = None, signed: Mapping[str, bool] | None = None,
              keys_for: Iterable[str] = (), clock: Clock = system_clock, prepare: bool = False,
              base: str = IN_PROCESS_BASE, copied: bool = False) -> Self:
        """An in-process hub in ``home`` (made, with ``toml`` as its hub.toml), seeded with
        ``parties`` (name: kind; PARTIES when None) and collections with ``grants`` (alias: party:
        (read, write); GRANTS when None) through the administration service, as ``abusehub party
        add`` and friends do. ``signed`` names collections that require signatures (True: the hub
        countersigns too); each party of ``keys_for`` gets a signing key, registered. ``prepare``
        makes what ``abusehub init`` makes (the hub's key, the pseudonym keyring) first.

        The store is ``store`` when given (the caller closes it), else a new one of ``backend``:
        the home's own SQLite file, or a PostgreSQL schema that :meth:`close` drops.

        ``copied`` (a new store of ``backend``, not prepared) seeds a copy of a store seeded with
        the same arguments once per test process (:func:`open_seeded_store`): the same parties,
        collections, grants and keys, made the same way, but also the same tokens, identities,
        collection ids and signing keys as every other hub copied with those arguments. Hubs of
        one test copied so must differ in their arguments (their parties, say), so that each
        tells the others' tokens and identities apart."""
        home.mkdir(parents=True, exist_ok=True)
        (home / "hub.toml").write_text(toml)
        closing = ExitStack()
        try:
            env: dict[str, str] = {}
            own = store is None
            seeded: dict[str, Any] | None = None
            if copied:
                if not own or prepare:
                    raise ValueError("copied: a new store, not prepared")
                keys_for = tuple(keys_for)
                store, seeded = closing.enter_context(open_seeded_store(
                    backend, home, repr(("hub", toml, parties, grants, signed, keys_for)),
                    lambda s: cls._seed_copy(s, toml, parties, grants, signed, keys_for)))
                keys_for = ()
            elif store is None:
                store = closing.enter_context(open_test_store(backend, home))
            if own:
                if backend != "sqlite":
                    env["HUB_DATABASE_URL"] = store.url
            config = load_config(home, environ=env)
            made = cls(home, config, base=base)
            made._closing, made._env, made._own_store = closing, env, own
            hub = Hub(config, store, clock)
            # Closed before the store goes: buffered audit records are written first.
            closing.callback(hub.close if own else hub.audit.close)
            made._hub = hub
            if prepare:
                hub.prepare()
            if seeded is not None:
                made.tokens, made.identities, made.collections = (
                    seeded["tokens"], seeded["identities"], seeded["collections"])
                made.keys = {name: SigningKey.from_pem(pem) for name, pem in seeded["keys"].items()}
            else:
                for name, kind in (PARTIES if parties is None else parties).items():
                    made.add_party(name, kind)
                for alias, col_grants in (GRANTS if grants is None else grants).items():
                    made.add_collection(alias, col_grants, signed=(signed or {}).get(alias))
            for name in keys_for:
                made.add_key(name)
            made._app = create_app(config, hub)
            made.http = made._app.test_client()
        except BaseException:
            closing.close()
            raise
        return made

    @classmethod
    def _seed_copy(cls, store: SqlStore, toml: str, parties: Mapping[str, str] | None,
                   grants: Mapping[str, Grants] | None, signed: Mapping[str, bool] | None,
                   keys_for: Iterable[str]) -> dict[str, Any]:
        """The seed of a ``copied`` hub: :meth:`build` on ``store``; what a copy must know of it."""
        home = Path(tempfile.mkdtemp(prefix="abusehub-seed-home-"))
        try:
            with cls.build(home, store=store, toml=toml, parties=parties, grants=grants, signed=signed,
                           keys_for=keys_for) as made:
                return {"tokens": made.tokens, "identities": made.identities, "collections": made.collections,
                        "keys": {name: key.to_pem() for name, key in made.keys.items()}}
        finally:
            shutil.rmtree(home, True)

    @classmethod
    def existing(cls, home: Path, *, tokens: Mapping[str, str] = {}, identities: Mapping[str, str] = {},
                 collections: Mapping[str, str] = {}, env: Mapping[str, str] | None = None) -> Self:
        """A hub whose home was set up elsewhere (by ``abusehub`` commands, as an operator sets
        one up), with the ``tokens``, ``identities`` and ``collections`` that set-up gave; not
        served yet (:meth:`serve`), and no services open in this process."""
        made = cls(home, load_config(home, environ=dict(env or {})))
        made._env = dict(env or {})
        made.tokens.update(tokens)
        made.identities.update(identities)
        made.collections.update(collections)
        return made

    @classmethod
    def served(cls, home: Path, *, workers: int = 2, env: Mapping[str, str] | None = None, **build: Any) -> Self:
        """:meth:`build` with ``build``'s arguments, then :meth:`serve`."""
        made = cls.build(home, **build)
        try:
            return made.serve(workers=workers, env=env)
        except BaseException:
            made.close()
            raise

    def serve(self, *, workers: int = 2, env: Mapping[str, str] | None = None) -> Self:
        """Make this hub the real-server variant: make what ``abusehub init`` makes (the hub's
        key, the pseudonym keyring), close the services in this process and start ``abusehub
        serve`` on the home (``workers`` workers, ``env`` added to its environment)."""
        if self.server is not None:
            raise RuntimeError(f"{self.name} is served already")
        if not self._own_store:
            raise RuntimeError("a hub built on a store of the caller's cannot be served: the server "
                               "opens the database its home names")
        if self._hub is not None:
            self._hub.prepare()
            self._hub.close()
            self._hub, self._app = None, None
        self.http = requests.Session()
        self._closing.callback(self.http.close)
        self._closing.callback(self.stop)
        self._serve_with = (workers, {**self._env, **(env or {})})
        return self.restart()

    def restart(self) -> Self:
        """Start the server of the real-server variant again (after :meth:`stop`), on another port."""
        if self._serve_with is None:
            raise RuntimeError(f"{self.name} was never served: serve() it first")
        workers, env = self._serve_with
        self.server = start_server(self.home, env, workers=workers)
        self.base = self.server.base
        return self

    def stop(self) -> None:
        """Stop the server of the real-server variant (SIGTERM; SIGKILL for it and its workers
        when it does not end): every line of its log is written."""
        if self.server is not None:
            stop_server(self.server)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The server's process (the real-server variant)."""
        if self.server is None:
            raise RuntimeError(f"{self.name} is in-process: it has no server process")
        return self.server.process

    def close(self) -> None:
        """Stop the server, close the services, remove what the harness made (a PostgreSQL schema)."""
        self._closing.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what both variants offer

    @property
    def hub(self) -> Hub:
        """The services serving this hub (in-process only; served, use :meth:`services`)."""
        if self._hub is None:
            raise RuntimeError(f"{self.name} is served by a process: open its services with services()")
        return self._hub

    @property
    def app(self) -> Any:
        """The WSGI app serving this hub (in-process only)."""
        if self._app is None:
            raise RuntimeError(f"{self.name} is served by a process: it has no app in this one")
        return self._app

    @contextmanager
    def services(self) -> Iterator[Hub]:
        """The hub's services: in-process, the ones serving; served, a hub opened on the home for
        the block (as ``abusehub`` commands open it beside the server)."""
        if self._hub is not None:
            yield self._hub
            return
        hub = open_hub(self.config)
        try:
            yield hub
        finally:
            hub.close()

    @property
    def api(self) -> str:
        """The API root as ``http`` addresses it: its path in-process, its URL when served."""
        path = "/" + self.config.taxii.api_root.strip("/")
        return path if self.server is None else self.base + path

    @property
    def url(self) -> str:
        """The API root's absolute URL, with its trailing slash (what a TaxiiClient takes)."""
        return self.base + "/" + self.config.taxii.api_root.strip("/") + "/"

    def auth(self, party: str) -> dict[str, str]:
        """The Authorization header of ``party``."""
        return {"Authorization": f"Bearer {self.tokens[party]}"}

    def collection_url(self, alias: str, *rest: str) -> str:
        """``{api}/collections/<id of alias>/`` followed by ``rest`` (e.g. ``"objects"``), with
        the trailing slash TAXII asks for."""
        return "/".join([f"{self.api}/collections/{self.collections[alias]}", *rest]) + "/"

    def transport(self) -> httpx.BaseTransport:
        """A transport to this hub: its app in-process, the network when served."""
        if self.server is None:
            return httpx.WSGITransport(app=self.app)
        return httpx.HTTPTransport()

    def client(self, party: str | None = None, **kwargs: Any) -> TaxiiClient:
        """A client of this hub's API root with ``party``'s token (none if None)."""
        token = self.tokens[party] if party is not None else None
        if self.server is None:
            kwargs.setdefault("transport", self.transport())
        return TaxiiClient(self.url, token, **kwargs)

    def token_file(self, party: str, folder: Path | None = None) -> Path:
        """A file holding ``party``'s token, as the commands read it (``--token-file``)."""
        folder = folder or self.home.with_name(self.home.name + "-tokens")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{party}.token"
        if not path.exists():
            path.write_text(self.tokens[party] + "\n")
        return path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``abusehub --home HOME ARGS`` in its own process, on this hub's database."""
        return run_cli(self.home, *args, check=check, env_extra=self._env)

    def read_log(self) -> str:
        """What the server has logged ("" in-process)."""
        return self.server.read_log() if self.server is not None else ""

    # -- set-up, through the administration service

    def add_party(self, name: str, kind: str) -> str:
        """A new party (its token and identity kept); returns its token."""
        with self.services() as hub:
            party, token = hub.admin.add_party(name, kind)
        self.tokens[name], self.identities[name] = token, party.identity_id
        return token

    def add_key(self, party: str) -> SigningKey:
        """A new signing key, registered to ``party`` (kept in ``keys``)."""
        key = SigningKey.generate()
        with self.services() as hub:
            hub.keys.add(party, key.public_key.to_jwk())
        self.keys[party] = key
        return key

    def add_collection(self, alias: str, grants: Grants, *, signed: bool | None = None,
                       title: str | None = None) -> str:
        """A new collection known here as ``alias`` (replacing an earlier one of that alias, which
        stays in the hub), with ``grants`` (party: (read, write)); ``signed`` None: signatures not
        required, False: required, True: required and countersigned by the hub. Returns its id."""
        stored_alias = alias if alias not in self.collections else f"{alias}-{uuid.uuid4().hex[:8]}"
        with self.services() as hub:
            col = hub.admin.add_collection(title or alias.title(), alias=stored_alias,
                                           require_signatures=signed is not None, countersign=bool(signed))
            for name, (read, write) in grants.items():
                hub.admin.grant(name, col.id, read, write)
        self.collections[alias] = col.id
        return col.id

    def stored(self, collection: str) -> list[tuple[str, str | None, str]]:
        """(id, version, exact JSON text) of every object version of ``collection`` (an alias of
        ``collections``, or an id), in date_added order, as the store holds them."""
        from hub.store.records import ObjectFilter

        with self.services() as hub:
            col = hub.store.get_collection(self.collections.get(collection, collection))
            assert col is not None
            page = hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100_000)
        return [(i.stix_id, i.version, i.json_text) for i in page.items]
