"""What each of the server's processes imports, checked in fresh interpreters: the master
(``serve`` after its checks, with the workers' modules imported and the app built before the
fork) holds no migration machinery, no HTTP client (httpx and what comes with it), no client HTTP
layer and, for a SQLite hub, no PostgreSQL dialect: every worker would otherwise share megabytes
it never uses. A worker's own import of the server holds neither the command line nor the
migrations. A federation link's turn imports its transport when it first runs, and
:data:`hub.services.federation.TRANSPORT_MODULES` names what that is. The schema revisions the
server checks are read without alembic, and agree with alembic's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.services.federation import TRANSPORT_MODULES
from hub.store.ops import head_revision, known_revisions
from tests.harness import clean_environ, run_cli

#: Modules no server process needs: migrations run from 'abusehub migrate' alone.
MIGRATION_MODULES = ("alembic", "mako", "hub.store.migrations")

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
master = set(sys.modules)
from hub.server import create_app
from hub.services.hub import open_hub
create_app(config, open_hub(config))
print(json.dumps({"master": sorted(master), "worker_added": sorted(set(sys.modules) - master)}))
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


_WORKER = """
import json, sys
from pathlib import Path
from hub.config import load_config
from hub.server import create_app
from hub.services.hub import open_hub
create_app(load_config(Path(sys.argv[1])), open_hub(load_config(Path(sys.argv[1]))))
print(json.dumps(sorted(sys.modules)))
"""


def _modules(script: str, home: Path) -> object:
    proc = subprocess.run([sys.executable, "-c", script, str(home)], capture_output=True, text=True,
                          env=clean_environ(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _under(names: list[str], packages: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in packages or n.startswith(tuple(p + "." for p in packages))]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("imports") / "home"
    run_cli(home, "init")
    return home


@pytest.mark.slow
def test_the_master_imports_what_workers_share_and_no_migrations(home: Path) -> None:
    found = _modules(_MASTER, home)
    assert isinstance(found, dict)
    assert _under(found["master"], MIGRATION_MODULES) == []
    # Everything a worker's app is built from was imported before the fork (shared pages):
    # no module of the server, the TAXII API, the web pages or the metrics is left to the worker.
    assert _under(found["worker_added"], ("hub.server", "hub.taxii", "hub.web", "prometheus_client")) == []
    assert "hub.taxii.objects" in found["master"] and "hub.web.signin" in found["master"]


@pytest.mark.slow
def test_a_worker_imports_neither_the_command_line_nor_the_migrations(home: Path) -> None:
    found = _modules(_WORKER, home)
    assert isinstance(found, list)
    assert "hub.taxii.objects" in found  # the app was built
    assert _under(found, ("hub.cli", *MIGRATION_MODULES)) == []


@pytest.mark.slow
def test_the_master_of_a_sqlite_hub_imports_no_http_client_and_no_postgresql(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "init")
    found = _modules(_MASTER, home)
    assert isinstance(found, dict)
    served = found["master"] + found["worker_added"]
    assert "hub.web.file" in served and "hub.services.federation" in served  # what it serves is there
    assert _under(served, UNSERVED) == []


@pytest.mark.slow
def test_a_link_turn_imports_its_transport_when_it_first_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "init")
    run_cli(home, "collection", "add", "Local", "--alias", "local")
    (tmp_path / "token").write_text("peer-token\n")
    run_cli(home, "peer", "add", "other", "--url", "https://peer.example/api/", "--token-file",
            str(tmp_path / "token"), "--no-check")
    run_cli(home, "link", "add", "other", "--pull", "remote", "--into", "local", "--no-check")
    found = _modules(_LINK_TURN, home)
    assert isinstance(found, dict)
    assert found["errors"] == [None]
    before, imported = set(found["before"]), set(found["after"]) - set(found["before"])
    # The service was built without the transport; the turn imported it, all of it named.
    assert _under(sorted(before), ("httpx", "hub.client.taxii", "hub.services.federation.transport")) == []
    assert set(TRANSPORT_MODULES) <= before | imported
    assert sorted(m for m in imported if m.startswith("hub.") and m not in TRANSPORT_MODULES) == []


def test_the_revisions_read_without_alembic_are_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import hub.store

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(hub.store.__file__).parent / "migrations"))
    scripts = ScriptDirectory.from_config(cfg)
    assert head_revision() == scripts.get_current_head()
    assert known_revisions() == frozenset(s.revision for s in scripts.walk_revisions())
    assert len(known_revisions()) >= 13
