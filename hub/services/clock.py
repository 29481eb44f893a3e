"""Time, in one place, so tests can freeze it."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    """Now, in integer microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000
