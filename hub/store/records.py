"""Plain records passed between the store and the services. No behaviour, no SQL, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

VersionSelector = Literal["last", "first", "all"]


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation with credentials: a provider, an agency, or a peer hub."""

    pk: int
    name: str
    kind: str
    identity_id: str
    operator: bool
    created_us: int


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection and its sharing policy."""

    pk: int
    id: str
    title: str
    description: str
    alias: str | None
    max_tlp: str
    require_signatures: bool
    countersign: bool
    allow_personal_data: bool
    created_us: int


@dataclass(frozen=True, slots=True)
class Grant:
    """What one party may do with one collection."""

    party_pk: int
    collection_pk: int
    can_read: bool
    can_write: bool


@dataclass(frozen=True, slots=True)
class NewVersion:
    """One valid object version ready to store."""

    stix_id: str
    type: str
    version_us: int  # -1: the object has neither modified nor created; its version is date_added
    version: str | None  # the object's own version text (modified or created), None as above
    spec_version: str
    json_text: str
    terms: tuple[tuple[str, str], ...] = ()  # (kind, term) the object can be found by


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What storing one new version did."""

    stix_id: str
    version: str
    stored: bool  # False: that exact version was already in the collection
    date_added_us: int


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One stored object version as served.

    ``key`` is the paging cursor that starts the next page after this item: its
    ``date_added_us`` in :meth:`~hub.store.base.Store.query_objects` (pass it back as
    ``after_added_us``), its version in microseconds in
    :meth:`~hub.store.base.Store.object_versions` (pass it back as ``after_version_us``).
    """

    stix_id: str
    version: str
    date_added_us: int
    spec_version: str
    json_text: str
    key: int


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    """A query over one collection's object versions, as the TAXII filters define it."""

    added_after_us: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[VersionSelector, ...] = ("last",)
    version_us: tuple[int, ...] = ()  # match[version] timestamps
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a keyset-paged result."""

    items: list[StoredVersion]
    more: bool


@dataclass(slots=True)
class StatusRecord:
    """A TAXII status resource: the outcome of one POST, object by object."""

    id: str
    party_pk: int
    collection_pk: int
    request_us: int
    status: str
    successes: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    pendings: list[dict] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return len(self.successes) + len(self.failures) + len(self.pendings)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A party's registered public signing key."""

    key_id: str
    alg: str
    jwk_json: str
    party_name: str
    identity_id: str
    not_before_us: int
    not_after_us: int | None
    revoked_us: int | None
    created_us: int
