"""The notice loop across two federated hubs, on real processes: an agency on hub A issues a
special measure; a provider on A and one on hub B poll, match and acknowledge it; a third
provider (on B) is overdue; B reports its addressees in a roster signed with its hub key; A's
status shows all three by hub; the withdrawal reaches both hubs; every signature verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.client.notices import read_notice_lines
from hub.client.verify import KeySource, ObjectVerifier
from hub.services.notices import HERE
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.stix.notice_facts import ACK_TYPE, NOTICE_TYPE, ROSTER_TYPE
from tests.federation.procs import FedHub, make_fed_hub, peer, pin
from tests.flows.test_notice_flow import party_cli

pytestmark = pytest.mark.slow  # two served hubs, federate and CLI processes


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[FedHub, FedHub]]:
    a = make_fed_hub(tmp_path, "a", ["b"], readers={"gov": "agency", "alice": "provider"}, max_tlp="red")
    try:
        b = make_fed_hub(tmp_path, "b", ["a"], readers={"bob": "provider", "carol": "provider"}, max_tlp="red")
    except BaseException:
        a.close()
        raise
    try:
        for hub, names in ((a, ("gov", "alice")), (b, ("bob", "carol"))):
            for name in names:
                hub.add_key(name)
        # Each hub pulls the other's collection over an ordinary link.
        peer(b, a, tmp_path)
        peer(a, b, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        a.cli("link", "add", "hub-b", "--pull", b.collection, "--into", a.collection)
        # Keys pinned to the hub that serves their parties: B checks the agency's notices, A the
        # answers of B's providers (and B's roster, signed with B's own hub key, pinned at peer add).
        pin(b, a, a.identities["gov"])
        pin(a, b, b.identities["bob"], b.identities["carol"])
        # B's peer party for A enforces markings and serves the agency: what is TLP:RED for the
        # agency (its providers' answers, B's rosters) may go to A, and nothing else RED.
        b.cli("party", "edit", "hub-a", "--enforces-markings", "--serves", a.identities["gov"])
        yield a, b
    finally:
        b.close()
        a.close()


ALICE = "account_id,country,reseller_name,reseller_country\na-1,KP,,\na-2,DE,,\n"
BOB = '{"account_id": "b-1", "country": "FR", "reseller_name": "Resell Co, Ltd.", "reseller_country": "cn"}\n'


def _federate(*hubs: FedHub) -> None:
    for hub in hubs:
        hub.cli("federate", "--once")


def test_the_notice_loop_across_two_hubs(hubs: tuple[FedHub, FedHub], tmp_path: Path) -> None:
    a, b = hubs
    work = tmp_path / "work"
    work.mkdir()
    home = {"gov": a, "alice": a, "bob": b, "carol": b}

    def conn(party: str) -> list[str]:
        h = home[party]
        return ["--url", h.api, "--collection", h.collection, "--token-file", str(h.token_file(party))]

    def signer(party: str) -> list[str]:
        pem = work / f"{party}.pem"
        if not pem.exists():
            pem.write_bytes(home[party].keys[party].to_pem())
        return ["--key", str(pem), "--as", home[party].identities[party]]

    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    facts = work / "measure.toml"
    facts.write_text(f'''notice_kind = "special-measure"
title = "Special measure 2026-7"
legal_reference = "Order 2026-7"
measures = ["prohibit-new-accounts"]
effective_from = {yesterday}
jurisdictions = ["KP"]
resellers = [{{ name = "Resell Co Ltd", country = "CN" }}]
tlp = "green"
''')
    issued = json.loads(party_cli(work, "notice", "issue", str(facts), *conn("gov"), *signer("gov"), "--json").stdout)
    notice_id = issued["id"]
    _federate(b)  # B takes the notice from A, and reports its addressees to the agency

    (work / "alice.csv").write_text(ALICE)
    (work / "bob.jsonl").write_text(BOB)
    for party, accounts, answer in (("alice", "alice.csv", "applied"), ("bob", "bob.jsonl", "not-applicable")):
        h = home[party]
        polled = party_cli(work, "notice", "poll", *conn(party), "--out", f"{party}-notices.jsonl").stdout
        assert "1 new version(s)" in polled and "0 FAILED" in polled, polled
        out = party_cli(work, "notice", "match", "--accounts", accounts, "--notices", f"{party}-notices.jsonl",
                        "--as", h.identities[party], "--url", h.api, "--token-file", str(h.token_file(party)),
                        "--json").stdout
        [matched] = [json.loads(line) for line in out.splitlines()]
        assert matched["notice"] == notice_id
        assert [m["account_id"] for m in matched["accounts"]] == (["a-1"] if party == "alice" else ["b-1"])
        party_cli(work, "notice", "ack", notice_id, "--status", answer, *conn(party), *signer(party))
    _federate(b, a)  # B's roster is brought up to date; A takes it and bob's answer

    status = json.loads(party_cli(work, "notice", "status", notice_id, *conn("gov"), "--json").stdout)
    rows = {a_["name"]: (a_["hub"], a_["state"]) for a_ in status["addressees"]}
    assert rows == {"alice": (HERE, "applied"), "bob": ("hub-b", "not-applicable"), "carol": ("hub-b", "overdue")}
    assert [(g["hub"], g["counts"]) for g in status["hubs"]] == [
        (HERE, {"applied": 1}), ("hub-b", {"not-applicable": 1, "overdue": 1})]
    assert status["hubs"][1]["reported"]  # when B made its roster, by B's clock
    text = party_cli(work, "notice", "status", notice_id, *conn("gov")).stdout
    assert " hub here: 1 applied" in text and " hub hub-b" in text and "carol" in text
    # The same over the hub home, as the agency reads.
    assert json.loads(a.cli("notice", "status", notice_id, "--collection", a.collection, "--party", "gov",
                            "--json").stdout)["counts"] == status["counts"]
    # A provider reads no status, and no roster; alice's answer stayed at A.
    refused = party_cli(work, "notice", "status", notice_id, *conn("alice"), check=False)
    assert refused.returncode == 1 and "whose status you may read" in refused.stderr
    assert not [o for o in b.objects("carol") if o["type"] in (ROSTER_TYPE, ACK_TYPE)]
    assert not [o for o in b.objects("bob") if o["type"] == ACK_TYPE and o["created_by_ref"] != b.identities["bob"]]

    party_cli(work, "notice", "withdraw", notice_id, *conn("gov"), *signer("gov"))
    _federate(b, a)
    for party in ("alice", "bob", "carol"):
        party_cli(work, "notice", "poll", *conn(party), "--out", f"{party}-notices.jsonl")
        [newest] = read_notice_lines(work / f"{party}-notices.jsonl")
        assert newest["withdrawn"] is True, party
    status = json.loads(party_cli(work, "notice", "status", notice_id, *conn("gov"), "--json").stdout)
    assert status["state"] == "withdrawn"

    # Every signature verifies independently, at each hub against the keys it publishes.
    for h in (a, b):
        with h.client("gov" if h is a else "bob") as client:
            objects = [o.data for page in client.pages(h.collection, versions=["all"]) for o in page.objects]
            verifier = ObjectVerifier("require", KeySource(h.api.rstrip("/") + "/keys/", client))
            assert verifier.check(objects) == []
        assert verifier.tally.verified == len(objects)
    at_a = {(o["type"], o["created_by_ref"]) for o in a.objects("gov")}
    assert {(NOTICE_TYPE, a.identities["gov"]), (ACK_TYPE, a.identities["alice"]), (ACK_TYPE, b.identities["bob"]),
            (ROSTER_TYPE, b.hub_identity)} <= at_a
    # The signatures that came across the hop are the signers' own, untouched.
    bob_ack = next(o for o in a.objects("gov") if o["type"] == ACK_TYPE and o["created_by_ref"] == b.identities["bob"])
    signers = [s["signer"] for s in bob_ack["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]]
    assert signers[0] == b.identities["bob"] and b.hub_identity in signers
