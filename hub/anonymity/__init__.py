"""Cryptography for anonymous filing: pure building blocks, no hub needed.

- :mod:`hub.anonymity.blindrsa`: RSA blind signatures, RFC 9474 (the RSABSSA-SHA384 variants;
  the hub's submission tokens use RSABSSA-SHA384-PSS-Deterministic), written on
  ``cryptography``'s RSA keys, hashes and PSS verification;
- :mod:`hub.anonymity.tokens`: Privacy Pass token type 2 (publicly verifiable, Blind RSA 2048),
  RFC 9577 and RFC 9578: the challenge, the token request and response, the token and its
  verification, the key id;
- :mod:`hub.anonymity.escrow`: the sealed submitter <-> report record, HPKE (RFC 9180) base mode
  with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM to an oversight public key whose
  private key the hub never holds.

The package imports :mod:`hub.common` and ``cryptography`` only (import-linter holds that), so a
provider's tools, the hub's services and an oversight body's command line use the same code. The
filing flows that use these (which party may ask for tokens, spent tokens, where sealed records
are stored) are the services' business. Every error is an
:class:`hub.anonymity.errors.AnonymityError`.
"""

from __future__ import annotations

from hub.anonymity.errors import (
    AnonymityError,
    BlindingError,
    EscrowError,
    InvalidSignature,
    SigningFailure,
    TokenError,
    UnexpectedInputSize,
)

__all__ = [
    "AnonymityError",
    "BlindingError",
    "EscrowError",
    "InvalidSignature",
    "SigningFailure",
    "TokenError",
    "UnexpectedInputSize",
]
