"""The facts of a notice from an agency to the providers, and of a provider's acknowledgement.

:class:`NoticeFacts` is what an agency says in a notice (the TOML file of ``abusehub notice
issue``): its kind (a special measure, a preservation or information request, an advisory), whom
it addresses, its scope, its dates and its legal reference. :class:`AckFacts` is a provider's
answer to one notice. Both are tables of :func:`~hub.stix.facts.fact` declarations, read by the
same engine as a report's facts (:mod:`hub.stix.facts`): from each table come the checks of the
facts (every problem a :class:`~hub.common.problems.Problem` whose ``property`` is the path of the
fact), the STIX properties the builder writes (:mod:`hub.stix.notice`), the hub's check of those
properties on ingest and the JSON Schemas shipped in ``schemas/notice/``
(``tools/gen_notice_schema.py``).

Scope values are normalised here, the way a provider's tools normalise their own records before
matching (:func:`normal_reseller_name`, :func:`normal_registration`): resellers are businesses,
named in clear by legal name, country and optional registration number; accounts and personal
values are keyed pseudonyms whose key version is part of the pseudonym; IP ranges are CIDR blocks
(host bits zero) or addresses; domains match themselves and their sub-domains.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hub.common.problems import Code
from hub.stix.facts import (
    INVALID,
    Boolean,
    Choice,
    Country,
    Facts,
    Found,
    FreeText,
    Integer,
    InvalidFacts,
    ListOf,
    Marking,
    OpenVocabulary,
    Order,
    Pseudonym,
    Stix,
    StixId,
    Table,
    Text,
    Timestamp,
    Type,
    When,
    fact,
    got,
)
from hub.stix.patterns import pattern_errors
from hub.stix.report_facts import classify_resource

__all__ = [
    "ACK_STATUSES",
    "ACK_TYPE",
    "AckFacts",
    "InvalidAckFacts",
    "InvalidNoticeFacts",
    "MEASURES",
    "NOTICE_KINDS",
    "NOTICE_TYPE",
    "NoticeFacts",
    "REQUEST_KINDS",
    "RESPONSES",
    "ROSTER_STATES",
    "ROSTER_TYPE",
    "RosterFacts",
    "RESPONSE_FOR",
    "SCOPE_FACTS",
    "SCOPE_PSEUDONYM_KINDS",
    "normal_registration",
    "normal_reseller_name",
]

#: The STIX type of a notice (a new SDO of the hub's notice extension).
NOTICE_TYPE = "abusehub-notice"
#: The STIX type of a provider's acknowledgement of a notice.
ACK_TYPE = "abusehub-notice-ack"
#: The STIX type of a hub's roster of a notice: the providers it serves that the notice
#: addresses, and where each stands (signed by that hub's key, for the issuing agency).
ROSTER_TYPE = "abusehub-notice-roster"

NOTICE_KINDS = ("special-measure", "preservation-request", "information-request", "advisory")
REQUEST_KINDS = ("preservation-request", "information-request")
#: The measures a special measure suggests (an open vocabulary: others are allowed in STIX).
MEASURES = ("prohibit-new-accounts", "restrict", "enhanced-verification", "terminate")
#: The answers of a provider to a notice.
ACK_STATUSES = ("received", "applied", "not-applicable", "objection")
#: A provider's response to a request (an acknowledgement's ``response``), and the request
#: kind each one answers: what was preserved (with the provider's preservation reference), or
#: the answer to an information request as pseudonymised facts.
RESPONSES = ("preserved", "answered")
RESPONSE_FOR = {"preserved": "preservation-request", "answered": "information-request"}
#: Where an addressee stands in a hub's roster (as its hub's clock says).
ROSTER_STATES = ("pending", "received", "applied", "not-applicable", "objection", "overdue", *RESPONSES)
#: The kinds of values a notice names by pseudonym (the key version is in each pseudonym).
SCOPE_PSEUDONYM_KINDS = ("provider_account", "email", "phone", "payment_instrument")
#: The facts that make up a special measure's scope: at least one is given.
SCOPE_FACTS = ("jurisdictions", "resellers", "account_pseudonyms", "ip_ranges", "domains")

_SPECIAL = When("notice_kind", "special-measure")
_REQUEST = When("notice_kind", REQUEST_KINDS)
_ADVISORY = When("notice_kind", "advisory")
_RED = When("tlp", "red")
_PRESERVED = When("response", "preserved")
_ANSWERED = When("response", "answered")


class InvalidNoticeFacts(InvalidFacts):
    """The facts of a notice are incomplete or wrong; ``found`` lists each problem."""

    about = "notice facts"
    lead = "invalid notice"


class InvalidRosterFacts(InvalidFacts):
    """The facts of a roster are incomplete or wrong; ``found`` lists each problem."""

    about = "roster facts"
    lead = "invalid roster"


class InvalidAckFacts(InvalidFacts):
    """The facts of an acknowledgement are incomplete or wrong; ``found`` lists each problem."""

    about = "acknowledgement facts"
    lead = "invalid acknowledgement"


# -- normal forms ------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^0-9a-z]+")
_NOT_REG = re.compile(r"[^0-9A-Z]+")
_MAX_NAME = 300


def normal_reseller_name(value: str) -> str:
    """A business's legal name as both sides compare it: Unicode NFKC, accents dropped, case
    folded, every run of other characters one space ("Resell-Co., Ltd" -> "resell co ltd")."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normal_registration(value: str) -> str:
    """A registration number as both sides compare it: letters and digits only, upper case."""
    return _NOT_REG.sub("", unicodedata.normalize("NFKC", value).upper())


# -- types of the notice's values ------------------------------------------------------------------


class Reseller(Type):
    """A reseller: a table of ``name``, ``country`` (ISO 3166 alpha-2) and optional
    ``registration_number``, kept in normal form; in STIX the same object, already normal."""

    stix_null_passes = False
    _MEMBERS: ClassVar[tuple[str, ...]] = ("name", "country", "registration_number")

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if not isinstance(value, Mapping):
            found.add(Code.WRONG_TYPE, path, f"{path} must be a table of name, country and "
                                             "registration_number (optional)")
            return INVALID
        ok = True
        for key in value:
            if key not in self._MEMBERS:
                found.add(Code.UNKNOWN_PROPERTY, f"{path}.{key}",
                          f"{path}.{key}: unknown member; expected name, country, registration_number")
                ok = False
        name = value.get("name")
        normal = normal_reseller_name(name) if isinstance(name, str) else ""
        if not normal or len(normal) > _MAX_NAME:
            found.add(Code.MISSING_PROPERTY if name is None else Code.INVALID_VALUE, f"{path}.name",
                      f"{path}.name must be the reseller's legal name (1 to {_MAX_NAME} letters or digits)")
            ok = False
        country = Country.normal(value.get("country"))
        if country is None:
            found.add(Code.NOT_IN_VOCABULARY, f"{path}.country",
                      f"{path}.country must be an ISO 3166-1 alpha-2 code such as 'DE'")
            ok = False
        out = {"name": normal, "country": country}
        reg = value.get("registration_number")
        if reg is not None:
            reg_normal = normal_registration(reg) if isinstance(reg, str) else ""
            if not reg_normal or len(reg_normal) > 64:
                found.add(Code.INVALID_VALUE, f"{path}.registration_number",
                          f"{path}.registration_number must hold 1 to 64 letters or digits")
                ok = False
            out["registration_number"] = reg_normal
        return out if ok else INVALID

    def key(self, value: Any) -> Any:
        return (value["name"], value["country"], value.get("registration_number"))

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, dict):
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be an object; {got(value)}")
            return
        for key in value:
            if key not in self._MEMBERS:
                found.add(Code.UNKNOWN_PROPERTY, prop, f"{prop!r} has an unknown member "
                          "(allowed: name, country, registration_number)")
        name = value.get("name")
        if not (isinstance(name, str) and name and len(name) <= _MAX_NAME and normal_reseller_name(name) == name):
            found.add(Code.INVALID_VALUE, f"{prop}.name",
                      f"'{prop}.name' must be a legal name in normal form (lower case letters and "
                      f"digits, single spaces); {got(name)}")
        if not (isinstance(value.get("country"), str) and Country.normal(value["country"]) == value["country"]):
            found.add(Code.NOT_IN_VOCABULARY, f"{prop}.country",
                      f"'{prop}.country' must be an ISO 3166-1 alpha-2 code in upper case; "
                      f"{got(value.get('country'))}")
        if "registration_number" in value:
            reg = value["registration_number"]
            if not (isinstance(reg, str) and reg and len(reg) <= 64 and normal_registration(reg) == reg):
                found.add(Code.INVALID_VALUE, f"{prop}.registration_number",
                          f"'{prop}.registration_number' must be upper-case letters and digits; {got(reg)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "object",
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": _MAX_NAME,
                                        "pattern": "^[0-9a-z\u00aa-\uffff]+( [0-9a-z\u00aa-\uffff]+)*$"},
                               "country": Country().schema(),
                               "registration_number": {"type": "string", "pattern": "^[0-9A-Z]{1,64}$"}},
                "required": ["name", "country"], "additionalProperties": False}


class ListOfTables(ListOf):
    """A list of tables (each read by ``item``), at least one, unique by the item's key."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            found.add(Code.WRONG_TYPE, path, f"{path} must be a list of at least one {self.noun}")
            return INVALID
        out: list[Any] = []
        seen: set[Any] = set()
        for i, item in enumerate(value):
            kept = self.item.read(item, f"{path}[{i}]", found, raw)
            if kept is INVALID:
                continue
            if self.item.key(kept) in seen:
                found.add(Code.INVALID_VALUE, f"{path}[{i}]", f"{path}[{i}] repeats an earlier {self.noun}")
            seen.add(self.item.key(kept))
            out.append(kept)
        return tuple(out) if len(out) == len(value) and len(seen) == len(out) else INVALID


class Lists(Table):
    """A table of ``kind = [values]`` (its members lists), written to STIX as lists."""

    def to_stix(self, value: Any) -> Any:
        return {kind: self.member.to_stix(items) for kind, items in value.items()}


class _Resource(Type):
    """A value :func:`~hub.stix.report_facts.classify_resource` reads as one of ``kinds``, kept
    in its canonical form; in STIX, the canonical form."""

    noun: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()
    pattern: ClassVar[str] = ""

    def normal(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        try:
            kind, text = classify_resource(value)
        except ValueError:
            return None
        return text if kind in self.kinds else None

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        normal = self.normal(value)
        if normal is None:
            found.add(Code.INVALID_VALUE, path, f"{path} must be {self.noun}")
            return INVALID
        return normal

    def check(self, value: Any, prop: str, found: Found) -> None:
        if self.normal(value) != value:
            found.add(Code.INVALID_VALUE, prop, f"{prop!r} must be {self.noun} in canonical form; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern}


class IpRange(_Resource):
    """An IPv4 or IPv6 address or CIDR block (host bits zero)."""

    noun = "an IP address or CIDR block (host bits zero)"
    kinds = ("ipv4-addr", "ipv6-addr")
    pattern = "^[0-9a-f.:]+(/[0-9]{1,3})?$"


class Domain(_Resource):
    """A domain name (lower case, an IDN in punycode); it covers its sub-domains."""

    noun = "a domain name (e.g. example.com)"
    kinds = ("domain-name",)
    pattern = "^[a-z0-9-]+(\\.[a-z0-9-]+)+$"


class Pattern(Text):
    """A STIX 2.1 pattern (an indicator's)."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if super().read(value, path, found, raw) is INVALID:
            return INVALID
        if pattern_errors(value):
            found.add(Code.INVALID_PATTERN, path, f"{path} is not a valid STIX 2.1 pattern")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, str) or pattern_errors(value):
            found.add(Code.INVALID_PATTERN, prop, f"{prop!r} must be a STIX 2.1 pattern; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


class Words(Text):
    """Text in STIX: a non-empty string of at most ``limit`` characters."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if super().read(value, path, found, raw) is INVALID:
            return INVALID
        if len(value) > self.limit:
            found.add(Code.OUT_OF_RANGE, path, f"{path} must be at most {self.limit} characters")
            return INVALID
        return value

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > self.limit:
            found.add(Code.WRONG_TYPE, prop,
                      f"{prop!r} must be a non-empty string of at most {self.limit} characters; {got(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.limit, "pattern": "\\S"}


class Prose(FreeText, Words):
    """Free text every addressee reads: no personal data in it."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if Words.read(self, value, path, found, raw) is INVALID:
            return INVALID
        return FreeText.read(self, value, path, found, raw)


# -- rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnyOf:
    """A rule: when ``condition`` holds, at least one of the facts ``names`` is given."""

    condition: When
    names: tuple[str, ...]

    def apply(self, values: Mapping[str, Any], found: Found) -> None:
        if not self.condition.holds(values):
            return
        if not any(values.get(n) not in (None, (), {}) for n in self.names):
            found.add(Code.MISSING_PROPERTY, self.names[0],
                      f"a {self.condition.equals} names at least one of {', '.join(self.names)}"
                      if isinstance(self.condition.equals, str) else
                      f"one of {', '.join(self.names)} is required when {self.condition}")


# -- the tables ----------------------------------------------------------------------------------------


def _stix(name: str, help: str, **kw: Any) -> Stix:
    return Stix(name, help=help, **kw)


@dataclass(frozen=True, kw_only=True)
class NoticeFacts(Facts):
    """What an agency says in a notice: one field per fact, in the order of the STIX properties."""

    invalid: ClassVar[type[InvalidFacts]] = InvalidNoticeFacts
    rules: ClassVar[tuple[Any, ...]] = (
        Order("effective_from", "effective_until"),
        AnyOf(_SPECIAL, SCOPE_FACTS),
        AnyOf(_REQUEST, ("account_pseudonyms", "report_ref")),
    )

    issuer_identity_id: str = fact(
        StixId("identity"), required=True, help="The issuing agency's identity id (--as).")
    notice_kind: str = fact(
        Choice(NOTICE_KINDS, "notice kind"), required=True,
        stix=_stix("notice_kind", "What the notice is.", required=True))
    title: str = fact(
        Prose(300), required=True, stix=_stix("name", "A short title.", required=True))
    description: str | None = fact(
        Prose(), required=_ADVISORY, default=None,
        stix=_stix("description", "The notice in words (an advisory's text).", required=_ADVISORY))
    legal_reference: str | None = fact(
        Words(1000), required=_SPECIAL, default=None,
        stix=_stix("legal_reference", "The order, statute or authority the notice rests on.",
                   required=_SPECIAL))
    addressee_refs: tuple[str, ...] | None = fact(
        ListOf(StixId("identity"), "addressee", unique=True), required=_RED, default=None,
        stix=_stix("addressee_refs", "The provider identities the notice addresses; absent: every "
                                     "provider party of the hubs that carry its collection."))
    measures: tuple[str, ...] | None = fact(
        ListOf(Choice(MEASURES, "measure"), "measure", unique=True), required=_SPECIAL,
        only_when=_SPECIAL, default=None,
        stix=_stix("measures", "What the addressees do (measure-ov, open).",
                   type=ListOf(OpenVocabulary("measure-ov", MEASURES), "measure"),
                   required=_SPECIAL, only_when=_SPECIAL))
    jurisdictions: tuple[str, ...] | None = fact(
        ListOf(Country(), "jurisdiction", unique=True), only_when=_SPECIAL, default=None,
        stix=_stix("jurisdictions", "Designated jurisdictions, ISO 3166-1 alpha-2: accounts declared "
                                    "in them.", only_when=_SPECIAL))
    resellers: tuple[dict[str, str], ...] | None = fact(
        ListOfTables(Reseller(), "reseller"), only_when=_SPECIAL, default=None,
        stix=_stix("resellers", "Designated resellers (businesses, in clear, normalised): accounts "
                                "obtained through them.", only_when=_SPECIAL))
    account_pseudonyms: dict[str, tuple[str, ...]] | None = fact(
        Lists(SCOPE_PSEUDONYM_KINDS, ListOf(Pseudonym(), "pseudonym", unique=True), "kind = [pseudonyms]"),
        only_when=When("notice_kind", ("special-measure", *REQUEST_KINDS)), default=None,
        stix=_stix("account_pseudonyms", "Accounts and personal values the notice is about, by kind, "
                                         "as keyed pseudonyms (each names its key version).",
                   only_when=When("notice_kind", ("special-measure", *REQUEST_KINDS))))
    ip_ranges: tuple[str, ...] | None = fact(
        ListOf(IpRange(), "IP range", unique=True), only_when=_SPECIAL, default=None,
        stix=_stix("ip_ranges", "Addresses or CIDR blocks: accounts seen using them.", only_when=_SPECIAL))
    domains: tuple[str, ...] | None = fact(
        ListOf(Domain(), "domain", unique=True), only_when=_SPECIAL, default=None,
        stix=_stix("domains", "Domains (and their sub-domains): accounts seen using them.",
                   only_when=_SPECIAL))
    report_ref: str | None = fact(
        StixId("report"), only_when=_REQUEST, default=None,
        stix=_stix("report_ref", "The report of the account a request is about.", only_when=_REQUEST))
    requested: str | None = fact(
        Prose(), required=_REQUEST, only_when=_REQUEST, default=None,
        stix=_stix("requested", "What to preserve, or what to answer.", required=_REQUEST,
                   only_when=_REQUEST))
    respond_by: datetime | None = fact(
        Timestamp(), required=_REQUEST, only_when=_REQUEST, default=None,
        stix=_stix("respond_by", "When the request is due.", required=_REQUEST, only_when=_REQUEST))
    indicator_patterns: tuple[str, ...] | None = fact(
        ListOf(Pattern(), "pattern", unique=True), only_when=_ADVISORY, default=None,
        stix=_stix("indicator_patterns", "An advisory's indicators, as STIX patterns.", only_when=_ADVISORY))
    effective_from: datetime | None = fact(
        Timestamp(), required=_SPECIAL, default=None,
        stix=_stix("effective_from", "When the notice takes effect.", required=_SPECIAL))
    effective_until: datetime | None = fact(
        Timestamp(), default=None, stix=_stix("effective_until", "When it ends (absent: until withdrawn)."))
    acknowledge_by: datetime | None = fact(
        Timestamp(), default=None,
        stix=_stix("acknowledge_by", "When addressees must have answered (default: respond_by, else "
                                     "effective_from)."))
    supersedes_ref: str | None = fact(
        StixId("abusehub-notice"), default=None,
        stix=_stix("supersedes_ref", "The notice this one replaces."))
    withdrawn: bool = fact(
        Boolean(), default=False, stix=_stix("withdrawn", "The notice no longer applies."))
    tlp: str = fact(Marking(), default="amber", help="Who may read the notice (red: the addressees only).")


@dataclass(frozen=True, kw_only=True)
class AckFacts(Facts):
    """A provider's answer to one notice."""

    invalid: ClassVar[type[InvalidFacts]] = InvalidAckFacts

    notice_ref: str = fact(StixId(NOTICE_TYPE), required=True,
                           stix=_stix("notice_ref", "The notice answered.", required=True))
    notice_modified: datetime = fact(
        Timestamp(), required=True,
        stix=_stix("notice_modified", "The version of the notice answered (its modified).", required=True))
    status: str = fact(Choice(ACK_STATUSES, "status"), required=True,
                       stix=_stix("status", "The provider's answer.", required=True))
    accounts_affected: int | None = fact(
        Integer(0, 1_000_000_000), default=None,
        stix=_stix("accounts_affected", "How many of the provider's accounts the notice affects."))
    note: str | None = fact(Prose(2000), default=None, stix=_stix("note", "A note to the issuing agency."))
    response: str | None = fact(
        Choice(RESPONSES, "response"), default=None,
        stix=_stix("response", "A response to a request: preserved (a preservation-request) or answered "
                               "(an information-request)."))
    preservation_reference: str | None = fact(
        Words(200), required=_PRESERVED, only_when=_PRESERVED, default=None,
        stix=_stix("preservation_reference", "The provider's reference of what it preserved.",
                   required=_PRESERVED, only_when=_PRESERVED))
    preserved_until: datetime | None = fact(
        Timestamp(), only_when=_PRESERVED, default=None,
        stix=_stix("preserved_until", "Until when the provider keeps what it preserved.",
                   only_when=_PRESERVED))
    answer_pseudonyms: dict[str, tuple[str, ...]] | None = fact(
        Lists(SCOPE_PSEUDONYM_KINDS, ListOf(Pseudonym(), "pseudonym", unique=True), "kind = [pseudonyms]"),
        required=_ANSWERED, only_when=_ANSWERED, default=None,
        stix=_stix("answer_pseudonyms", "The answer to an information request: the account's values, by "
                                        "kind, as keyed pseudonyms (each names its key version).",
                   required=_ANSWERED, only_when=_ANSWERED))


class RosterEntry(Type):
    """One addressee in a hub's roster: ``identity_ref``, ``name`` (the party's name at that hub)
    and ``state`` (:data:`ROSTER_STATES`)."""

    stix_null_passes = False
    _MEMBERS: ClassVar[tuple[str, ...]] = ("identity_ref", "name", "state")

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        before = len(found.problems)
        self.check(value, path, found)
        return dict(value) if len(found.problems) == before else INVALID

    def key(self, value: Any) -> Any:
        return value["identity_ref"]

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, Mapping):
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be an object of identity_ref, name and state")
            return
        for key in value:
            if key not in self._MEMBERS:
                found.add(Code.UNKNOWN_PROPERTY, prop, f"{prop!r} has an unknown member "
                          "(allowed: identity_ref, name, state)")
        StixId("identity").check(value.get("identity_ref"), f"{prop}.identity_ref", found)
        name = value.get("name")
        if not (isinstance(name, str) and 0 < len(name) <= 200):
            found.add(Code.INVALID_VALUE, f"{prop}.name", f"'{prop}.name' must be 1 to 200 characters; {got(name)}")
        if value.get("state") not in ROSTER_STATES:
            found.add(Code.NOT_IN_VOCABULARY, f"{prop}.state",
                      f"'{prop}.state' must be one of {', '.join(ROSTER_STATES)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "object",
                "properties": {"identity_ref": StixId("identity").schema(),
                               "name": {"type": "string", "minLength": 1, "maxLength": 200},
                               "state": {"enum": list(ROSTER_STATES)}},
                "required": ["identity_ref", "name", "state"], "additionalProperties": False}


class Roster(ListOf):
    """A roster's addressees: a list of :class:`RosterEntry`, one entry per identity; empty (the
    hub serves none of the addressees) in the facts, absent in STIX (no empty lists there)."""

    def __init__(self) -> None:
        super().__init__(RosterEntry(), "addressee", min_items=0, unique=True)

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            found.add(Code.WRONG_TYPE, path, f"{path} must be a list of addressees")
            return INVALID
        before = len(found.problems)
        self._entries(list(value), path, found)
        return tuple(dict(v) for v in value) if len(found.problems) == before else INVALID

    def check(self, value: Any, prop: str, found: Found) -> None:
        if not isinstance(value, list):
            found.add(Code.WRONG_TYPE, prop, f"{prop!r} must be a list; {got(value)}")
            return
        if not value:  # STIX: absent rather than empty
            found.add(Code.INVALID_VALUE, prop, f"{prop!r} must not be an empty list (leave it out)")
        self._entries(value, prop, found)

    def _entries(self, value: list[Any], prop: str, found: Found) -> None:
        seen: set[Any] = set()
        for i, item in enumerate(value):
            before = len(found.problems)
            self.item.check(item, f"{prop}[{i}]", found)
            if len(found.problems) == before:
                if self.item.key(item) in seen:
                    found.add(Code.INVALID_VALUE, f"{prop}[{i}]", f"'{prop}[{i}]' repeats an earlier addressee")
                seen.add(self.item.key(item))

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "minItems": 1, "items": self.item.schema()}

    def absent(self, value: Any) -> bool:
        return not value


@dataclass(frozen=True, kw_only=True)
class RosterFacts(Facts):
    """A hub's roster of one notice it carries from another hub: the providers it serves that
    the notice addresses and where each stands by its clock (``as_of``); made and signed by
    the hub (its key), marked TLP:RED for the issuing agency."""

    invalid: ClassVar[type[InvalidFacts]] = InvalidRosterFacts

    notice_ref: str = fact(StixId(NOTICE_TYPE), required=True,
                           stix=_stix("notice_ref", "The notice.", required=True))
    notice_modified: datetime = fact(
        Timestamp(), required=True,
        stix=_stix("notice_modified", "The version of the notice the roster is of.", required=True))
    as_of: datetime = fact(Timestamp(), required=True,
                           stix=_stix("as_of", "When the hub computed the states (its clock).", required=True))
    addressees: tuple[dict[str, str], ...] = fact(
        Roster(), default=(),
        stix=_stix("addressees", "Each provider the hub serves that the notice addresses, with its state "
                                 "(absent: none)."))
