"""The README's round trip, with the real CLI against a real hub on loopback.

Provider A (``acme``) makes a signing key with ``abusehub key generate``; the operator registers
its public half with ``abusehub party key add``. A files the example facts file the README quotes
(``deploy/report-example.toml``, with its own identity in place of the placeholder, as the file
says) with ``abusehub report new``: pseudonyms through the hub, signed, posted into a collection
that requires signatures, the status followed to the end. Party B (``nosy``) then runs
``abusehub poll --verify`` (signatures checked against the hub's published keys), ``abusehub
verify`` on the polled file, and ``abusehub export blocklist`` in both formats; a second poll adds
nothing. Every command runs as a subprocess, the way the README shows it.

The CLI talks to the hub through a recording proxy, so every request body the hub received and
every HTTP answer the tools received is searched for the example's raw personal values, with the
tools' output, the server log, the hub's database and every other file the hub or B wrote. The
pseudonyms are oblivious: the hub, set up by ``abusehub init`` (the raw-value endpoint off),
evaluates blinded values only.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey
from hub.stix.report import classify_resource
from tests.client.report_kit import (
    RAW,
    example_facts,
    example_table,
    raw_in,
    raw_in_bytes,
    set_up_hub,
    write,
)
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow  # real server and CLI processes

class RecordingProxy:
    """A loopback reverse proxy to the hub that keeps every answer it passed on."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.answers: list[tuple[str, str, int, str]] = []  # method, path, status, body
        self.requests: list[tuple[str, str, bytes]] = []  # method, path, body
        proxy = self
        session = requests.Session()
        session.trust_env = False

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append((self.command, self.path, body or b""))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "accept", "content-type")}
                r = session.request(self.command, proxy.upstream + self.path, data=body,
                                    headers=headers, timeout=60, allow_redirects=False)
                proxy.answers.append((self.command, self.path, r.status_code,
                                      r.content.decode("utf-8", "replace")))
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() in ("content-type", "retry-after", "location") \
                            or k.lower().startswith("x-taxii"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Flow:
    """The hub, the proxy in front of it, and everything the commands printed and wrote."""

    server: HubUnderTest
    proxy: RecordingProxy
    a_dir: Path  # provider A's files
    b_dir: Path  # party B's files
    collection: str
    outputs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    @property
    def polled(self) -> Path:
        return self.b_dir / "reports.jsonl"


def abusehub(name: str, flow: Flow, cwd: Path, *args: str, code: int = 0,
             home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``abusehub ARGS`` as a subprocess in ``cwd``; kept under ``name`` for the checks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ABUSEHUB_"))}
    cmd = [sys.executable, "-m", "hub", *(["--home", str(home)] if home else []), *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=180)
    flow.outputs[name] = proc
    assert proc.returncode == code, f"{name}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def expected_entries() -> set[tuple[str, str]]:
    """(type, value) of every abused resource the example file names, as the blocklist lists them."""
    return {classify_resource(r) for r in example_table()["resources"]}


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    home = tmp_path_factory.mktemp("hub")
    a_dir = tmp_path_factory.mktemp("provider-a")
    b_dir = tmp_path_factory.mktemp("party-b")
    # The operator adds the parties and the collection; A generates its key with `abusehub key
    # generate` and the operator registers the public half with `abusehub party key add`.
    tokens, ids, col = set_up_hub(home, a_dir)
    os.replace(a_dir / "nosy.token", b_dir / "b.token")
    server = HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"reports": col}).serve()
    proxy = RecordingProxy(server.base)
    f = Flow(server, proxy, a_dir, b_dir, col)
    try:
        write(a_dir / "report.toml", example_facts(ids["acme"]))
        abusehub("report new", f, a_dir, "report", "new", "report.toml", "--url", proxy.api,
                 "--collection", col, "--token-file", "acme.token", "--key", "analyst.pem",
                 "--as", ids["acme"])
        abusehub("poll", f, b_dir, "poll", "--url", proxy.api, "--collection", col,
                 "--out", "reports.jsonl", "--token-file", "b.token", "--verify")
        f.outputs["polled file after the first poll"] = subprocess.CompletedProcess(
            [], 0, f.polled.read_text(encoding="utf-8"), "")
        # `abusehub verify` reads bundles, TAXII envelopes and JSON lines (the polled file).
        # It needs no hub home: --home names an empty folder so nothing is read from or made there.
        abusehub("verify", f, b_dir, "verify", "reports.jsonl", "--keys", proxy.api + "keys/",
                 home=b_dir / "no-hub")
        abusehub("export plain", f, b_dir, "export", "blocklist", "--in", "reports.jsonl",
                 "--format", "plain")
        abusehub("export csv", f, b_dir, "export", "blocklist", "--in", "reports.jsonl",
                 "--format", "csv")
        abusehub("poll again", f, b_dir, "poll", "--url", proxy.api, "--collection", col,
                 "--out", "reports.jsonl", "--token-file", "b.token", "--verify")
        yield f
    finally:
        proxy.close()
        server.close()


def _objects(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_provider_a_files_the_example_and_every_object_is_stored(flow: Flow) -> None:
    out = flow.outputs["report new"].stdout.splitlines()
    submitted = [line for line in out if line.startswith("submitted ")]
    assert len(submitted) == 1 and f"to collection {flow.collection}" in submitted[0], out
    count = int(submitted[0].split()[1])
    assert f"{count} stored, 0 already stored, 0 refused" in out
    # Everything went through the hub's endpoints: one oblivious evaluation (never the raw-value
    # endpoint), one submission, the status followed until complete.
    paths = [(m, p.split("?")[0]) for m, p, _, _ in flow.proxy.answers]
    assert paths.count(("POST", "/api/pseudonyms/evaluate")) == 1
    assert ("POST", "/api/pseudonyms/") not in paths
    assert paths.count(("POST", f"/api/collections/{flow.collection}/objects/")) == 1


def test_party_b_polls_every_object_signed_by_a_and_verifies_them(flow: Flow) -> None:
    objects = _objects(flow.polled)
    count = int(flow.outputs["report new"].stdout.split("submitted ")[1].split()[0])
    assert len(objects) == count and objects[-1]["type"] == "report"
    key_id = SigningKey.from_pem((flow.a_dir / "analyst.pem").read_bytes()).key_id
    for obj in objects:
        (sig,) = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
        assert (sig["signer"], sig["key_id"]) == (flow.server.identities["acme"], key_id)
    poll = flow.outputs["poll"].stdout
    assert f"signatures: {count} verified, 0 unsigned, 0 FAILED" in poll, poll
    assert not (flow.b_dir / "reports.jsonl.failed").exists()
    verify = flow.outputs["verify"]
    assert verify.stdout.count("OK ") == count and f"{count} OK, 0 FAILED" in verify.stderr
    assert not (flow.b_dir / "no-hub").exists()
    # B fetched the keys from the hub, without its token.
    assert any(p == "/api/keys/" and s == 200 for _, p, s, _ in flow.proxy.answers)


def test_the_blocklists_hold_exactly_the_example_resources(flow: Flow) -> None:
    expected = expected_entries()
    assert {t for t, _ in expected} == {"ipv4-addr", "ipv6-addr", "domain-name", "url"}
    plain = flow.outputs["export plain"].stdout
    section, listed = None, set()
    for line in plain.splitlines():
        if line.startswith("# ") and "(" in line:
            section = line[2:].split(" (")[0]
        elif line and not line.startswith("#"):
            listed.add((section, line))
    assert listed == expected, plain
    rows = list(csv.DictReader(io.StringIO(flow.outputs["export csv"].stdout)))
    assert {(r["type"], r["value"]) for r in rows} == expected
    assert len(rows) == len(expected)
    assert {r["created_by_ref"] for r in rows} == {flow.server.identities["acme"]}
    n = len(expected)
    assert f"{n} current indicators of {n}" in flow.outputs["export csv"].stderr


def test_a_second_poll_adds_nothing(flow: Flow) -> None:
    again = flow.outputs["poll again"].stdout
    assert "0 new objects in 0 pages" in again, again
    assert flow.polled.read_text(encoding="utf-8") == \
        flow.outputs["polled file after the first poll"].stdout


def test_no_raw_personal_value_anywhere(flow: Flow) -> None:
    """The example's raw values (as typed and normalised) are nowhere but A's facts file."""
    assert set(RAW) == {"email", "phone", "payment_instrument", "name", "address"}
    assert len(flow.proxy.answers) >= 6
    for method, path, status, body in flow.proxy.answers:
        assert raw_in(body) == [], (method, path, status)
    assert any(m == "POST" and p.startswith("/api/pseudonyms/evaluate") for m, p, _ in flow.proxy.requests)
    for method, path, body in flow.proxy.requests:  # what the hub received
        assert raw_in_bytes(body) == [], (method, path)
    for name, proc in flow.outputs.items():
        assert raw_in(proc.stdout + proc.stderr) == [], name
    assert raw_in(flow.server.read_log()) == []
    db_files = [p for p in flow.server.home.iterdir() if p.name.startswith("hub.db")]
    assert db_files, "the hub's database file"
    for path in flow.server.home.rglob("*"):  # the database (and its WAL), the log, the keys
        if path.is_file():
            assert raw_in_bytes(path.read_bytes()) == [], path
    for path in flow.b_dir.rglob("*"):  # the polled file, its cursor
        if path.is_file():
            assert raw_in_bytes(path.read_bytes()) == [], path
    for path in flow.a_dir.iterdir():
        if path.name != "report.toml":  # A's own facts file holds the raw values
            assert raw_in_bytes(path.read_bytes()) == [], path
    assert raw_in((flow.a_dir / "report.toml").read_text()) != []  # the check can find them
    for token in flow.server.tokens.values():
        everything = "".join(p.stdout + p.stderr for p in flow.outputs.values())
        assert token not in everything + flow.server.read_log()
