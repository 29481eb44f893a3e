"""Pseudonyms and correlations: the hub's own plain-JSON endpoints under the API root.

``POST {api-root}/pseudonyms/evaluate`` evaluates blinded elements (RFC 9497 POPRF) with a
batched proof per kind, so that a provider makes oblivious pseudonyms the hub never sees the
values of; ``GET {api-root}/pseudonyms/key`` publishes the public key of each key version, to
check those proofs against (public, like ``keys/``). ``POST {api-root}/pseudonyms/`` turns
personal values seen in clear into keyed pseudonyms, only where the operator turned on
``[pseudonyms] accept_raw_values``;
``GET {api-root}/correlations/`` lists the reports that share a pseudonym, in the collections
the party may read. Not TAXII resources: they answer ``application/json``, with TAXII's
authentication and error bodies, and take ``application/json`` (or TAXII JSON) bodies.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.common.errors import BadRequest, Forbidden
from hub.common.quoting import show
from hub.services.pseudonyms import EvaluateRequest
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import JSON, answer_json, json_body
from hub.taxii.responses import json_response

bp = Blueprint("pseudonyms", __name__)
bp.before_request(answer_json(JSON))


@bp.get("/pseudonyms/key")
def get_pseudonym_key() -> Response:
    """Each key version's POPRF public key (base64url), the current one flagged.

    Public on purpose: a provider checks the hub's proofs against it, and anyone may compare it
    with what others were shown (one key for everyone is what the proof guarantees).
    """
    return json_response(current_hub().pseudonyms.public_keys())


@bp.post("/pseudonyms/evaluate")
def evaluate_pseudonyms() -> Response:
    """``{"key_version": v, "groups": [{"kind": k, "blinded": [...]}, ...]}`` in; per group the
    evaluated elements and one proof out, in order."""
    hub = current_hub()
    principal = current_principal()
    wanted = EvaluateRequest.from_json(json_body(), hub.pseudonyms.key_versions())
    return json_response(hub.pseudonyms.evaluate(principal, wanted))


@bp.post("/pseudonyms/")
def make_pseudonyms() -> Response:
    """``{"values": [{"kind": ..., "value": ...}, ...]}`` in, the pseudonyms out, in order.

    This endpoint sees the raw personal values: it answers only where the operator turned on
    ``[pseudonyms] accept_raw_values``.
    """
    hub = current_hub()
    principal = current_principal()
    if not hub.config.pseudonyms.accept_raw_values:
        # Refused before the body is read: the values are not even parsed.
        raise Forbidden("this hub does not take personal values in clear (its operator has not "
                        "turned on [pseudonyms] accept_raw_values): make oblivious pseudonyms "
                        "with POST pseudonyms/evaluate, whose public key is at GET pseudonyms/key")
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
