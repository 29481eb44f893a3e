"""What the analysts' web pages need beyond the TAXII services: a principal from a stored
token hash, so that a browser session never holds the token itself.

A web session keeps the SHA-256 hash of the token the analyst signed in with
(:func:`hub.services.auth.hash_token`, the form the store keeps) and asks here, on every request,
which party it belongs to now: a token revoked on the command line ends the session at its
next request.
"""

from __future__ import annotations

import re

from hub.services.auth import Principal
from hub.services.hub import Hub

_TOKEN_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def principal_for_token_hash(hub: Hub, token_hash: str) -> Principal | None:
    """The principal whose live token has this hash, or None (unknown, revoked, malformed)."""
    if not isinstance(token_hash, str) or not _TOKEN_HASH_RE.match(token_hash):
        return None
    party = hub.store.party_for_token(token_hash)
    if party is None:
        return None
    return Principal(party, hub.store.grants_for(party.pk))
