"""The errors of the anonymity primitives.

Every one is an :class:`AnonymityError`: a :class:`hub.common.errors.InvalidValue` (a 400 and a
:class:`ValueError`) whose message can be shown as it is; it names what is wrong with a value and
never quotes a key, a blind, a nonce or a plaintext. The one exception to "the caller sent
something wrong" is :class:`SigningFailure`: the hub's own private-key operation failed its check,
a fault of the signer, so it answers 500.
"""

from __future__ import annotations

from hub.common.errors import InvalidValue


class AnonymityError(InvalidValue):
    """A value given to a blind signature, token or escrow function breaks its rule."""


class BlindingError(AnonymityError):
    """Blind could not blind the message: it is not coprime with the modulus (RFC 9474 "invalid
    input"), or it is too long for the key (EMSA-PSS "encoding error")."""


class InvalidSignature(AnonymityError):
    """A signature, a blind signature being finalised or a token's authenticator does not verify
    under the key it was checked with."""


class UnexpectedInputSize(AnonymityError):
    """A byte string is not the length its structure requires (RFC 9474 "unexpected input
    size", a token or token request of the wrong length)."""


class SigningFailure(AnonymityError):
    """The private-key operation of BlindSign failed the check s^e = m (RFC 9474 section 4.3,
    a fault): nothing is returned. Not the caller's fault."""

    http_status = 500
    title = "Internal error"


class TokenError(AnonymityError):
    """A Privacy Pass structure (challenge, token request, token) is malformed, of another token
    type, or made for another key or challenge."""


class EscrowError(AnonymityError):
    """A sealed escrow record cannot be opened with this key (wrong key, altered ciphertext or
    context) or is not a sealed record at all."""
