"""The STIX 2.1 rules every stored object must meet, checked fast on ingest.

These are the basics the TAXII layer relies on (STIX 2.1 part 2 and 3.2): an id of the form
``type--uuid`` whose prefix is the object's ``type``, ``spec_version`` "2.1", timestamps in STIX
form, and ``created`` <= ``modified``. Full validation of properties and vocabularies builds on
these in :mod:`hub.stix.validator`. The grammars are :mod:`hub.common.ids` and
:mod:`hub.common.timestamps`, the ones every other part of the hub uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.common.errors import InvalidValue
from hub.common.ids import SCO_TYPES, id_type, is_stix_type
from hub.common.problems import Code, Problem
from hub.common.quoting import describe, json_type
from hub.common.timestamps import InvalidTimestamp, parse_timestamp_us

__all__ = ["SCO_TYPES", "InvalidObject", "check_basics"]


class InvalidObject(InvalidValue):
    """An object breaks a STIX rule. ``problem`` says which (its code, the property, whether
    the message quotes a value); ``str()`` is the problem's message."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


_SHOWN_MAX = 80


def _shown(value: Any) -> str | None:
    """A submitted value as a message may quote it, or None when it must not be repeated.

    Messages reach statuses, the audit trail and logs, so a value that looks like personal
    data (an e-mail address, a phone number, ...) or is long is described, not repeated.
    """
    from hub.stix.pii import (
        find_pii,  # deferred: pii builds on modules that import this one
    )

    if not isinstance(value, str) or len(value) > _SHOWN_MAX or find_pii(value):
        return None
    return repr(value)


def _about(code: str, prop: str, value: Any, sentence: Callable[[str], str]) -> Problem:
    """A problem naming a bad ``value`` of ``prop``: quoted when :func:`_shown` allows it."""
    quoted = _shown(value)
    described = f"({describe(value)}, not shown)" if isinstance(value, str) else describe(value)
    if quoted is None:
        return Problem(code, sentence(described), prop)
    return Problem(code, sentence(quoted), prop, quotes_value=True, withheld=sentence(described))


def _timestamp_us(obj: dict[str, Any], prop: str) -> int | None:
    value = obj.get(prop)
    if value is None:
        return None
    try:
        return parse_timestamp_us(value, prop)
    except InvalidTimestamp as exc:
        raise InvalidObject(exc.problem) from None


def _missing(prop: str) -> InvalidObject:
    return InvalidObject(Problem(Code.MISSING_PROPERTY, f"missing required property {prop!r}", prop))


def check_basics(obj: Any) -> tuple[str, str, int]:
    """Check the STIX 2.1 basics of one object.

    Returns ``(id, type, version_us)`` where ``version_us`` is the object's version in
    microseconds (``modified``, else ``created``) or -1 for an object with neither (most SCOs,
    whose one version is their ``date_added``; TAXII 2.1 section 3.4.1).
    Raises :class:`InvalidObject` carrying the :class:`~hub.common.problems.Problem`, with a
    message a submitter can act on that never repeats a value that looks like personal data.
    """
    if not isinstance(obj, dict):
        raise InvalidObject(Problem(Code.NOT_AN_OBJECT,
                                    f"an object must be a JSON object, got {json_type(obj)}"))
    obj_id = obj.get("id")
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or not obj_type:
        raise _missing("type")
    if not is_stix_type(obj_type):
        raise InvalidObject(_about(
            Code.INVALID_TYPE_NAME, "type", obj_type,
            lambda v: f"type {v} is not a valid STIX type name (3 to 250 characters a-z, 0-9 "
                      "and single hyphens, starting with a letter)"))
    if not isinstance(obj_id, str) or not obj_id:
        raise _missing("id")
    prefix = id_type(obj_id)
    if prefix is None:
        raise InvalidObject(_about(
            Code.INVALID_ID, "id", obj_id,
            lambda v: f"id {v} is not of the form type--uuid (a lower-case RFC 4122 UUID, "
                      "version 1 to 5)"))
    if prefix != obj_type:
        # Both are well-formed names here: quoting them repeats nothing personal.
        raise InvalidObject(Problem(Code.ID_TYPE_MISMATCH,
                                    f"id prefix {prefix!r} does not match type {obj_type!r}", "id"))
    spec_version = obj.get("spec_version")
    if spec_version is None and obj_type not in SCO_TYPES:
        raise _missing("spec_version")
    if spec_version is not None and spec_version != "2.1":
        raise InvalidObject(_about(Code.INVALID_SPEC_VERSION, "spec_version", spec_version,
                                   lambda v: f"spec_version must be '2.1', got {v}"))
    created_us = _timestamp_us(obj, "created")
    modified_us = _timestamp_us(obj, "modified")
    if obj_type not in SCO_TYPES:
        if created_us is None:
            raise _missing("created")
        if modified_us is None and obj_type != "marking-definition":
            raise _missing("modified")
    if created_us is not None and modified_us is not None and modified_us < created_us:
        raise InvalidObject(Problem(
            Code.TIMESTAMP_ORDER,
            f"modified ({obj['modified']}) is earlier than created ({obj['created']})", "modified"))
    if modified_us is not None:
        return obj_id, obj_type, modified_us
    if created_us is not None:
        return obj_id, obj_type, created_us
    return obj_id, obj_type, -1
