"""Declarative facts: a table of fields and one small engine that checks them.

A kind of facts (a report's, a sighting's; a notice's or a marking's later) is a frozen
dataclass deriving from :class:`Facts` whose fields are declared with :func:`fact`. The class
body is the table: each field names its :class:`Type` (what a value may be: a timestamp, an id,
a choice from a vocabulary, a list of those, a table of kind = value), when it is required
(always, or :class:`When` another fact has some value), when it is allowed at all, the fact it
may be given as instead (a pseudonym), and the STIX property it becomes (:class:`Stix`)::

    @dataclass(frozen=True, kw_only=True)
    class SightingFacts(Facts):
        sighted_by_ref: str = fact(StixId("identity"), required=True)
        count: int = fact(Integer(0, 999_999_999), default=1)

Constructing the dataclass runs the engine over the table (:meth:`Model.read`): every problem
is found, not only the first, and the class's ``invalid`` error is raised carrying them all as
:class:`~hub.common.problems.Problem` values whose ``property`` is the path of the fact at fault
(``"resources[2]"``, ``"personal.email"``), so that no caller parses a message. Values are kept
as the types read them (timestamps as UTC datetimes, lists as tuples, country codes in upper
case).

The same table describes the STIX properties the facts become: each :class:`Type` also checks a
value as it is found in a STIX object (strictly: a timestamp string, not a date), and writes its
part of a JSON Schema. :mod:`hub.stix.iaas` checks the IaaS-account extension with it, and
generates the extension's schema from it.

Messages name the field and the rule, never a personal value: a problem that shows a value
says so (``quotes_value``), and the STIX checks describe a value by its JSON type only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Protocol, Self

from hub.common.errors import BadRequest
from hub.common.ids import UUID_PATTERN, id_type
from hub.common.problems import Code, Problem
from hub.common.quoting import json_type
from hub.common.timestamps import InvalidTimestamp, format_timestamp_ms, parse_timestamp_us
from hub.pseudonyms import POPRF_PSEUDONYM_RE, PSEUDONYM_FORMS, PSEUDONYM_RE
from hub.pseudonyms.kinds import HMAC_PSEUDONYM_RE
from hub.stix.markings import TLP_NAMES, tlp_level
from hub.stix.pii import find_pii
from hub.stix.vocab import ISO3166_ALPHA2

__all__ = [
    "INVALID",
    "Boolean",
    "Choice",
    "Const",
    "Country",
    "Fact",
    "Facts",
    "Form",
    "Found",
    "FreeText",
    "Integer",
    "InvalidFacts",
    "ListOf",
    "Marking",
    "Model",
    "OpenVocabulary",
    "Order",
    "Pseudonym",
    "RequiredWith",
    "Rule",
    "Stix",
    "StixId",
    "StixShape",
    "Table",
    "Text",
    "Timestamp",
    "Type",
    "When",
    "check_stix",
    "fact",
    "got",
    "stix_schema",
]


class _Invalid:
    """What a type reads from a value it refuses (its problems are in the :class:`Found`)."""

    def __repr__(self) -> str:
        return "INVALID"


#: The value of a fact whose value was refused.
INVALID: Any = _Invalid()


class Found:
    """The problems found so far. ``prefix`` starts every message and ``base`` every path, so
    that one check can report under ``extensions['...']`` or at the top of the facts."""

    __slots__ = ("base", "prefix", "problems")

    def __init__(self, prefix: str = "", base: str = "") -> None:
        self.prefix = prefix
        self.base = base
        self.problems: list[Problem] = []

    def _path(self, path: str) -> str:
        if not self.base:
            return path
        return f"{self.base}.{path}" if path else self.base

    def add(self, code: str, path: str, message: str) -> None:
        """A problem of the value at ``path`` ("" for the whole)."""
        self.problems.append(Problem(code, self.prefix + message, self._path(path)))

    def quoting(self, code: str, path: str, value: Any, sentence: Callable[[str], str]) -> None:
        """A problem whose message shows ``value`` (see :meth:`Problem.quoting`)."""
        p = Problem.quoting(code, self._path(path), value, lambda v: self.prefix + sentence(v))
        self.problems.append(p)

    def __bool__(self) -> bool:
        return bool(self.problems)


def got(value: Any) -> str:
    """What was given instead, without the value itself: its JSON type (a string's length)."""
    if isinstance(value, str):
        return f"got a string of length {len(value)}"
    name = json_type(value)
    return "got null" if name == "null" else f"got {'an' if name[0] in 'aeiou' else 'a'} {name}"


# -- types ------------------------------------------------------------------------------------


class Type:
    """What one value may be, in the facts (:meth:`read`, lenient: a TOML date is a timestamp)
    and in a STIX object (:meth:`check`, strict), and its JSON Schema (:meth:`schema`)."""

    #: A STIX property of this type that is null is let through by :meth:`StixShape.check`
    #: (the hand-written extension check did so for single values; lists, tables and numbers
    #: refused it).
    stix_null_passes: ClassVar[bool] = True
    #: The message of a required fact left out ("provider_name is required").
    required_message: ClassVar[str] = "is required"
    #: The values a form or a template offers, for a type with a vocabulary.
    choices: tuple[str, ...] = ()

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        """The value as the facts keep it, or :data:`INVALID` with its problems in ``found``.
        ``raw`` holds every fact as given, for types that depend on another fact."""
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        """Every way ``value`` breaks this type as the STIX property ``prop``."""

    def to_stix(self, value: Any) -> Any:
        """The STIX form of a value :meth:`read` kept."""
        return value

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the STIX form; ``#/$defs/...`` references are to
        :data:`SCHEMA_DEFS`."""
        raise NotImplementedError(f"{type(self).__name__} has no STIX form")

    def absent(self, value: Any) -> bool:
        """Whether ``value`` counts as not given (for "required")."""
        return value is None

    def key(self, value: Any) -> Any:
        """What makes two values the same, for a list of unique items (the value itself; a
        resource's is its canonical form)."""
        return value


class Text(Type):
    """A string; a required one must not be blank."""

    required_message = "must be a non-empty string"

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            found.add(Code.WRONG_TYPE, path, f"{path} must be a string; {got(value)}")
            return INVALID
        return value

    def absent(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())


class FreeText(Text):
    """Text every reader of the collection sees: no personal data in it (:func:`find_pii`)."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if super().read(value, path, found, raw) is INVALID:
            return INVALID
        kinds = find_pii(value)
        for kind in kinds:
            found.add(Code.PERSONAL_DATA, path, f"{path} contains {kind}: remove personal data from it")
        return INVALID if kinds else value


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class StixId(Type):
    """The id of an object of one of ``types`` (``identity--<uuid>``)."""

    def __init__(self, *types: str) -> None:
        self.types = types

    def _what(self) -> str:
        if len(self.types) == 1:
            return f"{_article(self.types[0])} {self.types[0]} id ({self.types[0]}--<uuid>)"
        return f"{_article(self.types[0])} {' or '.join(self.types)} id"

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if id_type(value) not in self.types:
            found.add(Code.INVALID_ID, path, f"{path} must be {self._what()}")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        kind = id_type(value)
        if kind in self.types:
            return
        what = ", ".join(self.types)
        if len(self.types) == 1:
            what += f" ({self.types[0]}--<uuid>)"
        found.add(Code.INVALID_ID if kind is None else Code.WRONG_REF_TYPE, prop,
                  f"{prop!r} must be the id of {_article(what)} {what}; {got(value)}")

    def schema(self) -> dict[str, Any]:
        if self.types == ("identity",):
            return {"$ref": "#/$defs/identity_ref"}
        return {"type": "string", "pattern": _id_pattern(self.types)}


def _id_pattern(types: Sequence[str]) -> str:
    return f"^({'|'.join(types)})--{UUID_PATTERN}$"


class Timestamp(Type):
    """A point in time: in the facts a timezone-aware datetime, a date (midnight UTC) or an ISO
    8601 string, kept as a UTC datetime; in STIX a timestamp string."""

    #: The JSON Schema pattern of a STIX timestamp (as the OASIS schemas write it).
    PATTERN: ClassVar[str] = (
        "^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):"
        "([0-5][0-9]|60)(\\.[0-9]+)?Z$"
    )

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                found.add(Code.INVALID_TIMESTAMP, path,
                          f"{path} must include a time zone (e.g. 2024-05-01T12:00:00Z)")
                return INVALID
            return value.astimezone(UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str):
            text = value.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                found.add(Code.INVALID_TIMESTAMP, path,
                          f"{path} is not a timestamp (e.g. 2024-05-01T12:00:00Z)")
                return INVALID
            return self.read(parsed, path, found, raw)
        found.add(Code.WRONG_TYPE, path, f"{path} must be a timestamp, got {type(value).__name__}")
        return INVALID

    def check(self, value: Any, prop: str, found: Found) -> None:
        try:
            parse_timestamp_us(value, prop)
        except InvalidTimestamp:
            # Not parse_timestamp_us's message: it quotes the value.
            if isinstance(value, str):
                found.add(Code.INVALID_TIMESTAMP, prop,
                          f"{prop!r} is not a valid STIX timestamp "
                          "(YYYY-MM-DDTHH:mm:ss[.sss]Z, a real date and time)")
            else:
                found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be a STIX timestamp string; {got(value)}")

    def to_stix(self, value: Any) -> Any:
        return format_timestamp_ms(value)

    def schema(self) -> dict[str, Any]:
        return {"$ref": "#/$defs/timestamp"}


class Choice(Type):
    """One value of a closed vocabulary. ``noun`` (e.g. "abuse type") names one value in the
    facts' message, which then shows the value given."""

    def __init__(self, values: Sequence[str], noun: str = "") -> None:
        self.choices = tuple(values)
        self.noun = noun

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if value in self.choices:
            return value
        allowed = ", ".join(self.choices)
        if self.noun:
            found.quoting(Code.NOT_IN_VOCABULARY, path, value,
                          lambda v: f"{path}: unknown {self.noun} {v}; expected one of {allowed}")
        else:
            found.add(Code.NOT_IN_VOCABULARY, path, f"{path} must be one of {allowed}")
        return INVALID

    def check(self, value: Any, prop: str, found: Found) -> None:
        if value not in self.choices:
            found.add(Code.NOT_IN_VOCABULARY, prop,
                      f"{prop!r} must be one of {', '.join(self.choices)}; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Marking(Choice):
    """A TLP name (clear, green, amber, amber+strict, red; any case, ``TLP:`` prefix and TLP
    1.0's white allowed), kept as its TLP 2.0 name in lower case (``TLP:White`` is ``clear``):
    the markings a fact may name."""

    def __init__(self, names: Sequence[str] = TLP_NAMES) -> None:
        super().__init__(names)

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        try:
            level = tlp_level(value)
        except ValueError:
            level = None
        if level is None or TLP_NAMES[level] not in self.choices:
            found.add(Code.NOT_IN_VOCABULARY, path, f"{path} must be one of {', '.join(self.choices)}")
            return INVALID
        return TLP_NAMES[level]


class Boolean(Type):
    """Yes or no: a boolean (TOML's true or false); false counts as not given."""

    stix_null_passes = False

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if not isinstance(value, bool):
            found.add(Code.WRONG_TYPE, path, f"{path} must be true or false")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, bool):
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be true or false; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def absent(self, value: Any) -> bool:
        return value is None or value is False


class Const(Type):
    """Exactly one value (in STIX only)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def check(self, value: Any, prop: str, found: Found) -> None:
        if value != self.value:
            found.add(Code.NOT_IN_VOCABULARY, prop, f"{prop!r} must be {self.value!r}; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"const": self.value}


class OpenVocabulary(Type):
    """A value of an open vocabulary (``name``): any lower-case-hyphenated word (in STIX)."""

    _RE: ClassVar[re.Pattern[str]] = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")

    def __init__(self, name: str, suggested: Sequence[str]) -> None:
        self.name = name
        self.suggested = tuple(suggested)

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not (isinstance(value, str) and self._RE.match(value)):
            found.add(Code.INVALID_VALUE, prop,
                      f"{prop!r} must be a lower-case-hyphenated vocabulary value ({self.name}); "
                      f"{got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}


class Country(Type):
    """An ISO 3166-1 alpha-2 code; the facts take any case and keep it in upper case."""

    choices = tuple(sorted(ISO3166_ALPHA2))

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        code = self.normal(value)
        if code is None:
            found.add(Code.NOT_IN_VOCABULARY, path, f"{path} must be an ISO 3166-1 alpha-2 code such as 'DE'")
            return INVALID
        return code

    @staticmethod
    def normal(value: Any) -> str | None:
        """The code in upper case, or None if ``value`` is not one."""
        if not isinstance(value, str) or value.strip().upper() not in ISO3166_ALPHA2:
            return None
        return value.strip().upper()

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not (isinstance(value, str) and value in ISO3166_ALPHA2):
            found.add(Code.NOT_IN_VOCABULARY, prop,
                      f"{prop!r} must be an ISO 3166-1 alpha-2 code in upper case; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Integer(Type):
    """An integer from ``low`` to ``high`` (a boolean is not one; in STIX 85.0 is 85)."""

    stix_null_passes = False

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            found.add(Code.WRONG_TYPE, path, f"{path} must be an integer from {self.low} to {self.high}")
            return INVALID
        if not self.low <= value <= self.high:
            found.add(Code.OUT_OF_RANGE, path, f"{path} must be an integer from {self.low} to {self.high}")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        ok = type(value) is int or (type(value) is float and value.is_integer())
        if not ok or not self.low <= value <= self.high:
            found.add(Code.WRONG_TYPE if not ok else Code.OUT_OF_RANGE, prop,
                      f"{prop!r} must be an integer from {self.low} to {self.high}; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


class Pseudonym(Type):
    """A keyed pseudonym (:data:`~hub.pseudonyms.PSEUDONYM_RE`), never the value itself."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or not PSEUDONYM_RE.match(value):
            found.add(Code.NOT_A_PSEUDONYM, path, f"{path} must be a pseudonym: {PSEUDONYM_FORMS}")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not (isinstance(value, str) and PSEUDONYM_RE.match(value)):
            found.add(Code.NOT_A_PSEUDONYM, prop,
                      f"{prop!r} is not a pseudonym {PSEUDONYM_FORMS}; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"$ref": "#/$defs/pseudonym"}


class ListOf(Type):
    """A list of ``item`` (in the facts: a list of strings, at least ``min_items``; with
    ``unique``, no two items the same after :meth:`key`)."""

    stix_null_passes = False

    def __init__(self, item: Type, noun: str, *, min_items: int = 1, unique: bool = False) -> None:
        self.item = item
        self.noun = noun
        self.min_items = min_items
        self.unique = unique
        self.choices = item.choices

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(
            isinstance(v, str) for v in value
        ):
            found.add(Code.WRONG_TYPE, path, f"{path} must be a list of strings")
            return INVALID
        if len(value) < self.min_items:
            found.add(Code.MISSING_PROPERTY, path, f"{path} must list at least one {self.noun}")
            return INVALID
        out: list[Any] = []
        seen: set[Any] = set()
        ok = True
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            kept = self.item.read(item, where, found, raw)
            if kept is INVALID:
                ok = False
                continue
            if self.unique:
                key = self.item.key(kept)
                if key in seen:
                    found.add(Code.INVALID_VALUE, where, f"{where} repeats an earlier {self.noun}")
                    ok = False
                seen.add(key)
            out.append(kept)
        return tuple(out) if ok else INVALID

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, list) or len(value) < max(self.min_items, 1):
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be a non-empty list")
            return
        for i, item in enumerate(value):
            self.item.check(item, f"{prop}[{i}]", found)

    def to_stix(self, value: Any) -> Any:
        return [self.item.to_stix(v) for v in value]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "minItems": max(self.min_items, 1), "items": self.item.schema()}

    def absent(self, value: Any) -> bool:
        return value is None


# What a member name looks like (STIX 2.1 section 3.1, lower case); others are not shown.
_MEMBER_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")


class Table(Type):
    """A table of ``kind = value``, kinds from ``kinds``, each value a ``member`` (``what``
    says so in a message: "kind = pseudonym"). In STIX a non-empty object."""

    stix_null_passes = False

    def __init__(self, kinds: Sequence[str], member: Type, what: str) -> None:
        self.kinds = tuple(kinds)
        self.member = member
        self.what = what

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any],
             skip: Iterable[str] = ()) -> Any:
        if not isinstance(value, Mapping):
            found.add(Code.WRONG_TYPE, path, f"{path} must be a table of {self.what}")
            return INVALID
        out: dict[str, Any] = {}
        ok = True
        for kind, item in value.items():
            where = f"{path}.{kind}"
            if kind in skip:
                continue
            if kind not in self.kinds:
                found.add(Code.UNKNOWN_PROPERTY, where,
                          f"{where}: unknown kind; expected one of {', '.join(self.kinds)}")
                ok = False
                continue
            kept = self.member_read(kind, item, where, found, raw)
            ok = ok and kept is not INVALID
            out[kind] = kept
        return out if ok else INVALID

    def member_read(self, kind: str, value: Any, path: str, found: Found,
                    raw: Mapping[str, Any]) -> Any:
        """One member's value as kept (a subclass may read it by its kind)."""
        return self.member.read(value, path, found, raw)

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, dict) or not value:
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be a non-empty object")
            return
        for kind, item in value.items():
            if kind not in self.kinds:
                shown = _MEMBER_NAME_RE.match(kind) is not None if isinstance(kind, str) else False
                found.add(Code.UNKNOWN_PROPERTY, f"{prop}.{kind}" if shown else prop,
                          f"{prop!r} has unknown member "
                          f"{repr(kind) if shown else _UNSHOWN}"
                          f" (allowed: {', '.join(self.kinds)})")
            else:
                self.member.check(item, f"{prop}.{kind}", found)

    def schema(self) -> dict[str, Any]:
        return {"type": "object",
                "properties": {kind: self.member.schema() for kind in self.kinds},
                "additionalProperties": False, "minProperties": 1}

    def absent(self, value: Any) -> bool:
        return value is None


#: The JSON Schema definitions :meth:`Type.schema` refers to.
SCHEMA_DEFS: dict[str, Any] = {
    "timestamp": {"type": "string", "pattern": Timestamp.PATTERN, "format": "date-time"},
    "identity_ref": {"type": "string", "pattern": _id_pattern(("identity",))},
    "pseudonym": {"type": "string", "pattern": "^({}|{})$".format(
        *(r.pattern.removeprefix("^").removesuffix(r"\Z") for r in (HMAC_PSEUDONYM_RE, POPRF_PSEUDONYM_RE)))},
}


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class When:
    """A condition on another fact: it ``equals`` a value (or one of a tuple of values), or is
    given and ``not_equals`` one. The facts judge it on the other fact's value as read (a TLP
    name given as ``TLP:RED`` is ``red``)."""

    name: str
    equals: str | tuple[str, ...] | None = None
    not_equals: str | None = None

    def _among(self) -> tuple[str, ...]:
        assert self.equals is not None
        return self.equals if isinstance(self.equals, tuple) else (self.equals,)

    def holds(self, values: Mapping[str, Any]) -> bool:
        if self.name not in values or values[self.name] is None:
            return False
        if self.equals is not None:
            return values[self.name] in self._among()
        return bool(values[self.name] != self.not_equals)

    def __str__(self) -> str:
        """As the facts' messages say it: "acquisition is reseller", "tlp is amber or
        amber+strict"."""
        if self.equals is not None:
            return f"{self.name} is {' or '.join(self._among())}"
        return f"{self.name} is not {self.not_equals!r}"

    def stix_text(self) -> str:
        """As the STIX messages say it: "acquisition is 'reseller'"."""
        if self.equals is not None:
            return f"{self.name} is {' or '.join(map(repr, self._among()))}"
        return f"{self.name} is not {self.not_equals!r}"

    def because(self, values: Mapping[str, Any], known: Sequence[str]) -> str:
        """Why it holds, as the STIX messages say it: "action_taken is 'suspended'" (a value
        outside ``known`` is not shown: "action_taken is set")."""
        value = values[self.name]
        if self.equals is not None or value in known:
            return f"{self.name} is {value!r}"
        return f"{self.name} is set"

    def schema_if(self) -> dict[str, Any]:
        test: dict[str, Any]
        if self.equals is None:
            test = {"not": {"const": self.not_equals}}
        elif isinstance(self.equals, tuple):
            test = {"enum": list(self.equals)}
        else:
            test = {"const": self.equals}
        return {"properties": {self.name: test}, "required": [self.name]}


@dataclass(frozen=True)
class Stix:
    """The STIX property a fact becomes: its ``name``, its ``type`` when it is not the fact's
    (the facts' resources become ``abused_resource_refs``), when the property is ``required``
    and when it is allowed (``only_when``). ``derived``: the builder makes its value (from
    pseudonyms or other objects), it is not the fact's value written as STIX."""

    name: str
    type: Type | None = None
    required: bool | When = False
    only_when: When | None = None
    derived: bool = False
    help: str = ""


@dataclass(frozen=True)
class Form:
    """How a fact is shown on a form (the web page's filing form): its ``label``, the
    ``section`` it goes in (a group of fields, by its heading; the fields of a section come in
    the order of the table), its ``hint`` (default: the fact's ``help``), and ``rows`` for a
    text typed over several lines. What kind of field it is follows from the fact's type."""

    label: str
    section: str = ""
    hint: str | None = None
    rows: int = 0


@dataclass(frozen=True)
class Fact:
    """One field of a kind of facts (see :func:`fact`); ``name`` is the dataclass field's."""

    type: Type
    required: bool | When = False
    only_when: When | None = None
    alternative: str | None = None
    stix: Stix | None = None
    help: str = ""
    secret: bool = False
    form: Form | None = None
    name: str = ""

    @property
    def stix_type(self) -> Type:
        """The type of the STIX property."""
        assert self.stix is not None
        return self.stix.type or self.type


def fact(type: Type, *, required: bool | When = False, only_when: When | None = None,
         alternative: str | None = None, stix: Stix | None = None, help: str = "",
         secret: bool = False, form: Form | None = None, default: Any = MISSING,
         default_factory: Any = MISSING) -> Any:
    """A field of a :class:`Facts` dataclass.

    ``required``: True, or a :class:`When`; a field without ``default`` must also be present
    in :meth:`Facts.from_mapping`'s table. ``only_when``: the field may only be given when the
    condition holds. ``alternative``: the path of another fact that may be given instead (not
    both), e.g. ``"pseudonyms.provider_account"``; then the field is required only without it.
    ``stix``: the STIX property it becomes. ``secret``: a personal value (kept out of repr).
    ``form``: how a form shows it (:class:`Form`; without it, a form labels it by its name).
    """
    spec = Fact(type, required, only_when, alternative, stix, help, secret, form)
    return field(default=default, default_factory=default_factory, repr=not secret,
                 metadata={"fact": spec})


class Rule(Protocol):
    """A rule over several facts (a :class:`Facts` class's ``rules``): it adds its problems to
    ``found``, judging the facts as read (``values``: name -> value, :data:`INVALID` for a value
    refused, None for one not given)."""

    def apply(self, values: Mapping[str, Any], found: Found) -> None: ...


def _given(value: Any) -> bool:
    """Whether a fact as read was given (a refused value was; false and an empty list were not)."""
    return value is not None and value is not False and value != () and value != {}


@dataclass(frozen=True)
class RequiredWith:
    """A rule: the fact ``name`` is required when any of the facts ``others`` is given, and
    allowed only then (a custodian for the choices of a marking)."""

    name: str
    others: tuple[str, ...]

    def __init__(self, name: str, *others: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "others", others)

    def _others(self) -> str:
        return ", ".join(self.others[:-1]) + f" or {self.others[-1]}" if len(self.others) > 1 else self.others[0]

    def apply(self, values: Mapping[str, Any], found: Found) -> None:
        wanted = any(_given(values.get(o)) for o in self.others)
        given = _given(values.get(self.name))
        if wanted and not given:
            found.add(Code.MISSING_PROPERTY, self.name, f"{self.name} is required with {self._others()}")
        elif given and not wanted:
            found.add(Code.PROPERTY_COMBINATION, self.name,
                      f"{self.name} is only allowed with {self._others()}")


@dataclass(frozen=True)
class Order:
    """A rule: the timestamps ``names`` come in this order (equal is in order)."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)

    def apply(self, values: Mapping[str, Any], found: Found) -> None:
        given = [(n, values[n]) for n in self.names
                 if values.get(n) is not None and values[n] is not INVALID]
        for (earlier, a), (later, b) in zip(given, given[1:], strict=False):
            if b < a:
                order = f" (in the order {' <= '.join(self.names)})" if len(self.names) > 2 else ""
                found.add(Code.TIMESTAMP_ORDER, later, f"{later} is earlier than {earlier}{order}")
                return


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    """The value at ``name.member`` (None where there is none)."""
    name, _, member = path.partition(".")
    value = values.get(name)
    if member:
        return value.get(member) if isinstance(value, Mapping) else None
    return value


class Model:
    """The table of a :class:`Facts` class, and the engine that reads and checks by it."""

    def __init__(self, cls: type[Facts]) -> None:
        self.cls = cls
        specs = []
        for f in fields(cls):
            spec = f.metadata.get("fact")
            if spec is None:
                raise TypeError(f"{cls.__name__}.{f.name} is not declared with fact()")
            specs.append(dataclasses.replace(spec, name=f.name))
        #: The facts, in the order of the class.
        self.facts: tuple[Fact, ...] = tuple(specs)
        self.by_name = {f.name: f for f in self.facts}
        #: The names a table given to :meth:`Facts.from_mapping` must hold.
        self.present = tuple(f.name for f in fields(cls)
                             if f.default is MISSING and f.default_factory is MISSING)
        self.rules = cls.rules

    def read(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """Every fact of ``raw`` (name -> value as given, None for not given) read by its type,
        and every problem of the facts."""
        found = Found()
        values: dict[str, Any] = {}
        for spec in self.facts:
            values[spec.name] = self._read_one(spec, raw, found)
        # A condition (When) is judged on the other fact as read, where it was read.
        judged = {**raw, **{k: v for k, v in values.items() if v is not None and v is not INVALID}}
        for spec in self.facts:
            self._presence(spec, raw, judged, found)
        for rule in self.rules:
            rule.apply(values, found)
        return values, found.problems

    @staticmethod
    def _read_one(spec: Fact, raw: Mapping[str, Any], found: Found) -> Any:
        value = raw.get(spec.name)
        if value is None:
            return None
        if isinstance(spec.type, Table) and spec.alternative:
            # A member given as a value and as a pseudonym is one problem, not two.
            others = _lookup(raw, spec.alternative)
            both = [k for k in value if isinstance(others, Mapping) and k in others] \
                if isinstance(value, Mapping) else []
            for kind in both:
                found.add(Code.PROPERTY_COMBINATION, f"{spec.name}.{kind}",
                          f"{spec.name}.{kind}: give the value or its pseudonym "
                          f"({spec.alternative}.{kind}), not both")
            return spec.type.read(value, spec.name, found, raw, skip=both)
        return spec.type.read(value, spec.name, found, raw)

    @staticmethod
    def _presence(spec: Fact, raw: Mapping[str, Any], judged: Mapping[str, Any], found: Found) -> None:
        value = raw.get(spec.name)
        name = spec.name
        if spec.alternative and not isinstance(spec.type, Table) \
                and _lookup(raw, spec.alternative) is not None:
            if value is not None:
                found.add(Code.PROPERTY_COMBINATION, name,
                          f"{name}: give the value or its pseudonym ({spec.alternative}), not both")
            return
        absent = spec.type.absent(value)
        if spec.required is True and absent:
            or_else = f" (or its pseudonym, {spec.alternative})" if spec.alternative else ""
            found.add(Code.MISSING_PROPERTY, name, f"{name} {spec.type.required_message}{or_else}")
        elif isinstance(spec.required, When) and absent and spec.required.holds(judged):
            found.add(Code.MISSING_PROPERTY, name, f"{name} is required when {spec.required}")
        if spec.only_when is not None and value is not None and not spec.only_when.holds(judged):
            found.add(Code.PROPERTY_COMBINATION, name, f"{name} is only allowed when {spec.only_when}")

    # -- the STIX properties --------------------------------------------------------------------

    def stix_properties(self) -> tuple[tuple[Stix, Type], ...]:
        """``(property, type)`` of every fact that becomes a STIX property, in table order."""
        return tuple((f.stix, f.stix_type) for f in self.facts if f.stix is not None)

    def stix_values(self, facts: Facts, derived: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The STIX properties ``facts`` become, in table order: each fact given, in its STIX
        form; a ``derived`` property takes its value from ``derived`` (left out when empty)."""
        out: dict[str, Any] = {}
        for f in self.facts:
            if f.stix is None:
                continue
            if f.stix.derived:
                made = (derived or {}).get(f.stix.name)
                if made:
                    out[f.stix.name] = made
                continue
            value = getattr(facts, f.name)
            if not f.type.absent(value):
                out[f.stix.name] = f.type.to_stix(value)
        return out


class StixShape:
    """The properties ``props`` of a STIX object (or of an extension's body), compiled once
    for :meth:`check`: nothing else is allowed."""

    __slots__ = ("checks", "conditional", "known", "props", "required")

    def __init__(self, props: Sequence[tuple[Stix, Type]]) -> None:
        self.props = tuple(props)
        self.known = frozenset(s.name for s, _t in self.props)
        self.required = tuple(s.name for s, _t in self.props if s.required is True)
        self.checks = tuple((s.name, t.check, t.stix_null_passes) for s, t in self.props)
        types = {s.name: t for s, t in self.props}
        # (name, required when, allowed only when, the condition's vocabulary)
        self.conditional = tuple(
            (s.name, s.required if isinstance(s.required, When) else None, s.only_when,
             types[s.required.name].choices if isinstance(s.required, When) and s.required.name in types else ())
            for s, _t in self.props if isinstance(s.required, When) or s.only_when is not None)

    def check(self, body: Mapping[str, Any], found: Found) -> None:
        """Every way ``body`` breaks the properties."""
        for name in self.required:
            if name not in body:
                found.add(Code.MISSING_PROPERTY, name, f"missing required property {name!r}")
        if not self.known.issuperset(body):
            for prop in body:
                if prop not in self.known:
                    shown = isinstance(prop, str) and _MEMBER_NAME_RE.match(prop) is not None
                    found.add(Code.UNKNOWN_PROPERTY, prop if shown else "",
                              f"unknown property {repr(prop) if shown else _UNSHOWN}")
        for name, check, null_passes in self.checks:
            value = body.get(name, _ABSENT)
            if value is not _ABSENT and not (value is None and null_passes):
                check(value, name, found)
        for name, required, only, known in self.conditional:
            if required is not None and name not in body and required.holds(body):
                found.add(Code.MISSING_PROPERTY, name,
                          f"missing required property {name!r} ({required.because(body, known)})")
            if only is not None and name in body and not only.holds(body):
                found.add(Code.PROPERTY_COMBINATION, name, f"{name!r} is only allowed when {only.stix_text()}")


_ABSENT = object()
_UNSHOWN = "(a name that is not a property name, not shown)"


def check_stix(props: Sequence[tuple[Stix, Type]], body: Mapping[str, Any], found: Found) -> None:
    """Every way the STIX object ``body`` breaks the properties ``props`` (a closed set); see
    :class:`StixShape` to check many."""
    StixShape(props).check(body, found)


def stix_schema(props: Sequence[tuple[Stix, Type]]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an object holding ``props`` and nothing else."""
    properties: dict[str, Any] = {}
    for s, t in props:
        properties[s.name] = {**t.schema(), **({"description": s.help} if s.help else {})}
    conditions: list[dict[str, Any]] = []
    for s, _t in props:
        if isinstance(s.required, When):
            rule: dict[str, Any] = {"if": s.required.schema_if(), "then": {"required": [s.name]}}
            if s.only_when == s.required:
                rule["else"] = {"not": {"required": [s.name]}}
            conditions.append(rule)
        if s.only_when is not None and s.only_when != s.required:
            conditions.append({"if": {"not": s.only_when.schema_if()},
                               "then": {"not": {"required": [s.name]}}})
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [s.name for s, _t in props if s.required is True],
        "additionalProperties": False,
    }
    if conditions:
        schema["allOf"] = conditions
    return schema


# -- facts ------------------------------------------------------------------------------------


class InvalidFacts(BadRequest, ValueError):
    """Facts are incomplete or wrong. ``found`` holds every :class:`Problem` (its ``property``
    is the path of the fact: ``"resources[2]"``, ``"personal.email"``; ``""`` for the facts as
    a whole); ``str(problem)`` is its message, one line. Messages name fields, never personal
    values."""

    #: The facts, as a message names them ("the report facts must be a table").
    about: ClassVar[str] = "facts"
    #: The start of the one-line message.
    lead: ClassVar[str] = "invalid facts"

    def __init__(self, found: Sequence[Problem]) -> None:
        self.found: list[Problem] = list(found)
        super().__init__(f"{self.lead}: " + "; ".join(p.message for p in self.found))


@dataclass(frozen=True)
class Facts:
    """Base of the kinds of facts: a frozen dataclass whose fields are :func:`fact` s, checked
    on construction (raising ``invalid`` with every problem)."""

    #: The error raised for facts with problems.
    invalid: ClassVar[type[InvalidFacts]] = InvalidFacts
    #: Rules over several facts (e.g. :class:`Order`, :class:`RequiredWith`).
    rules: ClassVar[tuple[Rule, ...]] = ()

    def __post_init__(self) -> None:
        model = self.model()
        values, problems = model.read({f.name: getattr(self, f.name) for f in model.facts})
        if problems:
            raise self.invalid(problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def model(cls) -> Model:
        """The table of this kind of facts."""
        return _model(cls)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Facts from a parsed TOML (or JSON) table with the field names of this class.

        Unknown fields are refused (a typo must not silently drop a fact), and the fields
        without a default must be there. Raises ``invalid`` listing every problem.
        """
        if not isinstance(data, Mapping):
            raise cls.invalid([Problem(Code.WRONG_TYPE, f"the {cls.invalid.about} must be a table")])
        model = cls.model()
        problems = [Problem(Code.UNKNOWN_PROPERTY, f"unknown field {key!r}", str(key))
                    for key in data if key not in model.by_name]
        problems += [Problem(Code.MISSING_PROPERTY, f"missing required field {name!r}", name)
                     for name in model.present if name not in data]
        if problems:
            raise cls.invalid(problems)
        return cls(**dict(data))


_MODELS: dict[type[Facts], Model] = {}


def _model(cls: type[Facts]) -> Model:
    model = _MODELS.get(cls)
    if model is None:
        model = _MODELS[cls] = Model(cls)
    return model
