"""Object manifests: ``GET {api-root}/collections/{id}/manifest/`` (TAXII 2.1 section 5.3)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.params import parse_query
from hub.taxii.responses import date_added_headers, manifest_resource, taxii_response

bp = Blueprint("manifest", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/<collection_id>/manifest/")
def get_manifest(collection_id: str) -> Response:
    """The manifest resource (section 5.3.1): one entry per matching object version, paged."""
    query = current_hub().query
    with query.reading():  # the token, the grants, the collection and the page: one transaction
        page = query.manifest(current_principal(), collection_id, parse_query(request.args))
    return taxii_response(manifest_resource(page), headers=date_added_headers(page))
