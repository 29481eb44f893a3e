"""The real-server harness waits for readiness the way a busy machine needs: a server whose
answers are slow (longer than a second each) is still waited for, one that exits or never becomes
ready fails the test with the tail of its log, and one that never becomes ready is stopped.

The "servers" here are small Python processes serving /readyz as they are told to."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness import free_port, wait_until_ready

pytestmark = pytest.mark.slow

#: A server on PORT whose /readyz answers 503 for the first NOT_READY requests and then 200,
#: each answer after DELAY seconds; it logs each request.
SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, delay, not_ready = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
seen = 0

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global seen
        seen += 1
        time.sleep(delay)
        status = 503 if seen <= not_ready else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"not ready" if status == 503 else b"ready")

    def log_message(self, fmt, *args):
        print("request", seen, flush=True)

print("listening", flush=True)
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def start(tmp_path: Path, delay: float, not_ready: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(delay), str(not_ready)],
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}/readyz", log


def test_a_server_slower_than_a_second_per_answer_is_waited_for(tmp_path: Path) -> None:
    proc, url, log = start(tmp_path, delay=1.5, not_ready=2)
    try:
        wait_until_ready(proc, url, "the slow server", log)
        assert proc.poll() is None
        assert "request 3" in log.read_text()  # two answers of 503, then the 200
    finally:
        proc.kill()
        proc.wait()


def test_a_server_that_exits_fails_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", "print('the port is taken'); raise SystemExit(3)"],
                                stdout=out, stderr=subprocess.STDOUT)
    with pytest.raises(RuntimeError) as raised:
        wait_until_ready(proc, f"http://127.0.0.1:{free_port()}/readyz", "the failing server", log)
    message = str(raised.value)
    assert "the failing server exited with status 3" in message and "the port is taken" in message


def test_a_server_that_never_becomes_ready_is_stopped_and_fails_with_its_log(tmp_path: Path) -> None:
    proc, url, log = start(tmp_path, delay=0, not_ready=10**9)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as raised:
        wait_until_ready(proc, url, "the stuck server", log, deadline_s=3)
    assert time.monotonic() - t0 < 60
    message = str(raised.value)
    assert "the stuck server was not ready after 3 s" in message and "HTTP 503: not ready" in message
    assert "listening" in message  # the log's tail
    assert proc.poll() is not None  # stopped, not left running
