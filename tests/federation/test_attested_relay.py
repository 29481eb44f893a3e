"""An anonymous report filed at one hub reaches a peer hub whose collection requires signatures:
the peer takes the attested objects because the attestation verifies under the filing hub's key,
which the peer imported from that hub's key set (pinned, as for signed tombstones); before the
key is imported, the peer holds them in quarantine with the reason. Two real hubs served on
loopback, federated by ``abusehub peer|link|federate``."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.anonymity.escrow import OversightPrivateKey
from hub.anonymity.filing import ANONYMOUS_NAME
from hub.client.anonymous import file_anonymous_report, prepare_anonymous_report
from hub.signing import SIGNATURE_EXTENSION_ID, KeySet, signatures_of
from tests.factories import report_facts
from tests.federation.procs import TOML, FedHub, make_fed_hub, peer

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "SIGNING.md"


def _documented_verifier() -> Any:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    names: dict[str, Any] = {}
    for block in blocks:
        if "def verify_signature(" in block or "def verify_attestation(" in block:
            exec(compile(block, str(DOCS), "exec"), names)  # the document's own code
    return names["verify_attestation"]


@pytest.fixture()
def hubs(tmp_path: Path) -> Iterator[tuple[FedHub, FedHub]]:
    """A (alice files there; ``shared`` takes anonymous reports, published at once) and B (its
    ``shared`` requires signatures and is countersigned), B pulling A's ``shared`` into its own."""
    (tmp_path / "a").mkdir()
    oversight = OversightPrivateKey.generate()
    (tmp_path / "a" / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True, toml=toml)
    b = None
    try:
        with a.services() as services:
            services.anonymous.set_allowed(a.collection, True)
        b = make_fed_hub(tmp_path, "b", ["a"], signed=True)
        peer(b, a, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        yield a, b
    finally:
        if b is not None:
            b.close()
        a.close()


def _file(a: FedHub) -> tuple[str, list[dict[str, Any]]]:
    """alice files a report anonymously at A; its id and its objects as A publishes them."""
    assert a.alice_key is not None
    with a.client("alice") as client:
        facts = report_facts(a.identities["alice"], summary="Command-and-control on a trial account.",
                             tlp="green")
        prepared = prepare_anonymous_report(client, facts, a.alice_key, a.identities["alice"])
        receipt = file_anonymous_report(client, a.collection, prepared).receipt
    assert receipt is not None
    published = {o["id"]: o for o in a.objects("hub-b")}
    mine = [published[i] for i in receipt["object_ids"]]
    return receipt["report_id"], mine


def _names_alice(a: FedHub, objects: list[dict[str, Any]]) -> bool:
    assert a.alice_key is not None
    text = json.dumps(objects).casefold()
    return any(n.casefold() in text for n in ("alice", a.identities["alice"], a.alice_key.key_id))


def test_a_peer_requiring_signatures_takes_an_anonymous_report_attested_by_a_hub_it_federates_with(
        hubs: tuple[FedHub, FedHub]) -> None:
    a, b = hubs
    report_id, filed = _file(a)
    assert not _names_alice(a, filed)

    # A's key not yet imported: B does not know the attesting hub, and holds every object aside.
    b.cli("federate", "--once")
    held = orjson.loads(b.cli("quarantine", "list", "--json").stdout)
    assert {q["object"] for q in held} == {o["id"] for o in filed if o["type"] != "marking-definition"}
    assert all(f"attested by {a.hub_identity}, which is not a hub this hub federates with" in q["reason"]
               for q in held), held[:2]
    assert report_id not in {o["id"] for o in b.objects("hub-a")}

    # The peer hub's key, pinned to it by `peer add`, imported: the quarantined objects pass.
    imported = b.cli("peer", "import-keys", "hub-a").stdout
    assert "added" in imported
    for q in held:
        b.cli("quarantine", "release", str(q["id"]))
    assert orjson.loads(b.cli("quarantine", "list", "--json").stdout) == []

    at_b = {o["id"]: o for o in b.objects("hub-a")}
    copy = [at_b[o["id"]] for o in filed]
    assert copy == filed  # the attested form, as A published it: not countersigned by B
    report = at_b[report_id]
    assert at_b[report["created_by_ref"]]["name"] == ANONYMOUS_NAME
    assert not _names_alice(a, copy)
    with b.client("hub-a") as client:
        keys_at_b = KeySet.from_jwks(client.key_set())
    with a.client("hub-b") as client:
        keys_of_a = client.key_set()["keys"]
    for obj in copy:
        if obj["type"] == "marking-definition":
            continue
        [entry] = signatures_of(obj)
        assert (entry.type, entry.signer) == ("attestation", a.hub_identity)
        assert keys_at_b.check(obj, entry, time.time_ns() // 1000, new_submission=False) is None
    assert _documented_verifier()(copy, keys_of_a) == "registered-provider"

    # A second anonymous report goes straight through.
    second, filed_again = _file(a)
    b.cli("federate", "--once")
    assert orjson.loads(b.cli("quarantine", "list", "--json").stdout) == []
    at_b = {o["id"]: o for o in b.objects("hub-a")}
    assert second in at_b and [at_b[o["id"]] for o in filed_again] == filed_again
    for obj in filed_again:
        entries = obj.get("extensions", {}).get(SIGNATURE_EXTENSION_ID, {}).get("signatures", [])
        assert all(e["signer"] == a.hub_identity for e in entries)
