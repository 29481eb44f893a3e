"""``abusehub report new`` never falls back to sending personal values in clear.

A real hub (one that still takes values in clear, ``accept_raw_values = true``: a fallback would
succeed) behind a real loopback proxy that answers 404 to ``GET pseudonyms/key``, as an older
hub, a misconfigured proxy or a hostile operator can make it answer, and passes everything else
through. The tool runs as the analyst runs it, through the proxy; the proxy keeps every request
it was sent, and no request line or body may hold the e-mail, phone, card or address (or the
account id) in any written form. Without ``--allow-clear-values`` the tool stops with one line
saying why; with it, and no pinned key, it files (and says it sent values in clear); with a
pinned key it refuses whatever the flag says.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from hub.pseudonyms import HMAC_PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from tests.client.report_kit import RAW, facts_toml, raw_in, set_up_hub, write
from tests.harness import HubUnderTest, run_cli

pytestmark = pytest.mark.slow  # a real server, a proxy and CLI processes

TAXII = "application/taxii+json;version=2.1"
NOT_FOUND = json.dumps({"title": "Not Found", "description": "no such resource", "http_status": "404"}).encode()


class HidingProxy:
    """A loopback reverse proxy to the hub: ``GET …/pseudonyms/key`` answers 404, everything else
    goes through. Keeps every request it was sent (method, path, body)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()
        proxy = self
        session = requests.Session()
        session.trust_env = False

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, body))
                if self.command == "GET" and self.path.split("?")[0].endswith("/pseudonyms/key"):
                    self._answer(404, {"Content-Type": TAXII}, NOT_FOUND)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "accept", "content-type")}
                r = session.request(self.command, proxy.upstream + self.path, data=body or None,
                                    headers=headers, timeout=60, allow_redirects=False)
                self._answer(r.status_code, {k: v for k, v in r.headers.items()
                                             if k.lower() in ("content-type", "retry-after", "location")
                                             or k.lower().startswith("x-taxii")}, r.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"

    def seen(self) -> list[tuple[str, str, bytes]]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Setup:
    server: HubUnderTest
    proxy: HidingProxy
    work: Path
    facts: Path
    pinned: str  # VERSION=KEY, as `abusehub pseudonym key` prints it


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("hub")
    work = tmp_path_factory.mktemp("analyst")
    tokens, ids, col = set_up_hub(home, work)
    (pinned,) = [line.split()[0] for line in run_cli(home, "pseudonym", "key").stdout.splitlines()]
    server = HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"reports": col}).serve(
        env={"HUB_PSEUDONYMS_ACCEPT_RAW_VALUES": "true"}, workers=1)
    proxy = HidingProxy(server.base)
    try:
        facts = write(work / "report.toml", facts_toml(ids["acme"]))
        yield Setup(server, proxy, work, facts, pinned)
    finally:
        proxy.close()
        server.close()


def _report_new(s: Setup, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "hub", "report", "new", str(s.facts), "--url", s.proxy.api,
         "--collection", s.server.collections["reports"], "--token-file", str(s.work / "acme.token"),
         "--key", str(s.work / "analyst.pem"), "--as", s.server.identities["acme"], *extra],
        cwd=s.work, capture_output=True, text=True, env=env, timeout=120)


def _clear_in(requests_seen: list[tuple[str, str, bytes]]) -> list[tuple[str, str, list[str]]]:
    """Each request whose line or body holds a raw value in any written form."""
    out = []
    for method, path, body in requests_seen:
        found = raw_in(unquote(path)) + raw_in(body.decode("utf-8", "replace")) \
            + raw_in(json.dumps(body.decode("utf-8", "replace")))
        if found:
            out.append((method, path, sorted(set(found))))
    return out


def _stored_reports(s: Setup) -> list[dict[str, Any]]:
    r = requests.get(f"{s.server.api}/collections/{s.server.collections['reports']}/objects/",
                     headers={"Accept": TAXII, **s.server.auth("nosy")}, params={"limit": "1000"}, timeout=30)
    assert r.status_code == 200, r.text
    return list(r.json().get("objects", []))


def test_without_the_flag_nothing_in_clear_reaches_the_hub(setup: Setup) -> None:
    s = setup
    start = len(s.proxy.seen())
    proc = _report_new(s)
    sent = s.proxy.seen()[start:]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0] == (f"abusehub: the hub at {s.proxy.api} offers no oblivious pseudonym evaluation (GET "
                    "pseudonyms/key answered 404), so nothing was sent; --allow-clear-values would send the "
                    "personal values in clear for that hub to pseudonymise (it then sees them): use it only "
                    "for a hub known to be older")
    assert "Traceback" not in proc.stderr and raw_in(proc.stdout + proc.stderr) == []
    # The tool asked for the key and stopped there: no pseudonym request, no submission.
    assert [(m, re.sub(r"^/api/", "", p)) for m, p, _ in sent] == [("GET", "pseudonyms/key")]
    assert _clear_in(sent) == []
    assert _stored_reports(s) == []


def test_a_pinned_key_refuses_even_with_the_flag(setup: Setup) -> None:
    s = setup
    start = len(s.proxy.seen())
    proc = _report_new(s, "--allow-clear-values", "--pseudonym-key", s.pinned)
    sent = s.proxy.seen()[start:]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert "offers no oblivious pseudonym evaluation" in line and "nothing was sent" in line
    assert "with --pseudonym-key the personal values are only ever sent blinded, never in clear" in line
    assert [m for m, _, _ in sent] == ["GET"] and _clear_in(sent) == []
    assert _stored_reports(s) == []


def test_with_the_flag_the_values_go_in_clear_and_the_report_is_filed(setup: Setup) -> None:
    s = setup
    start = len(s.proxy.seen())
    proc = _report_new(s, "--allow-clear-values", "--out", str(s.work / "filed.json"))
    sent = s.proxy.seen()[start:]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^\d+ stored, 0 already stored, 0 refused$", proc.stdout, re.M), proc.stdout
    assert (f"abusehub: {s.proxy.api} offers no oblivious pseudonyms: 6 personal values were sent to it in "
            "clear (--allow-clear-values), and its pseudonyms of them are not proven") in proc.stderr.splitlines()
    # The values went in clear in exactly one request, POST pseudonyms/, and nowhere else: this
    # also shows that the proxy sees a value in clear when one is sent.
    clear = _clear_in(sent)
    assert [(m, p) for m, p, _ in clear] == [("POST", "/api/pseudonyms/")]
    assert set(clear[0][2]) >= {RAW["email"], "+14155552671", "4111111111111111"}  # normalised
    (account,) = [o for o in json.loads((s.work / "filed.json").read_text())["objects"]
                  if o["type"] == "user-account"]
    pseudonyms = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]
    assert all(HMAC_PSEUDONYM_RE.match(p) for p in pseudonyms.values())
    assert account["id"] in {o["id"] for o in _stored_reports(s)}
