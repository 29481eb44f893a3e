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

from flask import g, jsonify, request

from hub.common.errors import BadRequest
from hub.web.views import blueprint, current_hub, signed_in


@blueprint.route("/pseudonyms/key", methods=["GET"])
@signed_in
def pseudonym_key() -> Any:
    """Each key version's POPRF public key, as ``GET pseudonyms/key`` publishes it."""
    return jsonify(current_hub().pseudonyms.public_keys())


@blueprint.route("/pseudonyms/evaluate", methods=["POST"])
@signed_in
def evaluate() -> Any:
    """Blinded elements in, evaluated elements and one proof per kind out (CSRF-checked like
    every POST of these pages); the body is that of ``POST pseudonyms/evaluate``."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest('the body must be JSON: {"key_version": ..., "groups": [{"kind": ..., "blinded": [...]}]}')
    return jsonify(current_hub().pseudonyms.evaluate(g.principal, body))
