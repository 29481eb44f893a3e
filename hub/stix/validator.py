"""Full STIX 2.1 validation of one object, fast enough for the ingest path.

:func:`validate` returns every error of an object as a :class:`~hub.common.problems.Problem`
with a stable code, the property at fault and a message that names both (``str()`` of a problem
is its message); an empty list means the object is valid. A message may quote the bad value
back (a malformed URL, a language tag): such problems say so (``quotes_value``) and carry the
same sentence with the value described instead (``without_value()``), for the places where
submitted values must not be repeated. Well-formed ids, timestamps and type names are quoted
freely. It builds on :func:`hub.stix.basics.check_basics` (id, type, spec_version,
created/modified) and adds, for the object types an abuse report uses
(identity, user-account with the IaaS-account extension, infrastructure, ipv4-addr, ipv6-addr,
domain-name, url, indicator, relationship, report, sighting, marking-definition,
extension-definition, note, and the hub's notices and acknowledgements):

* required properties and the JSON type of every defined property;
* timestamps, the millisecond precision of ``created``/``modified`` (section 3.2), and the
  ordering rules (``valid_until`` > ``valid_from``, ``stop_time`` > ``start_time``,
  ``last_seen`` >= ``first_seen``);
* identifiers and the object types each ``*_ref``/``*_refs`` may point to;
* closed vocabularies and enumerations (open vocabularies only suggest values, section 10);
* STIX patterns of indicators (cached by pattern string, see :mod:`hub.stix.patterns`);
* the common properties (labels, external_references, object_marking_refs, granular_markings,
  confidence, lang, revoked, extensions) and the naming rules for custom properties (3.1, 11.1);
* the extensions that decide who reads an object (:mod:`hub.stix.sharing`): the hub's sharing
  extension on any object, and ACS 3.0 on marking-definitions only, checked fail closed.

Other types get the basics and the common-property checks. The PyPI validators (stix2-validator,
stix2.parse) judge the same rules but are 25 to 200 times slower; tests hold this module to
stix2-validator's verdicts over a generated corpus.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection
from typing import Any

import idna  # IDNA 2008, as the OASIS schema's "idn-hostname" format

from hub.common.ids import id_type, is_stix_id, uuid_version
from hub.common.problems import Code, Problem
from hub.common.quoting import json_type as _tn
from hub.common.timestamps import InvalidTimestamp, fraction_digits, parse_timestamp_us
from hub.stix.basics import SCO_TYPES, InvalidObject, check_basics
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.iaas import check_iaas_extension
from hub.stix.notice import check_notice_object
from hub.stix.notice_facts import ACK_TYPE, NOTICE_TYPE
from hub.stix.patterns import SUPPORTED_PATTERN_VERSIONS, pattern_errors
from hub.stix.sharing import ACS_EXTENSION_ID, check_acs_definition, check_sharing_extension
from hub.stix.vocab import (
    EXTENSION_TYPES,
    TLP1_CREATED,
    TLP1_MARKINGS,
    TLP2_EXTENSION_ID,
    TLP2_MARKINGS,
)

__all__ = ["validate", "is_valid"]

Check = Callable[[Any, str, list[Problem]], None]

# ---------------------------------------------------------------------------------------------
# Shapes of values. Identifiers and timestamps are hub.common's grammars (is_stix_id,
# parse_timestamp_us), the ones every part of the hub uses. Every pattern is anchored with \Z,
# not $, which also matches before a final newline.

# Section 6 / 7.3: predefined (and STIX 2.0 style) extension names end in "-ext".
_PREDEFINED_EXT_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext\Z")
# Section 3.1: property names are ASCII a-z, 0-9 and "_", 3 to 250 long, starting with a letter.
_PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{2,249}\Z")
_BINARY_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)\Z")
_HEX_RE = re.compile(r"^(?:[a-fA-F0-9]{2})+\Z")
_RELATIONSHIP_TYPE_RE = re.compile(r"^[a-z0-9-]+\Z")
_SELECTOR_RE = re.compile(r"^(?:[a-z0-9_-]{3,249}(?:\.(?:\[[0-9]+\]|[a-z0-9_-]{1,250}))*|id)\Z")
_INDEX_RE = re.compile(r"^\[([0-9]+)\]\Z")
_HASH_KEY_RE = re.compile(r"^[a-zA-Z0-9_-]{3,250}\Z")
_HASH_VALUE_RES = {
    "MD5": re.compile(r"^[a-fA-F0-9]{32}\Z"),
    "SHA-1": re.compile(r"^[a-fA-F0-9]{40}\Z"),
    "SHA-256": re.compile(r"^[a-fA-F0-9]{64}\Z"),
    "SHA-512": re.compile(r"^[a-fA-F0-9]{128}\Z"),
    "SHA3-256": re.compile(r"^[a-fA-F0-9]{64}\Z"),
    "SHA3-512": re.compile(r"^[a-fA-F0-9]{128}\Z"),
    "SSDEEP": re.compile(r"^[a-zA-Z0-9/+:.]{1,128}\Z"),
    "TLSH": re.compile(r"^[a-zA-Z0-9]{70}\Z"),
}
_CVE_RE = re.compile(r"^CVE-[0-9]{4}-(?:0[0-9]{3}|[1-9][0-9]{3,})\Z")
_CAPEC_RE = re.compile(r"^CAPEC-[0-9]+\Z")
# RFC 5646 language tag (well-formed, without the irregular grandfathered tags).
_LANG_RE = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+)\Z"
)
_IPV4_RE = re.compile(
    r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    r"(?:/(?:3[0-2]|[12]?[0-9]))?\Z"
)
# RFC 1123 host name, ASCII letters-digits-hyphen labels; anything else goes through IDNA 2008.
_LDH_NAME_RE = re.compile(
    r"^(?=.{1,253}\.?\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?\Z"
)
# RFC 3986 section 3: scheme ":" hier-part [ "?" query ] [ "#" fragment ].
_U = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_U}:@]|{_PCT})"
_URI_RE = re.compile(
    rf"^[A-Za-z][A-Za-z0-9+.\-]*:"
    rf"(?://(?:(?:[{_U}:]|{_PCT})*@)?(?:\[(?P<literal>[^\]/?#@]*)\]|(?:[{_U}]|{_PCT})*)"
    rf"(?::[0-9]*)?(?:/{_PCHAR}*)*"
    rf"|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
    rf"|{_PCHAR}+(?:/{_PCHAR}*)*"
    rf"|)"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:\#(?:{_PCHAR}|[/?])*)?\Z"
)
_IPVFUTURE_RE = re.compile(rf"^[vV][0-9A-Fa-f]+\.[{_U}:]+\Z")


def _is_int(value: Any) -> bool:
    # JSON has one number type: 50.0 is the integer 50 (as JSON Schema's "integer" agrees).
    return type(value) is int or (type(value) is float and value.is_integer())


# ---------------------------------------------------------------------------------------------
# Checks of one property value. Each appends problems naming ``prop`` and returns nothing.


def _quoting(code: str, prop: str, value: Any, sentence: Callable[[str], str]) -> Problem:
    # A message that repeats a submitted value (which may be anything, personal data too).
    return Problem.quoting(code, prop, value, sentence)


def _wrong_type(prop: str, wanted: str, value: Any) -> Problem:
    return Problem(Code.WRONG_TYPE, f"{prop} must be {wanted}, got {_tn(value)}", prop)


def _missing(prop: str, where: str = "", because: str = "") -> Problem:
    path = f"{where}.{prop}" if where else prop
    text = f"{where}: missing required property {prop!r}" if where else f"missing required property {prop!r}"
    return Problem(Code.MISSING_PROPERTY, text + (f" ({because})" if because else ""), path)


def _str(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))


def _bool(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, bool):
        errors.append(_wrong_type(prop, "a boolean", value))


def _dict(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, dict):
        errors.append(_wrong_type(prop, "an object", value))


def _int_range(low: int, high: int) -> Check:
    def check(value: Any, prop: str, errors: list[Problem]) -> None:
        if not _is_int(value):
            errors.append(_wrong_type(prop, "an integer", value))
        elif not low <= value <= high:
            errors.append(_quoting(Code.OUT_OF_RANGE, prop, value,
                                   lambda v: f"{prop} must be between {low} and {high}, got {v}"))

    return check


def _timestamp(value: Any, prop: str, errors: list[Problem]) -> None:
    try:
        parse_timestamp_us(value, prop)
    except InvalidTimestamp as e:
        errors.append(e.problem)  # quotes only a value shaped like a date, never personal data


def _str_list(value: Any, prop: str, errors: list[Problem]) -> None:
    # Section 2.7 (list): empty lists are prohibited.
    if not isinstance(value, list) or not value:
        errors.append(_wrong_type(prop, "a non-empty list of strings", value))
        return
    for i, item in enumerate(value):
        if not isinstance(item, str):
            errors.append(_wrong_type(f"{prop}[{i}]", "a string", item))


def _ref_problem(value: Any, prop: str, allowed: frozenset[str] | None,
                 forbidden: frozenset[str]) -> Problem | None:
    if not isinstance(value, str):
        return _wrong_type(prop, "an identifier string", value)
    ref_type = id_type(value)
    if ref_type is None:
        return _quoting(Code.INVALID_ID, prop, value,
                        lambda v: f"{prop} {v} is not an identifier of the form type--uuid")
    # A well-formed id's type part is a type name: quoting it repeats nothing personal.
    if allowed is not None and ref_type not in allowed:
        return Problem(Code.WRONG_REF_TYPE,
                       f"{prop} must refer to {' or '.join(sorted(allowed))}, not {ref_type!r}", prop)
    if ref_type in forbidden:
        return Problem(Code.WRONG_REF_TYPE, f"{prop} must not refer to a {ref_type!r}", prop)
    return None


def _ref(allowed: set[str] | None = None, forbidden: Collection[str] = ()) -> Check:
    allowed_f = frozenset(allowed) if allowed is not None else None
    forbidden_f = frozenset(forbidden)

    def check(value: Any, prop: str, errors: list[Problem]) -> None:
        problem = _ref_problem(value, prop, allowed_f, forbidden_f)
        if problem is not None:
            errors.append(problem)

    return check


def _ref_list(allowed: set[str] | None = None, forbidden: Collection[str] = ()) -> Check:
    allowed_f = frozenset(allowed) if allowed is not None else None
    forbidden_f = frozenset(forbidden)

    def check(value: Any, prop: str, errors: list[Problem]) -> None:
        if not isinstance(value, list) or not value:
            errors.append(_wrong_type(prop, "a non-empty list of identifiers", value))
            return
        for i, item in enumerate(value):
            problem = _ref_problem(item, f"{prop}[{i}]", allowed_f, forbidden_f)
            if problem is not None:
                errors.append(problem)

    return check


def _lang(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))
    elif not _LANG_RE.match(value):
        errors.append(_quoting(Code.INVALID_VALUE, prop, value,
                               lambda v: f"{prop} {v} is not an RFC 5646 language tag"))


def _uri(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))
        return
    m = _URI_RE.match(value)
    ok = m is not None
    if ok and m is not None and m.group("literal") is not None:
        literal = m.group("literal")
        if not _IPVFUTURE_RE.match(literal):
            try:
                ok = "%" not in literal and bool(ipaddress.IPv6Address(literal))
            except ValueError:
                ok = False
    if not ok:
        errors.append(_quoting(Code.INVALID_VALUE, prop, value,
                               lambda v: f"{prop} {v} is not a URI (RFC 3986)"))


def _hashes(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, dict) or not value:
        errors.append(_wrong_type(prop, "a non-empty object of hash values", value))
        return
    for algo, digest in value.items():
        if not _HASH_KEY_RE.match(algo):
            errors.append(_quoting(Code.INVALID_VALUE, prop, algo,
                                   lambda v: f"{prop}: {v} is not a valid hash algorithm name"))
            continue
        regex = _HASH_VALUE_RES.get(algo)
        if not isinstance(digest, str):
            if regex is not None:
                errors.append(_wrong_type(f"{prop}.{algo}", "a string", digest))
            else:
                errors.append(_custom_hash_not_string(prop, algo, digest))
        elif regex is not None and not regex.match(digest):
            errors.append(Problem(Code.INVALID_VALUE, f"{prop}.{algo} is not a valid {algo} value",
                                  f"{prop}.{algo}"))


def _custom_hash_not_string(prop: str, key: str, digest: Any) -> Problem:
    # A custom key may be anything (a value put where a key belongs): it is quoted as a value.
    got = _tn(digest)
    return _quoting(Code.WRONG_TYPE, prop, key, lambda v: f"{prop}.{v} must be a string, got {got}")


def _kill_chain_phases(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, list) or not value:
        errors.append(_wrong_type(prop, "a non-empty list", value))
        return
    for i, phase in enumerate(value):
        where = f"{prop}[{i}]"
        if not isinstance(phase, dict):
            errors.append(_wrong_type(where, "an object", phase))
            continue
        for key in ("kill_chain_name", "phase_name"):
            if key not in phase:
                errors.append(_missing(key, where))
            else:
                _str(phase[key], f"{where}.{key}", errors)


def _external_references(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, list) or not value:
        errors.append(_wrong_type(prop, "a non-empty list", value))
        return
    for i, ref in enumerate(value):
        where = f"{prop}[{i}]"
        if not isinstance(ref, dict):
            errors.append(_wrong_type(where, "an object", ref))
            continue
        source = ref.get("source_name")
        if source is None:
            errors.append(_missing("source_name", where))
        else:
            _str(source, f"{where}.source_name", errors)
        for key in ("description", "external_id"):
            if key in ref:
                _str(ref[key], f"{where}.{key}", errors)
        if "url" in ref:
            _uri(ref["url"], f"{where}.url", errors)
        if "hashes" in ref:
            _hashes(ref["hashes"], f"{where}.hashes", errors)
        # Section 2.5: at least one of description, url, external_id.
        if not ("description" in ref or "url" in ref or "external_id" in ref):
            errors.append(Problem(Code.PROPERTY_COMBINATION,
                                  f"{where}: needs at least one of 'description', 'url', 'external_id'",
                                  where))
        # Section 2.5: the cve and capec sources carry their own identifiers.
        ext_id = ref.get("external_id")
        if source == "cve" and not (isinstance(ext_id, str) and _CVE_RE.match(ext_id)):
            errors.append(Problem(Code.INVALID_VALUE,
                                  f"{where}.external_id must be a CVE id (CVE-YYYY-NNNN) for source 'cve'",
                                  f"{where}.external_id"))
        elif source == "capec" and not (isinstance(ext_id, str) and _CAPEC_RE.match(ext_id)):
            errors.append(Problem(Code.INVALID_VALUE,
                                  f"{where}.external_id must be a CAPEC id (CAPEC-N) for source 'capec'",
                                  f"{where}.external_id"))


def _ipv4(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))
    elif not _IPV4_RE.match(value):
        errors.append(_quoting(Code.INVALID_VALUE, prop, value,
                               lambda v: f"{prop} {v} is not an IPv4 address or CIDR block"))


def _ipv6(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))
        return
    address, slash, prefix = value.partition("/")
    try:
        ipaddress.IPv6Address(address)
        ok = "%" not in address and (
            not slash or (prefix.isdigit() and prefix.isascii() and int(prefix) <= 128
                          and (prefix == "0" or not prefix.startswith("0")))
        )
    except ValueError:
        ok = False
    if not ok:
        errors.append(_quoting(Code.INVALID_VALUE, prop, value,
                               lambda v: f"{prop} {v} is not an IPv6 address or CIDR block"))


def _domain(value: Any, prop: str, errors: list[Problem]) -> None:
    if not isinstance(value, str):
        errors.append(_wrong_type(prop, "a string", value))
        return
    if _LDH_NAME_RE.match(value) and "--" not in value:
        return
    # Internationalised names, and labels with "--" (which IDNA 2008 reserves for A-labels).
    try:
        idna.encode(value)
    except (idna.IDNAError, UnicodeError, ValueError):
        errors.append(_quoting(Code.INVALID_VALUE, prop, value,
                               lambda v: f"{prop} {v} is not a valid domain name"))


# ---------------------------------------------------------------------------------------------
# Per-type rules.

_NOT_RELATABLE = {"relationship", "sighting", "bundle", "marking-definition", "language-content",
                  "extension-definition"}

# Common properties of SDOs, SROs and SCOs (sections 3.2, 3.3, 6.1, 7.2.2).
_COMMON: dict[str, Check] = {
    "created_by_ref": _ref({"identity"}),
    "labels": _str_list,
    "revoked": _bool,
    "confidence": _int_range(0, 100),
    "lang": _lang,
    "external_references": _external_references,
    "object_marking_refs": _ref_list({"marking-definition"}),
    "defanged": _bool,
}
# Checked by check_basics, or separately below.
_HANDLED = frozenset({"type", "id", "spec_version", "created", "modified", "extensions",
                      "granular_markings"})
# Section 3.1 (reserved property names of 2.1).
_RESERVED = frozenset({"severity", "action", "username", "phone_numbers"})


class _TypeRules:
    __slots__ = ("required", "props", "order", "extra")

    def __init__(
        self,
        required: tuple[str, ...],
        props: dict[str, Check],
        order: tuple[tuple[str, str, bool], ...] = (),
        extra: Callable[[dict[str, Any], list[Problem]], None] | None = None,
    ) -> None:
        self.required = required
        self.props = props
        # (later, earlier, strictly): later must be > (or >=) earlier.
        self.order = order
        self.extra = extra


def _check_indicator(obj: dict[str, Any], errors: list[Problem]) -> None:
    if obj.get("pattern_type") != "stix" or not isinstance(obj.get("pattern"), str):
        return
    version = obj.get("pattern_version", "2.1")
    if version not in SUPPORTED_PATTERN_VERSIONS:
        errors.append(_quoting(
            Code.UNSUPPORTED_PATTERN_VERSION, "pattern_version", version,
            lambda v: f"pattern_version {v} is not a STIX pattern version this hub can check "
                      f"({', '.join(SUPPORTED_PATTERN_VERSIONS)})"))
        return
    errors.extend(pattern_errors(obj["pattern"], version))


def _check_user_account(obj: dict[str, Any], errors: list[Problem]) -> None:
    # Section 6.16 (and the OASIS schema): at least one property beyond the common ones.
    if not any(p in obj for p in _USER_ACCOUNT_PROPS):
        errors.append(Problem(Code.MISSING_PROPERTY,
                              "user-account must have at least one user-account property besides "
                              "type and id (e.g. account_type, user_id, account_login)"))
    # Section 2.9: an SCO with none of its id contributing properties has a UUIDv4 id.
    if not ("account_type" in obj or "user_id" in obj or "account_login" in obj):
        if uuid_version(obj["id"]) != 4:
            errors.append(Problem(Code.INVALID_ID, "id must be a UUIDv4 when none of account_type, "
                                                   "user_id, account_login is present", "id"))


def _not_extension_type(prop: str, value: Any) -> Problem:
    return _quoting(Code.NOT_IN_VOCABULARY, prop, value,
                    lambda v: f"{prop} must be one of {', '.join(sorted(EXTENSION_TYPES))}; got {v}")


def _check_extension_definition(obj: dict[str, Any], errors: list[Problem]) -> None:
    types = obj.get("extension_types")
    if isinstance(types, list):
        for i, value in enumerate(types):
            if not isinstance(value, str) or value not in EXTENSION_TYPES:
                errors.append(_not_extension_type(f"extension_types[{i}]", value))
        if "extension_properties" in obj and "toplevel-property-extension" not in types:
            errors.append(Problem(Code.PROPERTY_COMBINATION,
                                  "extension_properties is only allowed with extension_types "
                                  "'toplevel-property-extension'", "extension_properties"))


_USER_ACCOUNT_STR = ("user_id", "credential", "account_login", "account_type", "display_name")
_USER_ACCOUNT_BOOL = ("is_service_account", "is_privileged", "can_escalate_privs", "is_disabled")
_USER_ACCOUNT_TS = ("account_created", "account_expires", "credential_last_changed",
                    "account_first_login", "account_last_login")
_USER_ACCOUNT_PROPS = _USER_ACCOUNT_STR + _USER_ACCOUNT_BOOL + _USER_ACCOUNT_TS + ("extensions",)

_RULES: dict[str, _TypeRules] = {
    "identity": _TypeRules(
        ("name",),
        {"name": _str, "description": _str, "roles": _str_list, "identity_class": _str,
         "sectors": _str_list, "contact_information": _str},
    ),
    "user-account": _TypeRules(
        (),
        {**{p: _str for p in _USER_ACCOUNT_STR}, **{p: _bool for p in _USER_ACCOUNT_BOOL},
         **{p: _timestamp for p in _USER_ACCOUNT_TS}},
        extra=_check_user_account,
    ),
    "infrastructure": _TypeRules(
        ("name",),
        {"name": _str, "description": _str, "infrastructure_types": _str_list,
         "aliases": _str_list, "kill_chain_phases": _kill_chain_phases,
         "first_seen": _timestamp, "last_seen": _timestamp},
        order=(("last_seen", "first_seen", False),),
    ),
    "ipv4-addr": _TypeRules(
        ("value",),
        {"value": _ipv4, "resolves_to_refs": _ref_list({"mac-addr"}),
         "belongs_to_refs": _ref_list({"autonomous-system"})},
    ),
    "ipv6-addr": _TypeRules(
        ("value",),
        {"value": _ipv6, "resolves_to_refs": _ref_list({"mac-addr"}),
         "belongs_to_refs": _ref_list({"autonomous-system"})},
    ),
    "domain-name": _TypeRules(
        ("value",),
        {"value": _domain, "resolves_to_refs": _ref_list({"ipv4-addr", "ipv6-addr", "domain-name"})},
    ),
    "url": _TypeRules(("value",), {"value": _uri}),
    "indicator": _TypeRules(
        ("pattern", "pattern_type", "valid_from"),
        {"name": _str, "description": _str, "indicator_types": _str_list, "pattern": _str,
         "pattern_type": _str, "pattern_version": _str, "valid_from": _timestamp,
         "valid_until": _timestamp, "kill_chain_phases": _kill_chain_phases},
        order=(("valid_until", "valid_from", True),),
        extra=_check_indicator,
    ),
    "relationship": _TypeRules(
        ("relationship_type", "source_ref", "target_ref"),
        {"relationship_type": _str, "description": _str,
         "source_ref": _ref(forbidden=_NOT_RELATABLE), "target_ref": _ref(forbidden=_NOT_RELATABLE),
         "start_time": _timestamp, "stop_time": _timestamp},
        order=(("stop_time", "start_time", True),),
    ),
    "report": _TypeRules(
        ("name", "published", "object_refs"),
        {"name": _str, "description": _str, "report_types": _str_list, "published": _timestamp,
         "object_refs": _ref_list()},
    ),
    "sighting": _TypeRules(
        ("sighting_of_ref",),
        {"description": _str, "first_seen": _timestamp, "last_seen": _timestamp,
         "count": _int_range(0, 999_999_999),
         "sighting_of_ref": _ref(forbidden=_NOT_RELATABLE | SCO_TYPES),
         "observed_data_refs": _ref_list({"observed-data"}),
         "where_sighted_refs": _ref_list({"identity", "location"}), "summary": _bool},
        order=(("last_seen", "first_seen", False),),
    ),
    "extension-definition": _TypeRules(
        ("name", "schema", "version", "extension_types", "created_by_ref"),
        {"name": _str, "description": _str, "schema": _str, "version": _str,
         "extension_types": _str_list, "extension_properties": _str_list},
        extra=_check_extension_definition,
    ),
    "note": _TypeRules(
        ("content", "object_refs"),
        {"abstract": _str, "content": _str, "authors": _str_list, "object_refs": _ref_list()},
    ),
}


def _check_relationship_type(obj: dict[str, Any], errors: list[Problem]) -> None:
    value = obj.get("relationship_type")
    if isinstance(value, str) and not _RELATIONSHIP_TYPE_RE.match(value):
        errors.append(_quoting(Code.INVALID_VALUE, "relationship_type", value,
                               lambda v: f"relationship_type {v} must use only a-z, 0-9 and '-'"))


_RULES["relationship"].extra = _check_relationship_type

_KNOWN_NAMES = frozenset(
    {name for rules in _RULES.values() for name in rules.props}
    | set(_COMMON) | set(_HANDLED)
    | {"name", "definition_type", "definition"}
)

# ---------------------------------------------------------------------------------------------
# Marking definitions (section 7.2).

_TLP1_PROPS = frozenset({"type", "spec_version", "id", "created", "definition_type", "name",
                         "definition"})
_MARKING_PROPS: dict[str, Check] = {
    "created_by_ref": _COMMON["created_by_ref"],
    "external_references": _external_references,
    "object_marking_refs": _COMMON["object_marking_refs"],
    "name": _str,
    "definition_type": _str,
}


def _check_marking_definition(obj: dict[str, Any], errors: list[Problem]) -> None:
    # The id passed check_basics: a well-formed id, safe to quote.
    if obj.get("definition_type") == "tlp":
        _check_tlp1_marking(obj, errors)
        return
    obj_id = obj["id"]
    if obj_id in TLP1_MARKINGS:
        _bad_marking(errors, f"id {obj_id!r} is reserved for a TLP 1.0 marking (definition_type 'tlp')", "id")
    for prop, check in _MARKING_PROPS.items():
        if prop in obj:
            check(obj[prop], prop, errors)
    _check_marking_definition_body(obj, errors)
    _check_marking_self_reference(obj, errors)


def _bad_marking(errors: list[Problem], message: str, prop: str = "") -> None:
    errors.append(Problem(Code.INVALID_MARKING_DEFINITION, message, prop))


def _check_tlp1_marking(obj: dict[str, Any], errors: list[Problem]) -> None:
    # Section 7.2.1.4: only the four predefined TLP 1.0 objects, exactly as published.
    obj_id = obj["id"]
    color = TLP1_MARKINGS.get(obj_id)
    if color is None:
        _bad_marking(errors, f"id {obj_id!r} is not one of the four TLP 1.0 marking definitions", "id")
        return
    if obj.get("name") != f"TLP:{color.upper()}":
        _bad_marking(errors, f"name must be 'TLP:{color.upper()}' for this TLP 1.0 marking", "name")
    definition = obj.get("definition")
    if not isinstance(definition, dict) or definition.get("tlp") != color:
        _bad_marking(errors, f"definition must be {{\"tlp\": \"{color}\"}} for this TLP 1.0 marking",
                     "definition")
    if obj.get("created") != TLP1_CREATED:
        _bad_marking(errors, f"created must be {TLP1_CREATED!r} for a TLP 1.0 marking", "created")
    for prop in obj:
        if prop not in _TLP1_PROPS:
            errors.append(_property_problem(
                Code.UNKNOWN_PROPERTY, prop,
                lambda v: f"property {v} is not allowed on a TLP 1.0 marking definition"))


def _check_marking_definition_body(obj: dict[str, Any], errors: list[Problem]) -> None:
    """definition_type and definition of a marking that is not TLP 1.0 (section 7.2.1)."""
    obj_id = obj["id"]
    definition_type = obj.get("definition_type")
    definition = obj.get("definition")
    extensions = obj.get("extensions")
    if extensions is None or isinstance(extensions, dict) and TLP2_EXTENSION_ID not in extensions:
        if obj_id in TLP2_MARKINGS:
            _bad_marking(errors, f"id {obj_id!r} is reserved for a TLP 2.0 marking "
                                 f"(extension {TLP2_EXTENSION_ID})", "id")
    if extensions is None:
        for prop in ("definition_type", "definition"):
            if prop not in obj:
                errors.append(_missing(prop))
    if definition_type == "statement":
        if not isinstance(definition, dict) or not isinstance(definition.get("statement"), str):
            _bad_marking(errors, "definition must be an object with a string 'statement' for "
                                 "definition_type 'statement'", "definition")
    elif "definition" in obj and not isinstance(definition, dict):
        errors.append(_wrong_type("definition", "an object", definition))
    if "definition" in obj and "definition_type" not in obj:
        errors.append(_missing("definition_type", because="definition is present"))


def _check_marking_self_reference(obj: dict[str, Any], errors: list[Problem]) -> None:
    obj_id = obj["id"]
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list) and obj_id in refs:
        _bad_marking(errors, "object_marking_refs must not refer to the marking definition itself",
                     "object_marking_refs")
    marks = obj.get("granular_markings")
    if isinstance(marks, list) and any(isinstance(m, dict) and m.get("marking_ref") == obj_id
                                       for m in marks):
        _bad_marking(errors, "granular_markings must not refer to the marking definition itself",
                     "granular_markings")


def _check_tlp2(obj: dict[str, Any], body: Any, errors: list[Problem]) -> None:
    # The OASIS TLP 2.0 extension schema: five fixed objects, id <-> name <-> level.
    where = f"extensions[{TLP2_EXTENSION_ID!r}]"

    def bad(message: str, prop: str = where) -> None:
        errors.append(Problem(Code.INVALID_MARKING_DEFINITION, message, prop))

    if obj.get("type") != "marking-definition":
        errors.append(Problem(Code.INVALID_EXTENSION,
                              f"{where}: the TLP 2.0 extension applies only to marking-definition", where))
        return
    level = TLP2_MARKINGS.get(obj["id"])
    if level is None:
        bad(f"id {obj['id']!r} is not one of the five TLP 2.0 marking definitions", "id")
        return
    if not isinstance(body, dict):
        return  # reported by the extensions shape check
    if body.get("tlp_2_0") != level:
        bad(f"{where}.tlp_2_0 must be {level!r} for this marking definition", f"{where}.tlp_2_0")
    for key in body:
        if key not in ("extension_type", "tlp_2_0"):
            errors.append(_property_problem(Code.UNKNOWN_PROPERTY, key,
                                            lambda v: f"{where}: unknown property {v}", where))
    if body.get("extension_type") != "property-extension":
        bad(f"{where}.extension_type must be 'property-extension'", f"{where}.extension_type")
    if obj.get("name") != f"TLP:{level.upper()}":
        bad(f"name must be 'TLP:{level.upper()}' for this TLP 2.0 marking", "name")
    if len(obj["extensions"]) != 1:
        bad("extensions of a TLP 2.0 marking definition must hold only the TLP 2.0 extension",
            "extensions")


# ---------------------------------------------------------------------------------------------
# Properties present on any object.


def _property_problem(code: str, name: Any, sentence: Callable[[str], str], where: str = "") -> Problem:
    """A problem naming a property name that was submitted: a name that meets the STIX grammar
    (section 3.1) is named as it is, anything else (a value put where a name belongs) is
    quoted as a value."""
    if isinstance(name, str) and (name in _KNOWN_NAMES or _PROPERTY_NAME_RE.match(name)):
        return Problem(code, sentence(repr(name)), f"{where}.{name}" if where else name)
    return _quoting(code, where, name, sentence)


def _check_custom_value(value: Any, prop: str, errors: list[Problem]) -> None:
    # The value rules every property obeys (sections 2 and 3.1): no null, no empty list.
    if value is None:
        errors.append(Problem(Code.WRONG_TYPE, f"{prop} must not be null", prop))
    elif isinstance(value, list) and not value:
        errors.append(Problem(Code.INVALID_VALUE, f"{prop} must not be an empty list", prop))
    elif prop.endswith("_bin"):
        if not (isinstance(value, str) and _BINARY_RE.match(value)):
            errors.append(Problem(Code.INVALID_VALUE,
                                  f"{prop} must be base64 binary (a property name ending in '_bin')", prop))
    elif prop.endswith("_hex"):
        if not (isinstance(value, str) and _HEX_RE.match(value)):
            errors.append(Problem(Code.INVALID_VALUE,
                                  f"{prop} must be hex (a property name ending in '_hex')", prop))


def _bad_property_name(prop: Any, where: str = "", label: str = "") -> Problem:
    return _quoting(Code.INVALID_PROPERTY_NAME, where, prop,
                    lambda v: f"{label}property name {v} is invalid: use 3-250 characters a-z, 0-9, "
                              f"'_', starting with a letter")


def _check_property_names(mapping: dict[str, Any], where: str, errors: list[Problem]) -> None:
    # ``where`` is an extension's path (a well-formed key, see _check_extensions).
    for prop, value in mapping.items():
        if prop not in _KNOWN_NAMES and not _PROPERTY_NAME_RE.match(prop):
            errors.append(_bad_property_name(prop, where, f"{where}: "))
        else:
            _check_custom_value(value, f"{where}: {prop}", errors)


def _check_sharing_extensions(obj: dict[str, Any], obj_type: str, key: str, body: Any,
                              errors: list[Problem]) -> bool:
    """The extensions that decide who reads an object (hub.stix.sharing): the hub's sharing
    extension, on any object, and ACS 3.0, on marking-definitions only. True if ``key`` is
    one of them (then checked here, whole)."""
    if key == SHARING_EXTENSION_ID:
        errors.extend(check_sharing_extension(body, f"extensions[{key!r}]"))
        return True
    if key == ACS_EXTENSION_ID:
        if obj_type == "marking-definition":
            errors.extend(check_acs_definition(obj))
        else:
            errors.append(Problem(Code.INVALID_EXTENSION,
                                  f"extensions[{key!r}]: the ACS 3.0 extension applies only to "
                                  f"marking-definition, not {obj_type!r}", f"extensions[{key!r}]"))
        return True
    return False


def _check_extensions(obj: dict[str, Any], obj_type: str, exts: Any, errors: list[Problem]) -> None:
    if not isinstance(exts, dict) or not exts:
        errors.append(_wrong_type("extensions", "a non-empty object", exts))
        return
    for key, body in exts.items():
        # Only a well-formed key is repeated in a path: an extension-definition id or the name
        # of a predefined extension.
        where = f"extensions[{key!r}]"
        if is_stix_id(key, "extension-definition"):
            if _check_sharing_extensions(obj, obj_type, key, body, errors):
                continue
            if not isinstance(body, dict):
                errors.append(_wrong_type(where, "an object", body))
                continue
            ext_type = body.get("extension_type")
            if ext_type is None:
                errors.append(_missing("extension_type", where))
            elif not isinstance(ext_type, str) or ext_type not in EXTENSION_TYPES:
                errors.append(_not_extension_type(f"{where}.extension_type", ext_type))
            if key == IAAS_ACCOUNT_EXTENSION_ID:
                if obj_type == "user-account":
                    errors.extend(check_iaas_extension(obj, body))
                else:
                    errors.append(Problem(Code.INVALID_EXTENSION,
                                          f"{where}: the IaaS-account extension applies only to "
                                          f"user-account, not {obj_type!r}", where))
                continue
            if key == TLP2_EXTENSION_ID:
                _check_tlp2(obj, body, errors)
                continue
            _check_property_names(body, where, errors)
        elif _PREDEFINED_EXT_RE.match(key) and obj_type != "marking-definition":
            if not isinstance(body, dict) or not body:
                errors.append(_wrong_type(where, "a non-empty object", body))
                continue
            _check_property_names(body, where, errors)
        else:
            errors.append(_quoting(
                Code.INVALID_EXTENSION, "extensions", key,
                lambda v: f"extensions key {v} is neither an extension-definition id nor a "
                          f"predefined extension name ending in '-ext'"))


def _check_granular_markings(obj: dict[str, Any], value: Any, errors: list[Problem]) -> None:
    if not isinstance(value, list) or not value:
        errors.append(_wrong_type("granular_markings", "a non-empty list", value))
        return
    for i, marking in enumerate(value):
        where = f"granular_markings[{i}]"
        if not isinstance(marking, dict):
            errors.append(_wrong_type(where, "an object", marking))
            continue
        # Section 7.2.3: exactly one of marking_ref and lang.
        has_ref = "marking_ref" in marking
        if has_ref == ("lang" in marking):
            errors.append(Problem(Code.PROPERTY_COMBINATION,
                                  f"{where} must have exactly one of 'marking_ref' and 'lang'", where))
        if has_ref:
            problem = _ref_problem(marking["marking_ref"], f"{where}.marking_ref",
                                   frozenset({"marking-definition"}), frozenset())
            if problem is not None:
                errors.append(problem)
        if "lang" in marking:
            _lang(marking["lang"], f"{where}.lang", errors)
        selectors = marking.get("selectors")
        if selectors is None:
            errors.append(_missing("selectors", where))
            continue
        if not isinstance(selectors, list) or not selectors:
            errors.append(_wrong_type(f"{where}.selectors", "a non-empty list", selectors))
            continue
        for j, selector in enumerate(selectors):
            if not isinstance(selector, str) or not _SELECTOR_RE.match(selector):
                errors.append(_bad_selector(f"{where}.selectors[{j}]", selector, "is not a selector"))
            elif not _selector_resolves(obj, selector):
                errors.append(_bad_selector(f"{where}.selectors[{j}]", selector,
                                            "does not select a property of this object"))


def _bad_selector(prop: str, selector: Any, rule: str) -> Problem:
    return _quoting(Code.INVALID_VALUE, prop, selector, lambda v: f"{prop} {v} {rule}")


def _selector_resolves(obj: Any, selector: str) -> bool:
    # Section 7.2.3.1: dotted property names and [n] list indexes.
    node = obj
    for part in selector.split("."):
        m = _INDEX_RE.match(part)
        if m is not None:
            if not isinstance(node, list) or int(m.group(1)) >= len(node):
                return False
            node = node[int(m.group(1))]
        else:
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
    return True


def _compare(obj: dict[str, Any], later: str, earlier: str, strictly: bool,
             errors: list[Problem]) -> None:
    if later not in obj or earlier not in obj:
        return
    try:
        later_us = parse_timestamp_us(obj[later], later)
        earlier_us = parse_timestamp_us(obj[earlier], earlier)
    except InvalidTimestamp:
        return  # already reported
    if later_us < earlier_us or (strictly and later_us == earlier_us):
        relation = "later than" if strictly else "later than or equal to"
        # Both values are well-formed timestamps: quoting them repeats nothing personal.
        errors.append(Problem(Code.TIMESTAMP_ORDER,
                              f"{later} ({obj[later]}) must be {relation} {earlier} ({obj[earlier]})",
                              later))


# ---------------------------------------------------------------------------------------------
# Entry points.


def validate(obj: Any) -> list[Problem]:
    """Validate one STIX 2.1 object; return its problems, each naming the property (empty =
    valid). ``str()`` of a problem is its message.

    Never raises for bad input: a non-object or an object without a usable ``type``/``id``
    gives one problem.
    """
    try:
        _obj_id, obj_type, _version = check_basics(obj)
    except InvalidObject as e:
        return [e.problem]
    errors: list[Problem] = []
    is_marking = obj_type == "marking-definition"
    if not is_marking and obj_type not in SCO_TYPES:
        _check_precision(obj, errors)

    rules = _RULES.get(obj_type)
    if rules is not None:
        for prop in rules.required:
            if prop not in obj:
                errors.append(_missing(prop))

    if is_marking:
        _check_marking_definition(obj, errors)
        _check_marking_properties(obj, errors)
    else:
        _check_properties(obj, rules.props if rules is not None else {}, errors)

    if "extensions" in obj:
        _check_extensions(obj, obj_type, obj["extensions"], errors)
    if "extensions" in obj or obj_type in (NOTICE_TYPE, ACK_TYPE):
        # The hub's notices and acknowledgements (hub.stix.notice), and their extensions.
        errors.extend(check_notice_object(obj, obj_type))
    if "granular_markings" in obj:
        _check_granular_markings(obj, obj["granular_markings"], errors)

    if rules is not None:
        for later, earlier, strictly in rules.order:
            _compare(obj, later, earlier, strictly, errors)
        if rules.extra is not None:
            rules.extra(obj, errors)
    return errors


def _check_precision(obj: dict[str, Any], errors: list[Problem]) -> None:
    # Section 3.2: created and modified of SDOs/SROs are precise to the millisecond.
    for prop in ("created", "modified"):
        value = obj.get(prop)
        if value is not None and (fraction_digits(value) or 0) < 3:
            # The value passed check_basics: a well-formed timestamp, safe to quote.
            errors.append(Problem(Code.TIMESTAMP_PRECISION,
                                  f"{prop} must be precise to the millisecond "
                                  f"(YYYY-MM-DDTHH:mm:ss.sssZ), got {value!r}", prop))


def _check_properties(obj: dict[str, Any], type_props: dict[str, Check], errors: list[Problem]) -> None:
    """Each property of an object that is not a marking-definition: its type's check, the
    common properties' check, or the rules of custom properties."""
    common = _COMMON
    for prop, value in obj.items():
        check = type_props.get(prop) or common.get(prop)
        if check is not None:
            check(value, prop, errors)
        elif prop in _HANDLED:
            continue
        elif prop in _RESERVED:
            errors.append(_reserved(prop))
        elif not _PROPERTY_NAME_RE.match(prop):
            errors.append(_bad_property_name(prop))
        else:
            _check_custom_value(value, prop, errors)


def _check_marking_properties(obj: dict[str, Any], errors: list[Problem]) -> None:
    """The properties of a marking-definition that :func:`_check_marking_definition` leaves."""
    skip = _TLP1_PROPS if obj.get("definition_type") == "tlp" else _MARKING_PROPS.keys()
    for prop, value in obj.items():
        if prop in _RESERVED:
            errors.append(_reserved(prop))
        elif prop not in _HANDLED and prop not in skip and prop != "definition":
            if not _PROPERTY_NAME_RE.match(prop) and prop not in _KNOWN_NAMES:
                errors.append(_bad_property_name(prop))
            else:
                _check_custom_value(value, prop, errors)


def _reserved(prop: str) -> Problem:
    return Problem(Code.RESERVED_PROPERTY,
                   f"property {prop!r} is reserved by STIX 2.1 and must not be used", prop)


def is_valid(obj: Any) -> bool:
    """True if :func:`validate` finds no problem."""
    return not validate(obj)
