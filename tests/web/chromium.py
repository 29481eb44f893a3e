"""Debian's Chromium driven by Selenium through /usr/bin/chromedriver, for the browser tests.

Nothing downloads a browser or a driver: both come from the system packages (Debian: chromium
chromium-driver), and Selenium Manager is told to stay offline. Selenium is imported only when a
browser is started, so a module can import this one to decide whether to skip.

A click that makes the page navigate often returns before the new page is there (how often
depends on timing and the machine's load): :func:`navigation` waits for it, so that what a
test finds next is on the new page, never on the one being left.

The steps in the hub's pages that several tests take (signing in, filling in the report form,
previewing a report to file with a token) are here too, so that each is taken one way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: Why a browser test is skipped when :func:`have_chromium` says no.
MISSING = "Chromium and chromedriver (Debian: chromium chromium-driver) are not installed"


def have_chromium() -> bool:
    """Whether both Chromium and chromedriver are installed where Debian puts them."""
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def start_chromium(window: str = "1280,1800") -> WebDriver:
    """A headless Chromium of the system's packages (``window`` its size, "width,height"), keeping
    the console's entries for :func:`console_problems`; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch anything
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={window}", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return driver


def console_problems(driver: WebDriver) -> list[str]:
    """The console's entries since the last call (or :func:`clear_console`) that are errors, or
    CSP reports of any level."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" or "Content Security Policy" in e["message"]]


def clear_console(driver: WebDriver) -> None:
    """Drop the console's entries so far, so that the next :func:`console_problems` names only
    what came after (a browser shared by a module's tests: one test stopped by a failure before
    reading the console would otherwise pass its entries on to the next test)."""
    driver.get_log("browser")


#: Set on the window of the page an action starts from: a new document has a new window without it.
_LEAVING = "window.abusehubTestLeaving = true;"
#: Whether the current document is a new one (not the page being left) and has finished loading.
_ARRIVED = "return window.abusehubTestLeaving === undefined && document.readyState === 'complete';"


@contextmanager
def navigation(driver: WebDriver, timeout: float = 60) -> Iterator[None]:
    """Around an action that makes the current page navigate (a click on a link or on a form's
    button, a script's ``form.submit()``, a redirect after a POST included): after the action,
    wait until a new document has replaced the page and finished loading.

    The click often returns before the browser has replaced the page (how often depends on
    timing and the machine's load). A test that looks for an element right after it may find the element on the
    page being left, then act on it while that page is replaced: Chromium refuses it ("stale
    element reference", or "Node with given id does not belong to the document" when the page
    changes under the command), or the test reads the old page. Each check here is one script
    run in whichever document is current, so it never holds an element across the change. The
    page must be a loaded page of a site (not the browser's first ``about:blank``, whose window a
    first navigation may keep)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script(_LEAVING)
    leaving = driver.current_url
    yield
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script(_ARRIVED),
        f"the page {leaving} was not replaced by a new, loaded page within {timeout} s")


# Steps in the hub's pages that several browser tests take, the same way each time.


def sign_in(driver: WebDriver, base: str, tokens: Mapping[str, str], party: str) -> None:
    """A new session of ``party`` on the hub at ``base`` (``tokens`` maps each party to its API
    token): the browser's cookies of any earlier session dropped, the token posted on the sign-in
    page, and its redirect to the collections waited for, signed in as ``party``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(base + "/web/signin")
    driver.find_element(By.ID, "token").send_keys(tokens[party])
    with navigation(driver):  # the session starts with the redirect to the collections
        driver.find_element(By.CSS_SELECTOR, "#token-signin button[type=submit]").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".signout"), party))


def open_without_draft(driver: WebDriver, url: str) -> None:
    """The form page at ``url`` as a first visit shows it: the filing and notice forms restore the
    draft kept in the tab's sessionStorage as they load (an earlier test's, in a browser shared by
    a module's tests), so the storage is emptied and the page loaded again."""
    driver.get(url)
    driver.execute_script("sessionStorage.clear()")
    driver.get(url)


def fill(driver: WebDriver, form: Mapping[str, Any]) -> None:
    """Type ``form`` (field name -> value, as :func:`tests.web.forms.report_form` gives) into the
    page's form as an analyst would: a select's option picked, a text field cleared and typed,
    the abuse types' check boxes ticked after every typed field. The account id and the personal
    values are found by id, and must have no name: their values are never part of the form sent."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for name, value in form.items():
        if name == "abuse_types":
            continue
        if name == "provider_account_id" or name.startswith("personal."):
            el = driver.find_element(By.ID, "f-" + name.replace(".", "-"))
            assert el.get_attribute("name") in (None, ""), f"the field {name} has a name: its value would be sent"
        else:
            el = driver.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)
    for t in form.get("abuse_types", ()):
        driver.find_element(By.CSS_SELECTOR, f'input[name=abuse_types][value="{t}"]').click()


def preview_in_token_mode(driver: WebDriver, url: str, form: Mapping[str, Any]) -> None:
    """On the filing page at ``url`` (no draft restored), ``form`` filed anonymously with a
    submission token: typed, both choices ticked and the preview built (the page pseudonymises,
    then posts the form), up to the loaded preview with its token panel."""
    from selenium.webdriver.common.by import By

    open_without_draft(driver, url)
    fill(driver, form)
    driver.find_element(By.ID, "f-file_anonymously").click()
    driver.find_element(By.ID, "f-anonymous_mode-token").click()
    with navigation(driver, timeout=90):
        driver.find_element(By.ID, "preview-button").click()
    assert driver.find_elements(By.ID, "token-panel"), \
        "the preview has no token panel: " + driver.find_element(By.TAG_NAME, "main").text[:2000]


#: The content type of a script the test servers send.
JS = "text/javascript; charset=utf-8"


def send_page(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    """Answer a test server's request with ``body`` under the headers the hub's own pages carry:
    its Content-Security-Policy (:data:`hub.web.CSP`, as the pages load scripts), no sniffing,
    no caching."""
    from hub.web import CSP

    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Content-Security-Policy", CSP)
    handler.send_header("X-Content-Type-Options", "nosniff")
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def static_pages(files: Mapping[str, tuple[bytes | Path, str]]) -> Iterator[str]:
    """A server on 127.0.0.1 answering GET for the paths of ``files`` (each its bytes or a file,
    and its content type) and 404 for anything else, every answer under the hub's own
    Content-Security-Policy (:data:`hub.web.CSP`) as the pages load scripts; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path not in files:
                self.send_error(404)
                return
            content, content_type = files[self.path]
            send_page(self, 200, content if isinstance(content, bytes) else content.read_bytes(), content_type)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
