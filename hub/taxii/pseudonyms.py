"""Pseudonyms and correlations: the hub's own plain-JSON endpoints under the API root.

``POST {api-root}/pseudonyms/`` turns personal values into keyed pseudonyms;
``GET {api-root}/correlations/`` lists the reports that share a pseudonym, in the collections
the party may read. Not TAXII resources: they answer ``application/json``, with TAXII's
authentication and error bodies, and take ``application/json`` (or TAXII JSON) bodies.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.common.errors import BadRequest
from hub.common.quoting import show
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import JSON, answer_json, json_body
from hub.taxii.responses import json_response

bp = Blueprint("pseudonyms", __name__)
bp.before_request(answer_json(JSON))


@bp.post("/pseudonyms/")
def make_pseudonyms() -> Response:
    """``{"values": [{"kind": ..., "value": ...}, ...]}`` in, the pseudonyms out, in order."""
    hub = current_hub()
    principal = current_principal()
    body = json_body()
    if not isinstance(body, dict) or set(body) != {"values"}:
        raise BadRequest('the body must be {"values": [{"kind": ..., "value": ...}, ...]}')
    return json_response(hub.pseudonyms.pseudonymise(principal, body["values"]))


@bp.get("/correlations/")
def get_correlations() -> Response:
    """The reports sharing any of the given pseudonyms (``pseudonym=a,b`` or repeated)."""
    hub = current_hub()
    principal = current_principal()
    unknown = sorted(set(request.args) - {"pseudonym"})
    if unknown:
        raise BadRequest(f"unknown query parameter {show(unknown[0])}: use pseudonym=")
    wanted = [p.strip() for arg in request.args.getlist("pseudonym") for p in arg.split(",") if p.strip()]
    found = hub.pseudonyms.correlate(principal, wanted)
    return json_response({"correlations": [c.as_json() for c in found]})
