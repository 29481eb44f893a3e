"""Keys: RFC 7638 thumbprints, JWK import and export, PEM, the raw signature formats."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hub.signing import (
    KeyFormatError,
    SigningKey,
    VerifyKey,
    b64url_encode,
    jwk_thumbprint,
)
from tests.signing.vectors import RFC8037_D, RFC8037_X, b64d

# RFC 7638 section 3.1.
RFC7638_RSA = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
         "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi"
         "cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRw"
         "r3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

# RFC 8037 appendix A.2 (public key) and A.3 (its thumbprint).
RFC8037_PUBLIC = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

# RFC 7515 appendix A.3: a P-256 public key.
RFC7515_EC = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}


# ---------------------------------------------------------------- thumbprints


@pytest.mark.parametrize(
    "jwk, expected",
    [
        pytest.param(RFC7638_RSA, RFC7638_THUMBPRINT, id="RFC 7638 3.1 RSA"),
        pytest.param(RFC8037_PUBLIC, RFC8037_THUMBPRINT, id="RFC 8037 A.3 Ed25519"),
        pytest.param({**RFC8037_PUBLIC, "d": RFC8037_D, "kid": "x", "alg": "EdDSA", "use": "sig"},
                     RFC8037_THUMBPRINT, id="optional and private members ignored"),
    ],
)
def test_thumbprint_vectors(jwk: dict[str, Any], expected: str) -> None:
    assert jwk_thumbprint(jwk) == expected


def test_thumbprint_depends_on_the_key() -> None:
    other_x = b64url_encode(bytes(31) + b"\x01")
    assert jwk_thumbprint({**RFC8037_PUBLIC, "x": other_x}) != RFC8037_THUMBPRINT
    assert jwk_thumbprint({**RFC8037_PUBLIC, "crv": "Ed448"}) != RFC8037_THUMBPRINT


@pytest.mark.parametrize(
    "jwk, fragment",
    [
        ({"crv": "Ed25519", "x": RFC8037_X}, "cannot compute a thumbprint for kty None"),
        ({"kty": "XYZ"}, "cannot compute a thumbprint for kty 'XYZ'"),
        ({"kty": "OKP", "crv": "Ed25519"}, "JWK member 'x' is missing"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": 5}, "JWK member 'y' is a number, not a string"),
        ([], "a JWK must be a JSON object, got array"),
    ],
)
def test_thumbprint_errors(jwk: Any, fragment: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        jwk_thumbprint(jwk)
    assert fragment in str(info.value)


# ---------------------------------------------------------------- JWK import and export


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_jwk_round_trip(alg: str) -> None:
    public = SigningKey.generate(alg).public_key
    jwk = public.to_jwk()
    assert jwk["alg"] == alg and jwk["kid"] == public.key_id and jwk["use"] == "sig"
    assert "d" not in jwk
    assert jwk_thumbprint(jwk) == public.key_id
    loaded = VerifyKey.from_jwk(jwk)
    assert loaded == public and loaded.alg == alg and loaded.key_id == public.key_id
    assert hash(loaded) == hash(public)


def test_jwk_members_per_rfc() -> None:
    ed = SigningKey.generate("Ed25519").public_key.to_jwk()
    assert {k for k in ed} == {"kty", "crv", "x", "alg", "use", "kid"}
    assert (ed["kty"], ed["crv"], len(b64d(ed["x"]))) == ("OKP", "Ed25519", 32)
    es = SigningKey.generate("ES256").public_key.to_jwk()
    assert {k for k in es} == {"kty", "crv", "x", "y", "alg", "use", "kid"}
    assert (es["kty"], es["crv"], len(b64d(es["x"])), len(b64d(es["y"]))) == ("EC", "P-256", 32, 32)


@pytest.mark.parametrize(
    "jwk, alg",
    [
        pytest.param(RFC8037_PUBLIC, "Ed25519", id="RFC 8037 Ed25519"),
        pytest.param({**RFC8037_PUBLIC, "alg": "EdDSA"}, "Ed25519", id="RFC 8037 alg EdDSA"),
        pytest.param({**RFC8037_PUBLIC, "alg": "Ed25519", "kid": RFC8037_THUMBPRINT}, "Ed25519",
                     id="RFC 9864 alg Ed25519 with kid"),
        pytest.param({**RFC7515_EC, "key_ops": ["verify"]}, "ES256", id="RFC 7515 P-256"),
    ],
)
def test_from_jwk_accepts(jwk: dict[str, Any], alg: str) -> None:
    key = VerifyKey.from_jwk(jwk)
    assert key.alg == alg
    assert key.key_id == jwk_thumbprint(jwk)


RFC8037_PRIVATE = {**RFC8037_PUBLIC, "d": RFC8037_D}
EC_PRIVATE = {**RFC7515_EC, "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}


@pytest.mark.parametrize(
    "jwk, fragment",
    [
        pytest.param(RFC8037_PRIVATE, "the JWK carries private key material ('d'); offer the public key only",
                     id="Ed25519 private"),
        pytest.param(EC_PRIVATE, "private key material ('d')", id="EC private"),
        pytest.param({**RFC7638_RSA, "d": "AA", "p": "AA"}, "private key material ('d', 'p')", id="RSA private"),
        pytest.param({"kty": "oct", "k": "AAAA"}, "private key material ('k')", id="symmetric"),
        pytest.param("not a jwk", "a JWK must be a JSON object, got string", id="string"),
        pytest.param({"crv": "Ed25519", "x": RFC8037_X}, "the JWK has no 'kty' member", id="no kty"),
        pytest.param(RFC7638_RSA, "unsupported kty 'RSA': expected 'OKP' (crv Ed25519) or 'EC' (crv P-256)",
                     id="RSA"),
        pytest.param({**RFC8037_PUBLIC, "crv": "X25519"}, "unsupported crv 'X25519' for kty 'OKP': expected 'Ed25519'",
                     id="X25519"),
        pytest.param({**RFC7515_EC, "crv": "P-384"}, "unsupported crv 'P-384' for kty 'EC': expected 'P-256'",
                     id="P-384"),
        pytest.param({**RFC7515_EC, "crv": None}, "unsupported crv None", id="no crv"),
        pytest.param({**RFC8037_PUBLIC, "x": b64url_encode(bytes(31))}, "JWK member 'x' must be 32 bytes for Ed25519, got 31",
                     id="x short"),
        pytest.param({**RFC7515_EC, "y": RFC7515_EC["y"] + "AAAA"}, "JWK member 'y' must be 32 bytes for P-256, got 35",
                     id="y long"),
        pytest.param({**RFC8037_PUBLIC, "x": RFC8037_X + "="}, "JWK member 'x' is not base64url: it carries '='",
                     id="x padded"),
        pytest.param({**RFC8037_PUBLIC, "x": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                     "JWK member 'x' is not base64url: it uses '+' or '/'", id="x plain base64"),
        pytest.param({**RFC8037_PUBLIC, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR!"},
                     "JWK member 'x' is not base64url", id="x garbage"),
        pytest.param({"kty": "OKP", "crv": "Ed25519"}, "the JWK has no 'x' member", id="no x"),
        pytest.param({**RFC8037_PUBLIC, "x": 12}, "JWK member 'x' must be a base64url string, got number",
                     id="x number"),
        pytest.param({k: v for k, v in RFC7515_EC.items() if k != "y"}, "the JWK has no 'y' member", id="no y"),
        pytest.param({**RFC7515_EC, "y": RFC7515_EC["x"]}, "the point (x, y) is not on the P-256 curve",
                     id="off curve"),
        pytest.param({**RFC8037_PUBLIC, "alg": "ES256"}, "alg 'ES256' does not fit a OKP/Ed25519 key",
                     id="OKP with ES256"),
        pytest.param({**RFC7515_EC, "alg": "Ed25519"}, "alg 'Ed25519' does not fit a EC/P-256 key: expected 'ES256'",
                     id="EC with Ed25519"),
        pytest.param({**RFC7515_EC, "alg": "ES384"}, "alg 'ES384' does not fit", id="EC with ES384"),
        pytest.param({**RFC8037_PUBLIC, "use": "enc"}, "use 'enc' does not fit a signature key", id="use enc"),
        pytest.param({**RFC8037_PUBLIC, "key_ops": ["sign"]}, "key_ops must be a list containing 'verify'",
                     id="key_ops sign only"),
        pytest.param({**RFC8037_PUBLIC, "kid": "2026-key-1"},
                     f"kid '2026-key-1' is not the RFC 7638 thumbprint of the key ({RFC8037_THUMBPRINT})",
                     id="kid not thumbprint"),
    ],
)
def test_from_jwk_rejects(jwk: Any, fragment: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        VerifyKey.from_jwk(jwk)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, KeyError)


# ---------------------------------------------------------------- signing keys


def test_rfc8037_a4_signature(rfc8037_key: SigningKey) -> None:
    """RFC 8037 appendix A.4: the Ed25519 signature of a JWS signing input, bit for bit."""
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = b64d("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
    assert rfc8037_key.sign(signing_input) == expected
    assert rfc8037_key.key_id == RFC8037_THUMBPRINT
    assert rfc8037_key.public_key.verify(expected, signing_input)
    assert not rfc8037_key.public_key.verify(expected, signing_input + b".")


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_pem_round_trip(alg: str) -> None:
    key = SigningKey.generate(alg)
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    loaded = SigningKey.from_pem(pem)
    assert (loaded.alg, loaded.key_id, loaded.public_key) == (alg, key.key_id, key.public_key)
    assert key.public_key.verify(loaded.sign(b"data"), b"data")
    assert key.public_key.to_jwk()["x"] not in repr(key)
    assert pem.decode().splitlines()[1] not in repr(key)


def _pem(private_key: Any, encryption: Any = None) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        encryption or serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    "make_pem, fragment",
    [
        pytest.param(lambda: b"garbage", "not a PEM private key the hub can read", id="garbage"),
        pytest.param(lambda: _pem(ec.generate_private_key(ec.SECP256R1()),
                                  serialization.BestAvailableEncryption(b"secret")),
                     "the PEM private key is encrypted", id="encrypted"),
        pytest.param(lambda: _pem(ec.generate_private_key(ec.SECP384R1())),
                     "unsupported private key", id="P-384"),
        pytest.param(lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                     "unsupported private key", id="RSA"),
    ],
)
def test_from_pem_rejects(make_pem: Any, fragment: str) -> None:
    with pytest.raises(KeyFormatError, match=fragment):
        SigningKey.from_pem(make_pem())


def test_generate_rejects_unknown_algorithm() -> None:
    with pytest.raises(KeyFormatError, match="unknown algorithm 'RS256': expected one of Ed25519, ES256"):
        SigningKey.generate("RS256")


def test_es256_signature_is_raw_r_s() -> None:
    key = SigningKey.generate("ES256")
    signature = key.sign(b"data")
    assert len(signature) == 64
    jwk = key.public_key.to_jwk()
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64d(jwk["x"]), "big"), int.from_bytes(b64d(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, b"data", ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature if wrong
    # And the other way round: a signature made by the raw primitive, converted to r || s.
    assert not key.public_key.verify(der, b"data")  # DER is not accepted as the value


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
@pytest.mark.parametrize("signature", [b"", bytes(63), bytes(64), b"\xff" * 64, bytes(65)])
def test_verify_returns_false_for_junk(alg: str, signature: bytes) -> None:
    assert SigningKey.generate(alg).public_key.verify(signature, b"data") is False


def test_verify_key_wraps_only_supported_keys() -> None:
    with pytest.raises(KeyFormatError, match="unsupported public key"):
        VerifyKey(ec.generate_private_key(ec.SECP384R1()).public_key())  # type: ignore[arg-type]
    key = VerifyKey(Ed25519PublicKey.from_public_bytes(b64d(RFC8037_X)))
    assert key.key_id == RFC8037_THUMBPRINT and repr(key) == f"VerifyKey(alg='Ed25519', key_id='{RFC8037_THUMBPRINT}')"
