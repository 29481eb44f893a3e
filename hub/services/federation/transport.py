"""The HTTP side of federation: the TAXII client a link's turn (or a peer's check) opens on a
peer, over httpx, with the transport that guards it.

Kept apart from :mod:`.peers` so that the federation service can be built, and peers and links
listed, without importing httpx and the client's HTTP layer: :class:`.peers.PeerDirectory`
imports this module when it opens its first client. A server whose hub has links imports it
before its workers are forked instead (:data:`hub.services.federation.TRANSPORT_MODULES`).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable

import httpx

from hub.client.http import ResponseTooLarge
from hub.client.retry import RetryNotice, RetryPolicy
from hub.client.taxii import TaxiiClient
from hub.config import FederationConfig
from hub.store.federation import PeerRecord

__all__ = ["GuardedTransport", "default_tls", "peer_client"]


def default_tls() -> ssl.SSLContext:
    """The TLS context of a peer reached with a token or a password: certifi's bundle, as httpx
    checks by default, and nothing from the environment."""
    return httpx.create_ssl_context(trust_env=False)


def peer_client(peer: PeerRecord, secret: str | None, verify: ssl.SSLContext,
                injected: httpx.BaseTransport | None, config: FederationConfig, retry: RetryPolicy,
                on_retry: Callable[[RetryNotice], None] | None = None) -> TaxiiClient:
    """A TAXII client of ``peer``'s API root: over ``injected`` (in-process federation, tests;
    plain http is then allowed) or the network with ``verify``, guarded by
    :class:`GuardedTransport`, with ``secret`` as its token or HTTP Basic credentials."""
    inner = injected or httpx.HTTPTransport(verify=verify, trust_env=False)
    basic = secret if peer.auth == "basic" else None
    transport = GuardedTransport(inner, peer.url, config.max_response_bytes, basic)
    return TaxiiClient(peer.url, secret if peer.auth == "token" else None, transport=transport,
                       verify=verify, timeout=float(config.timeout), retry=retry, on_retry=on_retry,
                       unsafe_plain_http=injected is not None)


class GuardedTransport(httpx.BaseTransport):
    """The transport to one peer: HTTP Basic credentials (when the peer takes those) added to
    requests under its API root only, and answers cut off at ``max_bytes`` (a peer sending
    more fails its own link, not the process)."""

    def __init__(self, inner: httpx.BaseTransport, api: str, max_bytes: int, basic: str | None) -> None:
        self.inner, self.api, self.max_bytes = inner, api, max_bytes
        self._basic = "Basic " + base64.b64encode(basic.encode("utf-8")).decode() if basic else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._basic is not None and str(request.url).startswith(self.api):
            request.headers["Authorization"] = self._basic
        response = self.inner.handle_request(request)
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise self._cut_off(request, f"({declared} bytes declared)")
        chunks, size = [], 0
        for chunk in response.stream:  # type: ignore[union-attr]
            size += len(chunk)
            if size > self.max_bytes:
                response.close()
                raise self._cut_off(request, f"(more than {self.max_bytes} bytes read)")
            chunks.append(chunk)
        response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=b"".join(chunks),
                              request=request, extensions=response.extensions)

    def _cut_off(self, request: httpx.Request, size: str) -> ResponseTooLarge:
        # The client names the request and passes this on: it becomes the link's last error.
        return ResponseTooLarge(f"the peer's answer to {request.method} {request.url.path} {size} is larger "
                                f"than [federation] max_response_bytes = {self.max_bytes} bytes: not taken",
                                request=request)

    def close(self) -> None:
        self.inner.close()
