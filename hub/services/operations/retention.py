"""Retention: each collection may keep object versions for at most ``max_age_days`` days after
they were added (``abusehub collection edit ID --max-age-days N``); ``abusehub retention run``
deletes the older ones.

Age is measured by ``date_added`` (TAXII 2.1 section 3.4.1), the time this hub accepted the
version, not by the object's own ``created`` or ``modified``: a report accepted today about an
old incident is kept for the full period. A run is idempotent (a second run at the same time
deletes nothing), leaves newer versions alone and keeps each remaining object's first and last
versions marked, so ``match[version]=first|last`` stays right. Each collection with a policy
gets one audit record per run, with how many versions were deleted.

A version that retention deletes is not a deletion that peers must follow: it leaves no
tombstone, and a peer may offer it again (it is then kept for another period). The tombstones of
versions that were *deleted* (:mod:`hub.services.federation.tombstones`) are kept as long as a peer could
still offer such a version: a peer that keeps the collection under the same policy has dropped
its own copy ``max_age_days`` after adding it, and it added it before the deletion or deletes
it when the tombstone reaches it. So a run also forgets the tombstones of versions deleted more
than ``max_age_days`` ago; a collection without a maximum age keeps its objects, and its
tombstones, for ever (a peer may keep its copy for ever too). A federation whose hubs keep a
shared collection for different periods gives it, here, the longest of them
(docs/OPERATIONS.md, "Deletions across a federation").
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.common.timestamps import format_timestamp_us
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.hub import Hub
from hub.store.base import Store

_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class RetentionOutcome:
    """What one run did to one collection."""

    collection_id: str
    max_age_days: int
    cutoff_us: int  # versions added before this were deleted
    purged: int
    tombstones_purged: int = 0  # tombstones of versions deleted before the cutoff, forgotten


class RetentionService:
    """Applies every collection's retention policy."""

    def __init__(self, store: Store, clock: Clock, audit: AuditService) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit

    @classmethod
    def of(cls, hub: Hub) -> RetentionService:
        """The retention service over ``hub``'s store, clock and audit trail."""
        return cls(hub.store, hub.clock, hub.audit)

    def run(self) -> list[RetentionOutcome]:
        """Delete, in every collection with a ``max_age_days``, the versions added more than that
        many days before now, and forget the tombstones of versions deleted before then; one
        outcome (and one audit record) per such collection."""
        now = self.clock()
        outcomes = []
        for policy in self.store.retention_policies():
            cutoff = now - policy.max_age_days * _DAY_US
            purged = self.store.purge_added_before(policy.collection_pk, cutoff)
            forgotten = self.store.purge_tombstones(policy.collection_pk, cutoff)
            self.audit.record("retention.purge", "", policy.collection_id, max_age_days=policy.max_age_days,
                              added_before=format_timestamp_us(cutoff), purged=purged,
                              tombstones_purged=forgotten)
            outcomes.append(RetentionOutcome(policy.collection_id, policy.max_age_days, cutoff, purged, forgotten))
        return outcomes
