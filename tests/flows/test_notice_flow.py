"""The notice loop on a real server with the real command line: an agency issues a special
measure, two providers poll it, match their accounts and acknowledge it, the agency sees who
acted and who is overdue, the withdrawal reaches everyone, and every signature verifies."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.client.notices import newest_versions, read_notice_lines
from hub.client.verify import KeySource, ObjectVerifier
from hub.stix.notice_facts import ACK_TYPE
from tests.harness import HubUnderTest, clean_environ

pytestmark = pytest.mark.slow  # a real server and CLI processes

PARTIES = {"gov": "agency", "alice": "provider", "bob": "provider", "carol": "provider"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    made = HubUnderTest.build(tmp_path / "hub", parties=PARTIES, keys_for=PARTIES,
                              grants={"notices": {name: (True, True) for name in PARTIES}},
                              signed={"notices": False})
    try:
        with made.services() as services:  # acknowledgements are TLP:RED
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
        made.serve()
        yield made
    finally:
        made.close()


def party_cli(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``abusehub ARGS`` as a party runs it on its own machine (no hub home)."""
    proc = subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True,
                          env=clean_environ(), timeout=120, cwd=work)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


ALICE = """\
account_id,country,reseller_name,reseller_country,reseller_registration,email,phone,payment_instrument,ips,domains
a-1,KP,,,,one@example.com,,,,
a-2,DE,"Resell Co, Ltd.",cn,91-1100 00X,,,,,
a-3,DE,,,,,,,198.51.100.1,good.example
a-4,Atlantis,,,,,,,,
"""
BOB = '{"account_id": "b-1", "country": "FR", "email": "three@example.com"}\n'


def test_the_notice_loop(hub: HubUnderTest, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    col = hub.collections["notices"]

    def conn(party: str) -> list[str]:
        return ["--url", hub.api, "--collection", col, "--token-file", str(hub.token_file(party))]

    def signer(party: str) -> list[str]:
        pem = work / f"{party}.pem"
        if not pem.exists():
            pem.write_bytes(hub.keys[party].to_pem())
        return ["--key", str(pem), "--as", hub.identities[party]]

    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    facts = work / "measure.toml"
    facts.write_text(f'''notice_kind = "special-measure"
title = "Special measure 2026-7"
legal_reference = "Order 2026-7"
measures = ["prohibit-new-accounts", "terminate"]
effective_from = {yesterday}
jurisdictions = ["kp"]
resellers = [{{ name = "RESELL CO LTD", country = "CN", registration_number = "91110000x" }}]
''')
    bad = work / "bad.toml"
    bad.write_text(facts.read_text().replace('["kp"]', '["Atlantis"]').replace(yesterday, "2020-01-01T00:00:00Z")
                   + "effective_until = 2019-01-01T00:00:00Z\n")
    refused = party_cli(work, "notice", "issue", str(bad), *conn("gov"), *signer("gov"), check=False)
    assert refused.returncode == 2, refused.stderr
    assert "jurisdictions[0]" in refused.stderr and "effective_until is earlier than effective_from" in refused.stderr
    by_provider = party_cli(work, "notice", "issue", str(facts), *conn("alice"), *signer("alice"), check=False)
    assert by_provider.returncode == 1 and "issued by an agency party" in by_provider.stdout
    issued = json.loads(party_cli(work, "notice", "issue", str(facts), *conn("gov"), *signer("gov"), "--json").stdout)
    notice_id = issued["id"]
    assert issued["stored"] == [notice_id]

    (work / "alice.csv").write_text(ALICE)
    (work / "bob.jsonl").write_text(BOB)
    matched = {}
    for party, accounts in (("alice", "alice.csv"), ("bob", "bob.jsonl")):
        polled = party_cli(work, "notice", "poll", *conn(party), "--out", f"{party}-notices.jsonl").stdout
        assert "1 new version(s)" in polled and "1 verified, 0 FAILED" in polled
        out = party_cli(work, "notice", "match", "--accounts", accounts, "--notices", f"{party}-notices.jsonl",
                        "--as", hub.identities[party], "--url", hub.api, "--token-file",
                        str(hub.token_file(party)), "--json").stdout
        matched[party] = [json.loads(line) for line in out.splitlines()]
    assert matched["alice"][0] == {"row": 5, "problem": "country must be an ISO 3166-1 alpha-2 code"}
    assert matched["alice"][1]["accounts"] == [{"account_id": "a-1", "reasons": ["jurisdiction KP"]},
                                               {"account_id": "a-2", "reasons": ["reseller"]}]
    assert matched["bob"] == [{**matched["alice"][1], "accounts": []}]
    # The personal values stayed here; their pseudonyms are cached for the next run.
    assert "one@example.com" not in (work / "alice.csv.pseudonyms.json").read_text()
    again = party_cli(work, "notice", "match", "--accounts", "alice.csv", "--notices", "alice-notices.jsonl",
                      "--as", hub.identities["alice"]).stderr
    assert "0 value(s) pseudonymised now" in again

    party_cli(work, "notice", "ack", notice_id, "--status", "applied", "--accounts-affected", "2",
              *conn("alice"), *signer("alice"))
    party_cli(work, "notice", "ack", notice_id, "--status", "not-applicable", *conn("bob"), *signer("bob"))

    status = json.loads(hub.cli("notice", "status", notice_id, "--collection", col, "--party", "gov",
                                "--json").stdout)
    states = {a["name"]: a["state"] for a in status["addressees"]}
    assert states == {"alice": "applied", "bob": "not-applicable", "carol": "overdue"}
    assert status["counts"] == {"applied": 1, "not-applicable": 1, "overdue": 1}
    assert [(a["name"], a.get("accounts_affected")) for a in status["addressees"]] == [
        ("alice", 2), ("bob", None), ("carol", None)]

    party_cli(work, "notice", "withdraw", notice_id, *conn("gov"), *signer("gov"))
    for party in ("alice", "bob", "carol"):
        party_cli(work, "notice", "poll", *conn(party), "--out", f"{party}-notices.jsonl")
        [newest] = read_notice_lines(work / f"{party}-notices.jsonl")
        assert newest["withdrawn"] is True
        listed = party_cli(work, "notice", "list", *conn(party)).stdout
        assert notice_id in listed and "withdrawn" in listed
    refused = party_cli(work, "notice", "ack", notice_id, "--status", "received", *conn("carol"), *signer("carol"),
                        check=False)
    assert refused.returncode == 1 and "withdrawn" in refused.stdout

    # Every signature verifies independently, against the keys the hub publishes.
    with hub.client("gov") as client:
        objects = [o.data for page in client.pages(col, versions=["all"]) for o in page.objects]
        verifier = ObjectVerifier("require", KeySource(hub.api.rstrip("/") + "/keys/", client))
        assert verifier.check(objects) == []
    assert verifier.tally.verified == len(objects) == 4  # the notice, its withdrawal, two answers
    assert len(newest_versions(objects, ACK_TYPE)) == 2
    with hub.client("carol") as client:  # the answers are the agency's and their providers' alone
        assert not [o for page in client.pages(col, types=[ACK_TYPE]) for o in page.objects]
