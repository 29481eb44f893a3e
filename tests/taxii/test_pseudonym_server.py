"""Pseudonyms with real processes: the key made by ``abusehub serve``, the operator's CLI over
the same services, a rotation seen by both workers, the server's own log and request limits.

The endpoints' behaviour is tested in-process on every store in test_pseudonym_endpoints.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import build_report
from hub.taxii.negotiation import TAXII_21
from tests import factories as f
from tests.harness import HubUnderTest
from tests.taxii.test_pseudonym_endpoints import GRANTS, PARTIES, TOML

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.served(tmp_path_factory.mktemp("hub"), parties=PARTIES, grants=GRANTS, toml=TOML) as running:
        yield running


def _post(server: HubUnderTest, party: str, body: Any) -> requests.Response:
    return requests.post(f"{server.api}/pseudonyms/", data=json.dumps(body),
                         headers={**server.auth(party), "Content-Type": "application/json"}, timeout=30)


def _correlate(server: HubUnderTest, party: str, query: Any) -> requests.Response:
    return requests.get(f"{server.api}/correlations/", params=query, headers=server.auth(party), timeout=30)


def _cli(server: HubUnderTest, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(server.home), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc


def _secrets(server: HubUnderTest) -> list[str]:
    return list(json.loads((server.home / "pseudonym-keys.json").read_text())["keys"].values())


class EndpointPseudonymiser:
    """An analyst's tool asking the hub for each pseudonym."""

    def __init__(self, server: HubUnderTest, party: str) -> None:
        self.server, self.party = server, party

    def pseudonym(self, kind: str, value: str) -> str:
        resp = _post(self.server, self.party, {"values": [{"kind": kind, "value": value}]})
        assert resp.status_code == 200, resp.text
        return str(resp.json()["pseudonyms"][0]["pseudonym"])


def _report_and_submit(server: HubUnderTest, party: str, alias: str, account_id: str,
                       personal: dict[str, str], resource: str, **extra: Any) -> list[dict[str, Any]]:
    facts = f.report_facts(server.identities[party], account_id, personal=personal, resources=[resource], **extra)
    objects = build_report(facts, EndpointPseudonymiser(server, party))
    resp = requests.post(f"{server.api}/collections/{server.collections[alias]}/objects/",
                         data=json.dumps({"objects": objects}),
                         headers={**server.auth(party), "Content-Type": TAXII_21, "Accept": TAXII_21}, timeout=30)
    assert resp.status_code == 202 and resp.json()["success_count"] == len(objects), resp.text
    return objects


def _ext(objects: list[dict[str, Any]]) -> dict[str, Any]:
    account = next(o for o in objects if o["type"] == "user-account")
    ext: dict[str, Any] = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    return ext


def test_the_key_is_made_at_server_start_and_private(server: HubUnderTest) -> None:
    path = server.home / "pseudonym-keys.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_values_and_keys_never_reach_the_server_log(server: HubUnderTest) -> None:
    values = [{"kind": "email", "value": "Alice.Smith@Example.com"}, {"kind": "phone", "value": "+1 (415) 555-2671"}]
    resp = _post(server, "alice", {"values": values})
    assert resp.status_code == 200
    text = resp.text + server.read_log()
    for v in values:
        assert v["value"] not in text
    for secret in _secrets(server):
        assert secret not in text


def test_operator_correlates_with_the_cli(server: HubUnderTest) -> None:
    alice = _report_and_submit(server, "alice", "alice-reports", "A-1001", {"phone": "(415) 555-2671"},
                               "203.0.113.77", declared_country="US")
    bob = _report_and_submit(server, "bob", "bob-reports", "88231", {"phone": "+14155552671"}, "198.51.100.77")
    phone = _ext(alice)["pseudonyms"]["phone"]
    assert _ext(bob)["pseudonyms"]["phone"] == phone
    alice_report, bob_report = alice[-1]["id"], bob[-1]["id"]
    # The operator's view over the same service: as a party, or across every collection.
    out = _cli(server, "pseudonym", "correlate", phone, "--as", "alice", "--json").stdout
    assert [r["report"] for r in json.loads(out)] == [alice_report]
    out = _cli(server, "pseudonym", "correlate", phone, "--json").stdout
    assert {r["report"] for r in json.loads(out)} == {alice_report, bob_report}


def test_operator_makes_the_same_pseudonyms_from_stdin(server: HubUnderTest) -> None:
    made = _cli(server, "pseudonym", "make", "--kind", "phone", "--scheme", "hmac",
                stdin="+14155552671\n\n+1 415 555 2671\n").stdout
    lines = made.split()
    served = _post(server, "alice", {"values": [{"kind": "phone", "value": "+14155552671"}]}).json()
    assert lines == [served["pseudonyms"][0]["pseudonym"]] * 2
    assert "4155552671" not in made


def test_rate_limit_is_per_worker_process(server: HubUnderTest) -> None:
    batch = {"values": [{"kind": "email", "value": f"user{i}@example.org"} for i in range(40)]}
    codes = []
    for _ in range(3):  # two workers, each with its own allowance: the third request at the latest
        resp = _post(server, "flood", batch)
        codes.append(resp.status_code)
        if resp.status_code == 429:
            break
    assert codes[-1] == 429, codes
    assert int(resp.headers["Retry-After"]) >= 1


def test_rotation_by_the_cli_reaches_every_worker_and_the_audit_trail(server: HubUnderTest) -> None:
    email = {"kind": "email", "value": "rotating@example.org"}
    before = _post(server, "alice", {"values": [email]}).json()
    out = _cli(server, "pseudonym", "rotate").stdout
    after = _post(server, "alice", {"values": [email]}).json()
    assert after["key_version"] != before["key_version"] and after["key_version"] in out
    assert before["pseudonyms"][0]["pseudonym"] in after["pseudonyms"][0]["all_versions"]
    # Every server process sees the new key (several requests reach both workers).
    for _ in range(6):
        assert _post(server, "alice", {"values": [email]}).json()["key_version"] == after["key_version"]
    # Recorded in the audit trail, without key material.
    audit = _cli(server, "audit", "export").stdout
    rotations = [json.loads(line) for line in audit.splitlines() if '"pseudonym.key.rotate"' in line]
    assert len(rotations) == 1 and rotations[0]["data"]["version"] == after["key_version"]
    for secret in _secrets(server):
        assert secret not in audit and secret not in out and secret not in server.read_log()


def test_the_largest_correlation_query_fits_in_a_request_line(server: HubUnderTest) -> None:
    many = [("pseudonym", f"poprf-r255:k12345:{i:0128x}") for i in range(24)]
    resp = _correlate(server, "gov", many)
    assert resp.status_code == 200 and resp.json() == {"correlations": []}
