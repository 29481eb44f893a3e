"""What the hub and a provider's tools share about anonymous filing: the anonymous names, the
account scope of anonymous reports, the withdrawal secret and its commitment.

- :data:`ANONYMOUS_NAME`: the name of every anonymous report's identity.
- :data:`ANONYMOUS_SCOPE`: the identity id a provider's tool scopes an account id by before
  it is pseudonymised for an anonymous report (``<ANONYMOUS_SCOPE>/<account id>``), and names as
  the report's creator before the hub gives the report its own identity. Every provider uses
  the same scope, so the account pseudonyms of anonymous reports correlate with each other
  across providers but never with the same account's pseudonym in a named report (scoped by
  the provider's identity).
- The withdrawal secret: 32 random bytes the submitter keeps; the report carries
  :func:`commitment` of it (``sha256:<hex>`` of a domain-separated hash). Whoever shows the
  secret may withdraw the report; the hub learns nothing of who that is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from hub.common.canonical import b64url_decode, b64url_encode

__all__ = ["ANONYMOUS_NAME", "ANONYMOUS_SCOPE", "COMMITMENT_PREFIX", "WITHDRAWAL_PROPERTY", "commitment",
           "is_commitment", "new_secret", "parse_secret", "secret_opens"]

ANONYMOUS_NAME = "a registered IaaS provider"
ANONYMOUS_SCOPE = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:abusehub:anonymous-account-scope')}"
#: The report object's custom property that carries the withdrawal commitment.
WITHDRAWAL_PROPERTY = "x_abusehub_withdrawal_commitment"
COMMITMENT_PREFIX = "sha256:"
_DOMAIN = b"abusehub anonymous report withdrawal v1\x00"
_SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh withdrawal secret, base64url (43 characters)."""
    return b64url_encode(secrets.token_bytes(_SECRET_BYTES))


def parse_secret(text: str) -> bytes:
    """The secret's bytes; :class:`ValueError` if it is not 32 bytes of base64url."""
    try:
        raw = b64url_decode(text.strip())
    except ValueError:
        raise ValueError("a withdrawal secret is 32 bytes in base64url (43 characters)") from None
    if len(raw) != _SECRET_BYTES:
        raise ValueError("a withdrawal secret is 32 bytes in base64url (43 characters)")
    return raw


def commitment(secret: str) -> str:
    """What the report carries for ``secret``: ``sha256:`` and 64 hex digits."""
    return COMMITMENT_PREFIX + hashlib.sha256(_DOMAIN + parse_secret(secret)).hexdigest()


def is_commitment(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith(COMMITMENT_PREFIX):
        return False
    digest = value[len(COMMITMENT_PREFIX):]
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def secret_opens(secret: str, committed: str) -> bool:
    """Whether ``secret`` is the one ``committed`` was made of (compared in constant time)."""
    try:
        mine = commitment(secret)
    except ValueError:
        return False
    return hmac.compare_digest(mine.encode(), committed.encode())
