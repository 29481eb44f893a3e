"""Deleted versions stay deleted: tombstones, their signed records, and who may act on them.

TAXII 2.1 has no way to say that something was deleted. This hub remembers each deleted object
version with a tombstone (:mod:`hub.store.tombstones`: the collection, the object id and
version, who deleted it and when) and never stores that version again, however it is offered:
posted, pushed by a peer, fetched by a pull link (ingest refuses it, naming the deletion; the
sync engine skips it without holding it in quarantine).

Deletions travel two ways (docs/OPERATIONS.md, "Deletions across a federation"):

- over a **push** link, as the TAXII DELETE of each version the link had pushed
  (:mod:`hub.services.federation.deletions`), which any TAXII 2.1 server understands;
- between abusehub hubs, as **signed tombstone records**, served under the collection at
  ``GET {api-root}/collections/{id}/tombstones/`` to whoever may read the collection
  (:meth:`TombstoneService.feed`) and fetched by pull links. A record is signed by the deleting
  hub's key, with the object signature scheme of docs/SIGNING.md, and checked against the keys
  registered here (:meth:`TombstoneService.judge`). A hub that takes a record deletes its copy
  of the version and keeps the record, serving it on as it came, so a ring converges.

The record (``"type": "abusehub-tombstone"``, format ``"1"``)::

    {"type": "abusehub-tombstone", "format": "1",
     "hub": "identity--…",               the hub where the version was deleted: the signer
     "collection": "…",                  that hub's collection id
     "object_id": "indicator--…",
     "object_version": "2026-…Z",        absent for an object with neither modified nor created
     "deleted": "2026-…Z", "deleted_by": "identity--…",
     "extensions": {"extension-definition--9b39b729-…": {"extension_type": "property-extension",
                                                          "signatures": [ by "hub" ]}}}
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.common.errors import BadRequest, InvalidValue
from hub.common.ids import is_stix_id
from hub.common.problems import Problem
from hub.common.timestamps import format_timestamp_us, is_stix_timestamp, parse_timestamp_us
from hub.services.access import AccessService
from hub.services.access.auth import Principal
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.ingest.checks import CheckContext
from hub.services.keys import HubSigner, KeyService
from hub.signing import KeySet, SignatureFormatError, sign_object, signatures_of
from hub.stix.markings import GREEN, object_tlp
from hub.store.base import Store
from hub.store.limits import STIX_ID_MAX, VERSION_MAX
from hub.store.records import Collection, Party
from hub.store.tombstones import Held, Tombstone

__all__ = ["DELETED", "RECORD_FORMAT", "RECORD_TYPE", "Received", "TombstoneFeed", "TombstoneService",
           "held_facts", "told", "tombstone_ceiling", "version_key"]

log = logging.getLogger("abusehub.tombstones")

RECORD_TYPE = "abusehub-tombstone"
RECORD_FORMAT = "1"
#: The problem code of an object refused because that version was deleted here.
DELETED = "deleted-version"
#: Parties whose identity may sign a tombstone this hub takes: hubs (a peer hub, or this one).
_HUB_KINDS = ("hub", "peer")


def held_facts(json_text: str) -> Held:
    """What the store keeps of a copy it deletes: whether the object has neither ``modified``
    nor ``created`` (its tombstone then buries every version of its id), and its TLP level."""
    try:
        obj = orjson.loads(json_text)
    except orjson.JSONDecodeError:
        return Held(False, None)
    if not isinstance(obj, dict):
        return Held(False, None)
    return Held("modified" not in obj and "created" not in obj, object_tlp(obj))


def tombstone_ceiling(party: Party) -> int | None:
    """The highest TLP level of a deleted copy *without a held audience* (deleted before
    audiences existed, revision 0010) whose tombstone ``party`` may be told of: GREEN for a peer
    that does not enforce markings (it was sent nothing marked higher, and a tombstone would tell
    it the id), None (no ceiling) for every other party, as every reader of the collection read
    such a copy.

    A tombstone of a copy deleted since is told to whom the copy's audience admits (the store's
    ``tombstones_after`` with ``reader_pk``), which says more than its TLP level: RED, ACS and
    AMBER for peers included. A tombstone of a version this hub never held (a peer's) has
    neither: it is told to every reader of the collection, as the peer's feed tells it."""
    if party.kind == "peer" and not party.enforces_markings:
        return GREEN
    return None


def told(item: Tombstone, ceiling: int | None) -> bool:
    """Whether a tombstone that the store let through for a reader (its held audience admits
    the reader, or it has none) may be told to it: one with a held audience, yes; else (a copy
    deleted before audiences existed, or none held) its held TLP level within ``ceiling``
    (:func:`tombstone_ceiling`)."""
    if item.held_audience_pk is not None or ceiling is None or item.held_tlp is None:
        return True
    return item.held_tlp <= ceiling


def version_key(obj: dict[str, Any]) -> tuple[str, int] | None:
    """``(id, version_us)`` of an object as its tombstone would name it (-1: neither
    ``modified`` nor ``created``); None when the object has no usable id or version."""
    oid = obj.get("id")
    if not is_stix_id(oid):
        return None
    stamp = obj.get("modified") or obj.get("created")
    if stamp is None:
        return str(oid), -1
    try:
        return str(oid), parse_timestamp_us(stamp)
    except InvalidValue:
        return None


@dataclass(frozen=True)
class TombstoneFeed:
    """One page of a collection's tombstone records, with its feed places."""

    records: list[dict[str, Any]]
    more: bool
    first_us: int | None
    last_us: int | None


@dataclass
class Received:
    """What taking a peer's tombstone records did."""

    kept: int = 0  # new tombstones
    removed: int = 0  # versions held here that they deleted
    known: int = 0  # records of versions with a tombstone here already
    #: (object id or "(record N)", why the record was not taken)
    refused: list[tuple[str, str]] = field(default_factory=list)


class TombstoneService:
    """Serves a collection's tombstone records, judges and takes a peer's, and refuses what was
    deleted (:meth:`check`, one of ingest's checks)."""

    def __init__(self, store: Store, access: AccessService, audit: AuditService, clock: Clock,
                 keys: KeyService, signer: HubSigner | None, default_page_size: int = 100,
                 max_page_size: int = 1000) -> None:
        self.store = store
        self.access = access
        self.audit = audit
        self.clock = clock
        self.keys = keys
        self.signer = signer
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        #: Per collection: the tombstone mark and the ids it was read at (:meth:`buried_ids`).
        self._ids: dict[int, tuple[int, frozenset[str]]] = {}
        self._lock = threading.Lock()

    # -- ingest

    def buried_ids(self, collection_pk: int) -> frozenset[str]:
        """The ids of the collection's objects that have a tombstone: read again only when the
        collection has a new tombstone (one small lookup per call otherwise)."""
        mark = self.store.tombstone_mark(collection_pk)
        if mark is None:
            return frozenset()
        cached = self._ids.get(collection_pk)
        if cached is not None and cached[0] == mark:
            return cached[1]  # a superset at worst (a tombstone forgotten since): each hit is looked up
        ids = frozenset(self.store.tombstoned_ids(collection_pk))
        with self._lock:
            self._ids[collection_pk] = (mark, ids)
        return ids

    def check(self, obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
        """Refuse a version deleted from the collection (an ingest check). Per submission, one
        small lookup, and the collection's deleted ids when they changed; an object whose id is
        among them is looked up (the store refuses it anyway, inside the transaction)."""
        ids = ctx.cache.get("tombstoned ids")
        if ids is None:
            ids = ctx.cache["tombstoned ids"] = self.buried_ids(ctx.collection.pk)
        if not ids or obj.get("id") not in ids:
            return None
        key = version_key(obj)
        if key is None:
            return None  # the basics checks have refused it
        found = self.store.tombstoned(ctx.collection.pk, [key]).get(key)
        if found is None:
            return None
        what = f"version {found.version} of {found.stix_id}" if found.version_us >= 0 else found.stix_id
        where = "here" if found.hub is None else f"at hub {found.hub}"
        return Problem(DELETED, f"{what} was deleted from this collection {where} on "
                                f"{format_timestamp_us(found.deleted_us)} by {found.deleted_by}: a deleted "
                                "version is not accepted again (publish a new version, with a later "
                                "'modified', to share it again)")

    # -- the feed

    def feed(self, principal: Principal, collection_id: str, added_after_us: int | None,
             limit: int | None) -> TombstoneFeed:
        """A page of the collection's tombstone records, for a party that may read it (the
        same access as its objects), oldest place first; only those of deleted copies whose
        audience admits the party (left out by the store, before paging), and of copies without
        one (deleted before audiences existed) marked no higher than :func:`tombstone_ceiling`
        for the party (:func:`told`). A page holds a record unless it is the last: the feed
        reads on past the records left out (the page's places are those of every record it
        read, so paging goes on past them)."""
        col = self.access.collection(principal, collection_id, "read")
        if limit is not None and limit < 1:
            raise BadRequest(f"parameter 'limit': must be a positive whole number, got {limit}")
        size = min(limit or self.default_page_size, self.max_page_size)
        ceiling = tombstone_ceiling(principal.party)
        records: list[dict[str, Any]] = []
        first = last = None
        after, more = added_after_us, True
        while more and len(records) < size:
            items, more = self.store.tombstones_after(col.pk, after, size - len(records),
                                                      reader_pk=principal.party.pk)
            if not items:  # forgotten meanwhile (retention)
                more = False
                break
            first = items[0].added_us if first is None else first
            after = last = items[-1].added_us
            records.extend(self.record(col, item) for item in items if told(item, ceiling))
        self.audit.record_read(principal.party.name, col.id, endpoint="tombstones", count=len(records),
                               query={"added_after_us": added_after_us} if added_after_us is not None else {})
        return TombstoneFeed(records, more, first, last)

    def record(self, col: Collection, item: Tombstone) -> dict[str, Any]:
        """The signed record of a tombstone: a peer's as it came, this hub's signed now by the
        hub's key (the key of the party ``abusehub``, published at ``keys/``)."""
        if item.record_json is not None:
            record: dict[str, Any] = orjson.loads(item.record_json)
            return record
        if self.signer is None:
            raise RuntimeError("serving this hub's tombstones needs its signing key")
        key, identity = self.signer.ensure()
        body: dict[str, Any] = {"type": RECORD_TYPE, "format": RECORD_FORMAT, "hub": identity,
                                "collection": col.id, "object_id": item.stix_id}
        if item.version_us >= 0:
            body["object_version"] = item.version
        body["deleted"] = format_timestamp_us(item.deleted_us)
        body["deleted_by"] = item.deleted_by
        return sign_object(body, key, identity, datetime.fromtimestamp(self.clock() / 1e6, UTC))

    # -- a peer's records

    def judge(self, record: Any, keyset: KeySet, hubs: set[str], now_us: int) -> tuple[dict[str, Any] | None, str]:
        """A peer's record read for :meth:`take` (its fields), or None and why it is not taken.

        Taken: a record of the shape above, signed by its ``hub`` with a key registered here
        (the signature rules of docs/SIGNING.md, as for an object checked after its
        submission), where ``hub`` is a hub's identity here (a peer hub's or this hub's own).
        """
        fields, why = _read_record(record)
        if fields is None:
            return None, why
        hub = fields["hub"]
        if hub not in hubs:
            return None, f"signed for {hub}, which is not a hub this hub federates with"
        try:
            entries = [e for e in signatures_of(record) if e.signer == hub]
        except SignatureFormatError as exc:
            return None, f"malformed signature: {exc}"
        if not entries:
            return None, f"not signed by its hub {hub}"
        reasons = [keyset.check(record, e, now_us, new_submission=False) for e in entries]
        if all(r is not None for r in reasons):
            return None, str(reasons[0])
        return fields, ""

    def take(self, col: Collection, records: Sequence[Any], *, peer: str,
             types: Sequence[str] = ()) -> Received:
        """Take a peer's tombstone records into ``col``: each valid one (:meth:`judge`) deletes
        the copy of its version held here and is kept; the others are refused with the reason.
        Records of other types than ``types`` (when given) are passed over."""
        out = Received()
        keyset = self.keys.keyset()
        hubs = {p.identity_id for p in self.store.list_parties() if p.kind in _HUB_KINDS}
        now = self.clock()
        for index, record in enumerate(records):
            fields, reason = self.judge(record, keyset, hubs, now)
            if fields is None:
                oid = record.get("object_id") if isinstance(record, dict) else None
                name = str(oid) if is_stix_id(oid) else f"(record {index})"
                out.refused.append((name, reason))
                log.warning("tombstone for %s from peer %s into collection %s not taken: %s", name, peer,
                            col.id, reason)
                continue
            if types and fields["object_id"].split("--")[0] not in types:
                continue
            made, removed = self.store.apply_tombstone(
                col.pk, fields["object_id"], fields["version_us"], fields["version"], fields["deleted_us"],
                fields["deleted_by"], fields["hub"], orjson.dumps(record).decode(), now, held_facts)
            if made is None:
                out.known += 1
                continue
            out.kept += 1
            out.removed += removed
            self.audit.record("tombstone.take", peer, col.id, object=fields["object_id"],
                              version=fields["version"] or None, hub=fields["hub"], deleted_by=fields["deleted_by"],
                              removed=removed)
        return out


def _read_record(record: Any) -> tuple[dict[str, Any] | None, str]:
    """The fields of a tombstone record of the shape in the module's notes (its signature
    aside), or None and what is wrong with it."""
    if not isinstance(record, dict) or record.get("type") != RECORD_TYPE:
        return None, f"not a tombstone record (type {RECORD_TYPE!r})"
    if record.get("format") != RECORD_FORMAT:
        return None, f"unknown tombstone format (this hub reads format {RECORD_FORMAT!r})"
    hub, oid, version = record.get("hub"), record.get("object_id"), record.get("object_version")
    deleted, by = record.get("deleted"), record.get("deleted_by")
    if not is_stix_id(hub, "identity") or not is_stix_id(by, "identity"):
        return None, "'hub' and 'deleted_by' must be identity ids"
    if not isinstance(oid, str) or not is_stix_id(oid) or len(oid) > STIX_ID_MAX:
        return None, "'object_id' must be a STIX id"
    if version is not None and (not is_stix_timestamp(version) or len(version) > VERSION_MAX):
        return None, "'object_version' must be a STIX timestamp"
    if not is_stix_timestamp(deleted):
        return None, "'deleted' must be a STIX timestamp"
    try:
        version_us = parse_timestamp_us(version, "object_version") if version is not None else -1
        deleted_us = parse_timestamp_us(deleted, "deleted")
    except InvalidValue as exc:
        return None, str(exc)
    return {"object_id": oid, "version_us": version_us, "version": version or "", "deleted_us": deleted_us,
            "deleted_by": by, "hub": hub}, ""
