"""TAXII 2.1 conformance and hostile input, in-process on every store.

Each case was a 500, a wrong status or a spec violation once: malformed query parameters
(section 3.4: "MUST return an HTTP 400"), forged paging tokens, values in the URL path that
cannot be ids, 405 without ``Allow``, empty lists in resources (section 2: "Empty lists are
prohibited"), and discovery URLs taken from the client's Host header (section 4.1.1).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.conftest import HubFactory
from tests.factories import indicator, ts
from tests.harness import HubUnderTest

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(autouse=True)
def no_unexpected_error(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """None of these requests may reach the handler of unexpected errors (which logs a 500)."""
    yield
    assert "unexpected error" not in caplog.text


@pytest.fixture(scope="module")
def oid(shared_hub: HubUnderTest) -> str:
    """A three-version object and a few more objects in 'reports', so that pages have a next."""
    h = shared_hub
    stix_id = "indicator--0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11"
    objects = [indicator(id=stix_id, modified=ts(s)) for s in (1, 2, 3)] + [indicator() for _ in range(6)]
    r = h.http.post(h.collection_url("reports", "objects"), data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **h.auth("alice")})
    assert r.status_code == 202 and r.json["success_count"] == len(objects)
    return stix_id


def _error(r: Any, status: int, *fragments: str) -> dict[str, Any]:
    """``r`` is a TAXII error message with ``status`` whose description has every fragment."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == TAXII
    body: dict[str, Any] = r.json
    assert body["http_status"] == str(status) and body["title"]
    for fragment in fragments:
        assert fragment in body["description"], body["description"]
    return body


# -- limit (section 3.4: "a positive integer greater than zero") ---------------------------------

@pytest.mark.parametrize("limit", ["²", "٣", "0", "000", "-1", "+5", "1.5", "1e3", "", " ", "5 5", "0x10", "\x00"])
def test_limit_must_be_a_positive_whole_number(shared_hub: HubUnderTest, oid: str, limit: str) -> None:
    r = shared_hub.http.get(shared_hub.collection_url("reports", "objects"), query_string={"limit": limit},
                              headers=shared_hub.auth("alice"))
    _error(r, 400, "'limit'", "positive whole number")


@pytest.mark.parametrize("limit,expected", [("1", 1), ("007", 7), ("51", 50), ("9" * 5000, 50)])
def test_limit_is_honoured_up_to_the_maximum_page_size(shared_hub: HubUnderTest, oid: str, limit: str,
                                                      expected: int) -> None:
    h = shared_hub
    h.http.post(h.collection_url("reports", "objects"),
                  data=orjson.dumps({"objects": [indicator() for _ in range(50)]}),
                  headers={"Content-Type": TAXII, **h.auth("alice")})
    r = h.http.get(h.collection_url("reports", "objects"), query_string={"limit": limit}, headers=h.auth("alice"))
    assert r.status_code == 200 and len(r.json["objects"]) == expected
    m = h.http.get(h.collection_url("reports", "manifest"), query_string={"limit": limit}, headers=h.auth("alice"))
    assert m.status_code == 200 and len(m.json["objects"]) == expected


@pytest.mark.parametrize("name,value", [("limit", "2"), ("added_after", "2026-01-01T00:00:00Z"), ("next", "x")])
def test_single_valued_parameters_given_twice_are_refused(shared_hub: HubUnderTest, name: str, value: str) -> None:
    r = shared_hub.http.get(shared_hub.collection_url("reports", "objects"),
                              query_string=[(name, value), (name, value)], headers=shared_hub.auth("alice"))
    _error(r, 400, f"'{name}'", "once")


# -- next: a forged token is a 400, whatever number it holds ------------------------------------

def _forge(token: str, key: object) -> str:
    version, _key, fp = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw = f"[{version},{orjson.dumps(key).decode() if not isinstance(key, int) else key},\"{fp}\"]"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("endpoint", ["objects", "manifest", "object", "versions"])
@pytest.mark.parametrize("key", [2**63, 2**64 - 1, -(2**63) - 1, 10**40, True, 1.5, "5", None])
def test_forged_next_holding_any_value_is_a_400(shared_hub: HubUnderTest, oid: str, endpoint: str, key: object) -> None:
    h = shared_hub
    url = {"objects": h.collection_url("reports", "objects"), "manifest": h.collection_url("reports", "manifest"),
           "object": h.collection_url("reports", "objects", oid),
           "versions": h.collection_url("reports", "objects", oid, "versions")}[endpoint]
    params = {"limit": "1", "match[version]": "all"} if endpoint == "object" else {"limit": "1"}
    first = h.http.get(url, query_string=params, headers=h.auth("alice")).json
    assert first["more"] is True
    r = h.http.get(url, query_string={**params, "next": _forge(first["next"], key)}, headers=h.auth("alice"))
    _error(r, 400, "'next'", "not a paging token issued by this server")


def test_the_largest_and_smallest_64_bit_keys_are_accepted(shared_hub: HubUnderTest, oid: str) -> None:
    """The bound is the database's: the extreme values it holds are valid (and select nothing new)."""
    h = shared_hub
    url = h.collection_url("reports", "objects")
    token = h.http.get(url, query_string={"limit": "1"}, headers=h.auth("alice")).json["next"]
    last = h.http.get(url, query_string={"limit": "1", "next": _forge(token, 2**63 - 1)}, headers=h.auth("alice"))
    assert last.status_code == 200 and last.json == {"more": False}
    first = h.http.get(url, query_string={"limit": "1", "next": _forge(token, -(2**63))}, headers=h.auth("alice"))
    assert first.status_code == 200 and len(first.json["objects"]) == 1


def test_an_overlong_next_is_a_400(shared_hub: HubUnderTest) -> None:
    r = shared_hub.http.get(shared_hub.collection_url("reports", "objects"), query_string={"next": "A" * 100_000},
                              headers=shared_hub.auth("alice"))
    body = _error(r, 400, "'next'")
    assert "AAAA" not in body["description"]


# -- values in the URL path that cannot be ids ---------------------------------------------------

HOSTILE = ["a\x00b", "\x00", "a\x01b", "a\x7fb", "a\u2028b", "x" * 201]


@pytest.mark.parametrize("value", HOSTILE, ids=["nul", "only-nul", "soh", "del", "line-sep", "too-long"])
@pytest.mark.parametrize("method,suffix", [("GET", ""), ("GET", "objects/"), ("POST", "objects/"),
                                           ("GET", "manifest/"),
                                           ("GET", "objects/indicator--0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11/"),
                                           ("DELETE", "objects/indicator--0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11/")])
def test_a_collection_id_that_cannot_be_one_is_404(shared_hub: HubUnderTest, value: str, method: str, suffix: str) -> None:
    h = shared_hub
    r = h.http.open(f"{h.api}/collections/{value}/{suffix}", method=method, data=b'{"objects": []}',
                      headers={"Content-Type": TAXII, **h.auth("alice")})
    body = _error(r, 404, "no collection")
    assert len(body["description"]) < 200  # a long value is not echoed whole


@pytest.mark.parametrize("value", [*HOSTILE, "not-a-uuid", "0B7E6F3E-6A1D-4A53-9D6E-0F6C4E9B1A11"])
def test_a_status_id_that_cannot_be_one_is_404(shared_hub: HubUnderTest, value: str) -> None:
    r = shared_hub.http.get(f"{shared_hub.api}/status/{value}/", headers=shared_hub.auth("alice"))
    _error(r, 404, "no status")


@pytest.mark.parametrize("value", [*HOSTILE, "indicator--123", "indicator", "Indicator--0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11"])
@pytest.mark.parametrize("method,suffix", [("GET", ""), ("GET", "versions/"), ("DELETE", "")])
def test_an_object_id_that_cannot_be_one_is_404(shared_hub: HubUnderTest, value: str, method: str, suffix: str) -> None:
    h = shared_hub
    r = h.http.open(f"{h.collection_url('reports', 'objects')}{value}/{suffix}", method=method,
                      headers=h.auth("alice"))
    _error(r, 404, "no object", "STIX identifier")


# -- timestamps: never a 500, whatever the year -------------------------------------------------

BAD_TIMESTAMPS = ["0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "99999-12-31T23:59:59Z",
                  "2026-01-01T24:00:00Z", "2026-01-01T23:59:60Z", "2026-13-01T00:00:00Z",
                  "2026-01-01T00:00:00+01:00", "2026-01-01", "１９７０-01-01T00:00:00Z", "2026-01-01T00:00:00\x00Z"]


# An empty match[version] is no filter at all (values are comma-separated, blanks dropped).
@pytest.mark.parametrize("name,value", [("added_after", v) for v in [*BAD_TIMESTAMPS, ""]]
                         + [("match[version]", v) for v in BAD_TIMESTAMPS])
def test_bad_timestamps_are_400(shared_hub: HubUnderTest, oid: str, name: str, value: str) -> None:
    r = shared_hub.http.get(shared_hub.collection_url("reports", "objects"), query_string={name: value},
                              headers=shared_hub.auth("alice"))
    _error(r, 400, f"'{name}'")


@pytest.mark.parametrize("value,found", [("0001-01-01T00:00:00Z", True), ("1969-12-31T23:59:59.999999Z", True),
                                         ("9999-12-31T23:59:59.999999Z", False),
                                         ("2026-01-01T00:00:00." + "9" * 300 + "Z", True)])
def test_timestamps_at_the_ends_of_the_range_are_answered(shared_hub: HubUnderTest, oid: str, value: str,
                                                          found: bool) -> None:
    h = shared_hub
    for path in (h.collection_url("reports", "objects"), h.collection_url("reports", "manifest"),
                 h.collection_url("reports", "objects", oid, "versions")):
        r = h.http.get(path, query_string={"added_after": value}, headers=h.auth("alice"))
        if found or not path.endswith("versions/"):
            assert r.status_code == 200, (path, r.get_data(as_text=True))
            assert ("objects" in r.json or "versions" in r.json) == found, path
        else:
            assert r.status_code == 404  # no version of the object was added after the end of time


# -- 405 names the allowed methods (RFC 9110 section 15.5.6) -----------------------------------

OID = "indicator--0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11"
NOT_ALLOWED = [
    ("DELETE", "/taxii2/", {"GET"}),
    ("POST", "{api}/", {"GET"}),
    ("PUT", "{api}/status/0b7e6f3e-6a1d-4a53-9d6e-0f6c4e9b1a11/", {"GET"}),
    ("POST", "{api}/collections/", {"GET"}),
    ("DELETE", "{col}/", {"GET"}),
    ("POST", "{col}/manifest/", {"GET"}),
    ("PUT", "{col}/objects/", {"GET", "POST"}),
    ("PATCH", "{col}/objects/", {"GET", "POST"}),
    ("POST", "{col}/objects/" + OID + "/", {"GET", "DELETE"}),
    ("DELETE", "{col}/objects/" + OID + "/versions/", {"GET"}),
    ("POST", "{api}/keys/", {"GET"}),
    ("GET", "{api}/pseudonyms/", {"POST"}),
    ("POST", "{api}/correlations/", {"GET"}),
]


@pytest.mark.parametrize("method,path,allowed", NOT_ALLOWED, ids=[f"{m} {p}" for m, p, _ in NOT_ALLOWED])
def test_every_405_carries_allow(shared_hub: HubUnderTest, method: str, path: str, allowed: set[str]) -> None:
    h = shared_hub
    url = path.format(api=h.api, col=h.collection_url("reports").rstrip("/"))
    r = h.http.open(url, method=method, headers=h.auth("alice"))
    _error(r, 405)
    methods = {m.strip() for m in r.headers["Allow"].split(",")}
    assert allowed <= methods and method not in methods
    assert methods <= allowed | {"HEAD", "OPTIONS"}


# -- empty lists are omitted from every TAXII resource (section 2) ------------------------------

def test_a_party_that_sees_no_collection_gets_an_empty_collections_resource(client: Any, seeded: HubUnderTest) -> None:
    """Section 5.1.1: "If there are no Collections in the list, this key MUST be omitted, and the
    response is an empty object." The operator of the seeded hub holds no grants."""
    r = client.get(seeded.api + "/collections/", headers=seeded.auth("ops"))
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.get_data() == b"{}"
    listed = client.get(seeded.api + "/collections/", headers=seeded.auth("gov")).json["collections"]
    assert len(listed) == 2


def test_status_resources_omit_empty_lists(client: Any, seeded: HubUnderTest) -> None:
    url = seeded.collection_url("private", "objects")
    headers = {"Content-Type": TAXII, **seeded.auth("alice")}
    ok = client.post(url, data=orjson.dumps({"objects": [indicator()]}), headers=headers).json
    assert ok["success_count"] == 1 and len(ok["successes"]) == 1
    assert ok["failure_count"] == 0 and ok["pending_count"] == 0
    assert "failures" not in ok and "pendings" not in ok
    bad = client.post(url, data=orjson.dumps({"objects": [{"id": "nothing"}]}), headers=headers).json
    assert bad["failure_count"] == 1 and len(bad["failures"]) == 1
    assert bad["success_count"] == 0 and "successes" not in bad and "pendings" not in bad
    empty = client.post(url, data=orjson.dumps({"objects": []}), headers=headers)
    if empty.status_code == 202:  # an empty envelope may be accepted: then with no list at all
        body = empty.json
        assert body["total_count"] == 0
        assert not {"successes", "failures", "pendings"} & set(body)
    # The same resource, fetched again (section 4.3), omits the same lists.
    for status in (ok, bad):
        again = client.get(f"{seeded.api}/status/{status['id']}/", headers=seeded.auth("alice")).json
        assert again == status


def test_empty_pages_omit_their_lists(shared_hub: HubUnderTest, oid: str) -> None:
    h = shared_hub
    query = {"match[type]": "malware"}  # nothing of that type in the collection
    objects = h.http.get(h.collection_url("reports", "objects"), query_string=query, headers=h.auth("alice"))
    assert objects.status_code == 200 and objects.json == {"more": False}
    assert "X-TAXII-Date-Added-First" not in objects.headers
    manifest = h.http.get(h.collection_url("reports", "manifest"), query_string=query, headers=h.auth("alice"))
    assert manifest.status_code == 200 and manifest.json == {"more": False}


def test_no_taxii_resource_holds_an_empty_list(shared_hub: HubUnderTest, oid: str) -> None:
    """A walk over every resource the hub serves: no list in any of them is empty."""
    h = shared_hub

    def lists(value: Any) -> Iterator[list[Any]]:
        if isinstance(value, list):
            yield value
            for item in value:
                yield from lists(item)
        elif isinstance(value, dict):
            for item in value.values():
                yield from lists(item)

    for party in ("alice", "bob", "gov", "ops"):
        for path in ("/taxii2/", f"{h.api}/", f"{h.api}/collections/", h.collection_url("reports"),
                     h.collection_url("reports", "objects"), h.collection_url("reports", "manifest"),
                     h.collection_url("reports", "objects", oid), h.collection_url("reports", "objects", oid, "versions"),
                     h.collection_url("dropbox", "objects")):
            r = h.http.get(path, headers=h.auth(party))
            if r.headers.get("Content-Type") == TAXII and r.status_code < 400:
                assert all(lists(r.json)), (party, path, r.json)


# -- discovery names the API root from the configuration, never from the request ----------------

@pytest.mark.parametrize("headers", [{}, {"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example",
                                                                    "X-Forwarded-Proto": "https"}])
def test_discovery_without_public_url_is_relative(shared_hub: HubUnderTest, headers: dict[str, str]) -> None:
    r = shared_hub.http.get("/taxii2/", headers=headers)
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    body = r.json
    # Section 4.1.1: relative API root URLs "MUST begin with a single /".
    assert body["api_roots"] == ["/api/"] and body["default"] == "/api/"
    assert "evil" not in r.get_data(as_text=True)


@pytest.mark.parametrize("public_url,api_root,expected", [
    ("https://hub.example/", "feeds", "https://hub.example/feeds/"),
    ("https://hub.example:8443/abusehub", "api", "https://hub.example:8443/abusehub/api/"),
])
def test_discovery_with_public_url_is_absolute(hub_factory: HubFactory, public_url: str, api_root: str,
                                               expected: str) -> None:
    h = hub_factory(toml=f'[hub]\npublic_url = "{public_url}"\n[taxii]\napi_root = "{api_root}"\n')
    r = h.http.get("/taxii2/", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.json["api_roots"] == [expected] and r.json["default"] == expected
    # The API root is served where discovery says it is.
    assert h.http.get(f"/{api_root}/", headers=h.auth("alice")).status_code == 200
    assert h.http.get(f"/{api_root}/collections/", headers=h.auth("alice")).status_code == 200


def test_private_discovery_needs_a_token(hub_factory: HubFactory) -> None:
    h = hub_factory(toml="[taxii]\npublic_discovery = false\n")
    r = h.http.get("/taxii2/")
    _error(r, 401)
    assert "Basic" in r.headers["WWW-Authenticate"]
    assert h.http.get("/taxii2/", headers=h.auth("gov")).json["api_roots"] == ["/api/"]
