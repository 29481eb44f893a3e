"""Status of a submission: ``GET {api-root}/status/{status-id}/`` (TAXII 2.1 section 4.3)."""

from __future__ import annotations

from flask import Blueprint, Response

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.responses import status_resource, taxii_response

bp = Blueprint("status", __name__)
bp.before_request(taxii_accept)


@bp.get("/status/<status_id>/")
def get_status(status_id: str) -> Response:
    """The status resource (section 4.3.1), to the party that submitted and to operators."""
    return taxii_response(status_resource(current_hub().statuses.get(current_principal(), status_id)))
