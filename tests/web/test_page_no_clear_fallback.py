"""The filing page has no clear-text fallback either: when the hub's pseudonym key cannot be read
(``/web/pseudonyms/key`` answers 404, as a misconfigured proxy or a hostile operator can make it
answer), the page's script says so and sends nothing, and no request the hub receives holds a
personal value in any written form.

A real hub (:func:`hub.server.create_app`) served by werkzeug on loopback behind WSGI middleware
that answers 404 to the key and keeps every request (path, query, body); Debian's Chromium fills
in the form as an analyst would.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.client.report_kit import raw_in
from tests.harness import HubUnderTest, free_port
from tests.web.chromium import MISSING, fill, have_chromium, sign_in, start_chromium
from tests.web.forms import report_form

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class HidingKey:
    """WSGI middleware: the pseudonym key (the page's and the API's) answers 404; every request
    is kept as (method, path and query, body)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "")
        self.seen.append((environ["REQUEST_METHOD"], f"{path}?{environ.get('QUERY_STRING', '')}", body))
        if path.endswith("/pseudonyms/key"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"title": "Not Found", "description": "no such resource"}']
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HubUnderTest, HidingKey]]:
    from werkzeug.serving import make_server

    # Plain HTTP on loopback: session cookies without the Secure flag.
    with HubUnderTest.build(tmp_path_factory.mktemp("hub") / "home", toml="[web]\nsecure_cookies = false\n",
                            prepare=True) as seeded:
        app = seeded.app
        hiding = HidingKey(app.wsgi_app)
        app.wsgi_app = hiding  # type: ignore[method-assign]
        server = make_server("127.0.0.1", free_port(), app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", seeded, hiding
        finally:
            server.shutdown()


def test_the_page_sends_nothing_when_the_key_cannot_be_read(live: tuple[str, HubUnderTest, HidingKey]) -> None:
    base, seeded, hiding = live
    driver = start_chromium()
    try:
        sign_in(driver, base, seeded.tokens, "alice")
        page = f"{base}/web/collections/{seeded.collections['reports']}/file"
        driver.get(page)
        form = report_form(**{"personal.payment_instrument": "4111 1111 1111 1111",
                              "personal.address": "1 Main St, Springfield, IL 62701"})
        fill(driver, form)
        start = len(hiding.seen)
        driver.find_element(By.ID, "preview-button").click()
        WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "pseudonym-state"), "Not sent"))
        state = driver.find_element(By.ID, "pseudonym-state").text
        assert "pseudonym key could not be read (404)" in state and raw_in(state) == []
        sent = hiding.seen[start:]
        # The page asked for the key and stopped: the form was not posted, nothing else was sent.
        assert [(m, p.split("?")[0]) for m, p, _ in sent] == [("GET", "/web/pseudonyms/key")]
        assert driver.current_url == page and not driver.find_elements(By.ID, "preview")
        # The values typed are still in the page, for the analyst (never sent).
        assert driver.find_element(By.ID, "f-personal-email").get_attribute("value") == form["personal.email"]
    finally:
        driver.quit()
    for _, path, body in hiding.seen:
        assert raw_in(unquote_plus(path)) == [] and raw_in(unquote_plus(body.decode("utf-8", "replace"))) == []
