"""TAXII responses and the resources they carry.

Every TAXII resource omits an empty list rather than sending ``[]``: TAXII 2.1 section 2
("Empty lists are prohibited in TAXII and MUST NOT be used as a substitute for omitting optional
properties"). A page of objects is built by concatenating the stored JSON texts, never by
parsing and re-serialising them: that is what keeps a poll cheap.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

from hub.common.timestamps import format_timestamp_us
from hub.services.access import CollectionInfo
from hub.services.ingest.statuses import Status
from hub.services.query import PageResult
from hub.taxii.negotiation import JSON, STIX_21, TAXII_21


def taxii_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A TAXII response: the exact 2.1 content type (section 1.6.8); ``body`` as JSON, or bytes
    already serialised."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    resp = Response(data, status=status, content_type=TAXII_21)
    if headers:
        resp.headers.update(headers)
    return resp


def json_response(body: Any, content_type: str = JSON, status: int = 200) -> Response:
    """A plain JSON response (the hub's own endpoints)."""
    return Response(orjson.dumps(body), status=status, content_type=content_type)


def date_added_headers(page: PageResult) -> dict[str, str]:
    """``X-TAXII-Date-Added-First`` and ``-Last`` of a page (section 3.2); none for an empty page."""
    first, last = page.first_added_us, page.last_added_us
    if first is None or last is None:
        return {}
    return {"X-TAXII-Date-Added-First": format_timestamp_us(first),
            "X-TAXII-Date-Added-Last": format_timestamp_us(last)}


def _paging_members(page: PageResult) -> dict[str, Any]:
    # ``more`` is always sent (clients loop on it); ``next`` only when there is a next page.
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    return body


def envelope(page: PageResult) -> bytes:
    """The envelope of a page (section 3.7), built from the stored JSON texts as they are."""
    head = b'{"more":true,"next":' + orjson.dumps(page.next) if page.more and page.next else (
        b'{"more":true' if page.more else b'{"more":false')
    if not page.items:
        return head + b"}"
    return head + b',"objects":[' + ",".join([i.json_text for i in page.items]).encode("utf-8") + b"]}"


def envelope_response(page: PageResult) -> Response:
    """A page of objects as a TAXII response, with its date-added headers."""
    return taxii_response(envelope(page), headers=date_added_headers(page))


def manifest_resource(page: PageResult) -> dict[str, Any]:
    """The manifest resource of a page (section 5.3.1)."""
    body = _paging_members(page)
    if page.items:
        body["objects"] = [{"id": i.stix_id, "date_added": format_timestamp_us(i.date_added_us),
                            "version": i.version, "media_type": STIX_21} for i in page.items]
    return body


def versions_resource(page: PageResult) -> dict[str, Any]:
    """The versions resource of a page (section 5.8.1)."""
    body = _paging_members(page)
    if page.items:
        body["versions"] = [i.version for i in page.items]
    return body


def collection_resource(info: CollectionInfo) -> dict[str, Any]:
    """The collection resource (section 5.2.1), as the requesting party sees the collection."""
    body: dict[str, Any] = {"id": info.id, "title": info.title, "can_read": info.can_read,
                            "can_write": info.can_write, "media_types": [STIX_21]}
    if info.description:
        body["description"] = info.description
    if info.alias:
        body["alias"] = info.alias
    return body


def collections_resource(infos: list[CollectionInfo]) -> dict[str, Any]:
    """The collections resource (section 5.1.1): ``{}`` when the party sees none ("If there are
    no Collections in the list, this key MUST be omitted")."""
    return {"collections": [collection_resource(i) for i in infos]} if infos else {}


def status_resource(status: Status) -> dict[str, Any]:
    """The status resource (section 4.3.1): the counts always, each list only when not empty."""
    body: dict[str, Any] = {"id": status.id, "status": status.status,
                            "request_timestamp": format_timestamp_us(status.request_us),
                            "total_count": status.total_count}
    for count, name, details in (("success_count", "successes", status.successes),
                                 ("failure_count", "failures", status.failures),
                                 ("pending_count", "pendings", status.pendings)):
        body[count] = len(details)
        if details:
            body[name] = details
    return body
