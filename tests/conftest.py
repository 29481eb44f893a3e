"""Shared fixtures: stores over every backend, a hub, and a real server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from hub.config import HubConfig, load_config
from hub.services.hub import Hub
from hub.store.sql import SqlStore

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_skip_reason: list[str] = []


def _postgres_available() -> bool:
    if _pg_skip_reason:
        return False
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return True
    except Exception as exc:  # any failure to connect means: skip the tier, and say so
        _pg_skip_reason.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty store of each backend."""
    if request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
        s.migrate()
        yield s
        s.close()
    else:
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
        yield from _postgres_store()


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


def run_cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``abusehub --home HOME ARGS`` in its own process, without the caller's HUB_* settings;
    with ``check``, a non-zero exit fails the test with the command's standard error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=60)
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


def start_server(home: Path, env_extra: dict[str, str] | None = None, workers: int = 2) -> RunningHub:
    """Start ``abusehub serve`` for ``home`` and wait until it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(env_extra or {})
    log = home / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            requests.get(base + "/taxii2/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"server did not start: {log.read_text()}")
    return RunningHub(base=base, home=home, process=proc, log=log)


def stop_server(running: RunningHub) -> None:
    running.process.terminate()
    try:
        running.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        running.process.kill()
