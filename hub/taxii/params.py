"""The URL query parameters of TAXII 2.1 (section 3.4) parsed into a service query.

"If any of the URL query parameters are malformed, the TAXII Server MUST return an HTTP 400":
every bad value is a 400 naming the parameter. Unknown parameters are ignored (section 3.4:
servers MAY ignore fields they do not understand).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from werkzeug.datastructures import MultiDict

from hub.common.errors import BadRequest, InvalidValue
from hub.common.ids import is_stix_id, is_stix_type
from hub.common.quoting import show
from hub.common.timestamps import parse_timestamp_us
from hub.services.query import ObjectQuery, VersionSelector

_SPEC_RE = re.compile(r"^[0-9]{1,3}\.[0-9]{1,3}$")
#: ``limit`` is ASCII digits: ``str.isdigit`` would also pass "²" or "٣", which int() refuses.
_LIMIT_RE = re.compile(r"^[0-9]+$")
#: More digits than any page size: such a limit is clamped, without converting a huge number.
_LIMIT_DIGITS = 9
_KEYWORDS: dict[str, VersionSelector] = {"last": "last", "first": "first", "all": "all"}
#: Section 3.4: "A request MUST NOT have more than one instance of" added_after; limit and
#: next are "a single" value too.
_SINGLE = ("added_after", "limit", "next")


def _values(args: MultiDict[str, str], name: str) -> list[str]:
    """Both forms: ``match[id]=a&match[id]=b`` and ``match[id]=a,b`` (section 3.4)."""
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
            raise BadRequest(f"parameter {name!r}: {show(v)} is not {what}")
    return values


def _limit(raw: str) -> int:
    """A positive whole number of ASCII digits (section 3.4: "a positive integer greater than
    zero"); a very large one is kept large, and the service clamps it to the maximum page size.

    ``limit=0`` is refused too. taxii2-client's ``as_pages`` defaults to ``per_request=0`` but
    never sends it: its query builder drops falsy values, so the request carries no ``limit``
    and gets the server's default page size.
    """
    value = raw.strip()
    if not _LIMIT_RE.match(value) or not value.strip("0"):
        raise BadRequest(f"parameter 'limit': must be a positive whole number, got {show(raw)}")
    digits = value.lstrip("0")
    return int(digits) if len(digits) <= _LIMIT_DIGITS else 10**_LIMIT_DIGITS


def parse_query(args: MultiDict[str, str], *, allow_version: bool = True,
                default_version: VersionSelector = "last") -> ObjectQuery:
    """Build an :class:`ObjectQuery` from request arguments.

    ``match[version]`` defaults to ``last`` for reads and to ``all`` for DELETE (section 5.7).
    """
    for name in _SINGLE:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"parameter {name!r}: give it once, not {len(args.getlist(name))} times")
    added_after = _timestamp("added_after", args["added_after"]) if "added_after" in args else None
    limit = _limit(args["limit"]) if "limit" in args else None
    next_token = args.get("next") or None
    ids = _checked("match[id]", _values(args, "match[id]"), is_stix_id, "a STIX identifier")
    types = _checked("match[type]", _values(args, "match[type]"), is_stix_type, "a STIX type name")
    spec_versions = _checked("match[spec_version]", _values(args, "match[spec_version]"),
                             lambda v: _SPEC_RE.match(v) is not None, "a spec version like 2.1")
    selectors: list[VersionSelector] = []
    stamps: list[int] = []
    if allow_version:
        for v in _values(args, "match[version]"):
            if v in _KEYWORDS:
                selectors.append(_KEYWORDS[v])
            else:
                stamps.append(_timestamp("match[version]", v))
    if not selectors and not stamps:
        selectors = [default_version]
    return ObjectQuery(added_after_us=added_after, ids=ids, types=types,
                       versions=tuple(dict.fromkeys(selectors)), version_us=tuple(stamps),
                       spec_versions=spec_versions, limit=limit, next=next_token)
