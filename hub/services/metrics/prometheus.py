"""The hub's metrics in prometheus-client, for one process or for many (multiprocess mode).

With ``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client is first imported (as
:func:`hub.server.gunicorn.serve` does), every worker writes its values to files in that folder
and :meth:`PrometheusMetrics.exposition` reads them all, so any worker answers ``/metrics`` for
the whole server. Without it, the values are this process's own. See
https://prometheus.github.io/client_python/multiprocess/ for the mode's rules.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from hub.services.metrics import Metrics

__all__ = ["POLL_BUCKETS", "PrometheusMetrics"]

#: Poll latency buckets, seconds: a page of objects is expected in tens of milliseconds.
POLL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    """The folder of multiprocess mode, when this process runs in it."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class PrometheusMetrics(Metrics):
    """:class:`Metrics` recorded into prometheus-client, on a registry of its own."""

    def __init__(self) -> None:
        # Imported here: prometheus-client chooses its multiprocess mode at import time, which
        # must come after the server has set PROMETHEUS_MULTIPROC_DIR.
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self._requests = Counter("abusehub_http_requests", "HTTP requests answered, by Flask endpoint, method and status",
                                 ["endpoint", "method", "status"], registry=r)
        self._poll = Histogram("abusehub_poll_duration_seconds",
                               "Time to answer a successful read of a collection's objects, manifest or versions",
                               ["endpoint"], buckets=POLL_BUCKETS, registry=r)
        self._ingest = Counter("abusehub_ingest_objects", "Submitted objects, by outcome and refusal code",
                               ["outcome", "code"], registry=r)
        self._auth_failures = Counter("abusehub_auth_failures", "Failed authentications, by reason",
                                      ["reason"], registry=r)
        self._throttled = Counter("abusehub_throttled_requests", "Requests refused with 429, by limit",
                                  ["limit"], registry=r)
        self._pseudonyms = Counter("abusehub_pseudonym_evaluations", "Values turned into pseudonyms, by party",
                                   ["party"], registry=r)
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()

    def request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(endpoint, method, str(status)).inc()

    def poll(self, endpoint: str, seconds: float) -> None:
        self._poll.labels(endpoint).observe(seconds)

    def ingest(self, outcome: str, code: str = "") -> None:
        self._ingest.labels(outcome, code).inc()

    def authenticated(self, party_pk: int, party: str) -> None:
        # Remembered for labelling pseudonym evaluations, which are reported by row number.
        if self._names.get(party_pk) != party:
            with self._lock:
                self._names[party_pk] = party

    def auth_failure(self, reason: str) -> None:
        self._auth_failures.labels(reason).inc()

    def throttled(self, limit: str) -> None:
        self._throttled.labels(limit).inc()

    def pseudonyms(self, party_pk: int, count: int) -> None:
        self._pseudonyms.labels(self._names.get(party_pk, f"#{party_pk}")).inc(count)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type: every worker's in
        multiprocess mode, else this process's."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry: Any = self.registry
        folder = multiprocess_dir()
        if folder:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry), CONTENT_TYPE_LATEST
