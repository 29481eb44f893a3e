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
are quoted when they look like property names, and otherwise not shown.
"""

from __future__ import annotations

import re
from typing import Any

from hub.common.errors import InvalidValue
from hub.common.ids import UUID_PATTERN
from hub.common.quoting import json_type
from hub.common.timestamps import parse_timestamp_us
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_RE
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
_IDENTITY_REF_RE = re.compile(rf"^identity--{UUID_PATTERN}$")
_RESOURCE_REF_RE = re.compile(rf"^(?:{'|'.join(ABUSED_RESOURCE_TYPES)})--{UUID_PATTERN}$")
_OV_VALUE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# What a property name looks like (STIX 2.1 section 3.1, lower case); others are not quoted.
_PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _got(value: Any) -> str:
    """What was given instead, without the value itself: its JSON type (a string's length)."""
    if isinstance(value, str):
        return f"got a string of length {len(value)}"
    name = json_type(value)
    return "got null" if name == "null" else f"got {'an' if name[0] in 'aeiou' else 'a'} {name}"


def _name(name: Any) -> str:
    """A member name as it can be shown: quoted if it looks like a property name."""
    if isinstance(name, str) and _PROPERTY_NAME_RE.match(name):
        return repr(name)
    return "(a name that is not a property name, not shown)"


def _timestamp(body: dict[str, Any], prop: str, errors: list[str]) -> None:
    value = body.get(prop)
    if value is None:
        return
    try:
        parse_timestamp_us(value, prop)
    except InvalidValue:
        # Not parse_timestamp_us's message: it quotes the value.
        if isinstance(value, str):
            errors.append(f"{_P}{prop!r} is not a valid STIX timestamp "
                          "(YYYY-MM-DDTHH:mm:ss[.sss]Z, a real date and time)")
        else:
            errors.append(f"{_P}{prop!r} must be a STIX timestamp string; {_got(value)}")


def _enum(body: dict[str, Any], prop: str, allowed: tuple[str, ...], errors: list[str]) -> None:
    value = body.get(prop)
    if value is not None and value not in allowed:
        errors.append(f"{_P}{prop!r} must be one of {', '.join(allowed)}; {_got(value)}")


def _identity_ref(body: dict[str, Any], prop: str, errors: list[str]) -> None:
    value = body.get(prop)
    if value is not None and not (isinstance(value, str) and _IDENTITY_REF_RE.match(value)):
        errors.append(f"{_P}{prop!r} must be the id of an identity (identity--<uuid>); "
                      f"{_got(value)}")


def check_iaas_extension(obj: dict[str, Any], body: Any, errors: list[str]) -> None:
    """Append to ``errors`` every way ``body`` breaks the IaaS-account extension schema.

    ``obj`` is the user-account carrying it (its ``account_type`` must be "cloud-iaas").
    """
    if obj.get("account_type") != IAAS_ACCOUNT_TYPE:
        errors.append(
            f"account_type must be {IAAS_ACCOUNT_TYPE!r} on a user-account carrying the "
            f"IaaS-account extension; {_got(obj.get('account_type'))}"
        )
    if not isinstance(body, dict):
        errors.append(f"{_P}the extension must be a JSON object; {_got(body)}")
        return
    for prop in _REQUIRED:
        if prop not in body:
            errors.append(f"{_P}missing required property {prop!r}")
    for prop in body:
        if prop not in _ALLOWED:
            errors.append(f"{_P}unknown property {_name(prop)}")

    ext_type = body.get("extension_type")
    if ext_type is not None and ext_type != "property-extension":
        errors.append(f"{_P}'extension_type' must be 'property-extension'; {_got(ext_type)}")
    _identity_ref(body, "provider_ref", errors)
    _identity_ref(body, "reseller_ref", errors)
    value = body.get("provider_account_pseudonym")
    if value is not None and not (isinstance(value, str) and PSEUDONYM_RE.match(value)):
        errors.append(
            f"{_P}'provider_account_pseudonym' is not a pseudonym "
            f"'hmac-sha256:<key version>:<64 hex>'; {_got(value)}"
        )
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
            errors.append(f"{_P}missing required property 'reseller_ref' (acquisition is 'reseller')")
    elif "reseller_ref" in body:
        errors.append(f"{_P}'reseller_ref' is only allowed when acquisition is 'reseller'")
    action = body.get("action_taken")
    if "action_taken" in body and action != "none" and "action_taken_at" not in body:
        because = f"action_taken is {action!r}" if action in ACTION_TAKEN_ENUM else "action_taken is set"
        errors.append(f"{_P}missing required property 'action_taken_at' ({because})")

    value = body.get("declared_country")
    if value is not None and not (isinstance(value, str) and value in ISO3166_ALPHA2):
        errors.append(
            f"{_P}'declared_country' must be an ISO 3166-1 alpha-2 code in upper case; {_got(value)}"
        )

    if "pseudonyms" in body:
        pseudonyms = body["pseudonyms"]
        if not isinstance(pseudonyms, dict) or not pseudonyms:
            errors.append(f"{_P}'pseudonyms' must be a non-empty object")
        else:
            for kind, value in pseudonyms.items():
                if kind not in PERSONAL_KINDS:
                    errors.append(
                        f"{_P}'pseudonyms' has unknown member {_name(kind)} "
                        f"(allowed: {', '.join(PERSONAL_KINDS)})"
                    )
                elif not (isinstance(value, str) and PSEUDONYM_RE.match(value)):
                    errors.append(
                        f"{_P}'pseudonyms.{kind}' is not a pseudonym "
                        f"'hmac-sha256:<key version>:<64 hex>'; {_got(value)}"
                    )

    if "abused_resource_refs" in body:
        refs = body["abused_resource_refs"]
        if not isinstance(refs, list) or not refs:
            errors.append(f"{_P}'abused_resource_refs' must be a non-empty list")
        else:
            for i, ref in enumerate(refs):
                if not (isinstance(ref, str) and _RESOURCE_REF_RE.match(ref)):
                    errors.append(
                        f"{_P}'abused_resource_refs[{i}]' must be the id of an "
                        f"{', '.join(ABUSED_RESOURCE_TYPES)}; {_got(ref)}"
                    )

    if "abuse_types" in body:
        types = body["abuse_types"]
        if not isinstance(types, list) or not types:
            errors.append(f"{_P}'abuse_types' must be a non-empty list")
        else:
            for i, value in enumerate(types):
                # abuse-type-ov is open: other values are allowed in its lower-case-hyphen form.
                if not (isinstance(value, str) and _OV_VALUE_RE.match(value)):
                    errors.append(
                        f"{_P}'abuse_types[{i}]' must be a lower-case-hyphenated vocabulary "
                        f"value (abuse-type-ov); {_got(value)}"
                    )

    if "confidence" in body:
        value = body["confidence"]
        ok = (type(value) is int or (type(value) is float and value.is_integer()))
        if not ok or not 0 <= value <= 100:
            errors.append(f"{_P}'confidence' must be an integer from 0 to 100; {_got(value)}")

