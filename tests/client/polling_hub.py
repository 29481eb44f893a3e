"""A real hub on loopback for the provider's tools, and what their tests share.

The hub is set up in-process (parties, a registered signing key) and served by ``abusehub
serve``; each test makes its own collections while it runs, posts objects over HTTP, and runs
``abusehub poll`` / ``abusehub export`` as subprocesses, the way a SOC's cron job does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import requests

from hub.config import load_config
from hub.services.hub import open_hub
from hub.services.operations.runtime import initialise_hub
from hub.signing import SigningKey
from hub.stix.validator import validate
from hub.store.records import ObjectFilter
from tests.conftest import RunningHub, start_server, stop_server

TAXII = "application/taxii+json;version=2.1"
# party -> kind
PARTIES = {"alice": "provider", "soc": "agency", "eve": "provider"}


@dataclass
class PollEnv:
    """The running hub, its parties' tokens and identities, alice's signing key, a work folder."""

    server: RunningHub
    key: SigningKey
    work: Path

    @property
    def api(self) -> str:
        return self.server.api + "/"

    def token_file(self, party: str) -> Path:
        path = self.work / f"{party}.token"
        if not path.exists():
            path.write_text(self.server.tokens[party] + "\n")
        return path

    def identity(self, party: str) -> str:
        return self.server.identities[party]


def start_poll_hub(home: Path, work: Path) -> PollEnv:
    """Parties alice (writes), soc (reads), eve (no read grant); alice's key registered."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text("[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n")
    hub, _made = initialise_hub(load_config(home, environ={}))  # what 'abusehub init' does
    tokens, identities = {}, {}
    for name, kind in PARTIES.items():
        party, token = hub.admin.add_party(name, kind)
        tokens[name], identities[name] = token, party.identity_id
    key = SigningKey.generate()
    hub.keys.add("alice", key.public_key.to_jwk())
    hub.close()
    running = start_server(home, workers=1)
    running.tokens, running.identities = tokens, identities
    return PollEnv(running, key, work)


def stop_poll_hub(env: PollEnv) -> None:
    stop_server(env.server)


def new_collection(env: PollEnv, title: str, *, signed: bool = False) -> str:
    """A fresh collection: alice reads and writes, soc reads, eve may only write."""
    hub = open_hub(load_config(env.server.home, environ={}))
    try:
        col = hub.admin.add_collection(title, require_signatures=signed, countersign=signed)
        hub.admin.grant("alice", col.id, True, True)
        hub.admin.grant("soc", col.id, True, False)
        hub.admin.grant("eve", col.id, False, True)
        return col.id
    finally:
        hub.close()


def post(env: PollEnv, collection: str, objects: list[dict[str, Any]], party: str = "alice") -> None:
    """POST valid STIX objects in one envelope; every one must be stored."""
    for obj in objects:
        assert validate(obj) == [], (obj["id"], validate(obj))
    r = requests.post(f"{env.api}collections/{collection}/objects/",
                      data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, "Accept": TAXII,
                               "Authorization": f"Bearer {env.server.tokens[party]}"}, timeout=30)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["failure_count"] == 0, status["failures"]


def stored(env: PollEnv, collection: str) -> list[tuple[str, str | None, str]]:
    """(id, version, JSON text) of every object version of the collection, in date_added order."""
    hub = open_hub(load_config(env.server.home, environ={}))
    try:
        col = hub.store.get_collection(collection)
        assert col is not None
        page = hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100_000)
        return [(i.stix_id, i.version, i.json_text) for i in page.items]
    finally:
        hub.close()


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


def poll_args(env: PollEnv, collection: str, out: Path, *extra: str, party: str = "soc",
              url: str | None = None) -> list[str]:
    return ["poll", "--url", url or env.api, "--collection", collection, "--out", str(out),
            "--token-file", str(env.token_file(party)), *extra]


def run_poll(env: PollEnv, collection: str, out: Path, *extra: str, party: str = "soc",
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
