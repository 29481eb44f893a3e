"""What the hub counts, behind one small interface.

The services and the server report events to a :class:`Metrics` object: requests by endpoint
and status, ingested objects by outcome and refusal code, poll latency, failed authentications,
throttled requests and pseudonym evaluations per party. :class:`Metrics` itself records nothing
(the null implementation: what services use unless told otherwise, and what tests get);
:class:`hub.services.metrics.prometheus.PrometheusMetrics` records into prometheus-client.

Labels are bounded sets: a Flask endpoint name (never a raw path), an HTTP status, a problem
code (:class:`hub.common.problems.Code`), a party name. Never a token, an address or a value.
"""

from __future__ import annotations

__all__ = ["NULL_METRICS", "Metrics"]


class Metrics:
    """The events the hub reports; this base class records none of them."""

    def request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered by the Flask endpoint ``endpoint`` with ``status``."""

    def poll(self, endpoint: str, seconds: float) -> None:
        """One successful read of a collection's content (objects, manifest, versions)."""

    def ingest(self, outcome: str, code: str = "") -> None:
        """One submitted object: ``outcome`` is ``stored``, ``already-stored`` or ``refused``;
        ``code`` the refusal's problem code (empty otherwise)."""

    def authenticated(self, party_pk: int, party: str) -> None:
        """A request authenticated as the party ``party`` (row ``party_pk``)."""

    def auth_failure(self, reason: str) -> None:
        """A failed authentication: ``missing``, ``malformed``, ``invalid`` or ``throttled``."""

    def throttled(self, limit: str) -> None:
        """A request refused with 429 by the limit named ``limit``."""

    def pseudonyms(self, party_pk: int, count: int) -> None:
        """``count`` values turned into pseudonyms for the party ``party_pk``."""


#: The shared null implementation.
NULL_METRICS = Metrics()
