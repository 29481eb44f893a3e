"""The STIX 2.1 identifier and type-name grammar, in one place (STIX 2.1 sections 2.9 and 3.1).

An identifier is ``<object type>--<UUID>``. The UUID "MUST be an RFC 4122-compliant UUID"
(section 2.9): RFC 4122 defines versions 1 to 5 and the variant ``10xx`` (the first hex digit of
the fourth group is 8, 9, a or b), and the hub takes it in lower case only, the form RFC 4122
section 3 says to output, so that one object has one id string (TAXII matches ids as strings).
A type name is 3 to 250 ASCII characters ``a-z``, ``0-9`` and ``-``, starting with a letter,
ending with a letter or digit, without two hyphens in a row: the intersection of the OASIS STIX
2.1 JSON schemas' ``type`` and ``identifier`` patterns (and python-stix2's 2.1 rule), and what
keeps ``type--uuid`` unambiguous.

Every part of the hub that takes an identifier (ingest, the validator, signing, the report
builder, TAXII query parameters, the client tools) asks :func:`is_stix_id`, and every part that
takes a type name asks :func:`is_stix_type`, so that no part accepts what another refuses. The
ids the hub issues or normalises itself (status ids, collection ids: ``str(uuid.UUID(...))``)
are asked :func:`is_uuid_text`, and a message's ids are found with :data:`STIX_ID_IN_TEXT_RE`.
The patterns spell ``[0-9]`` and ``[a-z]``: ``\\d`` and ``\\w`` also match other scripts' characters.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SCO_TYPES", "STIX_ID_IN_TEXT_RE", "STIX_ID_RE", "TYPE_PATTERN", "UUID_PATTERN",
           "UUID_TEXT_PATTERN", "id_type", "is_stix_id", "is_stix_type", "is_uuid_text", "uuid_version"]

#: A STIX type name (section 3.1): a letter, then letters, digits and single hyphens, ending in
#: a letter or digit; 3 to 250 characters in all.
TYPE_PATTERN = r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,249}"
#: An RFC 4122 UUID in lower case: version 1 to 5, variant 10xx.
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
#: A UUID in the text form of RFC 4122 section 3 (``8-4-4-4-12`` hex digits), lower case, of any
#: version and variant: how Python's ``str(uuid.UUID(...))`` writes one, and so every id the hub
#: issues (status ids) or normalises (collection ids an operator chose).
UUID_TEXT_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

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

# Anchored with \Z, not $: $ also matches before a final newline ("indicator--...\n").
_TYPE_RE = re.compile(rf"^{TYPE_PATTERN}\Z")
#: A whole STIX identifier; group 1 is the type part.
STIX_ID_RE = re.compile(rf"^({TYPE_PATTERN})--{UUID_PATTERN}\Z")
#: What looks like a STIX identifier anywhere in a text (a message quoting one), with a UUID of
#: any version: to find ids in text, never to accept one.
STIX_ID_IN_TEXT_RE = re.compile(rf"{TYPE_PATTERN}--{UUID_TEXT_PATTERN}")
_UUID_TEXT_RE = re.compile(rf"^{UUID_TEXT_PATTERN}\Z")


def is_stix_type(value: Any) -> bool:
    """True for a STIX type name such as ``indicator`` or ``x-acme-widget``."""
    return isinstance(value, str) and _TYPE_RE.match(value) is not None


def is_stix_id(value: Any, type: str | None = None) -> bool:  # noqa: A002 - the STIX word
    """True for a STIX identifier; with ``type``, only one of that object type."""
    if not isinstance(value, str):
        return False
    m = STIX_ID_RE.match(value)
    return m is not None and (type is None or m.group(1) == type)


def is_uuid_text(value: Any) -> bool:
    """True for a UUID written as :data:`UUID_TEXT_PATTERN` says (lower case, any version)."""
    return isinstance(value, str) and _UUID_TEXT_RE.match(value) is not None


def id_type(value: Any) -> str | None:
    """The type part of a STIX identifier, or None if ``value`` is not one."""
    m = STIX_ID_RE.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None


def uuid_version(value: Any) -> int | None:
    """The RFC 4122 version (1 to 5) of a STIX identifier's UUID, or None if ``value`` is not
    an identifier. Section 2.9: objects get UUIDv4 ids, observables with id-contributing
    properties UUIDv5 ones."""
    if not is_stix_id(value):
        return None
    # The version is the first digit of the UUID's third group: 14 characters into the UUID.
    return int(value[value.index("--") + 2 + 14])
