"""Signing and verifying whole documents: a STIX bundle, a TAXII envelope, or JSON lines.

These are what ``abusehub sign`` and ``abusehub verify`` do; the rules are here, the command
line only reads files and prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hub.common.ids import SCO_TYPES
from hub.signing.errors import SignatureFormatError, SigningError
from hub.signing.keys import SigningKey
from hub.signing.keyset import KeySet
from hub.signing.signatures import sign_object, signatures_of

# Objects nobody signs for another: shared definitions published by their own authors.
_NOT_SIGNED_TYPES = frozenset({"marking-definition", "extension-definition", "language-content"})


class DocumentError(SigningError):
    """The file is not a bundle, an envelope or JSON lines of STIX objects."""


def load_document(data: bytes) -> tuple[str, Any, list[dict[str, Any]]]:
    """Parse a document; returns its form ("bundle", "envelope", "jsonl"), the parsed whole, and its objects."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        lines = [line for line in data.splitlines() if line.strip()]
        try:
            objects = [orjson.loads(line) for line in lines]
        except orjson.JSONDecodeError as exc:
            raise DocumentError(f"not JSON, nor JSON lines: {exc}") from None
        if not all(isinstance(o, dict) for o in objects):
            raise DocumentError("every JSON line must be a STIX object") from None
        return "jsonl", objects, objects
    if isinstance(doc, dict) and doc.get("type") == "bundle" and isinstance(doc.get("objects"), list):
        return "bundle", doc, doc["objects"]
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):
        return "envelope", doc, doc["objects"]
    if isinstance(doc, dict) and isinstance(doc.get("type"), str):
        return "jsonl", [doc], [doc]
    raise DocumentError("expected a STIX bundle, a TAXII envelope ({\"objects\": [...]}) or JSON lines")


def dump_document(form: str, doc: Any, objects: list[dict[str, Any]]) -> bytes:
    """Serialise a document of the given form with new objects."""
    if form == "jsonl":
        return b"".join(orjson.dumps(o) + b"\n" for o in objects)
    return orjson.dumps({**doc, "objects": objects}, option=orjson.OPT_INDENT_2) + b"\n"


def sign_objects(objects: list[dict[str, Any]], key: SigningKey, identity: str,
                 signed: datetime | None = None) -> list[dict[str, Any]]:
    """Sign every object as ``identity``, setting ``created_by_ref`` where STIX defines it.

    Refuses (with :class:`SigningError`) an object whose ``created_by_ref`` names another
    identity: nobody signs in another organisation's name. Shared definitions (marking and
    extension definitions) are passed through unsigned.
    """
    out = []
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise DocumentError(f"object {i} is not a STIX object")
        if obj["type"] in _NOT_SIGNED_TYPES:
            out.append(obj)
            continue
        creator = obj.get("created_by_ref")
        if creator is not None and creator != identity:
            raise SigningError(f"object {obj.get('id', i)} was created by {creator}, not by {identity}: "
                               "refusing to sign it in your name")
        if obj["type"] not in SCO_TYPES and obj["type"] != "identity":
            obj = {**obj, "created_by_ref": identity}
        elif obj["type"] == "identity" and obj.get("id") != identity and creator is None:
            obj = {**obj, "created_by_ref": identity}
        out.append(sign_object(obj, key, identity, signed))
    return out


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one object."""

    id: str
    ok: bool
    reason: str
    signers: tuple[str, ...] = ()


def verify_objects(objects: list[dict[str, Any]], keys: KeySet, now_us: int) -> list[Verdict]:
    """Verify every signature of every object (shared definitions excepted)."""
    verdicts = []
    for i, obj in enumerate(objects):
        oid = str(obj.get("id", f"(object {i})")) if isinstance(obj, dict) else f"(object {i})"
        if not isinstance(obj, dict):
            verdicts.append(Verdict(oid, False, "not a JSON object"))
            continue
        if obj.get("type") in _NOT_SIGNED_TYPES:
            continue
        try:
            entries = signatures_of(obj)
        except SignatureFormatError as exc:
            verdicts.append(Verdict(oid, False, f"malformed signature: {exc}"))
            continue
        if not entries:
            verdicts.append(Verdict(oid, False, "not signed"))
            continue
        reasons = [r for r in (keys.check(obj, e, now_us, new_submission=False) for e in entries) if r]
        signers = tuple(e.signer for e in entries)
        creator = obj.get("created_by_ref")
        if creator is not None and creator not in signers:
            reasons.append(f"no signature by its creator {creator}")
        verdicts.append(Verdict(oid, not reasons, "; ".join(reasons), signers))
    return verdicts
