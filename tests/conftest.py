"""Shared fixtures: stores over every backend, a hub's services, and hubs under test.

Most HTTP tests run in-process, as Flask's tutorial tests do: ``seeded`` is a freshly seeded
:class:`~tests.harness.HubUnderTest` (its tokens, identities, collection ids), ``app`` its
application as :func:`hub.server.create_app` builds it and ``client`` Flask's test client of it.
Each runs on every store backend. ``hub_factory`` builds further independent hubs on the same
backend (two hubs wired together with ``httpx.WSGITransport``, a hub with other settings). The
real-server variant of the same hub (:meth:`~tests.harness.HubUnderTest.serve`) starts the real
gunicorn server and is for tests marked ``slow``. Everything these fixtures use is in
:mod:`tests.harness`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.config import HubConfig, load_config
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests.harness import BACKENDS, POSTGRES_URL, FrozenClock, HubUnderTest, _pg_skip_reason, open_test_store

# A run fails when a process that a test or fixture started is still running at its end (in a
# plain run, in each xdist worker and in the controller): tests/leftover_processes.py.
from tests.leftover_processes import pytest_configure, pytest_sessionfinish, pytest_testnodedown  # noqa: F401


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _pg_skip_reason:
        terminalreporter.write_line(
            f"PostgreSQL tier SKIPPED: no server at {POSTGRES_URL} ({_pg_skip_reason[0]}); "
            "set HUB_TEST_POSTGRES_URL to run it.", yellow=True)


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


# -- in-process hubs under test: the real app over a seeded hub ---------------------------------

@pytest.fixture
def seeded(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubUnderTest]:
    """A freshly seeded hub (PARTIES, GRANTS, TEST_TOML) on each backend, served in-process: on
    the test's ``store`` when the test uses that fixture too, else on a copy of a store seeded
    once per test process (``HubUnderTest.build(copied=True)``)."""
    if "store" in request.fixturenames:
        store: SqlStore = request.getfixturevalue("store")
        with HubUnderTest.build(tmp_path / "home", store=store) as built:
            yield built
    else:
        with HubUnderTest.build(tmp_path / "home", backend=backend, copied=True) as built:
            yield built


@pytest.fixture
def app(seeded: HubUnderTest) -> Flask:
    """The application of the seeded hub, as :func:`hub.server.create_app` builds it."""
    return seeded.app


@pytest.fixture
def client(seeded: HubUnderTest) -> FlaskClient:
    """A test client of ``app``."""
    return seeded.http


HubFactory = Callable[..., HubUnderTest]


@pytest.fixture
def hub_factory(backend: str, tmp_path: Path) -> Iterator[HubFactory]:
    """Builds independent in-process hubs on the test's backend, each on a store of its own:
    ``hub_factory(toml=..., parties=..., grants=..., clock=...)`` (the arguments of
    :meth:`HubUnderTest.build`)."""
    with ExitStack() as stack:
        count = 0

        def make(**kwargs: Any) -> HubUnderTest:
            nonlocal count
            count += 1
            return stack.enter_context(HubUnderTest.build(tmp_path / f"hub-{count}", backend=backend, **kwargs))

        yield make


@pytest.fixture(scope="module", params=BACKENDS)
def shared_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    """One seeded in-process hub per backend for a whole test module (for tests that only add
    what they read, such as the access matrix)."""
    with HubUnderTest.build(tmp_path_factory.mktemp("shared-hub"), backend=str(request.param)) as built:
        yield built
