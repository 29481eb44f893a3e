"""Sign-in on the web pages, in-process over the real app, services and store (each backend):
failed token sign-ins counted in the same shared throttle as the TAXII API's failed
authentications, and sign-in with a client certificate that the trusted proxy forwards, the
session tied to that certificate."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from hub.services.access.certificates import CLIENT_CERT_HEADER
from hub.store.websessions import WebSessionRecord
from hub.web.sessions import COOKIE
from tests.conftest import HubFactory
from tests.harness import TEST_TOML, FrozenClock, HubUnderTest
from tests.lifecycle.pki import Issued, issue, make_ca
from tests.server.test_operations import metric_lines
from tests.web.conftest import WebClient

THROTTLE_TOML = TEST_TOML + "[limits]\nauth_failures = 5\nauth_window_seconds = 300\n"
PROXY_TOML = TEST_TOML + '[server]\ntrusted_proxies = ["127.0.0.1"]\n'
#: The proxy's own address, and the address of the browser behind it.
PROXY, BROWSER = "127.0.0.1", "198.51.100.30"
#: A client that reaches the hub directly, not through the proxy.
STRANGER = "203.0.113.77"
OFFER = "with your certificate"


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def through_proxy(cert: Issued | None) -> dict[str, Any]:
    """A request as nginx passes it on: from the proxy, naming the browser, with the browser's
    verified client certificate (when it presented one)."""
    headers = {"X-Forwarded-For": BROWSER}
    if cert is not None:
        headers[CLIENT_CERT_HEADER] = quote(cert.cert_pem.decode())
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": headers}


def session_of(h: HubUnderTest, c: WebClient) -> WebSessionRecord | None:
    """The session the browser's cookie names in the database, if any."""
    cookie = c.client.get_cookie(COOKIE, domain="hub.test", path="/web")
    assert cookie is not None
    return h.hub.store.web_session(hashlib.sha256(cookie.value.encode()).hexdigest())


def pem_body(cert: Issued) -> list[str]:
    """The base64 lines of the certificate's PEM."""
    return [line for line in cert.cert_pem.decode().splitlines() if line and not line.startswith("-----")]


# -- token sign-in, throttled with the TAXII API -------------------------------------------------


def test_failed_sign_ins_count_with_taxii_failures_and_end_in_429_with_retry_after(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=THROTTLE_TOML, clock=FrozenClock())
    attacker = from_address("203.0.113.9")
    url = f"{h.api}/collections/"
    # Two failures on the TAXII API, then three on the sign-in form: five from one address.
    for i in range(2):
        assert h.http.get(url, headers={"Authorization": f"Bearer ahub_taxii{i}"}, **attacker).status_code == 401
    c = WebClient(h.app.test_client())
    c.get("/web/signin", **attacker)
    guesses = [f"ahub_guessed-secret-{i}" for i in range(5)]
    pages = [c.post("/web/signin", {"token": guess}, **attacker) for guess in guesses]
    assert [p.status_code for p in pages] == [401, 401, 401, 429, 429]
    throttled = pages[3]
    retry = int(throttled.headers["Retry-After"])
    assert 1 <= retry <= 300
    text = throttled.get_data(as_text=True)
    assert "Too many failed sign-ins from your address" in text and f"try again in {retry} seconds" in text
    assert 'id="token"' in text  # the form is still there, empty
    for page, guess in zip(pages, guesses, strict=True):
        assert guess not in page.get_data(as_text=True)
    # The count is the TAXII API's: it refuses the address too, and counts the refusals as its own.
    r = h.http.get(url, headers={"Authorization": "Bearer ahub_taxii"}, **attacker)
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 300
    assert metric_lines(h.http)['abusehub_auth_failures_total{reason="throttled"}'] == 3
    assert c.get("/web/collections", **attacker).status_code == 302  # no session came of it

    # Another address is not affected; a wrong token from there is a plain 401.
    other = WebClient(h.app.test_client())
    other.get("/web/signin", **from_address("198.51.100.20"))
    assert other.post("/web/signin", {"token": "ahub_wrong"}, **from_address("198.51.100.20")).status_code == 401
    # A valid token is accepted from the throttled address, as on the TAXII API.
    resp = c.post("/web/signin", {"token": h.tokens["alice"]}, **attacker)
    assert resp.status_code == 302
    page = c.get("/web/collections", **attacker).get_data(as_text=True)
    assert "Signed in as <strong>alice</strong>" in page and h.tokens["alice"] not in page


def test_the_throttle_window_ends_and_an_empty_token_is_not_an_attempt(hub_factory: HubFactory) -> None:
    clock = FrozenClock()
    h = hub_factory(toml=THROTTLE_TOML, clock=clock)
    addr = from_address("203.0.113.10")
    c = WebClient(h.app.test_client())
    c.get("/web/signin", **addr)
    empty = [c.post("/web/signin", {"token": "  "}, **addr) for _ in range(8)]
    assert {p.status_code for p in empty} == {401}
    assert "Enter your party" in empty[0].get_data(as_text=True)
    statuses = [c.post("/web/signin", {"token": f"ahub_x{i}"}, **addr).status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    clock.advance(300)
    assert c.post("/web/signin", {"token": "ahub_y"}, **addr).status_code == 401


# -- certificate sign-in --------------------------------------------------------------------------


def test_a_registered_certificate_from_the_trusted_proxy_signs_in_its_party(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "alice analyst")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    c = WebClient(h.app.test_client())
    page = c.get("/web/signin?next=/web/correlations", **through_proxy(cert)).get_data(as_text=True)
    assert "Sign in as alice with your certificate" in page
    resp = c.post("/web/signin", {"method": "certificate", "next": "/web/correlations"}, **through_proxy(cert))
    assert resp.status_code == 302 and resp.headers["Location"] == "/web/correlations"
    collections = c.get("/web/collections", **through_proxy(cert))
    assert collections.status_code == 200
    text = collections.get_data(as_text=True)
    assert "Signed in as <strong>alice</strong>" in text
    # The session keeps the certificate's fingerprint and party: no token hash, no certificate.
    kept = session_of(h, c)
    assert kept is not None and kept.cert_fingerprint == cert.fingerprint and kept.token_hash is None
    assert kept.party_pk == h.hub.admin.party("alice").pk
    cookie_text = c.client.get_cookie(COOKIE, domain="hub.test", path="/web").value  # type: ignore[union-attr]
    for shown in (text, resp.get_data(as_text=True), cookie_text):
        assert "BEGIN CERTIFICATE" not in shown and not any(line in shown for line in pem_body(cert))
        assert not any(token in shown for token in h.tokens.values())
    assert cert.fingerprint not in text


def test_no_offer_for_a_certificate_that_is_not_registered_or_without_one(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    stranger = issue(make_ca(), "nobody")
    c = WebClient(h.app.test_client())
    for cert in (stranger, None):
        assert OFFER not in c.get("/web/signin", **through_proxy(cert)).get_data(as_text=True)
        refused = c.post("/web/signin", {"method": "certificate"}, **through_proxy(cert))
        assert refused.status_code == 401 and "no client certificate registered" in refused.get_data(as_text=True)
        assert c.get("/web/collections", **through_proxy(cert)).status_code == 302


def test_a_certificate_header_from_anyone_but_the_proxy_is_ignored(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "alice analyst")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    spoofed: dict[str, Any] = {"environ_base": {"REMOTE_ADDR": STRANGER},
               "headers": {CLIENT_CERT_HEADER: quote(cert.cert_pem.decode())}}
    c = WebClient(h.app.test_client())
    page = c.get("/web/signin", **spoofed).get_data(as_text=True)
    assert 'name="csrf_token"' in page and OFFER not in page
    resp = c.post("/web/signin", {"method": "certificate"}, **spoofed)
    assert resp.status_code == 401
    assert session_of(h, c) is None
    assert c.get("/web/collections", **spoofed).status_code == 302

    # A session made through the proxy ends when the same header comes from elsewhere.
    c.get("/web/signin", **through_proxy(cert))
    assert c.post("/web/signin", {"method": "certificate"}, **through_proxy(cert)).status_code == 302
    assert c.get("/web/collections", **through_proxy(cert)).status_code == 200
    assert c.get("/web/collections", **spoofed).status_code == 302
    assert c.get("/web/collections", **through_proxy(cert)).status_code == 302  # ended, not paused


def test_the_certificate_sign_in_needs_the_csrf_token(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "alice analyst")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    c = WebClient(h.app.test_client())
    c.get("/web/signin", **through_proxy(cert))
    forms: list[dict[str, object]] = [{"method": "certificate"}, {"method": "certificate", "csrf_token": "forged"}]
    for form in forms:
        assert c.post("/web/signin", form, csrf=False, **through_proxy(cert)).status_code == 403
        assert c.get("/web/collections", **through_proxy(cert)).status_code == 302
    # A fresh client that never loaded the page has no CSRF token in its session at all.
    fresh = WebClient(h.app.test_client())
    assert fresh.post("/web/signin", {"method": "certificate", "csrf_token": ""}, csrf=False,
                      **through_proxy(cert)).status_code == 403


def _signed_in_with(h: HubUnderTest, cert: Issued) -> WebClient:
    c = WebClient(h.app.test_client())
    c.get("/web/signin", **through_proxy(cert))
    assert c.post("/web/signin", {"method": "certificate"}, **through_proxy(cert)).status_code == 302
    assert c.get("/web/collections", **through_proxy(cert)).status_code == 200
    return c


def _ended(c: WebClient, cert: Issued) -> str:
    """The next request is sent to sign in; what the sign-in page then says."""
    resp = c.get("/web/collections", **through_proxy(cert))
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/web/signin")
    return c.get(resp.headers["Location"], **through_proxy(cert)).get_data(as_text=True)


def test_removing_the_certificate_ends_the_session_at_its_next_request(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "alice analyst")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    c = _signed_in_with(h, cert)
    h.hub.admin.remove_certificate("alice", cert.fingerprint)
    page = _ended(c, cert)
    assert "no longer registered to an active party" in page and OFFER not in page
    assert c.post("/web/signin", {"method": "certificate"}, **through_proxy(cert)).status_code == 401
    assert c.get("/web/collections", **through_proxy(cert)).status_code == 302


def test_a_certificate_moved_to_another_party_ends_the_first_partys_session(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "shared desk")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    c = _signed_in_with(h, cert)
    h.hub.admin.remove_certificate("alice", cert.fingerprint)
    h.hub.admin.add_certificate("bob", cert.cert_pem)
    _ended(c, cert)
    assert "Signed in as <strong>alice</strong>" not in c.get("/web/signin", **through_proxy(cert)).get_data(as_text=True)


def test_disabling_the_party_ends_the_session_and_enabling_it_does_not_bring_it_back(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "alice analyst")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    c = _signed_in_with(h, cert)
    h.hub.admin.disable_party("alice")
    _ended(c, cert)
    h.hub.admin.enable_party("alice")
    assert c.get("/web/collections", **through_proxy(cert)).status_code == 302
    assert _signed_in_with(h, cert)  # a new sign-in works again


def test_a_request_without_the_certificate_or_with_another_ends_the_session(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    ca = make_ca()
    cert, other = issue(ca, "alice one"), issue(ca, "alice two")
    h.hub.admin.add_certificate("alice", cert.cert_pem)
    h.hub.admin.add_certificate("alice", other.cert_pem)
    for next_request in (None, other):
        c = _signed_in_with(h, cert)
        assert c.get("/web/collections", **through_proxy(next_request)).status_code == 302
        assert c.get("/web/collections", **through_proxy(cert)).status_code == 302


def test_a_token_session_is_unaffected_by_certificates(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=PROXY_TOML)
    cert = issue(make_ca(), "bob analyst")
    h.hub.admin.add_certificate("bob", cert.cert_pem)
    c = WebClient(h.app.test_client())
    page = c.get("/web/signin", **through_proxy(cert)).get_data(as_text=True)
    assert "Sign in as bob with your certificate" in page and 'id="token"' in page
    assert c.post("/web/signin", {"token": h.tokens["alice"]}, **through_proxy(cert)).status_code == 302
    for sent in (cert, None):
        assert "Signed in as <strong>alice</strong>" in c.get("/web/collections", **through_proxy(sent)).get_data(as_text=True)
