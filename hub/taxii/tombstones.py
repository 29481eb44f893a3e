"""The hub's tombstone feed: ``GET {api-root}/collections/{id}/tombstones/``.

Not part of TAXII 2.1 (which has no way to say that something was deleted): an abusehub
extension that a plain TAXII client never asks for. It answers, to a party that may read the
collection (the same access checks as its objects), the collection's signed tombstone records
oldest first, as ``{"more": ..., "tombstones": [...]}`` with ``X-TAXII-Date-Added-First`` and
``-Last`` giving the page's places in the feed; the next page is asked for with ``added_after``
set to the last. ``limit`` is clamped to the maximum page size; other parameters are ignored.
The records and their signature are described in docs/SIGNING.md, the flow in
docs/OPERATIONS.md.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from hub.common.timestamps import format_timestamp_us
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.params import parse_query
from hub.taxii.responses import taxii_response

bp = Blueprint("tombstones", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/<collection_id>/tombstones/")
def get_tombstones(collection_id: str) -> Response:
    """A page of the collection's signed tombstone records, after ``added_after``."""
    query = parse_query(request.args)
    feed = current_hub().tombstones.feed(current_principal(), collection_id, query.added_after_us, query.limit)
    body: dict[str, Any] = {"more": feed.more}
    if feed.records:
        body["tombstones"] = feed.records
    headers = {}
    if feed.first_us is not None and feed.last_us is not None:
        headers = {"X-TAXII-Date-Added-First": format_timestamp_us(feed.first_us),
                   "X-TAXII-Date-Added-Last": format_timestamp_us(feed.last_us)}
    return taxii_response(body, headers=headers)
