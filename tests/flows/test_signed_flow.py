"""Signed submissions end to end: CLI signing, a real server, plain taxii2-client, CLI verify.

Also every tampering case of the signing issue, each refused with its own reason while the
accepted set stays as it was, and the audit chain detecting a record edited in the database.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import orjson
import pytest
import requests
from taxii2client.v21 import Collection, as_pages

from hub.config import load_config
from hub.services.hub import open_hub
from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey, sign_object
from tests.factories import identity, indicator, ipv4
from tests.harness import HubUnderTest
from tests.harness import run_cli as run

pytestmark = pytest.mark.slow  # real server and CLI processes

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubUnderTest, Path]]:
    home = tmp_path_factory.mktemp("signed")
    work = tmp_path_factory.mktemp("analyst")
    run(home, "init")
    tokens, ids = {}, {}
    for name, kind in (("alice", "provider"), ("bob", "provider"), ("gov", "agency"), ("relay", "peer")):
        p = json.loads(run(home, "party", "add", name, "--kind", kind, "--json").stdout)
        tokens[name], ids[name] = p["token"], p["identity"]
    col = json.loads(run(home, "collection", "add", "Signed reports", "--require-signatures",
                         "--countersign", "--json").stdout)["id"]
    for name in ("alice", "bob", "relay"):
        run(home, "grant", name, col, "--read", "--write")
    run(home, "grant", "gov", col, "--read")
    # Each provider generates a key on its own side and registers the public half.
    for name in ("alice", "bob"):
        jwk = run(work, "key", "generate", "--out", str(work / f"{name}.pem")).stdout
        (work / f"{name}.jwk.json").write_text(jwk)
        assert (work / f"{name}.pem").stat().st_mode & 0o777 == 0o600
        assert "registered key" in run(home, "party", "key", "add", name, str(work / f"{name}.jwk.json")).stdout
    with HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"signed": col}).serve() as running:
        yield running, work


def post(server: HubUnderTest, party: str, objects: list[dict]) -> dict:
    r = requests.post(f"{server.api}/collections/{server.collections['signed']}/objects/",
                      data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **server.auth(party)})
    assert r.status_code == 202, r.text
    return r.json()


def stored_count(server: HubUnderTest) -> int:
    hub = open_hub(load_config(server.home, environ={}))
    try:
        col = hub.store.get_collection(server.collections["signed"])
        assert col is not None
        return hub.store.count_objects(col.pk)
    finally:
        hub.close()


def signed_by_cli(server: HubUnderTest, work: Path, party: str, objects: list[dict], name: str) -> list[dict]:
    src = work / f"{name}.json"
    src.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}))
    out = work / f"{name}.signed.json"
    run(server.home, "sign", str(src), "--key", str(work / f"{party}.pem"), "--as", party, "--out", str(out))
    return json.loads(out.read_text())["objects"]


def test_round_trip_sign_post_poll_verify(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    objs = [indicator(), indicator(), ipv4("203.0.113.77"), identity("alice corp", server.identities["alice"])]
    signed = signed_by_cli(server, work, "alice", objs, "round")
    assert all(o.get("created_by_ref") == server.identities["alice"] for o in signed if o["type"] == "indicator")
    status = Collection(f"{server.api}/collections/{server.collections['signed']}/", user="alice",
                        password=server.tokens["alice"]).add_objects({"objects": signed})
    assert status.success_count == 4 and status.failure_count == 0, status.failures

    reader = Collection(f"{server.api}/collections/{server.collections['signed']}/", user="gov",
                        password=server.tokens["gov"])
    polled = [o for page in as_pages(reader.get_objects, per_request=2) for o in page.get("objects", [])]
    mine = [o for o in polled if o["id"] in {x["id"] for x in objs}]
    assert len(mine) == 4
    # The hub countersigned each object on receipt: two signatures, the submitter's and the hub's.
    for o in mine:
        signers = [s["signer"] for s in o["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]]
        assert signers[0] == server.identities["alice"] and len(signers) == 2
    jsonl = work / "polled.jsonl"
    jsonl.write_text("".join(json.dumps(o) + "\n" for o in mine))
    # Anyone verifies from the hub's published keys, without an account.
    proc = run(work, "verify", str(jsonl), "--keys", f"{server.api}/keys/")
    assert proc.stdout.count("OK ") == 4 and "0 FAILED" in proc.stderr
    # And the verification fails as soon as one character changes.
    tampered = dict(mine[0], name=mine[0]["name"] + "!")
    jsonl.write_text(json.dumps(tampered) + "\n")
    proc = run(work, "verify", str(jsonl), "--keys", f"{server.api}/keys/", check=False)
    assert proc.returncode == 1 and "FAILED" in proc.stdout and "does not verify" in proc.stdout


def test_sign_refuses_objects_created_by_another_identity(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    src = work / "foreign.json"
    src.write_text(json.dumps({"objects": [indicator(created_by_ref=server.identities["bob"])]}))
    proc = run(server.home, "sign", str(src), "--key", str(work / "alice.pem"), "--as", "alice", check=False)
    assert proc.returncode == 1 and "refusing to sign it in your name" in proc.stderr


def _key(work: Path, party: str) -> SigningKey:
    return SigningKey.from_pem((work / f"{party}.pem").read_bytes())


def test_tampering_is_refused_each_with_its_reason(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    alice, bob = server.identities["alice"], server.identities["bob"]
    alice_key, bob_key = _key(work, "alice"), _key(work, "bob")
    # Keys that are revoked, or expired, for alice.
    revoked_key, expired_key = SigningKey.generate(), SigningKey.generate("ES256")
    for k, extra in ((revoked_key, ()), (expired_key, ("--not-before", "2020-01-01T00:00:00Z",
                                                        "--not-after", "2021-01-01T00:00:00Z"))):
        path = work / f"k-{k.key_id}.json"
        path.write_text(json.dumps(k.public_key.to_jwk()))
        run(server.home, "party", "key", "add", "alice", str(path), *extra)
    run(server.home, "party", "key", "revoke", "--", revoked_key.key_id)  # a key id may begin with "-"

    before = stored_count(server)
    good = sign_object(indicator(created_by_ref=alice), alice_key, alice)
    changed = dict(good, name=good["name"] + "x")
    swapped = sign_object(indicator(created_by_ref=alice), alice_key, alice)
    swapped = {**swapped, "created_by_ref": bob}
    with_bobs_key = sign_object(indicator(created_by_ref=alice), bob_key, alice)
    with_revoked = sign_object(indicator(created_by_ref=alice), revoked_key, alice)
    from datetime import datetime
    with_expired = sign_object(indicator(created_by_ref=alice), expired_key, alice,
                               signed=datetime(2020, 6, 1, tzinfo=UTC))
    unsigned = indicator(created_by_ref=alice)
    unknown_key = sign_object(indicator(created_by_ref=alice), SigningKey.generate(), alice)
    garbage = sign_object(indicator(created_by_ref=alice), alice_key, alice)
    garbage["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]["value"] = "%%%not-base64%%%"
    bad_alg = sign_object(indicator(created_by_ref=alice), alice_key, alice)
    bad_alg["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]["algorithm"] = "RS256"
    # A signature computed over another serialisation than RFC 8785.
    other_form = indicator(created_by_ref=alice)
    from hub.signing import b64url_encode
    entry = {"type": "jss", "algorithm": "Ed25519", "signer": alice, "key_id": alice_key.key_id,
             "signed": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    other_form["extensions"] = {SIGNATURE_EXTENSION_ID: {"extension_type": "property-extension",
                                                         "signatures": [entry]}}
    value = alice_key.sign(json.dumps(other_form, indent=1).encode())
    other_form["extensions"][SIGNATURE_EXTENSION_ID]["signatures"] = [{**entry, "value": b64url_encode(value)}]

    cases = [
        ("alice", changed, "does not verify"),
        ("alice", swapped, "is not the submitter's identity"),
        ("bob", good, "is not the submitter's identity"),  # alice's object replayed by bob
        ("alice", with_bobs_key, "belongs to bob"),
        ("alice", with_revoked, "revoked on"),
        ("alice", with_expired, "expired on"),
        ("alice", unsigned, "not signed"),
        ("alice", unknown_key, "unknown"),
        ("alice", garbage, "malformed signature"),
        ("alice", bad_alg, "malformed signature"),
        ("alice", other_form, "does not verify"),
    ]
    reasons = []
    for party, obj, fragment in cases:
        status = post(server, party, [obj])
        assert status["success_count"] == 0 and status["failure_count"] == 1, (fragment, status)
        reason = status["failures"][0]["message"]
        assert fragment in reason, (fragment, reason)
        reasons.append(reason)
    assert stored_count(server) == before
    # The tampering cases (changed, swapped, replayed, another's key, revoked, expired) each
    # have their own reason; a signature over another serialisation is, cryptographically,
    # the same failure as a changed object.
    assert len(set(reasons[:6])) == 6
    # The untouched original is still accepted.
    assert post(server, "alice", [good])["success_count"] == 1


def test_private_jwk_is_refused_as_a_public_key(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    from cryptography.hazmat.primitives import serialization
    k = _key(work, "alice")
    jwk = k.public_key.to_jwk()
    raw = serialization.load_pem_private_key((work / "alice.pem").read_bytes(), None).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    from hub.signing import b64url_encode
    leaked = {k2: v for k2, v in jwk.items() if k2 != "kid"} | {"d": b64url_encode(raw)}
    path = work / "leaked.json"
    path.write_text(json.dumps(leaked))
    proc = run(server.home, "party", "key", "add", "bob", str(path), check=False)
    assert proc.returncode == 1 and "private" in proc.stderr
    # The private part never appears in the published keys.
    assert b64url_encode(raw) not in requests.get(f"{server.api}/keys/").text


def test_peer_relays_objects_signed_by_others(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    alice = server.identities["alice"]
    relayed = sign_object(indicator(created_by_ref=alice), _key(work, "alice"), alice)
    assert post(server, "relay", [relayed])["success_count"] == 1
    # A relay cannot forge: an object in alice's name signed by someone else is refused.
    forged = sign_object(indicator(created_by_ref=alice), _key(work, "bob"), server.identities["bob"])
    status = post(server, "relay", [forged])
    assert status["failure_count"] == 1 and "signer is not its creator" in status["failures"][0]["message"]


def test_audit_chain_verifies_and_detects_an_edit(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, _ = hub_env

    def reads() -> int:
        return sum(json.loads(line)["kind"] == "read" for line in run(server.home, "audit", "export").stdout.splitlines())

    before = reads()
    requests.get(f"{server.api}/collections/{server.collections['signed']}/objects/", headers=server.auth("gov"),
                 timeout=30)
    import time
    deadline = time.monotonic() + 60  # reads reach the chain within a second (on a machine that is not busy)
    while reads() == before and time.monotonic() < deadline:
        time.sleep(0.2)
    ok = run(server.home, "audit", "verify")
    assert "audit chain OK" in ok.stdout
    lines = [json.loads(line) for line in run(server.home, "audit", "export").stdout.splitlines()]
    kinds = {r["kind"] for r in lines}
    assert {"party.add", "grant", "key.add", "key.revoke", "submission", "read"} <= kinds
    sub = next(r for r in lines if r["kind"] == "submission" and r["party"] == "alice")
    assert all(len(o) == 4 for o in sub["data"]["objects"])
    refused = [o for r in lines if r["kind"] == "submission" for o in r["data"]["objects"] if o[2] == "refused"]
    assert refused  # rejected submissions are recorded too, with their reason
    assert all(server.tokens[p] not in json.dumps(lines) for p in server.tokens)
    since = run(server.home, "audit", "export", "--since", lines[-1]["at"]).stdout.splitlines()
    assert 1 <= len(since) < len(lines)

    target = lines[len(lines) // 2]["seq"]
    db = sqlite3.connect(server.home / "hub.db")
    db.execute("UPDATE audit_log SET party = 'mallory' WHERE seq = ?", (target,))
    db.commit()
    db.close()
    broken = run(server.home, "audit", "verify", check=False)
    assert broken.returncode == 1 and f"BROKEN at record {target}" in broken.stdout
