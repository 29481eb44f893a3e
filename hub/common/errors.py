"""One error tree for the whole hub.

Every error a user can cause is a :class:`HubError`. The TAXII layer turns them into
TAXII error bodies with ``http_status``; the CLI turns them into one readable line and a
non-zero exit. Nothing outside this tree should reach a user as a 500.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub reports to a user."""

    http_status = 500
    title = "Internal error"

    def __init__(self, description: str, *, details: dict | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details


class ConfigError(HubError):
    title = "Configuration error"


class BadRequest(HubError):
    http_status = 400
    title = "Bad request"


class InvalidValue(BadRequest, ValueError):
    """A value a user sent breaks a rule (a STIX id, a timestamp, a property); the message
    names the property and the rule."""


class Unauthorized(HubError):
    http_status = 401
    title = "Authentication required"


class Forbidden(HubError):
    http_status = 403
    title = "Forbidden"


class NotFound(HubError):
    http_status = 404
    title = "Not found"


class NotAcceptable(HubError):
    http_status = 406
    title = "Not acceptable"


class Conflict(HubError):
    http_status = 409
    title = "Conflict"


class UnsupportedMediaType(HubError):
    http_status = 415
    title = "Unsupported media type"


class Unprocessable(HubError):
    http_status = 422
    title = "Unprocessable content"


class TooManyRequests(HubError):
    http_status = 429
    title = "Too many requests"


class Unavailable(HubError):
    """The hub cannot answer now (its database is not the one it opened, or does not answer);
    nothing was read or written. Its details say when to try again (``retry_after``, seconds:
    :attr:`RETRY_AFTER` unless given), which a 503 answer sends as ``Retry-After``."""

    http_status = 503
    title = "Service unavailable"
    #: Seconds a client is asked to wait before trying again, unless the details say otherwise.
    RETRY_AFTER = 5

    def __init__(self, description: str, *, details: dict | None = None) -> None:
        super().__init__(description, details={"retry_after": self.RETRY_AFTER, **(details or {})})
