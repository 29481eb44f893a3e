"""Signatures of STIX objects: RFC 8785 canonical JSON, Ed25519 / ES256 keys, sign and verify.

The scheme is described in docs/SIGNING.md. In short, each signature lives inside the signed object,
in the property-extension :data:`SIGNATURE_EXTENSION_ID`, and covers the object in which the
``signatures`` list holds only that signature's metadata, in the signed form of the signature's
version (:data:`SIGNATURE_VERSION` for new ones): every STIX timestamp in its shortest exact form
(:func:`canonical_timestamps`), then RFC 8785, so that the signature survives STIX libraries that
rewrite timestamps as well as any JSON re-serialisation. Typical use::

    key = SigningKey.generate()                      # or SigningKey.from_pem(pem)
    signed = sign_object(report, key, signer="identity--...")

    public = VerifyKey.from_jwk(registered_jwk)      # parse once, keep
    for entry in signatures_of(signed):              # SignatureFormatError if malformed
        verify_entry(signed, entry, public)          # SignatureInvalid if it does not verify

This package is a pure library: which key belongs to which signer, validity windows and
revocation are the services' business. Every error is a :class:`SigningError` (a
:class:`hub.common.errors.HubError` and a :class:`ValueError`) whose message can be shown as it is.
It imports only :mod:`hub.common`, so a provider's tools can use it without a hub.
"""

from __future__ import annotations

from hub.common.canonical import b64url_decode, b64url_encode, canonicalize
from hub.signing.errors import (
    CanonicalizationError,
    KeyFormatError,
    SignatureFormatError,
    SignatureInvalid,
    SigningError,
)
from hub.signing.forms import (
    SIGNATURE_VERSION,
    SIGNATURE_VERSIONS,
    canonical_timestamp,
    canonical_timestamps,
)
from hub.signing.keys import ALGORITHMS, SigningKey, VerifyKey, jwk_thumbprint
from hub.signing.keyset import KeySet, PublishedKey
from hub.signing.signatures import (
    SIGNATURE_EXTENSION_ID,
    SignatureEntry,
    sign_object,
    signatures_of,
    signing_input,
    unsigned_form,
    verify_entry,
)

__all__ = [
    # canonical form and encoding
    "canonicalize",
    "b64url_encode",
    "b64url_decode",
    # keys
    "ALGORITHMS",
    "SigningKey",
    "VerifyKey",
    "jwk_thumbprint",
    "KeySet",
    "PublishedKey",
    # object signatures
    "SIGNATURE_EXTENSION_ID",
    "SIGNATURE_VERSION",
    "SIGNATURE_VERSIONS",
    "canonical_timestamp",
    "canonical_timestamps",
    "SignatureEntry",
    "sign_object",
    "signatures_of",
    "signing_input",
    "verify_entry",
    "unsigned_form",
    # errors
    "SigningError",
    "KeyFormatError",
    "SignatureFormatError",
    "SignatureInvalid",
    "CanonicalizationError",
]
