"""Faults that stay on their own link, between real processes: a peer that accepts connections and
never answers, a peer whose answer is larger than ``[federation] max_response_bytes``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.factories import indicator
from tests.federation.procs import TOML, FedHub, make_fed_hub, peer, pin, status

pytestmark = pytest.mark.slow


class HungPeer:
    """A loopback TCP server that accepts every connection, reads what it is sent, and never
    answers: a peer hub hanging in the middle of a request."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self._quit.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)  # kept open, never answered

    def close(self) -> None:
        self._quit.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.server.close()


@pytest.fixture()
def hung() -> Iterator[HungPeer]:
    server = HungPeer()
    yield server
    server.close()


def _count(h: FedHub, party: str) -> int:
    return len(h.objects(party))


def test_a_hung_peer_holds_up_only_its_own_links_and_sigterm_ends_federate_at_once(
        tmp_path: Path, hung: HungPeer) -> None:
    # A request to a peer may take a minute: far longer than anything this test waits for.
    slow_toml = TOML + "timeout = 60\nstatus_wait = 60\n"
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True)
    b = make_fed_hub(tmp_path, "b", ["a"], toml=slow_toml)
    proc: subprocess.Popen[str] | None = None
    try:
        # B's first links go to the hung peer (they come first in link order), then a pull from A.
        token = tmp_path / "hung.token"
        token.write_text("ahub_whatever\n")
        b.cli("peer", "add", "hung", "--url", hung.api, "--token-file", str(token), "--no-check")
        b.cli("link", "add", "hung", "--pull", "remote", "--into", b.collection, "--no-check")
        b.cli("link", "add", "hung", "--push", b.collection, "--to", "remote", "--no-check")
        peer(b, a, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        pin(b, a, a.identities["alice"])
        alice = a.identities["alice"]
        a.post([indicator(created_by_ref=alice) for _ in range(5)])

        interval = 2.0
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(b.home), "federate",
                                 "--interval", f"{interval:g}"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and "federating every" in proc.stdout.readline()

        def soon(done: Callable[[], bool], within: float = 25) -> bool:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                if done():
                    return True
                time.sleep(0.1)
            return False

        # The link to A delivers in its first turn although the hung peer's request never ends
        # (it would hold a link for 60 s). Generous: many intervals, far below 60 s.
        assert soon(lambda: _count(b, "hub-a") >= 5), "the link to A waited for the hung peer"
        # What came from A is now pushed to the hung peer too: both its links hang.
        assert soon(lambda: len(hung.accepted) >= 2)
        # The link to A keeps delivering turn after turn while those requests still hang.
        a.post([indicator(created_by_ref=alice) for _ in range(3)])
        assert soon(lambda: _count(b, "hub-a") >= 8), "the link to A stopped while the hung peer's requests ran"
        assert proc.poll() is None

        # SIGTERM ends the command at once, with the hung requests still in flight.
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - asked
        print("TOOK", took, err[-3000:])
        assert proc.returncode == 0, err
        assert "federation stopped" in out
        assert took < 10, f"federate took {took:.1f} s to stop"
        proc = None
        rows = {r["peer"]: r for r in status(b) if r["peer"] == "hub-a"}
        assert rows["hub-a"]["last_error"] is None and rows["hub-a"]["lag_objects"] == 0
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        a.close()
        b.close()


def test_link_status_says_an_answer_was_larger_than_max_response_bytes(tmp_path: Path) -> None:
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True)
    b = make_fed_hub(tmp_path, "b", ["a"], toml=TOML + "max_response_bytes = 8000\n")
    try:
        peer(b, a, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        a.post([indicator(created_by_ref=a.identities["alice"]) for _ in range(20)])
        run = b.cli("federate", "--once", check=False)
        assert run.returncode == 1
        shown = b.cli("link", "status").stdout
        for text in (run.stdout, shown):
            assert "larger than [federation] max_response_bytes = 8000 bytes" in text, text
            assert "DecodingError" not in text
        (row,) = status(b)
        assert "max_response_bytes = 8000 bytes" in row["last_error"]
        assert _count(b, "hub-a") == 0
    finally:
        a.close()
        b.close()
