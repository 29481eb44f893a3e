"""Errors of the client library: one tree under :class:`ClientError`, a :class:`~hub.common.errors.HubError`.

Every message is one line a person can act on. No message holds the API token or a request
body (the pseudonym request carries raw personal values): the client composes its messages from
the operation, the URL, the HTTP status and the server's TAXII error ``description`` only.

::

    ClientError
    ├── ConnectionFailed        the server could not be reached, or did not answer in time
    ├── Redirected              the server answered 3xx (never followed: the token stays put)
    ├── HubRefused              an HTTP error answer (``status``, ``description``)
    │   ├── AuthenticationFailed    401: the token was not accepted
    │   ├── AccessDenied            403
    │   ├── ResourceNotFound        404
    │   └── Busy                    429 or 503 after the retries allowed (``retry_after``)
    ├── ProtocolError           the answer is not what TAXII 2.1 (or the hub's API) says
    │   └── NotTaxii                not JSON, or not the resource asked for
    ├── PollError (hub.client.poll), CursorError (hub.client.cursor)
    └── LocalProblems (hub.client.reports)
"""

from __future__ import annotations

from hub.common.errors import HubError

__all__ = [
    "AccessDenied",
    "AuthenticationFailed",
    "Busy",
    "ClientError",
    "ConnectionFailed",
    "HubRefused",
    "NotTaxii",
    "ProtocolError",
    "Redirected",
    "ResourceNotFound",
]


class ClientError(HubError):
    """Something stops a client tool; the message is one line, shown as it is."""

    title = "Client error"


class ConnectionFailed(ClientError):
    """The server could not be reached (refused, unknown host, TLS) or did not answer in time."""


class Redirected(ClientError):
    """The server answered with a redirect; it is not followed, so the token goes nowhere else."""

    def __init__(self, description: str, *, status: int, location: str | None) -> None:
        super().__init__(description)
        self.status = status
        self.location = location


class HubRefused(ClientError):
    """The server answered with an HTTP error status.

    ``status`` is the HTTP status; ``reason`` the server's TAXII error ``description``
    (section 3.6.1) when it sent one, else ``None``.
    """

    def __init__(self, description: str, *, status: int, reason: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.reason = reason


class AuthenticationFailed(HubRefused):
    """401: the server did not accept the token (wrong, revoked or missing)."""


class AccessDenied(HubRefused):
    """403: the token's party may not do this (no read or write grant)."""


class ResourceNotFound(HubRefused):
    """404: no such resource (collection, status, API root) for this party."""


class Busy(HubRefused):
    """429 or 503, still so after the retries allowed; ``retry_after`` is the server's last
    ``Retry-After`` in seconds, when it gave one."""

    def __init__(self, description: str, *, status: int, reason: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(description, status=status, reason=reason)
        self.retry_after = retry_after


class ProtocolError(ClientError):
    """The server's answer breaks TAXII 2.1 (or the hub's own API): a page that would skip or
    repeat objects, a status resource without an id, a pseudonym of the wrong kind."""


class NotTaxii(ProtocolError):
    """The answer is not JSON, or not the TAXII resource that was asked for (often: the URL is
    not the API root)."""
