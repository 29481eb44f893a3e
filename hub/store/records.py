"""Plain records passed between the store and the services. No behaviour, no SQL, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

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
    # What markings are judged against (revision 0010; set with ``party edit``). A party made
    # before it, or not edited since, is its own organisation (its identity id).
    organisation: str = ""
    country: str | None = None  # GENC / ISO 3166 alpha-3, upper case
    entity: str | None = None  # ACS entity type
    shareability: tuple[str, ...] = ()  # ACS shareability categories
    terms_accepted: bool = False  # accepted the programme's terms of use
    serves: tuple[str, ...] = ()  # peers: identity ids of the parties the peer hub serves
    enforces_markings: bool = False  # peers: the peer is a hub that enforces markings
    # Oblivious pseudonym evaluations a minute (revision 0011; ``party edit
    # --pseudonyms-per-minute``); None: the hub's ``[pseudonyms] per_minute``.
    pseudonyms_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class PartyAttributes:
    """What an edit of a party's attributes sets: a field left None is left as it is.

    ``clear`` names the nullable attributes (``country``, ``entity``, ``pseudonyms_per_minute``)
    to set to None.
    """

    organisation: str | None = None
    country: str | None = None
    entity: str | None = None
    shareability: tuple[str, ...] | None = None
    terms_accepted: bool | None = None
    serves: tuple[str, ...] | None = None
    enforces_markings: bool | None = None
    pseudonyms_per_minute: int | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AudienceRecord:
    """One stored audience (pk > 0): its key (SHA-256 hex of ``canonical``) and its canonical
    text, which the services read; the store does not."""

    pk: int
    key: str
    canonical: str


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
    audience_pk: int = 0  # who may read it: 0, every reader of the collection; else an audience
    pending_audience_pk: int | None = None  # an audience it gets when pending audiences are applied


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What storing one new version did."""

    stix_id: str
    version: str
    stored: bool  # False: that exact version was already in the collection
    date_added_us: int


class StoredVersion(NamedTuple):
    """One stored object version as served.

    ``key`` is the paging cursor that starts the next page after this item: its
    ``date_added_us`` in :meth:`~hub.store.base.Store.query_objects` (pass it back as
    ``after_added_us``), its version in microseconds in
    :meth:`~hub.store.base.Store.object_versions` (pass it back as ``after_version_us``).

    A named tuple rather than a frozen dataclass: a page makes one per row, up to a thousand,
    and a tuple is made in a third of the time.
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
    # Only the versions this party may read (their audience is 0 or admits it); None: no
    # audience condition, for the hub's own work (deletion, retention, upgrades), never a read.
    reader_pk: int | None = None


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
