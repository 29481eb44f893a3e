"""Every error under ``/web/`` is an HTML page with its status (the JSON routes' callers, which
ask for JSON, get it as JSON): the web pages' counterpart of :mod:`hub.taxii.errors`.

The hub's own errors keep their status, 503 (the database cannot be used now) included, and
``Retry-After`` when the service says when to try again; werkzeug's keep theirs with their
``Allow`` header; anything unexpected is a 500 page, logged here without the request's path.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from hub.common.errors import HubError
from hub.web.context import wants_json

__all__ = ["error_page", "register_error_pages", "routing_error", "under_web"]

_HTTP_MESSAGES = {
    404: "there is no page at this address",
    405: "this page does not answer that kind of request",
    413: "what was sent is larger than this hub accepts",
}


def under_web(path: str) -> bool:
    """Whether ``path`` is one of these pages' addresses."""
    return path == "/web" or path.startswith("/web/")


def error_page(status: int, message: str, *, html: bool = False) -> Response:
    """An error as a page (the JSON routes' callers, which ask for JSON, get it as JSON)."""
    if not html and wants_json():
        resp = jsonify({"title": "refused", "description": message})
    else:
        resp = Response(render_template("error.html", status=status, message=message))
    resp.status_code = status
    return resp


def _hub_error(exc: HubError) -> Response:
    status = exc.http_status if 400 <= exc.http_status <= 599 else 500
    resp = error_page(status, exc.description)
    retry_after = (exc.details or {}).get("retry_after")
    if isinstance(retry_after, int) and not isinstance(retry_after, bool) and retry_after >= 0:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _http_error_page(exc: HTTPException, *, html: bool = False) -> Response:
    code = exc.code or 500
    resp = error_page(code, _HTTP_MESSAGES.get(code, exc.description or exc.name), html=html)
    for name, value in exc.get_headers():
        if name.lower() in ("allow", "retry-after"):
            resp.headers[name] = value
    return resp


def _http_error(exc: HTTPException) -> Response:
    return _http_error_page(exc)


def _unexpected(exc: Exception) -> Response:
    # The endpoint's name, not the path: a path may carry what a browser typed.
    current_app.logger.exception("unexpected error on %s %s", request.method, request.endpoint or "unknown")
    return error_page(500, "the hub failed to answer; the error was logged")


def register_error_pages(web: Blueprint) -> None:
    """Answer every error of the pages of ``web`` (and of the blueprints under it) with a page."""
    web.register_error_handler(HubError, _hub_error)
    web.register_error_handler(HTTPException, _http_error)
    web.register_error_handler(Exception, _unexpected)


def routing_error() -> Response | None:
    """An address under ``/web/`` that no page has (or a method it does not take): an HTML
    error page, not the TAXII API's JSON (registered on the app by :func:`hub.web.register_web`,
    as routing errors reach no blueprint)."""
    exc = request.routing_exception
    if exc is None or not under_web(request.path) or not isinstance(exc, HTTPException):
        return None
    if exc.code is not None and 300 <= exc.code < 400:
        return None  # a redirect werkzeug's routing asks for
    return _http_error_page(exc, html=True)
