"""What the analysts' web pages need beyond the TAXII services: the principal of a browser
session, looked up again on every request, so that a session never holds a secret and ends as
soon as what it was signed in with stops being valid.

A session signed in with a token keeps the SHA-256 hash of that token
(:func:`hub.services.access.auth.hash_token`, the form the store keeps): a token revoked on the command
line, or its party disabled, ends the session at its next request.

A session signed in with a client certificate keeps the certificate's SHA-256 fingerprint and
the party it authenticated. Every request must carry that same certificate, forwarded by a
trusted proxy (:data:`hub.services.access.certificates.CLIENT_CERT_HEADER`; the server drops the header
from anyone else), and it must still be registered to that party, and the party active: a
certificate removed with ``abusehub party cert remove``, a party disabled, or a request without
the certificate ends the session at once, as a revoked token does.

Sessions live in the database (:mod:`hub.store.websessions`), so that every process and every
host of a hub that share it agree: the browser's cookie carries only a random session id, of
which the store keeps the SHA-256 hash. :func:`start_session` makes one at sign-in,
:func:`resume_session` finds it again on each request and ends it there when it has been idle
longer than ``[web] session_idle_minutes``, is older than :data:`MAX_AGE_US`, or what it was
signed in with is no longer valid; :func:`end_session` ends it at sign-out. An ended session
stays ended: a copy of its cookie opens nothing, on any host. Time is the hub's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TypeGuard

from hub.common.errors import Unauthorized
from hub.services.access.auth import Principal
from hub.services.access.certificates import forwarded_fingerprint
from hub.services.hub import Hub

_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
#: A session id as :func:`start_session` makes them (32 random bytes, base64url).
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

#: The longest a session lasts, however active: then its party signs in again.
MAX_AGE_US = 24 * 3600 * 1_000_000
#: How often at most a session's "last seen" is written (each request would be a write).
_TOUCH_EVERY_US = 60 * 1_000_000
#: Why a session ended (the store keeps the reason; the sign-in page says it).
SIGNED_OUT, IDLE, EXPIRED, REVOKED, CERTIFICATE = "signed-out", "idle", "expired", "revoked", "certificate"


@dataclass(frozen=True)
class CertificateSignIn:
    """A registered client certificate a request carries: the party it authenticates, and the
    certificate's SHA-256 fingerprint (what a certificate session keeps)."""

    party: str
    party_pk: int
    fingerprint: str


def principal_for_token_hash(hub: Hub, token_hash: str) -> Principal | None:
    """The principal whose live token has this hash, or None (unknown, revoked, malformed)."""
    if not isinstance(token_hash, str) or not _HEX64_RE.match(token_hash):
        return None
    party = hub.store.party_for_token(token_hash)
    if party is None:
        return None
    return Principal(party, hub.store.grants_for(party.pk))


def certificate_sign_in(hub: Hub, forwarded: str | None) -> CertificateSignIn | None:
    """Whom the certificate a request carries (``forwarded``, the header a trusted proxy set)
    could sign in as: None unless it is registered to an active party. Nothing is counted or
    recorded: this is what the sign-in page offers, not a sign-in."""
    fingerprint = forwarded_fingerprint(forwarded)
    if fingerprint is None:
        return None
    party = hub.store.party_for_certificate(fingerprint)
    if party is None:
        return None
    return CertificateSignIn(party=party.name, party_pk=party.pk, fingerprint=fingerprint)


def sign_in_with_certificate(hub: Hub, forwarded: str | None) -> tuple[Principal, str]:
    """Sign in with the certificate a request carries, as the TAXII API authenticates it
    (:meth:`hub.services.access.AccessService.authenticate_certificate`, which raises
    :class:`~hub.common.errors.Unauthorized` unless it is registered to an active party): the
    principal, and the certificate's fingerprint for the session to keep."""
    fingerprint = forwarded_fingerprint(forwarded)
    if fingerprint is None or forwarded is None:
        raise Unauthorized("no client certificate came with the request")
    return hub.access.authenticate_certificate(forwarded), fingerprint


def principal_for_certificate(hub: Hub, fingerprint: object, party_pk: object,
                              forwarded: str | None) -> Principal | None:
    """The principal of a certificate session, or None: the request no longer carries the
    certificate with ``fingerprint`` (``forwarded`` is the trusted proxy's header, None when
    there is none), the certificate is no longer registered, it is registered to another party
    than ``party_pk`` now, or the party is disabled or removed. ``fingerprint`` and ``party_pk``
    are what the session kept, checked here for their form."""
    if (not isinstance(fingerprint, str) or not _HEX64_RE.match(fingerprint)
            or not isinstance(party_pk, int) or isinstance(party_pk, bool)):
        return None
    if forwarded_fingerprint(forwarded) != fingerprint:
        return None
    party = hub.store.party_for_certificate(fingerprint)
    if party is None or party.pk != party_pk:
        return None
    return Principal(party, hub.store.grants_for(party.pk))


# -- sessions in the database ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionState:
    """What a request's session id opens: the principal of a live session, or None with why
    the session ended (None when the id names no session at all)."""

    principal: Principal | None
    ended: str | None = None


def new_session_id() -> str:
    """A random session id (256 bits): what a browser's cookie carries, never stored."""
    return secrets.token_urlsafe(32)


def is_session_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the form of a session id (anything else is ignored unread)."""
    return isinstance(value, str) and _SESSION_ID_RE.match(value) is not None


def session_id_hash(session_id: str) -> str:
    """The stored form of a session id: its SHA-256, as hex."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of the forms a browser holding ``session_id`` is shown: an HMAC of the id
    under the hub's web secret, so that only a page served to that browser carries it."""
    mac = hmac.new(secret, b"abusehub-web-csrf\x00" + session_id.encode("ascii"), hashlib.sha256)
    return mac.hexdigest()


def _idle_us(hub: Hub) -> int:
    return hub.config.web.session_idle_minutes * 60 * 1_000_000


def start_session(hub: Hub, principal: Principal, *, token_hash: str | None = None,
                  fingerprint: str | None = None) -> str:
    """A new session of ``principal``, signed in with the token whose hash is ``token_hash`` or
    the certificate whose fingerprint is ``fingerprint``: its id, for the browser's cookie.
    Sessions that have been over for a day are deleted on the way."""
    if (token_hash is None) == (fingerprint is None):
        raise ValueError("a session is signed in with a token or with a certificate")
    now = hub.clock()
    hub.store.purge_web_sessions(now - max(MAX_AGE_US, _idle_us(hub)) - 24 * 3600 * 1_000_000)
    while True:
        session_id = new_session_id()
        if hub.store.create_web_session(session_id_hash(session_id), principal.party.pk, token_hash,
                                        fingerprint, now):
            return session_id


def resume_session(hub: Hub, session_id: str, forwarded: str | None) -> SessionState:
    """The principal of the session ``session_id`` names, checked as on every request: it ends
    here (and opens nothing) when it has been idle too long, is older than :data:`MAX_AGE_US`,
    its token no longer authenticates its party, or the request lacks its certificate
    (``forwarded``: the trusted proxy's header, None when there is none)."""
    if not is_session_id(session_id):
        return SessionState(None)
    id_hash = session_id_hash(session_id)
    row = hub.store.web_session(id_hash)
    if row is None:
        return SessionState(None)
    if row.ended_us is not None:
        return SessionState(None, row.ended_reason or SIGNED_OUT)
    now = hub.clock()
    principal: Principal | None
    if row.token_hash is not None:
        principal = principal_for_token_hash(hub, row.token_hash)
        if principal is not None and principal.party.pk != row.party_pk:
            principal = None
        lost = REVOKED
    else:
        principal = principal_for_certificate(hub, row.cert_fingerprint, row.party_pk, forwarded)
        lost = CERTIFICATE
    ended = (lost if principal is None else IDLE if now - row.seen_us > _idle_us(hub)
             else EXPIRED if now - row.created_us > MAX_AGE_US else None)
    if ended is not None:
        hub.store.end_web_session(id_hash, ended, now)
        return SessionState(None, ended)
    if now - row.seen_us >= min(_TOUCH_EVERY_US, _idle_us(hub) // 10):
        hub.store.touch_web_session(id_hash, now)
    return SessionState(principal)


def end_session(hub: Hub, session_id: str) -> bool:
    """Sign out: end the session ``session_id`` names, for every copy of its cookie and every
    host; False if it names no live session."""
    if not is_session_id(session_id):
        return False
    return hub.store.end_web_session(session_id_hash(session_id), SIGNED_OUT, hub.clock())
