"""Status resources: visible to the party that made the request, and to operators."""

from __future__ import annotations

from hub.common.errors import NotFound
from hub.services.auth import Principal
from hub.services.clock import Clock
from hub.store.base import Store
from hub.store.records import StatusRecord


class StatusService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def get(self, principal: Principal, status_id: str) -> StatusRecord:
        """The status, or 404 when it does not exist, has expired, or is someone else's."""
        status = self.store.get_status(status_id, self.clock())
        if status is None or (status.party_pk != principal.party.pk and not principal.party.operator):
            raise NotFound(f"no status {status_id!r} is available to you")
        return status
