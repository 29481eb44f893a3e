"""Sessions, CSRF and the security headers of every answer under ``/web/``.

Sessions live in the database (:mod:`hub.services.access.websessions`): the browser's cookie carries
only a random session id. The session keeps the SHA-256 hash of the token the analyst signed in
with, never the token, and the party is looked up from it on every request, so a token revoked
on the command line ends the session at once. A session signed in with a client certificate
keeps the certificate's SHA-256 fingerprint and party instead, checked on every request against
the trusted proxy's ``X-SSL-Client-Cert``. Signing out ends the session on the server: a copy of
the cookie opens nothing afterwards. Every POST carries the CSRF token derived from the
browser's session id (a form field, or the ``X-CSRF-Token`` header for the page's own JSON
requests) and is refused without it.

Every answer under ``/web/`` carries the pages' headers (:data:`CSP` and the rest), errors
included. :func:`hub.web.register_web` installs what is here: :func:`load_session` before every
page, :func:`headers` after every answer of the app, :func:`template_globals` for the templates.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response

from hub.common.errors import NotFound
from hub.services.access.websessions import csrf_token, is_session_id, new_session_id, resume_session
from hub.web.context import current_hub, current_principal, forwarded_certificate, wants_json
from hub.web.errors import error_page, under_web

__all__ = ["COOKIE", "CSP", "headers", "load_session", "page_csp", "require_operator", "require_session",
           "template_globals"]

#: The Content-Security-Policy of every web page: the hub's own scripts, styles and images
#: only; no inline script or style, no plugins, no framing, forms post only to the hub.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")



def page_csp(token_key_sources: tuple[str, ...] = ()) -> str:
    """:data:`CSP`, its ``connect-src`` widened by the origins of the ``[web] token_key_sources``
    (checked by the configuration: http(s) URLs without CSP syntax) that the filing page reads
    without credentials."""
    origins = sorted({f"{p.scheme}://{p.netloc}" for p in map(urlsplit, token_key_sources)})
    if not origins:
        return CSP
    return CSP.replace("connect-src 'self'", "connect-src 'self' " + " ".join(origins))


#: The cookie that carries a browser's session id (nothing else) on the paths of these pages.
COOKIE = "abusehub_web"


def _secret() -> bytes:
    key = current_app.secret_key
    return key.encode() if isinstance(key, str) else bytes(key or b"")


def _csrf_token() -> str:
    """The CSRF token of this browser's forms. A browser without a session id (not signed in)
    is given a random one in the cookie first: the id stands for no session until sign-in
    replaces it with the id of a new one."""
    if g.get("session_id") is None:
        g.session_id = g.set_cookie = new_session_id()
    return csrf_token(_secret(), g.session_id)


def template_globals() -> dict[str, Any]:
    """What every template may use: the forms' ``csrf_token()`` and the signed-in ``principal``."""
    return {"csrf_token": _csrf_token, "principal": g.get("principal")}


def load_session() -> Response | None:
    """Find the request's session (:func:`hub.services.access.websessions.resume_session` ends it if it
    is idle, too old or revoked); load the principal; check CSRF on every POST."""
    g.principal = g.ended = None
    g.session_id = g.set_cookie = None
    if request.endpoint == "web.static":
        return None
    sent = request.cookies.get(COOKIE)
    if is_session_id(sent):
        g.session_id = sent
        state = resume_session(current_hub(), sent, forwarded_certificate())
        g.principal, g.ended = state.principal, state.ended
    if request.method == "POST":
        given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = csrf_token(_secret(), g.session_id) if g.session_id else ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return error_page(403, "this form has expired or did not come from this page: "
                                   "reload the page and try again (CSRF check)")
    return None


def start(session_id: str) -> None:
    """Send ``session_id`` in the cookie with this answer (a new session's, at sign-in)."""
    g.session_id = g.set_cookie = session_id


def clear() -> None:
    """Remove the cookie with this answer (sign-out)."""
    g.principal = None
    g.clear_cookie = True


def require_session() -> Response | None:
    """Before the pages for a signed-in party: a browser without a live session is sent to the
    sign-in page (a POST or a script's JSON call gets a 401 instead)."""
    if g.get("principal") is not None:
        return None
    if request.method == "POST" or wants_json():
        return error_page(401, "your session has ended: sign in again")
    return redirect(url_for("web.signin.signin", next=request.full_path))


def require_operator() -> Response | None:
    """Before the operators' pages: a signed-in operator; 404 for any other party (the pages'
    existence is not revealed)."""
    refused = require_session()
    if refused is not None:
        return refused
    if not current_principal().party.operator:
        raise NotFound("no such page")
    return None


def _set_cookie(response: Response) -> None:
    """Send the cookie when this request made a session id (sign-in, or a first form), or
    remove it at sign-out; otherwise send none (a session is never renewed by a cookie)."""
    secure = current_hub().config.web.secure_cookies
    if g.get("set_cookie"):
        response.set_cookie(COOKIE, g.set_cookie, path="/web", secure=secure, httponly=True, samesite="Strict")
    elif g.get("clear_cookie"):
        response.delete_cookie(COOKIE, path="/web", secure=secure, httponly=True, samesite="Strict")


def headers(response: Response) -> Response:
    """The headers of every answer under ``/web/``, page, JSON or error alike (registered on
    the app by :func:`hub.web.register_web`, so that errors the blueprint never sees get them)."""
    if not under_web(request.path):
        return response
    _set_cookie(response)
    response.headers["Content-Security-Policy"] = page_csp(current_hub().config.web.token_key_sources)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "web.static" or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    return response
