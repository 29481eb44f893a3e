"""TAXII over HTTP, in-process on every store: what a client library cannot express (headers,
errors, paging), driven through the real application with Flask's test client.

The module shares one seeded hub per backend (``shared_hub``): each test adds only what it
then reads, and compares counts taken within itself.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from tests.factories import indicator
from tests.harness import HubUnderTest

TAXII = "application/taxii+json;version=2.1"
JWK_SET = "application/jwk-set+json"


@pytest.fixture(autouse=True)
def no_unexpected_error(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every answer here is given on purpose: the error handler logs anything unexpected (a 500),
    and nothing is logged that way during any test of this module."""
    yield
    assert "unexpected error" not in caplog.text


def post(h: HubUnderTest, alias: str, party: str, body: bytes | dict[str, Any], **headers: str) -> TestResponse:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return h.http.post(h.collection_url(alias, "objects"), data=data,
                         headers={"Content-Type": TAXII, **h.auth(party), **headers})


def count(h: HubUnderTest, alias: str, party: str = "alice") -> int:
    """Every object version in the collection, walked page by page with ``next``."""
    n, params = 0, {"limit": "50", "match[version]": "all"}
    while True:
        body = h.http.get(h.collection_url(alias, "objects"), query_string=params, headers=h.auth(party)).json
        n += len(body.get("objects", []))
        if not body["more"]:
            return n
        params["next"] = body["next"]


def test_added_after_paging_through_one_request(shared_hub: HubUnderTest) -> None:
    """Objects added in one request each get a distinct date_added: added_after paging is exact."""
    h = shared_hub
    sent = [indicator() for _ in range(17)]
    assert post(h, "advisories", "gov", {"objects": sent}).json["success_count"] == 17
    got: list[str] = []
    added_after = None
    while True:
        params = {"limit": "4", "match[type]": "indicator"}
        if added_after:
            params["added_after"] = added_after
        r = h.http.get(h.collection_url("advisories", "objects"), query_string=params, headers=h.auth("alice"))
        assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
        objs = r.json.get("objects", [])
        if not objs:
            assert "X-TAXII-Date-Added-First" not in r.headers
            break
        assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]
        got += [o["id"] for o in objs]
        added_after = r.headers["X-TAXII-Date-Added-Last"]
    assert got[-17:] == [o["id"] for o in sent]
    assert len(got) == len(set(got))


def test_same_next_token_gives_same_page_and_both_url_forms_work(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    post(h, "reports", "alice", {"objects": [indicator() for _ in range(8)]})
    url = h.collection_url("reports", "objects")
    token = h.http.get(url, query_string={"limit": "3"}, headers=h.auth("gov")).json["next"]
    a = h.http.get(url, query_string={"limit": "3", "next": token}, headers=h.auth("gov"))
    b = h.http.get(url.rstrip("/"), query_string={"limit": "3", "next": token}, headers=h.auth("gov"))
    assert a.status_code == b.status_code == 200
    assert a.get_data() == b.get_data()


@pytest.mark.parametrize("accept,status", [
    (None, 200), ("*/*", 200), ("application/taxii+json", 200), (TAXII, 200),
    ("application/*", 200), ("text/html, application/taxii+json;version=2.1", 200),
    ("application/taxii+json;version=2.0", 406), ("text/html", 406),
])
def test_content_negotiation(shared_hub: HubUnderTest, accept: str | None, status: int) -> None:
    headers = shared_hub.auth("alice")
    if accept is not None:
        headers["Accept"] = accept
    r = shared_hub.http.get(shared_hub.api + "/collections/", headers=headers)
    assert r.status_code == status
    assert r.headers["Content-Type"] == TAXII
    if status != 200:
        assert r.json["http_status"] == str(status)


def test_auth_forms(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    url = h.api + "/collections/"
    token = h.tokens["alice"]
    basic = base64.b64encode(f"alice:{token}".encode()).decode()
    assert h.http.get(url, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert h.http.get(url, headers={"Authorization": f"Token {token}"}).status_code == 200
    for headers in ({}, {"Authorization": "Bearer ahub_wrong"}, {"Authorization": "Basic !!!"},
                    {"Authorization": "Digest abc"}):
        r = h.http.get(url, headers=headers)
        assert r.status_code == 401, headers
        assert "Bearer" in r.headers["WWW-Authenticate"] and "Basic" in r.headers["WWW-Authenticate"]
        assert r.json["title"]
    assert h.http.get("/taxii2/").status_code == 200  # public discovery


BAD_REQUESTS = [
    # (description, method, path suffix, params, body, headers, status, fragment of description)
    ("malformed JSON", "POST", "objects", {}, b'{"objects": [', {}, 400, "not valid JSON"),
    ("not an envelope", "POST", "objects", {}, b'[1, 2]', {}, 422, "envelope"),
    ("objects not a list", "POST", "objects", {}, b'{"objects": {}}', {}, 422, "must be a list"),
    ("no objects member", "POST", "objects", {}, b'{"more": false}', {}, 422, "no 'objects'"),
    ("wrong content type", "POST", "objects", {}, b'{"objects": []}', {"Content-Type": "application/json"}, 415,
     "not supported"),
    ("TAXII 2.0 content type", "POST", "objects", {}, b'{"objects": []}',
     {"Content-Type": "application/taxii+json;version=2.0"}, 415, "not supported"),
    ("bad added_after", "GET", "objects", {"added_after": "yesterday"}, None, {}, 400, "added_after"),
    ("impossible date", "GET", "objects", {"added_after": "2026-02-30T00:00:00Z"}, None, {}, 400, "added_after"),
    ("negative limit", "GET", "objects", {"limit": "-5"}, None, {}, 400, "limit"),
    ("non-numeric limit", "GET", "objects", {"limit": "ten"}, None, {}, 400, "limit"),
    ("forged next", "GET", "objects", {"next": "not-a-token"}, None, {}, 400, "next"),
    ("next of another query", "GET", "objects",
     {"next": base64.urlsafe_b64encode(b'[1,5,"ffffffffffff"]').decode().rstrip("=")}, None, {}, 400, "different query"),
    ("bad match[version]", "GET", "objects", {"match[version]": "newest"}, None, {}, 400, "match[version]"),
    ("bad match[type]", "GET", "objects", {"match[type]": "Not A Type"}, None, {}, 400, "match[type]"),
    ("bad match[id]", "GET", "objects", {"match[id]": "indicator--123"}, None, {}, 400, "match[id]"),
    ("bad match[spec_version]", "GET", "manifest", {"match[spec_version]": "two"}, None, {}, 400, "spec_version"),
    ("unknown collection", "GET", "../00000000-0000-4000-8000-000000000000/objects", {}, None, {}, 404, "no collection"),
    ("unknown route", "GET", "nothing-here", {}, None, {}, 404, ""),
    ("method not allowed", "PUT", "objects", {}, None, {}, 405, ""),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_input_gets_a_taxii_error_and_stores_nothing(shared_hub: HubUnderTest, case: tuple) -> None:
    _, method, suffix, params, body, extra, status, fragment = case
    h = shared_hub
    before = count(h, "private")
    url = f"{h.api}/collections/{h.collections['private']}/{suffix}/"
    if suffix.startswith("../"):  # the test client does not resolve dot segments as a browser does
        url = f"{h.api}/collections/{suffix[3:]}/"
    headers = {"Content-Type": TAXII, **h.auth("alice"), **extra}
    r = h.http.open(url, method=method, query_string=params, data=body, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == TAXII
    err = r.json
    assert err["http_status"] == str(status) and err["title"]
    assert fragment in err.get("description", "")
    assert count(h, "private") == before


def test_oversized_body_is_413_and_stores_nothing(shared_hub: HubUnderTest) -> None:
    before = count(shared_hub, "private")
    big = {"objects": [indicator(description="x" * 2000) for _ in range(40)]}  # > 64 KiB
    r = post(shared_hub, "private", "alice", big)
    assert r.status_code == 413
    assert r.json["http_status"] == "413" and "max_content_length" in r.json["description"]
    assert "65536" in r.json["description"]
    assert count(shared_hub, "private") == before


def test_invalid_objects_are_reported_one_by_one_and_valid_ones_kept(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    good = indicator()
    bad = [
        ({"id": "not-stix--1"}, "type"),
        ({**indicator(), "id": "malware--6b1f7c59-1d23-4d45-8c4e-61ad4e1b0c0e"}, "does not match type"),
        ({**indicator(), "spec_version": "2.0"}, "spec_version"),
        ({**indicator(), "created": "2026-01-02T00:00:00Z", "modified": "2026-01-01T00:00:00Z"}, "earlier than created"),
        ({**indicator(), "modified": "01/01/2026"}, "not a STIX timestamp"),
        ("just a string", "must be a JSON object"),
    ]
    r = post(h, "private", "alice", {"objects": [good] + [b for b, _ in bad]})
    assert r.status_code == 202
    st = r.json
    assert st["success_count"] == 1 and st["failure_count"] == len(bad)
    for failure, (_, fragment) in zip(st["failures"], bad, strict=True):
        assert fragment in failure["message"]
    # The status is the submitter's: alice can read it, gov cannot, the operator can.
    status_url = f"{h.api}/status/{st['id']}/"
    assert h.http.get(status_url, headers=h.auth("alice")).json["failure_count"] == len(bad)
    assert h.http.get(status_url, headers=h.auth("gov")).status_code == 404
    assert h.http.get(status_url, headers=h.auth("ops")).status_code == 200
    # Posting the same object again is a success, not a duplicate.
    again = post(h, "private", "alice", {"objects": [good]}).json
    assert again["success_count"] == 1 and "already stored" in again["successes"][0]["message"]


def test_match_filters_repeated_and_comma_separated(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    a, b, c = indicator(), indicator(), indicator()
    post(h, "private", "alice", {"objects": [a, b, c]})
    url = h.collection_url("private", "objects")
    repeated = h.http.get(url, query_string=[("match[id]", a["id"]), ("match[id]", c["id"])],
                            headers=h.auth("alice")).json
    comma = h.http.get(url, query_string={"match[id]": f"{a['id']},{c['id']}"}, headers=h.auth("alice")).json
    assert sorted(o["id"] for o in repeated["objects"]) == sorted([a["id"], c["id"]])
    assert repeated == comma


def test_page_size_is_clamped_to_the_maximum(shared_hub: HubUnderTest) -> None:
    h = shared_hub
    post(h, "private", "alice", {"objects": [indicator() for _ in range(60)]})
    url = h.collection_url("private", "objects")
    for limit in ("1000", "51", "9" * 40):  # above the maximum of 50, however far
        body = h.http.get(url, query_string={"limit": limit}, headers=h.auth("alice")).json
        assert len(body["objects"]) == 50 and body["more"] is True, limit
    default = h.http.get(url, headers=h.auth("alice")).json
    assert len(default["objects"]) == 5


# -- the plain-JSON endpoints: keys/, pseudonyms/, correlations/ negotiate on their own types ----

@pytest.mark.parametrize("accept,content_type", [
    (None, JWK_SET), (JWK_SET, JWK_SET), ("application/json", "application/json"),
    ("*/*", JWK_SET), ("application/*", JWK_SET), (TAXII, JWK_SET),
    ("text/html, application/json", "application/json"),
    (f"application/json;q=0.5, {JWK_SET}", "application/json"),  # first listed wins
    (f"{JWK_SET};q=0, application/json", "application/json"),
    # What hub.client.verify sends, and what requests sends by default.
    ("application/jwk-set+json, application/json;q=0.9, */*;q=0.1", JWK_SET),
])
def test_keys_answer_json_types(shared_hub: HubUnderTest, accept: str | None, content_type: str) -> None:
    headers = {} if accept is None else {"Accept": accept}
    r = shared_hub.http.get(shared_hub.api + "/keys/", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == content_type
    assert isinstance(orjson.loads(r.get_data())["keys"], list)


@pytest.mark.parametrize("accept", ["text/html", "application/xml", f"{JWK_SET};q=0",
                                    "text/plain, application/jose+json"])
def test_keys_refuse_other_types_naming_the_acceptable_ones(shared_hub: HubUnderTest, accept: str) -> None:
    r = shared_hub.http.get(shared_hub.api + "/keys/", headers={"Accept": accept})
    assert r.status_code == 406
    body = r.json
    assert body["http_status"] == "406"
    for acceptable in (JWK_SET, "application/json", "*/*"):
        assert acceptable in body["description"], body["description"]


@pytest.mark.parametrize("accept,status", [
    (None, 200), ("application/json", 200), ("*/*", 200), (TAXII, 200),
    ("text/html, application/json", 200), ("text/html", 406), (JWK_SET, 406),
])
def test_correlations_and_pseudonyms_answer_application_json(
        shared_hub: HubUnderTest, accept: str | None, status: int) -> None:
    h = shared_hub
    headers = h.auth("alice") | ({} if accept is None else {"Accept": accept})
    r = h.http.get(h.api + "/correlations/", query_string={"pseudonym": "hmac-sha256:k1:" + "0" * 64},
                     headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    p = h.http.post(h.api + "/pseudonyms/", json={"values": [{"kind": "name", "value": "x y"}]}, headers=headers)
    assert p.status_code == status, p.get_data(as_text=True)
    if status == 200:
        assert r.headers["Content-Type"] == p.headers["Content-Type"] == "application/json"
    else:
        assert "application/json" in r.json["description"] and "*/*" in r.json["description"]


def test_taxii_endpoints_still_refuse_plain_json(shared_hub: HubUnderTest) -> None:
    r = shared_hub.http.get(shared_hub.api + "/collections/",
                              headers={**shared_hub.auth("alice"), "Accept": "application/json"})
    assert r.status_code == 406 and r.headers["Content-Type"] == TAXII
