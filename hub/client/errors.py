"""Errors of the client tools: each one is a :class:`hub.common.errors.HubError` a person can act on."""

from __future__ import annotations

from hub.common.errors import HubError


class ClientError(HubError):
    """Something stops a client tool; the message is one line, shown as it is."""

    title = "Client error"
