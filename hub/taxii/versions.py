"""Versions of an object: ``GET {api-root}/collections/{id}/objects/{object-id}/versions/``
(TAXII 2.1 section 5.8)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.params import parse_query
from hub.taxii.responses import date_added_headers, taxii_response, versions_resource

bp = Blueprint("versions", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/<collection_id>/objects/<object_id>/versions/")
def get_versions(collection_id: str, object_id: str) -> Response:
    """The versions resource (section 5.8.1): every version of the object, oldest first, paged.
    ``match[version]`` does not apply here."""
    query = parse_query(request.args, allow_version=False)
    service = current_hub().query
    with service.reading():  # the token, the grants, the collection and the page: one transaction
        page = service.versions(current_principal(), collection_id, object_id, query)
    return taxii_response(versions_resource(page), headers=date_added_headers(page))
