"""Black-box smoke tests over raw HTTP against the real two-worker gunicorn server.

The behaviour of each endpoint is tested in-process on every store (test_taxii_http.py,
test_conformance.py, test_access_matrix.py); what is checked here needs the real server:
HTTP as gunicorn parses and frames it, paging across worker processes, and its log.
"""

from __future__ import annotations

import json

import orjson
import pytest
import requests

from tests.factories import indicator
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"


def objects_url(server: HubUnderTest, alias: str) -> str:
    return f"{server.api}/collections/{server.collections[alias]}/objects/"


def post(server: HubUnderTest, alias: str, party: str, body: dict) -> requests.Response:
    return requests.post(objects_url(server, alias), data=orjson.dumps(body),
                         headers={"Content-Type": TAXII, **server.auth(party)}, timeout=30)


def test_discovery_names_the_api_root_by_a_relative_url(server: HubUnderTest) -> None:
    r = requests.get(server.base + "/taxii2/", headers={"Host": "evil.example"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.json()["api_roots"] == ["/api/"] and r.json()["default"] == "/api/"


def test_auth_and_negotiation_over_the_wire(server: HubUnderTest) -> None:
    url = server.api + "/collections/"
    assert requests.get(url, auth=("alice", server.tokens["alice"]), timeout=30).status_code == 200
    r = requests.get(url, timeout=30)
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    r = requests.get(url, headers={**server.auth("alice"), "Accept": "text/html"}, timeout=30)
    assert r.status_code == 406 and r.headers["Content-Type"] == TAXII


def test_next_pages_are_the_same_on_either_worker(server: HubUnderTest) -> None:
    post(server, "reports", "alice", {"objects": [indicator() for _ in range(8)]})
    url = objects_url(server, "reports")
    token = requests.get(url, params={"limit": "3"}, headers=server.auth("gov"), timeout=30).json()["next"]
    # Fresh connections: the requests spread over both worker processes.
    pages = {requests.get(url, params={"limit": "3", "next": token}, headers=server.auth("gov"),
                          timeout=30).content for _ in range(6)}
    assert len(pages) == 1


def test_oversized_body_is_413_through_gunicorn(server: HubUnderTest) -> None:
    big = {"objects": [indicator(description="x" * 2000) for _ in range(40)]}  # > 64 KiB
    r = post(server, "private", "alice", big)
    assert r.status_code == 413 and "max_content_length" in r.json()["description"]


def test_405_names_the_allowed_methods(server: HubUnderTest) -> None:
    r = requests.put(objects_url(server, "private"), headers=server.auth("alice"), timeout=30)
    assert r.status_code == 405 and r.json()["http_status"] == "405"
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "POST"}


def test_hostile_path_values_are_answered_not_crashed(server: HubUnderTest) -> None:
    for path in ("/collections/a%00b/objects/", "/status/a%00b/",
                 f"/collections/{server.collections['reports']}/objects/a%00b/"):
        r = requests.get(server.api + path, headers=server.auth("alice"), timeout=30)
        assert r.status_code == 404 and r.json()["http_status"] == "404", path


def test_no_500_in_server_log(server: HubUnderTest) -> None:
    """Runs after the module's other tests: the server logged every request, none a 500."""
    requests_logged = [entry for entry in map(_json_or_none, server.read_log().splitlines())
                       if isinstance(entry, dict) and "status" in entry]
    assert requests_logged, "the server logged no request line"
    assert [e for e in requests_logged if e["status"] >= 500] == []


def _json_or_none(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None
