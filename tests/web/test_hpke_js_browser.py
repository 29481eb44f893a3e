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

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.anonymity.escrow import OversightPrivateKey
from tests.web.chromium import JS, MISSING, console_problems, have_chromium, start_chromium, static_pages
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
    "/": (PAGE, "text/html; charset=utf-8"),
    "/static/js/cjs-shim.js": (STATIC / "js" / "cjs-shim.js", JS),
    "/static/vendor/canonicalize.js": (STATIC / "vendor" / "canonicalize.js", JS),
    "/static/vendor/hpke.js": (STATIC / "vendor" / "hpke.js", JS),
    "/static/js/signing.js": (STATIC / "js" / "signing.js", JS),
    "/static/js/escrow.js": (STATIC / "js" / "escrow.js", JS),
    "/tests/hpke_vectors_lib.js": (HERE / "hpke_vectors_lib.js", JS),
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with static_pages(FILES) as url:
        yield url


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
