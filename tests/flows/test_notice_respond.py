"""`abusehub notice respond` on a real server: a provider answers a preservation-request and an
information-request from the command line; the agency's status shows both over HTTP; the hub
refuses a response to a special measure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.flows.test_notice_flow import party_cli
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow  # a real server and CLI processes

PARTIES = {"gov": "agency", "alice": "provider", "bob": "provider"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    made = HubUnderTest.build(tmp_path / "hub", parties=PARTIES, keys_for=PARTIES, prepare=True,
                              grants={"notices": {name: (True, True) for name in PARTIES}},
                              signed={"notices": False})
    try:
        with made.services() as services:
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
        made.serve()
        yield made
    finally:
        made.close()


def test_respond_from_the_command_line(hub: HubUnderTest, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    col = hub.collections["notices"]

    def conn(party: str) -> list[str]:
        return ["--url", hub.api, "--collection", col, "--token-file", str(hub.token_file(party))]

    def signer(party: str) -> list[str]:
        pem = work / f"{party}.pem"
        pem.write_bytes(hub.keys[party].to_pem())
        return ["--key", str(pem), "--as", hub.identities[party]]

    due = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = []
    for kind, extra in (("preservation-request", ""), ("information-request", ""),
                        ("special-measure", 'legal_reference = "Order 7"\nmeasures = ["restrict"]\n'
                                            'jurisdictions = ["KP"]\neffective_from = 2026-01-01T00:00:00Z\n')):
        facts = work / f"{kind}.toml"
        body = f'notice_kind = "{kind}"\ntitle = "A {kind}"\n' + extra
        if kind != "special-measure":
            body += (f'report_ref = "report--00000000-0000-4000-8000-000000000001"\nrequested = "Keep the logs."\n'
                     f"respond_by = {due}\n")
        facts.write_text(body)
        out = party_cli(work, "notice", "issue", str(facts), *conn("gov"), *signer("gov"), "--json").stdout
        ids.append(json.loads(out)["id"])

    party_cli(work, "notice", "respond", "1", "--reference", "PR-7", "--preserved-until", "2027-06-01",
              *conn("alice"), *signer("alice"))
    (work / "answer.toml").write_text('email = ["Someone@Example.com"]\n')
    out = party_cli(work, "notice", "respond", ids[1], "--answer", "answer.toml", "--note", "One account.",
                    *conn("bob"), *signer("bob"), "--json").stdout
    assert json.loads(out)["stored"]
    wrong = party_cli(work, "notice", "respond", ids[0], "--answer", "answer.toml", *conn("bob"), *signer("bob"),
                      check=False)
    assert wrong.returncode == 2 and "respond with --reference" in wrong.stderr
    measure = party_cli(work, "notice", "respond", "3", "--reference", "PR-8", *conn("bob"), *signer("bob"),
                        check=False)
    assert measure.returncode == 2 and "only a preservation-request or an information-request" in measure.stderr

    preserved = json.loads(party_cli(work, "notice", "status", ids[0], *conn("gov"), "--json").stdout)
    rows = {a["name"]: a for a in preserved["addressees"]}
    assert (rows["alice"]["state"], rows["alice"]["preservation_reference"]) == ("preserved", "PR-7")
    assert rows["bob"]["state"] == "pending"
    answered = party_cli(work, "notice", "status", "2", *conn("gov")).stdout
    assert "answered" in answered and "answer: 1 email" in answered and "someone" not in answered.lower()
