"""What a view needs from the request: the hub's services and the authenticated principal."""

from __future__ import annotations

import base64
import binascii

from flask import current_app, g, request

from hub.common.errors import Unauthorized
from hub.common.quoting import show
from hub.services.access.auth import Principal
from hub.services.access.certificates import CLIENT_CERT_HEADER
from hub.services.hub import EXTENSION, Hub


def current_hub() -> Hub:
    """The services of the hub this application serves."""
    hub: Hub = current_app.extensions[EXTENSION]
    return hub


def basic_user(header: str | None) -> str | None:
    """The user name of HTTP Basic credentials (the party the client claims to be), else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, _password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user if sep and user else None


def bearer_token(header: str | None) -> str | None:
    """The token in an Authorization header: HTTP Basic password, Bearer or Token scheme.

    TAXII 2.1 section 1.6.9 asks servers for HTTP Basic; Bearer and Token carry the same token
    for clients that prefer them (taxii2-client's ``TokenAuth`` sends ``Token``).
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("bearer", "token"):
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Basic credentials are not valid base64 of 'name:token'") from None
        _user, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthorized("the Basic credentials must be 'name:token'")
        return password or None
    raise Unauthorized(f"authentication scheme {show(scheme)} is not supported: use Basic or Bearer")


def current_principal() -> Principal:
    """The party the request acts for; 401 without valid credentials, 429 after too many
    failures from the request's address or for the party it claims (HTTP Basic user name).

    The party is remembered on :data:`flask.g` (``g.party``) for the request's log line.
    """
    access = current_hub().access
    header = request.headers.get("Authorization")
    forwarded = request.headers.get(CLIENT_CERT_HEADER)  # only a trusted proxy's reaches here
    if header is None and forwarded:
        principal = access.authenticate_certificate(forwarded)
        g.party = principal.party.name
        return principal
    address, claimed = request.remote_addr, basic_user(header)
    try:
        token = bearer_token(header)
    except Unauthorized:
        access.failed(address, claimed, "malformed")
        raise
    principal = access.authenticate(token, address=address, claimed=claimed)
    g.party = principal.party.name
    return principal
