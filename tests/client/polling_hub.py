"""A real hub on loopback for the provider's tools, and what their tests share.

The hub is the seeded hub under test (:class:`tests.harness.HubUnderTest`: parties and a
registered signing key) served by ``abusehub serve``; each test makes its own collections while
it runs, posts objects over HTTP, and runs ``abusehub poll`` / ``abusehub export`` as
subprocesses, the way a SOC's cron job does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import requests

from hub.stix.validator import validate
from tests.harness import HubUnderTest

TAXII = "application/taxii+json;version=2.1"
# party -> kind
PARTIES = {"alice": "provider", "soc": "agency", "eve": "provider"}


def start_poll_hub(home: Path) -> HubUnderTest:
    """Parties alice (writes), soc (reads), eve (no read grant); alice's key registered; served
    by one worker (close it after)."""
    return HubUnderTest.served(home, toml="[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n",
                               parties=PARTIES, grants={}, keys_for=("alice",), workers=1)


def new_collection(env: HubUnderTest, title: str, *, signed: bool = False) -> str:
    """A fresh collection: alice reads and writes, soc reads, eve may only write."""
    return env.add_collection(title, {"alice": (True, True), "soc": (True, False), "eve": (False, True)},
                              signed=True if signed else None, title=title)


def post(env: HubUnderTest, collection: str, objects: list[dict[str, Any]], party: str = "alice") -> None:
    """POST valid STIX objects in one envelope; every one must be stored."""
    for obj in objects:
        assert validate(obj) == [], (obj["id"], validate(obj))
    r = requests.post(f"{env.url}collections/{collection}/objects/",
                      data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, "Accept": TAXII, **env.auth(party)}, timeout=30)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["failure_count"] == 0, status["failures"]


def stored(env: HubUnderTest, collection: str) -> list[tuple[str, str | None, str]]:
    """(id, version, JSON text) of every object version of the collection, in date_added order."""
    return env.stored(collection)


def lines_of(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").split("\n")[:-1] if path.exists() else []


def id_versions(path: Path) -> list[tuple[str, str | None]]:
    out = []
    for line in lines_of(path):
        obj = orjson.loads(line)
        out.append((obj["id"], obj.get("modified") or obj.get("created")))
    return out


def hub_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ABUSEHUB_"))}


def run_hub(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``abusehub ARGS`` as a subprocess (no hub home involved: the tools are clients)."""
    proc = subprocess.run(hub_cmd(*args), capture_output=True, text=True, timeout=120,
                          env=env or clean_env())
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def poll_args(env: HubUnderTest, collection: str, out: Path, *extra: str, party: str = "soc",
              url: str | None = None) -> list[str]:
    return ["poll", "--url", url or env.url, "--collection", collection, "--out", str(out),
            "--token-file", str(env.token_file(party)), *extra]


def run_poll(env: HubUnderTest, collection: str, out: Path, *extra: str, party: str = "soc",
             url: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_hub(*poll_args(env, collection, out, *extra, party=party, url=url), check=check)


# -- a gate in front of the hub ------------------------------------------------------------------


class GateProxy:
    """A loopback HTTP proxy to the hub that can hold requests and rewrite answers.

    ``hold_after``: GETs of objects after this many are held until :meth:`release`.
    ``rewrite``: a function applied to each objects page body (bytes -> bytes).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.hold_after: int | None = None
        self.rewrite: Any = None
        self.object_requests = 0
        self.gate = threading.Event()
        self.gate.set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                is_objects = "/objects/" in self.path
                if is_objects:
                    proxy.object_requests += 1
                    if proxy.hold_after is not None and proxy.object_requests > proxy.hold_after:
                        proxy.gate.wait(60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "accept")}
                try:
                    r = requests.get(proxy.upstream + self.path, headers=headers, timeout=30,
                                     allow_redirects=False)
                    body = r.content
                    if is_objects and proxy.rewrite is not None and r.status_code == 200:
                        body = proxy.rewrite(body)
                    self.send_response(r.status_code)
                    for k, v in r.headers.items():
                        if k.lower() in ("content-type",) or k.lower().startswith("x-taxii"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (OSError, requests.RequestException):
                    pass  # the client went away (killed): nothing to answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def hold(self, after: int) -> None:
        self.hold_after = after
        self.gate.clear()

    def release(self) -> None:
        self.hold_after = None
        self.gate.set()

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_static(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """A loopback server answering every GET with one canned response; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
