"""The analysts' web pages: sign in with a party's token, browse, read, file and correlate
reports in a browser.

Server-rendered pages (a Flask blueprint and Jinja templates, autoescaped) over the SAME
services as the TAXII views and the CLI (:class:`hub.services.hub.Hub`); the only JavaScript
signs a report in the browser (WebCrypto) and follows its status. Everything the pages load is
served by the hub itself, under a strict Content-Security-Policy without inline script or style.

:func:`register_web` adds the pages to an app built by :func:`hub.server.create_app`.
"""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from hub.common.files import create_once
from hub.config import HubConfig

__all__ = ["CSP", "front_door", "register_web"]

#: The Content-Security-Policy of every web page: the hub's own scripts, styles and images
#: only; no inline script or style, no plugins, no framing, forms post only to the hub.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def _secret_key(config: HubConfig) -> bytes:
    """The key the forms' CSRF tokens are derived with: read from the configured file, made
    (0600) by the first process that needs it, so that every worker of the hub shares it."""
    path = config.home / config.web.secret_key_file
    create_once(path, secrets.token_hex(32).encode("ascii"))
    return path.read_bytes().strip()


def front_door() -> Response:
    """The hub's bare address (``/``): a browser is sent to the pages; anything that asks for
    JSON only (a TAXII client) gets the API's 404, as for any address the API does not have."""
    best = request.accept_mimetypes.best_match(["text/html", "application/taxii+json", "application/json"])
    if best != "text/html":
        raise NotFound()
    return redirect(url_for("web.index"))


def register_web(app: Flask, config: HubConfig) -> None:
    """Add the web pages (under ``/web/``) to ``app``. Sessions live in the database; the
    browser's cookie carries only a session id and is Secure (unless ``[web] secure_cookies``
    is off), HttpOnly and SameSite=Strict. A session ends at sign-out, after
    ``[web] session_idle_minutes`` without a request, or a day after sign-in. Every answer
    under ``/web/`` carries the pages' headers; an error there is an HTML page."""
    from hub.web import (
        operators,  # noqa: F401 - adds the operators' pages to the blueprint
        pseudonyms,  # noqa: F401 - adds the form's pseudonym routes
    )
    from hub.web.views import blueprint, headers, routing_error

    app.secret_key = _secret_key(config)
    app.register_blueprint(blueprint)
    app.before_request(routing_error)
    app.after_request(headers)
