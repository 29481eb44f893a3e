"""Notices read the way the web pages show them, composed over :class:`NoticeService`.

:class:`NoticePages` answers what a page asks that the command line asks in several steps: the
notices of a collection a party reads, each with the number ``abusehub notice list`` shows it
with and its state (in force, not yet in force, ended, superseded, withdrawn); one notice with
the history of its versions; the notices in force that address a provider, each with that
provider's own newest answer. The status of a notice (who acted) is the
:meth:`NoticeService.status` the CLI prints, read as the notice's issuer: by the agency itself,
or by an operator acting as it. Nothing here reads more than the reading party may read: every
query carries its ``reader_pk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.common.errors import BadRequest, NotFound
from hub.common.timestamps import parse_timestamp_us
from hub.services.notices import NoticeService, NoticeStatus
from hub.stix.notice import ack_id, addressed_to, in_force
from hub.stix.notice_facts import ACK_TYPE, NOTICE_TYPE
from hub.store.records import ObjectFilter, Party

__all__ = ["NoticePage", "NoticePages", "NoticeRow", "notice_state"]


def notice_state(notice: Mapping[str, Any], now_us: int, superseded: bool = False) -> str:
    """``withdrawn``, ``superseded`` (another notice in force names it in ``supersedes_ref``),
    ``in force``, ``not yet in force`` or ``ended``, by the hub's clock ``now_us``."""
    if notice.get("withdrawn") is True:
        return "withdrawn"
    if superseded:
        return "superseded"
    if in_force(notice, now_us):
        return "in force"
    start = notice.get("effective_from")
    return "not yet in force" if isinstance(start, str) and parse_timestamp_us(start) > now_us else "ended"


@dataclass(frozen=True)
class NoticeRow:
    """One notice of a collection as a list shows it."""

    number: int
    notice: dict[str, Any]
    state: str
    #: The reading provider's own newest answer to it (None: none, or the reader is not a provider).
    answer: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return str(self.notice["id"])


@dataclass(frozen=True)
class NoticePage:
    """One notice: its newest version, every version the reader may read (oldest first), what
    it supersedes and what supersedes it, and its status when the reader may see who acted."""

    row: NoticeRow
    versions: list[dict[str, Any]]
    superseded_by: list[str] = field(default_factory=list)
    status: NoticeStatus | None = None


class NoticePages:
    """Page-shaped reads of notices, for one hub's :class:`NoticeService`."""

    def __init__(self, service: NoticeService) -> None:
        self.service = service
        self.store = service.store

    def _party(self, party_name: str) -> Party:
        party = self.store.get_party(party_name)
        if party is None:
            raise NotFound(f"no party {party_name!r}")
        return party

    def rows(self, party_name: str, collection_id: str) -> list[NoticeRow]:
        """Every notice ``party_name`` may read in the collection, numbered as ``abusehub notice
        list`` numbers them, with its state; for a provider, with its own newest answer."""
        party = self._party(party_name)
        notices = self.service.notices(party_name, collection_id)
        now = self.service.clock()
        replaced = {str(n["supersedes_ref"]) for n in notices
                    if n.get("supersedes_ref") and n.get("withdrawn") is not True}
        answers: dict[str, dict[str, Any]] = {}
        if party.kind == "provider" and notices:
            col = self.store.get_collection(collection_id)
            ids = tuple(ack_id(str(n["id"]), party.identity_id) for n in notices)
            if col is not None:
                for ack in self.service.objects(col.pk, ObjectFilter(ids=ids, types=(ACK_TYPE,),
                                                                       reader_pk=party.pk)):
                    answers[str(ack.get("notice_ref"))] = ack
        return [NoticeRow(i, n, notice_state(n, now, str(n["id"]) in replaced), answers.get(str(n["id"])))
                for i, n in enumerate(notices, 1)]

    def addressing(self, party_name: str, collection_id: str) -> list[NoticeRow]:
        """The notices in force in the collection that address the provider ``party_name``."""
        party = self._party(party_name)
        return [r for r in self.rows(party_name, collection_id)
                if r.state == "in force" and addressed_to(r.notice, party.identity_id)]

    def find(self, party_name: str, collection_id: str, notice_id: str,
             rows: list[NoticeRow] | None = None) -> NoticeRow:
        """One notice by its id or its number, as :meth:`rows` shows it (or ``rows``, read already)."""
        rows = self.rows(party_name, collection_id) if rows is None else rows
        if notice_id.isdigit():
            if not 1 <= int(notice_id) <= len(rows):
                raise NotFound(f"no notice number {notice_id} in collection {collection_id}")
            return rows[int(notice_id) - 1]
        if not notice_id.startswith(f"{NOTICE_TYPE}--"):
            raise BadRequest(f"{notice_id!r} is not a notice id ({NOTICE_TYPE}--<uuid>) or number")
        for row in rows:
            if row.id == notice_id:
                return row
        raise NotFound(f"no notice {notice_id} that you may read in collection {collection_id}")

    def page(self, party_name: str, collection_id: str, notice_id: str, *, operator: bool = False) -> NoticePage:
        """One notice with its versions; its status for its issuer, or for an operator (read as
        the issuer, as ``abusehub notice status --party`` reads it)."""
        party = self._party(party_name)
        rows = self.rows(party_name, collection_id)
        row = self.find(party_name, collection_id, notice_id, rows)
        col = self.store.get_collection(collection_id)
        assert col is not None  # rows() found it
        versions = self.service.objects(col.pk, ObjectFilter(ids=(row.id,), versions=("all",), reader_pk=party.pk))
        versions.sort(key=lambda o: str(o.get("modified", "")))
        later = [r.id for r in rows if r.notice.get("supersedes_ref") == row.id]
        status = None
        issuer = row.notice.get("created_by_ref")
        if issuer == party.identity_id:
            status = self.service.status(party_name, collection_id, row.id)
        elif operator:
            agency = next((p for p in self.store.list_parties() if p.identity_id == issuer), None)
            if agency is not None:
                try:
                    status = self.service.status(agency.name, collection_id, row.id)
                except NotFound:
                    status = None
        return NoticePage(row, versions, later, status)
