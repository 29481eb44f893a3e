"""Objects of a collection: get (TAXII 2.1 section 5.4) and add (5.5) at
``{api-root}/collections/{id}/objects/``; get (5.6) and delete (5.7) one object at
``{api-root}/collections/{id}/objects/{object-id}/``.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.services.ingest.statuses import Status
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import TAXII_21, taxii_accept, taxii_body
from hub.taxii.params import parse_query
from hub.taxii.responses import envelope_response, status_resource, taxii_response

bp = Blueprint("objects", __name__)
bp.before_request(taxii_accept)


@bp.get("/collections/<collection_id>/objects/")
def get_objects(collection_id: str) -> Response:
    """An envelope (section 3.7) of the matching objects, oldest ``date_added`` first, paged."""
    query = current_hub().query
    with query.reading():  # the token, the grants, the collection and the page: one transaction
        page = query.objects(current_principal(), collection_id, parse_query(request.args))
    return envelope_response(page)


@bp.post("/collections/<collection_id>/objects/")
def add_objects(collection_id: str) -> Response:
    """Add an envelope of objects; 202 with the status resource (sections 5.5 and 4.3.1).

    Access is checked before the body is read: a party that may not write learns nothing from
    how its body is judged.
    """
    hub = current_hub()
    principal = current_principal()
    col = hub.access.collection(principal, collection_id, "write")
    status = Status.of(hub.ingest.submit(principal, col, taxii_body()))
    return taxii_response(status_resource(status), status=202)


@bp.get("/collections/<collection_id>/objects/<object_id>/")
def get_object(collection_id: str, object_id: str) -> Response:
    """An envelope of the matching versions of one object (section 5.6)."""
    query = current_hub().query
    with query.reading():
        page = query.object(current_principal(), collection_id, object_id, parse_query(request.args))
    return envelope_response(page)


@bp.delete("/collections/<collection_id>/objects/<object_id>/")
def delete_object(collection_id: str, object_id: str) -> Response:
    """Delete the matching versions of one object; ``match[version]`` defaults to ``all``
    here (section 5.7). 200 with no body."""
    query = parse_query(request.args, default_version="all")
    current_hub().query.delete(current_principal(), collection_id, object_id, query)
    return Response(status=200, content_type=TAXII_21)
