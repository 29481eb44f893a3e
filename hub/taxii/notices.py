"""The status of a notice: ``GET {api-root}/collections/{id}/notices/{notice_id}/status/``.

Not part of TAXII 2.1: an abusehub extension under the API root, like the tombstone feed. It
answers, as JSON, who acted on a notice (:meth:`hub.services.notices.NoticeService.status_for`):
each addressee with its state (received, applied, not-applicable, objection, preserved,
answered, pending, overdue by the hub's clock), grouped by the hub that serves it (this hub,
or a peer hub that reported it in its signed roster), and the counts. ``notice_id`` is the
notice's STIX id, or (for its agency) the number ``abusehub notice list`` shows it with. The
agency that issued the notice reads it; an operator reads it without the answers' content;
anyone else gets 404, as for a notice that is not stored.
"""

from __future__ import annotations

from flask import Blueprint, Response

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.responses import taxii_response

bp = Blueprint("notices", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/<collection_id>/notices/<notice_id>/status/")
def get_notice_status(collection_id: str, notice_id: str) -> Response:
    """Who acted on the notice, by hub."""
    status = current_hub().notices.status_for(current_principal(), collection_id, notice_id)
    return taxii_response(status.to_json())
