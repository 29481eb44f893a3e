"""Submission tokens (docs/ANONYMITY.md, "Token mode"): the hub's own JSON endpoints under the API root.

- ``GET {api root}/anonymity/token-keys/``: the token key directory (the issuer's name, the
  token challenge, the current epoch's key). Public: every party, every peer hub and anyone else
  reads the same document, which is what lets a provider check that its key is everyone's.
- ``GET {api root}/anonymity/token-keys/copies/?issuer=<name>``: the copies this hub keeps of
  another hub's directory (``abusehub token copy-keys``): a second source for that hub's key.
  Public.
- ``POST {api root}/anonymity/tokens/``: an authenticated provider's token requests in, blind
  signatures out (``{"token_key_id": ..., "requests": [...]}`` -> ``{"responses": [...], ...}``).
- ``POST {api root}/anonymous/redeem/``: an anonymous filing paid with one token, sent with no
  other credentials: the token in ``Authorization: PrivateToken token="..."`` (RFC 9577) or as
  the body's ``"token"``; the body as for attested filing (``{"collection": ID, "objects": [...],
  "withdrawal_commitment": ...}``: the collection in the body, out of the request's log line)
  plus the client's ``"sealed_record"``. Answers 202 with the filing's receipt.

Not TAXII resources: they answer ``application/json``, with TAXII's error bodies.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.common.errors import BadRequest
from hub.services.anonymity.tokens import parse_private_token_header
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import JSON, answer_json, json_body
from hub.taxii.responses import json_response

bp = Blueprint("tokens", __name__)
bp.before_request(answer_json(JSON))


@bp.get("/anonymity/token-keys/")
def get_token_keys() -> Response:
    """The token key directory: the same for everyone, on purpose."""
    return _public(json_response(current_hub().tokens.directory()))


@bp.get("/anonymity/token-keys/copies/")
def get_token_key_copies() -> Response:
    """Another hub's token keys as this hub copied them."""
    unknown = sorted(set(request.args) - {"issuer"})
    issuer = request.args.get("issuer", "")
    if unknown or not issuer:
        raise BadRequest("give the issuer whose keys are wanted: ?issuer=<name>, and nothing else")
    return _public(json_response(current_hub().tokens.copies(issuer)))


def _public(resp: Response) -> Response:
    """Readable by a page of any origin (public data, read without credentials): a filing page
    checks its hub's key against another hub's copy (docs/WEB.md, "Filing with a token")."""
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.post("/anonymity/tokens/")
def issue_tokens() -> Response:
    """Blind signatures on the provider's token requests, within its allowance for the epoch."""
    hub = current_hub()
    principal = current_principal()
    return json_response(hub.tokens.issue(principal, json_body()))


@bp.post("/anonymous/redeem/")
def redeem_token() -> Response:
    """One anonymous report for one token; nobody is authenticated and nobody is named."""
    header = parse_private_token_header(request.headers.get("Authorization"))
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("collection"), str):
        raise BadRequest('the request names its collection: {"collection": "<collection id>", ...}')
    filing = {k: v for k, v in body.items() if k != "collection"}
    receipt = current_hub().tokens.redeem(body["collection"], filing, header)
    return json_response(receipt.to_json(), status=202)
