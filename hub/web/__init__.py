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
from datetime import timedelta

from flask import Flask

from hub.common.files import create_once
from hub.config import HubConfig

__all__ = ["CSP", "register_web"]

#: The Content-Security-Policy of every web page: the hub's own scripts, styles and images
#: only; no inline script or style, no plugins, no framing, forms post only to the hub.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def _secret_key(config: HubConfig) -> bytes:
    """The key that signs session cookies: read from the configured file, made (0600) by the
    first process that needs it, so that every worker of the hub shares it."""
    path = config.home / config.web.secret_key_file
    create_once(path, secrets.token_hex(32).encode("ascii"))
    return path.read_bytes().strip()


def register_web(app: Flask, config: HubConfig) -> None:
    """Add the web pages (under ``/web/``) to ``app``, with sessions in signed cookies that
    are Secure (unless ``[web] secure_cookies`` is off), HttpOnly and SameSite=Strict, and end
    after ``[web] session_idle_minutes`` without a request."""
    from hub.web import (
        operators,  # noqa: F401 - adds the operators' pages to the blueprint
        pseudonyms,  # noqa: F401 - adds the form's pseudonym routes
    )
    from hub.web.views import blueprint

    app.secret_key = _secret_key(config)
    app.config.update(
        SESSION_COOKIE_NAME="abusehub_web",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=config.web.secure_cookies,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/web",
        SESSION_REFRESH_EACH_REQUEST=True,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.web.session_idle_minutes),
    )
    app.register_blueprint(blueprint)
