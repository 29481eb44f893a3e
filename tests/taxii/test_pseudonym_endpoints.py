"""POST pseudonyms/ and GET correlations/, in-process on every store.

Two providers report the same card and phone from different sign-ups; the hub's pseudonyms make
the reports match without either value leaving a provider, and each party sees only the matches
in collections it may read. What needs real processes (the key made by ``abusehub serve``, the
operator's CLI, two workers seeing a rotation) is in test_pseudonym_server.py.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import TestResponse

from hub.pseudonyms import PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import build_report
from hub.taxii.negotiation import TAXII_21
from tests import factories as f
from tests.harness import BACKENDS, HubUnderTest

PER_MINUTE = 40
PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "flood": "provider"}
GRANTS = {
    "alice-reports": {"alice": (True, True), "gov": (True, False)},
    "bob-reports": {"bob": (True, True), "gov": (True, False)},
}
TOML = f"[taxii]\nmax_content_length = 262144\n[pseudonyms]\nper_minute = {PER_MINUTE}\n"
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module", params=BACKENDS)
def h(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    """One hub per backend for the module: the parties above, a pseudonym allowance of 40 a minute."""
    with HubUnderTest.build(tmp_path_factory.mktemp("pseudonyms"), backend=str(request.param), toml=TOML,
                            parties=PARTIES, grants=GRANTS) as built:
        yield built


def _post(h: HubUnderTest, party: str | None, body: Any, **headers: str) -> TestResponse:
    hdrs = dict(h.auth(party)) if party else {}
    hdrs.update(headers)
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    hdrs.setdefault("Content-Type", "application/json")
    return h.http.post(f"{h.api}/pseudonyms/", data=data, headers=hdrs)


def _correlate(h: HubUnderTest, party: str | None, query: Any) -> TestResponse:
    return h.http.get(f"{h.api}/correlations/", query_string=query, headers=h.auth(party) if party else {})


def _secrets(h: HubUnderTest) -> list[str]:
    return list(json.loads(h.hub.pseudonyms.path.read_text())["keys"].values())


class EndpointPseudonymiser:
    """What an analyst's tool does: ask the hub for each pseudonym (hub.pseudonyms.Pseudonymiser)."""

    def __init__(self, h: HubUnderTest, party: str) -> None:
        self.h, self.party = h, party

    def pseudonym(self, kind: str, value: str) -> str:
        resp = _post(self.h, self.party, {"values": [{"kind": kind, "value": value}]})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return str(resp.json["pseudonyms"][0]["pseudonym"])


def _report(h: HubUnderTest, party: str, account_id: str, personal: dict[str, str], resource: str,
            **extra: Any) -> list[dict[str, Any]]:
    facts = f.report_facts(h.identities[party], account_id, personal=personal, resources=[resource], **extra)
    return build_report(facts, EndpointPseudonymiser(h, party))


def _submit(h: HubUnderTest, party: str, alias: str, objects: list[dict[str, Any]]) -> None:
    resp = h.http.post(h.collection_url(alias, "objects"), data=json.dumps({"objects": objects}),
                         headers={**h.auth(party), "Content-Type": TAXII_21, "Accept": TAXII_21})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    status = resp.json
    assert status["success_count"] == len(objects), status.get("failures")


def _account_ext(objects: list[dict[str, Any]]) -> dict[str, Any]:
    account = next(o for o in objects if o["type"] == "user-account")
    ext: dict[str, Any] = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    return ext


def test_contract(h: HubUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    values = [{"kind": "email", "value": "Alice.Smith@Example.com"},
              {"kind": "phone", "value": "+1 (415) 555-2671"},
              {"kind": "provider_account", "value": f"{h.identities['alice']}/acct-1"},
              {"kind": "email", "value": "alice.smith@example.com"}]
    with caplog.at_level("DEBUG"):
        resp = _post(h, "alice", {"values": values})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json
    assert set(body) == {"key_version", "pseudonyms"}
    assert [p["kind"] for p in body["pseudonyms"]] == [v["kind"] for v in values]  # request order
    for p in body["pseudonyms"]:
        assert set(p) == {"kind", "pseudonym", "all_versions"}
        assert re.fullmatch(r"hmac-sha256:[A-Za-z0-9_.-]+:[0-9a-f]{64}", p["pseudonym"])
        assert p["pseudonym"].split(":")[1] == body["key_version"]
        assert p["all_versions"][0] == p["pseudonym"]
        assert all(PSEUDONYM_RE.match(x) for x in p["all_versions"])
    # Normalised before keying: the same mailbox written two ways is one pseudonym.
    assert body["pseudonyms"][0]["pseudonym"] == body["pseudonyms"][3]["pseudonym"]
    # The same values from another party, sent as TAXII JSON, give the same pseudonyms.
    again = _post(h, "bob", {"values": values}, **{"Content-Type": TAXII_21, "Accept": "application/json"})
    assert again.status_code == 200 and again.json == body
    # Nothing of the request, and no key, comes back or reaches the log.
    text = resp.get_data(as_text=True) + caplog.text
    for v in values:
        assert v["value"] not in text
    for secret in _secrets(h):
        assert secret not in text


def test_the_key_is_made_on_first_use_and_private(h: HubUnderTest) -> None:
    assert _post(h, "alice", {"values": [{"kind": "name", "value": "Ann Example"}]}).status_code == 200
    assert stat.S_IMODE(h.hub.pseudonyms.path.stat().st_mode) == 0o600


@pytest.mark.parametrize("path", ["pseudonyms", "correlations"])
def test_401_without_a_valid_token(h: HubUnderTest, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer ahub_not-a-token"}):
        if path == "pseudonyms":
            resp = h.http.post(f"{h.api}/pseudonyms/", headers=headers,
                                 json={"values": [{"kind": "email", "value": "a@b.example"}]})
        else:
            resp = h.http.get(f"{h.api}/correlations/", headers=headers,
                                query_string={"pseudonym": "hmac-sha256:k1:" + "0" * 64})
        assert resp.status_code == 401
        assert "WWW-Authenticate" in resp.headers
        assert resp.json["http_status"] == "401"


@pytest.mark.parametrize("body,status,fragment", [
    (b"{not json", 400, "not valid JSON"),
    ({"vals": []}, 400, '{"values"'),
    ({"values": []}, 400, "non-empty list"),
    ({"values": [{"kind": "email"}]}, 400, "values[0]"),
    ({"values": [{"kind": "email", "value": "a@b.example"}, {"kind": "phone", "value": "555 0199 22"}]},
     400, "values[1] (phone)"),
    ({"values": [{"kind": "payment_instrument", "value": "4111 1111 1111 1112"}]}, 400, "Luhn"),
    ({"values": [{"kind": "mallory@example.net", "value": "x"}]}, 400, "values[0].kind must be one of"),
    ({"values": [{"kind": "email", "value": "a@b.example"}] * 101}, 400, "at most 100"),
])
def test_bad_requests_name_the_item_not_the_value(h: HubUnderTest, body: Any, status: int, fragment: str) -> None:
    resp = _post(h, "alice", body)
    assert resp.status_code == status, resp.get_data(as_text=True)
    error = resp.json
    assert error["http_status"] == str(status) and fragment in error["description"]
    for raw in ("555 0199 22", "4111 1111 1111 1112", "mallory@example.net", "a@b.example"):
        assert raw not in resp.get_data(as_text=True)


def test_media_types(h: HubUnderTest) -> None:
    ok = {"values": [{"kind": "name", "value": "Ann Example"}]}
    assert _post(h, "alice", ok, **{"Content-Type": "text/plain"}).status_code == 415
    assert _post(h, "alice", ok, **{"Content-Type": "application/taxii+json;version=2.0"}).status_code == 415
    assert _post(h, "alice", ok, Accept="text/html").status_code == 406
    assert _post(h, "alice", ok, Accept="*/*").status_code == 200


@pytest.mark.parametrize("query,fragment", [
    ({}, "at least one pseudonym"),
    ({"pseudonym": "mallory@example.net"}, "pseudonym[0] is not a pseudonym"),
    ([("pseudonym", "hmac-sha256:k1:" + "a" * 64), ("pseudonym", "hmac-sha256:k1:" + "A" * 64)], "pseudonym[1]"),
    ({"pseudonym": ",".join(f"hmac-sha256:k1:{i:064x}" for i in range(25))}, "at most 24"),
    ({"pseudonym": "poprf-r255:k1:" + "a" * 64}, "'poprf-r255:<key version>:<128 hex>' or "
                                                 "'hmac-sha256:<key version>:<64 hex>'"),
    ({"pseudonyms": "hmac-sha256:k1:" + "a" * 64}, "unknown query parameter"),
])
def test_bad_correlation_queries(h: HubUnderTest, query: Any, fragment: str) -> None:
    resp = _correlate(h, "gov", query)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert fragment in resp.json["description"] and "mallory@example.net" not in resp.get_data(as_text=True)


def test_two_providers_reports_are_linked_for_who_may_read_both(h: HubUnderTest) -> None:
    # Same card and phone, written differently at two providers' sign-up forms.
    alice = _report(h, "alice", "A-1001", {"phone": "(415) 555-2671", "payment_instrument": CARD},
                    "203.0.113.77", declared_country="US")
    bob = _report(h, "bob", "88231", {"phone": "+14155552671", "payment_instrument": "4111-1111-1111-1111",
                                      "email": "throwaway@example.org"}, "198.51.100.77")
    a_ext, b_ext = _account_ext(alice), _account_ext(bob)
    assert a_ext["pseudonyms"]["phone"] == b_ext["pseudonyms"]["phone"]
    assert a_ext["pseudonyms"]["payment_instrument"] == b_ext["pseudonyms"]["payment_instrument"]
    assert a_ext["provider_account_pseudonym"] != b_ext["provider_account_pseudonym"]
    _submit(h, "alice", "alice-reports", alice)
    _submit(h, "bob", "bob-reports", bob)
    phone, card = a_ext["pseudonyms"]["phone"], a_ext["pseudonyms"]["payment_instrument"]
    alice_report, bob_report = alice[-1]["id"], bob[-1]["id"]
    alice_account = next(o["id"] for o in alice if o["type"] == "user-account")

    resp = _correlate(h, "gov", {"pseudonym": phone})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    rows = resp.json["correlations"]
    assert {(r["collection"], r["report"]) for r in rows} == {
        (h.collections["alice-reports"], alice_report), (h.collections["bob-reports"], bob_report)}
    assert all(set(r) == {"pseudonym", "collection", "account", "report"} and r["pseudonym"] == phone for r in rows)

    # Comma-separated and repeated parameters: one row per (pseudonym, report).
    both = _correlate(h, "gov", [("pseudonym", f"{phone},{card}"), ("pseudonym", phone)]).json["correlations"]
    assert len(both) == 4 and {r["pseudonym"] for r in both} == {phone, card}

    only_alice = _correlate(h, "alice", {"pseudonym": f"{phone},{card}"}).json["correlations"]
    assert {(r["report"], r["account"]) for r in only_alice} == {(alice_report, alice_account)}
    only_bob = _correlate(h, "bob", {"pseudonym": phone}).json["correlations"]
    assert [r["report"] for r in only_bob] == [bob_report]
    # A party that may read neither collection learns nothing, not even that reports exist.
    assert _correlate(h, "flood", {"pseudonym": phone}).json == {"correlations": []}


def test_rate_limit_gives_429_with_retry_after(h: HubUnderTest) -> None:
    batch = {"values": [{"kind": "email", "value": f"user{i}@example.org"} for i in range(PER_MINUTE)]}
    first = _post(h, "flood", batch)
    assert first.status_code == 200  # a whole minute's allowance in one request
    resp = _post(h, "flood", batch)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json["http_status"] == "429" and "try again" in resp.json["description"]
    # Other parties keep their own allowance.
    assert _post(h, "alice", {"values": [{"kind": "name", "value": "Ann Example"}]}).status_code == 200
    # More than a minute's allowance in one request can never pass: 400, not a retry loop.
    too_many = {"values": batch["values"] + [{"kind": "name", "value": "Ann Example"}]}
    assert _post(h, "flood", too_many).status_code == 400


def test_rotation_keeps_old_pseudonyms_matchable(h: HubUnderTest) -> None:
    email = {"kind": "email", "value": "rotating@example.org"}
    before = _post(h, "alice", {"values": [email]}).json
    old = before["pseudonyms"][0]["pseudonym"]
    reported = _report(h, "alice", "A-2002", {"email": email["value"]}, "203.0.113.99")
    assert _account_ext(reported)["pseudonyms"]["email"] == old
    _submit(h, "alice", "alice-reports", reported)

    version, _versions = h.hub.pseudonyms.rotate()  # what `abusehub pseudonym rotate` calls
    after = _post(h, "alice", {"values": [email]}).json
    new = after["pseudonyms"][0]
    assert after["key_version"] == version != before["key_version"]
    assert new["pseudonym"] != old and new["all_versions"][0] == new["pseudonym"]
    assert old in new["all_versions"]

    # The new pseudonym alone matches nothing yet; all versions find the earlier report.
    assert _correlate(h, "alice", {"pseudonym": new["pseudonym"]}).json["correlations"] == []
    rows = _correlate(h, "alice", {"pseudonym": ",".join(new["all_versions"])}).json["correlations"]
    assert [(r["pseudonym"], r["report"]) for r in rows] == [(old, reported[-1]["id"])]


def test_the_largest_correlation_query_fits_in_a_request_line(h: HubUnderTest) -> None:
    # The longest pseudonyms (oblivious, a 6-character key version), as many as allowed, each a
    # parameter of its own: the request line stays under gunicorn's limit_request_line (4094).
    many = [("pseudonym", f"poprf-r255:k12345:{i:0128x}") for i in range(24)]
    resp = _correlate(h, "gov", many)
    assert resp.status_code == 200 and resp.json == {"correlations": []}
    line = f"GET {h.api}/correlations/?" + "&".join(f"{k}={v}" for k, v in many) + " HTTP/1.1"
    assert len(line) < 4094
