"""The escrow's HPKE is RFC 9180's, checked independently of ``cryptography``'s HPKE.

``cryptography`` seals in base mode with no fixed ephemeral key and no AAD, so the RFC's
ciphertexts cannot be reproduced through it. Instead this file holds a second, minimal
implementation of the base-mode receiver and sender (DHKEM(X25519, HKDF-SHA256) Encap/Decap,
the key schedule with HKDF-SHA256, AES-128-GCM), checks it against RFC 9180 Appendix A.1.1
(shared secret, key schedule context, secret, key, base nonce, the sequence-0 ciphertext), and
then opens with it what :func:`hub.anonymity.escrow.seal` wrote, and seals with it what
:func:`hub.anonymity.escrow.open_sealed` opens: the two interoperate both ways.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.anonymity.escrow import EscrowRecord, OversightPrivateKey, escrow_info, open_sealed, seal
from hub.common.canonical import b64url_decode, b64url_encode

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0001
KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big")

# RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode
A11 = {k: bytes.fromhex(v) for k, v in {
    "info": "4f6465206f6e2061204772656369616e2055726e",
    "skEm": "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
    "pkEm": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    "skRm": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    "pkRm": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    "enc": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    "shared_secret": "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
    "key_schedule_context": "00725611c9d98c07c03f60095cd32d400d8347d45ed67097bbad50fc56da742d07cb6cffde367bb0565ba28"
                            "bb02c90744a20f5ef37f30523526106f637abb05449",
    "secret": "12fff91991e93b48de37e7daddb52981084bd8aa64289c3788471d9a9712f397",
    "key": "4531685d41d65f03dc48f6b8302c05b0",
    "base_nonce": "56d890e5accaaf011cff4b7d",
    "pt": "4265617574792069732074727574682c20747275746820626561757479",
    "aad0": "436f756e742d30",
    "ct0": "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
}.items()}


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _raw(key: x25519.X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _shared_secret(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    eae_prk = _labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return _labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + pk_r, 32)


def _key_schedule(shared_secret: bytes, info: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    psk_id_hash = _labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(HPKE_SUITE, shared_secret, b"secret", b"")
    return (context, secret, _labeled_expand(HPKE_SUITE, secret, b"key", context, 16),
            _labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12))


def _open(sk_r: x25519.X25519PrivateKey, enc: bytes, ct: bytes, info: bytes, aad: bytes = b"") -> bytes:
    shared = _shared_secret(sk_r.exchange(x25519.X25519PublicKey.from_public_bytes(enc)), enc, _raw(sk_r.public_key()))
    _, _, key, nonce = _key_schedule(shared, info)
    return AESGCM(key).decrypt(nonce, ct, aad)


def _seal(pk_r: x25519.X25519PublicKey, pt: bytes, info: bytes, sk_e: x25519.X25519PrivateKey) -> bytes:
    enc = _raw(sk_e.public_key())
    _, _, key, nonce = _key_schedule(_shared_secret(sk_e.exchange(pk_r), enc, _raw(pk_r)), info)
    return enc + AESGCM(key).encrypt(nonce, pt, b"")


def test_the_independent_implementation_reproduces_rfc9180_a_1_1() -> None:
    sk_e = x25519.X25519PrivateKey.from_private_bytes(A11["skEm"])
    sk_r = x25519.X25519PrivateKey.from_private_bytes(A11["skRm"])
    assert _raw(sk_e.public_key()) == A11["pkEm"] == A11["enc"] and _raw(sk_r.public_key()) == A11["pkRm"]
    shared = _shared_secret(sk_e.exchange(sk_r.public_key()), A11["enc"], A11["pkRm"])
    assert shared == A11["shared_secret"]
    assert _key_schedule(shared, A11["info"]) == (A11["key_schedule_context"], A11["secret"], A11["key"],
                                                  A11["base_nonce"])
    assert AESGCM(A11["key"]).encrypt(A11["base_nonce"], A11["pt"], A11["aad0"]) == A11["ct0"]
    assert _open(sk_r, A11["enc"], A11["ct0"], A11["info"], A11["aad0"]) == A11["pt"]


RECORD = EscrowRecord("acme-cloud", "identity--6b1f3c43-0b51-4c5e-9b57-2f2d1f0c9a11",
                      "report--0f9c8e2a-55b7-4d3c-8d8e-2c7a1e6f3b21", "sha256:" + "ef" * 32, "2026-12-07T18:30:00Z")


@pytest.fixture()
def oversight() -> tuple[OversightPrivateKey, x25519.X25519PrivateKey]:
    raw = os.urandom(32)
    pem = x25519.X25519PrivateKey.from_private_bytes(raw).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return OversightPrivateKey.from_pem(pem), x25519.X25519PrivateKey.from_private_bytes(raw)


def test_what_seal_writes_opens_with_rfc9180(oversight: tuple[OversightPrivateKey, x25519.X25519PrivateKey]) -> None:
    hub_key, independent = oversight
    sealed = seal(RECORD, hub_key.public_key, hub="hub.example")
    data = b64url_decode(sealed["sealed"])
    plaintext = _open(independent, data[:32], data[32:], escrow_info("hub.example", RECORD.report_id))
    assert plaintext == RECORD.plaintext()


def test_what_rfc9180_seals_opens_with_open_sealed(
        oversight: tuple[OversightPrivateKey, x25519.X25519PrivateKey]) -> None:
    hub_key, independent = oversight
    data = _seal(independent.public_key(), RECORD.plaintext(), escrow_info("hub.example", RECORD.report_id),
                 x25519.X25519PrivateKey.generate())
    template = seal(RECORD, hub_key.public_key, hub="hub.example")
    assert open_sealed(dict(template, sealed=b64url_encode(data)), hub_key) == RECORD
