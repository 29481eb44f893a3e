"""Anonymous filing over HTTP (docs/ANONYMITY.md, "The request"):

- ``POST {api-root}/anonymous/``: ``{"collection": ID, "objects": [...],
  "withdrawal_commitment": "sha256:..."}`` with the filing party's token; 202 with the receipt
  (the report's id and object ids as they will be published, and the latest moment of
  publication).
- ``POST {api-root}/anonymous/withdraw/``: ``{"collection": ID, "report_id": ID, "secret": S}``,
  no credentials needed; 200 with how many versions were withdrawn.

The collection travels in the body, not the path, and the filing party is not put on the
request's log line (nor counted per party in the metrics): the access log shows only that a
filing was made. A failed authentication is counted as on every endpoint.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hub.common.errors import BadRequest, Unauthorized
from hub.taxii.context import basic_user, bearer_token, current_hub
from hub.taxii.negotiation import taxii_accept, taxii_body
from hub.taxii.responses import taxii_response

bp = Blueprint("anonymous", __name__)
bp.before_request(taxii_accept)


@bp.before_app_request
def _publish_waiting() -> None:
    """Every process serving the hub publishes the filings that wait, when their moment comes."""
    current_hub().anonymous.start()


def _collection(body: object) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("collection"), str):
        raise BadRequest("the request names its collection: {\"collection\": \"<collection id>\", ...}")
    return body["collection"]


@bp.post("/anonymous/")
def file_anonymously() -> Response:
    """File a report anonymously: checked as the authenticated party, published as nobody."""
    hub = current_hub()
    header = request.headers.get("Authorization")
    address, claimed = request.remote_addr, basic_user(header)
    try:
        token = bearer_token(header)
    except Unauthorized:
        hub.access.failed(address, claimed, "malformed")
        raise
    principal = hub.anonymous.authenticate(token)
    if principal is None:
        hub.access.failed(address, claimed, "invalid")
        raise Unauthorized("this resource needs a valid API token (HTTP Basic password or Bearer token)")
    body = taxii_body()
    collection = _collection(body)
    filing = {k: v for k, v in body.items() if k != "collection"}
    receipt = hub.anonymous.file_attested(principal, collection, filing)
    return taxii_response(receipt.to_json(), status=202)


@bp.post("/anonymous/withdraw/")
def withdraw() -> Response:
    """Withdraw an anonymous report by its secret; nobody is authenticated."""
    body = taxii_body()
    collection = _collection(body)
    report_id, secret = body.get("report_id"), body.get("secret")
    if not isinstance(report_id, str) or not isinstance(secret, str):
        raise BadRequest("a withdrawal names 'report_id' and gives 'secret' (strings)")
    count = current_hub().anonymous.withdraw(collection, report_id, secret)
    return taxii_response({"report_id": report_id, "withdrawn_versions": count}, status=200)
