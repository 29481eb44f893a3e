"""Credentials and the requesting principal.

Tokens are 256-bit random strings, shown once and stored as SHA-256 hashes. A slow password
hash (scrypt, bcrypt) protects low-entropy secrets chosen by people; for random tokens of this
length a single fast hash is as safe and costs microseconds per request instead of ~100 ms.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from hub.store.records import Collection, Grant, Party

TOKEN_PREFIX = "ahub_"


def new_token() -> str:
    """A fresh API token: a recognisable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The party a request acts for, with its grants by collection pk."""

    party: Party
    grants: dict[int, Grant]

    def can_read(self, collection: Collection) -> bool:
        g = self.grants.get(collection.pk)
        return bool(g and g.can_read)

    def can_write(self, collection: Collection) -> bool:
        g = self.grants.get(collection.pk)
        return bool(g and g.can_write)

    def can_see(self, collection: Collection) -> bool:
        """A collection is visible to a party that may read or write it, and to nobody else."""
        return self.can_read(collection) or self.can_write(collection)
