"""What the analysts' web pages need beyond the TAXII services: the principal of a browser
session, looked up again on every request, so that a session never holds a secret and ends as
soon as what it was signed in with stops being valid.

A session signed in with a token keeps the SHA-256 hash of that token
(:func:`hub.services.auth.hash_token`, the form the store keeps): a token revoked on the command
line, or its party disabled, ends the session at its next request.

A session signed in with a client certificate keeps the certificate's SHA-256 fingerprint and
the party it authenticated. Every request must carry that same certificate, forwarded by a
trusted proxy (:data:`hub.services.certificates.CLIENT_CERT_HEADER`; the server drops the header
from anyone else), and it must still be registered to that party, and the party active: a
certificate removed with ``abusehub party cert remove``, a party disabled, or a request without
the certificate ends the session at once, as a revoked token does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.common.errors import Unauthorized
from hub.services.auth import Principal
from hub.services.certificates import forwarded_fingerprint
from hub.services.hub import Hub
from hub.store.lifecycle import LifecycleStore
from hub.store.records import Party

_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


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


def _party_for_fingerprint(hub: Hub, fingerprint: str) -> Party | None:
    store = hub.store
    if not isinstance(store, LifecycleStore):
        return None
    return store.party_for_certificate(fingerprint)


def certificate_sign_in(hub: Hub, forwarded: str | None) -> CertificateSignIn | None:
    """Whom the certificate a request carries (``forwarded``, the header a trusted proxy set)
    could sign in as: None unless it is registered to an active party. Nothing is counted or
    recorded: this is what the sign-in page offers, not a sign-in."""
    fingerprint = forwarded_fingerprint(forwarded)
    if fingerprint is None:
        return None
    party = _party_for_fingerprint(hub, fingerprint)
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
    party = _party_for_fingerprint(hub, fingerprint)
    if party is None or party.pk != party_pk:
        return None
    return Principal(party, hub.store.grants_for(party.pk))
