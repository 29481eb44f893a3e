"""Fixtures of the web pages: a seeded in-process hub with the web blueprint registered, a
browser-like test client signed in as a party, and a signing key registered for alice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from hub.signing import SigningKey
from tests.harness import HubUnderTest

#: Session cookies are Secure: the test client speaks HTTPS, as a browser behind the proxy would.
BASE = "https://hub.test"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of a page's forms."""
    m = _CSRF_RE.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)


class WebClient:
    """A test client that keeps its session and posts forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        resp = self.client.get(path, base_url=BASE, **kwargs)
        if resp.mimetype == "text/html" and 'name="csrf_token"' in resp.get_data(as_text=True):
            self.csrf = csrf_of(resp.get_data(as_text=True))
        return resp

    def post(self, path: str, data: dict[str, object] | None = None, csrf: bool = True, **kwargs: object):  # type: ignore[no-untyped-def]
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return self.client.post(path, base_url=BASE, data=form, **kwargs)

    def sign_in(self, token: str) -> None:
        self.get("/web/signin")
        resp = self.post("/web/signin", {"token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        self.get("/web/collections")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[HubUnderTest]:
    """A seeded hub (tests.conftest PARTIES and GRANTS) with the web pages, on SQLite (a copy of
    one seeded once per test process)."""
    with HubUnderTest.build(tmp_path / "home", copied=True) as built:
        yield built


@pytest.fixture
def alice_key(web: HubUnderTest) -> SigningKey:
    """An Ed25519 key registered to alice."""
    key = SigningKey.generate()
    web.hub.keys.add("alice", key.public_key.to_jwk())
    return key


def browser(web: HubUnderTest, party: str | None = None) -> WebClient:
    """A new browser-like client, signed in as ``party`` when given."""
    c = WebClient(web.app.test_client())
    if party:
        c.sign_in(web.tokens[party])
    return c
