"""RSA blind signatures beyond the RFC vectors: round trips with fresh randomness, and every
refusal a client, a signer or a verifier relies on (altered message, another key, altered or
short signatures, a malformed blinded message, a key published with other parameters)."""

from __future__ import annotations

import pytest

from hub.anonymity import blindrsa
from hub.anonymity.errors import AnonymityError, InvalidSignature, UnexpectedInputSize
from hub.common.errors import InvalidValue

VARIANTS = list(blindrsa.VARIANTS.values())


@pytest.fixture(scope="module")
def key() -> blindrsa.PrivateKey:
    return blindrsa.PrivateKey.generate(2048)


@pytest.fixture(scope="module")
def other_key() -> blindrsa.PrivateKey:
    return blindrsa.PrivateKey.generate(2048)


def _issue(key: blindrsa.PrivateKey, msg: bytes, variant: blindrsa.Variant) -> tuple[bytes, bytes]:
    prepared = blindrsa.prepare(msg, variant)
    blinded = blindrsa.blind(key.public_key, prepared, variant)
    blind_sig = blindrsa.blind_sign(key, blinded.blinded_msg)
    return prepared, blindrsa.finalize(key.public_key, prepared, blind_sig, blinded.inv, variant)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_round_trip(key: blindrsa.PrivateKey, variant: blindrsa.Variant) -> None:
    prepared, sig = _issue(key, b"a submission token input", variant)
    blindrsa.verify(key.public_key, prepared, sig, variant)
    assert blindrsa.message_of(prepared, variant) == b"a submission token input"
    # an ordinary RSASSA-PSS signature: cryptography's own verification accepts it
    key.public_key.to_cryptography().verify(sig, prepared, variant.pss(), blindrsa.hashes.SHA384())


def test_the_signer_sees_neither_message_nor_signature(key: blindrsa.PrivateKey) -> None:
    variant = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
    msg = b"the same message twice"
    first = blindrsa.blind(key.public_key, msg, variant)
    second = blindrsa.blind(key.public_key, msg, variant)
    assert first.blinded_msg != second.blinded_msg  # fresh blind and salt each time
    sigs = [blindrsa.finalize(key.public_key, msg, blindrsa.blind_sign(key, b.blinded_msg), b.inv, variant)
            for b in (first, second)]
    assert sigs[0] != sigs[1]  # 48-byte random salt: the signatures differ too
    assert msg not in first.blinded_msg and sigs[0] != first.blinded_msg
    assert "inv" not in repr(first) and str(first.inv) not in repr(first)


def test_randomized_preparation_adds_a_fresh_prefix() -> None:
    variant = blindrsa.RSABSSA_SHA384_PSS_RANDOMIZED
    a, b = blindrsa.prepare(b"m", variant), blindrsa.prepare(b"m", variant)
    assert len(a) == blindrsa.PREFIX_LEN + 1 and a != b and a.endswith(b"m")
    assert blindrsa.prepare(b"m", blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC) == b"m"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_an_altered_message_is_refused(key: blindrsa.PrivateKey, variant: blindrsa.Variant) -> None:
    prepared, sig = _issue(key, b"report 1", variant)
    altered = prepared[:-1] + bytes([prepared[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        blindrsa.verify(key.public_key, altered, sig, variant)


def test_a_forged_signature_is_refused(key: blindrsa.PrivateKey) -> None:
    variant = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
    prepared, sig = _issue(key, b"report", variant)
    for forged in (sig[:-1] + bytes([sig[-1] ^ 0x80]), bytes(len(sig)), b"\xff" * len(sig)):
        with pytest.raises(InvalidSignature):
            blindrsa.verify(key.public_key, prepared, forged, variant)
    with pytest.raises(InvalidSignature):
        blindrsa.verify(key.public_key, prepared, sig[:-1], variant)


def test_another_key_is_refused(key: blindrsa.PrivateKey, other_key: blindrsa.PrivateKey) -> None:
    variant = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
    prepared, sig = _issue(key, b"report", variant)
    with pytest.raises(InvalidSignature):
        blindrsa.verify(other_key.public_key, prepared, sig, variant)


def test_finalize_refuses_a_blind_signature_made_with_another_key(
        key: blindrsa.PrivateKey, other_key: blindrsa.PrivateKey) -> None:
    variant = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
    # A blinded message is uniform below this key's modulus; the other key signs one below its own.
    while True:
        blinded = blindrsa.blind(key.public_key, b"msg", variant)
        if int.from_bytes(blinded.blinded_msg, "big") < other_key.public_key.n:
            break
    wrong = blindrsa.blind_sign(other_key, blinded.blinded_msg)
    with pytest.raises(InvalidSignature):
        blindrsa.finalize(key.public_key, b"msg", wrong, blinded.inv, variant)
    with pytest.raises(UnexpectedInputSize):
        blindrsa.finalize(key.public_key, b"msg", wrong[1:], blinded.inv, variant)


def test_a_signature_of_one_variant_does_not_verify_as_another(key: blindrsa.PrivateKey) -> None:
    prepared, sig = _issue(key, b"msg", blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC)
    with pytest.raises(InvalidSignature):
        blindrsa.verify(key.public_key, prepared, sig, blindrsa.RSABSSA_SHA384_PSSZERO_DETERMINISTIC)


def test_blind_sign_refuses_malformed_input(key: blindrsa.PrivateKey) -> None:
    n_len = key.public_key.modulus_len
    with pytest.raises(UnexpectedInputSize):
        blindrsa.blind_sign(key, b"\x01" * (n_len - 1))
    with pytest.raises(AnonymityError, match="not below the key's modulus"):
        blindrsa.blind_sign(key, b"\xff" * n_len)
    # every error is a 400-class InvalidValue the services can turn into a refusal
    assert issubclass(UnexpectedInputSize, InvalidValue)


def test_small_keys_are_refused() -> None:
    small = blindrsa.rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(AnonymityError, match="at least 2048 bits"):
        blindrsa.PrivateKey(small)


def test_spki_is_rsassa_pss_with_the_variant_parameters(key: blindrsa.PrivateKey) -> None:
    spki = key.public_key.spki()
    # RFC 9578 section 6.5: id-RSASSA-PSS, SHA-384, MGF1-SHA-384, salt length 48 (0x30)
    assert spki[4:4 + 63] == bytes.fromhex(
        "303d06092a864886f70d01010a3030a00d300b0609608648016503040202a11a301806092a864886f70d010108"
        "300b0609608648016503040202a203020130")
    assert blindrsa.PublicKey.from_spki(spki) == key.public_key
    zero = key.public_key.spki(blindrsa.RSABSSA_SHA384_PSSZERO_DETERMINISTIC)
    assert blindrsa.PublicKey.from_spki(zero, blindrsa.RSABSSA_SHA384_PSSZERO_DETERMINISTIC) == key.public_key
    with pytest.raises(AnonymityError, match="parameters of RSABSSA-SHA384-PSS-Deterministic"):
        blindrsa.PublicKey.from_spki(zero)
    rsa_encryption = key.public_key.to_cryptography().public_bytes(
        blindrsa.serialization.Encoding.DER, blindrsa.serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(AnonymityError):
        blindrsa.PublicKey.from_spki(rsa_encryption)
    with pytest.raises(AnonymityError, match="not a DER"):
        blindrsa.PublicKey.from_spki(b"\x30\x03\x02\x01\x00")


def test_private_key_pem_round_trip_and_repr(key: blindrsa.PrivateKey) -> None:
    again = blindrsa.PrivateKey.from_pem(key.to_pem())
    assert again.public_key == key.public_key
    assert repr(again) == "PrivateKey(bits=2048)"
    locked = key.to_pem(b"secret")
    assert blindrsa.PrivateKey.from_pem(locked, b"secret").public_key == key.public_key
    with pytest.raises(AnonymityError):
        blindrsa.PrivateKey.from_pem(locked, b"wrong")
    with pytest.raises(AnonymityError):
        blindrsa.PrivateKey.from_pem(b"not a key")
