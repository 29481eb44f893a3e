"""Filing anonymously from the report page in a real browser (Debian's Chromium through Selenium,
as in tests/web/test_browser.py) against a real hub on loopback whose collection takes anonymous
reports: alice ticks "file anonymously", the page pseudonymises the account id in the anonymous
scope, signs the built report with her key and files it; the published report carries the hub's
attestation and names no provider; the withdrawal secret was made in the page, offered as a file,
and is in no request body the hub received (every body is captured at the WSGI layer), and it
withdraws the report. The page's pseudonym request has the shape of the command line's for an
anonymous report (padded: one request, every kind to one bucket, in one order). This hub names
no second source for its token key: the page's token mode refuses to fetch or file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from hub.anonymity.escrow import OversightPrivateKey, open_sealed
from hub.anonymity.filing import ANONYMOUS_NAME, ANONYMOUS_SCOPE, WITHDRAWAL_PROPERTY, commitment
from hub.client.anonymous import FIRST_BUCKET, PADDED_KINDS, prepare_anonymous_report
from hub.client.taxii import TaxiiClient
from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey
from tests.factories import report_facts
from tests.harness import HubUnderTest, free_port
from tests.web.chromium import (
    MISSING,
    clear_console,
    console_problems,
    fill,
    have_chromium,
    navigation,
    open_without_draft,
    preview_in_token_mode,
    sign_in,
    start_chromium,
)
from tests.web.forms import report_form

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.web.test_browser import BodyCapture, LiveHub  # noqa: E402


@pytest.fixture(scope="module")
def anon_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, OversightPrivateKey]]:
    from werkzeug.serving import make_server

    home = tmp_path_factory.mktemp("anonymous-browser-hub") / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = ("[web]\nsecure_cookies = false\n[anonymity]\noversight_public_key_file = \"oversight.pub.pem\"\n"
            "publish_window_seconds = 0\n")
    with HubUnderTest.build(home, toml=toml, prepare=True) as seeded:
        seeded.hub.anonymous.set_allowed(seeded.collections["reports"], True)
        hub, app = seeded.hub, seeded.app
        capture = BodyCapture(app.wsgi_app)
        app.wsgi_app = capture  # type: ignore[method-assign]
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveHub(hub, f"http://127.0.0.1:{port}", seeded, server, capture), oversight
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
    """Each test's console check sees its own pages only, not what an earlier test of the module
    left in the shared browser's console when it failed before reading it."""
    clear_console(driver)


def _shape(body: dict[str, Any]) -> tuple[str, list[tuple[str, int]]]:
    """What the hub sees of an evaluation request but the blinded elements: its members, and
    each group's kind and size in order."""
    return ",".join(sorted(k for k in body if k != "groups")), [(g["kind"], len(g["blinded"])) for g in body["groups"]]


def test_file_anonymously_in_a_browser(anon_live: tuple[LiveHub, OversightPrivateKey], driver: Any,
                                       tmp_path: Path) -> None:
    live, oversight = anon_live
    hub, seeded = live.hub, live.seeded
    col = seeded.collections["reports"]
    alice = seeded.identities["alice"]
    alice_key = SigningKey.generate()
    hub.keys.add("alice", alice_key.public_key.to_jwk())

    sign_in(driver, live.base, live.seeded.tokens, "alice")
    open_without_draft(driver, f"{live.base}/web/collections/{col}/file")
    live.capture.bodies.clear()
    fill(driver, report_form(tlp="green", provider_name="Example Cloud"))
    driver.find_element(By.ID, "f-file_anonymously").click()
    with navigation(driver, timeout=90):  # the page pseudonymises, then posts the form
        driver.find_element(By.ID, "preview-button").click()
    WebDriverWait(driver, 90).until(ec.presence_of_element_located((By.ID, "preview")))
    preview = json.loads(driver.find_element(By.ID, "objects-json").get_attribute("textContent"))
    assert preview[-1]["created_by_ref"] == ANONYMOUS_SCOPE and alice not in json.dumps(preview)
    assert driver.find_element(By.ID, "f-file_anonymously").is_selected()

    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "No key in this browser"))
    driver.find_element(By.ID, "key-input").send_keys(alice_key.to_pem().decode())
    driver.find_element(By.ID, "key-import").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "is ready"))
    button = driver.find_element(By.ID, "sign-submit")
    assert button.text == "Sign and file anonymously"
    button.click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.ID, "secret-file") or "Not submitted" in d.find_element(By.ID, "outcome").text)
    summary = driver.find_element(By.ID, "outcome-summary")
    assert summary.get_attribute("data-status") == "filed-anonymously", driver.find_element(By.ID, "outcome").text
    report_id = summary.get_attribute("data-report-id")
    link = driver.find_element(By.ID, "secret-file")
    assert link.get_attribute("href").startswith("blob:") and link.get_attribute("download").endswith(".secret.json")
    # Saved as a file, as the analyst saves it.
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    link.click()
    saved = tmp_path / link.get_attribute("download")
    WebDriverWait(driver, 30).until(lambda _d: saved.exists() and saved.stat().st_size > 0)
    kept = json.loads(saved.read_text())
    assert (kept["report_id"], kept["collection"]) == (report_id, col)
    secret = kept["secret"]
    assert console_problems(driver) == []

    # Published at once (window 0): attested by the hub, under its anonymous identity, naming no one.
    objs = requests.get(f"{live.base}/api/collections/{col}/objects/", headers=seeded.auth("gov"),
                        params={"limit": 50}, timeout=10).json()["objects"]
    by_id = {o["id"]: o for o in objs}
    report = by_id[report_id]
    mine = [by_id[i] for i in kept["object_ids"]]
    assert report[WITHDRAWAL_PROPERTY] == commitment(secret)
    assert report["x_abusehub_attests"] == "registered-provider"
    assert by_id[report["created_by_ref"]]["name"] == ANONYMOUS_NAME
    hub_identity = hub.signer.ensure()[1]
    for obj in mine:
        if obj["type"] != "marking-definition":
            entries = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
            assert [(e["type"], e["signer"]) for e in entries] == [("attestation", hub_identity)]
    text = json.dumps(mine).casefold()
    for name in (alice, "alice", alice_key.key_id, "example cloud"):
        assert name.casefold() not in text
    assert open_sealed(hub.anonymous.sealed_record(report_id), oversight).identity_id == alice

    # The secret never reached the hub: no request body holds it; the filing carried its commitment.
    bodies = live.capture.bodies
    filed = [body for path, body in bodies if path == "/web/anonymous/file"]
    assert len(filed) == 1 and commitment(secret).encode() in filed[0]
    for path, body in bodies:
        decoded = body.decode("utf-8", "replace")
        assert secret not in decoded and secret not in unquote_plus(decoded), path
        assert "acct-0042-9917" not in decoded, path
    # ... and it withdraws the report.
    assert hub.anonymous.withdraw(col, report_id, secret) > 0

    # The page's pseudonym request has the command line's padded shape: one request, the same
    # kinds in the same order, each with the same number of elements (two values typed here, one
    # of the command line's report), so the hub tells neither the page from the tool nor the counts.
    page_requests = [json.loads(body) for path, body in bodies if path == "/web/pseudonyms/evaluate"]
    live.capture.bodies.clear()
    client = TaxiiClient(f"{live.base}/api/", seeded.tokens["alice"])
    with client:
        prepare_anonymous_report(client, report_facts(alice, personal={"name": "Jo Holder"}), alice_key, alice)
    cli_requests = [json.loads(body) for path, body in live.capture.bodies if path == "/api/pseudonyms/evaluate"]
    assert len(page_requests) == len(cli_requests) == 1
    assert _shape(page_requests[0]) == _shape(cli_requests[0]) == (
        "key_version", [(kind, FIRST_BUCKET) for kind in PADDED_KINDS])

    driver.get(f"{live.base}/web/collections/{seeded.collections['private']}/file")
    assert not driver.find_elements(By.ID, "f-file_anonymously")  # not offered where not taken


def test_the_token_mode_refuses_without_a_second_source(anon_live: tuple[LiveHub, OversightPrivateKey],
                                                        driver: Any) -> None:
    """This hub names no [web] token_key_sources: the page offers the token mode but neither
    fetches nor redeems tokens, and points to the command line."""
    live, _oversight = anon_live
    seeded = live.seeded
    sign_in(driver, live.base, seeded.tokens, "alice")
    live.capture.bodies.clear()
    preview_in_token_mode(driver, f"{live.base}/web/collections/{seeded.collections['reports']}/file",
                          report_form(tlp="green", provider_name="Example Cloud"))
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "token-state").get_attribute("data-tokens") == "refused")
    state = driver.find_element(By.ID, "token-state").text
    assert "names no second source" in state and "--check-with" in state
    assert not driver.find_element(By.ID, "token-fetch").is_enabled()
    assert not [path for path, _ in live.capture.bodies if "anonymity/" in path or "redeem" in path]
