"""Shared fixtures: stores over every backend, a hub, in-process apps, and a real server on loopback.

Most HTTP tests run in-process, as Flask's tutorial tests do: ``app`` is the real application
built by :func:`hub.server.create_app` over a freshly seeded hub, ``client`` its test client,
and ``seeded`` what was set up in it (tokens, identities, collection ids). Each runs on every
store backend. ``hub_factory`` builds further independent hubs on the same backend (two hubs
wired together with ``httpx.WSGITransport``, a hub with other settings). The black-box tier
(``start_server``) starts the real gunicorn server and is marked ``slow``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from hub.config import HubConfig, load_config
from hub.server import create_app
from hub.services.clock import Clock, system_clock
from hub.services.hub import Hub
from hub.store.sql import SqlStore

# A run fails when a process that a test or fixture started is still running at its end (in a
# plain run, in each xdist worker and in the controller): tests/leftover_processes.py.
from tests.leftover_processes import pytest_configure, pytest_sessionfinish, pytest_testnodedown  # noqa: F401

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_skip_reason: list[str] = []
#: CI sets this: there the PostgreSQL tier must run, and a missing server fails the run.
REQUIRE_POSTGRES = os.environ.get("HUB_TEST_REQUIRE_POSTGRES") == "1"


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _pg_skip_reason:
        terminalreporter.write_line(
            f"PostgreSQL tier SKIPPED: no server at {POSTGRES_URL} ({_pg_skip_reason[0]}); "
            "set HUB_TEST_POSTGRES_URL to run it.", yellow=True)




class FrozenClock:
    """A clock the test moves by hand; each call advances it by one microsecond."""

    def __init__(self, start_us: int = 1_795_000_000_000_000) -> None:
        self.now = start_us

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


def _postgres_store() -> Iterator[SqlStore]:
    schema = f"abusehub_test_{uuid.uuid4().hex[:10]}"
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    store = SqlStore(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    store.migrate()
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


#: The store backends every store-touching test runs on.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def open_test_store(backend: str, folder: Path) -> Iterator[SqlStore]:
    """A migrated, empty store of ``backend`` (a SQLite file in ``folder``, or a PostgreSQL
    schema of its own), removed afterwards; skips the test when PostgreSQL is not there."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        s = SqlStore(f"sqlite:///{folder / 'hub.db'}")
        s.migrate()
        try:
            yield s
        finally:
            s.close()
    else:
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
        yield from _postgres_store()


def alembic_step(store: SqlStore, target: str, down: bool = False) -> None:
    """Upgrade ``store``'s schema to revision ``target`` (or downgrade to it when ``down``) with
    the hub's own migrations, in one transaction on the store's engine: how the migration tests
    put a database at an older revision and bring it back."""
    from alembic import command
    from alembic.config import Config

    import hub.store.sql as sql

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(sql.__file__).parent / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a store backend: each test using it runs once per backend."""
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty store of each backend."""
    with open_test_store(backend, tmp_path) as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def config(tmp_path: Path) -> HubConfig:
    return load_config(tmp_path, environ={})


@pytest.fixture
def hub(config: HubConfig, store: SqlStore, clock: FrozenClock) -> Hub:
    """The services over each backend, with a frozen clock."""
    return Hub(config, store, clock)


# -- in-process hubs: the real app over a seeded hub, driven by Flask's test client ------------

# party -> kind
PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "ops": "operator"}
# collection alias -> {party: (read, write)}
GRANTS: dict[str, dict[str, tuple[bool, bool]]] = {
    "reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False)},
    "advisories": {"gov": (True, True), "alice": (True, False)},
    "private": {"alice": (True, True)},
    "dropbox": {"bob": (False, True)},
}
#: The settings of a seeded test hub: small pages, so that paging shows with a few objects.
TEST_TOML = "[taxii]\nmax_content_length = 65536\ndefault_page_size = 5\nmax_page_size = 50\n"


@dataclass
class Seeded:
    """What was set up in a hub: each party's token and identity, each collection's id by alias."""

    tokens: dict[str, str] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)

    def auth(self, party: str) -> dict[str, str]:
        """The Authorization header of ``party``."""
        return {"Authorization": f"Bearer {self.tokens[party]}"}


def seed_hub(hub: Hub, parties: dict[str, str] | None = None,
             grants: dict[str, dict[str, tuple[bool, bool]]] | None = None) -> Seeded:
    """Add ``parties`` (name: kind) and collections with ``grants`` (alias: party: (read, write))
    through the hub's administration service, as ``abusehub party add`` and friends do."""
    seeded = Seeded()
    for name, kind in (PARTIES if parties is None else parties).items():
        party, token = hub.admin.add_party(name, kind)
        seeded.tokens[name], seeded.identities[name] = token, party.identity_id
    for alias, col_grants in (GRANTS if grants is None else grants).items():
        col = hub.admin.add_collection(alias.title(), alias=alias)
        seeded.collections[alias] = col.id
        for party_name, (read, write) in col_grants.items():
            hub.admin.grant(party_name, col.id, read, write)
    return seeded


@dataclass
class HubApp:
    """An in-process hub: its services, its WSGI app and a test client, and what was seeded."""

    hub: Hub
    app: Flask
    client: FlaskClient
    seed: Seeded

    @property
    def tokens(self) -> dict[str, str]:
        return self.seed.tokens

    @property
    def identities(self) -> dict[str, str]:
        return self.seed.identities

    @property
    def collections(self) -> dict[str, str]:
        return self.seed.collections

    def auth(self, party: str) -> dict[str, str]:
        """The Authorization header of ``party``."""
        return self.seed.auth(party)

    @property
    def api(self) -> str:
        """The path of the API root."""
        return f"/{self.hub.config.taxii.api_root.strip('/')}"

    def collection_url(self, alias: str, *rest: str) -> str:
        """``{api}/collections/<id of alias>/`` followed by ``rest`` (e.g. ``"objects"``), with
        the trailing slash TAXII asks for."""
        return "/".join([f"{self.api}/collections/{self.collections[alias]}", *rest]) + "/"


def build_hub_app(store: SqlStore, home: Path, *, toml: str = TEST_TOML, parties: dict[str, str] | None = None,
                  grants: dict[str, dict[str, tuple[bool, bool]]] | None = None,
                  clock: Clock = system_clock) -> HubApp:
    """A hub over ``store`` configured by ``toml`` (written to ``home``/hub.toml, read as the
    server reads it), seeded, with its app built by :func:`create_app`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(toml)
    hub = Hub(load_config(home, environ={}), store, clock)
    seeded = seed_hub(hub, parties, grants)
    app = create_app(hub.config, hub)
    return HubApp(hub=hub, app=app, client=app.test_client(), seed=seeded)


@contextmanager
def hub_app_on(backend: str, folder: Path, **kwargs: Any) -> Iterator[HubApp]:
    """A seeded in-process hub (:func:`build_hub_app` with ``kwargs``) on a new store of
    ``backend`` in ``folder``; its audit records are written and its store removed afterwards."""
    with open_test_store(backend, folder) as store:
        built = build_hub_app(store, folder / "home", **kwargs)
        try:
            yield built
        finally:
            built.hub.audit.close()


@pytest.fixture
def seeded(store: SqlStore, tmp_path: Path) -> Iterator[HubApp]:
    """A freshly seeded hub (PARTIES, GRANTS, TEST_TOML) on each backend, served in-process."""
    built = build_hub_app(store, tmp_path / "home")
    yield built
    built.hub.audit.close()  # buffered audit records are written before the store goes


@pytest.fixture
def app(seeded: HubApp) -> Flask:
    """The application of the seeded hub, as :func:`hub.server.create_app` builds it."""
    return seeded.app


@pytest.fixture
def client(seeded: HubApp) -> FlaskClient:
    """A test client of ``app``."""
    return seeded.client


HubFactory = Callable[..., HubApp]


@pytest.fixture
def hub_factory(backend: str, tmp_path: Path) -> Iterator[HubFactory]:
    """Builds independent in-process hubs on the test's backend, each on a store of its own:
    ``hub_factory(toml=..., parties=..., grants=..., clock=...)`` (the arguments of
    :func:`build_hub_app`)."""
    with ExitStack() as stack:
        count = 0

        def make(**kwargs: Any) -> HubApp:
            nonlocal count
            count += 1
            return stack.enter_context(hub_app_on(backend, tmp_path / f"hub-{count}", **kwargs))

        yield make


@pytest.fixture(scope="module", params=BACKENDS)
def shared_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubApp]:
    """One seeded in-process hub per backend for a whole test module (for tests that only add
    what they read, such as the access matrix)."""
    with hub_app_on(str(request.param), tmp_path_factory.mktemp("shared-hub")) as built:
        yield built


# -- the black-box tier: real processes ------------------------------------------------------

def run_cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``abusehub --home HOME ARGS`` in its own process, without the caller's HUB_* settings;
    with ``check``, a non-zero exit fails the test with the command's standard error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningHub:
    """A real ``abusehub serve`` process on loopback, and what was set up in it."""

    base: str
    home: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    @property
    def api(self) -> str:
        return self.base + "/api"

    def auth(self, party: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[party]}"}

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


#: How long a started process may take to become ready, and how long each readiness request may
#: take to be answered: generous, so that a machine whose cores are busy with other work (two
#: test processes, a browser, a build) still passes. HUB_TEST_READY_DEADLINE changes the first.
READY_DEADLINE_S = float(os.environ.get("HUB_TEST_READY_DEADLINE", "120"))
READY_REQUEST_TIMEOUT_S = 10.0


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


def start_server(home: Path, env_extra: dict[str, str] | None = None, workers: int = 2) -> RunningHub:
    """Start ``abusehub serve`` for ``home`` and wait until its ``/readyz`` answers 200 (see
    :func:`wait_until_ready`: an error naming the cause, with the server's log, otherwise)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(env_extra or {})
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(proc, base + "/readyz", f"abusehub serve for {home}", log)
    return RunningHub(base=base, home=home, process=proc, log=log)


def stop_server(running: RunningHub) -> None:
    """Stop the server (SIGTERM; SIGKILL for it and its workers when it does not end)."""
    stop_process(running.process)
