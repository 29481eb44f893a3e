"""The sealed link between an anonymous report and its submitter: HPKE (RFC 9180) to an oversight
key whose private half the hub never holds.

When a provider files anonymously, the record of who it was (:class:`EscrowRecord`: the
submitter's party name and identity id, the report's id and hash, the time) is sealed to the
oversight public key and only the sealed form is kept::

    sealed = seal(record, oversight_public, hub="hub.example")   # a JSON-able dict, no plain text
    record = open_sealed(sealed, oversight_private)              # elsewhere, by the oversight body

The suite is HPKE base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM,
``cryptography``'s single-shot :class:`~cryptography.hazmat.primitives.hpke.Suite` (a fresh
ephemeral key per record: two sealings of one record look unrelated). The context is bound in
HPKE's ``info`` (:func:`escrow_info`: the format version, the purpose, the hub's name and the
report id), so a sealed record opens only as the record of that report on that hub: moving it to
another report, or altering any clear field, makes it fail to open like a wrong key does. The
plaintext is the record's canonical JSON (RFC 8785) padded with spaces to a multiple of
:data:`PAD_TO` bytes, so the sealed size does not tell one submitter's name from another's.

HPKE hides the link; it cannot prove it true. In the attested mode the hub writes the record, so
it is as true as the hub; in the token mode only the submitter's client can write it (the hub
never learns who files), and what the oversight learns from a record that does not hold up is
said in docs/ANONYMITY.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from hub.anonymity.errors import EscrowError
from hub.common.canonical import b64url_decode, b64url_encode, canonicalize

__all__ = [
    "ESCROW_TYPE",
    "ESCROW_VERSION",
    "PAD_TO",
    "PURPOSE",
    "SIGNED_PURPOSE",
    "SUITE_NAME",
    "EscrowRecord",
    "OversightPrivateKey",
    "OversightPublicKey",
    "escrow_info",
    "open_sealed",
    "seal",
]

ESCROW_TYPE = "abusehub-escrow"
ESCROW_VERSION = 1
PURPOSE = "the submitter of an anonymous report"
SUITE_NAME = "HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM"
PAD_TO = 512
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
_ENC_LEN = 32
_TAG_LEN = 16
_MAX_SEALED_TEXT = 64 * 1024
_RECORD_FIELDS = ("submitter", "identity_id", "report_id", "report_hash", "time")
#: The fields a record made by the submitter's own client adds (the token mode): the id of the
#: signing key registered to it and its signature over :meth:`EscrowRecord.signing_input`.
_SIGNED_FIELDS = ("key_id", "signature")
#: What a submitter's signature over its own record is for (part of what it signs).
SIGNED_PURPOSE = "abusehub submitter record, signed by its submitter, v1"
_SEALED_FIELDS = {"type", "version", "suite", "hub", "report_id", "oversight_key", "sealed"}


@dataclass(frozen=True)
class EscrowRecord:
    """Who filed a report: the submitter's party name and identity id, the report's id and
    hash (``sha256:<hex>`` of its canonical form, say), and when (a STIX timestamp). Its repr
    names the report only."""

    submitter: str
    identity_id: str
    report_id: str
    report_hash: str
    time: str
    #: Made by the submitter's client (token mode): its registered key's id and its signature
    #: (base64url) over :meth:`signing_input`; both empty in a record the hub made.
    key_id: str = ""
    signature: str = ""

    def __post_init__(self) -> None:
        for name in _RECORD_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise EscrowError(f"an escrow record's {name} is a non-empty string")
        if not isinstance(self.key_id, str) or not isinstance(self.signature, str) \
                or bool(self.key_id) != bool(self.signature):
            raise EscrowError("an escrow record's key_id and signature are strings, both given or neither")

    def signing_input(self) -> bytes:
        """What a submitter signs of its own record: the canonical JSON of its five fields and
        :data:`SIGNED_PURPOSE`."""
        return canonicalize({"purpose": SIGNED_PURPOSE, **{name: getattr(self, name) for name in _RECORD_FIELDS}})

    def plaintext(self) -> bytes:
        """The canonical JSON of the record (without ``key_id`` and ``signature`` when they are
        empty), padded with spaces to a multiple of :data:`PAD_TO` bytes (JSON parsers ignore
        trailing white space)."""
        fields = {k: v for k, v in asdict(self).items() if k in _RECORD_FIELDS or v}
        text = canonicalize(fields)
        return text + b" " * (-len(text) % PAD_TO)

    @classmethod
    def from_plaintext(cls, data: bytes) -> EscrowRecord:
        try:
            obj = json.loads(data)
        except ValueError:
            raise EscrowError("the opened record is not JSON") from None
        if not isinstance(obj, dict) or set(obj) not in (set(_RECORD_FIELDS), {*_RECORD_FIELDS, *_SIGNED_FIELDS}):
            raise EscrowError(f"the opened record does not hold exactly {', '.join(_RECORD_FIELDS)} "
                              f"(and, made by its submitter, {' and '.join(_SIGNED_FIELDS)})")
        return cls(**obj)

    def __repr__(self) -> str:
        return f"EscrowRecord(report_id={self.report_id!r}, <sealed fields hidden>)"


def escrow_info(hub: str, report_id: str) -> bytes:
    """HPKE's ``info`` for the record of ``report_id`` on the hub named ``hub``: the canonical
    JSON of the format, its version, the purpose, the hub and the report."""
    return canonicalize({"type": ESCROW_TYPE, "version": ESCROW_VERSION, "purpose": PURPOSE,
                         "hub": hub, "report_id": report_id})


# -- keys ------------------------------------------------------------------------------------------

class OversightPublicKey:
    """The X25519 public key records are sealed to; :attr:`key_id` is the SHA-256 of its 32 raw
    bytes in hexadecimal (what a sealed record names, so the opener knows which key it needs)."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: x25519.X25519PublicKey) -> None:
        self._key = key
        self.key_id = hashlib.sha256(self.raw()).hexdigest()

    def raw(self) -> bytes:
        return self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def to_pem(self) -> bytes:
        return self._key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def from_pem(cls, pem: bytes) -> OversightPublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise EscrowError("not a PEM X25519 public key") from None
        if not isinstance(key, x25519.X25519PublicKey):
            raise EscrowError("not a PEM X25519 public key")
        return cls(key)

    def to_cryptography(self) -> x25519.X25519PublicKey:
        return self._key

    def __repr__(self) -> str:
        return f"OversightPublicKey({self.key_id[:16]}...)"


class OversightPrivateKey:
    """The oversight body's X25519 private key. Kept off the hub; its repr names its public key
    only."""

    __slots__ = ("_key", "public_key")

    def __init__(self, key: x25519.X25519PrivateKey) -> None:
        self._key = key
        self.public_key = OversightPublicKey(key.public_key())

    @classmethod
    def generate(cls) -> OversightPrivateKey:
        return cls(x25519.X25519PrivateKey.generate())

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> OversightPrivateKey:
        """The key in PKCS#8 PEM; :class:`EscrowError` for anything else or a wrong password
        (:meth:`needs_password` tells whether one is needed)."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise EscrowError("not a PEM X25519 private key, or the wrong passphrase") from None
        if not isinstance(key, x25519.X25519PrivateKey):
            raise EscrowError("not a PEM X25519 private key")
        return cls(key)

    @staticmethod
    def needs_password(pem: bytes) -> bool:
        return b"ENCRYPTED PRIVATE KEY" in pem

    def __repr__(self) -> str:
        return f"OversightPrivateKey(public={self.public_key.key_id[:16]}...)"


# -- sealing and opening ---------------------------------------------------------------------------

def seal(record: EscrowRecord, oversight: OversightPublicKey, hub: str) -> dict[str, Any]:
    """The sealed form of ``record`` for the oversight key: a JSON-able dict whose only clear
    fields are the format, the suite, the hub's name, the report id and the oversight key id;
    ``sealed`` is base64url of HPKE's ``enc`` (32 bytes) then the ciphertext."""
    if not hub:
        raise EscrowError("the hub's name is needed to seal a record")
    sealed = _SUITE.encrypt(record.plaintext(), oversight.to_cryptography(), info=escrow_info(hub, record.report_id))
    return {"type": ESCROW_TYPE, "version": ESCROW_VERSION, "suite": SUITE_NAME, "hub": hub,
            "report_id": record.report_id, "oversight_key": oversight.key_id, "sealed": b64url_encode(sealed)}


def _sealed_bytes(sealed: dict[str, Any]) -> bytes:
    if not isinstance(sealed, dict) or set(sealed) != _SEALED_FIELDS:
        raise EscrowError("not a sealed escrow record (its fields are "
                          f"{', '.join(sorted(_SEALED_FIELDS))})")
    if sealed["type"] != ESCROW_TYPE or sealed["version"] != ESCROW_VERSION or sealed["suite"] != SUITE_NAME:
        raise EscrowError(f"not a sealed escrow record of version {ESCROW_VERSION} with this suite")
    for name in ("hub", "report_id", "sealed"):
        if not isinstance(sealed[name], str) or not sealed[name]:
            raise EscrowError(f"a sealed escrow record's {name} is a non-empty string")
    if len(sealed["sealed"]) > _MAX_SEALED_TEXT:
        raise EscrowError("the sealed record is too long")
    try:
        data = b64url_decode(sealed["sealed"])
    except ValueError:
        raise EscrowError("a sealed escrow record's sealed value is not base64url") from None
    if len(data) < _ENC_LEN + _TAG_LEN + PAD_TO:
        raise EscrowError("the sealed record is too short")
    return data


def open_sealed(sealed: dict[str, Any], oversight: OversightPrivateKey) -> EscrowRecord:
    """The record in ``sealed``; :class:`EscrowError` if it is not a sealed record, was sealed
    to another key, or was altered (its ciphertext or any clear field), or if the record inside
    is not the record of the report the clear fields name."""
    data = _sealed_bytes(sealed)
    if sealed["oversight_key"] != oversight.public_key.key_id:
        raise EscrowError(f"the record is sealed to another oversight key ({str(sealed['oversight_key'])[:16]}...)")
    try:
        plaintext = _SUITE.decrypt(data, oversight._key, info=escrow_info(sealed["hub"], sealed["report_id"]))
    except InvalidTag:
        raise EscrowError("the sealed record does not open with this key: another key, or it was altered") from None
    record = EscrowRecord.from_plaintext(plaintext)
    if record.report_id != sealed["report_id"]:
        raise EscrowError("the opened record is not the record of the report it is filed under")
    return record
