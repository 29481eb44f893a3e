"""Collections: ``GET {api-root}/collections/`` (TAXII 2.1 section 5.1) and
``GET {api-root}/collections/{id}/`` (section 5.2).

A party sees only the collections it may read or write; any other is answered 404, so that its
existence is not revealed.
"""

from __future__ import annotations

from flask import Blueprint, Response

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.responses import collection_resource, collections_resource, taxii_response

bp = Blueprint("collections", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/")
def get_collections() -> Response:
    """The collections resource (section 5.1.1): ``{}`` for a party that sees none."""
    return taxii_response(collections_resource(current_hub().access.collection_infos(current_principal())))


@bp.get("/collections/<collection_id>/")
def get_collection(collection_id: str) -> Response:
    """The collection resource (section 5.2.1), by id or alias."""
    info = current_hub().access.collection_info(current_principal(), collection_id)
    return taxii_response(collection_resource(info))
