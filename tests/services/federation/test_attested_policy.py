"""The signature policy and attested objects (docs/SIGNING.md, "Attestations of anonymous
reports"): a collection that requires signatures takes an object whose attestation verifies
under the key of a hub this hub federates with (a party of kind ``peer`` here, its key
registered), relayed by a peer hub, and nothing else; in-process, both stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.client.taxii import read_outcome
from hub.common.canonical import b64url_encode
from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey, sign_object, signing_input
from hub.signing.signatures import ATTESTATION_TYPE, EXTENSION_TYPE, SIGNATURE_VERSION
from tests.factories import indicator
from tests.harness import HubUnderTest

PARTIES = {"hub-x": "peer", "hub-y": "peer", "alice": "provider"}


@pytest.fixture
def hut(backend: str, tmp_path: Path) -> Iterator[HubUnderTest]:
    """A hub whose collection ``shared`` requires signatures and is countersigned; ``hub-x`` is
    a peer hub whose key is registered here (as ``peer import-keys`` registers it), ``hub-y``
    another peer that relays, ``alice`` a provider with a key."""
    made = HubUnderTest.build(tmp_path / "home", backend=backend, parties=PARTIES, prepare=True,
                              grants={"shared": {p: (True, True) for p in PARTIES}}, signed={"shared": True},
                              keys_for=("hub-x", "alice"))
    with made:
        yield made


def _attest(obj: dict[str, Any], key: SigningKey, signer: str) -> dict[str, Any]:
    """``obj`` with one attestation entry by ``signer`` with ``key``, as a hub makes it."""
    # The next whole second: after the key was registered (a hub's `signed` is coarse too).
    signed = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    metadata = {"type": ATTESTATION_TYPE, "version": str(SIGNATURE_VERSION), "algorithm": key.alg,
                "signer": signer, "key_id": key.key_id, "signed": signed}
    value = key.sign(signing_input(obj, metadata))
    return {**obj, "extensions": {SIGNATURE_EXTENSION_ID: {
        "extension_type": EXTENSION_TYPE, "signatures": [{**metadata, "value": b64url_encode(value)}]}}}


def _anonymous() -> dict[str, Any]:
    return indicator(created_by_ref=f"identity--{uuid.uuid4()}")


def _submit(hut: HubUnderTest, party: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    with hut.client(party) as client:
        outcome = read_outcome(client.submit(hut.collections["shared"], [obj]))
    return outcome.refused


def _stored(hut: HubUnderTest, stix_id: str) -> list[str]:
    return [text for oid, _v, text in hut.stored("shared") if oid == stix_id]


def test_an_object_attested_by_a_peer_hub_is_taken_from_a_relaying_peer_as_it_came(hut: HubUnderTest) -> None:
    for relay in ("hub-x", "hub-y"):  # the attesting hub itself, or another peer that relays
        obj = _attest(_anonymous(), hut.keys["hub-x"], hut.identities["hub-x"])
        assert _submit(hut, relay, obj) == []
        [text] = _stored(hut, obj["id"])
        assert SIGNATURE_EXTENSION_ID in text and text.count('"signer"') == 1  # not countersigned


def test_an_attestation_by_a_hub_this_hub_does_not_federate_with_is_refused(hut: HubUnderTest) -> None:
    stranger = SigningKey.generate()
    obj = _attest(_anonymous(), stranger, f"identity--{uuid.uuid4()}")
    [(oid, reason)] = _submit(hut, "hub-y", obj)
    assert oid == obj["id"]
    assert f"attested by {obj['extensions'][SIGNATURE_EXTENSION_ID]['signatures'][0]['signer']}, which is not " \
           "a hub this hub federates with" in reason
    assert _stored(hut, obj["id"]) == []


def test_an_attestation_by_a_party_that_is_not_a_hub_is_refused(hut: HubUnderTest) -> None:
    obj = _attest(_anonymous(), hut.keys["alice"], hut.identities["alice"])  # verifies: alice's key
    [(_oid, reason)] = _submit(hut, "hub-y", obj)
    assert f"attested by {hut.identities['alice']}, a party of kind provider here, not a hub" in reason
    assert _stored(hut, obj["id"]) == []


def test_an_attestation_that_does_not_verify_or_uses_another_key_is_refused(hut: HubUnderTest) -> None:
    changed = _attest(_anonymous(), hut.keys["hub-x"], hut.identities["hub-x"])
    changed["name"] = "changed after the hub attested it"
    [(_oid, reason)] = _submit(hut, "hub-y", changed)
    assert "does not verify" in reason
    borrowed = _attest(_anonymous(), hut.keys["alice"], hut.identities["hub-x"])
    [(_oid, reason)] = _submit(hut, "hub-y", borrowed)
    assert f"belongs to alice ({hut.identities['alice']}), not to the signer {hut.identities['hub-x']}" in reason
    assert _stored(hut, changed["id"]) == _stored(hut, borrowed["id"]) == []


def test_an_attested_object_is_not_taken_from_a_provider(hut: HubUnderTest) -> None:
    obj = _attest(_anonymous(), hut.keys["hub-x"], hut.identities["hub-x"])
    [(_oid, reason)] = _submit(hut, "alice", obj)
    assert "an attested object is taken only from a peer hub that relays it" in reason
    # Nor does a provider's own "attestation" pass for its signature.
    own = _attest(indicator(created_by_ref=hut.identities["alice"]), hut.keys["alice"], hut.identities["alice"])
    [(_oid, reason)] = _submit(hut, "alice", own)
    assert "taken only from a peer hub" in reason
    assert _stored(hut, obj["id"]) == _stored(hut, own["id"]) == []


def test_a_named_object_relayed_by_a_peer_still_needs_its_creators_signature(hut: HubUnderTest) -> None:
    obj = indicator(created_by_ref=hut.identities["alice"])
    signed = sign_object(obj, hut.keys["alice"], hut.identities["alice"])
    assert _submit(hut, "hub-y", signed) == []
    other = sign_object(indicator(created_by_ref=hut.identities["alice"]), hut.keys["hub-x"], hut.identities["hub-x"])
    [(_oid, reason)] = _submit(hut, "hub-y", other)
    assert "signer is not its creator" in reason
