"""The vendored HPKE bundle (hub/web/static/vendor/hpke.js, @hpke/core 1.9.0) and the page's
escrow record (hub/web/static/js/escrow.js) in a real browser: RFC 9180 Appendix A.1.1 byte for
byte, and a submitter record sealed in Debian's Chromium that opens with ``abusehub escrow open``
and verifies, as under node (tests/web/test_hpke_js.py).

A small server on 127.0.0.1 serves only a test page and the scripts, every response under the
pages' own Content-Security-Policy (:data:`hub.web.CSP`: scripts from the page's origin only, no
inline code, no eval), so the bundle runs as the filing page loads it: a classic script over
WebCrypto's X25519, HKDF and AES-GCM. The console stays free of errors and CSP reports.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.escrow import OversightPrivateKey
from hub.web import CSP
from tests.web.chromium import MISSING, console_problems, have_chromium, start_chromium
from tests.web.test_hpke_js import check_record, check_vectors, job

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "hub" / "web" / "static"

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hpke.js</title><link rel="icon" href="data:,">
<script src="/static/js/cjs-shim.js"></script>
<script src="/static/vendor/canonicalize.js"></script>
<script src="/static/vendor/hpke.js"></script>
<script src="/static/js/signing.js"></script>
<script src="/static/js/escrow.js"></script>
<script src="/tests/hpke_vectors_lib.js"></script>
</head><body><p>RFC 9180 in the browser</p></body></html>
"""

FILES = {
    "/": None,
    "/static/js/cjs-shim.js": STATIC / "js" / "cjs-shim.js",
    "/static/vendor/canonicalize.js": STATIC / "vendor" / "canonicalize.js",
    "/static/vendor/hpke.js": STATIC / "vendor" / "hpke.js",
    "/static/js/signing.js": STATIC / "js" / "signing.js",
    "/static/js/escrow.js": STATIC / "js" / "escrow.js",
    "/tests/hpke_vectors_lib.js": HERE / "hpke_vectors_lib.js",
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path not in FILES:
            self.send_error(404)
            return
        path = FILES[self.path]
        body = PAGE if path is None else path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8" if path is None else "text/javascript; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_rfc9180_vectors_and_the_pages_record_in_chromium(base: str, tmp_path: Path) -> None:
    driver = start_chromium()
    try:
        driver.set_script_timeout(300)
        driver.get(base + "/")
        loaded = driver.execute_script("return typeof window.hpke === 'object' && typeof window.require === 'undefined'")
        assert loaded is True, "the bundle did not define its global as a classic script"
        oversight = OversightPrivateKey.generate()
        out = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "hpkeVectors(arguments[0]).then(done, (e) => done({thrown: String(e && e.stack || e)}));",
            job(oversight))
        assert "thrown" not in out, out
        check_vectors(out["vectors"])
        check_record(out["record"], oversight, tmp_path)
        assert console_problems(driver) == []
    finally:
        driver.quit()
