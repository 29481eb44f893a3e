"""The abused-IaaS-account property-extension on ``user-account``.

The extension body lives at ``user-account.extensions[IAAS_ACCOUNT_EXTENSION_ID]`` and is
described by ``schemas/iaas-account/iaas-account.schema.json`` (``$defs/iaas_account_extension``).
The checks below are written by hand so that they run in a few microseconds and name the field
in each message; the corpus test in ``tests/stix`` holds them to the same verdicts as the shipped
JSON Schema.

Messages name the property and say what is wrong, never the value submitted: they go into TAXII
status resources, the audit trail and logs, and a bad value may be raw personal data (an e-mail
address where a pseudonym belongs). The allowed values of an enumeration are listed; the value
given is described by its JSON type (and a string by its length) only. Unknown property names
are quoted when they look like property names, and otherwise not shown. So no problem of this
module quotes a value (``quotes_value`` is never set); each names its property as a path under
``extensions['<extension id>']``.
"""

from __future__ import annotations

import re
from typing import Any

from hub.common.ids import id_type, is_stix_id
from hub.common.problems import Code, Problem
from hub.common.quoting import json_type
from hub.common.timestamps import InvalidTimestamp, parse_timestamp_us
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_FORMS, PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.vocab import (
    ABUSED_RESOURCE_TYPES,
    ACQUISITION_ENUM,
    ACTION_TAKEN_ENUM,
    ISO3166_ALPHA2,
    KYC_STATUS_ENUM,
)

__all__ = ["IAAS_ACCOUNT_TYPE", "check_iaas_extension"]

#: The ``account_type`` of a user-account that carries the extension.
IAAS_ACCOUNT_TYPE = "cloud-iaas"

_P = "user-account extension: "
_REQUIRED = (
    "extension_type", "provider_ref", "provider_account_pseudonym", "first_abuse_seen",
    "acquisition", "kyc_status", "abused_resource_refs", "abuse_types",
)
_ALLOWED = frozenset(
    _REQUIRED
    + ("account_created", "last_seen", "reseller_ref", "declared_country", "pseudonyms",
       "action_taken", "action_taken_at", "confidence")
)
_OV_VALUE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# What a property name looks like (STIX 2.1 section 3.1, lower case); others are not quoted.
_PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
#: Where the extension's properties are, as the validator names them.
_PATH = f"extensions[{IAAS_ACCOUNT_EXTENSION_ID!r}]"


def _problem(code: str, prop: str, message: str) -> Problem:
    """A problem of the extension's ``prop`` ("" for the extension as a whole)."""
    return Problem(code, _P + message, f"{_PATH}.{prop}" if prop else _PATH)


def _got(value: Any) -> str:
    """What was given instead, without the value itself: its JSON type (a string's length)."""
    if isinstance(value, str):
        return f"got a string of length {len(value)}"
    name = json_type(value)
    return "got null" if name == "null" else f"got {'an' if name[0] in 'aeiou' else 'a'} {name}"


_UNSHOWN = "(a name that is not a property name, not shown)"


def _name(name: Any) -> str:
    """A member name as it can be shown: quoted if it looks like a property name."""
    if isinstance(name, str) and _PROPERTY_NAME_RE.match(name):
        return repr(name)
    return _UNSHOWN


def _timestamp(body: dict[str, Any], prop: str, errors: list[Problem]) -> None:
    value = body.get(prop)
    if value is None:
        return
    try:
        parse_timestamp_us(value, prop)
    except InvalidTimestamp:
        # Not parse_timestamp_us's message: it quotes the value.
        if isinstance(value, str):
            errors.append(_problem(Code.INVALID_TIMESTAMP, prop,
                                   f"{prop!r} is not a valid STIX timestamp "
                                   "(YYYY-MM-DDTHH:mm:ss[.sss]Z, a real date and time)"))
        else:
            errors.append(_problem(Code.WRONG_TYPE, prop,
                                   f"{prop!r} must be a STIX timestamp string; {_got(value)}"))


def _enum(body: dict[str, Any], prop: str, allowed: tuple[str, ...], errors: list[Problem]) -> None:
    value = body.get(prop)
    if value is not None and value not in allowed:
        errors.append(_problem(Code.NOT_IN_VOCABULARY, prop,
                               f"{prop!r} must be one of {', '.join(allowed)}; {_got(value)}"))


def _identity_ref(body: dict[str, Any], prop: str, errors: list[Problem]) -> None:
    value = body.get(prop)
    if value is None or is_stix_id(value, "identity"):
        return
    code = Code.WRONG_REF_TYPE if is_stix_id(value) else Code.INVALID_ID
    errors.append(_problem(code, prop, f"{prop!r} must be the id of an identity (identity--<uuid>); "
                                       f"{_got(value)}"))


def check_iaas_extension(obj: dict[str, Any], body: Any) -> list[Problem]:
    """Every way ``body`` breaks the IaaS-account extension schema (empty: none).

    ``obj`` is the user-account carrying it (its ``account_type`` must be "cloud-iaas").
    """
    errors: list[Problem] = []
    if obj.get("account_type") != IAAS_ACCOUNT_TYPE:
        errors.append(Problem(
            Code.NOT_IN_VOCABULARY,
            f"account_type must be {IAAS_ACCOUNT_TYPE!r} on a user-account carrying the "
            f"IaaS-account extension; {_got(obj.get('account_type'))}",
            "account_type"))
    if not isinstance(body, dict):
        errors.append(_problem(Code.WRONG_TYPE, "", f"the extension must be a JSON object; {_got(body)}"))
        return errors
    for prop in _REQUIRED:
        if prop not in body:
            errors.append(_problem(Code.MISSING_PROPERTY, prop, f"missing required property {prop!r}"))
    for prop in body:
        if prop not in _ALLOWED:
            shown = _name(prop)
            errors.append(_problem(Code.UNKNOWN_PROPERTY, prop if shown != _UNSHOWN else "",
                                   f"unknown property {shown}"))

    ext_type = body.get("extension_type")
    if ext_type is not None and ext_type != "property-extension":
        errors.append(_problem(Code.NOT_IN_VOCABULARY, "extension_type",
                               f"'extension_type' must be 'property-extension'; {_got(ext_type)}"))
    _identity_ref(body, "provider_ref", errors)
    _identity_ref(body, "reseller_ref", errors)
    value = body.get("provider_account_pseudonym")
    if value is not None and not (isinstance(value, str) and PSEUDONYM_RE.match(value)):
        errors.append(_problem(
            Code.NOT_A_PSEUDONYM, "provider_account_pseudonym",
            f"'provider_account_pseudonym' is not a pseudonym "
            f"{PSEUDONYM_FORMS}; {_got(value)}"))
    _timestamp(body, "account_created", errors)
    _timestamp(body, "first_abuse_seen", errors)
    _timestamp(body, "last_seen", errors)
    _timestamp(body, "action_taken_at", errors)
    _enum(body, "acquisition", ACQUISITION_ENUM, errors)
    _enum(body, "kyc_status", KYC_STATUS_ENUM, errors)
    _enum(body, "action_taken", ACTION_TAKEN_ENUM, errors)

    # Reseller: the one acquisition that names a second party (schema: if/then/else).
    if body.get("acquisition") == "reseller":
        if "reseller_ref" not in body:
            errors.append(_problem(Code.MISSING_PROPERTY, "reseller_ref",
                                   "missing required property 'reseller_ref' (acquisition is 'reseller')"))
    elif "reseller_ref" in body:
        errors.append(_problem(Code.PROPERTY_COMBINATION, "reseller_ref",
                               "'reseller_ref' is only allowed when acquisition is 'reseller'"))
    action = body.get("action_taken")
    if "action_taken" in body and action != "none" and "action_taken_at" not in body:
        because = f"action_taken is {action!r}" if action in ACTION_TAKEN_ENUM else "action_taken is set"
        errors.append(_problem(Code.MISSING_PROPERTY, "action_taken_at",
                               f"missing required property 'action_taken_at' ({because})"))

    value = body.get("declared_country")
    if value is not None and not (isinstance(value, str) and value in ISO3166_ALPHA2):
        errors.append(_problem(
            Code.NOT_IN_VOCABULARY, "declared_country",
            f"'declared_country' must be an ISO 3166-1 alpha-2 code in upper case; {_got(value)}"))

    if "pseudonyms" in body:
        pseudonyms = body["pseudonyms"]
        if not isinstance(pseudonyms, dict) or not pseudonyms:
            errors.append(_problem(Code.WRONG_TYPE, "pseudonyms", "'pseudonyms' must be a non-empty object"))
        else:
            for kind, value in pseudonyms.items():
                if kind not in PERSONAL_KINDS:
                    shown = _name(kind)
                    errors.append(_problem(
                        Code.UNKNOWN_PROPERTY, f"pseudonyms.{kind}" if shown != _UNSHOWN else "pseudonyms",
                        f"'pseudonyms' has unknown member {shown} (allowed: {', '.join(PERSONAL_KINDS)})"))
                elif not (isinstance(value, str) and PSEUDONYM_RE.match(value)):
                    errors.append(_problem(
                        Code.NOT_A_PSEUDONYM, f"pseudonyms.{kind}",
                        f"'pseudonyms.{kind}' is not a pseudonym "
                        f"{PSEUDONYM_FORMS}; {_got(value)}"))

    if "abused_resource_refs" in body:
        refs = body["abused_resource_refs"]
        if not isinstance(refs, list) or not refs:
            errors.append(_problem(Code.WRONG_TYPE, "abused_resource_refs",
                                   "'abused_resource_refs' must be a non-empty list"))
        else:
            for i, ref in enumerate(refs):
                ref_type = id_type(ref)
                if ref_type not in ABUSED_RESOURCE_TYPES:
                    errors.append(_problem(
                        Code.INVALID_ID if ref_type is None else Code.WRONG_REF_TYPE,
                        f"abused_resource_refs[{i}]",
                        f"'abused_resource_refs[{i}]' must be the id of an "
                        f"{', '.join(ABUSED_RESOURCE_TYPES)}; {_got(ref)}"))

    if "abuse_types" in body:
        types = body["abuse_types"]
        if not isinstance(types, list) or not types:
            errors.append(_problem(Code.WRONG_TYPE, "abuse_types", "'abuse_types' must be a non-empty list"))
        else:
            for i, value in enumerate(types):
                # abuse-type-ov is open: other values are allowed in its lower-case-hyphen form.
                if not (isinstance(value, str) and _OV_VALUE_RE.match(value)):
                    errors.append(_problem(
                        Code.INVALID_VALUE, f"abuse_types[{i}]",
                        f"'abuse_types[{i}]' must be a lower-case-hyphenated vocabulary "
                        f"value (abuse-type-ov); {_got(value)}"))

    if "confidence" in body:
        value = body["confidence"]
        ok = (type(value) is int or (type(value) is float and value.is_integer()))
        if not ok or not 0 <= value <= 100:
            errors.append(_problem(Code.WRONG_TYPE if not ok else Code.OUT_OF_RANGE, "confidence",
                                   f"'confidence' must be an integer from 0 to 100; {_got(value)}"))
    return errors
