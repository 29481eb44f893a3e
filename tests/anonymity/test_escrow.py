"""The sealed submitter record: HPKE (RFC 9180) to the oversight key. It opens with that key
only, any alteration (ciphertext or clear field) stops it opening, and what is kept holds no plain
text of the submitter, not even its length."""

from __future__ import annotations

import copy
import json

import pytest

from hub.anonymity.errors import EscrowError
from hub.anonymity.escrow import (
    PAD_TO,
    EscrowRecord,
    OversightPrivateKey,
    OversightPublicKey,
    escrow_info,
    open_sealed,
    seal,
)
from hub.common.canonical import b64url_decode, b64url_encode

RECORD = EscrowRecord(
    submitter="acme-cloud",
    identity_id="identity--6b1f3c43-0b51-4c5e-9b57-2f2d1f0c9a11",
    report_id="report--0f9c8e2a-55b7-4d3c-8d8e-2c7a1e6f3b21",
    report_hash="sha256:" + "ab" * 32,
    time="2026-12-07T18:30:00.123Z",
)


@pytest.fixture(scope="module")
def oversight() -> OversightPrivateKey:
    return OversightPrivateKey.generate()


def test_round_trip(oversight: OversightPrivateKey) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    assert open_sealed(sealed, oversight) == RECORD
    # a JSON document, as the hub will store it
    assert open_sealed(json.loads(json.dumps(sealed)), oversight) == RECORD
    assert sealed["oversight_key"] == oversight.public_key.key_id
    assert sealed["report_id"] == RECORD.report_id and sealed["hub"] == "hub.example"


def test_two_sealings_of_one_record_are_unrelated(oversight: OversightPrivateKey) -> None:
    first, second = (seal(RECORD, oversight.public_key, hub="hub.example") for _ in range(2))
    a, b = b64url_decode(first["sealed"]), b64url_decode(second["sealed"])
    assert a[:32] != b[:32] and a[32:] != b[32:]  # fresh ephemeral key, so fresh key and nonce


def test_a_wrong_key_fails(oversight: OversightPrivateKey) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    other = OversightPrivateKey.generate()
    with pytest.raises(EscrowError, match="another oversight key"):
        open_sealed(sealed, other)
    relabelled = dict(sealed, oversight_key=other.public_key.key_id)  # the label alone does not help
    with pytest.raises(EscrowError, match="does not open with this key"):
        open_sealed(relabelled, other)


@pytest.mark.parametrize("position", [0, 31, 32, 100, -17, -1])
def test_a_tampered_ciphertext_fails(oversight: OversightPrivateKey, position: int) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    data = bytearray(b64url_decode(sealed["sealed"]))
    data[position] ^= 0x01
    with pytest.raises(EscrowError, match="does not open"):
        open_sealed(dict(sealed, sealed=b64url_encode(bytes(data))), oversight)


@pytest.mark.parametrize("field, value", [
    ("report_id", "report--11111111-2222-4333-8444-555555555555"),  # moved to another report
    ("hub", "other-hub.example"),                                   # or another hub
])
def test_altered_context_fails(oversight: OversightPrivateKey, field: str, value: str) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    with pytest.raises(EscrowError, match="does not open"):
        open_sealed(dict(sealed, **{field: value}), oversight)


def test_the_info_names_the_hub_the_purpose_and_the_report() -> None:
    info = json.loads(escrow_info("hub.example", RECORD.report_id))
    assert info == {"type": "abusehub-escrow", "version": 1, "purpose": "the submitter of an anonymous report",
                    "hub": "hub.example", "report_id": RECORD.report_id}


def test_the_sealed_record_holds_no_plain_text_of_the_submitter(oversight: OversightPrivateKey, tmp_path) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    path = tmp_path / "sealed.json"
    path.write_text(json.dumps(sealed), encoding="utf-8")
    on_disk = path.read_bytes()
    for secret in (RECORD.submitter, RECORD.identity_id, RECORD.identity_id.split("--")[1], RECORD.report_hash,
                   RECORD.time):
        for form in (secret.encode(), secret.upper().encode(), b64url_encode(secret.encode()).encode(),
                     secret.encode().hex().encode()):
            assert form not in on_disk, secret
    raw = b64url_decode(sealed["sealed"])
    assert RECORD.submitter.encode() not in raw and RECORD.identity_id.encode() not in raw


def test_the_sealed_size_does_not_tell_submitters_apart(oversight: OversightPrivateKey) -> None:
    short = EscrowRecord("a", RECORD.identity_id, RECORD.report_id, RECORD.report_hash, RECORD.time)
    long = EscrowRecord("a-provider-with-a-much-longer-party-name" * 3, RECORD.identity_id, RECORD.report_id,
                        RECORD.report_hash, RECORD.time)
    sizes = {len(seal(r, oversight.public_key, hub="hub.example")["sealed"]) for r in (short, long, RECORD)}
    assert len(sizes) == 1
    assert len(RECORD.plaintext()) % PAD_TO == 0


def test_malformed_sealed_records_are_refused(oversight: OversightPrivateKey) -> None:
    sealed = seal(RECORD, oversight.public_key, hub="hub.example")
    cases = [
        ([], "not a sealed escrow record"),
        ({k: v for k, v in sealed.items() if k != "hub"}, "not a sealed escrow record"),
        (dict(sealed, extra=1), "not a sealed escrow record"),
        (dict(sealed, version=2), "version 1"),
        (dict(sealed, suite="other"), "version 1"),
        (dict(sealed, sealed="not base64url!"), "not base64url"),
        (dict(sealed, sealed=sealed["sealed"][:40]), "too short"),
        (dict(sealed, report_id=7), "non-empty string"),
    ]
    for bad, reason in cases:
        with pytest.raises(EscrowError, match=reason):
            open_sealed(copy.deepcopy(bad), oversight)  # type: ignore[arg-type]


def test_records_need_every_field() -> None:
    with pytest.raises(EscrowError, match="submitter"):
        EscrowRecord("", RECORD.identity_id, RECORD.report_id, RECORD.report_hash, RECORD.time)
    with pytest.raises(EscrowError, match="exactly"):
        EscrowRecord.from_plaintext(b'{"submitter": "x"}')
    assert "acme" not in repr(RECORD) and "identity--" not in repr(RECORD)


def test_keys_round_trip_through_pem(oversight: OversightPrivateKey) -> None:
    public = OversightPublicKey.from_pem(oversight.public_key.to_pem())
    assert public.key_id == oversight.public_key.key_id
    sealed = seal(RECORD, public, hub="hub.example")
    locked = oversight.to_pem(b"a passphrase")
    assert OversightPrivateKey.needs_password(locked) and not OversightPrivateKey.needs_password(oversight.to_pem())
    assert open_sealed(sealed, OversightPrivateKey.from_pem(locked, b"a passphrase")) == RECORD
    with pytest.raises(EscrowError):
        OversightPrivateKey.from_pem(locked, b"wrong")
    with pytest.raises(EscrowError):
        OversightPublicKey.from_pem(b"not a key")
    with pytest.raises(EscrowError):
        OversightPrivateKey.from_pem(oversight.public_key.to_pem())
