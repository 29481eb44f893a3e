"""The browser's oblivious pseudonyms in a real browser (Debian's Chromium, driven by Selenium
through /usr/bin/chromedriver; nothing downloads a browser).

A small server on 127.0.0.1 serves only the vendored noble-curves bundle, the page's oprf.js,
the test page and its scripts, every response under the hub's own Content-Security-Policy
(:data:`hub.web.CSP`: scripts from the page's origin only, no inline code, no eval). In the page:

- every RFC 9497 ristretto255-SHA512 vector (tests/pseudonyms/test_oprf_vectors.py) gives the
  RFC's key pairs, blinded and evaluated elements, proofs and outputs byte for byte;
- oprf.js pseudonymises values through a real hub's ``GET pseudonyms/key`` and
  ``POST pseudonyms/evaluate`` (the application in process, the server passing the page's
  requests on) and gets what the key holder computes; an evaluation with another key is refused;
- the console stays free of errors and CSP violations.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.harness import HubUnderTest
from tests.pseudonyms.test_oprf_vectors import VECTORS, Vector
from tests.web.chromium import MISSING, console_problems, have_chromium, send_page, start_chromium
from tests.web.test_oprf_js import (
    GRANTS,
    PARTIES,
    RAW,
    TOML,
    UNVERIFIABLE,
    check_vector_result,
    direct_pseudonyms,
    items_of,
    key_doc,
    other_key_answer,
    vector_input,
)

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STATIC = ROOT / "hub" / "web" / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oprf.js</title><link rel="icon" href="data:,">
<script src="/static/vendor/noble-curves.js"></script>
<script src="/static/js/oprf.js"></script>
<script src="/tests/oprf_vectors_lib.js"></script>
<script src="/tests/oprf_page.js"></script>
</head><body><p>RFC 9497 in the browser</p></body></html>
"""

#: The only files served: path -> (file, content type).
FILES = {
    "/static/vendor/noble-curves.js": (STATIC / "vendor" / "noble-curves.js", "text/javascript; charset=utf-8"),
    "/static/js/oprf.js": (STATIC / "js" / "oprf.js", "text/javascript; charset=utf-8"),
    "/tests/oprf_vectors_lib.js": (HERE / "oprf_vectors_lib.js", "text/javascript; charset=utf-8"),
    "/tests/oprf_page.js": (HERE / "oprf_page.js", "text/javascript; charset=utf-8"),
}


class PageServer:
    """The test page's server on loopback; ``POST /evaluate`` goes to the hub's endpoint (as
    alice), ``POST /evaluate-other`` to an evaluator with another key."""

    def __init__(self, h: HubUnderTest) -> None:
        self.h = h
        self.lock = threading.Lock()  # one request at a time into the in-process hub
        self.other, _ = other_key_answer(h)
        self.errors: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                send_page(self, status, body, content_type)

            def _json(self, obj: Any) -> None:
                self._send(200, json.dumps(obj).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/":
                    self._send(200, PAGE.encode(), "text/html; charset=utf-8")
                elif self.path in FILES:
                    path, content_type = FILES[self.path]
                    self._send(200, path.read_bytes(), content_type)
                elif self.path == "/vectors.json":
                    self._json(vector_input())
                elif self.path == "/key":
                    with server.lock:
                        self._json(key_doc(server.h))
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with server.lock:
                    if self.path == "/evaluate":
                        resp = server.h.http.post(f"{server.h.api}/pseudonyms/evaluate", data=json.dumps(body),
                                                    headers={**server.h.auth("alice"),
                                                             "Content-Type": "application/json"})
                        if resp.status_code != 200:
                            server.errors.append(resp.get_data(as_text=True))
                        self._send(resp.status_code, resp.get_data(), "application/json")
                    elif self.path == "/evaluate-other":
                        self._json(server.other(body)["answer"])
                    else:
                        self._send(404, b"not found", "text/plain")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path_factory.mktemp("oprf-browser"), toml=TOML, parties=PARTIES,
                            grants=GRANTS) as built:
        yield built


@pytest.fixture(scope="module")
def page(h: HubUnderTest) -> Iterator[PageServer]:
    with PageServer(h) as server:
        yield server


@pytest.fixture(scope="module")
def driver(page: PageServer) -> Iterator[Any]:
    drv = start_chromium()
    drv.set_script_timeout(120)
    try:
        drv.get(page.base + "/")
        yield drv
    finally:
        drv.quit()


def run_async(driver: Any, call: str, *args: Any) -> Any:
    """``call`` (an expression giving a promise, over ``args[0..]``) awaited in the page."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {call}).then(done, (e) => done({{thrown: String(e && e.stack || e)}}));",
        *args)


@pytest.fixture(scope="module")
def browser_vectors(driver: Any) -> dict[str, Any]:
    out = run_async(driver, "OprfPage.vectors()")
    assert "thrown" not in out, out
    return dict(out)


@pytest.mark.parametrize("v", VECTORS)
def test_rfc9497_vector_in_chromium(v: Vector, browser_vectors: dict[str, Any], request: pytest.FixtureRequest) -> None:
    results = {r["id"]: r for r in browser_vectors["results"]}
    vector_id = request.node.callspec.id
    assert vector_id in results
    check_vector_result(v, results[vector_id])


def test_the_bundle_runs_as_a_classic_script(browser_vectors: dict[str, Any]) -> None:
    # The global of the vendored bundle, no module loader, no node: as the filing page loads it.
    assert browser_vectors["loaded"] is True
    assert len(browser_vectors["results"]) == len(VECTORS)


def test_pseudonyms_made_in_chromium_are_the_key_holders(driver: Any, page: PageServer, h: HubUnderTest) -> None:
    items = items_of(RAW) + [{"kind": "name", "input": "ǅ 𝄞 x"}]
    out = run_async(driver, "OprfPage.pseudonymise(arguments[0], '/evaluate')", items)
    assert out == {"result": direct_pseudonyms(h, items)}
    assert page.errors == []


def test_an_evaluation_with_another_key_is_refused_in_chromium(driver: Any) -> None:
    out = run_async(driver, "OprfPage.pseudonymise(arguments[0], '/evaluate-other')", items_of(RAW[:3]))
    assert out == {"error": UNVERIFIABLE + "the proof does not hold for the published key",
                   "name": "UnverifiableAnswer"}


def test_the_console_has_no_errors(driver: Any, browser_vectors: dict[str, Any]) -> None:
    # Runs after the others (pytest keeps the file's order): their console output is included.
    run_async(driver, "OprfPage.pseudonymise([{kind: 'email', input: 'a@example.com'}], '/evaluate')")
    bad = console_problems(driver)
    assert bad == [], bad
