"""The API root: ``GET {api-root}/`` (TAXII 2.1 section 4.2)."""

from __future__ import annotations

from flask import Blueprint, Response

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import TAXII_21, taxii_accept
from hub.taxii.responses import taxii_response

bp = Blueprint("api_root", __name__)
bp.before_request(taxii_accept)


@bp.get("/")
def api_root() -> Response:
    """The API root resource (section 4.2.1): the versions served and ``max_content_length``."""
    current_principal()
    config = current_hub().config
    return taxii_response({"title": config.title, "description": config.description, "versions": [TAXII_21],
                           "max_content_length": config.taxii.max_content_length})
