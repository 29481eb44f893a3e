"""Filing with a submission token from the report page in a real browser (Debian's Chromium
through Selenium, as in tests/web/test_browser.py), against a real hub on loopback whose
``[web] token_key_sources`` name two second sources served on other origins: a peer hub (served
too) that copied the hub's token keys, and a mirror of the hub's directory ("another route").

alice ticks "file anonymously", chooses the token mode, previews, keeps the oversight key in the
browser, fetches three tokens (the key checked against both sources first) and files: the report
is published attested as a token holder's, naming no provider; the escrow record sealed in the
page opens with the oversight key and its signature verifies under alice's registered key; the
redemption request carried no cookie, no referrer and no credential of hers (every request the
hub received is captured at the WSGI layer); the pseudonym request before it had the command
line's padded shape. In a new session the two tokens left are still in the browser; when the
mirror shows another key the page refuses to file and spends nothing; once it agrees again a
second report is filed with a kept token."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.anonymity.escrow import OversightPrivateKey, open_sealed
from hub.anonymity.filing import ANONYMOUS_NAME, WITHDRAWAL_PROPERTY, commitment
from hub.client.anonymous import FIRST_BUCKET, PADDED_KINDS
from hub.common.canonical import b64url_decode, b64url_encode
from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey
from tests.harness import HubUnderTest, free_port
from tests.web.chromium import MISSING, console_problems, have_chromium, preview_in_token_mode, sign_in, start_chromium
from tests.web.forms import report_form

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ISSUER = "hub-a"


class Capture:
    """WSGI middleware keeping every request the hub receives: path, body and the headers that
    could name its sender."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.requests.append({"path": environ.get("PATH_INFO", ""), "body": body,
                              "cookie": environ.get("HTTP_COOKIE"), "referer": environ.get("HTTP_REFERER"),
                              "authorization": environ.get("HTTP_AUTHORIZATION")})
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


class Mirror:
    """The hub's directory by another route (another origin), readable by any page; ``tamper``
    makes it show another key, as a second source that disagrees."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.tamper = upstream, False
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                doc = requests.get(mirror.upstream, timeout=30).json()
                if mirror.tamper:
                    doc["keys"][0]["token_key_id"] = b64url_encode(hashlib.sha256(b"another key").digest())
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _serve(app: Any, port: int) -> Any:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("token-page")
    peer_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    mirror = Mirror(f"{base}/api/anonymity/token-keys/")
    sources = [f"http://127.0.0.1:{peer_port}/api/anonymity/token-keys/copies/?issuer={ISSUER}",
               f"http://127.0.0.1:{mirror.port}/mirror/anonymity/token-keys/"]
    oversight = OversightPrivateKey.generate()
    home = root / "home"
    home.mkdir()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = (f'[hub]\ntitle = "{ISSUER}"\n[web]\nsecure_cookies = false\ntoken_key_sources = {json.dumps(sources)}\n'
            '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n')
    with HubUnderTest.build(home, toml=toml, prepare=True) as seeded, \
            HubUnderTest.build(root / "peer", toml='[hub]\ntitle = "peer hub"\n', prepare=True) as peer:
        seeded.hub.anonymous.set_allowed(seeded.collections["reports"], True)
        capture = Capture(seeded.app.wsgi_app)
        seeded.app.wsgi_app = capture  # type: ignore[method-assign]
        servers = [_serve(seeded.app, port), _serve(peer.app, peer_port)]
        # The peer's operator copies this hub's keys (abusehub token copy-keys).
        peer.hub.tokens.copy_keys(seeded.hub.tokens.directory(), f"{base}/api/anonymity/token-keys/")
        try:
            yield {"seeded": seeded, "base": base, "capture": capture, "mirror": mirror, "oversight": oversight}
        finally:
            for server in servers:
                server.shutdown()
            mirror.httpd.shutdown()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    drv = start_chromium()
    try:
        yield drv
    finally:
        drv.quit()


def _preview_in_token_mode(driver: Any, hubs: dict[str, Any], **overrides: str) -> None:
    """alice's report (``overrides`` on the form's values) previewed to file with a token."""
    col = hubs["seeded"].collections["reports"]
    preview_in_token_mode(driver, f"{hubs['base']}/web/collections/{col}/file",
                          report_form(tlp="green", provider_name="Example Cloud", **overrides))


def _tokens_shown(driver: Any, wanted: str) -> None:
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "token-state").get_attribute("data-tokens") in (wanted, "refused"))
    state = driver.find_element(By.ID, "token-state")
    assert state.get_attribute("data-tokens") == wanted, state.text


def _file(driver: Any) -> str:
    driver.find_element(By.ID, "sign-submit").click()
    WebDriverWait(driver, 90).until(
        lambda d: d.find_elements(By.ID, "secret-file") or "Not submitted" in d.find_element(By.ID, "outcome").text)
    summary = driver.find_elements(By.ID, "outcome-summary")
    assert summary and summary[0].get_attribute("data-status") == "filed-anonymously", \
        driver.find_element(By.ID, "outcome").text
    return str(summary[0].get_attribute("data-report-id"))


def _secret(driver: Any, folder: Path) -> dict[str, Any]:
    link = driver.find_element(By.ID, "secret-file")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    link.click()
    saved = folder / link.get_attribute("download")
    WebDriverWait(driver, 30).until(lambda _d: saved.exists() and saved.stat().st_size > 0)
    kept: dict[str, Any] = json.loads(saved.read_text())
    return kept


def test_file_with_a_token_from_the_page(hubs: dict[str, Any], driver: Any, tmp_path: Path) -> None:
    seeded, capture, oversight = hubs["seeded"], hubs["capture"], hubs["oversight"]
    hub, col, alice = seeded.hub, seeded.collections["reports"], seeded.identities["alice"]
    alice_key = SigningKey.generate()
    hub.keys.add("alice", alice_key.public_key.to_jwk())

    sign_in(driver, hubs["base"], seeded.tokens, "alice")
    capture.requests.clear()
    _preview_in_token_mode(driver, hubs)
    assert driver.find_element(By.ID, "sign-submit").text == "File anonymously with a token"
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "No key in this browser"))
    driver.find_element(By.ID, "key-input").send_keys(alice_key.to_pem().decode())
    driver.find_element(By.ID, "key-import").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "is ready"))
    driver.find_element(By.ID, "oversight-input").send_keys(oversight.public_key.to_pem().decode())
    driver.find_element(By.ID, "oversight-keep").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "oversight-state"), "is kept"))
    _tokens_shown(driver, "0")
    count = driver.find_element(By.ID, "token-count")
    count.clear()
    count.send_keys("3")
    driver.find_element(By.ID, "token-fetch").click()
    _tokens_shown(driver, "3")
    # The directory's count of holders, and the warning while it is small (alice alone here).
    assert "1 party holds tokens of this epoch: a report filed now hides among that few" in \
        driver.find_element(By.ID, "token-state").text

    report_id = _file(driver)
    kept = _secret(driver, tmp_path)
    assert (kept["report_id"], kept["collection"]) == (report_id, col)
    _tokens_shown(driver, "2")
    assert console_problems(driver) == []

    # Published at once, attested as a token holder's, naming no one.
    objs = requests.get(f"{hubs['base']}/api/collections/{col}/objects/", headers=seeded.auth("gov"),
                        params={"limit": 50}, timeout=10).json()["objects"]
    by_id = {o["id"]: o for o in objs}
    report = by_id[report_id]
    assert report[WITHDRAWAL_PROPERTY] == commitment(kept["secret"])
    assert report["x_abusehub_attests"] == "token-holder"
    assert by_id[report["created_by_ref"]]["name"] == ANONYMOUS_NAME
    hub_identity = hub.signer.ensure()[1]
    mine = [by_id[i] for i in kept["object_ids"]]
    for obj in mine:
        if obj["type"] != "marking-definition":
            entries = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
            assert [(e["type"], e["signer"]) for e in entries] == [("attestation", hub_identity)]
    text = json.dumps(mine).casefold()
    for name in (alice, "alice", alice_key.key_id, "example cloud"):
        assert name.casefold() not in text

    # The record sealed in the page opens with the oversight key and holds up against alice's key.
    record = open_sealed(hub.anonymous.sealed_record(report_id), oversight)
    assert (record.submitter, record.identity_id, record.key_id) == ("alice", alice, alice_key.key_id)
    assert record.report_id == commitment(kept["secret"])
    assert alice_key.public_key.verify(b64url_decode(record.signature), record.signing_input())

    # The redemption carried nothing of alice's: no cookie, no referrer, only the token.
    redeemed = [r for r in capture.requests if r["path"] == "/api/anonymous/redeem/"]
    assert len(redeemed) == 1
    assert redeemed[0]["cookie"] is None and redeemed[0]["referer"] is None
    assert redeemed[0]["authorization"].startswith('PrivateToken token="')
    assert alice.encode() not in redeemed[0]["body"] and alice_key.key_id.encode() not in redeemed[0]["body"]
    # Tokens were fetched by the session; the pseudonym request had the command line's padded shape.
    issued = [r for r in capture.requests if r["path"] == "/web/anonymity/tokens"]
    assert len(issued) == 1 and issued[0]["cookie"]
    evaluations = [json.loads(r["body"]) for r in capture.requests if r["path"] == "/web/pseudonyms/evaluate"]
    assert len(evaluations) == 1
    assert [(g["kind"], len(g["blinded"])) for g in evaluations[0]["groups"]] == \
        [(kind, FIRST_BUCKET) for kind in PADDED_KINDS]
    assert hub.anonymous.withdraw(col, report_id, kept["secret"]) > 0

    # A new session: the two tokens left are still in this browser.
    sign_in(driver, hubs["base"], seeded.tokens, "alice")
    _preview_in_token_mode(driver, hubs, resources="198.51.100.7")
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "key-state"), "is ready"))
    _tokens_shown(driver, "2")

    # A second source that shows another key: the page neither files nor spends a token.
    hubs["mirror"].tamper = True
    capture.requests.clear()
    driver.execute_script("window.AbusehubTokenFiling.refresh()")
    _tokens_shown(driver, "refused")
    assert "shows another key" in driver.find_element(By.ID, "token-state").text
    driver.find_element(By.ID, "sign-submit").click()
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "outcome"), "Not submitted"))
    assert "shows another key" in driver.find_element(By.ID, "outcome").text
    assert not [r for r in capture.requests if r["path"] == "/api/anonymous/redeem/"]

    # The sources agree again: a kept token files the second report.
    hubs["mirror"].tamper = False
    driver.execute_script("window.AbusehubTokenFiling.refresh()")
    _tokens_shown(driver, "2")
    second = _file(driver)
    _tokens_shown(driver, "1")
    assert second != report_id and len([r for r in capture.requests if r["path"] == "/api/anonymous/redeem/"]) == 1
    assert console_problems(driver) == []
