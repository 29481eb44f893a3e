"""The operator's endpoints, outside the API root: ``/healthz``, ``/readyz`` and ``/metrics``.

- ``GET /healthz``: the process is up. 200 and ``{"status": "ok"}``; no authentication, no
  database.
- ``GET /readyz``: the process can serve: its database answers, is still the SQLite file it
  opened (not moved, deleted or replaced since), and its schema is at this code's head revision.
  200 and ``{"status": "ready"}``, else 503 with a TAXII error message (TAXII 2.1 section 3.6.1)
  naming the problem (never the database's address or credentials). With standbys
  (``database_read_urls``), the body names each (``standbys``: its name, state and lag in
  seconds, never its address); while the primary does not answer and a standby does, 200 with
  ``"status": "reads only"`` and ``writes`` saying why writes are refused.
- ``GET /metrics``: Prometheus' text format, for the addresses of ``[metrics] allow`` and, when
  ``[metrics] token_file`` is set, only with that bearer token; 403 otherwise, 404 when
  ``[metrics] enabled`` is false. ``serve`` reads the token file once before any worker starts
  (:func:`hub.services.operations.runtime.metrics_token`), so a missing or short one is one line at start-up.
  With standbys it adds ``abusehub_standby_state`` and ``abusehub_standby_lag_seconds``.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, Response, request

from hub.config import HubConfig
from hub.services.hub import Hub
from hub.services.metrics.prometheus import PrometheusMetrics
from hub.services.operations.runtime import metrics_token, readiness_problem
from hub.taxii.context import current_hub
from hub.taxii.errors import error_body
from hub.taxii.responses import taxii_response

__all__ = ["register_ops"]

_JSON = "application/json"


def _json(body: dict[str, object], status: int = 200) -> Response:
    import orjson

    return Response(orjson.dumps(body), status=status, mimetype=_JSON,
                    headers={"Cache-Control": "no-store"})


def register_ops(app: Flask, config: HubConfig, metrics: PrometheusMetrics | None) -> None:
    """Add ``/healthz``, ``/readyz`` and ``/metrics`` to ``app`` (``/metrics`` answers 404
    without ``metrics``)."""
    networks = tuple(ipaddress.ip_network(a, strict=False) for a in config.metrics.allow)
    token = metrics_token(config) if metrics is not None else None

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        hub = current_hub()
        problem = readiness_problem(hub)
        if hub.config.database_read_urls:
            hub.check_standbys()  # refreshes each standby's state and lag
        standbys = hub.standbys()
        if problem:
            if any(s["state"] in ("serving", "ready", "promoted") for s in standbys):
                return _json({"status": "reads only", "writes": f"refused: {problem}", "standbys": standbys})
            return taxii_response(error_body(503, "Not ready", problem), 503, {"Retry-After": "5"})
        body: dict[str, object] = {"status": "ready"}
        if standbys:
            body["standbys"] = standbys
        return _json(body)

    @app.get("/metrics", endpoint="metrics")
    def prometheus() -> Response:
        if metrics is None:
            return taxii_response(error_body(404, "Not Found", "this server publishes no metrics"), 404)
        if not _address_allowed(request.remote_addr, networks) or not _token_ok(token):
            return taxii_response(error_body(403, "Forbidden", "metrics are not available to this client"), 403)
        data, content_type = metrics.exposition()
        if config.database_read_urls:
            data += _standby_metrics(current_hub())
        return Response(data, status=200, content_type=content_type, headers={"Cache-Control": "no-store"})


def _standby_metrics(hub: Hub) -> bytes:
    """Each standby's state (one series per standby, its state as a label, value 1) and lag, as
    this process sees them now (checked for the scrape)."""
    hub.check_standbys()
    standbys = hub.standbys()
    lines = ["# HELP abusehub_standby_state The state of each standby (serving: polls are read there)",
             "# TYPE abusehub_standby_state gauge"]
    lines += [f'abusehub_standby_state{{standby="{s["name"]}",state="{s["state"]}"}} 1' for s in standbys]
    lines += ["# HELP abusehub_standby_lag_seconds How far each standby is behind the primary (absent: unknown)",
              "# TYPE abusehub_standby_lag_seconds gauge"]
    lines += [f'abusehub_standby_lag_seconds{{standby="{s["name"]}"}} {s["lag_seconds"]}' for s in standbys
              if "lag_seconds" in s]
    return ("\n".join(lines) + "\n").encode()


def _address_allowed(address: str | None, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def _token_ok(token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
