"""What a federation turn pays once rather than per turn or per object: the TLS context a peer's
clients share, and the signature entries of an object read by the check and again by the
countersignature."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.services.access.auth import Principal
from hub.services.federation import Credentials
from hub.services.ingest.checks import CheckContext
from hub.services.ingest.signatures import SignatureCheck
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, SigningKey, sign_object, signatures_of
from hub.signing.batch import BatchVerifier
from tests.factories import indicator
from tests.harness import HubUnderTest
from tests.lifecycle.pki import issue, make_ca

PROVIDER = "identity--7d3f4b3e-6c39-4c49-9a53-8f1f3b0c2a11"
HUB = "identity--1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"


def _context(client: Any) -> Any:
    """The TLS context the client's connections are made with."""
    transport = client.http._client._transport  # the peer's GuardedTransport
    inner = transport.inner
    assert isinstance(inner, httpx.HTTPTransport)
    return inner._pool._ssl_context


@pytest.fixture()
def hub(tmp_path: Path) -> Any:
    made = HubUnderTest.build(tmp_path / "b", parties={}, grants={})
    yield made
    made.close()


def test_the_clients_of_peers_share_one_tls_context(hub: HubUnderTest) -> None:
    peers = hub.hub.federation.peers
    first = peers.add("hub-a", "https://a.example/api/", Credentials(token="t0k3n"), check=False)
    second = peers.add("hub-c", "https://c.example/api/", Credentials(token="t0k3n"), check=False)
    with peers.client(first) as one, peers.client(first) as two, peers.client(second) as three:
        assert _context(one) is _context(two) is _context(three)
        assert _context(one).verify_mode.name == "CERT_REQUIRED" and _context(one).check_hostname


def test_a_client_certificate_replaced_on_disk_is_used_by_the_next_client(hub: HubUnderTest,
                                                                         tmp_path: Path) -> None:
    ca = make_ca()
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    old = issue(ca, "hub-b")
    cert.write_bytes(old.cert_pem)
    key.write_bytes(old.key_pem)
    peers = hub.hub.federation.peers
    peer = peers.add("hub-a", "https://a.example/api/", Credentials(cert=cert, key=key), check=False)
    with peers.client(peer) as one, peers.client(peer) as two:
        assert _context(one) is _context(two)
        before = _context(one)
    new = issue(ca, "hub-b renewed")
    assert peer.cert_path and peer.key_path
    Path(peer.cert_path).write_bytes(new.cert_pem)
    Path(peer.key_path).write_bytes(new.key_pem)
    os.utime(peer.cert_path, ns=(1, 1))  # a changed time even where the clock is coarse
    with peers.client(peer) as three:
        assert _context(three) is not before
    Path(peer.key_path).write_bytes(b"not a key")
    os.utime(peer.key_path, ns=(2, 2))
    with pytest.raises(Exception, match="PEM|SSL"):  # a broken key fails the turn, as it always did
        peers.client(peer)


def _signed_twice() -> dict[str, Any]:
    submitter, hub = SigningKey.generate(), SigningKey.generate()
    obj = sign_object(indicator(created_by_ref=PROVIDER), submitter, PROVIDER)
    return sign_object(obj, hub, HUB)


def test_an_objects_signatures_read_twice_are_parsed_once() -> None:
    obj = _signed_twice()
    first, again = signatures_of(obj), signatures_of(copy.deepcopy(obj))
    assert len(first) == 2
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_an_entry_changed_after_reading_is_read_anew() -> None:
    obj = _signed_twice()
    first = signatures_of(obj)
    entry = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][1]
    entry["signed"] = "2020-01-01T00:00:00.000Z"
    assert signatures_of(obj)[1].signed == "2020-01-01T00:00:00.000Z" != first[1].signed
    entry["value"] = "AAAA"
    for _ in range(2):  # refused every time it is read, not remembered as good
        with pytest.raises(SignatureFormatError, match="signature 1: value must be a 64-byte"):
            signatures_of(obj)


# -- a pulled page's signatures verified in worker processes, by the same rules ------------------


class _Recording(BatchVerifier):
    """A verifier that keeps the jobs it was given (verifying them in its processes, if any)."""

    def __init__(self, processes: int) -> None:
        super().__init__(processes)
        self.jobs: list[tuple[Any, bytes, bytes]] = []

    def verify(self, jobs: Any) -> Any:
        self.jobs.extend(jobs)
        return super().verify(jobs)


@pytest.fixture()
def relay(tmp_path: Path) -> Any:
    """A hub with alice (a provider, her key registered) and hub-a (a peer relaying what alice
    signed), two collections requiring signatures and countersigning."""
    grants = {"hub-a": (True, True), "alice": (True, True)}
    made = HubUnderTest.build(tmp_path / "b", parties={"alice": "provider", "hub-a": "peer"},
                              grants={"one": grants, "two": grants}, signed={"one": True, "two": True},
                              keys_for=("alice",))
    yield made
    made.close()


def _relayed(hub: HubUnderTest) -> list[dict[str, Any]]:
    """What a peer relays: good, tampered, by an unknown key, by the wrong signer, malformed, and
    an unsigned marking definition, each signed object countersigned by the peer hub."""
    alice, peer_key, stranger = hub.keys["alice"], SigningKey.generate(), SigningKey.generate()
    who = hub.identities["alice"]

    def signed(key: SigningKey, signer: str = who, **extra: Any) -> dict[str, Any]:
        return sign_object(sign_object(indicator(created_by_ref=who, **extra), key, signer), peer_key, HUB)

    good = [signed(alice) for _ in range(3)]
    tampered = signed(alice)
    tampered["name"] = "changed after signing"
    malformed = signed(alice)
    malformed["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]["value"] = "AAAA"
    definition = {"type": "marking-definition", "spec_version": "2.1",
                  "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z",
                  "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"}}
    return [good[0], tampered, signed(stranger), good[1], signed(alice, PROVIDER), malformed, good[2], definition]


def _outcomes(hub: HubUnderTest, alias: str, objects: list[dict[str, Any]], verifier: Any) -> Any:
    h = hub.hub
    party = h.store.get_party("hub-a")
    col = h.store.get_collection(hub.collections[alias])
    assert party is not None and col is not None
    status = h.ingest.submit(Principal(party, h.store.grants_for(party.pk)), col, {"objects": objects},
                             verifier=verifier)
    return ([(s["id"], s["message"]) for s in status.successes],
            [(f["id"], f["message"]) for f in status.failures])


def _judged_alike(relay: HubUnderTest, processes: int) -> None:
    objects = _relayed(relay)
    verifier = _Recording(processes)
    try:
        batched = _outcomes(relay, "one", copy.deepcopy(objects), verifier)
    finally:
        verifier.close()
    assert batched == _outcomes(relay, "two", copy.deepcopy(objects), None)
    successes, failures = batched
    assert len(successes) == 4 and len(failures) == 4  # three good ones and the definition
    reasons = " | ".join(message for _id, message in failures)
    for expected in ("signature does not verify", "is unknown", "signer is not its creator", "malformed"):
        assert expected in reasons
    # Only the signatures the check wants, by keys it has: the good ones and the tampered one.
    assert len(verifier.jobs) == 4
    assert {key.key_id for key, _sig, _data in verifier.jobs} == {relay.keys["alice"].key_id}


def test_a_batch_verified_in_the_calling_thread_is_judged_as_one_verified_object_by_object(
        relay: HubUnderTest) -> None:
    _judged_alike(relay, 0)


@pytest.mark.slow
def test_a_batch_verified_in_worker_processes_is_judged_as_one_verified_object_by_object(
        relay: HubUnderTest) -> None:
    _judged_alike(relay, 1)


def test_verdicts_count_only_for_the_very_object_they_were_made_for(relay: HubUnderTest) -> None:
    """A verdict is looked up by the object itself: an equal copy (or the object changed in
    place by a check, which checks must not do) is verified again, never taken on trust."""
    objects = _relayed(relay)[:1]
    verifier = _Recording(0)
    h = relay.hub
    party = h.store.get_party("hub-a")
    col = h.store.get_collection(relay.collections["one"])
    assert party is not None and col is not None
    ctx = CheckContext(Principal(party, h.store.grants_for(party.pk)), col, h.clock(), verifier=verifier)
    check = next(c for c in h.ingest.checks if isinstance(c, SignatureCheck))
    check.prepare(objects, ctx)
    assert len(verifier.jobs) == 1
    copy_of = copy.deepcopy(objects[0])
    copy_of["name"] = "changed"
    assert check(objects[0], ctx) is None
    problem = check(copy_of, ctx)
    assert problem is not None and "does not verify" in str(problem)


@pytest.mark.slow
def test_a_pull_verifies_its_pages_in_worker_processes_and_ends_them_after_the_pass(tmp_path: Path) -> None:
    from tests.federation.test_engine import Hubs, Net, _link, _objects, _peer, _pin_and_import, _post, _signed

    hubs = Hubs(Net(), tmp_path, "sqlite")
    try:
        a, b = hubs["a"], hubs["b"]
        _peer(hubs, "b", "a", tmp_path)
        _link(hubs, "b", "a", "pull")
        alice = a.identities["alice"]
        _pin_and_import(hubs, "b", "a", [alice])
        good = _signed(a, [indicator(created_by_ref=alice) for _ in range(9)])
        _post(a, good)
        engine = b.hub.federation.engine
        engine.batch_min, engine.verify_processes = 1, 1
        engine.spare_core = lambda: True  # whatever else the machine runs
        used: list[BatchVerifier] = []
        made = engine._batch_verifier

        def batch_verifier(size: int) -> BatchVerifier | None:
            verifier = made(size)
            if verifier is not None and verifier not in used:
                used.append(verifier)
            return verifier

        engine._batch_verifier = batch_verifier  # type: ignore[method-assign]
        (result,) = b.hub.federation.sync_once()
        assert result.error is None and result.stored == 9 and result.quarantined == 0
        assert {i for i, _ in _objects(b)} == {o["id"] for o in good}
        (verifier,) = used  # one verifier for the pass's pages (of 4), ended with it
        assert engine._verifier is None and verifier._pool is None
    finally:
        for h in list(dict.values(hubs)):
            h.close()


_VERIFYING = """
import sys, time
from hub.signing import SigningKey
from hub.signing.batch import BatchVerifier

if __name__ == "__main__":
    key = SigningKey.generate()
    verifier = BatchVerifier(1)
    print(verifier.verify([(key.public_key, key.sign(b"x"), b"x")])[0], flush=True)
    time.sleep(120)
"""


@pytest.mark.slow
def test_the_verifying_processes_end_when_the_process_that_started_them_is_killed(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import psutil

    script = tmp_path / "verifying.py"
    script.write_text(_VERIFYING)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "True"
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]
        assert workers
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                              for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_a_pull_verifies_in_place_while_the_machine_has_no_core_to_spare(tmp_path: Path) -> None:
    from tests.federation.test_engine import Hubs, Net, _link, _peer, _pin_and_import, _post, _signed

    hubs = Hubs(Net(), tmp_path, "sqlite")
    try:
        a, b = hubs["a"], hubs["b"]
        _peer(hubs, "b", "a", tmp_path)
        _link(hubs, "b", "a", "pull")
        _pin_and_import(hubs, "b", "a", [a.identities["alice"]])
        _post(a, _signed(a, [indicator(created_by_ref=a.identities["alice"]) for _ in range(5)]))
        engine = b.hub.federation.engine
        engine.batch_min, engine.verify_processes = 1, 1
        engine.spare_core = lambda: False
        assert engine._batch_verifier(100) is None
        (result,) = b.hub.federation.sync_once()
        assert result.error is None and result.stored == 5 and engine._verifier is None
    finally:
        for h in list(dict.values(hubs)):
            h.close()
