"""The server imports only what it serves: what the ``serve`` master imports before it forks
its workers (the command line, :func:`~hub.server.gunicorn.prepare`,
:func:`~hub.server.gunicorn.share_worker_modules` and the app), checked in a fresh interpreter, holds no
HTTP client (httpx and what comes with it), no client HTTP layer and no PostgreSQL dialect for
a SQLite hub: every worker would otherwise share megabytes it never uses. A federation link's
turn imports its transport when it first runs, and
:data:`hub.services.federation.TRANSPORT_MODULES` names what that is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.services.federation import TRANSPORT_MODULES
from tests.harness import clean_environ, run_cli

#: Modules the master of a SQLite hub without federation links never needs.
UNSERVED = ("httpx", "httpcore", "h11", "anyio", "sniffio", "rich", "pygments", "sqlalchemy.dialects.postgresql",
            "hub.client.http", "hub.client.taxii", "hub.services.federation.transport")

_MASTER = """
import json, sys
from pathlib import Path
import hub.cli
from hub.config import load_config
from hub.server.gunicorn import prepare, share_worker_modules
config = load_config(Path(sys.argv[1]))
prepare(config, "127.0.0.1", 0)
share_worker_modules(config)
from hub.server import create_app
from hub.services.hub import open_hub
create_app(config, open_hub(config))  # the master builds the app once, before the fork
print(json.dumps(sorted(sys.modules)))
"""

#: One turn of every link, the peer answering every request with an empty TAXII answer.
_LINK_TURN = """
import json, sys
from pathlib import Path
import hub.cli
from hub.config import load_config
from hub.services.hub import open_hub
hub = open_hub(load_config(Path(sys.argv[1])))
before = set(sys.modules)
import httpx
empty = httpx.Response(200, headers={"Content-Type": "application/taxii+json;version=2.1"}, json={"more": False})
hub.federation.set_transport(lambda peer: httpx.MockTransport(lambda request: empty))
errors = [result.error for result in hub.federation.sync_once()]
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules), "errors": errors}))
"""


def _run(script: str, home: Path) -> object:
    proc = subprocess.run([sys.executable, "-c", script, str(home)], capture_output=True, text=True,
                          env=clean_environ(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _under(names: list[str], packages: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in packages or n.startswith(tuple(p + "." for p in packages))]


@pytest.mark.slow
def test_the_master_of_a_sqlite_hub_imports_no_http_client_and_no_postgresql(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "init")
    found = _run(_MASTER, home)
    assert isinstance(found, list)
    assert "hub.web.file" in found and "hub.services.federation" in found  # what it serves is there
    assert _under(found, UNSERVED) == []


@pytest.mark.slow
def test_a_link_turn_imports_its_transport_when_it_first_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "init")
    run_cli(home, "collection", "add", "Local", "--alias", "local")
    (tmp_path / "token").write_text("peer-token\n")
    run_cli(home, "peer", "add", "other", "--url", "https://peer.example/api/", "--token-file",
            str(tmp_path / "token"), "--no-check")
    run_cli(home, "link", "add", "other", "--pull", "remote", "--into", "local", "--no-check")
    found = _run(_LINK_TURN, home)
    assert isinstance(found, dict)
    assert found["errors"] == [None]
    before, imported = set(found["before"]), set(found["after"]) - set(found["before"])
    # The service was built without the transport; the turn imported it, all of it named.
    assert _under(sorted(before), ("httpx", "hub.client.taxii", "hub.services.federation.transport")) == []
    assert set(TRANSPORT_MODULES) <= before | imported
    assert sorted(m for m in imported if m.startswith("hub.") and m not in TRANSPORT_MODULES) == []
