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

from hub.services.federation import Credentials
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, SigningKey, sign_object, signatures_of
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
