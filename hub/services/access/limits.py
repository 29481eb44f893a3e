"""Limits every server process shares, counted in the database (:mod:`hub.store.ops`).

A gunicorn worker cannot see another's memory, so a limit counted in memory allows ``workers x
limit``. Here the counters are rows every worker reads and writes in short transactions:

- :class:`AuthThrottle`: failed authentications per source address and, for HTTP Basic, per
  claimed party name, in fixed windows. Beyond ``max_failures`` in a window, a failing request is
  answered 429 with ``Retry-After`` instead of 401. A valid token is never refused by it: many
  clients behind one address (a NAT, a proxy) cannot lock each other out, and a guessed party
  name cannot lock its owner out. Counts are per key: no success resets any of them.
- :class:`TokenBucket`: a continuously refilled allowance per key (the pseudonym endpoint's
  values per party and minute); a refused request takes nothing.

Keys are hashes (an address or a user name is never stored as sent).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from hub.common.errors import TooManyRequests, Unavailable
from hub.services.audit_spool import Spool
from hub.services.clock import Clock
from hub.services.metrics import NULL_METRICS, Metrics
from hub.store.base import Store

__all__ = ["AuthThrottle", "TokenBucket"]


def limit_key(kind: str, value: str) -> str:
    """The stored key of ``value`` (an address, a name): a hash, never the value itself."""
    return f"{kind}:" + hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()[:40]


class AuthThrottle:
    """Failed authentications per source address and claimed party, shared by every process.

    While the database cannot be written to (:class:`Unavailable`: a hub serving reads from its
    standbys with its primary down) a failure is held on disk in the throttle's spool
    (``auth-spool/`` of the home, :class:`~hub.services.audit_spool.Spool`), counted toward the
    limit by the process that holds it, and written, with every failure any process left there,
    before the next failure counted once the database takes writes again; when the spool is full
    failing requests get that 503.
    """

    #: Failures one process holds at most while the database cannot be written to.
    HELD_MAX = 10_000

    def __init__(self, store: Store, clock: Clock, max_failures: int, window_seconds: int,
                 metrics: Metrics = NULL_METRICS, *, spool: Spool[tuple[list[str], int]]) -> None:
        self.store = store
        self.clock = clock
        self.max_failures = max_failures
        self.window_us = window_seconds * 1_000_000
        self.metrics = metrics
        self.spool = spool  # (keys, at_us) not written yet

    @classmethod
    def spooled_in(cls, folder: Path) -> Spool[tuple[list[str], int]]:
        """The spool of held failures in ``folder``: each as ``[keys, at_us]``."""
        return Spool(folder, cls.HELD_MAX, lambda held: [held[0], held[1]], lambda v: (list(v[0]), int(v[1])))

    def failed(self, address: str | None, claimed: str | None = None) -> None:
        """Count a failed authentication from ``address`` (claiming the party ``claimed``, for
        HTTP Basic); raises :class:`TooManyRequests` once either has failed ``max_failures``
        times in the current window. Otherwise returns, and the caller answers 401."""
        keys = []
        if address:
            keys.append(limit_key("addr", address))
        if claimed:
            keys.append(limit_key("party", claimed))
        if not keys:
            return
        now = self.clock()
        counts = self.store.auth_failure_counts(keys, self.window_us, now)
        if self.spool.held:
            window = now - now % self.window_us
            for held, at in self.spool.own():
                if at - at % self.window_us == window:
                    for key in held:
                        if key in counts:
                            counts[key] += 1
        if max(counts.values()) < self.max_failures:
            # Counted only below the limit: a flood beyond it costs reads, not writes.
            self._count(keys, now)
            return
        retry = max(1, math.ceil((self.window_us - now % self.window_us) / 1_000_000))
        self.metrics.throttled("auth")
        raise TooManyRequests(f"too many failed authentications: try again in {retry} s",
                              details={"retry_after": retry})

    def _write(self, failures: list[tuple[list[str], int]]) -> None:
        for keys, at in failures:
            self.store.add_auth_failure(keys, self.window_us, at)

    def _count(self, keys: list[str], now: int) -> None:
        """Write the failures held (oldest first), then this one; hold what cannot be written."""
        try:
            self.spool.drain(self._write)
            self._write([(keys, now)])
        except Unavailable:
            if self.spool.full:
                raise
            self.spool.hold([(keys, now)])


class TokenBucket:
    """Token buckets in the database: ``capacity`` tokens, refilled at ``per_second``."""

    def __init__(self, store: Store, clock: Clock, name: str, capacity: float, per_second: float) -> None:
        self.store = store
        self.clock = clock
        self.name = name
        self.capacity = capacity
        self.per_second = per_second

    def take(self, key: str, n: int) -> float:
        """Take ``n`` tokens from ``key``'s bucket: 0.0, or the seconds to wait (nothing taken)."""
        if math.isinf(self.capacity) or math.isinf(self.per_second):
            return 0.0
        return self.store.take_tokens(f"{self.name}:{key}", n, self.capacity, self.per_second, self.clock())
