"""The notice pages in a real browser (Debian's Chromium through Selenium, as in
tests/web/test_browser.py) against a real hub on loopback, every request body it receives
captured at the WSGI layer.

The agency files a notice from the form (a personal value of its scope pseudonymised in the
page), signs it in the page with its key and submits it; the notice verifies with the Python
verifier. A provider drops its account file into the matching page: the file is read, its values
pseudonymised and matched in the browser, and no request carries it (only blinded elements reach
the hub, and a second run evaluates nothing: the pseudonyms are cached in the browser); each
notice lists the accounts it affects and why, a malformed row is named, and the provider
acknowledges from the page, signed in the browser; the acknowledgement verifies, and the agency
sees it on the notice's page."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from hub.client.notices import (
    PseudonymCache,
    fetch_notices,
    issue_notice,
    match_accounts,
    pseudonymise_accounts,
    read_accounts,
)
from hub.pseudonyms import provider_account_value
from hub.signing import KeySet
from hub.signing.documents import verify_objects
from hub.stix.notice import ack_id
from hub.stix.notice_facts import NoticeFacts
from tests.harness import HubUnderTest, free_port
from tests.web.chromium import (
    MISSING,
    clear_console,
    console_problems,
    have_chromium,
    navigation,
    open_without_draft,
    sign_in,
    start_chromium,
)

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.web.test_browser import BodyCapture, LiveHub, shot  # noqa: E402

PARTIES = {"gov": "agency", "alice": "provider", "bob": "provider"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    from werkzeug.serving import make_server

    with HubUnderTest.build(tmp_path_factory.mktemp("notice-browser") / "home", parties=PARTIES, keys_for=PARTIES,
                            grants={"notices": {name: (True, True) for name in PARTIES}},
                            toml="[web]\nsecure_cookies = false\n", prepare=True) as seeded:
        seeded.hub.admin.edit_collection(seeded.collections["notices"], max_tlp="red")
        capture = BodyCapture(seeded.app.wsgi_app)
        seeded.app.wsgi_app = capture  # type: ignore[method-assign]
        port = free_port()
        server = make_server("127.0.0.1", port, seeded.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveHub(seeded.hub, f"http://127.0.0.1:{port}", seeded, server, capture)
        finally:
            server.shutdown()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    drv = start_chromium()
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(autouse=True)
def own_console(driver: Any) -> None:
    """Each test's console checks see its own pages only, not what an earlier test of the module
    left in the shared browser's console when it failed before reading it."""
    clear_console(driver)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notice-screenshots")


def _import_key_and_submit(driver: Any, live: LiveHub, party: str) -> None:
    driver.find_element(By.ID, "key-input").send_keys(live.seeded.keys[party].to_pem().decode())
    driver.find_element(By.ID, "key-import").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "is ready"))
    driver.find_element(By.ID, "sign-submit").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "outcome-summary").get_attribute("data-status") == "complete")
    summary = driver.find_element(By.ID, "outcome-summary")
    assert summary.get_attribute("data-refused") == "0", driver.find_element(By.ID, "outcome").text


def _verify(live: LiveHub, reader: str, stix_id: str, signer: str) -> dict[str, Any]:
    col = live.seeded.collections["notices"]
    objs = requests.get(f"{live.base}/api/collections/{col}/objects/{stix_id}/", headers=live.seeded.auth(reader),
                        timeout=10).json()["objects"]
    newest = max(objs, key=lambda o: o["modified"])
    keys = KeySet.from_jwks(requests.get(f"{live.base}/api/keys/", timeout=10).json())
    [verdict] = verify_objects([newest], keys, live.hub.clock())
    assert verdict.ok and live.seeded.identities[signer] in verdict.signers, verdict
    return dict(newest)


def _type(driver: Any, name: str, value: str) -> None:
    el = driver.find_element(By.NAME, name)
    el.clear()
    el.send_keys(value)


def test_an_agency_files_a_notice_signed_in_the_browser(live: LiveHub, driver: Any, shots: Path) -> None:
    col = live.seeded.collections["notices"]
    sign_in(driver, live.base, live.seeded.tokens, "gov")
    open_without_draft(driver, f"{live.base}/web/collections/{col}/notices/new")
    live.capture.bodies.clear()
    # The fields the kind does not take are hidden (and not posted): an advisory has no scope.
    kind = Select(driver.find_element(By.ID, "f-notice_kind"))
    kind.select_by_value("advisory")
    assert not driver.find_element(By.NAME, "jurisdictions").is_displayed()
    assert driver.find_element(By.NAME, "indicator_patterns").is_displayed()
    kind.select_by_value("special-measure")
    assert driver.find_element(By.NAME, "jurisdictions").is_displayed()
    assert not driver.find_element(By.NAME, "respond_by").is_displayed()
    _type(driver, "title", "Special measure: designated reseller")
    _type(driver, "legal_reference", "Order 2026-9, section 2")
    _type(driver, "jurisdictions", "KP")
    _type(driver, "resellers", "Resell Co., Ltd.; CN; 91110000X")
    _type(driver, "effective_from", (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    driver.find_element(By.CSS_SELECTOR, 'input[name=measures][value="prohibit-new-accounts"]').click()
    secret = driver.find_element(By.ID, "f-personal-email")
    assert secret.get_attribute("name") in (None, "")
    secret.send_keys("Holder@Example.com")
    shot(driver, shots, "notice-new")
    with navigation(driver, timeout=90):  # the page pseudonymises, then posts the form
        driver.find_element(By.ID, "preview-button").click()
    WebDriverWait(driver, 90).until(ec.presence_of_element_located((By.ID, "objects-json")))
    [notice] = json.loads(driver.find_element(By.ID, "objects-json").get_attribute("textContent"))
    [pseudonym] = notice["account_pseudonyms"]["email"]
    assert pseudonym.startswith("poprf-r255:")
    _import_key_and_submit(driver, live, "gov")
    stored = _verify(live, "gov", notice["id"], "gov")
    assert stored["resellers"] == [{"name": "resell co ltd", "country": "CN", "registration_number": "91110000X"}]
    # The e-mail address never reached the hub, in any form.
    for path, body in live.capture.bodies:
        text = unquote_plus(body.decode("utf-8", "replace")).lower()
        assert "holder@example.com" not in text, path
    with navigation(driver):
        driver.find_element(By.ID, "report-link").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "addressees")))
    shot(driver, shots, "notice")
    assert console_problems(driver) == []


ACCOUNTS = """account_id,country,reseller_name,reseller_country,reseller_registration,email,phone,payment_instrument,ips,domains
acct-a1,KP,,,,,,,,
acct-a2,DE,"RESELL CO, LTD",cn,91110000-x,,,,,
acct-a3,DE,,,,holder@EXAMPLE.com,,,,
acct-a4,DE,,,,,,,203.0.113.9 192.0.2.1,
acct-a5,DE,,,,,,,,www.bad.example
acct-a6,DE,,,,someone@example.org,,,198.51.100.7,good.example
acct-a7,DE,,,,,,,,
acct-a8,Atlantis,,,,,,,,
acct-a9,DE,,,,,030 1234567,,2001:db8:abcd:12::1,
acct-a10,FR,"Résell Co., Ltd.",CN,91110000x,,,,,
"""


def test_a_provider_matches_its_file_in_the_browser_and_acknowledges(live: LiveHub, driver: Any, shots: Path,
                                                                     tmp_path: Path) -> None:
    seeded = live.seeded
    col = seeded.collections["notices"]
    with seeded.client("gov") as client:
        # Pseudonyms made by the Python client: the page's own must be the same to match.
        [[email], [account]] = client.oblivious_pseudonyms(
            [("email", "holder@example.com"),
             ("provider_account", provider_account_value(seeded.identities["alice"], "acct-a7"))])
        facts = NoticeFacts.from_mapping({
            "issuer_identity_id": seeded.identities["gov"], "notice_kind": "special-measure",
            "title": "Measure for the browser", "legal_reference": "Order 2026-10", "measures": ["restrict"],
            "jurisdictions": ["KP"], "resellers": [{"name": "Resell Co., Ltd.", "country": "CN",
                                                    "registration_number": "91110000X"}],
            "ip_ranges": ["203.0.113.0/24", "2001:db8:abcd::/48"], "domains": ["bad.example"],
            "account_pseudonyms": {"email": [email], "provider_account": [account]},
            "effective_from": datetime.now(UTC) - timedelta(hours=1)})
        notice, outcome = issue_notice(client, col, facts, seeded.keys["gov"], seeded.identities["gov"])
    assert outcome.stored == [notice["id"]]
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS)

    sign_in(driver, live.base, live.seeded.tokens, "alice")
    driver.get(f"{live.base}/web/collections/{col}/notices/match")
    driver.execute_script("indexedDB.deleteDatabase('abusehub-pseudonyms')")
    driver.get(f"{live.base}/web/collections/{col}/notices/match")
    live.capture.bodies.clear()
    driver.find_element(By.ID, "accounts-file").send_keys(str(path))
    summary = WebDriverWait(driver, 120).until(ec.presence_of_element_located((By.ID, "match-summary")))
    assert summary.get_attribute("data-accounts") == "9" and summary.get_attribute("data-problems") == "1"
    assert summary.get_attribute("data-evaluated") == "12"  # 9 account ids, 2 e-mail addresses, a phone
    bad = driver.find_element(By.CSS_SELECTOR, "#row-problems li")
    assert bad.get_attribute("data-row") == "9" and "country must be an ISO 3166-1 alpha-2 code" in bad.text
    section = driver.find_element(By.CSS_SELECTOR, f'section.notice-match[data-notice="{notice["id"]}"]')
    assert section.get_attribute("data-count") == "8"
    affected = {li.text.split(":")[0]: li.text.split(": ", 1)[1]
                for li in section.find_elements(By.CSS_SELECTOR, "ul.affected li")}
    assert affected == {"acct-a1": "jurisdiction KP", "acct-a2": "reseller", "acct-a3": "pseudonym",
                        "acct-a4": "ip range", "acct-a5": "domain", "acct-a7": "pseudonym",
                        "acct-a9": "ip range", "acct-a10": "reseller"}
    shot(driver, shots, "notice-match")

    # The file never left the browser: only blinded elements were posted, to the evaluation.
    posted = [(p, body) for p, body in live.capture.bodies if body]
    assert posted and all(p.endswith("/web/pseudonyms/evaluate") for p, _ in posted), [p for p, _ in posted]
    for p, body in posted:
        text = unquote_plus(body.decode("utf-8", "replace")).lower()
        for value in ("acct-a", "holder@example.com", "someone@example.org", "203.0.113.9", "bad.example",
                      "resell", "r\u00e9sell", "91110000", "atlantis", "2001:db8:abcd", "1234567"):
            assert value not in text, (p, value)
    assert sum(len(body) for _, body in posted) < 4 * 1024  # blinded elements only, not the file

    # The results file the page offers (made in the browser) is what `notice match --json` prints
    # for the same file, matched by the Python client with its own pseudonyms.
    assert driver.find_element(By.ID, "results-file").get_attribute("href").startswith("blob:")
    saved = driver.execute_script("return window.AbusehubNoticeMatch.results()")
    with seeded.client("alice") as client:
        accounts, problems = read_accounts(path)
        accounts, _ = pseudonymise_accounts(client, accounts, seeded.identities["alice"],
                                            PseudonymCache(tmp_path / "cache.json"))
        matched = match_accounts(fetch_notices(client, col), accounts, seeded.identities["alice"])
    assert [json.loads(line) for line in saved.splitlines()] == [
        *(m.to_json() for m in matched), *(p.to_json() for p in problems)]

    # Again: every pseudonym comes from this browser's cache; nothing is evaluated or posted.
    driver.get(f"{live.base}/web/collections/{col}/notices/match")
    live.capture.bodies.clear()
    driver.find_element(By.ID, "accounts-file").send_keys(str(path))
    summary = WebDriverWait(driver, 120).until(ec.presence_of_element_located((By.ID, "match-summary")))
    assert summary.get_attribute("data-evaluated") == "0"
    assert not [p for p, body in live.capture.bodies if body]
    section = driver.find_element(By.CSS_SELECTOR, f'section.notice-match[data-notice="{notice["id"]}"]')
    assert section.get_attribute("data-count") == "8"

    # JSON lines too: a line that is not an object is named, the others matched.
    lines = tmp_path / "accounts.jsonl"
    lines.write_text('{"account_id": "acct-j1", "ips": ["203.0.113.200"]}\n[1, 2]\n'
                     '{"account_id": "acct-j2", "domains": "deep.www.bad.example"}\n')
    driver.get(f"{live.base}/web/collections/{col}/notices/match")
    driver.find_element(By.ID, "accounts-file").send_keys(str(lines))
    summary = WebDriverWait(driver, 120).until(ec.presence_of_element_located((By.ID, "match-summary")))
    assert summary.get_attribute("data-accounts") == "2" and summary.get_attribute("data-problems") == "1"
    assert driver.find_element(By.CSS_SELECTOR, "#row-problems li").text == "row 2: not a JSON object"
    section = driver.find_element(By.CSS_SELECTOR, f'section.notice-match[data-notice="{notice["id"]}"]')
    assert [li.text for li in section.find_elements(By.CSS_SELECTOR, "ul.affected li")] == [
        "acct-j1: ip range", "acct-j2: domain"]
    driver.get(f"{live.base}/web/collections/{col}/notices/match")
    driver.find_element(By.ID, "accounts-file").send_keys(str(path))
    section = WebDriverWait(driver, 120).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f'section.notice-match[data-notice="{notice["id"]}"]')))

    # Acknowledge from the page: the count carried over, signed in the browser.
    with navigation(driver):
        section.find_element(By.CSS_SELECTOR, "a.ack-link").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "ack-form")))
    assert driver.find_element(By.ID, "f-accounts_affected").get_attribute("value") == "8"
    driver.find_element(By.ID, "f-note").send_keys("Eight accounts restricted.")
    with navigation(driver):
        driver.find_element(By.ID, "ack-preview").click()
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "objects-json")))
    _import_key_and_submit(driver, live, "alice")
    ack = _verify(live, "alice", ack_id(notice["id"], seeded.identities["alice"]), "alice")
    assert ack["status"] == "applied" and ack["accounts_affected"] == 8
    assert console_problems(driver) == []

    # The agency sees it on the notice's page; bob has not answered yet.
    sign_in(driver, live.base, live.seeded.tokens, "gov")
    driver.get(f"{live.base}/web/collections/{col}/notices/{notice['id']}")
    rows = {r.get_attribute("data-identity"): r.get_attribute("data-state")
            for r in driver.find_elements(By.CSS_SELECTOR, "#addressees tr[data-identity]")}
    assert rows[seeded.identities["alice"]] == "applied" and rows[seeded.identities["bob"]] in ("pending", "overdue")


def test_the_notice_pages_fit_at_200_percent_zoom(live: LiveHub, driver: Any) -> None:
    seeded = live.seeded
    col = seeded.collections["notices"]
    with seeded.client("gov") as client:
        [[email]] = client.oblivious_pseudonyms([("email", "wide@example.com")])
        facts = NoticeFacts.from_mapping({
            "issuer_identity_id": seeded.identities["gov"], "notice_kind": "special-measure",
            "title": "A notice with long values", "legal_reference": "Order 2026-11", "measures": ["terminate"],
            "addressee_refs": [seeded.identities["alice"], seeded.identities["bob"]],
            "account_pseudonyms": {"email": [email]}, "effective_from": datetime.now(UTC) - timedelta(hours=1)})
        notice, _ = issue_notice(client, col, facts, seeded.keys["gov"], seeded.identities["gov"])
    sign_in(driver, live.base, live.seeded.tokens, "gov")
    pages = [f"/web/collections/{col}/notices", f"/web/collections/{col}/notices/new",
             f"/web/collections/{col}/notices/{notice['id']}"]
    # 1280 CSS pixels at 200 % zoom leave 640: no page may need scrolling sideways.
    driver.set_window_size(640, 1200)
    try:
        for path in pages:
            driver.get(live.base + path)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = driver.execute_script(
                "return Array.from(document.querySelectorAll('main *')).filter((e) => "
                "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                ".slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + e.id)")
            assert overflow <= 0, (path, overflow, wide)
        sign_in(driver, live.base, live.seeded.tokens, "alice")
        driver.get(f"{live.base}/web/collections/{col}/notices/match")
        assert driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    finally:
        driver.set_window_size(1280, 1800)
    assert console_problems(driver) == []


def test_after_a_key_rotation_notices_of_the_old_version_keep_matching(live: LiveHub, driver: Any,
                                                                         tmp_path: Path) -> None:
    # Last in this module: it rotates the hub's pseudonym key.
    seeded = live.seeded
    col = seeded.collections["notices"]
    with seeded.client("gov") as client:
        [[old]] = client.oblivious_pseudonyms([("email", "rotated@example.com")])
        facts = NoticeFacts.from_mapping({
            "issuer_identity_id": seeded.identities["gov"], "notice_kind": "special-measure",
            "title": "Issued before the rotation", "legal_reference": "Order 2026-12", "measures": ["restrict"],
            "account_pseudonyms": {"email": [old]}, "effective_from": datetime.now(UTC) - timedelta(hours=1)})
        notice, _ = issue_notice(client, col, facts, seeded.keys["gov"], seeded.identities["gov"])
    path = tmp_path / "rotated.csv"
    path.write_text("account_id,email\nacct-r1,Rotated@Example.com\nacct-r2,other@example.com\n")

    def run() -> tuple[str, str]:
        driver.get(f"{live.base}/web/collections/{col}/notices/match")
        driver.find_element(By.ID, "accounts-file").send_keys(str(path))
        summary = WebDriverWait(driver, 120).until(ec.presence_of_element_located((By.ID, "match-summary")))
        section = driver.find_element(By.CSS_SELECTOR, f'section.notice-match[data-notice="{notice["id"]}"]')
        return str(summary.get_attribute("data-evaluated")), str(section.get_attribute("data-count"))

    sign_in(driver, live.base, live.seeded.tokens, "alice")
    assert run() == ("4", "1")
    assert run() == ("0", "1")
    version, versions = live.hub.pseudonyms.rotate()
    assert old.split(":")[1] != version and len(versions) == 2
    # The values are evaluated under the new version; the old version's pseudonyms still match.
    assert run() == ("4", "1")
    assert run() == ("0", "1")
    assert console_problems(driver) == []
