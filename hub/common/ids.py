"""The STIX 2.1 identifier and type-name grammar, in one place (STIX 2.1 sections 2.9 and 3.1).

An identifier is ``<object type>--<UUID>``. The UUID is RFC 4122 compliant (section 2.9 cites
RFC 4122, which defines versions 1 to 5 and the variant ``10xx``) and written in lower case; a
type name is 3 to 250 lower-case ASCII letters, digits and hyphens, starting and ending with a
letter or digit. Every part of the hub that takes an identifier (ingest, the validator, signing,
the report builder, TAXII query parameters, the client tools) asks :func:`is_stix_id`, so that
no part accepts what another refuses.
"""

from __future__ import annotations

import re
from typing import Any

#: A STIX type name (section 3.1): ASCII only, so ``\d`` and ``\w`` are not used.
TYPE_PATTERN = r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]"
#: An RFC 4122 UUID in lower case: version 1 to 5, variant 10xx.
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"

#: The STIX 2.1 cyber-observable object types (section 6): their ids are deterministic UUIDv5s
#: where they have id-contributing properties, and they carry no ``created_by_ref``.
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)

_TYPE_RE = re.compile(rf"^{TYPE_PATTERN}$")
#: Group 1 is the type part.
STIX_ID_RE = re.compile(rf"^({TYPE_PATTERN})--{UUID_PATTERN}$")


def is_stix_type(value: Any) -> bool:
    """True for a STIX type name such as ``indicator`` or ``x-acme-widget``."""
    return isinstance(value, str) and _TYPE_RE.match(value) is not None


def is_stix_id(value: Any, type: str | None = None) -> bool:  # noqa: A002 - the STIX word
    """True for a STIX identifier; with ``type``, only one of that object type."""
    if not isinstance(value, str):
        return False
    m = STIX_ID_RE.match(value)
    return m is not None and (type is None or m.group(1) == type)


def id_type(value: str) -> str | None:
    """The type part of a STIX identifier, or None if ``value`` is not one."""
    m = STIX_ID_RE.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None
