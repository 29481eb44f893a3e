"""The Store protocol: everything the services need from persistence, and nothing about HTTP.

Implementations: :class:`hub.store.sql.SqlStore` (SQLite by default, PostgreSQL). The contract
tests in ``tests/store`` run against every implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

from hub.store.audit import AuditEntry, AuditRecord
from hub.store.records import (
    AddOutcome,
    Collection,
    Grant,
    KeyRecord,
    NewVersion,
    ObjectFilter,
    Page,
    Party,
    StatusRecord,
    StoredVersion,
)

#: Called inside the transaction that stores a submission, with the outcome of each version:
#: returns the status to save, when it expires, and the audit entry, all committed together.
Finish = Callable[[list[AddOutcome]], tuple[StatusRecord, int, AuditEntry]]


class DuplicateError(Exception):
    """A unique name or id is already taken."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is known about one API token besides its secret: never the token, never its hash.

    ``id`` is the row's primary key: a short number, not secret and not derived from the token,
    that operators use to name one token (to list it, to revoke it).
    """

    id: int
    party_pk: int
    label: str
    created_us: int
    revoked_us: int | None

    @property
    def active(self) -> bool:
        return self.revoked_us is None


class Store(Protocol):
    """Persistence for parties, credentials, collections, grants, objects and statuses."""

    # -- parties and credentials
    def create_party(self, name: str, kind: str, identity_id: str, operator: bool, now_us: int) -> Party: ...
    def get_party(self, name: str) -> Party | None: ...
    def list_parties(self) -> list[Party]: ...
    def add_token(self, party_pk: int, token_hash: str, label: str, now_us: int) -> int:
        """Store a token's hash; returns the token's id."""
    def party_for_token(self, token_hash: str) -> Party | None: ...
    def list_tokens(self, party_pk: int) -> list[TokenRecord]:
        """The party's tokens, revoked ones included, oldest first."""
    def get_token(self, token_id: int) -> TokenRecord | None: ...
    def revoke_token(self, party_pk: int, token_id: int, now_us: int) -> bool:
        """Revoke one active token of the party; False when there is no such active token."""
    def revoke_tokens(self, party_pk: int, now_us: int) -> int: ...

    # -- collections and grants
    def create_collection(self, collection_id: str, title: str, description: str, alias: str | None,
                          max_tlp: str, require_signatures: bool, countersign: bool,
                          allow_personal_data: bool, now_us: int) -> Collection: ...
    def get_collection(self, collection_id: str) -> Collection | None: ...
    def list_collections(self) -> list[Collection]: ...
    def set_grant(self, party_pk: int, collection_pk: int, can_read: bool, can_write: bool) -> Grant: ...
    def grants_for(self, party_pk: int) -> dict[int, Grant]: ...

    # -- objects
    def add_versions(self, collection_pk: int, party_pk: int, versions: Iterable[NewVersion],
                     now_us: int, finish: Finish | None = None) -> list[AddOutcome]: ...
    def query_objects(self, collection_pk: int, flt: ObjectFilter, after_us: int | None,
                      limit: int) -> Page: ...
    def object_versions(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                        after_us: int | None, limit: int) -> Page: ...
    def delete_object(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                      party_pk: int | None = None) -> int:
        """Delete the matching versions (only ``party_pk``'s when given); returns how many."""
    def count_objects(self, collection_pk: int) -> int: ...
    def find_terms(self, kind: str, terms: Iterable[str],
                   collection_pks: Iterable[int]) -> list[tuple[int, str, str]]: ...

    # -- statuses
    def save_status(self, status: StatusRecord, expires_us: int) -> None: ...
    def get_status(self, status_id: str, now_us: int) -> StatusRecord | None: ...
    def purge_statuses(self, now_us: int) -> int: ...

    # -- signing keys
    def add_key(self, party_pk: int, key_id: str, alg: str, jwk_json: str, not_before_us: int,
                not_after_us: int | None, now_us: int) -> None: ...
    def list_keys(self, party_pk: int | None = None) -> list[KeyRecord]: ...
    def revoke_key(self, key_id: str, now_us: int) -> bool: ...

    # -- the audit chain
    def append_audit(self, entries: list[AuditEntry], now_us: int) -> None: ...
    def iter_audit(self, since_us: int | None = None) -> Iterator[AuditRecord]: ...
    def audit_head(self) -> tuple[int, str]: ...

    # -- settings
    def get_setting(self, name: str) -> str | None: ...
    def set_setting(self, name: str, value: str) -> None: ...

    def close(self) -> None: ...


__all__ = ["Store", "DuplicateError", "StoredVersion", "TokenRecord"]
