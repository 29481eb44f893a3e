"""The browser's submission tokens (hub/web/static/js/tokens.js over the vendored blindrsa.js) in a
real browser: Debian's Chromium, driven by Selenium through /usr/bin/chromedriver.

A small server on 127.0.0.1 serves only a test page, the bundle, tokens.js and the test scripts,
every response under the hub's own Content-Security-Policy (:data:`hub.web.CSP`), and passes the
page's API requests on to a real hub in process: the token key directory (also as a "second
source" and a tailored one), issuance as a signed-in provider (``/issue`` -> ``POST
anonymity/tokens/`` with alice's token), and the redemption as it comes (its headers kept). In the
page:

- every RFC 9578 Appendix A.2 vector gives the RFC's TokenRequest and Token byte for byte;
- tokens are fetched, finalised and one redeemed: the hub publishes the report, refuses the same
  token again as spent, and the redemption carried the token and nothing else (no cookie, no
  party's credential);
- a second source that shows another key is refused;
- the console stays free of errors and CSP reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity import blindrsa
from hub.anonymity.escrow import OversightPrivateKey
from hub.anonymity.filing import commitment, new_secret
from hub.anonymity.tokens import token_key_id
from hub.client.anonymous import prepare_anonymous_report
from hub.client.tokens import seal_submitter_record
from hub.common.canonical import b64url_encode
from hub.signing import unsigned_form
from hub.web import CSP
from tests.factories import report_facts
from tests.harness import TEST_TOML, HubUnderTest
from tests.web.chromium import JS, MISSING, clear_console, console_problems, have_chromium, start_chromium
from tests.web.test_tokens_js import VECTORS, directory_of

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "hub" / "web" / "static"

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tokens.js</title><link rel="icon" href="data:,">
<script src="/static/vendor/blindrsa.js"></script>
<script src="/static/js/tokens.js"></script>
<script src="/tests/tokens_vectors_lib.js"></script>
<script src="/tests/tokens_page.js"></script>
</head><body><p>Submission tokens in the browser</p></body></html>
"""

FILES = {
    "/static/vendor/blindrsa.js": STATIC / "vendor" / "blindrsa.js",
    "/static/js/tokens.js": STATIC / "js" / "tokens.js",
    "/tests/tokens_vectors_lib.js": HERE / "tokens_vectors_lib.js",
    "/tests/tokens_page.js": HERE / "tokens_page.js",
}


class PageServer:
    def __init__(self, h: HubUnderTest) -> None:
        self.h = h
        self.lock = threading.Lock()
        self.redemptions: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-store")
                if self.path == "/":
                    self.send_header("Set-Cookie", "session=page-session; Path=/")
                self.end_headers()
                self.wfile.write(body)

            def _hub(self, resp: Any) -> None:
                self._send(resp.status_code, resp.get_data(), "application/json")

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                h = server.h
                if self.path == "/":
                    self._send(200, PAGE, "text/html; charset=utf-8")
                elif self.path in FILES:
                    self._send(200, FILES[self.path].read_bytes(), JS)
                elif self.path in ("/api/anonymity/token-keys/", "/second/anonymity/token-keys/"):
                    with server.lock:
                        self._hub(h.http.get(f"{h.api}/anonymity/token-keys/"))
                elif self.path == "/tailored/anonymity/token-keys/":
                    with server.lock:
                        doc = h.http.get(f"{h.api}/anonymity/token-keys/").get_json()
                    other = blindrsa.PrivateKey.generate(2048).public_key
                    doc["keys"][0]["token_key_id"] = b64url_encode(token_key_id(other))
                    self._send(200, json.dumps(doc).encode(), "application/json")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                h = server.h
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server.lock:
                    if self.path == "/issue":
                        self._hub(h.http.post(f"{h.api}/anonymity/tokens/", data=body, headers=h.auth("alice"),
                                              content_type="application/json"))
                    elif self.path == "/api/anonymous/redeem/":
                        server.redemptions.append({k.lower(): v for k, v in self.headers.items()})
                        headers = {"Authorization": self.headers.get("Authorization", "")}
                        self._hub(h.http.post(f"{h.api}/anonymous/redeem/", data=body, headers=headers,
                                              content_type=self.headers.get("Content-Type", "")))
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
def hub_and_oversight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubUnderTest, OversightPrivateKey]]:
    home = tmp_path_factory.mktemp("tokens-browser") / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = TEST_TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
    with HubUnderTest.build(home, toml=toml, keys_for=("alice",), prepare=True) as built:
        built.hub.anonymous.set_allowed(built.collections["reports"], True)
        yield built, oversight


@pytest.fixture(scope="module")
def page(hub_and_oversight: tuple[HubUnderTest, OversightPrivateKey]) -> Iterator[PageServer]:
    with PageServer(hub_and_oversight[0]) as server:
        yield server


@pytest.fixture(scope="module")
def driver(page: PageServer) -> Iterator[Any]:
    drv = start_chromium()
    drv.set_script_timeout(300)
    try:
        drv.get(page.base + "/")
        # Checked here: each test's own check starts from an empty console (own_console).
        loaded = console_problems(drv)
        assert loaded == [], f"the test page logged problems as its scripts loaded: {loaded}"
        yield drv
    finally:
        drv.quit()


@pytest.fixture(autouse=True)
def own_console(driver: Any) -> None:
    """Each test's console check sees what its own scripts logged, not what an earlier test of
    the module left in the shared browser's console when it failed before reading it."""
    clear_console(driver)


def run_async(driver: Any, call: str, *args: Any) -> Any:
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {call}).then(done, (e) => done({{thrown: String(e && e.stack || e)}}));",
        *args)


def test_rfc9578_vectors_in_chromium(driver: Any) -> None:
    wanted = [{"directory": directory_of(bytes.fromhex(v["pkS"]), bytes.fromhex(v["token_challenge"])),
               "nonce": v["nonce"], "salt": v["salt"], "r": v["blind"].rjust(512, "0"),
               "token_response": v["token_response"]} for v in VECTORS]
    got = run_async(driver, "TokensPage.vectors(arguments[0])", {"vectors": wanted})
    assert isinstance(got, list), got
    for v, g in zip(VECTORS, got, strict=True):
        assert "error" not in g, g
        assert (g["token_request"], g["token"]) == (v["token_request"], v["token"])
    assert console_problems(driver) == []


def test_the_page_fetches_tokens_and_redeems_one(driver: Any, page: PageServer,
                                                 hub_and_oversight: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    h, oversight = hub_and_oversight
    prepared = prepare_anonymous_report(h.client("alice"), report_facts(h.identities["alice"]), h.keys["alice"],
                                        h.identities["alice"])
    objects = [unsigned_form(o) for o in prepared.objects]
    committed = commitment(new_secret())
    sealed = seal_submitter_record(h.keys["alice"], "alice", h.identities["alice"], objects, committed,
                                   h.hub.tokens.issuer_name, oversight.public_key)
    filing = {"collection": h.collections["reports"], "objects": objects, "withdrawal_commitment": committed,
              "sealed_record": sealed}
    out = run_async(driver, "TokensPage.fetchAndRedeem(arguments[0], 2)", filing)
    assert "thrown" not in out, out
    assert isinstance(out["receipt"]["report_id"], str)
    assert "spent before" in out["again"]
    first = page.redemptions[0]
    assert first["authorization"] == f'PrivateToken token="{out["tokens"][0]}"'
    assert "cookie" not in first  # the page's session cookie stays home: credentials omitted
    h.hub.anonymous.flush_due()
    published = [o.data for p in h.client("gov").pages(h.collections["reports"]) for o in p.objects]
    assert out["receipt"]["report_id"] in {o["id"] for o in published}
    # The one problem in the console: the spent token's refusal (409), a failed request.
    logged = console_problems(driver)
    assert len(logged) == 1 and "/api/anonymous/redeem/" in logged[0] and "409" in logged[0], logged


def test_the_page_refuses_a_key_a_second_source_does_not_show(driver: Any) -> None:
    message = run_async(driver, "TokensPage.refuseTailored()")
    assert "another key" in message
