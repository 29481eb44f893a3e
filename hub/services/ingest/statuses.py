"""Status resources: visible to the party that made the request, and to operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.common.errors import NotFound
from hub.common.ids import is_uuid_text
from hub.common.quoting import show
from hub.services.access.auth import Principal
from hub.services.clock import Clock
from hub.store.base import Store
from hub.store.records import StatusRecord


@dataclass(frozen=True)
class Status:
    """The outcome of one submission, object by object (TAXII 2.1 section 4.3.1).

    Each of ``successes``, ``failures`` and ``pendings`` is a list of status-details
    (``id``, ``version``, ``message``).
    """

    id: str
    status: str
    request_us: int
    successes: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    pendings: list[dict[str, Any]]

    @property
    def total_count(self) -> int:
        """Every object of the request: succeeded, failed or pending."""
        return len(self.successes) + len(self.failures) + len(self.pendings)

    @classmethod
    def of(cls, record: StatusRecord) -> Status:
        """The status of a stored record (what ingest returns and the store keeps)."""
        return cls(id=record.id, status=record.status, request_us=record.request_us,
                   successes=record.successes, failures=record.failures, pendings=record.pendings)


class StatusService:
    """Reads status resources for the party that made the request."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def get(self, principal: Principal, status_id: str) -> Status:
        """The status, or 404 when it does not exist, has expired, or is someone else's."""
        # Status ids are the UUIDs this hub issues (``str(uuid4())``, lower case).
        if not is_uuid_text(status_id):
            # Not an id this hub issues: no status to look up (and nothing odd reaches the database).
            raise NotFound(f"no status {show(status_id)} is available to you: status ids are UUIDs")
        # A status may be read on a standby (hub.store.replicas): one not there yet is asked of the primary.
        status = self.store.routed(lambda: self.store.get_status(status_id, self.clock()), principal.party.pk)
        if status is None or (status.party_pk != principal.party.pk and not principal.party.operator):
            raise NotFound(f"no status {status_id!r} is available to you")
        return Status.of(status)
