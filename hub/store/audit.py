"""The audit chain's record form and hash, shared by the store (append) and the verifier.

A record's hash is SHA-256 over the previous record's hash and the RFC 8785 canonical form of
the record's content, so editing, removing or reordering any record breaks every hash after it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from hub.common.canonical import canonicalize

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """What happened: a kind (submission, read, grant, key, party, collection, token), who, where."""

    kind: str
    party: str
    collection: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    at_us: int | None = None  # when it happened, if not when it is appended


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
