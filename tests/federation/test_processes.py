"""Federation between real processes: hubs served by ``abusehub serve`` on loopback, federated by
``abusehub federate`` (``--once``, or ``--interval`` killed with SIGKILL), set up with the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.client.blocklist import build_blocklist
from hub.config import load_config
from hub.services.hub import open_hub
from hub.signing import SIGNATURE_EXTENSION_ID, KeySet
from hub.signing.documents import sign_objects, verify_objects
from hub.store.records import NewVersion
from tests.factories import indicator, ts
from tests.federation.procs import FedHub, make_fed_hub, peer, pin, status

pytestmark = pytest.mark.slow


def _signers(obj: dict[str, Any]) -> list[str]:
    return [s["signer"] for s in obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]]


def _keyset(h: FedHub) -> KeySet:
    with h.client(next(iter(h.tokens))) as c:
        return KeySet.from_jwks(c.key_set())


@pytest.fixture()
def ring(tmp_path: Path) -> Iterator[dict[str, FedHub]]:
    """Three served hubs in a pull ring: B pulls from A, C from B, A from C; keys pinned."""
    hubs = {n: make_fed_hub(tmp_path, n, [o for o in "abc" if o != n], alice=n == "a") for n in "abc"}
    try:
        for here, there in (("b", "a"), ("c", "b"), ("a", "c")):
            peer(hubs[here], hubs[there], tmp_path)
            hubs[here].cli("link", "add", f"hub-{there}", "--pull", hubs[there].collection,
                           "--into", hubs[here].collection)
        a, b, c = hubs["a"], hubs["b"], hubs["c"]
        alice = a.identities["alice"]
        pin(b, a, alice)
        pin(c, b, alice, a.hub_identity)
        pin(a, c, b.hub_identity)
        yield hubs
    finally:
        for h in hubs.values():
            h.close()


def _federate_all(hubs: dict[str, FedHub], rounds: int = 3) -> None:
    for _ in range(rounds):
        for h in hubs.values():
            h.cli("federate", "--once")


def test_a_ring_of_three_served_hubs_converges_quarantines_tampering_and_spreads_revocations(
        ring: dict[str, FedHub], tmp_path: Path) -> None:
    a, b, c = ring["a"], ring["b"], ring["c"]
    alice = a.identities["alice"]
    first = indicator(created_by_ref=alice, pattern="[ipv4-addr:value = '203.0.113.7']", created=ts(0))
    a.post([first] + [indicator(created_by_ref=alice) for _ in range(5)])
    # A tampered object, injected at A behind its ingest (as a compromised hub would serve it).
    bad = sign_objects([indicator(created_by_ref=alice)], a.alice_key, alice)[0]  # type: ignore[arg-type]
    bad["confidence"] = 1
    store = open_hub(load_config(a.home, environ={})).store
    col = store.get_collection(a.collection)
    assert col is not None
    store.add_versions(col.pk, store.get_party("alice").pk,  # type: ignore[union-attr]
                       [NewVersion(bad["id"], "indicator", 1_767_225_600_000_000, bad["modified"], "2.1",
                                   orjson.dumps(bad).decode())], 1_767_225_600_000_000 * 2)
    store.close()
    a.post([indicator(created_by_ref=alice) for _ in range(4)])
    _federate_all(ring)

    good = {(o["id"], o["modified"]) for o in a.objects("hub-b") if o["id"] != bad["id"]}
    assert len(good) == 10
    path = {"a": [a], "b": [a, b], "c": [a, b, c]}
    for name, h in ring.items():
        objs = [o for o in h.objects(next(iter(h.tokens))) if o["id"] != bad["id"]]
        assert {(o["id"], o["modified"]) for o in objs} == good
        verdicts = verify_objects(objs, _keyset(h), int(time.time() * 1e6))
        assert all(v.ok for v in verdicts), [v.reason for v in verdicts if not v.ok][:3]
        assert all(_signers(o) == [alice, *(x.hub_identity for x in path[name])] for o in objs)
    # The tampered object stops at the first hub downstream, held with its reason.
    held = orjson.loads(b.cli("quarantine", "list", "--json").stdout)
    assert [q["object"] for q in held] == [bad["id"]] and "does not verify" in held[0]["reason"]
    assert orjson.loads(c.cli("quarantine", "list", "--json").stdout) == []
    shown = orjson.loads(b.cli("quarantine", "show", str(held[0]["id"])).stdout)
    assert orjson.loads(shown["json"]) == bad
    (row,) = status(b)
    assert row["quarantined"] == 1 and row["lag_objects"] == 0 and row["last_error"] is None

    # Alice revokes her indicator at A; the new version reaches B and C; blocklists drop it.
    def listed(h: FedHub, n: int) -> set[str]:
        path = tmp_path / f"{h.name}-{n}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in h.objects(next(iter(h.tokens)))))
        return {e.value for e in build_blocklist(path, at=ts(50)).entries}

    assert all("203.0.113.7" in listed(h, 1) for h in ring.values())
    a.post([{**first, "modified": ts(30), "revoked": True}])
    _federate_all(ring)
    assert all("203.0.113.7" not in listed(h, 2) for h in ring.values())


def test_a_federate_process_killed_mid_sync_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True)
    b = make_fed_hub(tmp_path, "b", ["a"])
    try:
        peer(b, a, tmp_path)
        b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)
        pin(b, a, a.identities["alice"])
        total = 1500
        a.post([indicator(created_by_ref=a.identities["alice"]) for _ in range(total)])
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(b.home), "federate",
                                 "--interval", "0.2"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        hub_b = open_hub(load_config(b.home, environ={}))
        col = hub_b.store.get_collection(b.collection)
        assert col is not None
        deadline = time.monotonic() + 120
        while hub_b.store.count_objects(col.pk) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        at_kill = hub_b.store.count_objects(col.pk)
        assert 0 < at_kill < total  # killed in the middle of the sync
        b.cli("federate", "--once")
        assert hub_b.store.count_objects(col.pk) == total
        ids = [o["id"] for o in b.objects("hub-a")]
        assert len(ids) == len(set(ids)) == total
        assert orjson.loads(b.cli("quarantine", "list", "--json").stdout) == []
        (row,) = status(b)
        assert row["lag_objects"] == 0 and row["last_error"] is None
        hub_b.close()

        # SIGTERM stops a running loop cleanly.
        proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(b.home), "federate",
                                 "--interval", "0.2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        # Once it says it runs (its signal handlers are in place), however long it took to start.
        assert proc.stdout is not None and "federating every 0.2 s" in proc.stdout.readline()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "federation stopped" in out
    finally:
        a.close()
        b.close()


def test_the_cli_refuses_bad_peers_and_links_in_one_line(tmp_path: Path) -> None:
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True)
    b = make_fed_hub(tmp_path, "b", ["a"])
    try:
        bad_token = tmp_path / "bad.token"
        bad_token.write_text("ahub_not-a-token\n")
        for args, words in (
                (["--url", "ftp://127.0.0.1/api/", "--token-file", str(bad_token)], "http"),
                (["--url", a.url, "--token-file", str(bad_token)], "credentials do not work")):
            proc = b.cli("peer", "add", "hub-a", *args, check=False)
            assert proc.returncode != 0 and words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
            assert "ahub_" not in proc.stderr + proc.stdout
        assert b.cli("peer", "list").stdout.strip() == "no peers"
        peer(b, a, tmp_path)
        listing = b.cli("peer", "list", "--json").stdout
        assert a.tokens["hub-b"] not in listing
        for args, words in ((["--pull", "nope", "--into", b.collection], "nope"),
                            (["--pull", a.collection, "--into", "nope"], "no collection"),
                            (["--pull", a.collection, "--into", b.collection, "--max-tlp", "purple"], "max-tlp")):
            proc = b.cli("link", "add", "hub-a", *args, check=False)
            assert proc.returncode != 0 and words in proc.stderr, proc.stderr
        assert b.cli("link", "list").stdout.strip() == "no links"
        secret = b.home / "federation" / "hub-a.token"
        assert secret.stat().st_mode & 0o777 == 0o600
        assert a.tokens["hub-b"] not in (b.home / "server.log").read_text(errors="replace")
    finally:
        a.close()
        b.close()
