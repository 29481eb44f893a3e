"""Every error becomes a TAXII error message (TAXII 2.1 section 3.6.1) with its HTTP status.

Nothing reaches a client as an HTML page: the hub's own errors (:class:`HubError`), werkzeug's
(404 for an unknown URL, 405, 413) and anything unexpected (500, logged here) all answer with an
error body. The headers HTTP asks of a status go along: ``Allow`` with 405 (RFC 9110 section
15.5.6), ``WWW-Authenticate`` with 401, ``Retry-After`` with 429 and 503 when the error says when
to try again (``retry_after`` in its details: a database the hub cannot use now says 5 s).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from hub.common.errors import HubError
from hub.taxii.responses import taxii_response

#: The schemes a 401 offers (TAXII 2.1 section 1.6.9: HTTP Basic; Bearer carries the same token).
CHALLENGE = 'Basic realm="abusehub", Bearer realm="abusehub"'


def error_body(status: int, title: str, description: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A TAXII error message (section 3.6.1); ``http_status`` matches the response's status."""
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = details
    return body


def _hub_error(exc: HubError) -> Response:
    headers: dict[str, str] = {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    retry_after = (exc.details or {}).get("retry_after")
    if exc.http_status in (429, 503) and isinstance(retry_after, int) and not isinstance(retry_after, bool) \
            and retry_after >= 0:
        headers["Retry-After"] = str(retry_after)
    return taxii_response(error_body(exc.http_status, exc.title, exc.description, exc.details),
                          exc.http_status, headers)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    description = exc.description or exc.name
    if code == 413:
        limit = request.max_content_length
        description = f"the request body is larger than this server's max_content_length ({limit} bytes)"
    # werkzeug's own headers for the status (Allow on 405, ...), but not its HTML content type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return taxii_response(error_body(code, exc.name, description), code, headers)


def _unexpected(exc: Exception) -> Response:
    # The endpoint's name, not the path: a path may carry what a client typed (an alias, an id).
    current_app.logger.exception("unexpected error on %s %s", request.method, request.endpoint or "unknown")
    return taxii_response(error_body(500, "Internal error", "the server failed to answer; the error was logged"), 500)


def register_error_handlers(app: Flask) -> None:
    """Answer every error of ``app`` with a TAXII error message."""
    app.register_error_handler(HubError, _hub_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
