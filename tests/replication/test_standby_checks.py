"""Bad standbys are named, never served from: a URL that is not a standby, a standby of another
primary, a standby that does not answer at start-up, one lagging beyond the limit; and the
configuration keys themselves."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.common.errors import ConfigError
from hub.config import load_config
from hub.store import open_store
from hub.store.records import ObjectFilter
from tests.harness import free_port, run_cli
from tests.replication.clusters import Cluster, replication_set, wait_streaming
from tests.replication.conftest import _require_binaries, hub_toml

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_read_urls_from_the_file_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text('[hub]\ndatabase_url = "postgresql://p/db"\n'
                                       'database_read_urls = ["postgresql://s1/db"]\n')
    assert load_config(tmp_path, environ={}).database_read_urls == ("postgresql://s1/db",)
    env = {"HUB_DATABASE_READ_URLS": "postgresql://s1/db, postgresql://s2/db", "HUB_DATABASE_READ_MAX_LAG": "30"}
    cfg = load_config(tmp_path, environ=env)
    assert cfg.database_read_urls == ("postgresql://s1/db", "postgresql://s2/db")
    assert cfg.database_read_max_lag == 30


@pytest.mark.parametrize(("toml", "named"), [
    ('database_url = "postgresql://p/db"\ndatabase_read_urls = ["sqlite:///x.db"]\n', "entry 1 is not a postgresql"),
    ('database_read_urls = ["postgresql://s/db"]\n', "need a PostgreSQL database_url"),
    ('database_url = "postgresql://p/db"\ndatabase_read_max_lag = 0\n', "database_read_max_lag"),
    ('database_read_urls = "postgresql://s/db"\n', None),  # one string is read as a list of one
])
def test_bad_standby_settings_are_named(tmp_path: Path, toml: str, named: str | None) -> None:
    (tmp_path / "hub.toml").write_text("[hub]\n" + toml)
    if named is None:
        with pytest.raises(ConfigError, match="PostgreSQL database_url"):
            load_config(tmp_path, environ={})
        return
    with pytest.raises(ConfigError, match=named):
        load_config(tmp_path, environ={})


@pytest.fixture
def two_sets() -> Iterator[tuple[tuple[Cluster, list[Cluster]], tuple[Cluster, list[Cluster]]]]:
    _require_binaries()
    with replication_set(1) as first, replication_set(1) as second:
        yield first, second


def test_not_a_standby_and_another_primarys_standby_are_refused(two_sets: tuple[tuple[Cluster, list[Cluster]],
                                                                                 tuple[Cluster, list[Cluster]]]) -> None:
    (primary, (own,)), (other_primary, (foreign,)) = two_sets
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres"
    store = open_store(primary.url, migrate=True, read_urls=[own.url, other_primary.url, foreign.url, dead])
    try:
        wait_streaming(primary, own)  # the schema replayed: caught up, not lagging
        problems = store.check_standbys()
        assert len(problems) == 2, problems
        assert "standby 2" in problems[0] and "not a hot standby" in problems[0]
        assert "standby 3" in problems[1] and "another primary" in problems[1]
        states = {r.name: r.state for r in store.standbys()}
        # The one that does not answer is reported, not refused: it is tried again later.
        assert states == {"standby 1": "ready", "standby 2": "refused", "standby 3": "refused", "standby 4": "down"}
        col = store.create_collection("6f5d9a3e-0000-4000-8000-000000000001", "t", "", None, "TLP:CLEAR", False,
                                      False, False, 1)
        wait_streaming(primary, own)
        page = store.routed(lambda: store.query_objects(col.pk, ObjectFilter(), None, 10), None)
        assert page.items == []
        assert {r.name: r.state for r in store.standbys()}["standby 1"] == "serving"
        for url in (primary.url, other_primary.url, foreign.url, dead):
            assert url.split("@")[1] not in str([r.__dict__ if hasattr(r, "__dict__") else r
                                                  for r in store.standbys()])
    finally:
        store.close()


def test_serve_refuses_a_url_that_is_not_a_standby(two_sets: tuple[tuple[Cluster, list[Cluster]],
                                                                   tuple[Cluster, list[Cluster]]],
                                                   tmp_path: Path) -> None:
    (primary, _), (other_primary, _) = two_sets
    home = tmp_path / "hub"
    home.mkdir()
    (home / "hub.toml").write_text(hub_toml(primary, []))
    run_cli(home, "init")
    (home / "hub.toml").write_text(hub_toml(primary, [other_primary]))
    proc = run_cli(home, "serve", "--host", "127.0.0.1", "--port", str(free_port()), check=False)
    assert proc.returncode == 2, proc.stderr
    assert "database_read_urls: standby 1 is not a hot standby" in proc.stderr
    assert str(other_primary.port) not in proc.stderr


def test_a_lagging_standby_is_skipped(two_sets: tuple[tuple[Cluster, list[Cluster]],
                                                      tuple[Cluster, list[Cluster]]]) -> None:
    (primary, (standby,)), _ = two_sets
    store = open_store(primary.url, migrate=True, read_urls=[standby.url], max_lag_s=1)
    try:
        col = store.create_collection("6f5d9a3e-0000-4000-8000-000000000002", "t", "", None, "TLP:CLEAR", False,
                                      False, False, 1)
        wait_streaming(primary, standby)
        standby.sql("SELECT pg_wal_replay_pause()")
        store.create_collection("6f5d9a3e-0000-4000-8000-000000000003", "u", "", None, "TLP:CLEAR", False,
                                False, False, 2)
        import time

        time.sleep(2.5)  # the standby's last replayed transaction is now older than max_lag
        got = store.routed(lambda: store.list_collections(), None)
        assert len(got) == 2  # from the primary: the standby has one
        report = {r.name: r for r in store.standbys()}["standby 1"]
        assert report.state == "lagging" and report.lag_seconds is not None and report.lag_seconds > 1
        assert col.pk
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
        store.close()


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
