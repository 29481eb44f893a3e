"""Parsing of TAXII query parameters (section 3.4) into typed queries. 400 for every bad value."""

from __future__ import annotations

import re
from typing import Iterable

from werkzeug.datastructures import MultiDict

from hub.errors import BadRequest
from hub.services.query import ObjectQuery
from hub.stix.basics import InvalidObject, parse_timestamp_us
from hub.store.records import ObjectFilter, VersionSelector

_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--[0-9a-fA-F-]{36}$")
_SPEC_RE = re.compile(r"^\d+\.\d+$")


def _values(args: MultiDict[str, str], name: str) -> list[str]:
    """Both forms: ``match[id]=a&match[id]=b`` and ``match[id]=a,b`` (section 3.4.1)."""
    out: list[str] = []
    for raw in args.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _timestamp(name: str, value: str) -> int:
    try:
        return parse_timestamp_us(value, name)
    except InvalidObject as exc:
        raise BadRequest(f"parameter {name!r}: {exc}") from None


def _checked(name: str, values: Iterable[str], pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    values = tuple(values)
    for v in values:
        if not pattern.match(v):
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
    ids = _checked("match[id]", _values(args, "match[id]"), _ID_RE, "a STIX identifier")
    types = _checked("match[type]", _values(args, "match[type]"), _TYPE_RE, "a STIX type name")
    spec_versions = _checked("match[spec_version]", _values(args, "match[spec_version]"), _SPEC_RE,
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
