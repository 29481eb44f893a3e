"""Web sessions on the server, in-process over the real app, services and store (each backend):
the cookie carries only a random id, the database keeps its hash and the session; sign-out ends
the session for every copy of the cookie and on every host sharing the database; idle and old
sessions end on the hub's clock; and every answer under ``/web/`` is a page with the pages'
headers, errors included."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask.testing import FlaskClient

from hub.server import create_app
from hub.services.access.auth import hash_token
from hub.services.access.websessions import MAX_AGE_US
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from hub.web import CSP
from hub.web.sessions import COOKIE
from tests.conftest import HubFactory
from tests.harness import FrozenClock, HubUnderTest
from tests.web.conftest import BASE, WebClient

IDLE_SECONDS = 30 * 60  # [web] session_idle_minutes' default


def cookie_of(c: WebClient) -> str:
    cookie = c.client.get_cookie(COOKIE, domain="hub.test", path="/web")
    assert cookie is not None
    return cookie.value


def copy_of(h: HubUnderTest, c: WebClient, app: FlaskClient | None = None) -> WebClient:
    """Another browser holding a copy of ``c``'s cookie (and knowing its CSRF token)."""
    other = WebClient(app or h.app.test_client())
    other.client.set_cookie(COOKIE, cookie_of(c), domain="hub.test", path="/web")
    other.csrf = c.csrf
    return other


def signed_in(h: HubUnderTest, party: str = "alice", client: FlaskClient | None = None) -> WebClient:
    c = WebClient(client or h.app.test_client())
    c.sign_in(h.tokens[party])
    return c


def sent_cookie(resp: object) -> bool:
    return any(v.startswith(f"{COOKIE}=") for v in resp.headers.getlist("Set-Cookie"))  # type: ignore[attr-defined]


def to_signin(c: WebClient, path: str = "/web/collections") -> str:
    """``path`` is refused by a redirect to the sign-in page that sets no cookie; the text that
    page then shows."""
    resp = c.get(path)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/web/signin"), resp.status_code
    assert not sent_cookie(resp)
    page = c.get(resp.headers["Location"])
    assert "Signed in as" not in page.get_data(as_text=True)
    return page.get_data(as_text=True)


# -- the cookie and the row ----------------------------------------------------------------------


def test_the_cookie_carries_a_random_id_of_which_the_database_keeps_the_hash(hub_factory: HubFactory) -> None:
    h = hub_factory()
    c = WebClient(h.app.test_client())
    c.get("/web/signin")
    before = cookie_of(c)  # a first form gets an id that stands for no session
    assert h.hub.store.web_session(hashlib.sha256(before.encode()).hexdigest()) is None
    resp = c.post("/web/signin", {"token": h.tokens["alice"]})
    assert resp.status_code == 302 and sent_cookie(resp)
    session_id = cookie_of(c)
    assert session_id != before and len(session_id) == 43  # a new id at sign-in
    row = h.hub.store.web_session(hashlib.sha256(session_id.encode()).hexdigest())
    assert row is not None and row.live
    assert row.party_pk == h.hub.admin.party("alice").pk
    assert row.token_hash == hash_token(h.tokens["alice"]) and row.cert_fingerprint is None
    assert row.seen_us == row.created_us
    assert h.hub.store.web_session(session_id) is None  # the id itself is not what is kept
    assert h.tokens["alice"] not in session_id
    # Pages of a live session renew nothing: the cookie is sent at sign-in only.
    page = c.get("/web/collections")
    assert page.status_code == 200 and not sent_cookie(page)


# -- sign-out --------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(hub_factory: HubFactory) -> None:
    h = hub_factory()
    c = signed_in(h)
    stolen = copy_of(h, c)
    assert stolen.get("/web/collections").status_code == 200  # a copy works while the session lives
    c.get("/web/collections")
    resp = c.post("/web/signout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/web/signin"
    assert any(v.startswith(f"{COOKIE}=;") for v in resp.headers.getlist("Set-Cookie"))  # removed
    # The copy opens nothing, page or JSON, and is given no fresh cookie.
    assert "You signed out." in to_signin(stolen)
    row = h.hub.store.web_session(hashlib.sha256(cookie_of(stolen).encode()).hexdigest())
    assert row is not None and row.ended_us is not None and row.ended_reason == "signed-out"
    for path in ("/web/", "/web/correlations", "/web/stats", "/web/operators"):
        resp = stolen.get(path)
        assert resp.status_code == 302 and not sent_cookie(resp), path
    key = stolen.client.get("/web/pseudonyms/key", base_url=BASE, headers={"Accept": "application/json"})
    assert key.status_code == 401 and not sent_cookie(key)
    col = h.collections["reports"]
    posted = stolen.client.post(f"/web/collections/{col}/submit", base_url=BASE, json={"objects": []},
                                headers={"X-CSRF-Token": stolen.csrf})
    assert posted.status_code == 401 and not sent_cookie(posted)
    # Signing in again makes a new session; the old id stays ended.
    c.sign_in(h.tokens["alice"])
    assert cookie_of(c) != cookie_of(stolen)
    assert stolen.get("/web/collections").status_code == 302


def test_hosts_sharing_the_database_agree_on_sessions(hub_factory: HubFactory, tmp_path: Path) -> None:
    """A second hub process (its own app, services and store connections, the same database and
    home) honours a session made on the first, and a sign-out on it ends the session there."""
    h = hub_factory()
    store = h.hub.store
    assert isinstance(store, SqlStore)
    other_store = SqlStore(store.engine.url.render_as_string(hide_password=False))
    try:
        other_app = create_app(h.hub.config, Hub(h.hub.config, other_store))
        c = signed_in(h)
        there = copy_of(h, c, other_app.test_client())
        assert "Signed in as <strong>alice</strong>" in there.get("/web/collections").get_data(as_text=True)
        assert there.post("/web/signout").status_code == 302
        assert "You signed out." in to_signin(c)
    finally:
        other_store.close()


# -- idle and old sessions, on the hub's clock ---------------------------------------------------------


def test_an_idle_session_ends_and_an_active_one_lasts_until_its_maximum_age(hub_factory: HubFactory) -> None:
    clock = FrozenClock()
    h = hub_factory(clock=clock)
    c = signed_in(h)
    clock.advance(IDLE_SECONDS + 1)
    assert "without activity" in to_signin(c)
    copy = copy_of(h, c)
    assert copy.get("/web/collections").status_code == 302  # ended, not merely late
    # Requests within the idle time keep a session going: each one moves "last seen" on.
    c = signed_in(h)
    for _ in range(4):
        clock.advance(IDLE_SECONDS - 60)
        assert c.get("/web/collections").status_code == 200
    # ... but not past its maximum age, however active.
    steps = MAX_AGE_US // ((IDLE_SECONDS - 60) * 1_000_000)
    for _ in range(steps - 4):
        clock.advance(IDLE_SECONDS - 60)
        if c.get("/web/collections").status_code != 200:
            break
    else:
        clock.advance(IDLE_SECONDS - 60)
    assert "ended after 24 hours" in to_signin(c)


def test_sessions_over_for_a_day_are_deleted_at_a_later_sign_in(hub_factory: HubFactory) -> None:
    clock = FrozenClock()
    h = hub_factory(clock=clock)
    old = signed_in(h)
    old_hash = hashlib.sha256(cookie_of(old).encode()).hexdigest()
    clock.advance(MAX_AGE_US // 1_000_000 + 3 * 86_400)
    assert h.hub.store.web_session(old_hash) is not None
    signed_in(h, "bob")
    assert h.hub.store.web_session(old_hash) is None
    assert old.get("/web/collections").status_code == 302


def test_a_cookie_that_names_no_session_opens_nothing(hub_factory: HubFactory) -> None:
    h = hub_factory()
    for value in ("x" * 43, "not a session id", hash_token(h.tokens["alice"])):
        c = WebClient(h.app.test_client())
        c.client.set_cookie(COOKIE, value, domain="hub.test", path="/web")
        resp = c.get("/web/collections")
        assert resp.status_code == 302 and not sent_cookie(resp)


# -- every answer under /web/ is a page with the pages' headers -----------------------------------------


def _has_page_headers(resp: object) -> None:
    headers = resp.headers  # type: ignore[attr-defined]
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin" and headers["Cache-Control"] == "no-store"


def test_an_unknown_web_address_is_an_html_page_with_the_csp(hub_factory: HubFactory) -> None:
    h = hub_factory()
    for c in (WebClient(h.app.test_client()), signed_in(h)):
        for accept in ("text/html", "application/json", "application/taxii+json;version=2.1"):
            for path in ("/web/no-such-page", "/web/collections/x/y/z/w", "/web/static/no-such.js"):
                resp = c.get(path, headers={"Accept": accept})
                assert resp.status_code == 404 and resp.mimetype == "text/html", (path, accept)
                assert "there is no page at this address" in resp.get_data(as_text=True)
                _has_page_headers(resp)
        wrong_method = c.get("/web/signout")
        assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
        assert wrong_method.headers["Allow"] and "POST" in wrong_method.headers["Allow"]
        _has_page_headers(wrong_method)
    # Too large a form: the page says so, not the TAXII API.
    c = WebClient(h.app.test_client())
    c.get("/web/signin")
    big = c.post("/web/signin", {"token": "x" * (h.hub.config.taxii.max_content_length + 1)})
    assert big.status_code == 413 and big.mimetype == "text/html"
    _has_page_headers(big)


def test_the_json_routes_keep_json_with_the_pages_headers(hub_factory: HubFactory) -> None:
    h = hub_factory()
    c = signed_in(h)
    key = c.client.get("/web/pseudonyms/key", base_url=BASE)
    assert key.status_code == 200 and key.mimetype == "application/json"
    _has_page_headers(key)
    refused = c.client.post("/web/pseudonyms/evaluate", base_url=BASE, json={"groups": "no"},
                            headers={"X-CSRF-Token": c.csrf})
    assert refused.status_code == 400 and refused.mimetype == "application/json"
    _has_page_headers(refused)
    anonymous = WebClient(h.app.test_client()).client.get("/web/pseudonyms/key", base_url=BASE,
                                                        headers={"Accept": "application/json"})
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/json"
    _has_page_headers(anonymous)


def test_a_browser_at_the_bare_address_is_sent_to_the_pages_and_taxii_is_unchanged(hub_factory: HubFactory) -> None:
    h = hub_factory()
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    resp = h.http.get("/", base_url=BASE, headers={"Accept": browser_accept})
    assert resp.status_code == 302 and resp.headers["Location"] == "/web/"
    assert h.http.get("/web/", base_url=BASE).headers["Location"] == "/web/signin"
    # A TAXII client asking for the bare address still gets the API's 404 in TAXII JSON.
    taxii = h.http.get("/", headers={"Accept": "application/taxii+json;version=2.1"})
    assert taxii.status_code == 404 and taxii.mimetype == "application/taxii+json"
    assert taxii.get_json()["http_status"] == "404"
    # Discovery and the API root are where they were.
    disc = h.http.get("/taxii2/", headers={"Accept": "application/taxii+json;version=2.1", **h.auth("alice")})
    assert disc.status_code == 200 and disc.get_json()["api_roots"] == [f"{h.api}/"]
    unknown = h.http.get(f"{h.api}/no-such/", headers={"Accept": "application/taxii+json;version=2.1",
                                                         **h.auth("alice")})
    assert unknown.status_code == 404 and unknown.mimetype == "application/taxii+json"
    assert "Content-Security-Policy" not in unknown.headers
