"""Signing and verification keys: Ed25519 and ECDSA P-256, as PEM and as JWK.

A key's id is its RFC 7638 JWK thumbprint (SHA-256), so anyone holding the public JWK can
compute it and nothing has to be assigned or kept unique by hand.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, Union

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from hub.common.canonical import b64url_decode, b64url_encode, canonicalize
from hub.common.quoting import json_type as _json_type
from hub.common.quoting import show as _show
from hub.signing.errors import KeyFormatError

#: The signature algorithms the hub accepts, as written in a signature entry and a JWK ``alg``.
Algorithm = Literal["Ed25519", "ES256"]
ALGORITHMS: tuple[str, ...] = ("Ed25519", "ES256")

_PublicKey = Union[Ed25519PublicKey, ec.EllipticCurvePublicKey]
_PrivateKey = Union[Ed25519PrivateKey, ec.EllipticCurvePrivateKey]

# RFC 7638 section 3.2: the required members of each key type, the only input of the thumbprint.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),  # RFC 7518 section 6.2.1
    "OKP": ("crv", "kty", "x"),  # RFC 8037 section 2
    "RSA": ("e", "kty", "n"),  # RFC 7518 section 6.3.1
    "oct": ("k", "kty"),  # RFC 7518 section 6.4.1
}

# Members that exist only in private JWKs (RFC 7518 sections 6.2.2, 6.3.2, 6.4; RFC 8037 section 2).
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

# "alg" values a JWK may carry for each key type. "EdDSA" (RFC 8037) is the polymorphic name
# RFC 9864 deprecates in favour of the fully specified "Ed25519"; accept both on input.
_ALG_FOR = {"OKP": {"Ed25519": "Ed25519", "EdDSA": "Ed25519"}, "EC": {"ES256": "ES256"}}

_P256_BYTES = 32  # RFC 7518 section 6.2.1.2: coordinates are the full 32 octets for P-256
_ED25519_BYTES = 32  # RFC 8037 section 2: x is the 32-octet public key


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a JWK, base64url without padding.

    Only the required members of the key type enter the hash (kid, alg, use and the private
    members do not). Supports EC, OKP, RSA and oct keys. Raises :class:`KeyFormatError` if
    ``kty`` is unknown or a required member is missing or not a string.
    """
    if not isinstance(jwk, dict):
        raise KeyFormatError(f"a JWK must be a JSON object, got {_json_type(jwk)}")
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise KeyFormatError(f"cannot compute a thumbprint for kty {_show(kty)}: "
                             "expected one of EC, OKP, RSA, oct")
    required: dict[str, str] = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            what = "missing" if value is None else f"a {_json_type(value)}, not a string"
            raise KeyFormatError(f"JWK member {name!r} is {what}")
        required[name] = value
    # RFC 7638 section 3.3: no whitespace, members in lexicographic order; for the ASCII names
    # and base64url values of a JWK this is exactly the RFC 8785 form.
    return b64url_encode(hashlib.sha256(canonicalize(required)).digest())


class VerifyKey:
    """A public key that verifies signatures of one algorithm (``Ed25519`` or ``ES256``).

    The underlying ``cryptography`` key is loaded once, so verifying costs only the primitive.
    """

    __slots__ = ("_key", "_alg", "_jwk", "_key_id")

    def __init__(self, key: _PublicKey) -> None:
        """Wrap a ``cryptography`` Ed25519 or P-256 public key."""
        if isinstance(key, Ed25519PublicKey):
            alg = "Ed25519"
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.public_bytes_raw())}
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            alg = "ES256"
            numbers = key.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(numbers.x.to_bytes(_P256_BYTES, "big")),
                "y": b64url_encode(numbers.y.to_bytes(_P256_BYTES, "big")),
            }
        else:
            raise KeyFormatError(f"unsupported public key {type(key).__name__}: "
                                 "the hub verifies Ed25519 and ECDSA P-256 (ES256) keys")
        self._key: _PublicKey = key
        self._alg: str = alg
        self._jwk: dict[str, str] = jwk
        self._key_id: str = jwk_thumbprint(jwk)

    @property
    def alg(self) -> str:
        """The signature algorithm of this key: ``"Ed25519"`` or ``"ES256"``."""
        return self._alg

    @property
    def key_id(self) -> str:
        """The RFC 7638 SHA-256 thumbprint of the public JWK."""
        return self._key_id

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> VerifyKey:
        """Load a public JWK: OKP/Ed25519 (RFC 8037) or EC/P-256 (RFC 7518 section 6.2).

        Raises :class:`KeyFormatError` naming the problem if the JWK carries private material,
        has an unknown ``kty`` or ``crv``, a coordinate of the wrong length or not in base64url,
        a point off the curve, an ``alg`` or ``use`` that does not fit a verification key of its
        type, or a ``kid`` that is not its thumbprint (the hub names keys by thumbprint).
        """
        if not isinstance(jwk, dict):
            raise KeyFormatError(f"a JWK must be a JSON object, got {_json_type(jwk)}")
        private = [m for m in _PRIVATE_MEMBERS if m in jwk]
        if private:
            raise KeyFormatError(
                f"the JWK carries private key material ({', '.join(repr(m) for m in private)}); "
                "offer the public key only and keep the private key to yourself"
            )
        kty = jwk.get("kty")
        if kty is None:
            raise KeyFormatError("the JWK has no 'kty' member")
        if kty not in _ALG_FOR:
            raise KeyFormatError(f"unsupported kty {_show(kty)}: expected 'OKP' (crv Ed25519) "
                                 "or 'EC' (crv P-256)")
        crv = jwk.get("crv")
        expected_crv = "Ed25519" if kty == "OKP" else "P-256"
        if crv != expected_crv:
            raise KeyFormatError(f"unsupported crv {_show(crv)} for kty {kty!r}: "
                                 f"expected {expected_crv!r}")
        alg = jwk.get("alg")
        if alg is not None and alg not in _ALG_FOR[kty]:
            fits = " or ".join(repr(a) for a in _ALG_FOR[kty])
            raise KeyFormatError(f"alg {_show(alg)} does not fit a {kty}/{crv} key: expected {fits}")
        use = jwk.get("use")
        if use is not None and use != "sig":
            raise KeyFormatError(f"use {_show(use)} does not fit a signature key: expected 'sig'")
        key_ops = jwk.get("key_ops")
        if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
            raise KeyFormatError("key_ops must be a list containing 'verify'")

        key: _PublicKey
        if kty == "OKP":
            x = _coordinate(jwk, "x", _ED25519_BYTES, "Ed25519")
            key = Ed25519PublicKey.from_public_bytes(x)
        else:
            x = _coordinate(jwk, "x", _P256_BYTES, "P-256")
            y = _coordinate(jwk, "y", _P256_BYTES, "P-256")
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            try:
                key = numbers.public_key()
            except ValueError:
                raise KeyFormatError("the point (x, y) is not on the P-256 curve") from None
        result = cls(key)
        kid = jwk.get("kid")
        if kid is not None and kid != result.key_id:
            raise KeyFormatError(
                f"kid {_show(kid)} is not the RFC 7638 thumbprint of the key "
                f"({result.key_id}); the hub names keys by thumbprint: drop 'kid' or set it to that"
            )
        return result

    def to_jwk(self) -> dict[str, str]:
        """Return the public JWK with ``alg``, ``use`` and ``kid`` (the thumbprint)."""
        return {**self._jwk, "alg": self._alg, "use": "sig", "kid": self._key_id}

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Return whether ``signature`` is this key's signature of ``data``.

        For ES256 the signature is the 64-byte ``r || s`` of JWS (RFC 7518 section 3.4).
        """
        try:
            if self._alg == "Ed25519":
                self._key.verify(signature, data)  # type: ignore[call-arg]
            else:
                if len(signature) != 2 * _P256_BYTES:
                    return False
                der = encode_dss_signature(
                    int.from_bytes(signature[:_P256_BYTES], "big"),
                    int.from_bytes(signature[_P256_BYTES:], "big"),
                )
                self._key.verify(der, data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self._key_id == other._key_id

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __repr__(self) -> str:
        return f"VerifyKey(alg={self._alg!r}, key_id={self._key_id!r})"


class SigningKey:
    """A private key that signs with ``Ed25519`` or ``ES256``.

    Private keys belong to the organisations that sign; the hub holds one only to countersign, or
    when an organisation runs its own hub that signs for its analysts (docs/SIGNING.md, "Keys").
    """

    __slots__ = ("_key", "_public")

    def __init__(self, key: _PrivateKey) -> None:
        """Wrap a ``cryptography`` Ed25519 or P-256 private key."""
        if not isinstance(key, Ed25519PrivateKey) and not (
            isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
        ):
            raise KeyFormatError(f"unsupported private key {type(key).__name__}: "
                                 "the hub signs with Ed25519 or ECDSA P-256 (ES256) keys")
        self._key: _PrivateKey = key
        self._public = VerifyKey(key.public_key())

    @classmethod
    def generate(cls, alg: str = "Ed25519") -> SigningKey:
        """Generate a fresh key for ``alg`` (``"Ed25519"`` or ``"ES256"``)."""
        if alg == "Ed25519":
            return cls(Ed25519PrivateKey.generate())
        if alg == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        raise KeyFormatError(f"unknown algorithm {_show(alg)}: expected one of {', '.join(ALGORITHMS)}")

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """Load an unencrypted PEM private key (PKCS8, or the traditional EC form).

        Raises :class:`KeyFormatError` if the data is not such a key, is encrypted, or is of a
        type the hub does not sign with.
        """
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            raise KeyFormatError("the PEM private key is encrypted; "
                                 "decrypt it first (the hub reads unencrypted PKCS8)") from None
        except (ValueError, UnsupportedAlgorithm):
            raise KeyFormatError("not a PEM private key the hub can read "
                                 "(expected '-----BEGIN PRIVATE KEY-----', PKCS8)") from None
        if not isinstance(key, (Ed25519PrivateKey, ec.EllipticCurvePrivateKey)):
            raise KeyFormatError(f"unsupported private key {type(key).__name__}: "
                                 "the hub signs with Ed25519 or ECDSA P-256 (ES256) keys")
        return cls(key)

    def to_pem(self) -> bytes:
        """Return the private key as unencrypted PKCS8 PEM; protect the result like the key."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> VerifyKey:
        """The matching public key."""
        return self._public

    @property
    def alg(self) -> str:
        """The signature algorithm of this key: ``"Ed25519"`` or ``"ES256"``."""
        return self._public.alg

    @property
    def key_id(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return self._public.key_id

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``; for ES256 the result is the 64-byte ``r || s`` of JWS."""
        if isinstance(self._key, Ed25519PrivateKey):
            return self._key.sign(data)
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")

    def __repr__(self) -> str:
        # Never show key material.
        return f"SigningKey(alg={self.alg!r}, key_id={self.key_id!r})"


def _coordinate(jwk: dict[str, Any], name: str, size: int, curve: str) -> bytes:
    value = jwk.get(name)
    if value is None:
        raise KeyFormatError(f"the JWK has no {name!r} member")
    if not isinstance(value, str):
        raise KeyFormatError(f"JWK member {name!r} must be a base64url string, got {_json_type(value)}")
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise KeyFormatError(f"JWK member {name!r} {exc}") from None
    if len(raw) != size:
        raise KeyFormatError(f"JWK member {name!r} must be {size} bytes for {curve}, got {len(raw)}")
    return raw

