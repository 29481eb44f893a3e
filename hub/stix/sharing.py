"""Who may read an object: its audience, computed once from its markings, and who it admits.

An object version's **audience** is what its markings say about its readers, normalised:

- its TLP level (TLP 2.0, or TLP 1.0 with WHITE = CLEAR; several TLP markings: the highest);
- the hub's sharing extension (:data:`~hub.stix.extensions.SHARING_EXTENSION_ID`), a
  property-extension naming TLP:RED's ``recipients`` (identity ids) and the ``organisations``
  whose hubs may receive TLP:AMBER;
- the ACS 3.0 markings it references (marking-definitions carrying :data:`ACS_EXTENSION_ID`),
  each validated and normalised into an :class:`AcsPolicy`;
- the submitting party (its identity id and organisation).

An audience that restricts nothing (:attr:`Audience.is_open`: no TLP above GREEN and no ACS) is
:data:`OPEN`, stored as audience 0, "every reader of the collection". Any other audience has a
canonical JSON form (RFC 8785) and a key (its SHA-256), so that the objects sharing one audience
share one row, and :func:`admits` says whether a :class:`Reader` (a party's attributes) is in it.

The rules (README "Markings"):

- TLP CLEAR/GREEN: open. AMBER and AMBER+STRICT: every reader that is not a peer; a peer (another
  hub) only if it enforces markings and its organisation is the submitter's, or, for AMBER, one
  the submitter named in ``organisations``. RED: the submitter and the named ``recipients``; a
  peer only if it enforces markings and serves a recipient. A peer that does not enforce
  markings is admitted to no audience but the open one.
- The submitter always reads what it submitted.
- ACS 3.0, for reading (privilege actions ``DSPLY`` and ``ALL``): no ``deny`` rule matches the
  reader, and a ``permit`` rule matches it or ``privdefault=permit``; and the ``control_set``
  admits it. A permit rule's ``privilege_scope`` matches when the reader matches every list
  present; a deny rule's when it matches any list present (the stricter reading of both). A
  reader attribute that is not known (no country, no entity, no shareability) matches no permit
  list and every deny list. ``further_sharing`` applies to peers only: a matching deny refuses,
  else a matching permit allows, else ``sharedefault``. An object with several ACS markings is
  read only by readers every one of them admits.
- ACS markings are validated fail closed (:func:`check_acs_definition`): every field of the ACS
  3.0 extension schema (oasis-open/cti-stix-common-objects,
  ``extension-definition-specifications/acs-data-markings/isa-acs-3-0.json``) with its patterns
  anchored, unknown fields refused everywhere, and ``control_set.classification`` must be ``U``.
- Granular markings are not enforced property by property: a granular ``marking_ref`` is
  accepted only when it restricts nothing beyond the object's own markings.
- Marking-definitions themselves carry only markings that restrict nothing.

Problems never quote a submitted value: they name the property and describe the value.
The module is pure: no store, no HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from hub.common.canonical import canonicalize
from hub.common.ids import is_stix_id
from hub.common.problems import Code, Problem
from hub.common.quoting import describe
from hub.common.timestamps import InvalidTimestamp, parse_timestamp_us
from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.markings import AMBER, AMBER_STRICT, GREEN, RED, TLP_LEVEL_BY_ID

__all__ = [
    "ACS_EXTENSION_ID",
    "CAVEATS",
    "CLASSIFICATIONS",
    "ENTITY_TYPES",
    "FORMAL_DETERMINATIONS",
    "OPEN",
    "PRIVILEGE_ACTIONS",
    "READER_KINDS",
    "SECTORS",
    "SENSITIVITIES",
    "SHAREABILITY",
    "AccessRule",
    "AcsPolicy",
    "Audience",
    "Reader",
    "SharingRule",
    "admits",
    "audience_of",
    "check_acs_definition",
    "check_sharing_extension",
    "is_acs_definition",
    "parse_acs",
    "recipients_of",
]

#: The ACS 3.0 data-marking property-extension of marking-definitions (AIS 2.0).
ACS_EXTENSION_ID: Final = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"

#: ACS entity types and shareability categories (the values a reader may hold).
ENTITY_TYPES: Final = ("MIL", "GOV", "CTR", "SVR", "SVC", "DEV", "NET")
SHAREABILITY: Final = ("NCC", "EM", "LE", "IC")
#: The kinds of party a reader is.
READER_KINDS: Final = ("provider", "agency", "peer", "operator", "hub")
PEER: Final = "peer"

#: The ACS 3.0 vocabularies (isa-acs-3-0.json).
CLASSIFICATIONS: Final = ("U", "C", "S", "TS")
FORMAL_DETERMINATIONS: Final = (
    "PUBREL", "NF", "AIS", "FOUO", "NO-PII-PRESENT", "PII-NECESSARY-TO-UNDERSTAND-THREAT",
    "INFORMATION-DIRECTLY-RELATED-TO-CYBERSECURITY-THREAT",
)
CAVEATS: Final = ("FISA", "POSSIBLEPII", "CISAPROPRIETARY")
SENSITIVITIES: Final = ("PCII", "LES", "INT", "PII", "PR", "TEI", "NTOC_DHS_ECYBER_SVC_SHARE.NSA.NSA")
PRIVILEGE_ACTIONS: Final = (
    "DSPLY", "IDSRC", "TENOT", "NETDEF", "LEGAL", "INTEL", "TEARLINE", "OPACTION", "REQUEST",
    "ANONYMOUSACCESS", "CISAUSES", "ALL",
)
#: Organisation categories of ACS Appendix A (no party attribute names them).
SECTORS: Final = ("CDC", "CIKR", "DIB", "FIN", "ISAC", "NONFED", "PRIVATESECTOR")
#: The privilege actions that govern reading.
READ_ACTIONS: Final = frozenset({"DSPLY", "ALL"})
PERMIT: Final = "permit"
DENY: Final = "deny"
ALL: Final = "ALL"

# The OASIS patterns, anchored with \Z (the schema's custodian pattern is not anchored, its
# identifier pattern's "A-z" range lets punctuation in; both are tightened here). Policy
# references: exactly one (the schema allows a space-separated repetition, whose defaults
# could disagree).
_UUID_ANY_CASE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
_IDENTIFIER_RE = re.compile(
    rf"^[iI][sS][aA]:[gG][uU][iI][dD][eE]\.(?:19001|999191)\.(?:[0-9A-Za-z]+-)?{_UUID_ANY_CASE}\Z")
_ORG_RE = re.compile(r"^[A-Z0-9]+\.[A-Z0-9]+(?:\.[A-Z0-9][A-Z0-9-]+)?\Z")
_POLICY_RE = re.compile(
    r"^urn:isa:policy:acs:ns:v3\.0\?privdefault=(permit|deny)&sharedefault=(permit|deny)\Z")
_AUTHORITY_RE = re.compile(r"^urn:isa:authority:[A-Za-z0-9_]+\Z")
_GENC_RE = re.compile(r"^[A-Z]{3}\Z")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,249}\Z")
# An organisation in the sharing extension: no control character, no space at either end
# (schemas/sharing/sharing.schema.json says the same).
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_ORGANISATION_RE = re.compile(rf"^[^\s{_CONTROL}](?:[^{_CONTROL}]*[^\s{_CONTROL}])?\Z")

_TLP_NAME: Final[dict[int, str]] = {AMBER: "amber", AMBER_STRICT: "amber+strict", RED: "red"}
_TLP_VALUES: Final = frozenset(_TLP_NAME.values())
_ORGANISATION_MAX = 200
_CANONICAL_VERSION = 1


# ---------------------------------------------------------------------------------------------
# The model.


@dataclass(frozen=True, slots=True)
class Reader:
    """What markings are judged against: one party's attributes."""

    identity_id: str
    kind: str  # provider | agency | peer | operator | hub
    organisation: str
    country: str | None = None  # GENC / ISO 3166 alpha-3, upper case
    entity: str | None = None  # one of ENTITY_TYPES
    shareability: tuple[str, ...] = ()
    terms_accepted: bool = False
    serves: tuple[str, ...] = ()  # peers: identity ids of the parties the peer hub serves
    enforces_markings: bool = False  # peers: the peer is a hub that enforces markings


def _content(value: Any) -> bytes:
    """JSON bytes with sorted keys: equal for equal content (an order and a cache key; the
    stored form is :meth:`Audience.canonical`, RFC 8785). Raises ``TypeError`` for what JSON
    cannot hold."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _sorted_unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _opt_sorted(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else _sorted_unique(values)


@dataclass(frozen=True, slots=True)
class AccessRule:
    """One ACS ``access_privilege`` rule that governs reading (``DSPLY`` or ``ALL``): its
    effect and the scope lists present (None: absent; ``("ALL",)``: anyone)."""

    effect: str
    nationalities: tuple[str, ...] | None = None
    organizations: tuple[str, ...] | None = None
    shareability: tuple[str, ...] | None = None
    entity: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"effect": self.effect}
        for name in _SCOPE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessRule:
        return cls(data["effect"], *(_opt_tuple(data.get(name)) for name in _SCOPE_FIELDS))


_SCOPE_FIELDS: Final = ("nationalities", "organizations", "shareability", "entity")


def _opt_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@dataclass(frozen=True, slots=True)
class SharingRule:
    """One ACS ``further_sharing`` rule."""

    effect: str
    scope: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AcsPolicy:
    """A validated ACS 3.0 marking, normalised to what decides reading (hashable).

    ``access`` holds the reading rules only (``DSPLY``/``ALL``); lists are sorted and without
    repeats, rules sorted, so that one marking has one form. The control-set lists that are
    None were absent.
    """

    identifier: str
    custodian: str
    privdefault: str = DENY
    sharedefault: str = DENY
    access: tuple[AccessRule, ...] = ()
    further_sharing: tuple[SharingRule, ...] = ()
    entity: tuple[str, ...] | None = None
    shareability: tuple[str, ...] | None = None
    formal_determination: tuple[str, ...] = ()
    caveat: tuple[str, ...] = ()
    sensitivity: tuple[str, ...] = ()
    nationalities: tuple[str, ...] | None = None  # control_set permitted_nationalities
    organizations: tuple[str, ...] | None = None  # control_set permitted_organizations

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "identifier": self.identifier, "custodian": self.custodian,
            "privdefault": self.privdefault, "sharedefault": self.sharedefault,
            "access": [rule.to_json() for rule in self.access],
            "further_sharing": [{"effect": r.effect, "scope": list(r.scope)}
                                for r in self.further_sharing],
            "formal_determination": list(self.formal_determination),
            "caveat": list(self.caveat), "sensitivity": list(self.sensitivity),
        }
        for name in ("entity", "shareability", "nationalities", "organizations"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcsPolicy:
        return cls(
            identifier=data["identifier"], custodian=data["custodian"],
            privdefault=data["privdefault"], sharedefault=data["sharedefault"],
            access=tuple(AccessRule.from_json(r) for r in data["access"]),
            further_sharing=tuple(SharingRule(r["effect"], tuple(r["scope"]))
                                  for r in data["further_sharing"]),
            entity=_opt_tuple(data.get("entity")),
            shareability=_opt_tuple(data.get("shareability")),
            formal_determination=tuple(data["formal_determination"]),
            caveat=tuple(data["caveat"]), sensitivity=tuple(data["sensitivity"]),
            nationalities=_opt_tuple(data.get("nationalities")),
            organizations=_opt_tuple(data.get("organizations")),
        )

    def sort_key(self) -> tuple[str, bytes]:
        return self.identifier, _content(self.to_json())


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may read an object version (see the module text). Normalised on construction:
    ``recipients`` and ``organisations`` sorted without repeats, ``acs`` sorted by identifier
    (then content) without repeats."""

    tlp: str | None  # "amber" | "amber+strict" | "red" | None
    submitter: str = ""  # identity id of the submitting party
    submitter_org: str = ""
    recipients: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    acs: tuple[AcsPolicy, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.tlp is not None and self.tlp not in _TLP_VALUES:
            raise ValueError(f"an audience's tlp is amber, amber+strict, red or None, not {self.tlp!r}")
        object.__setattr__(self, "recipients", _sorted_unique(self.recipients))
        object.__setattr__(self, "organisations", _sorted_unique(self.organisations))
        acs = set(self.acs)
        object.__setattr__(self, "acs", tuple(sorted(acs, key=AcsPolicy.sort_key))
                           if len(acs) > 1 else tuple(acs))

    @property
    def is_open(self) -> bool:
        """Restricts nothing: stored as audience 0, every reader of the collection."""
        return self.tlp is None and not self.acs

    def to_json(self) -> dict[str, Any]:
        return {
            "v": _CANONICAL_VERSION, "tlp": self.tlp, "submitter": self.submitter,
            "submitter_org": self.submitter_org, "recipients": list(self.recipients),
            "organisations": list(self.organisations), "acs": [p.to_json() for p in self.acs],
        }

    def canonical(self) -> str:
        """The canonical JSON (RFC 8785) of this audience."""
        return canonicalize(self.to_json()).decode("utf-8")

    def key(self) -> str:
        """SHA-256 (hex) of :meth:`canonical`: one key per audience."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    @classmethod
    def from_canonical(cls, text: str) -> Audience:
        """The audience whose :meth:`canonical` is ``text``. Raises ``ValueError`` for text
        that is not one."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != _CANONICAL_VERSION:
                raise ValueError("not an audience of version 1")
            return cls(
                tlp=data["tlp"], submitter=data["submitter"], submitter_org=data["submitter_org"],
                recipients=tuple(data["recipients"]), organisations=tuple(data["organisations"]),
                acs=tuple(AcsPolicy.from_json(p) for p in data["acs"]),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not the canonical form of an audience: {exc}") from None


#: The audience that restricts nothing (audience 0).
OPEN: Final[Audience] = Audience(None)


# ---------------------------------------------------------------------------------------------
# Checking the hub's sharing extension.


def _sharing_problem(code: str, where: str, prop: str, message: str) -> Problem:
    path = f"{where}.{prop}" if prop else where
    return Problem(code, f"sharing extension{' ' + prop if prop else ''}: {message}", path)


def _name_of(key: Any) -> str:
    """A submitted property name as a message may show it (or a description)."""
    if isinstance(key, str) and _NAME_RE.match(key):
        return repr(key)
    return f"({describe(key)}, not shown)"


def _unique_strings(value: Any, prop: str, where: str, item_ok: Callable[[Any], bool],
                    one: str, many: str) -> list[Problem]:
    if not isinstance(value, list) or not value:
        return [_sharing_problem(Code.WRONG_TYPE, where, prop,
                                 f"must be a non-empty list of {many}; got {describe(value)}")]
    problems = [
        _sharing_problem(Code.INVALID_VALUE, where, f"{prop}[{i}]",
                         f"must be {one}; got {describe(item)} that is not")
        for i, item in enumerate(value) if not item_ok(item)
    ]
    if not problems and len(set(value)) != len(value):
        problems.append(_sharing_problem(Code.INVALID_VALUE, where, prop,
                                         "must not name the same value twice"))
    return problems


def _is_organisation(value: Any) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= _ORGANISATION_MAX
            and _ORGANISATION_RE.match(value) is not None)


def check_sharing_extension(body: Any, where: str = f"extensions[{SHARING_EXTENSION_ID!r}]") -> list[Problem]:
    """Every way ``body`` breaks the hub's sharing extension (empty: none).

    ``where`` is the extension's path, as the validator names it. The body holds
    ``extension_type`` ``"property-extension"`` and at least one of ``recipients`` (identity
    ids) and ``organisations`` (1 to 200 characters, no control character, no space at either
    end), each a
    non-empty list without repeats; nothing else.
    """
    if not isinstance(body, dict):
        return [_sharing_problem(Code.WRONG_TYPE, where, "", f"must be a JSON object; got {describe(body)}")]
    problems: list[Problem] = []
    if "extension_type" not in body:
        problems.append(_sharing_problem(Code.MISSING_PROPERTY, where, "extension_type",
                                         "is required ('property-extension')"))
    elif body["extension_type"] != "property-extension":
        problems.append(_sharing_problem(Code.INVALID_VALUE, where, "extension_type",
                                         "must be 'property-extension'"))
    if "recipients" in body:
        problems += _unique_strings(body["recipients"], "recipients", where,
                                    lambda v: is_stix_id(v, "identity"),
                                    "an identity id (identity--<uuid>)", "identity ids")
    if "organisations" in body:
        problems += _unique_strings(body["organisations"], "organisations", where, _is_organisation,
                                    "an organisation name (1-200 characters, no control "
                                    "character, no space at either end)", "organisation names")
    if "recipients" not in body and "organisations" not in body:
        problems.append(_sharing_problem(Code.PROPERTY_COMBINATION, where, "",
                                         "needs 'recipients', 'organisations' or both"))
    for key in body:
        if key not in ("extension_type", "recipients", "organisations"):
            problems.append(Problem(Code.UNKNOWN_PROPERTY,
                                    f"sharing extension: unknown property {_name_of(key)}", where))
    return problems


def _sharing_body(obj: dict[str, Any]) -> Any:
    exts = obj.get("extensions")
    if isinstance(exts, dict):
        return exts.get(SHARING_EXTENSION_ID)
    return None


def recipients_of(obj: dict[str, Any]) -> tuple[str, ...]:
    """The identity ids the sharing extension of ``obj`` names as recipients (sorted, without
    repeats; empty when there is none or it is malformed)."""
    body = _sharing_body(obj)
    if not isinstance(body, dict):
        return ()
    value = body.get("recipients")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return ()
    return _sorted_unique(value)


def _organisations_of(body: Any) -> tuple[str, ...]:
    value = body.get("organisations") if isinstance(body, dict) else None
    if not isinstance(value, list):
        return ()
    return _sorted_unique(v for v in value if isinstance(v, str))


# ---------------------------------------------------------------------------------------------
# Checking ACS 3.0 marking definitions, fail closed.

_ACS_WHERE: Final = f"extensions[{ACS_EXTENSION_ID!r}]"

_Check = Callable[[Any, str, "_Found"], None]


class _Found:
    """Problems of one ACS marking, each naming its field under the extension's path."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        prop = f"{_ACS_WHERE}.{path}" if path else _ACS_WHERE
        self.problems.append(Problem(Code.INVALID_ACS_MARKING,
                                     f"ACS marking {path or 'extension'}: {message}", prop))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string(value: Any, path: str, found: _Found) -> None:
    if not isinstance(value, str):
        found.add(path, f"must be a string; got {describe(value)}")


def _integer(value: Any, path: str, found: _Found) -> None:
    if type(value) is not int:
        found.add(path, f"must be an integer; got {describe(value)}")


def _timestamp(value: Any, path: str, found: _Found) -> None:
    try:
        parse_timestamp_us(value, path)
    except InvalidTimestamp:
        found.add(path, "must be a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z, UTC)")


def _const(wanted: str) -> _Check:
    def check(value: Any, path: str, found: _Found) -> None:
        if value != wanted:
            found.add(path, f"must be {wanted!r}")
    return check


def _pattern(regex: re.Pattern[str], what: str) -> _Check:
    def check(value: Any, path: str, found: _Found) -> None:
        if not isinstance(value, str):
            found.add(path, f"must be a string, {what}; got {describe(value)}")
        elif not regex.match(value):
            found.add(path, f"must be {what}; got {describe(value)} that is not")
    return check


def _enum(values: Iterable[str], what: str = "") -> _Check:
    allowed = tuple(values)
    listed = ", ".join(allowed)

    def check(value: Any, path: str, found: _Found) -> None:
        if not isinstance(value, str) or value not in allowed:
            found.add(path, f"must be {what or 'one of'} {listed}; got {describe(value)} "
                            "that is not (unknown values are refused)")
    return check


def _is_org(value: Any) -> bool:
    return isinstance(value, str) and (bool(_ORG_RE.match(value)) or value in SECTORS)


def _organization(value: Any, path: str, found: _Found) -> None:
    if not _is_org(value):
        found.add(path, "must be an organisation code such as USA.DHS (AAA.BBB[.CCC]) or one of "
                        f"{', '.join(SECTORS)}; got {describe(value)} that is not")


def _sharing_scope_item(value: Any, path: str, found: _Found) -> None:
    if not (_is_org(value) or value in ("FOREIGNGOV", "SECTOR")):
        found.add(path, "must be an organisation code such as USA.DHS, one of "
                        f"{', '.join(SECTORS)}, FOREIGNGOV or SECTOR; got {describe(value)} that is not")


def _list(item: _Check) -> _Check:
    def check(value: Any, path: str, found: _Found) -> None:
        if not isinstance(value, list) or not value:
            found.add(path, f"must be a non-empty list; got {describe(value)}")
            return
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]", found)
    return check


def _scope_list(item: _Check) -> _Check:
    """A privilege_scope list: values, or ``["ALL"]`` alone."""
    as_list = _list(item)

    def check(value: Any, path: str, found: _Found) -> None:
        if isinstance(value, list) and ALL in value:
            if len(value) != 1:
                found.add(path, "'ALL' must stand alone in its list")
            return
        as_list(value, path, found)
    return check


def _object(fields: Mapping[str, _Check], required: Iterable[str] = (),
            min_properties: int = 0) -> _Check:
    """A JSON object with these fields only (additionalProperties false)."""
    needed = tuple(required)

    def check(value: Any, path: str, found: _Found) -> None:
        if not isinstance(value, dict):
            found.add(path, f"must be a JSON object; got {describe(value)}")
            return
        for key in needed:
            if key not in value:
                found.add(_join(path, key), "is required")
        for key, element in value.items():
            sub = fields.get(key) if isinstance(key, str) else None
            if sub is None:
                found.add(path, f"unknown property {_name_of(key)} (fail closed: refused)")
            else:
                sub(element, _join(path, key), found)
        if len(value) < min_properties:
            found.add(path, f"must hold at least {min_properties} propert"
                            f"{'y' if min_properties == 1 else 'ies'}")
    return check


def _not_supported(why: str) -> _Check:
    def check(value: Any, path: str, found: _Found) -> None:
        found.add(path, f"is not supported by this hub ({why}): refused, fail closed")
    return check


def _classification(value: Any, path: str, found: _Found) -> None:
    if not isinstance(value, str) or value not in CLASSIFICATIONS:
        found.add(path, f"must be one of {', '.join(CLASSIFICATIONS)}; got {describe(value)} that is not")
    elif value != "U":
        found.add(path, "must be 'U': this hub takes unclassified markings only (fail closed)")


_GENC = _pattern(_GENC_RE, "a GENC country code of three upper-case letters")
_ENTITY = _enum(ENTITY_TYPES)
_SHAREABILITY = _enum(SHAREABILITY)

_PRIVILEGE_SCOPE_FIELDS: Final[dict[str, _Check]] = {
    "permitted_nationalities": _scope_list(_GENC),
    "permitted_organizations": _scope_list(_organization),
    "shareability": _scope_list(_SHAREABILITY),
    "entity": _scope_list(_ENTITY),
}
_object_privilege_scope = _object(_PRIVILEGE_SCOPE_FIELDS)


def _privilege_scope(value: Any, path: str, found: _Found) -> None:
    _object_privilege_scope(value, path, found)
    if isinstance(value, dict) and not any(k in value for k in _PRIVILEGE_SCOPE_FIELDS):
        found.add(path, "needs at least one of " + ", ".join(_PRIVILEGE_SCOPE_FIELDS))


_RULE_EFFECT = _enum((PERMIT, DENY))

_CONTROL_SET = _object({
    "classification": _classification,
    "formal_determination": _list(_enum(FORMAL_DETERMINATIONS)),
    "caveat": _list(_enum(CAVEATS)),
    "sensitivity": _list(_enum(SENSITIVITIES)),
    "shareability": _list(_SHAREABILITY),
    "entity": _list(_ENTITY),
    "permitted_nationalities": _list(_GENC),
    "permitted_organizations": _list(_organization),
    "sci_controls": _not_supported("SCI controls go with classified data"),
    "logical_authority_category": _not_supported("no party attribute carries an authority category"),
}, required=("classification",))

_ACS_BODY = _object({
    "extension_type": _const("property-extension"),
    "identifier": _pattern(_IDENTIFIER_RE, "isa:guide.19001. followed by an optional prefix "
                                           "such as ACS3- and a UUID"),
    "name": _string,
    "create_date_time": _timestamp,
    "responsible_entity_custodian": _pattern(_ORG_RE, "an organisation code such as USA.DHS "
                                                      "(AAA.BBB[.CCC])"),
    "responsible_entity_originator": _organization,
    "authority_reference": _list(_pattern(_AUTHORITY_RE, "urn:isa:authority: followed by a word")),
    "policy_reference": _pattern(_POLICY_RE, "urn:isa:policy:acs:ns:v3.0?privdefault=permit|deny"
                                             "&sharedefault=permit|deny (once)"),
    "original_classification": _object({
        "classified_by": _string, "classified_on": _timestamp,
        "classification_reason": _string, "compilation_reason": _string,
    }, required=("classified_by",)),
    "derivative_classification": _object({
        "classified_by": _string, "classified_on": _timestamp, "derived_from": _string,
    }, required=("classified_by", "derived_from")),
    "declassification": _object({
        "declass_exemption": _string, "declass_period": _integer, "declass_date": _timestamp,
        "declass_event": _string,
    }, min_properties=1),
    "resource_disposition": _object({
        "disposition_date": _timestamp, "disposition_process": _string,
    }, required=("disposition_date", "disposition_process")),
    "public_release": _object({"released_by": _string, "released_on": _timestamp},
                              required=("released_by",)),
    "access_privilege": _list(_object({
        "privilege_action": _enum(PRIVILEGE_ACTIONS),
        "privilege_scope": _privilege_scope,
        "rule_effect": _RULE_EFFECT,
    }, required=("privilege_action", "privilege_scope", "rule_effect"))),
    "further_sharing": _list(_object({
        "sharing_scope": _list(_sharing_scope_item),
        "rule_effect": _RULE_EFFECT,
    }, required=("sharing_scope", "rule_effect"))),
    "control_set": _CONTROL_SET,
}, required=("identifier", "create_date_time", "responsible_entity_custodian", "policy_reference",
             "control_set", "extension_type"))


def is_acs_definition(obj: Any) -> bool:
    """True if ``obj`` is a marking-definition carrying the ACS 3.0 extension."""
    if not isinstance(obj, dict) or obj.get("type") != "marking-definition":
        return False
    exts = obj.get("extensions")
    return isinstance(exts, dict) and ACS_EXTENSION_ID in exts


def check_acs_definition(obj: dict[str, Any]) -> list[Problem]:
    """Every way a marking-definition carrying the ACS 3.0 extension breaks the hub's ACS
    rules (empty: none), each a problem of code ``invalid-acs-marking`` naming its field.

    The extension body is checked against every field of the OASIS ACS 3.0 schema (anchored
    patterns, closed vocabularies, required fields, no unknown property at any level,
    ``further_sharing`` items included), ``control_set.classification`` must be ``U``, and
    the marking-definition holds no other extension and no ``definition_type``/``definition``
    (what else it says could restrict the object in ways the hub does not know).
    """
    found = _Found()
    if not is_acs_definition(obj):
        found.add("", "the ACS 3.0 extension applies only to a marking-definition, "
                      "inside its 'extensions'")
        return found.problems
    exts = obj["extensions"]
    if len(exts) != 1:
        found.problems.append(Problem(
            Code.INVALID_ACS_MARKING,
            "ACS marking: the marking-definition's extensions must hold only the ACS 3.0 extension",
            "extensions"))
    for prop in ("definition_type", "definition"):
        if prop in obj:
            found.problems.append(Problem(
                Code.INVALID_ACS_MARKING,
                f"ACS marking: a marking-definition carrying the ACS 3.0 extension must not have "
                f"{prop!r}", prop))
    _ACS_BODY(exts[ACS_EXTENSION_ID], "", found)
    return found.problems


def _scope_rule(effect: str, scope: dict[str, Any]) -> AccessRule:
    return AccessRule(
        effect,
        nationalities=_opt_sorted(scope.get("permitted_nationalities")),
        organizations=_opt_sorted(scope.get("permitted_organizations")),
        shareability=_opt_sorted(scope.get("shareability")),
        entity=_opt_sorted(scope.get("entity")),
    )


def _rule_key(rule: AccessRule | SharingRule) -> bytes:
    if isinstance(rule, SharingRule):
        return _content([rule.effect, list(rule.scope)])
    return _content(rule.to_json())


def parse_acs(obj: dict[str, Any]) -> AcsPolicy:
    """The :class:`AcsPolicy` of an ACS marking-definition. Raises ``ValueError`` (naming the
    first problem) when :func:`check_acs_definition` finds any."""
    problems = check_acs_definition(obj)
    if problems:
        raise ValueError(problems[0].message)
    body = obj["extensions"][ACS_EXTENSION_ID]
    match = _POLICY_RE.match(body["policy_reference"])
    assert match is not None  # checked above
    cs = body["control_set"]
    access = {_scope_rule(r["rule_effect"], r["privilege_scope"])
              for r in body.get("access_privilege", ()) if r["privilege_action"] in READ_ACTIONS}
    further = {SharingRule(r["rule_effect"], _sorted_unique(r["sharing_scope"]))
               for r in body.get("further_sharing", ())}
    return AcsPolicy(
        identifier=body["identifier"],
        custodian=body["responsible_entity_custodian"],
        privdefault=match.group(1),
        sharedefault=match.group(2),
        access=tuple(sorted(access, key=_rule_key)),
        further_sharing=tuple(sorted(further, key=_rule_key)),
        entity=_opt_sorted(cs.get("entity")),
        shareability=_opt_sorted(cs.get("shareability")),
        formal_determination=_sorted_unique(cs.get("formal_determination", ())),
        caveat=_sorted_unique(cs.get("caveat", ())),
        sensitivity=_sorted_unique(cs.get("sensitivity", ())),
        nationalities=_opt_sorted(cs.get("permitted_nationalities")),
        organizations=_opt_sorted(cs.get("permitted_organizations")),
    )


# ---------------------------------------------------------------------------------------------
# The audience of an object.


_JUDGED_MAX = 1024
_judged: dict[bytes, AcsPolicy | str] = {}


def _judged_acs(definition: dict[str, Any]) -> AcsPolicy | str:
    """The policy of a valid ACS marking-definition, or the first problem's message; kept by
    content (a bundle's objects mostly share a few markings, each checked once)."""
    try:
        content = _content(definition)
    except TypeError:  # orjson.JSONEncodeError: nothing a JSON document holds
        content = b""
    known = _judged.get(content) if content else None
    if known is not None:
        return known
    try:
        result: AcsPolicy | str = parse_acs(definition)
    except ValueError as exc:
        result = str(exc)
    if content:
        if len(_judged) >= _JUDGED_MAX:
            _judged.clear()  # atomic, unlike evicting one: readers may be in other threads
        _judged[content] = result
    return result


def _is_statement(definition: Any) -> bool:
    return (isinstance(definition, dict) and definition.get("definition_type") == "statement"
            and isinstance(definition.get("definition"), dict) and not definition.get("extensions"))


def _marking_of(ref: str, definitions: Mapping[str, dict[str, Any]],
                where: str) -> AcsPolicy | Problem | None:
    """The ACS policy of a non-TLP marking reference, None for a statement (which restricts
    nothing), or the problem."""
    definition = definitions.get(ref)
    if definition is None:
        return Problem(Code.UNKNOWN_MARKING,
                       f"unknown marking definition {ref}: refused (fail closed)", where)
    if is_acs_definition(definition):
        judged = _judged_acs(definition)
        if isinstance(judged, str):
            return Problem(Code.INVALID_ACS_MARKING,
                           f"marking definition {ref} is not an ACS 3.0 marking this hub enforces: "
                           f"{judged}", where)
        return judged
    if _is_statement(definition):
        return None
    return Problem(Code.UNKNOWN_MARKING,
                   f"marking definition {ref} is neither TLP, ACS 3.0 nor a statement: refused "
                   "(fail closed)", where)


def _object_refs(obj: dict[str, Any]) -> list[str] | Problem:
    refs = obj.get("object_marking_refs", [])
    if not isinstance(refs, list):
        return Problem(Code.INVALID_MARKING_REF,
                       "object_marking_refs must be a list of marking-definition ids",
                       "object_marking_refs")
    for i, ref in enumerate(refs):
        if not is_stix_id(ref, "marking-definition"):
            return Problem(Code.INVALID_MARKING_REF,
                           "object_marking_refs must hold marking-definition ids",
                           f"object_marking_refs[{i}]")
    return refs


def _granular_problem(obj: dict[str, Any], own: frozenset[str], level: int | None,
                      definitions: Mapping[str, dict[str, Any]]) -> Problem | None:
    """Why the granular markings of ``obj`` restrict more than its own markings, if they do."""
    granular = obj.get("granular_markings")
    if granular is None:
        return None
    if not isinstance(granular, list):
        return Problem(Code.INVALID_MARKING_REF, "granular_markings must be a list",
                       "granular_markings")
    ceiling = max(level if level is not None else GREEN, GREEN)
    for i, marking in enumerate(granular):
        if not isinstance(marking, dict) or "marking_ref" not in marking:
            continue  # a lang-only granular marking restricts nobody
        ref = marking["marking_ref"]
        if not is_stix_id(ref, "marking-definition"):
            return Problem(Code.INVALID_MARKING_REF, "granular_markings must hold marking-definition ids",
                           f"granular_markings[{i}].marking_ref")
        if ref in own or TLP_LEVEL_BY_ID.get(ref, RED + 1) <= ceiling:
            continue
        if _is_statement(definitions.get(ref)):
            continue
        return Problem(Code.GRANULAR_MARKING_NOT_ENFORCED,
                       "granular markings that restrict single properties are not enforced by "
                       "this hub: mark the whole object", f"granular_markings[{i}].marking_ref")
    return None


def _markings(obj: dict[str, Any], definitions: Mapping[str, dict[str, Any]]
              ) -> tuple[int | None, list[AcsPolicy]] | Problem:
    """The TLP level and the ACS policies of an object's markings, or the problem."""
    refs = _object_refs(obj)
    if isinstance(refs, Problem):
        return refs
    level: int | None = None
    acs: list[AcsPolicy] = []
    for i, ref in enumerate(refs):
        tlp = TLP_LEVEL_BY_ID.get(ref)
        if tlp is not None:
            level = tlp if level is None else max(level, tlp)
            continue
        marking = _marking_of(ref, definitions, f"object_marking_refs[{i}]")
        if isinstance(marking, Problem):
            return marking
        if marking is not None:
            acs.append(marking)
    problem = _granular_problem(obj, frozenset(refs), level, definitions)
    if problem is not None:
        return problem
    return level, acs


def _object_audience(obj: dict[str, Any], submitter: Reader,
                     definitions: Mapping[str, dict[str, Any]]) -> Audience | Problem:
    found = _markings(obj, definitions)
    if isinstance(found, Problem):
        return found
    level, acs = found
    if obj.get("type") == "marking-definition" and (acs or (level is not None and level > GREEN)):
        return Problem(Code.MARKING_DEFINITION_NOT_OPEN,
                       "a marking definition may carry only markings that restrict nothing "
                       "(TLP:CLEAR, TLP:GREEN, statements or none): every reader of an object must "
                       "be able to read the markings that govern it", "object_marking_refs")
    body = _sharing_body(obj)
    if body is not None:
        problems = check_sharing_extension(body)
        if problems:
            return problems[0]
    tlp = _TLP_NAME.get(level) if level is not None else None
    if tlp is None and not acs:
        return OPEN
    recipients = recipients_of(obj) if tlp == "red" else ()
    if tlp == "red" and not recipients:
        return Problem(Code.RED_WITHOUT_RECIPIENTS,
                       "a TLP:RED object must name its recipients (identity ids) in the sharing "
                       f"extension {SHARING_EXTENSION_ID}: 'recipients'",
                       f"extensions[{SHARING_EXTENSION_ID!r}].recipients")
    organisations = _organisations_of(body) if tlp == "amber" else ()
    return Audience(tlp, submitter.identity_id, submitter.organisation, recipients,
                    organisations, tuple(acs))


def audience_of(obj: dict[str, Any], submitter: Reader,
                definitions: Mapping[str, dict[str, Any]]) -> Audience | Problem:
    """The audience of ``obj`` submitted by ``submitter``, or why it is refused.

    ``definitions`` maps marking-definition ids to their objects for the references that are
    not TLP (from the store or the same envelope). Refused: a reference that is neither TLP, a
    known ACS 3.0 marking nor a statement (``unknown-marking``), an invalid ACS marking
    (``invalid-acs-marking``), TLP:RED without recipients (``red-without-recipients``), a
    granular marking that restricts more than the object's own (``granular-marking-not-enforced``),
    a malformed sharing extension (its check's first problem), and a marking-definition whose
    own markings restrict anything (``marking-definition-not-open``): a marking-definition's
    audience is :data:`OPEN`.
    """
    if not isinstance(obj, dict):
        return Problem(Code.NOT_AN_OBJECT, "an object must be a JSON object")
    return _object_audience(obj, submitter, definitions)


# ---------------------------------------------------------------------------------------------
# Who an audience admits.


def admits(audience: Audience, reader: Reader) -> bool:
    """True if ``reader`` may read an object version of ``audience`` (see the module text)."""
    if audience.is_open:
        return True
    if audience.submitter and reader.identity_id == audience.submitter:
        return True
    peer = reader.kind == PEER
    if peer and not reader.enforces_markings:
        return False
    if not _tlp_admits(audience, reader, peer):
        return False
    return all(_acs_admits(policy, reader, peer) for policy in audience.acs)


def _tlp_admits(audience: Audience, reader: Reader, peer: bool) -> bool:
    tlp = audience.tlp
    if tlp is None:
        return True
    if tlp == "red":
        recipients = audience.recipients
        if reader.identity_id in recipients:
            return True
        return peer and any(served in recipients for served in reader.serves)
    if not peer:
        return True
    org = reader.organisation
    if not org:
        return False
    if org == audience.submitter_org:
        return True
    return tlp == "amber" and org in audience.organisations


def _acs_admits(policy: AcsPolicy, reader: Reader, peer: bool) -> bool:
    if any(rule.effect == DENY and _scope_matches(rule, reader, deny=True) for rule in policy.access):
        return False
    permitted = policy.privdefault == PERMIT or any(
        rule.effect == PERMIT and _scope_matches(rule, reader, deny=False) for rule in policy.access)
    if not permitted or not _control_set_admits(policy, reader):
        return False
    return not peer or _further_sharing_admits(policy, reader)


def _org_matches(values: tuple[str, ...], reader: Reader, deny: bool) -> bool:
    # A sector names organisations by a property no party carries: a permit never matches
    # it, a deny always does (the stricter reading), whatever the reader's organisation is.
    if deny and (not reader.organisation or any(v in SECTORS for v in values)):
        return True
    names = (reader.organisation, reader.identity_id)
    return any(v in names for v in values if v and v not in SECTORS)


def _list_matches(name: str, values: tuple[str, ...], reader: Reader, deny: bool) -> bool:
    """Whether one scope list matches the reader; an unknown attribute matches a deny only."""
    if values == (ALL,):
        return True
    if name == "organizations":
        return _org_matches(values, reader, deny)
    if name == "shareability":
        return bool(set(reader.shareability) & set(values)) if reader.shareability else deny
    attribute = reader.country if name == "nationalities" else reader.entity
    return attribute in values if attribute else deny


def _scope_matches(rule: AccessRule, reader: Reader, deny: bool) -> bool:
    """A deny matches when any list present matches; a permit when every list does."""
    lists = [(name, getattr(rule, name)) for name in _SCOPE_FIELDS]
    results = (_list_matches(name, values, reader, deny) for name, values in lists
               if values is not None)
    return any(results) if deny else all(results)


def _control_set_admits(policy: AcsPolicy, reader: Reader) -> bool:
    if policy.entity is not None and reader.entity not in policy.entity:
        return False
    if policy.shareability is not None and not set(reader.shareability) & set(policy.shareability):
        return False
    if "NF" in policy.formal_determination and reader.country != "USA":
        return False
    if "AIS" in policy.formal_determination and not reader.terms_accepted:
        return False
    if "CISAPROPRIETARY" in policy.caveat and reader.organisation != policy.custodian:
        return False
    if policy.nationalities is not None and reader.country not in policy.nationalities:
        return False
    if policy.organizations is not None:
        return _org_matches(policy.organizations, reader, deny=False)
    return True


def _sharing_item_matches(item: str, reader: Reader, deny: bool) -> bool:
    if item == "FOREIGNGOV":
        return reader.country != "USA" if reader.country else deny
    if item == "SECTOR" or item in SECTORS:
        return deny
    return bool(reader.organisation) and item == reader.organisation


def _further_sharing_admits(policy: AcsPolicy, reader: Reader) -> bool:
    """``further_sharing`` for a peer: a matching deny refuses, else a matching permit allows,
    else ``sharedefault``."""
    rules = policy.further_sharing
    if any(r.effect == DENY and any(_sharing_item_matches(i, reader, True) for i in r.scope)
           for r in rules):
        return False
    if any(r.effect == PERMIT and any(_sharing_item_matches(i, reader, False) for i in r.scope)
           for r in rules):
        return True
    return policy.sharedefault == PERMIT
