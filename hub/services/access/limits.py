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
import threading

from hub.common.errors import TooManyRequests, Unavailable
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
    standbys with its primary down) a failure is held in this process, at most :attr:`HELD_MAX`,
    counted toward the limit here, and added with the next failure counted once it can be
    written; beyond :attr:`HELD_MAX` failing requests get that 503.
    """

    HELD_MAX = 10_000

    def __init__(self, store: Store, clock: Clock, max_failures: int, window_seconds: int,
                 metrics: Metrics = NULL_METRICS) -> None:
        self.store = store
        self.clock = clock
        self.max_failures = max_failures
        self.window_us = window_seconds * 1_000_000
        self.metrics = metrics
        self._held: list[tuple[list[str], int]] = []  # (keys, at_us) not written yet
        self._lock = threading.Lock()

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
        with self._lock:
            for held, at in self._held:
                if at - at % self.window_us == now - now % self.window_us:
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


    def _count(self, keys: list[str], now: int) -> None:
        """Add the failures held (oldest first), then this one; hold what cannot be written."""
        with self._lock:
            waiting, self._held = [*self._held, (keys, now)], []
        done = 0
        try:
            for held, at in waiting:
                self.store.add_auth_failure(held, self.window_us, at)
                done += 1
        except Unavailable:
            with self._lock:
                self._held[:0] = waiting[done:]
                if len(self._held) > self.HELD_MAX:
                    self._held.pop()  # this one: refused below rather than held
                    raise


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
