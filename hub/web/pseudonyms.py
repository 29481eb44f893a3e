"""Oblivious pseudonyms for the filing form: the page's script normalises and blinds each
personal value in the browser, and these two routes give it what the TAXII side gives a
provider's tools (``GET pseudonyms/key``, ``POST pseudonyms/evaluate``), under the web session.

They call the same :class:`~hub.services.pseudonyms.PseudonymService` methods as the TAXII
views: the same validation of blinded elements, the same per-party allowance shared with the
TAXII endpoint, the same audit record (counts per kind, never an element). The browser checks
each answer's proof against the published key before it uses a pseudonym; the hub never sees
a value.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from hub.common.errors import BadRequest
from hub.services.pseudonyms import EvaluateRequest
from hub.web.context import answers_json, current_hub, current_principal
from hub.web.sessions import require_session

bp = Blueprint("pseudonyms", __name__)
bp.before_request(require_session)


@bp.get("/pseudonyms/key")
@answers_json
def pseudonym_key() -> Any:
    """Each key version's POPRF public key, as ``GET pseudonyms/key`` publishes it."""
    return jsonify(current_hub().pseudonyms.public_keys())


@bp.post("/pseudonyms/evaluate")
@answers_json
def evaluate() -> Any:
    """Blinded elements in, evaluated elements and one proof per kind out (CSRF-checked like
    every POST of these pages); the body is that of ``POST pseudonyms/evaluate``."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest('the body must be JSON: {"key_version": ..., "groups": [{"kind": ..., "blinded": [...]}]}')
    pseudonyms = current_hub().pseudonyms
    wanted = EvaluateRequest.from_json(body, pseudonyms.key_versions())
    return jsonify(pseudonyms.evaluate(current_principal(), wanted))
