"""What a worker does about its memory: the C heap's free pages are given back when it goes idle
(:class:`hub.server.gunicorn.IdleTrim`), and the worker keeps serving."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from hub.server.gunicorn import IdleTrim
from tests.harness import HubUnderTest, run_cli

TRIMMED = "idle: the C heap's free pages were given back"


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_trim_runs_when_the_last_request_in_flight_ends() -> None:
    trims: list[float] = []
    clock = _Clock()
    idle = IdleTrim(lambda: trims.append(clock.now), interval=1.0, clock=clock)
    idle.started()
    idle.started()
    idle.finished()
    assert trims == []  # one request is still in flight
    idle.finished()
    assert trims == [100.0] and idle.count == 1


def test_a_request_ending_within_the_interval_schedules_one_trim_for_when_it_is_over() -> None:
    done = threading.Event()
    trims: list[float] = []
    clock = _Clock()

    def trim() -> None:
        trims.append(clock.now)
        done.set()

    idle = IdleTrim(trim, interval=1.0, clock=clock)
    idle.started()
    idle.finished()
    assert trims == [100.0]
    done.clear()
    clock.now = 100.8  # 0.2 s (on the timer's own clock) before the next trim is due
    for _ in range(5):
        idle.started()
        idle.finished()
    assert trims == [100.0]  # not now: scheduled, once
    assert done.wait(30)
    assert trims == [100.0, 100.8] and idle.count == 2


def test_a_scheduled_trim_waits_for_the_request_in_flight() -> None:
    trims: list[float] = []
    clock = _Clock()
    idle = IdleTrim(lambda: trims.append(clock.now), interval=1.0, clock=clock)
    idle.started()
    idle.finished()
    clock.now = 100.9
    idle.started()
    idle.finished()  # schedules a trim in 0.1 s
    timer = idle._timer
    assert timer is not None
    idle.started()  # busy when it is due: the timer does nothing
    timer.join(30)
    assert not timer.is_alive() and trims == [100.0]
    clock.now = 101.5
    idle.finished()  # the last request ends after the interval: trimmed now
    assert trims == [100.0, 101.5]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_a_real_worker_trims_when_idle_and_keeps_serving(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    h = HubUnderTest.existing(home)
    h.add_party("alice", "provider")
    h.add_collection("reports", {"alice": (True, True)})
    h.serve(workers=1, env={"HUB_LOG_LEVEL": "debug"})
    try:
        url = h.collection_url("reports", "objects")
        headers = {**h.auth("alice"), "Accept": "application/taxii+json;version=2.1"}
        for _ in range(3):
            assert requests.get(url, headers=headers, timeout=30).status_code == 200
        assert _wait_for(lambda: TRIMMED in h.read_log()), h.read_log()[-3000:]
        trims = h.read_log().count(TRIMMED)
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 200 and r.json() == {"more": False}
        assert _wait_for(lambda: h.read_log().count(TRIMMED) > trims), h.read_log()[-3000:]
    finally:
        h.stop()


_LIBRARY_PAGES = """
import json
from hub.pseudonyms import oprf
from hub.server.gunicorn import release_library_pages

def library_rss_kib():
    # rbcl loads its libsodium from a file of its own (deleted once loaded): no other process
    # maps it, so every page of it this process holds is its alone.
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            first = line.split()[0]
            if "-" in first and ":" not in first:
                inside = ".so" in line and "(deleted)" in line
            elif inside and first == "Rss:":
                total += int(line.split()[1])
    return total

oprf.generate_key_pair()
before = library_rss_kib()
advised = release_library_pages()
after = library_rss_kib()
secret, public = oprf.generate_key_pair()  # the library's code is read back where it is run
print(json.dumps({"before": before, "after": after, "advised": advised, "works": len(public) == 32}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and madvise are Linux's")
def test_the_library_pages_read_at_start_up_are_given_back_and_read_again_when_run() -> None:
    # What a library's start-up read and no other process maps is given back before the master
    # forks its workers; a worker reads back what it runs.
    proc = subprocess.run([sys.executable, "-c", _LIBRARY_PAGES], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["advised"] > 0 and found["works"], found
    assert found["before"] >= 64, found  # KiB
    assert found["after"] < found["before"] / 4, found
