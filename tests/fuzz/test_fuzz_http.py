"""The HTTP fuzz tier: hostile and careless requests to every endpoint, on both stores.

Hypothesis builds each request from its parts (method, path with real or hostile ids, query
parameters, headers, body) and sends it to the real application in-process. Whatever it sends:

- the answer is never a 5xx;
- every error answer is a TAXII error body (a JSON object whose ``http_status`` is the status);
- nothing from a refused request is stored, and an accepted envelope stores exactly what its
  status resource says was stored.

The run is derandomised (the same requests every time, so CI is repeatable);
``HUB_TEST_FUZZ_REQUESTS`` sets how many requests per store (3,000 by default; ``make fuzz``
sends more with a random seed, ``make test-fast`` fewer).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.pseudonyms import oprf
from tests.fuzz.conftest import FUZZ_REQUESTS, FuzzHub

pytestmark = pytest.mark.fuzz

RANDOM_SEED = os.environ.get("HUB_TEST_FUZZ_RANDOM") == "1"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

# -- parts of a request -----------------------------------------------------------------------

#: Text a careless or hostile client puts where an id, a timestamp or a number belongs.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", " ", "\x00", "a\x00b", "%00", "２０２５", "²", "¹²", "٣", "-1", "0", "00", "1e9", "NaN",
        "9" * 30, str(2**53), str(2**63), str(2**64), "-" + "9" * 25, "0x10", " 5", "5 ",
        "1685-01-01T00:00:00Z", "2255-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00.0000000000000000000000000001Z",
        "２０２５-01-01T00:00:00.000Z", "2025-01-01T00:00:00+01:00", "2025-01-01",
        "indicator--" + str(uuid.uuid4()).upper(), "indicator--00000000-0000-0000-0000-000000000000",
        "indicator--" + "a" * 36, "x" * 300, "x" * 5000, "../../etc/passwd", "<script>", "'; DROP TABLE objects;--",
        "identity--\x00", "ahub_" + "A" * 43, "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ]),
)
HUGE_NUMBERS = st.sampled_from([2**53, 2**63, 2**64, 10**100, -(2**63) - 1, 1e308, -0.0, 0.1, 1.5e-300])

PARAM_NAMES = st.sampled_from([
    "limit", "next", "added_after", "match[id]", "match[type]", "match[version]",
    "match[spec_version]", "pseudonym", "x", "limit[]", "match[ID]",
])


def _next_token(key: Any) -> str:
    """A forged paging token around ``key`` (json: it writes integers of any size)."""
    raw = json.dumps([1, key, "000000000000"]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


PARAM_VALUES = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["last", "first", "all", "2.1", "2.0", "indicator", "report,indicator", "1", "50", "51"]),
    st.one_of(st.integers(), HUGE_NUMBERS, st.text(max_size=5)).map(_next_token),
)


def _json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), HUGE_NUMBERS, st.floats(allow_nan=False),
                       HOSTILE_TEXT)
    return st.recursive(leaves, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
        max_leaves=max_leaves)


INDICATOR_FIELDS = ["type", "spec_version", "id", "created", "modified", "name", "pattern", "pattern_type",
                    "valid_from", "valid_until", "created_by_ref", "object_marking_refs", "indicator_types",
                    "extensions", "labels", "confidence", "revoked", "external_references", "granular_markings"]


def _indicator(identity: str) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2025-03-01T00:00:00.000Z", "modified": "2025-03-01T00:00:00.000Z",
        "created_by_ref": identity, "name": "abused instance", "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
        "valid_from": "2025-03-01T00:00:00.000Z", "object_marking_refs": [TLP_GREEN],
    }


@st.composite
def stix_objects(draw: st.DrawFn, identity: str) -> Any:
    """A valid indicator, or one with a field replaced by something hostile."""
    obj = _indicator(identity)
    kind = draw(st.integers(min_value=0, max_value=9))
    if kind == 0:
        return obj
    if kind == 1:
        return draw(_json_values())
    name = draw(st.sampled_from(INDICATOR_FIELDS))
    if kind == 2:
        obj[name] = draw(_json_values(4))
    elif kind == 3:
        obj[name] = draw(HOSTILE_TEXT)
    elif kind == 4:
        obj.pop(name, None)
    elif kind == 5:
        depth = draw(st.sampled_from([50, 400, 2000]))
        obj["pattern"] = "(" * depth + "[ipv4-addr:value = '203.0.113.7']" + ")" * depth
    elif kind == 6:
        obj["modified"] = "2025-03-01T00:00:00." + "1" * draw(st.sampled_from([7, 40, 200])) + "Z"
    elif kind == 7:
        obj[name] = "a\x00b"
    elif kind == 8:
        nested: Any = "x"
        for _ in range(draw(st.sampled_from([100, 1000]))):
            nested = [nested]
        obj["x_nested"] = nested
    else:
        obj["extensions"] = {draw(HOSTILE_TEXT): draw(_json_values(4))}
    return obj


@st.composite
def bodies(draw: st.DrawFn, identity: str) -> bytes | None:
    kind = draw(st.integers(min_value=0, max_value=7))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.binary(max_size=64))
    if kind == 2:
        return _dumps(draw(_json_values()))
    if kind == 3:
        return b'{"objects": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    if kind == 4:
        return b'{"objects": [], "objects": 1, "more": ' + str(2**70).encode() + b"}"
    if kind == 5:
        return b'{"values": [{"kind": "email", "value": "a\\u0000b@example.com"}]}'
    objects = draw(st.lists(stix_objects(identity), min_size=1, max_size=4))
    envelope: Any = {"objects": objects} if kind != 6 else {"values": objects}
    return _dumps(envelope)


def _dumps(value: Any) -> bytes:
    """JSON text of ``value``; big integers and lone surrogates included (json writes both)."""
    return json.dumps(value).encode("utf-8", "surrogatepass")


ACCEPTS = st.sampled_from([None, "application/taxii+json;version=2.1", "application/taxii+json",
                           "application/taxii+json;version=2.0", "*/*", "text/html", "application/json",
                           "application/jwk-set+json", "garbage;;;q=x", "\x00"])
CONTENT_TYPES = st.sampled_from([None, "application/taxii+json;version=2.1", "application/json",
                                 "application/taxii+json;version=3", "text/plain", "multipart/form-data",
                                 "application/taxii+json; charset=latin-1"])
METHODS = st.sampled_from(["GET", "GET", "GET", "POST", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"])


ENDPOINTS = [
    ("GET", "/taxii2/"), ("GET", "/api/"), ("GET", "/api/collections/"), ("GET", "/api/collections/{c}/"),
    ("GET", "/api/collections/{c}/objects/"), ("POST", "/api/collections/{c}/objects/"),
    ("POST", "/api/collections/{c}/objects/"), ("POST", "/api/collections/{c}/objects/"),
    ("GET", "/api/collections/{c}/objects/{o}/"), ("DELETE", "/api/collections/{c}/objects/{o}/"),
    ("GET", "/api/collections/{c}/objects/{o}/versions/"), ("GET", "/api/collections/{c}/manifest/"),
    ("GET", "/api/status/{s}/"), ("GET", "/api/keys/"), ("POST", "/api/pseudonyms/"),
    ("GET", "/api/correlations/"),
    ("POST", "/api/pseudonyms/evaluate"), ("POST", "/api/pseudonyms/evaluate"), ("GET", "/api/pseudonyms/key"),
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/web/signin"), ("POST", "/web/signin"), ("GET", "/web/collections"),
    ("GET", "/web/pseudonyms/key"), ("POST", "/web/pseudonyms/evaluate"),
]
#: A valid blinded element (the same one every run: the fuzzing is of what surrounds it).
_BLINDED = base64.urlsafe_b64encode(oprf.blind(b"a@example.com", unsafe_blind=bytes([7]) + bytes(31))[1]
                                    ).rstrip(b"=").decode("ascii")
_HOSTILE_ELEMENTS = st.sampled_from(["", "AA", "A" * 43, "_" * 43, base64.urlsafe_b64encode(bytes(32)).decode(),
                                     _BLINDED + "=", _BLINDED.upper(), "%00", "\u0000"])
MUTATIONS = st.sampled_from(["collection", "object", "status", "param", "param", "param", "auth", "accept",
                             "content-type", "method", "body", "forwarded", "path"])


@st.composite
def requests(draw: st.DrawFn, h: FuzzHub) -> dict[str, Any]:
    """A valid request to one endpoint, then one to three hostile or careless changes."""
    method, template = draw(st.sampled_from(ENDPOINTS))
    ids = {"c": h.collections[draw(st.sampled_from(["reports", "reports", "signed", "dropbox"]))],
           "o": draw(st.sampled_from(h.object_ids)), "s": draw(st.sampled_from(h.status_ids))}
    party = draw(st.sampled_from(["alice", "alice", "bob", "gov", "ops"]))
    headers = {"Authorization": f"Bearer {h.tokens[party]}", "Accept": "application/taxii+json;version=2.1"}
    params: list[tuple[str, str]] = []
    body: bytes | None = None
    if template.endswith("/objects/") and method == "POST":
        headers["Content-Type"] = "application/taxii+json;version=2.1"
        body = _dumps({"objects": draw(st.lists(stix_objects(h.identities[party]), min_size=1, max_size=3))})
    elif template == "/api/pseudonyms/":
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        body = _dumps({"values": [{"kind": draw(st.sampled_from(["email", "phone", "provider_account"])),
                                   "value": draw(st.sampled_from(["a@example.com", "+1 415 555 2671",
                                                                  "acct-1"]))}]})
    elif template == "/api/correlations/":
        params.append(("pseudonym", "hmac-sha256:k1:" + "0" * 64))
    elif template == "/api/pseudonyms/evaluate":
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        element = draw(st.one_of(st.just(_BLINDED), _HOSTILE_ELEMENTS))
        groups = [{"kind": draw(st.sampled_from(["email", "phone", "name", "shoe-size"])),
                   "blinded": [element] * draw(st.sampled_from([1, 2, 101]))}]
        body = _dumps({"key_version": draw(st.sampled_from(["k1", "k9", "", 1])), "groups": groups})
    elif template.startswith("/web/"):
        headers["Accept"] = "text/html"
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = b"token=" + h.tokens[party].encode() + b"&csrf_token=x"
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        mutation = draw(MUTATIONS)
        if mutation in ("collection", "object", "status"):
            ids[mutation[0]] = draw(HOSTILE_TEXT)
        elif mutation == "param":
            params.append((draw(PARAM_NAMES), draw(PARAM_VALUES)))
        elif mutation == "auth":
            headers["Authorization"] = draw(st.sampled_from([
                "", "Bearer ", "Bearer ahub_nope", "Basic %%%", "Basic YWxpY2U=", "Basic w4k=", "Token x",
                "Negotiate abc", "Basic " + base64.b64encode(f"{party}:{h.tokens[party]}".encode()).decode(),
            ]))
        elif mutation == "accept":
            headers["Accept"] = draw(ACCEPTS) or ""
        elif mutation == "content-type":
            headers["Content-Type"] = draw(CONTENT_TYPES) or ""
        elif mutation == "method":
            method = draw(METHODS)
        elif mutation == "body":
            body = draw(bodies(h.identities[party]))
        elif mutation == "forwarded":
            headers[draw(st.sampled_from(["X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-For",
                                          "Host"]))] = draw(st.sampled_from(["https", "evil.example", "ftp",
                                                                             "a b", "", "1.2.3.4"]))
        else:
            template = draw(st.sampled_from([t for _, t in ENDPOINTS] + ["/api/nothing/", "/",
                                                                        "/api/collections/{c}/objects/{o}/x/"]))
    path = template.format(**{k: quote(v, safe="") for k, v in ids.items()})
    return {"method": method, "path": path, "headers": headers, "params": params, "body": body,
            "party": party}


# -- the properties ---------------------------------------------------------------------------


def _check_answer(h: FuzzHub, req: dict[str, Any], before: int) -> None:
    client = h.app.test_client()
    resp = client.open(req["path"], method=req["method"], headers=req["headers"],
                       query_string=req["params"], data=req["body"])
    what = f"{req['method']} {req['path']} params={req['params']!r} headers={req['headers']!r}"
    assert resp.status_code < 500, f"{resp.status_code} for {what}: {resp.data[:300]!r}"
    after = h.count()
    if resp.status_code >= 400 and req["path"].startswith("/web/"):
        # The web pages answer errors with an HTML page, not a TAXII error body.
        assert after == before, f"a refused request changed what is stored: {what}"
    elif resp.status_code >= 400:
        if req["method"] != "HEAD":
            body = orjson.loads(resp.data)
            assert isinstance(body, dict) and body.get("http_status") == str(resp.status_code), what
            assert isinstance(body.get("title"), str) and isinstance(body.get("description"), str), what
        if resp.status_code == 405:
            assert resp.headers.get("Allow"), f"405 without Allow for {what}"
        assert after == before, f"a refused request changed what is stored: {what}"
    elif req["method"] == "POST" and "/objects/" in req["path"] and resp.status_code == 202:
        status = orjson.loads(resp.data)
        stored = sum(1 for s in status.get("successes", []) if s.get("message") == "stored")
        assert after - before == stored, f"stored {after - before}, status says {stored}: {what}"
    elif req["method"] == "DELETE" and resp.status_code == 200:
        assert after <= before
    else:
        assert after == before, f"a read changed what is stored: {what}"


def test_no_request_gets_a_5xx_or_stores_what_was_refused(fuzz_hub: FuzzHub) -> None:
    h = fuzz_hub
    # The pseudonym endpoint's rate limit would answer 429 to most of the run: that is its
    # job, but it would hide what the endpoint does with the bodies behind it.
    h.hub.pseudonyms.limiter.capacity = float("inf")
    h.hub.pseudonyms.limiter.rate = float("inf")

    @settings(max_examples=FUZZ_REQUESTS, deadline=None, database=None, derandomize=not RANDOM_SEED,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(req=requests(h))
    def run(req: dict[str, Any]) -> None:
        _check_answer(h, req, h.count())

    run()
