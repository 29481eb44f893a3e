"""Errors of the signing library.

They sit in the hub's one error tree (:class:`hub.common.errors.HubError`) and are also
:class:`ValueError`, since each one means "this input is not acceptable". Messages name the
member or the signature at fault and say what would be acceptable, so the TAXII status of a
rejected object can quote them as they are.
"""

from __future__ import annotations

from hub.common.canonical import CanonicalizationError
from hub.common.errors import HubError

__all__ = ["CanonicalizationError", "KeyFormatError", "SignatureFormatError", "SignatureInvalid",
           "SigningError"]


class SigningError(HubError, ValueError):
    """Base of every error raised by :mod:`hub.signing`."""

    http_status = 422
    title = "Signature error"


class KeyFormatError(SigningError):
    """A key (JWK or PEM) is malformed, of an unsupported type, or carries private material."""


class SignatureFormatError(SigningError):
    """A signature entry or the signature extension of an object does not have the required shape."""


class SignatureInvalid(SigningError):
    """A well-formed signature does not verify with the key offered for it."""
