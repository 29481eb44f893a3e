"""What a page needs from the request: the hub's services and the signed-in principal.

The web pages' counterpart of :mod:`hub.taxii.context`: the hub is the one
:func:`hub.server.create_app` keeps under :data:`hub.services.hub.EXTENSION`, and the principal
is the one :func:`hub.web.sessions.load_session` found for the request's session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from hub.common.errors import Unauthorized
from hub.services.access.auth import Principal
from hub.services.access.certificates import CLIENT_CERT_HEADER
from hub.services.hub import EXTENSION, Hub

F = TypeVar("F", bound=Callable[..., Any])


def current_hub() -> Hub:
    """The hub whose services these pages call (one per app)."""
    hub: Hub = current_app.extensions[EXTENSION]
    return hub


def now_us() -> int:
    """Now, on the hub's clock (integer microseconds since the epoch)."""
    return current_hub().clock()


def current_principal() -> Principal:
    """The party the request's session acts for. The blueprints of the pages that need one
    send a browser without a session to the sign-in page first
    (:func:`hub.web.sessions.require_session`); any other caller gets a 401 page."""
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized("your session has ended: sign in again")
    return principal


def forwarded_certificate() -> str | None:
    """The client certificate the TLS-terminating proxy forwarded with this request, or None;
    the server drops the header from anyone but the configured ``[server] trusted_proxies``."""
    return request.headers.get(CLIENT_CERT_HEADER) or None


def answers_json(view: F) -> F:
    """Mark a route the pages' scripts call: it answers JSON, and so do its errors to a caller
    that asks for JSON (:func:`wants_json`); every other address under /web/ answers pages."""
    view.answers_json = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    """Whether this request is a script's call to a JSON route that wants its answer as JSON."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "answers_json", False)) and (
        request.accept_mimetypes.best == "application/json" or request.is_json)
