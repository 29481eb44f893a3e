"""A poll served by a standby, in-process on real clusters: the reads that are not routed (the
token and the grants, on the primary) share one connection from the primary's pool; the routed
ones (the collection and the page) are read on the standby.

Counted with SQLAlchemy's pool ``checkout`` event on this thread only; the read marks have a pool
of their own (not counted).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.server import create_app
from hub.services.hub import EXTENSION, Hub
from tests.harness import run_cli
from tests.replication.clusters import Cluster, wait_streaming
from tests.replication.conftest import hub_toml
from tests.taxii.test_read_connections import checkouts

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_a_poll_on_a_standby_takes_one_primary_connection(clusters: tuple[Cluster, list[Cluster]],
                                                          tmp_path: Path) -> None:
    primary, standbys = clusters
    home = tmp_path / "hub"
    home.mkdir()
    (home / "hub.toml").write_text(hub_toml(primary, standbys))
    run_cli(home, "init")
    app = create_app(load_config(home, environ={}))
    hub: Hub = app.extensions[EXTENSION]
    try:
        _party, token = hub.admin.add_party("reader", "provider")
        col = hub.admin.add_collection("Reports", alias="reports")
        hub.admin.grant("reader", col.id, True, False)
        wait_streaming(primary, standbys[0])
        assert hub.store.replicas is not None
        standby_engine = hub.store.replicas.standbys[0].engine
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
        url = f"/api/collections/{col.id}/objects/"
        assert client.get(url, headers=headers).status_code == 200  # the standby checked once
        with checkouts(hub.store.engine) as on_primary, checkouts(standby_engine) as on_standby:
            r = client.get(url, headers=headers)
        assert r.status_code == 200, r.data[:200]
        assert len(on_primary) == 1  # the token and the grants together
        assert len(on_standby) == 2  # the collection, then the page: routed read by read
    finally:
        hub.close()
