"""Parsing of TAXII query parameters (section 3.4) into typed queries. 400 for every bad value."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from werkzeug.datastructures import MultiDict

from hub.common.errors import BadRequest, InvalidValue
from hub.common.ids import is_stix_id, is_stix_type
from hub.common.timestamps import parse_timestamp_us
from hub.services.query import ObjectQuery
from hub.store.records import ObjectFilter, VersionSelector

_SPEC_RE = re.compile(r"^[0-9]{1,3}\.[0-9]{1,3}$")


def _values(args: MultiDict[str, str], name: str) -> list[str]:
    """Both forms: ``match[id]=a&match[id]=b`` and ``match[id]=a,b`` (section 3.4.1)."""
    out: list[str] = []
    for raw in args.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _timestamp(name: str, value: str) -> int:
    try:
        return parse_timestamp_us(value, name)
    except InvalidValue as exc:
        raise BadRequest(f"parameter {name!r}: {exc}") from None


def _checked(name: str, values: Iterable[str], valid: Callable[[str], bool], what: str) -> tuple[str, ...]:
    values = tuple(values)
    for v in values:
        if not valid(v):
            raise BadRequest(f"parameter {name!r}: {v!r} is not {what}")
    return values


def parse_query(args: MultiDict[str, str], *, allow_version: bool = True,
                default_version: VersionSelector = "last") -> ObjectQuery:
    """Build an :class:`ObjectQuery` from request arguments; unknown parameters are ignored.

    ``match[version]`` defaults to ``last`` for reads and to ``all`` for DELETE (section 5.7).
    """
    added_after = None
    if "added_after" in args:
        added_after = _timestamp("added_after", args["added_after"])
    limit = None
    if "limit" in args:
        raw = args["limit"].strip()
        if not raw.isdigit():
            raise BadRequest(f"parameter 'limit': must be a positive whole number, got {raw!r}")
        limit = int(raw)
    next_token = args.get("next") or None
    ids = _checked("match[id]", _values(args, "match[id]"), is_stix_id, "a STIX identifier")
    types = _checked("match[type]", _values(args, "match[type]"), is_stix_type, "a STIX type name")
    spec_versions = _checked("match[spec_version]", _values(args, "match[spec_version]"), lambda v: _SPEC_RE.match(v) is not None,
                             "a spec version like 2.1")
    selectors: list[VersionSelector] = []
    stamps: list[int] = []
    if allow_version:
        for v in _values(args, "match[version]"):
            if v in ("last", "first", "all"):
                selectors.append(v)  # type: ignore[arg-type]
            else:
                stamps.append(_timestamp("match[version]", v))
    if not selectors and not stamps:
        selectors = [default_version]
    flt = ObjectFilter(added_after_us=added_after, ids=ids, types=types,
                       versions=tuple(dict.fromkeys(selectors)), version_us=tuple(stamps),
                       spec_versions=spec_versions)
    return ObjectQuery(flt=flt, limit=limit, next=next_token)
