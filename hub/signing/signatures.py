"""Signatures carried inside STIX objects (docs/SIGNING.md), in the shape of JSS (ITU-T X.590).

An object's signatures are the list at
``obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]``. What one signature S covers: the
object with that list replaced by ``[S without "value"]``, in the signed form of S's version
(:mod:`hub.signing.forms`): for version 2, every STIX timestamp written in its shortest exact
form, then RFC 8785; for version 1 (entries without a ``version`` member), RFC 8785 alone. Each
signature therefore covers the whole object and its own metadata (its version included, so it
cannot be downgraded) but none of the other signatures, so a submitter's signature and later
countersignatures verify independently and in any order. The flip side, by design: removing a
signature leaves the others valid, so whether an object *must* carry a given signer's signature
is a policy question for the caller.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.common.canonical import b64url_decode, b64url_encode
from hub.common.errors import InvalidValue
from hub.common.ids import is_stix_id
from hub.common.quoting import json_type, show
from hub.common.timestamps import parse_timestamp_us
from hub.signing.errors import (
    CanonicalizationError,
    SignatureFormatError,
    SignatureInvalid,
)
from hub.signing.forms import SIGNATURE_VERSION, SIGNATURE_VERSIONS, signed_form
from hub.signing.keys import ALGORITHMS, SigningKey, VerifyKey

#: The STIX property-extension that carries an object's signatures (shipped in
#: ``schemas/signature/extension-definition.json``), fixed forever once published.
SIGNATURE_EXTENSION_ID = "extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a"
SIGNATURE_TYPE = "jss"
#: The hub's attestation of an anonymous report (docs/SIGNING.md, "Attestations"): the same
#: members and signed form as a signature, by the hub's key, saying that a registered provider
#: filed the object; its signer is the hub, never the submitter.
ATTESTATION_TYPE = "attestation"
_ENTRY_TYPES = (SIGNATURE_TYPE, ATTESTATION_TYPE)
EXTENSION_TYPE = "property-extension"

# The members of one entry of each version, in the order the hub writes them; no others are
# allowed, so that nothing in an entry escapes being understood by every verifier of its version.
# Version 1 entries carry no "version" member (they predate it); later ones name their version.
_MEMBERS = ("type", "algorithm", "signer", "key_id", "signed", "value")
_MEMBERS_BY_VERSION = {1: _MEMBERS, 2: ("type", "version", *_MEMBERS[1:])}
# How each version is written in the "version" member (None: no member).
_VERSION_TEXT: dict[int, str | None] = {1: None, 2: "2"}
_VERSION_OF_TEXT = {text: v for v, text in _VERSION_TEXT.items() if text is not None}
if not set(_MEMBERS_BY_VERSION) == set(_VERSION_TEXT) == set(SIGNATURE_VERSIONS):
    raise ImportError("hub.signing: the members of every signature version must be defined")
_BODY_MEMBERS = frozenset({"extension_type", "signatures"})
_SIGNATURE_BYTES = 64  # Ed25519 (RFC 8032) and ES256 r || s (RFC 7518 section 3.4) alike
_THUMBPRINT_CHARS = 43  # base64url of a SHA-256 digest

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SignatureEntry:
    """One parsed, well-formed signature entry of an object.

    ``index`` is its position in the object's ``signatures`` list (used in messages); ``value``
    is the decoded signature; ``signed`` is the timestamp exactly as written, ``signed_at`` the
    same instant as an aware UTC datetime (for checking the key's validity window); ``version``
    is the version of the scheme, which decides the signed form (1 for an entry without a
    ``version`` member).
    """

    index: int
    algorithm: str
    signer: str
    key_id: str
    signed: str
    signed_at: datetime
    value: bytes
    type: str = SIGNATURE_TYPE
    version: int = 1

    def metadata(self) -> dict[str, str]:
        """The entry as written in the object, without ``value``: the part the signature covers."""
        return {**_head(self.type, self.version), "algorithm": self.algorithm,
                "signer": self.signer, "key_id": self.key_id, "signed": self.signed}

    def to_json(self) -> dict[str, str]:
        """The entry as written in the object."""
        return {**self.metadata(), "value": b64url_encode(self.value)}


def signatures_of(obj: dict[str, Any]) -> list[SignatureEntry]:
    """Parse and check the signature entries of ``obj``, in order.

    Returns ``[]`` if the object carries no signature extension. Raises
    :class:`SignatureFormatError` naming the entry and member at fault if the extension or an
    entry is malformed: not a list, an unknown ``version``, a missing, unknown or non-string
    member, an unknown ``type`` or ``algorithm``, a ``value`` or ``key_id`` that is not base64url
    of the right length, a ``signed`` that is not a STIX timestamp, a ``signer`` that is not an
    identity id.
    """
    if not isinstance(obj, dict):
        raise SignatureFormatError(f"a signed object must be a JSON object, got {json_type(obj)}")
    extensions = obj.get("extensions")
    if extensions is None:
        return []
    if not isinstance(extensions, dict):
        raise SignatureFormatError(f"extensions must be an object, got {json_type(extensions)}")
    body = extensions.get(SIGNATURE_EXTENSION_ID)
    if body is None:
        return []
    where = f"extension {SIGNATURE_EXTENSION_ID}"
    if not isinstance(body, dict):
        raise SignatureFormatError(f"{where} must be an object, got {json_type(body)}")
    extension_type = body.get("extension_type")
    if extension_type != EXTENSION_TYPE:
        raise SignatureFormatError(f"{where}: extension_type must be {EXTENSION_TYPE!r}, "
                                   f"got {show(extension_type)}")
    unknown = body.keys() - _BODY_MEMBERS
    if unknown:
        raise SignatureFormatError(f"{where}: unknown member(s) {_names(unknown)}; "
                                   "only 'extension_type' and 'signatures' are defined")
    raw_list = body.get("signatures")
    if raw_list is None:
        raise SignatureFormatError(f"{where}: missing member 'signatures'")
    if not isinstance(raw_list, list):
        raise SignatureFormatError(f"{where}: signatures must be a list, got {json_type(raw_list)}")
    if not raw_list:
        raise SignatureFormatError(f"{where}: signatures is empty; "
                                   "drop the extension from an unsigned object")
    return [_parse_entry(i, raw) for i, raw in enumerate(raw_list)]


def signing_input(obj: dict[str, Any], entry: SignatureEntry | dict[str, Any]) -> bytes:
    """Return the bytes one signature covers (docs/SIGNING.md, "What is signed").

    That is ``obj`` with its ``signatures`` list replaced by the entry's metadata alone (the
    entry without ``value``), in the signed form of the entry's version: the timestamp rule, then
    RFC 8785 (version 2); RFC 8785 alone (version 1, an entry without ``version``). ``obj`` is
    not modified: only the containers on the paths that change are copied, shallowly. Raises
    :class:`CanonicalizationError` if the object has no canonical form,
    :class:`SignatureFormatError` if ``entry`` is a dict naming an unknown version.
    """
    if isinstance(entry, SignatureEntry):
        metadata, version = entry.metadata(), entry.version
    else:
        metadata = {k: v for k, v in entry.items() if k != "value"}
        version = _version_of(metadata, "the entry")
    extensions = obj.get("extensions")
    extensions = dict(extensions) if isinstance(extensions, dict) else {}
    body = extensions.get(SIGNATURE_EXTENSION_ID)
    body = dict(body) if isinstance(body, dict) else {"extension_type": EXTENSION_TYPE}
    body["signatures"] = [metadata]
    extensions[SIGNATURE_EXTENSION_ID] = body
    unsigned = dict(obj)
    unsigned["extensions"] = extensions
    return signed_form(unsigned, version)


def sign_object(
    obj: dict[str, Any],
    key: SigningKey,
    signer: str,
    signed: datetime | None = None,
) -> dict[str, Any]:
    """Return a copy of ``obj`` with one more signature, by ``key`` on behalf of ``signer``.

    The new signature is of the current version of the scheme (:data:`SIGNATURE_VERSION`).
    Signatures already present are kept and are not covered by the new one (a countersignature
    attests the object, not the earlier signatures). ``signer`` is the STIX identity id of the
    signing organisation; ``signed`` (an aware datetime, default now) is written in UTC with
    millisecond precision. ``obj`` is not modified; the result is a shallow copy that shares
    the values it does not change (everything but ``extensions`` and the signature extension
    body) with ``obj``, so copy deeply before editing nested values of either. Raises
    :class:`SignatureFormatError` if the object's existing signature extension is malformed or
    ``signer``/``signed`` are unusable, :class:`CanonicalizationError` if the object has no
    RFC 8785 form.
    """
    signatures_of(obj)  # refuse to add to a malformed extension
    if not isinstance(signer, str) or not is_stix_id(signer, "identity"):
        raise SignatureFormatError(f"signer must be an identity id (identity--<uuid>), got {show(signer)}")
    if signed is None:
        signed = datetime.now(UTC)
    elif signed.tzinfo is None or signed.utcoffset() is None:
        raise SignatureFormatError("signed must be a timezone-aware datetime")
    metadata = {
        **_head(SIGNATURE_TYPE, SIGNATURE_VERSION),
        "algorithm": key.alg,
        "signer": signer,
        "key_id": key.key_id,
        "signed": _format_ms(signed),
    }
    value = key.sign(signing_input(obj, metadata))

    extensions = dict(obj.get("extensions") or {})
    body = dict(extensions.get(SIGNATURE_EXTENSION_ID) or {"extension_type": EXTENSION_TYPE})
    body["signatures"] = [*body.get("signatures", []), {**metadata, "value": b64url_encode(value)}]
    extensions[SIGNATURE_EXTENSION_ID] = body
    signed_obj = dict(obj)
    signed_obj["extensions"] = extensions
    return signed_obj


def verify_entry(obj: dict[str, Any], entry: SignatureEntry, key: VerifyKey) -> None:
    """Check that ``entry``, one of ``obj``'s signatures, verifies with ``key``.

    Returns ``None`` on success. Raises :class:`SignatureInvalid` with a reason a person can act
    on: the key's type does not fit the algorithm, the entry's ``key_id`` is not the key's
    thumbprint, the object has no canonical form, or the signature does not verify (the object
    changed after signing). Whether ``key`` belongs to ``entry.signer`` and was valid at
    ``entry.signed_at`` is the caller's policy, checked before.
    """
    label = f"signature {entry.index} by {entry.signer}"
    if key.alg != entry.algorithm:
        raise SignatureInvalid(f"{label}: algorithm is {entry.algorithm} but key {key.key_id} "
                               f"is an {key.alg} key; the key type does not fit the algorithm")
    if key.key_id != entry.key_id:
        raise SignatureInvalid(f"{label}: key_id {entry.key_id} does not match the thumbprint "
                               f"of the key offered ({key.key_id})")
    try:
        data = signing_input(obj, entry)
    except CanonicalizationError as exc:
        raise SignatureInvalid(f"{label}: the object cannot be verified: {exc}") from None
    if not key.verify(entry.value, data):
        raise SignatureInvalid(f"{label} (key {entry.key_id}): signature does not verify: "
                               "object changed after signing")


def unsigned_form(obj: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``obj`` without the signature extension.

    ``extensions`` is dropped too if nothing else was in it, so an object signed with
    :func:`sign_object` comes back equal to the object before signing.
    """
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict) or SIGNATURE_EXTENSION_ID not in extensions:
        return dict(obj)
    rest = {k: v for k, v in extensions.items() if k != SIGNATURE_EXTENSION_ID}
    result = {k: v for k, v in obj.items() if k != "extensions"}
    if rest:
        result["extensions"] = rest
    return result


def _head(sig_type: str, version: int) -> dict[str, str]:
    """The first members of an entry: ``type`` and, from version 2 on, ``version``."""
    text = _VERSION_TEXT[version]
    return {"type": sig_type} if text is None else {"type": sig_type, "version": text}


def _version_of(entry: dict[str, Any], where: str) -> int:
    """The scheme version an entry names; :class:`SignatureFormatError` if it is not one we know.

    Checked before any other member, since another version may define other members.
    """
    if "version" not in entry:
        return 1
    text = entry["version"]
    if not isinstance(text, str):
        raise SignatureFormatError(f"{where}: version must be a string, got {json_type(text)}")
    version = _VERSION_OF_TEXT.get(text)
    if version is None:
        if text == "1":
            raise SignatureFormatError(f"{where}: version '1' is written without a 'version' "
                                       "member; entries that carry one are of version 2 or later")
        known = ", ".join(repr(t) for t in _VERSION_OF_TEXT)
        raise SignatureFormatError(f"{where}: unknown signature version {show(text)}; this "
                                   f"verifier knows {known} and entries without 'version' "
                                   "(version 1): the signature may need a newer verifier")
    return version


def _parse_entry(index: int, raw: Any) -> SignatureEntry:
    """One entry parsed and checked. An entry whose members are all strings (every well-formed
    one) is looked up first among those parsed lately: ingest reads an object's signatures in the
    signature check and again when it countersigns, and a :class:`SignatureEntry` is immutable,
    so the same members give the same entry (or raise the same error) wherever they are read."""
    if type(raw) is dict and all(type(v) is str for v in raw.values()):
        return _parse_members(index, tuple(raw.items()))
    return _parse_raw(index, raw)


@functools.lru_cache(maxsize=256)  # a few objects' entries: the same object is read twice in a row
def _parse_members(index: int, members: tuple[tuple[str, str], ...]) -> SignatureEntry:
    return _parse_raw(index, dict(members))


def _parse_raw(index: int, raw: Any) -> SignatureEntry:
    where = f"signature {index}"
    if not isinstance(raw, dict):
        raise SignatureFormatError(f"{where} must be an object, got {json_type(raw)}")
    version = _version_of(raw, where)
    members = _MEMBERS_BY_VERSION[version]
    for name in members:
        if name not in raw:
            raise SignatureFormatError(f"{where}: missing member {name!r}")
        value = raw[name]
        if not isinstance(value, str):
            raise SignatureFormatError(f"{where}: {name} must be a string, got {json_type(value)}")
    if len(raw) != len(members):
        unknown = raw.keys() - set(members)
        raise SignatureFormatError(f"{where}: unknown member(s) {_names(unknown)}; an entry of "
                                   f"version {version} has exactly {', '.join(members)}")
    sig_type, algorithm, signer, key_id, signed, value = (raw[name] for name in _MEMBERS)
    if sig_type not in _ENTRY_TYPES:
        raise SignatureFormatError(f"{where}: unknown type {show(sig_type)}; expected {SIGNATURE_TYPE!r} "
                                   f"(or {ATTESTATION_TYPE!r})")
    if algorithm not in ALGORITHMS:
        raise SignatureFormatError(f"{where}: unknown algorithm {show(algorithm)}; "
                                   f"expected one of {', '.join(ALGORITHMS)}")
    if not is_stix_id(signer, "identity"):
        raise SignatureFormatError(f"{where}: signer must be an identity id (identity--<uuid>), "
                                   f"got {show(signer)}")
    if len(key_id) != _THUMBPRINT_CHARS or not _is_b64url(key_id):
        raise SignatureFormatError(f"{where}: key_id must be an RFC 7638 SHA-256 JWK thumbprint "
                                   f"({_THUMBPRINT_CHARS} base64url characters), got {show(key_id)}")
    try:
        signed_at = _EPOCH + timedelta(microseconds=parse_timestamp_us(signed, "signed"))
    except InvalidValue as exc:
        raise SignatureFormatError(f"{where}: {exc}") from None
    try:
        signature = b64url_decode(value)
    except ValueError as exc:
        raise SignatureFormatError(f"{where}: value {exc}") from None
    if len(signature) != _SIGNATURE_BYTES:
        raise SignatureFormatError(f"{where}: value must be a {_SIGNATURE_BYTES}-byte {algorithm} "
                                   f"signature, got {len(signature)} bytes")
    return SignatureEntry(index, algorithm, signer, key_id, signed, signed_at, signature,
                          type=sig_type, version=version)


@functools.lru_cache(maxsize=1024)  # key ids: a few keys sign everything
def _is_b64url(text: str) -> bool:
    try:
        b64url_decode(text)
    except ValueError:
        return False
    return True


def _format_ms(moment: datetime) -> str:
    """STIX timestamp in UTC with millisecond precision (STIX 2.1 section 3.2)."""
    utc = moment.astimezone(UTC)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
            f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z")


def _names(names: Any) -> str:
    return ", ".join(show(n) for n in sorted(map(str, names)))
