"""Deletions along federation links (docs/OPERATIONS.md, "Deletions across a federation").

- **Pull**, before the objects: the peer's signed tombstone records, from
  ``GET collections/{id}/tombstones/`` paged by ``added_after`` from the link's tombstone cursor
  (:meth:`Deletions.pull`). Each valid record deletes the copy held here and is kept
  (:meth:`hub.services.federation.tombstones.TombstoneService.take`); a peer that answers 404, 405 or 501
  for it, or not with JSON (a plain TAXII server), serves none, and the link goes on with the
  objects. Then the objects: a version with
  a tombstone here is skipped (:meth:`Deletions.skip_deleted`), not quarantined.
- **Push**, after the objects: for each tombstone of the local collection past the link's
  tombstone cursor whose deleted copy the link had pushed (its audience admits the peer's party,
  as the push link's reads are filtered; added at or before the link's cursor, of the link's
  types, within its TLP ceiling, and not the peer's own; a copy deleted before audiences existed,
  for a peer that does not enforce markings, marked no higher than GREEN), the TAXII
  DELETE of that version at the peer (:meth:`Deletions.push`). The peer answering 404 (it holds
  no such version) or 403 (it is not this hub's to delete there) ends that deletion; any other
  error ends the link's turn, and the deletion is sent again next turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.client.envelope import ExactObject
from hub.client.errors import AccessDenied, HubRefused, NotTaxii, ResourceNotFound
from hub.services.access import AccessService
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.federation.tombstones import TombstoneService, told, tombstone_ceiling, version_key
from hub.services.keys import KeyService
from hub.stix.markings import GREEN, tlp_level
from hub.store.base import Store
from hub.store.federation import LinkRecord, PeerRecord
from hub.store.records import Collection
from hub.store.tombstones import Tombstone

if TYPE_CHECKING:
    from hub.services.federation.engine import LinkResult

__all__ = ["Deletions"]

log = logging.getLogger("abusehub.federation")

#: What a server without the tombstone feed answers for it: no such resource, or method.
_NO_FEED = (404, 405, 501)


class Deletions:
    """The tombstone half of a link's turn (see the module's notes)."""

    def __init__(self, store: Store, audit: AuditService, clock: Clock, page_size: int) -> None:
        self.store = store
        self.audit = audit
        self.page_size = page_size
        self.tombstones = TombstoneService(store, AccessService(store), audit, clock,
                                           KeyService(store, clock, audit), None)

    # -- pull

    def pull(self, link: LinkRecord, peer: PeerRecord, col: Collection, client: Any, result: LinkResult,
             stop: threading.Event | None) -> None:
        """Take the peer's new tombstone records (none from a peer without the feed)."""
        try:
            for page in client.tombstone_pages(link.remote_collection, added_after=link.tombstone_cursor,
                                               limit=self.page_size):
                if page.records:
                    got = self.tombstones.take(col, page.records, peer=peer.name, types=link.types)
                    result.tombstones += got.kept
                    result.removed += got.removed
                    result.refusals.extend(got.refused)
                if page.date_added_last is not None:
                    # The page is committed here: the cursor moves.
                    self.store.set_tombstone_cursor(link.pk, page.date_added_last)
                if stop is not None and stop.is_set():
                    return
        except HubRefused as exc:
            if exc.status not in _NO_FEED:
                raise
            # A plain TAXII server: no tombstone feed.
        except NotTaxii:
            # A server that answers any address with a page of its own: no tombstone feed either.
            log.info("link %d (pull %s): the peer serves no tombstone feed", link.pk, peer.name)

    def skip_deleted(self, col: Collection, objects: Sequence[ExactObject],
                     result: LinkResult) -> list[ExactObject]:
        """The objects without a tombstone here (a deleted version is passed over, counted in
        ``result.deleted_here``, not quarantined)."""
        ids = self.tombstones.buried_ids(col.pk) if objects else frozenset()
        if not ids:
            return list(objects)
        keys = {i: version_key(o.data) for i, o in enumerate(objects)}
        found = self.store.tombstoned(col.pk, [k for k in keys.values() if k is not None and k[0] in ids])
        kept = [o for i, o in enumerate(objects) if keys[i] is None or keys[i] not in found]
        result.deleted_here += len(objects) - len(kept)
        return kept

    # -- push

    def push(self, link: LinkRecord, peer: PeerRecord, col: Collection, client: Any, result: LinkResult,
             stop: threading.Event | None) -> None:
        """Send the TAXII DELETE of each deleted version the link had pushed."""
        now = self.store.get_link(link.pk)
        if now is None:
            return
        pushed_up_to = int(now.cursor or 0)
        after = int(now.tombstone_cursor or 0)
        ceiling = tlp_level(link.max_tlp) if link.max_tlp else None
        unaudienced = self._unaudienced_ceiling(peer)
        while True:
            # Only tombstones of copies the peer's party may read (or of copies without a held
            # audience): the DELETE of a version the peer was never sent would tell it the id.
            items, more = self.store.tombstones_after(col.pk, after, self.page_size, reader_pk=peer.party_pk)
            for item in items:
                if _was_pushed(item, link, peer, pushed_up_to, ceiling) and told(item, unaudienced):
                    versions = [item.version] if item.version_us >= 0 else ["all"]
                    try:
                        client.delete_object(link.remote_collection, item.stix_id, versions=versions)
                        result.deletes_sent += 1
                        self.audit.record("link.delete", peer.name, col.id, object=item.stix_id,
                                          version=item.version or None, remote=link.remote_collection)
                    except ResourceNotFound:
                        pass  # the peer holds no such version: nothing to delete
                    except AccessDenied as exc:
                        result.refusals.append((item.stix_id, exc.description))
                        log.warning("peer %s refused to delete %s pushed from collection %s: %s", peer.name,
                                    item.stix_id, col.id, exc.description)
                after = item.added_us
                self.store.set_tombstone_cursor(link.pk, str(after))
                if stop is not None and stop.is_set():
                    return
            if not more:
                return

    def _unaudienced_ceiling(self, peer: PeerRecord) -> int | None:
        """The highest TLP level of a copy deleted before audiences existed that the link can
        have pushed to ``peer``: GREEN for a peer that does not enforce markings
        (:func:`~hub.services.federation.tombstones.tombstone_ceiling`)."""
        party = next((p for p in self.store.list_parties() if p.pk == peer.party_pk), None)
        return tombstone_ceiling(party) if party is not None else GREEN


def _was_pushed(item: Tombstone, link: LinkRecord, peer: PeerRecord, pushed_up_to: int,
                ceiling: int | None) -> bool:
    """Whether the copy ``item`` deleted here went out over the push link: added before the
    link's cursor, not the peer's own, of the link's types, within the link's TLP ``ceiling``
    (that the peer's party could read it, the store checked)."""
    if item.held_added_us is None or item.held_added_us > pushed_up_to or item.held_party_pk == peer.party_pk:
        return False
    if link.types and item.stix_id.split("--")[0] not in link.types:
        return False
    return ceiling is None or item.held_tlp is None or item.held_tlp <= ceiling
