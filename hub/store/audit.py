"""The audit chain's record form and hash, shared by the store (append) and the verifier.

A record's hash is SHA-256 over the previous record's hash and the RFC 8785 canonical form of
the record's content, so editing, removing or reordering any record breaks every hash after it.

Every entry can be appended: content that has no canonical form is made :func:`recordable`
first (and stored as made), so one odd value in one request never stops the chain.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from hub.common.canonical import canonicalize

GENESIS = "0" * 64

# RFC 8785 section 3.2.2.3 writes numbers as IEEE 754 doubles: larger integers have no exact form.
_MAX_EXACT_INT = 2**53 - 1
_MAX_DEPTH = 64


@dataclass(frozen=True)
class AuditEntry:
    """What happened: a kind (submission, read, grant, key, party, collection, token), who, where."""

    kind: str
    party: str
    collection: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    #: When it happened (microseconds since the epoch), if not when it is appended. The stored
    #: record's time is never earlier than the record before it (the store clamps it).
    at_us: int | None = None


@dataclass(frozen=True)
class AuditRecord:
    """An entry as stored in the chain."""

    seq: int
    at_us: int
    kind: str
    party: str
    collection: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at_us": self.at_us, "kind": self.kind, "party": self.party,
                "collection": self.collection, "data": self.data, "prev_hash": self.prev_hash,
                "hash": self.hash}


def record_hash(prev_hash: str, seq: int, at_us: int, kind: str, party: str, collection: str,
                data: dict[str, Any]) -> str:
    """The hash that chains a record to the one before it."""
    body = canonicalize({"seq": seq, "at_us": at_us, "kind": kind, "party": party,
                         "collection": collection, "data": data})
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + body).hexdigest()


def recordable(value: Any, _depth: int = 0) -> Any:
    """``value`` as the chain can hold it: JSON that has an RFC 8785 canonical form.

    A value that has none is recorded as a string: an integer beyond +/-(2**53 - 1) as its
    decimal digits (RFC 8785 would have to round it), a NaN or an infinity as ``"nan"``,
    ``"inf"`` or ``"-inf"``, a string holding lone surrogates with them written as ``\\udxxx``,
    a key that is not a string by ``str``, any other type by ``str``. Tuples become lists;
    nesting deeper than 64 levels is replaced by a note. Everything else is returned unchanged.
    """
    t = type(value)
    if t is str:
        return _text(value)
    if value is None or t is bool:
        return value
    if t is int:
        return value if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT else str(value)
    if t is float:
        return value if math.isfinite(value) else str(value)
    if _depth >= _MAX_DEPTH:
        return f"(nested more than {_MAX_DEPTH} levels)"
    if isinstance(value, dict):
        return {_text(k if isinstance(k, str) else str(k)): recordable(v, _depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [recordable(v, _depth + 1) for v in value]
    return _text(str(value))


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no UTF-8 form, so no canonical form either
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
