"""Fixtures of the standby tier: real clusters (:mod:`.clusters`) and a hub served on them.

The tier skips, saying why, when the PostgreSQL server binaries are missing; with
``HUB_TEST_REQUIRE_POSTGRES=1`` (CI) a missing binary fails it instead, as the PostgreSQL tier does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.harness import REQUIRE_POSTGRES, TEST_TOML, HubUnderTest, run_cli
from tests.replication.clusters import Cluster, missing_reason, replication_set

#: Parties and grants of the hub on the clusters: alice writes, bob and gov read.
GRANTS = {"alice": (True, True), "bob": (True, True), "gov": (True, False)}


def _require_binaries() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"the standby tier is required (HUB_TEST_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"standby tier skipped: {reason}")


@pytest.fixture
def clusters(request: pytest.FixtureRequest) -> Iterator[tuple[Cluster, list[Cluster]]]:
    """A primary and its standbys (``@pytest.mark.parametrize("clusters", [2], indirect=True)``
    for two; one by default), removed after the test."""
    _require_binaries()
    with replication_set(getattr(request, "param", 1)) as made:
        yield made


def hub_toml(primary: Cluster, standbys: list[Cluster], max_lag: int = 300, spool: int = 100_000) -> str:
    urls = ", ".join(f'"{s.url}"' for s in standbys)
    return (f'[hub]\ndatabase_url = "{primary.url}"\ndatabase_read_urls = [{urls}]\n'
            f"database_read_max_lag = {max_lag}\ndatabase_read_spool_records = {spool}\n{TEST_TOML}")


def hub_on(home: Path, primary: Cluster, standbys: list[Cluster], spool: int = 100_000) -> HubUnderTest:
    """A hub home on ``primary`` with ``standbys`` for reads, initialised and seeded (parties
    alice, bob, gov; collection ``reports``), served by a real server with two workers."""
    home.mkdir(parents=True)
    (home / "hub.toml").write_text(hub_toml(primary, standbys, spool=spool))
    run_cli(home, "init")
    made = HubUnderTest.existing(home)
    for name in GRANTS:
        made.add_party(name, "provider")
    made.add_collection("reports", GRANTS)
    made.http = requests.Session()
    made._serve_with = (2, {})
    made._closing.callback(made.http.close)
    made._closing.callback(made.stop)
    return made.restart()


@pytest.fixture
def spool() -> int:
    """Read records a server process holds while the primary is down (a test may parametrize it)."""
    return 100_000


@pytest.fixture
def served(clusters: tuple[Cluster, list[Cluster]], tmp_path: Path, spool: int) -> Iterator[HubUnderTest]:
    """The hub of :func:`hub_on` on ``clusters``."""
    primary, standbys = clusters
    with hub_on(tmp_path / "hub", primary, standbys, spool) as made:
        yield made
