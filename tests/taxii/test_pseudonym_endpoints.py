"""POST pseudonyms/ and GET correlations/ against a real two-worker server on loopback.

Two providers report the same card and phone from different sign-ups; the hub's pseudonyms make
the reports match without either value leaving a provider, and each party sees only the matches
in collections it may read.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from typing import Any, Iterator

import pytest
import requests

from hub.pseudonyms import PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import build_report
from hub.taxii.media import TAXII_21
from tests import factories as f
from tests.conftest import RunningHub, stop_server
from tests.taxii.conftest import seed

PER_MINUTE = 40
PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "flood": "provider"}
GRANTS = {
    "alice-reports": {"alice": (True, True), "gov": (True, False)},
    "bob-reports": {"bob": (True, True), "gov": (True, False)},
}
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = seed(tmp_path_factory.mktemp("hub"), parties=PARTIES, grants=GRANTS,
                   toml=f"[taxii]\nmax_content_length = 262144\n[pseudonyms]\nper_minute = {PER_MINUTE}\n")
    yield running
    stop_server(running)


def _post(server: RunningHub, party: str | None, body: Any, **headers: str) -> requests.Response:
    h = dict(server.auth(party)) if party else {}
    h.update(headers)
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    h.setdefault("Content-Type", "application/json")
    return requests.post(f"{server.api}/pseudonyms/", data=data, headers=h, timeout=30)


def _correlate(server: RunningHub, party: str | None, query: Any) -> requests.Response:
    return requests.get(f"{server.api}/correlations/", params=query,
                        headers=server.auth(party) if party else {}, timeout=30)


def _cli(server: RunningHub, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(server.home), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc


def _secrets(server: RunningHub) -> list[str]:
    return list(json.loads((server.home / "pseudonym-keys.json").read_text())["keys"].values())


class EndpointPseudonymiser:
    """What an analyst's tool does: ask the hub for each pseudonym (hub.pseudonyms.Pseudonymiser)."""

    def __init__(self, server: RunningHub, party: str) -> None:
        self.server, self.party = server, party

    def pseudonym(self, kind: str, value: str) -> str:
        resp = _post(self.server, self.party, {"values": [{"kind": kind, "value": value}]})
        assert resp.status_code == 200, resp.text
        return resp.json()["pseudonyms"][0]["pseudonym"]


def _report(server: RunningHub, party: str, account_id: str, personal: dict[str, str],
            resource: str, **extra: Any) -> list[dict[str, Any]]:
    facts = f.report_facts(server.identities[party], account_id, personal=personal,
                           resources=[resource], **extra)
    return build_report(facts, EndpointPseudonymiser(server, party))


def _submit(server: RunningHub, party: str, alias: str, objects: list[dict[str, Any]]) -> None:
    resp = requests.post(f"{server.api}/collections/{server.collections[alias]}/objects/",
                         data=json.dumps({"objects": objects}),
                         headers={**server.auth(party), "Content-Type": TAXII_21, "Accept": TAXII_21}, timeout=30)
    assert resp.status_code == 202, resp.text
    status = resp.json()
    assert status["success_count"] == len(objects), status["failures"]


def _account_ext(objects: list[dict[str, Any]]) -> dict[str, Any]:
    account = next(o for o in objects if o["type"] == "user-account")
    return account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]


def test_the_key_is_made_at_server_start_and_private(server: RunningHub) -> None:
    path = server.home / "pseudonym-keys.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_contract(server: RunningHub) -> None:
    values = [{"kind": "email", "value": "Alice.Smith@Example.com"},
              {"kind": "phone", "value": "+1 (415) 555-2671"},
              {"kind": "provider_account", "value": f"{server.identities['alice']}/acct-1"},
              {"kind": "email", "value": "alice.smith@example.com"}]
    resp = _post(server, "alice", {"values": values})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
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
    again = _post(server, "bob", {"values": values}, **{"Content-Type": TAXII_21, "Accept": "application/json"})
    assert again.status_code == 200 and again.json() == body
    # Nothing of the request, and no key, comes back or reaches the log.
    text = resp.text + server.read_log()
    for v in values:
        assert v["value"] not in text
    for secret in _secrets(server):
        assert secret not in text


@pytest.mark.parametrize("path", ["pseudonyms", "correlations"])
def test_401_without_a_valid_token(server: RunningHub, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer ahub_not-a-token"}):
        if path == "pseudonyms":
            resp = requests.post(f"{server.api}/pseudonyms/", headers=headers, timeout=30,
                                 json={"values": [{"kind": "email", "value": "a@b.example"}]})
        else:
            resp = requests.get(f"{server.api}/correlations/", params={"pseudonym": "hmac-sha256:k1:" + "0" * 64},
                                headers=headers, timeout=30)
        assert resp.status_code == 401
        assert "WWW-Authenticate" in resp.headers
        assert resp.json()["http_status"] == "401"


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
def test_bad_requests_name_the_item_not_the_value(server: RunningHub, body: Any, status: int, fragment: str) -> None:
    resp = _post(server, "alice", body)
    assert resp.status_code == status, resp.text
    error = resp.json()
    assert error["http_status"] == str(status) and fragment in error["description"]
    for raw in ("555 0199 22", "4111 1111 1111 1112", "mallory@example.net", "a@b.example"):
        assert raw not in resp.text


def test_media_types(server: RunningHub) -> None:
    ok = {"values": [{"kind": "name", "value": "Ann Example"}]}
    assert _post(server, "alice", ok, **{"Content-Type": "text/plain"}).status_code == 415
    assert _post(server, "alice", ok, **{"Content-Type": "application/taxii+json;version=2.0"}).status_code == 415
    assert _post(server, "alice", ok, Accept="text/html").status_code == 406
    assert _post(server, "alice", ok, Accept="*/*").status_code == 200


@pytest.mark.parametrize("query,fragment", [
    ({}, "at least one pseudonym"),
    ({"pseudonym": "mallory@example.net"}, "pseudonym[0] is not a pseudonym"),
    ({"pseudonym": ["hmac-sha256:k1:" + "a" * 64, "hmac-sha256:k1:" + "A" * 64]}, "pseudonym[1]"),
    ({"pseudonym": ",".join(f"hmac-sha256:k1:{i:064x}" for i in range(41))}, "at most 40"),
    ({"pseudonyms": "hmac-sha256:k1:" + "a" * 64}, "unknown query parameter"),
])
def test_bad_correlation_queries(server: RunningHub, query: dict[str, Any], fragment: str) -> None:
    resp = _correlate(server, "gov", query)
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["description"] and "mallory@example.net" not in resp.text


def test_two_providers_reports_are_linked_for_who_may_read_both(server: RunningHub) -> None:
    # Same card and phone, written differently at two providers' sign-up forms.
    alice = _report(server, "alice", "A-1001", {"phone": "(415) 555-2671", "payment_instrument": CARD},
                    "203.0.113.77", declared_country="US")
    bob = _report(server, "bob", "88231", {"phone": "+14155552671", "payment_instrument": "4111-1111-1111-1111",
                                           "email": "throwaway@example.org"}, "198.51.100.77")
    a_ext, b_ext = _account_ext(alice), _account_ext(bob)
    assert a_ext["pseudonyms"]["phone"] == b_ext["pseudonyms"]["phone"]
    assert a_ext["pseudonyms"]["payment_instrument"] == b_ext["pseudonyms"]["payment_instrument"]
    assert a_ext["provider_account_pseudonym"] != b_ext["provider_account_pseudonym"]
    _submit(server, "alice", "alice-reports", alice)
    _submit(server, "bob", "bob-reports", bob)
    phone, card = a_ext["pseudonyms"]["phone"], a_ext["pseudonyms"]["payment_instrument"]
    alice_report, bob_report = alice[-1]["id"], bob[-1]["id"]
    alice_account = next(o["id"] for o in alice if o["type"] == "user-account")

    resp = _correlate(server, "gov", {"pseudonym": phone})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    rows = resp.json()["correlations"]
    assert {(r["collection"], r["report"]) for r in rows} == {
        (server.collections["alice-reports"], alice_report), (server.collections["bob-reports"], bob_report)}
    assert all(set(r) == {"pseudonym", "collection", "account", "report"} and r["pseudonym"] == phone for r in rows)

    # Comma-separated and repeated parameters: one row per (pseudonym, report).
    both = _correlate(server, "gov", [("pseudonym", f"{phone},{card}"), ("pseudonym", phone)]).json()["correlations"]
    assert len(both) == 4 and {r["pseudonym"] for r in both} == {phone, card}

    only_alice = _correlate(server, "alice", {"pseudonym": f"{phone},{card}"}).json()["correlations"]
    assert {(r["report"], r["account"]) for r in only_alice} == {(alice_report, alice_account)}
    only_bob = _correlate(server, "bob", {"pseudonym": phone}).json()["correlations"]
    assert [r["report"] for r in only_bob] == [bob_report]
    # A party that may read neither collection learns nothing, not even that reports exist.
    assert _correlate(server, "flood", {"pseudonym": phone}).json() == {"correlations": []}

    # The operator's view over the same service.
    out = _cli(server, "pseudonym", "correlate", phone, "--as", "alice", "--json").stdout
    assert [r["report"] for r in json.loads(out)] == [alice_report]
    out = _cli(server, "pseudonym", "correlate", phone, "--json").stdout
    assert {r["report"] for r in json.loads(out)} == {alice_report, bob_report}


def test_operator_makes_the_same_pseudonyms_from_stdin(server: RunningHub) -> None:
    made = _cli(server, "pseudonym", "make", "--kind", "phone", stdin="+14155552671\n\n+1 415 555 2671\n").stdout
    lines = made.split()
    served = _post(server, "alice", {"values": [{"kind": "phone", "value": "+14155552671"}]}).json()
    assert lines == [served["pseudonyms"][0]["pseudonym"]] * 2
    assert "4155552671" not in made


def test_rate_limit_gives_429_with_retry_after(server: RunningHub) -> None:
    batch = {"values": [{"kind": "email", "value": f"user{i}@example.org"} for i in range(PER_MINUTE)]}
    codes = []
    for _ in range(3):  # two workers, each with its own allowance: the third request at the latest
        resp = _post(server, "flood", batch)
        codes.append(resp.status_code)
        if resp.status_code == 429:
            break
    assert codes[-1] == 429, codes
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["http_status"] == "429" and "try again" in resp.json()["description"]
    # Other parties keep their own allowance.
    assert _post(server, "alice", {"values": [{"kind": "name", "value": "Ann Example"}]}).status_code == 200
    # More than a minute's allowance in one request can never pass: 400, not a retry loop.
    too_many = {"values": batch["values"] + [{"kind": "name", "value": "Ann Example"}]}
    assert _post(server, "flood", too_many).status_code == 400


def test_rotation_keeps_old_pseudonyms_matchable(server: RunningHub) -> None:
    email = {"kind": "email", "value": "rotating@example.org"}
    before = _post(server, "alice", {"values": [email]}).json()
    old = before["pseudonyms"][0]["pseudonym"]
    reported = _report(server, "alice", "A-2002", {"email": email["value"]}, "203.0.113.99")
    assert _account_ext(reported)["pseudonyms"]["email"] == old
    _submit(server, "alice", "alice-reports", reported)

    out = _cli(server, "pseudonym", "rotate").stdout
    after = _post(server, "alice", {"values": [email]}).json()
    new = after["pseudonyms"][0]
    assert after["key_version"] != before["key_version"] and after["key_version"] in out
    assert new["pseudonym"] != old and new["all_versions"][0] == new["pseudonym"]
    assert old in new["all_versions"]
    # Every server process sees the new key (several requests reach both workers).
    for _ in range(6):
        assert _post(server, "alice", {"values": [email]}).json()["key_version"] == after["key_version"]

    # The new pseudonym alone matches nothing yet; all versions find the earlier report.
    assert _correlate(server, "alice", {"pseudonym": new["pseudonym"]}).json()["correlations"] == []
    rows = _correlate(server, "alice", {"pseudonym": ",".join(new["all_versions"])}).json()["correlations"]
    assert [(r["pseudonym"], r["report"]) for r in rows] == [(old, reported[-1]["id"])]

    # Recorded in the audit trail, without key material.
    audit = _cli(server, "audit", "export").stdout
    rotations = [json.loads(line) for line in audit.splitlines() if '"pseudonym.key.rotate"' in line]
    assert len(rotations) == 1 and rotations[0]["data"]["version"] == after["key_version"]
    for secret in _secrets(server):
        assert secret not in audit and secret not in out and secret not in server.read_log()


def test_the_largest_correlation_query_fits_in_a_request_line(server: RunningHub) -> None:
    many = [("pseudonym", f"hmac-sha256:k12345:{i:064x}") for i in range(40)]
    resp = _correlate(server, "gov", many)
    assert resp.status_code == 200 and resp.json() == {"correlations": []}
