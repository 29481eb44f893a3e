"""Signing in and out: ``/web/`` itself, ``/web/signin`` (a party's API token, or the client
certificate the trusted proxy forwarded) and ``/web/signout``.

A token sign-in goes through the TAXII API's authentication, so failures count in the same
throttle; a session starts with a new id (:func:`hub.services.access.websessions.start_session`), and
signing out ends it on the server (:mod:`hub.web.sessions`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from hub.common.errors import HubError, TooManyRequests
from hub.services.access.auth import Principal, hash_token
from hub.services.access.websessions import (
    CERTIFICATE,
    EXPIRED,
    IDLE,
    MAX_AGE_US,
    REVOKED,
    SIGNED_OUT,
    certificate_sign_in,
    end_session,
    sign_in_with_certificate,
    start_session,
)
from hub.web import sessions
from hub.web.context import current_hub, forwarded_certificate, now_us

bp = Blueprint("signin", __name__)

_ENDED = {
    SIGNED_OUT: "You signed out.",
    IDLE: "Your session ended after a time without activity: sign in again.",
    EXPIRED: f"Your session ended after {MAX_AGE_US // 3_600_000_000} hours: sign in again.",
    REVOKED: "Your session ended: its token is no longer valid.",
    CERTIFICATE: "Your session ended: your browser no longer presented the certificate it was signed "
                 "in with, or that certificate is no longer registered to an active party.",
}


def _local_next(target: str | None) -> str:
    """Only a path of these pages: an open redirect would let another site use the sign-in."""
    if target and target.startswith("/web/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.collections.collections")


@bp.get("/")
def index() -> Any:
    """The pages' front: the collections when signed in, else the sign-in page."""
    return redirect(url_for("web.collections.collections" if g.principal else "web.signin.signin"))


def _signin_page(status: int = 200, **context: Any) -> Response:
    """The sign-in page: the token form, and the certificate sign-in when the request carries
    a certificate registered to an active party. Nothing typed is ever put back into it."""
    context.setdefault("next", request.form.get("next", "") if request.method == "POST" else
                       request.args.get("next", ""))
    offer = certificate_sign_in(current_hub(), forwarded_certificate())
    resp = Response(render_template("signin.html", certificate=offer, **context))
    resp.status_code = status
    return resp


def _start_session(principal: Principal, *, token_hash: str | None = None, fingerprint: str | None = None) -> Any:
    """A new session for ``principal`` in the database, with a new id (hence a new CSRF token):
    nothing from before sign-in carries over."""
    sessions.start(start_session(current_hub(), principal, token_hash=token_hash, fingerprint=fingerprint))
    g.principal = principal
    return redirect(_local_next(request.form.get("next")))


def _retry_text(seconds: int) -> str:
    """When a throttled address may try again: in how many seconds, and at what time (UTC)."""
    at = datetime.fromtimestamp(now_us() // 1_000_000 + seconds, UTC)
    return f"{seconds} seconds (at {at:%H:%M:%S} UTC)"


def _sign_in_with_token() -> Any:
    """A token sign-in, through the TAXII API's authentication: a failure is counted against the
    request's address in the same shared throttle, and once the address has failed too often the
    answer is 429 with ``Retry-After``. A valid token is accepted even then (as on the TAXII
    side), so that parties sharing an address are not locked out by someone else's guesses."""
    token = (request.form.get("token") or "").strip()
    if not token:
        return _signin_page(401, error="Enter your party's API token.")
    try:
        principal = current_hub().access.authenticate(token, address=request.remote_addr)
    except TooManyRequests as exc:
        retry = (exc.details or {}).get("retry_after")
        seconds = retry if isinstance(retry, int) and retry > 0 else 60
        resp = _signin_page(429, error=f"Too many failed sign-ins from your address: try again in "
                                       f"{_retry_text(seconds)}. A valid token is still accepted.")
        resp.headers["Retry-After"] = str(seconds)
        return resp
    except HubError as exc:
        if exc.http_status >= 500:
            raise  # the hub cannot answer now: its error page, not "that token is not valid"
        return _signin_page(401, error="That token is not valid (unknown or revoked).")
    return _start_session(principal, token_hash=hash_token(token))


def _sign_in_with_certificate() -> Any:
    """A certificate sign-in, authenticated as the TAXII API authenticates a certificate; the
    session keeps the certificate's fingerprint and party, never the certificate."""
    try:
        principal, fingerprint = sign_in_with_certificate(current_hub(), forwarded_certificate())
    except HubError as exc:
        if exc.http_status >= 500:
            raise
        return _signin_page(401, error="This request carries no client certificate registered to an "
                                       "active party: sign in with your token.")
    return _start_session(principal, fingerprint=fingerprint)


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    if request.method == "POST":
        if request.form.get("method") == "certificate":
            return _sign_in_with_certificate()
        return _sign_in_with_token()
    ended = g.get("ended")
    return _signin_page(message=_ENDED.get(ended) if isinstance(ended, str) else None)


@bp.post("/signout")
def signout() -> Any:
    """End the session in the database (a copy of the cookie opens nothing afterwards, on any
    host of the hub) and remove the cookie."""
    if g.session_id is not None:
        end_session(current_hub(), g.session_id)
    sessions.clear()
    return redirect(url_for("web.signin.signin"))
