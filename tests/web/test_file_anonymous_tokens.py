"""The report page's token mode, in-process (Flask's test client over the real app and services):
where it is offered (a provider, in a collection that takes anonymous reports), a token mode
refused at its field where it is not, the page's own issuance route (the session and CSRF, the
token service's rules, bad bodies answered 400 not 500), the ``[web] token_key_sources`` checked
by the configuration and added to the pages' ``connect-src``, and the token key directory and its
copies readable by a page of another origin. The filing itself runs in Chromium
(tests/web/test_file_anonymous_tokens_browser.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.anonymity.escrow import OversightPrivateKey
from hub.anonymity.filing import ANONYMOUS_SCOPE
from hub.anonymity.tokens import begin_issuance, finalize_token, verify_token
from hub.client.tokens import read_directory
from hub.common.canonical import b64url_decode, b64url_encode
from hub.common.errors import ConfigError
from hub.config import load_config
from tests.harness import TEST_TOML, HubUnderTest
from tests.web.conftest import BASE, WebClient, browser
from tests.web.forms import pseudonymised, report_form

SOURCES = ["https://peer.example/api/anonymity/token-keys/copies/?issuer=abusehub",
           "http://127.0.0.1:8443/mirror/anonymity/token-keys/"]
MODE = 'name="anonymous_mode" value="token"'


@pytest.fixture
def token_web(tmp_path: Path) -> Iterator[tuple[HubUnderTest, OversightPrivateKey]]:
    home = tmp_path / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = (TEST_TOML + f"[web]\ntoken_key_sources = {json.dumps(SOURCES)}\n"
            '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n')
    with HubUnderTest.build(home, toml=toml, prepare=True, keys_for=("alice",)) as hut:
        hut.hub.anonymous.set_allowed(hut.collections["reports"], True)
        yield hut, oversight


def _html(c: WebClient, path: str) -> str:
    resp = c.get(path)
    assert resp.status_code == 200
    return str(resp.get_data(as_text=True))


def test_the_token_mode_is_offered_to_providers_where_anonymous_reports_are_taken(
        token_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = token_web
    c = browser(hut, "alice")
    page = _html(c, f"/web/collections/{hut.collections['reports']}/file")
    assert MODE in page and "Pay with a submission token" in page
    assert "js/token-filing.js" in page and "vendor/hpke.js" in page
    assert MODE not in _html(c, f"/web/collections/{hut.collections['private']}/file")  # takes no anonymous reports

    # A preview in the token mode draws the token panel, with its sources and the API root's routes.
    form = pseudonymised(c, report_form(provider_name="Example Cloud"), ANONYMOUS_SCOPE)
    form |= {"file_anonymously": "yes", "pseudonym_scope": ANONYMOUS_SCOPE, "anonymous_mode": "token"}
    html = c.post(f"/web/collections/{hut.collections['reports']}/file", form).get_data(as_text=True)
    assert 'id="token-panel"' in html and 'data-token-mode="yes"' in html
    assert 'data-directory-url="/api/anonymity/token-keys/"' in html and 'data-api="/api/"' in html
    assert json.dumps(SOURCES).replace('"', "&#34;") in html


def test_a_mode_not_offered_is_refused_at_its_field(token_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = token_web
    c = browser(hut, "alice")
    col = hut.collections["reports"]
    _html(c, f"/web/collections/{col}/file")
    form = pseudonymised(c, report_form(provider_name="Example Cloud"), ANONYMOUS_SCOPE)
    form |= {"file_anonymously": "yes", "pseudonym_scope": ANONYMOUS_SCOPE, "anonymous_mode": "carrier-pigeon"}
    resp = c.post(f"/web/collections/{col}/file", form)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-anonymous_mode"' in html and "this anonymous mode is not offered here" in html
    assert 'id="token-panel"' not in html


def test_the_page_fetches_tokens_through_its_session(token_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = token_web
    c = browser(hut, "alice")
    _html(c, f"/web/collections/{hut.collections['reports']}/file")
    directory = c.client.get("/api/anonymity/token-keys/", base_url=BASE).get_json()
    key = read_directory(directory)
    begun = [begin_issuance(key.public, key.challenge) for _ in range(2)]
    body = {"token_key_id": b64url_encode(key.key_id), "requests": [b64url_encode(r.encode()) for r, _ in begun]}
    headers = {"X-CSRF-Token": c.csrf, "Accept": "application/json"}
    resp = c.client.post("/web/anonymity/tokens", base_url=BASE, headers=headers, json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answer = resp.get_json()
    assert answer["epoch"] == key.epoch and answer["issued_this_epoch"] == 2
    for (_request, state), text in zip(begun, answer["responses"], strict=True):
        verify_token(key.public, finalize_token(state, b64url_decode(text)).encode(), key.challenge)

    # The session's CSRF header is needed; a bad body is a 400 naming the problem; not a provider: 403.
    assert c.client.post("/web/anonymity/tokens", base_url=BASE, json=body,
                         headers={"Accept": "application/json"}).status_code == 403
    bad = c.client.post("/web/anonymity/tokens", base_url=BASE, headers=headers, data="not json",
                        content_type="application/json")
    assert bad.status_code == 400 and "token_key_id" in bad.get_json()["description"]
    gov = browser(hut, "gov")
    gov.get("/web/collections")
    refused = gov.client.post("/web/anonymity/tokens", base_url=BASE, json=body,
                              headers={"X-CSRF-Token": gov.csrf, "Accept": "application/json"})
    assert refused.status_code == 403 and "providers only" in refused.get_json()["description"]


def test_the_sources_widen_connect_src_and_bad_ones_are_refused(
        token_web: tuple[HubUnderTest, OversightPrivateKey], tmp_path: Path) -> None:
    hut, _ = token_web
    csp = browser(hut, "alice").get("/web/collections").headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:8443 https://peer.example;" in csp
    # Without sources the pages keep 'self' only.
    with HubUnderTest.build(tmp_path / "plain", copied=True) as plain:
        assert "connect-src 'self';" in browser(plain).get("/web/signin").headers["Content-Security-Policy"]
    for bad, why in (("ftp://peer.example/x", "http(s) URL"), ("http://peer.example/x", "https"),
                     ("https://peer.example/x;script-src *", "';'"), ("https://peer.example/a b", "white space")):
        home = tmp_path / f"bad{abs(hash(bad))}"
        home.mkdir()
        (home / "hub.toml").write_text(f"[web]\ntoken_key_sources = [{json.dumps(bad)}]\n")
        with pytest.raises(ConfigError, match=f"web.token_key_sources: .*{re.escape(why)}"):
            load_config(home)


def test_the_directory_and_its_copies_are_readable_by_any_origin(
        token_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = token_web
    http = hut.app.test_client()
    for path in ("/api/anonymity/token-keys/", "/api/anonymity/token-keys/copies/?issuer=peer"):
        resp = http.get(path, headers={"Origin": "https://other.example", "Accept": "application/json"})
        assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in resp.headers
