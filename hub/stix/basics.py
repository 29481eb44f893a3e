"""The STIX 2.1 rules every stored object must meet, checked fast on ingest.

These are the basics the TAXII layer relies on (STIX 2.1 part 2 and 3.2): an id of the form
``type--uuid`` whose prefix is the object's ``type``, ``spec_version`` "2.1", timestamps in STIX
form, and ``created`` <= ``modified``. Full validation of properties and vocabularies builds on
these in :mod:`hub.stix.validator`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

# STIX 2.1 section 2.9: identifier = type "--" UUID (RFC 4122, any variant text form, lower case).
_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_ID_RE = re.compile(
    r"^([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
# STIX 2.1 section 3.2: YYYY-MM-DDTHH:mm:ss[.s+]Z, always UTC.
_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)


class InvalidObject(ValueError):
    """An object breaks a STIX rule; the message names the property and the problem."""


_SHOWN_MAX = 80


def is_stix_id(value: Any) -> bool:
    """True for a string of the form ``type--uuid`` (the shape only)."""
    return isinstance(value, str) and _ID_RE.match(value) is not None


def is_stix_timestamp(value: Any) -> bool:
    """True for a string of the form of a STIX timestamp (the shape only)."""
    return isinstance(value, str) and _TS_RE.match(value) is not None


def _shown(value: Any) -> str:
    """A submitted value as a reason may quote it: reasons reach statuses and logs, so a value
    that looks like personal data (or is long) is described, not repeated."""
    from hub.stix.pii import find_pii  # deferred: pii builds on modules that import this one

    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    if len(value) > _SHOWN_MAX:
        return f"a string of {len(value)} characters"
    if find_pii(value):
        return "(value withheld)"
    return repr(value)


# Ingest parses the same few timestamps many times (created = modified = valid_from, checked
# by the basics, the validator and the signature check): remember the last few thousand.
_TS_CACHE: dict[str, int] = {}
_TS_CACHE_MAX = 4096


def parse_timestamp_us(value: Any, prop: str = "timestamp") -> int:
    """Parse a STIX timestamp to integer microseconds since the epoch.

    Raises :class:`InvalidObject` naming ``prop`` if the value is not a STIX timestamp.
    Digits beyond microseconds are accepted and truncated (the hub orders versions to the
    microsecond).
    """
    if type(value) is str:
        cached = _TS_CACHE.get(value)
        if cached is not None:
            return cached
    us = _parse_timestamp_us(value, prop)
    if len(_TS_CACHE) >= _TS_CACHE_MAX:
        _TS_CACHE.clear()
    _TS_CACHE[value] = us
    return us


def _parse_timestamp_us(value: Any, prop: str) -> int:
    if not isinstance(value, str):
        raise InvalidObject(f"{prop} must be a STIX timestamp string, got {type(value).__name__}")
    m = _TS_RE.match(value)
    if m is None:
        raise InvalidObject(f"{prop} is not a STIX timestamp (YYYY-MM-DDTHH:mm:ss[.sss]Z): {_shown(value)}")
    year, month, day, hour, minute, second, frac = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                      tzinfo=timezone.utc)
    except ValueError:
        raise InvalidObject(f"{prop} is not a valid date and time: {_shown(value)}") from None
    micros = int((frac or "0")[:6].ljust(6, "0"))
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + micros


def format_timestamp_us(us: int) -> str:
    """Format integer microseconds since the epoch as a STIX/TAXII timestamp (6 digits)."""
    seconds, micros = divmod(us, 1_000_000)
    dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


def check_basics(obj: Any) -> tuple[str, str, int]:
    """Check the STIX 2.1 basics of one object.

    Returns ``(id, type, version_us)`` where ``version_us`` is the object's version in
    microseconds (``modified``, else ``created``) or -1 for an object with neither (most SCOs,
    whose one version is their ``date_added``; TAXII 2.1 section 3.4.1).
    Raises :class:`InvalidObject` with a reason a submitter can act on.
    """
    if not isinstance(obj, dict):
        raise InvalidObject(f"an object must be a JSON object, got {type(obj).__name__}")
    obj_id = obj.get("id")
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or not obj_type:
        raise InvalidObject("missing required property 'type'")
    if not _TYPE_RE.match(obj_type):
        raise InvalidObject(f"type {_shown(obj_type)} is not a valid STIX type name")
    if not isinstance(obj_id, str) or not obj_id:
        raise InvalidObject("missing required property 'id'")
    m = _ID_RE.match(obj_id)
    if m is None:
        raise InvalidObject(f"id {_shown(obj_id)} is not of the form type--uuid (a lower-case RFC 4122 UUID, version 1 to 5)")
    if m.group(1) != obj_type:
        raise InvalidObject(f"id prefix {m.group(1)!r} does not match type {_shown(obj_type)}")
    spec_version = obj.get("spec_version")
    if spec_version is None and obj_type not in SCO_TYPES:
        raise InvalidObject("missing required property 'spec_version'")
    if spec_version is not None and spec_version != "2.1":
        raise InvalidObject(f"spec_version must be '2.1', got {_shown(spec_version)}")
    created = obj.get("created")
    modified = obj.get("modified")
    created_us = parse_timestamp_us(created, "created") if created is not None else None
    modified_us = parse_timestamp_us(modified, "modified") if modified is not None else None
    if obj_type not in SCO_TYPES:
        if created_us is None:
            raise InvalidObject("missing required property 'created'")
        if modified_us is None and obj_type != "marking-definition":
            raise InvalidObject("missing required property 'modified'")
    if created_us is not None and modified_us is not None and modified_us < created_us:
        raise InvalidObject(f"modified ({modified}) is earlier than created ({created})")
    if modified_us is not None:
        return obj_id, obj_type, modified_us
    if created_us is not None:
        return obj_id, obj_type, created_us
    return obj_id, obj_type, -1
