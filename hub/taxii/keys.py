"""The hub's public signing keys: ``GET {api-root}/keys/``, a JWK set (RFC 7517 section 5).

Not a TAXII endpoint: it answers ``application/jwk-set+json`` (RFC 7517 section 8.5), or
``application/json`` to a client that accepts only that.
"""

from __future__ import annotations

from flask import Blueprint, Response

from hub.taxii.context import current_hub
from hub.taxii.negotiation import JSON, JWK_SET, answer_json, answer_type
from hub.taxii.responses import json_response

bp = Blueprint("keys", __name__)
bp.before_request(answer_json(JWK_SET, JSON))


@bp.get("/keys/")
def get_keys() -> Response:
    """The JWK set of the registered signing keys.

    Public on purpose: anyone holding a signed object can check it without an account.
    """
    return json_response(current_hub().keys.jwks(), content_type=answer_type(JWK_SET))
