"""The web pages in a real browser (Debian's Chromium, driven by Selenium through
/usr/bin/chromedriver; nothing downloads a browser) against a real hub on loopback.

The hub is the real application (:func:`hub.server.create_app`, which registers the web pages)
served by werkzeug in a thread on 127.0.0.1. Alice signs in, files a report whose objects she
signs in the page with a key imported into the browser (WebCrypto), and watches its status
complete; gov polls the objects over TAXII and ``abusehub verify`` checks every signature the
browser made against the published keys; bob files a report about the same holder with the
CLI's report service, and the correlation shows for alice and not for an outsider (the page
pseudonymised the holder's values in the browser, RFC 9497, and every request body the hub
received is captured at the WSGI layer to show that no value reached it); text with
HTML in it is shown as text; the CSP header is set and the console stays free of errors and
CSP violations. Screenshots of every page are saved under the test's temporary folder (and
copied to ``$HUB_WEB_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from hub.client.reports import file_report
from hub.client.taxii import TaxiiClient
from hub.services.hub import Hub
from hub.signing import KeySet, SigningKey
from hub.signing.documents import verify_objects
from hub.web import CSP
from tests.harness import HubUnderTest, free_port, run_cli
from tests.web.chromium import (
    MISSING,
    clear_console,
    console_problems,
    fill,
    have_chromium,
    navigation,
    open_without_draft,
    sign_in,
    start_chromium,
)
from tests.web.forms import report_form

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


class BodyCapture:
    """WSGI middleware keeping every request body the hub receives, with its path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[tuple[str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.bodies.append((environ.get("PATH_INFO", ""), body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


class LiveHub:
    """A hub served on loopback by werkzeug in a thread."""

    def __init__(self, hub: Hub, base: str, seeded: Any, server: Any, capture: BodyCapture) -> None:
        self.hub, self.base, self.seeded, self.server, self.capture = hub, base, seeded, server, capture


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    from werkzeug.serving import make_server

    # Plain HTTP on loopback: session cookies without the Secure flag (a browser keeps Secure
    # cookies only over HTTPS, and this hub has no TLS); everything else as in production.
    with HubUnderTest.build(tmp_path_factory.mktemp("browser-hub") / "home", toml="[web]\nsecure_cookies = false\n",
                            prepare=True) as seeded:
        seeded.add_party("outsider", "agency")
        hub, app = seeded.hub, seeded.app
        capture = BodyCapture(app.wsgi_app)
        app.wsgi_app = capture  # type: ignore[method-assign]
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveHub(hub, f"http://127.0.0.1:{port}", seeded, server, capture)
        finally:
            server.shutdown()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    drv = start_chromium()
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(autouse=True)
def own_console(driver: Any) -> None:
    """Each test's console checks see its own pages only: an earlier test that failed before
    reading the console (the forged sign-out's expected 403, say) leaves nothing to the next."""
    clear_console(driver)


def shot(driver: Any, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(900, height + 40), 6000))
    driver.execute_script("window.scrollTo(0, 0)")  # the whole page from its top
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1800)
    target = os.environ.get("HUB_WEB_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def no_alert(driver: Any) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 - reading it raises when there is no alert
    except NoAlertPresentException:
        return True
    return False


def test_file_sign_follow_verify_correlate_in_a_browser(live: LiveHub, driver: Any, shots: Path,
                                                        tmp_path: Path) -> None:
    hub, seeded = live.hub, live.seeded
    col = seeded.collections["reports"]
    alice_key, bob_key = SigningKey.generate(), SigningKey.generate()
    hub.keys.add("alice", alice_key.public_key.to_jwk())
    hub.keys.add("bob", bob_key.public_key.to_jwk())

    # The headers: a strict CSP on every page.
    resp = requests.get(live.base + "/web/signin", timeout=10)
    assert resp.headers["Content-Security-Policy"] == CSP

    driver.get(live.base + "/web/signin")
    shot(driver, shots, "01-signin")
    sign_in(driver, live.base, live.seeded.tokens, "alice")
    shot(driver, shots, "02-collections")

    # File a report: the form, checked by the hub, then the preview.
    driver.get(f"{live.base}/web/collections/{col}/file")
    live.capture.bodies.clear()
    form = report_form(summary="Phishing kit; " + XSS, **{"personal.email": "Shared.Holder@Example.com",
                                                           "personal.name": "Jane  O'Example",
                                                           "personal.payment_instrument": "4111 1111 1111 1111"})
    fill(driver, form)
    with navigation(driver):  # the page pseudonymises, then posts the form
        driver.find_element(By.CSS_SELECTOR, "#facts-form button[type=submit]").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "preview")))
    assert "holder@example.com" not in driver.page_source.lower()
    preview = json.loads(driver.find_element(By.ID, "objects-json").get_attribute("textContent"))
    account = next(o for o in preview if o["type"] == "user-account")
    browser_pseudonyms = next(iter(account["extensions"].values()))["pseudonyms"]
    assert set(browser_pseudonyms) == {"email", "phone", "name", "payment_instrument"}
    assert all(p.startswith("poprf-r255:") for p in browser_pseudonyms.values())
    assert driver.find_element(By.ID, "f-summary").get_attribute("value") == "Phishing kit; " + XSS

    # Import the key once (kept non-extractable in IndexedDB), sign in the page, submit.
    driver.find_element(By.ID, "key-input").send_keys(alice_key.to_pem().decode())
    driver.find_element(By.ID, "key-import").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "is ready"))
    assert driver.find_element(By.ID, "key-input").get_attribute("value") == ""
    shot(driver, shots, "03-file-report")
    driver.find_element(By.ID, "sign-submit").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "outcome-summary").get_attribute("data-status") == "complete")
    summary = driver.find_element(By.ID, "outcome-summary")
    assert summary.get_attribute("data-refused") == "0", driver.find_element(By.ID, "outcome").text
    stored = driver.find_elements(By.CSS_SELECTOR, "#outcome-list li.stored")
    assert len(stored) > 10
    assert driver.find_element(By.ID, "sign-submit").get_attribute("disabled") is not None
    shot(driver, shots, "04-filed")

    # The report page: every signature verified on the server, alice named.
    with navigation(driver):
        driver.find_element(By.ID, "report-link").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "h-signatures")))
    assert no_alert(driver)
    assert "Phishing kit; " + XSS in driver.find_element(By.ID, "h-summary").find_element(By.XPATH, "..").text
    verified = driver.find_elements(By.CSS_SELECTOR, ".sig-verified")
    assert len(verified) == len(stored) and not driver.find_elements(By.CSS_SELECTOR, ".sig-failed")
    report_url = driver.current_url
    report_id = report_url.rstrip("/").rsplit("/", 1)[1]

    # Another party polls over TAXII; the CLI verifies every browser-made signature.
    objs = requests.get(f"{live.base}/api/collections/{col}/objects/", headers=seeded.auth("gov"),
                        params={"limit": 50}, timeout=10).json()["objects"]
    mine = [o for o in objs if o.get("created_by_ref") == seeded.identities["alice"]
            or o["type"] in ("user-account", "ipv4-addr", "ipv6-addr", "domain-name", "url")]
    assert len(mine) == len(stored)
    keys = KeySet.from_jwks(requests.get(f"{live.base}/api/keys/", timeout=10).json())
    verdicts = verify_objects(mine, keys, hub.clock())
    assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok]
    assert all(seeded.identities["alice"] in v.signers for v in verdicts)
    bundle = tmp_path / "polled.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--5d0092c5-5f74-4ae0-a2b2-26e3d0b1f4a4",
                                  "objects": mine}))
    out = run_cli(hub.config.home, "verify", str(bundle), "--keys", f"{live.base}/api/keys/")
    assert out.stdout.count("OK") >= len(mine) and "FAILED" not in out.stdout

    # Bob files about the same holder with the CLI's report service; alice sees the link.
    facts = {k: v for k, v in report_form(provider_name="Bob Hosting", provider_account_id="bob-acct-7781",
                                           resources="192.0.2.77", summary="Same holder, " + XSS).items()
             if not k.startswith("personal.")}
    facts.update(provider_identity_id=seeded.identities["bob"], resources=["192.0.2.77"], confidence=70,
                 indicator_validity_days=30, personal={"email": "shared.holder@example.com"})
    client = TaxiiClient(live.base + "/api/", seeded.tokens["bob"], unsafe_plain_http=True)
    result = file_report(client, col, facts, bob_key, seeded.identities["bob"])
    client.close()
    assert result.state == "stored", result.refused

    # No request body the hub received (the page's form, its blinded elements, the signed
    # objects, bob's client) holds a personal value or the account id, in any written form.
    raw = ["acct-0042-9917", "Shared.Holder@Example.com", "shared.holder@example.com", "+1 415 555 2671",
           "+14155552671", "4155552671", "Jane  O'Example", "jane oexample", "4111 1111 1111 1111",
           "4111111111111111", "bob-acct-7781"]
    bodies = live.capture.bodies
    assert any(path.endswith("/pseudonyms/evaluate") for path, _ in bodies)
    assert any(path.endswith("/file") for path, _ in bodies)
    for path, body in bodies:
        text = body.decode("utf-8", "replace")
        for value in raw:
            assert value not in text and value not in unquote_plus(text), (path, value)
    driver.get(report_url)
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "ul.correlated a")]
    assert any(result.report_id in h for h in links)
    shot(driver, shots, "05-report")
    with navigation(driver):  # from one report's page to another's: both have the signatures
        driver.find_element(By.CSS_SELECTOR, f'ul.correlated a[href*="{result.report_id}"]').click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "h-signatures")))
    assert no_alert(driver) and "Same holder, " + XSS in driver.page_source.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    # The holder's e-mail pseudonym, shared by both providers' reports (account ids are not).
    pseudonym = driver.find_element(By.XPATH, "//dt[text()='email']/following-sibling::dd[1]//code").text

    # Objects, raw JSON, correlations and statistics pages.
    driver.get(f"{live.base}/web/collections/{col}/objects?type=report")
    shot(driver, shots, "06-objects")
    driver.get(f"{live.base}/web/correlations?pseudonym={pseudonym}")
    assert report_id in driver.page_source and result.report_id in driver.page_source
    shot(driver, shots, "07-correlations")
    driver.get(f"{live.base}/web/stats")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    shot(driver, shots, "08-statistics")
    assert console_problems(driver) == []

    # An outsider (no grant on the collection) finds no correlation.
    sign_in(driver, live.base, live.seeded.tokens, "outsider")
    driver.get(f"{live.base}/web/correlations?pseudonym={pseudonym}")
    assert report_id not in driver.page_source and "No report you may read carries it." in driver.page_source
    # Gov, a reader, sees bob's text as text too.
    sign_in(driver, live.base, live.seeded.tokens, "gov")
    driver.get(report_url)
    assert no_alert(driver) and driver.find_elements(By.CSS_SELECTOR, ".sig-verified")
    assert console_problems(driver) == []


def test_a_post_without_the_csrf_token_is_refused_in_the_browser(live: LiveHub, driver: Any) -> None:
    sign_in(driver, live.base, live.seeded.tokens, "alice")
    driver.get(live.base + "/web/collections")
    # A forged form without the token (as another site would post it) is refused.
    driver.execute_script("document.querySelector('.signout input[name=csrf_token]').value = 'forged';")
    with navigation(driver):  # to the refusal's page: no element of the collections is used after
        driver.find_element(By.CSS_SELECTOR, ".signout button").click()
    assert "CSRF" in driver.find_element(By.TAG_NAME, "main").text
    # The refusal is the one console error here (the 403 of the forged post).
    logged = console_problems(driver)
    assert len(logged) == 1 and "/web/signout" in logged[0] and "403" in logged[0]
    driver.get(live.base + "/web/collections")
    assert "Signed in as" in driver.page_source


def test_pages_fit_at_200_percent_zoom_and_start_with_a_skip_link(live: LiveHub, driver: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    sign_in(driver, live.base, live.seeded.tokens, "alice")
    col = live.seeded.collections["reports"]
    # 1280 CSS pixels at 200 % zoom leave 640 CSS pixels: no page may need scrolling sideways.
    driver.set_window_size(640, 1200)
    try:
        for path in ("/web/collections", f"/web/collections/{col}/objects", f"/web/collections/{col}/file",
                     "/web/correlations", "/web/stats"):
            driver.get(live.base + path)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, overflow)
    finally:
        driver.set_window_size(1280, 1800)
    driver.get(f"{live.base}/web/collections/{col}/file")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.text == "Skip to content"
    active.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"
    assert console_problems(driver) == []


def test_bad_personal_values_and_an_ended_session_lose_nothing_in_the_browser(live: LiveHub, driver: Any) -> None:
    """A value the browser cannot normalise is named under its field and nothing is sent; a
    session that ends in the middle of filing keeps the draft (never the personal values)
    through sign-in."""
    col = live.seeded.collections["reports"]
    sign_in(driver, live.base, live.seeded.tokens, "alice")
    open_without_draft(driver, f"{live.base}/web/collections/{col}/file")  # the draft is this test's own
    form = report_form(summary="Draft that must survive", **{"personal.payment_instrument": "4111 1111 1111 1112"})
    fill(driver, form)
    live.capture.bodies.clear()
    driver.find_element(By.ID, "preview-button").click()
    problem = WebDriverWait(driver, 60).until(
        ec.presence_of_element_located((By.ID, "err-personal-payment_instrument")))
    assert "Luhn check failed" in problem.text and "4111" not in problem.text
    assert driver.find_element(By.ID, "f-personal-payment_instrument").get_attribute("aria-invalid") == "true"
    assert live.capture.bodies == []  # nothing left the page

    # The session ends (its cookie is gone) before the analyst sends the corrected form.
    field = driver.find_element(By.ID, "f-personal-payment_instrument")
    field.clear()
    field.send_keys("4111 1111 1111 1111")
    driver.delete_cookie("abusehub_web")
    driver.find_element(By.ID, "preview-button").click()
    link = WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "signin-again")))
    with navigation(driver):
        link.click()
    driver.find_element(By.ID, "token").send_keys(live.seeded.tokens["alice"])
    with navigation(driver):  # back to the form, through the sign-in's redirect
        driver.find_element(By.CSS_SELECTOR, "#token-signin button[type=submit]").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "pseudonym-state"), "draft was restored"))
    assert driver.find_element(By.ID, "f-summary").get_attribute("value") == "Draft that must survive"
    assert driver.find_element(By.ID, "f-resources").get_attribute("value") == form["resources"]
    checked = [b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "input[name=abuse_types]:checked")]
    assert checked == form["abuse_types"]
    # Personal values are not kept anywhere, not even in the browser's draft.
    assert driver.find_element(By.ID, "f-personal-email").get_attribute("value") == ""
    stored = driver.execute_script("return JSON.stringify(sessionStorage)")
    assert not any(v in stored for v in ("holder@example.com", "4111 1111 1111 111", "411111111111111",
                                         "acct-0042-9917"))
    # Typed again, the form now builds.
    fill(driver, {"provider_account_id": form["provider_account_id"], "personal.email": "holder@example.com"})
    with navigation(driver):
        driver.find_element(By.ID, "preview-button").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "preview")))
    logged = console_problems(driver)
    assert all("401" in m for m in logged), logged  # the one refused request of the ended session


#: How many lines the text of each element matching a selector takes (one rect per line box).
_LINES = """return Array.from(document.querySelectorAll(arguments[0])).map(el => {
  const range = document.createRange(); range.selectNodeContents(el);
  const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
  return [el.textContent, tops.size, el.scrollWidth > el.clientWidth, el.getAttribute('title')
          || (el.parentElement && el.parentElement.getAttribute('title'))];
});"""
_OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_layout_at_1280_by_800(live: LiveHub, driver: Any, shots: Path) -> None:
    """At 1280×800: the filing preview beside the form, in the first screen; pseudonyms one line
    each (shortened, the whole value their title) on the report and correlation pages, which do
    not scroll sideways; the operators' Kind column never breaks a word."""
    hub, seeded = live.hub, live.seeded
    col = seeded.collections["reports"]
    for i in range(3):  # long token labels widen the Tokens column, squeezing the others
        hub.admin.issue("alice", label=f"ticketing-automation-{i}-abuse-desk-eu-west")
    key = SigningKey.generate()
    hub.keys.add("bob", key.public_key.to_jwk())
    facts = {k: v for k, v in report_form(provider_name="Bob Hosting", provider_account_id="bob-acct-1280",
                                           resources="192.0.2.80", summary="Layout check").items()
             if not k.startswith("personal.")}
    facts.update(provider_identity_id=seeded.identities["bob"], resources=["192.0.2.80"], confidence=70,
                 indicator_validity_days=30, personal={"email": "layout.holder@example.com", "phone": "+14155550180"})
    client = TaxiiClient(live.base + "/api/", seeded.tokens["bob"], unsafe_plain_http=True)
    filed = file_report(client, col, facts, key, seeded.identities["bob"])
    client.close()
    assert filed.state == "stored", filed.refused

    driver.set_window_size(1280, 800)
    try:
        sign_in(driver, live.base, live.seeded.tokens, "alice")
        open_without_draft(driver, f"{live.base}/web/collections/{col}/file")
        form = report_form(summary="Layout check")
        fill(driver, form)
        with navigation(driver):
            driver.find_element(By.ID, "preview-button").click()
        preview = WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "preview")))
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(shots / "layout-file-preview.png"))
        box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", preview)
        form_box = driver.execute_script("return document.getElementById('facts-form').getBoundingClientRect().toJSON()")
        assert box["left"] >= form_box["right"] and box["top"] < 400, (box, form_box)  # beside it, on top
        assert not preview.find_element(By.TAG_NAME, "pre").is_displayed()  # the JSON waits behind <details>
        assert driver.execute_script(_OVERFLOW) <= 0

        driver.get(f"{live.base}/web/collections/{col}/objects/{filed.report_id}")
        driver.save_screenshot(str(shots / "layout-report.png"))
        shown = driver.execute_script(_LINES, "code.pv")
        assert len(shown) == 3 and driver.execute_script(_OVERFLOW) <= 0
        for text, lines, shortened, title in shown:
            assert text.startswith("poprf-r255:") and lines == 1 and shortened and title == text, (text, lines)
        email = driver.find_element(By.XPATH, "//dt[text()='email']/following-sibling::dd[1]//code").text
        assert email.startswith("poprf-r255:") and len(email) > 100  # the whole value, not the ellipsis
        driver.get(f"{live.base}/web/correlations?pseudonym={email}")
        driver.save_screenshot(str(shots / "layout-correlations.png"))
        assert filed.report_id in driver.page_source and driver.execute_script(_OVERFLOW) <= 0
        assert [lines for _, lines, _, _ in driver.execute_script(_LINES, "caption code.pv")] == [1]
        placeholder = driver.find_element(By.ID, "pseudonym").get_attribute("placeholder")
        assert placeholder.startswith("poprf-r255:")

        sign_in(driver, live.base, live.seeded.tokens, "ops")
        driver.get(f"{live.base}/web/operators")
        driver.save_screenshot(str(shots / "layout-operators.png"))
        kinds = driver.execute_script(_LINES, "td.word")
        assert {text for text, _, _, _ in kinds} >= {"provider", "agency", "operator"}
        assert all(lines == 1 for _, lines, _, _ in kinds), kinds
        assert driver.execute_script(_OVERFLOW) <= 0
        assert console_problems(driver) == []
    finally:
        driver.set_window_size(1280, 1800)
