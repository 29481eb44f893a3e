"""The analysts' web pages: sign in with a party's token, browse, read, file and correlate
reports in a browser.

Server-rendered pages (Flask blueprints and Jinja templates, autoescaped) over the SAME
services as the TAXII views and the CLI (:class:`hub.services.hub.Hub`); nothing here reads the
store. The only JavaScript normalises, blinds and signs in the browser and follows a status.
Everything the pages load is served by the hub itself, under a strict Content-Security-Policy
without inline script or style.

Built like the TAXII layer: one module per page family, each a blueprint:
:mod:`~hub.web.signin` (``/web/``, sign-in and sign-out), :mod:`~hub.web.collections`
(collections, their objects, an object's page, a report's case file),
:mod:`~hub.web.correlations`, :mod:`~hub.web.file` (filing a report and submitting it),
:mod:`~hub.web.status` (a submission's status), :mod:`~hub.web.stats` (sharing statistics),
:mod:`~hub.web.operators` (the operators' pages) and :mod:`~hub.web.pseudonyms` (the filing
form's key and evaluation routes). Around them: :mod:`~hub.web.sessions` (sessions, CSRF and
the security headers), :mod:`~hub.web.errors` (error pages), :mod:`~hub.web.context` (the
services and the signed-in principal), :mod:`~hub.web.filing` (the form and report facts),
:mod:`~hub.web.casefile` (a report read as a case file) and :mod:`~hub.web.charts`.

:func:`register_web` adds them to an application (:func:`hub.server.create_app` builds it).
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from hub.config import HubConfig
from hub.services.operations.runtime import web_secret_key
from hub.web.sessions import CSP

__all__ = ["CSP", "front_door", "register_web"]


def front_door() -> Response:
    """The hub's bare address (``/``): a browser is sent to the pages; anything that asks for
    JSON only (a TAXII client) gets the API's 404, as for any address the API does not have."""
    best = request.accept_mimetypes.best_match(["text/html", "application/taxii+json", "application/json"])
    if best != "text/html":
        raise NotFound()
    return redirect(url_for("web.signin.index"))


def register_web(app: Flask, config: HubConfig) -> None:
    """Add the web pages (under ``/web/``) to ``app``.

    One blueprint ``web`` holds the templates and static files, loads the session and checks
    CSRF before every page (:func:`hub.web.sessions.load_session`) and answers errors with pages
    (:func:`hub.web.errors.register_error_pages`); each page family's blueprint is registered
    under it (endpoints ``web.<family>.<view>``). On the app: an address under ``/web/`` that no
    page has is an HTML error page, and every answer under ``/web/`` carries the pages' headers
    (:func:`hub.web.sessions.headers`).
    """
    from hub.web import (
        collections,
        correlations,
        errors,
        file,
        notices,
        operators,
        pseudonyms,
        sessions,
        signin,
        stats,
        status,
    )

    web = Blueprint("web", __name__, url_prefix="/web", template_folder="templates",
                    static_folder="static", static_url_path="/static")
    web.before_request(sessions.load_session)
    web.app_context_processor(sessions.template_globals)
    errors.register_error_pages(web)
    for module in (signin, collections, correlations, file, status, stats, operators, pseudonyms, notices):
        web.register_blueprint(module.bp)
    # The key serve checked at start-up, read (never rewritten) through the same function.
    app.secret_key = web_secret_key(config)
    app.register_blueprint(web)
    app.before_request(errors.routing_error)
    app.after_request(sessions.headers)
