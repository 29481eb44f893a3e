"""The STIX 2.1 rules every stored object must meet, checked fast on ingest.

These are the basics the TAXII layer relies on (STIX 2.1 part 2 and 3.2): an id of the form
``type--uuid`` whose prefix is the object's ``type``, ``spec_version`` "2.1", timestamps in STIX
form, and ``created`` <= ``modified``. Full validation of properties and vocabularies builds on
these in :mod:`hub.stix.validator`.
"""

from __future__ import annotations

from typing import Any

from hub.common.errors import InvalidValue
from hub.common.ids import SCO_TYPES, STIX_ID_RE, is_stix_type
from hub.common.timestamps import parse_timestamp_us

__all__ = ["SCO_TYPES", "InvalidObject", "check_basics"]



#: An object breaks a STIX rule; the message names the property and the problem.
InvalidObject = InvalidValue

_SHOWN_MAX = 80


def _shown(value: Any) -> str:
    """A submitted value as a reason may quote it: reasons reach statuses and logs, so a value
    that looks like personal data (or is long) is described, not repeated."""
    from hub.stix.pii import (
        find_pii,  # deferred: pii builds on modules that import this one
    )

    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    if len(value) > _SHOWN_MAX:
        return f"a string of {len(value)} characters"
    if find_pii(value):
        return "(value withheld)"
    return repr(value)


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
    if not is_stix_type(obj_type):
        raise InvalidObject(f"type {_shown(obj_type)} is not a valid STIX type name")
    if not isinstance(obj_id, str) or not obj_id:
        raise InvalidObject("missing required property 'id'")
    m = STIX_ID_RE.match(obj_id)
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
