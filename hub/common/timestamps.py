"""The STIX 2.1 timestamp grammar (section 3.2), its parser and its formatter.

``YYYY-MM-DDTHH:mm:ss[.s+]Z``, always UTC, with ASCII digits only: ``\\d`` in a Python pattern
also matches other scripts' digits (``"２０２５"``), which no STIX consumer would read, so the
grammar spells ``[0-9]``. The date and time must exist (no 30 February, no 29 February outside
leap years); a leap second (``:60``, which RFC 3339 allows) is refused, as the OASIS validator
refuses it, since no consumer's clock can order it. Any number of fraction digits is read;
beyond the microsecond they are dropped. The hub keeps time as integer microseconds since the
epoch.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from hub.common.errors import InvalidValue
from hub.common.problems import Code, Problem
from hub.common.quoting import json_type

# Anchored with \Z, not $: $ also matches before a final newline.
_TS_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z\Z"
)
#: What is shown of a bad timestamp: a value shaped like an ISO 8601 date or date and time is
#: quoted (it cannot be personal data); anything else is described by its length only.
_DATE_LIKE_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,12})?)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?\Z"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MIN_US = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
_MAX_US = 253402300799 * 1_000_000 + 999_999  # 9999-12-31T23:59:59.999999Z


class InvalidTimestamp(InvalidValue):
    """A value is not a STIX timestamp; the message names the property. ``problem`` is the
    same as a :class:`~hub.common.problems.Problem` (code ``invalid-timestamp``)."""

    def __init__(self, message: str, prop: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(Code.INVALID_TIMESTAMP, message, prop)


def is_stix_timestamp(value: Any) -> bool:
    """True for a string of the form of a STIX timestamp (the shape only)."""
    return isinstance(value, str) and _TS_RE.match(value) is not None


def fraction_digits(value: Any) -> int | None:
    """How many digits of a second a STIX timestamp string gives (0 without a fraction), or
    None for anything that is not of the form of a STIX timestamp.

    ``created`` and ``modified`` must give at least three (STIX 2.1 section 3.2).
    """
    m = _TS_RE.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    frac = m.group(7)
    return len(frac) if frac else 0


def _shown(value: str) -> str:
    if len(value) <= 48 and _DATE_LIKE_RE.match(value):
        return repr(value)
    return f"a string of {len(value)} characters"


# Ingest parses the same few timestamps many times (created = modified = valid_from, checked
# by the basics, the validator and the signature check): remember the last few thousand.
_CACHE: dict[str, int] = {}
_CACHE_MAX = 4096


def parse_timestamp_us(value: Any, prop: str = "timestamp") -> int:
    """Parse a STIX timestamp to integer microseconds since the epoch.

    Raises :class:`InvalidTimestamp` naming ``prop`` if the value is not a STIX timestamp or
    not a real date and time. Digits beyond microseconds are accepted and truncated (the hub
    orders versions to the microsecond).
    """
    if type(value) is str:
        cached = _CACHE.get(value)
        if cached is not None:
            return cached
    us = _parse(value, prop)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[value] = us
    return us


def _parse(value: Any, prop: str) -> int:
    if not isinstance(value, str):
        raise InvalidTimestamp(f"{prop} must be a STIX timestamp string, got {json_type(value)}", prop)
    m = _TS_RE.match(value)
    if m is None:
        raise InvalidTimestamp(f"{prop} is not a STIX timestamp (YYYY-MM-DDTHH:mm:ss[.sss]Z): {_shown(value)}", prop)
    year, month, day, hour, minute, second, frac = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                      tzinfo=UTC)
    except ValueError:
        raise InvalidTimestamp(f"{prop} is not a valid date and time: {_shown(value)}", prop) from None
    micros = int((frac or "0")[:6].ljust(6, "0"))
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + micros


def format_timestamp_us(us: int) -> str:
    """Format integer microseconds since the epoch as a STIX/TAXII timestamp (6 digits).

    Raises :class:`InvalidTimestamp` for an instant outside years 1 to 9999.
    """
    if not _MIN_US <= us <= _MAX_US:
        raise InvalidTimestamp(f"{us} microseconds since 1970 is outside the years 1 to 9999")
    seconds, micros = divmod(us, 1_000_000)
    days, secs = divmod(seconds, 86400)
    d = date.fromordinal(_EPOCH_ORDINAL + days)
    hh, rest = divmod(secs, 3600)
    mm, ss = divmod(rest, 60)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{micros:06d}Z"


def format_timestamp_ms(dt: datetime) -> str:
    """A STIX timestamp with millisecond precision: ``2024-05-01T12:00:00.000Z``."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{dt.microsecond // 1000:03d}Z"
