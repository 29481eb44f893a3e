"""The vendored blind RSA bundle (hub/web/static/vendor/blindrsa.js, @cloudflare/blindrsa-ts
0.4.4) in a real browser: every RFC 9474 Appendix A vector byte for byte in Debian's Chromium,
driven by Selenium through /usr/bin/chromedriver (nothing downloads a browser).

A small server on 127.0.0.1 serves only a test page, the bundle and
tests/web/blindrsa_vectors_lib.js, every response under the hub's own Content-Security-Policy
(:data:`hub.web.CSP`: scripts from the page's origin only, no inline code, no eval), so the
bundle runs as the pages would load it: a classic script, WebCrypto and the bundle's own sjcl
bignums. The same checks as under node (tests/web/test_blindrsa_js.py); the console stays free of
errors and CSP reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.chromium import JS, MISSING, console_problems, have_chromium, start_chromium, static_pages
from tests.web.test_blindrsa_js import check_results, rfc_vectors

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parents[1] / "hub" / "web" / "static" / "vendor"

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>blindrsa.js</title><link rel="icon" href="data:,">
<script src="/static/vendor/blindrsa.js"></script>
<script src="/tests/blindrsa_vectors_lib.js"></script>
</head><body><p>RFC 9474 in the browser</p></body></html>
"""

FILES = {
    "/": (PAGE, "text/html; charset=utf-8"),
    "/static/vendor/blindrsa.js": (VENDOR / "blindrsa.js", JS),
    "/tests/blindrsa_vectors_lib.js": (HERE / "blindrsa_vectors_lib.js", JS),
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with static_pages(FILES) as url:
        yield url


@pytest.fixture(scope="module")
def driver(base: str) -> Iterator[Any]:
    drv = start_chromium()
    drv.set_script_timeout(300)
    try:
        drv.get(base + "/")
        yield drv
    finally:
        drv.quit()


def test_rfc9474_vectors_in_chromium(driver: Any) -> None:
    vectors = rfc_vectors()
    loaded = driver.execute_script("return typeof window.blindrsa === 'object' && typeof window.require === 'undefined'")
    assert loaded is True, "the bundle did not define its global as a classic script"
    out = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "blindrsaVectors(arguments[0]).then(done, (e) => done({thrown: String(e && e.stack || e)}));",
        {"vectors": vectors})
    assert isinstance(out, list), out
    check_results(vectors, out)
    assert console_problems(driver) == []
