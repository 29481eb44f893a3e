"""The application factory: one app per hub, independent of any other; proxies believed only
when configured; every unexpected error a logged 500 with a TAXII error body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from flask import request

from hub.config import load_config
from hub.server import create_app
from hub.services.hub import open_hub
from tests.conftest import HubFactory
from tests.factories import indicator
from tests.harness import BACKENDS, HubUnderTest

TAXII = "application/taxii+json;version=2.1"


def test_create_app_opens_the_configured_hub(tmp_path: Path) -> None:
    """Without a hub, the app opens the one its configuration names (as each gunicorn worker does)."""
    config = load_config(tmp_path, environ={})
    prepared = open_hub(config, migrate=True)
    _party, token = prepared.admin.add_party("acme", "provider")
    prepared.close()
    app = create_app(config)
    try:
        r = app.test_client().get("/api/", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json["max_content_length"] == config.taxii.max_content_length
    finally:
        app.extensions["abusehub"].close()


def test_two_hubs_are_independent_over_wsgi_transports(hub_factory: HubFactory) -> None:
    """Two hubs in one process, each reached through its own httpx transport, share nothing:
    not objects, not tokens (the seam federation tests wire hubs together with)."""
    first, second = hub_factory(), hub_factory()
    with httpx.Client(transport=httpx.WSGITransport(app=first.app), base_url="http://first.test") as a, \
            httpx.Client(transport=httpx.WSGITransport(app=second.app), base_url="http://second.test") as b:
        obj = indicator()
        r = a.post(first.collection_url("reports", "objects"), content=orjson.dumps({"objects": [obj]}),
                   headers={"Content-Type": TAXII, **first.auth("alice")})
        assert r.status_code == 202 and r.json()["success_count"] == 1
        got = a.get(first.collection_url("reports", "objects"), headers=first.auth("gov")).json()
        assert [o["id"] for o in got["objects"]] == [obj["id"]]
        # The second hub has its own parties, collections and objects.
        assert b.get(second.collection_url("reports", "objects"), headers=second.auth("gov")).json() == {"more": False}
        assert b.get(first.collection_url("reports", "objects"), headers=second.auth("gov")).status_code == 404
        assert b.get(second.api + "/collections/", headers=first.auth("gov")).status_code == 401


def test_an_unexpected_error_is_a_logged_500_with_a_taxii_body(
        hub_factory: HubFactory, caplog: pytest.LogCaptureFixture) -> None:
    h = hub_factory()

    def broken(name: str) -> str:
        raise RuntimeError("secret detail of the failure")

    h.app.add_url_rule("/broken/<name>/", "broken", broken)
    with caplog.at_level("ERROR"):
        r = h.http.get("/broken/jane.doe@example.com/")
    assert r.status_code == 500 and r.headers["Content-Type"] == TAXII
    assert r.json == {"title": "Internal error", "description": "the server failed to answer; the error was logged",
                      "http_status": "500"}
    # Logged by endpoint, never by the path, which may hold personal data.
    assert "unexpected error on GET broken" in caplog.text and "secret detail" in caplog.text
    assert "jane.doe" not in caplog.text


# -- X-Forwarded-* only from the configured proxies --------------------------------------------

PROXIES_TOML = '[server]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8"]\n'
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example"}


@pytest.fixture(scope="module", params=BACKENDS)
def proxied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path_factory.mktemp("proxied"), backend=str(request.param), toml=PROXIES_TOML) as built:
        yield built


def _seen(h: HubUnderTest, peer: str, headers: dict[str, str]) -> tuple[str | None, str, str, dict[str, str]]:
    """What the app saw of a request from ``peer``: client address, scheme, host, forwarded headers."""
    with h.app.test_client() as client:
        r = client.get("/taxii2/", headers=headers, environ_base={"REMOTE_ADDR": peer})
        assert r.status_code == 200
        forwarded = {k: v for k, v in request.headers.items() if k.lower().startswith("x-forwarded-")}
        return request.remote_addr, request.scheme, request.host, forwarded


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.20.30.40"])
def test_a_trusted_proxy_is_believed(proxied: HubUnderTest, peer: str) -> None:
    assert _seen(proxied, peer, FORWARDED)[:3] == ("203.0.113.9", "https", "hub.example")


@pytest.mark.parametrize("peer", ["198.51.100.7", "127.0.0.2", "::1"])
def test_anyone_else_is_not_and_its_forwarded_headers_are_dropped(proxied: HubUnderTest, peer: str) -> None:
    remote, scheme, host, forwarded = _seen(proxied, peer, FORWARDED)
    assert (remote, scheme, host) == (peer, "http", "localhost")
    assert forwarded == {}


@pytest.mark.parametrize("chain,client", [
    ("203.0.113.9, 10.1.2.3", "203.0.113.9"),  # through two trusted proxies
    ("192.0.2.66, 198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a client's own claim is not believed
    ("not-an-address, 10.1.2.3", "10.1.2.3"),  # nothing believed left of a bad entry
    ("", "127.0.0.1"),
])
def test_the_client_is_the_nearest_untrusted_hop(proxied: HubUnderTest, chain: str, client: str) -> None:
    assert _seen(proxied, "127.0.0.1", {"X-Forwarded-For": chain})[0] == client


@pytest.mark.parametrize("headers", [{"X-Forwarded-Proto": "gopher"}, {"X-Forwarded-Host": "evil.example/path"},
                                     {"X-Forwarded-Host": "a b"}])
def test_malformed_forwarded_values_are_ignored(proxied: HubUnderTest, headers: dict[str, str]) -> None:
    assert _seen(proxied, "127.0.0.1", headers)[1:3] == ("http", "localhost")


def test_no_proxy_is_trusted_by_default(seeded: HubUnderTest) -> None:
    remote, scheme, host, forwarded = _seen(seeded, "127.0.0.1", FORWARDED)
    assert (remote, scheme, host, forwarded) == ("127.0.0.1", "http", "localhost", {})
