"""The application is built once, in the gunicorn master, before the workers are forked
(:mod:`hub.server.gunicorn`): the master holds no database connection for a worker to inherit, the
workers serve, and SIGHUP builds the application anew from ``hub.toml`` in the master, keeping the
running one when the new configuration cannot be built."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import requests

from tests.harness import HubUnderTest, run_cli

TAXII = "application/taxii+json;version=2.1"


def _wait_for(condition: Callable[[], bool], what: str, log: Callable[[], str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{log()[-3000:]}"
        time.sleep(0.2)


def _database_files(pid: int, home: Path) -> list[str]:
    """The files of the hub's SQLite database (the file, its WAL and shared memory) ``pid`` has open."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue  # closed meanwhile
        if target.startswith(str(home / "hub.db")):
            found.append(target)
    return found


def _served_hub(tmp_path: Path, workers: int) -> HubUnderTest:
    home = tmp_path / "hub"
    run_cli(home, "init")
    h = HubUnderTest.existing(home)
    h.add_party("alice", "provider")
    h.add_collection("reports", {"alice": (True, True)})
    return h.serve(workers=workers)


def _title(h: HubUnderTest) -> str:
    r = requests.get(h.base + "/taxii2/", headers={**h.auth("alice"), "Accept": TAXII}, timeout=30)
    assert r.status_code == 200, r.text
    title = r.json()["title"]
    assert isinstance(title, str)
    return title


@pytest.mark.slow
def test_the_master_holds_no_database_connection_while_its_workers_serve(tmp_path: Path) -> None:
    h = _served_hub(tmp_path, workers=2)
    try:
        url = h.collection_url("reports", "objects")
        for _ in range(8):  # each on a connection of its own: gunicorn spreads them over the workers
            r = requests.get(url, headers={**h.auth("alice"), "Accept": TAXII}, timeout=30)
            assert r.status_code == 200, r.text
        master = psutil.Process(h.process.pid)
        workers = master.children()
        assert len(workers) == 2
        # The workers that served have the database open; the master, which built the application
        # they serve, has not (a connection made before the fork would be shared by every worker).
        assert any(_database_files(w.pid, h.home) for w in workers)
        assert _database_files(master.pid, h.home) == []
        assert master.num_threads() == 1  # nor any thread, which a fork would not carry over
    finally:
        h.stop()


@pytest.mark.slow
def test_sighup_builds_the_new_configuration_and_keeps_the_running_one_when_it_cannot(tmp_path: Path) -> None:
    h = _served_hub(tmp_path, workers=1)
    try:
        toml = h.home / "hub.toml"
        original = toml.read_text()
        assert _title(h) == "abusehub"

        # hub.toml loads, but the application cannot be built from it: the /metrics token file
        # is not there. The server keeps serving what it served, and says why.
        renamed = original.replace('title = "abusehub"', 'title = "Renamed hub"', 1)
        assert renamed != original
        assert 'token_file = ""' in renamed
        toml.write_text(renamed.replace('token_file = ""', 'token_file = "no-such-token"', 1))
        h.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "configuration was not read again" in h.read_log(), "the failed reload is logged",
                  h.read_log)
        assert "metrics.token_file" in h.read_log()
        assert h.process.poll() is None
        assert _title(h) == "abusehub"

        # Mended, the next SIGHUP is served by new workers.
        toml.write_text(renamed)
        h.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: _title(h) == "Renamed hub", "the new title is served", h.read_log)
        assert "configuration was read again" in h.read_log()
    finally:
        h.stop()
