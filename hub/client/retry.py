"""When the client asks again: 429 and 503 answers, ``Retry-After``, bounded backoff with jitter.

A server that answers 429 (Too Many Requests, RFC 6585 section 4) or 503 (Service Unavailable,
RFC 9110 section 15.6.4) has not acted on the request, so the client may send it again, POSTs
included (TAXII's add-objects is idempotent: an object version already stored is a success).

- With a ``Retry-After`` header (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date), the
  client waits exactly as told, unless that is longer than :attr:`RetryPolicy.max_retry_after`:
  then it gives up at once, saying how long the server asked for.
- Without one (or with a value it cannot read), it waits ``backoff * 2**n`` seconds capped at
  ``max_backoff``, with "equal jitter" (half fixed, half random) so that many clients turned
  away together do not come back together.
- After ``max_retries`` further attempts it gives up with :class:`~hub.client.errors.Busy`.

Sleeping, the clock and the random source are passed in, so tests do not wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = [
    "NO_RETRY",
    "RETRY_STATUSES",
    "RetryNotice",
    "RetryPolicy",
    "parse_retry_after",
]

#: The answers that mean "not processed, ask again later".
RETRY_STATUSES = frozenset({429, 503})

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the client waits before sending a refused request again."""

    #: Further attempts after the first; 0 never retries.
    max_retries: int = 3
    #: The first backoff in seconds when the server gives no ``Retry-After``.
    backoff: float = 1.0
    #: The longest backoff between two attempts.
    max_backoff: float = 30.0
    #: The longest ``Retry-After`` honoured; a longer one ends the attempts at once.
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("retry settings must not be negative")

    def backoff_delay(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (0-based) when the server named none."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** retry))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


#: Never asks again: for callers that handle 429/503 themselves.
NO_RETRY = RetryPolicy(max_retries=0)


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller's ``on_retry`` before each wait (e.g. to show it to a person)."""

    #: What was being done, e.g. "pseudonymising through the hub".
    what: str
    #: The HTTP status that was answered: 429 or 503.
    status: int
    #: The seconds the client is about to wait.
    wait: float
    #: 1 for the first retry, 2 for the second, ...
    attempt: int
    #: True when the wait is the server's ``Retry-After``, False for the client's own backoff.
    told: bool
    #: What is being limited, for the message, e.g. "pseudonym requests".
    subject: str = "requests"

    @property
    def message(self) -> str:
        """One line for a person, e.g. 'the hub is rate-limiting pseudonym requests: asking again in 7 s'."""
        state = f"rate-limiting {self.subject}" if self.status == 429 else "unavailable (503)"
        return f"the hub is {state}: asking again in {self.wait:.0f} s"


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value; ``None`` if absent or unreadable.

    RFC 9110 section 10.2.3: either a non-negative number of seconds or an HTTP-date (a date
    in the past means "now").
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a delay
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return max(0.0, when.timestamp() - now())
