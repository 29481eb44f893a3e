"""The WSGI application of one hub, and the process that serves it.

:func:`create_app` builds the Flask application from a configuration: the TAXII 2.1 API
(:mod:`hub.taxii`) over the hub's services, the operator's endpoints (:mod:`hub.server.ops`:
``/healthz``, ``/readyz``, ``/metrics``), a log line and metrics for every request
(:mod:`hub.server.logs`), and the shared limits (:mod:`hub.services.operations.runtime`). In
production :mod:`hub.server.gunicorn` builds it once in the master, opening no connection, and its
workers serve the copy they are forked with, each opening its own store connections.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask

from hub.config import HubConfig
from hub.services.hub import EXTENSION, Hub, open_hub

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["TrustedProxies", "create_app"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A host name or address with an optional port, as X-Forwarded-Host may carry it.
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
              "HTTP_X_SSL_CLIENT_CERT")


class TrustedProxies:
    """WSGI middleware: believe ``X-Forwarded-For``, ``-Proto`` and ``-Host`` only when the
    request comes from one of ``proxies`` (addresses or networks).

    werkzeug's ``ProxyFix`` trusts a number of hops from whoever connects, so any client that
    reaches the hub directly could set its own address, scheme or host; here the peer address
    decides. From a trusted proxy: the client address is the right-most ``X-Forwarded-For``
    entry that is not itself a trusted proxy, and scheme and host are the values the nearest
    proxy appended (the last ones). From anyone else the three headers are removed, so nothing
    downstream can mistake them for the truth.
    """

    def __init__(self, app: WSGIApplication, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks: tuple[_Network, ...] = tuple(ipaddress.ip_network(p, strict=False) for p in proxies)

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    @staticmethod
    def _last(value: str | None) -> str | None:
        items = [v.strip() for v in (value or "").split(",") if v.strip()]
        return items[-1] if items else None

    def _client(self, forwarded_for: str) -> str | None:
        """The right-most hop that is not a trusted proxy; when an entry is not an address,
        the last address before it (a trusted proxy, the nearest thing known)."""
        known = None
        for hop in reversed([v.strip() for v in forwarded_for.split(",") if v.strip()]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return known
            known = hop
            if not self.trusts(hop):
                return hop
        return known

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.networks and self.trusts(environ.get("REMOTE_ADDR")):
            client = self._client(environ.get("HTTP_X_FORWARDED_FOR", ""))
            if client:
                environ["REMOTE_ADDR"] = client
            proto = (self._last(environ.get("HTTP_X_FORWARDED_PROTO")) or "").lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = self._last(environ.get("HTTP_X_FORWARDED_HOST"))
            if host and _HOST_RE.match(host):
                environ["HTTP_HOST"] = host
        else:
            for name in _FORWARDED:
                environ.pop(name, None)
        return self.app(environ, start_response)


def create_app(config: HubConfig, hub: Hub | None = None) -> Flask:
    """Build the WSGI application for one hub (on ``hub``'s services, or on new ones opened
    from ``config``): the TAXII API, the analysts' web pages, and the operations endpoints.
    Building it opens no database connection and starts no thread, so a process may fork after."""
    from hub.server.logs import install_request_log
    from hub.server.ops import register_ops
    from hub.services.metrics import NULL_METRICS
    from hub.services.metrics.prometheus import PrometheusMetrics
    from hub.services.operations.runtime import install
    from hub.taxii import register_taxii
    from hub.web import front_door, register_web

    app = Flask("abusehub")
    app.url_map.strict_slashes = False  # serve both /path and /path/, no redirects (they break POST)
    app.config["MAX_CONTENT_LENGTH"] = config.taxii.max_content_length
    served = hub if hub is not None else open_hub(config)
    app.extensions[EXTENSION] = served
    metrics = PrometheusMetrics() if config.metrics.enabled else None
    app.extensions["abusehub.metrics"] = metrics
    install(served, metrics or NULL_METRICS)
    install_request_log(app, metrics or NULL_METRICS)
    register_taxii(app, config)
    register_web(app, config)
    app.add_url_rule("/", "front_door", front_door, methods=["GET"])  # a browser at the bare address: the pages
    register_ops(app, config, metrics)
    # The documented way to wrap a Flask app in WSGI middleware (mypy sees a method there).
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.server.trusted_proxies)  # type: ignore[method-assign]
    return app
