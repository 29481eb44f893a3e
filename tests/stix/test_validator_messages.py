"""Validator problems carry a stable code and a message naming the property at fault; the
shipped extension objects are valid."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stix2validator import ValidationOptions, validate_instance

from hub.common.problems import Code, Problem
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID as IAAS
from hub.stix.patterns import parsed_pattern_errors, pattern_errors
from hub.stix.validator import is_valid, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas/iaas-account"
X = "0b1c5f62-8f5e-4b8e-9d3a-2c6f0a7e1d44"
P = "hmac-sha256:k1:" + "ab" * 32

ACCOUNT: dict[str, Any] = {
    "type": "user-account", "spec_version": "2.1", "id": f"user-account--{X}",
    "account_type": "cloud-iaas", "user_id": P,
    "extensions": {IAAS: {
        "extension_type": "property-extension",
        "provider_ref": "identity--5e5e6b2a-5b8a-4a43-9a3e-1d2c0b4f7a10",
        "provider_account_pseudonym": P,
        "account_created": "2026-10-01T08:00:00Z",
        "first_abuse_seen": "2026-11-01T00:00:00.000Z",
        "acquisition": "reseller", "reseller_ref": f"identity--{X}",
        "kyc_status": "failed", "declared_country": "NL",
        "pseudonyms": {"email": P, "phone": P},
        "abused_resource_refs": [f"ipv4-addr--{X}", f"domain-name--{X}"],
        "abuse_types": ["command-and-control", "bulletproof-resale"],
        "action_taken": "suspended", "action_taken_at": "2026-11-02T00:00:00Z",
        "confidence": 85,
    }},
}
INDICATOR: dict[str, Any] = {
    "type": "indicator", "spec_version": "2.1", "id": f"indicator--{X}",
    "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
    "valid_from": "2026-11-01T00:00:00Z",
}


def _account(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(ACCOUNT)
    body = obj["extensions"][IAAS]
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return obj


def _indicator(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(INDICATOR)
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


def test_examples_are_valid() -> None:
    assert validate(ACCOUNT) == []
    assert validate(INDICATOR) == []


@pytest.mark.parametrize(
    ("obj", "expected", "code"),
    [
        pytest.param(_account(kyc_status=None),
                     "user-account extension: missing required property 'kyc_status'", Code.MISSING_PROPERTY, id="missing kyc"),
        pytest.param(_account(provider_ref=None), "missing required property 'provider_ref'", Code.MISSING_PROPERTY, id="missing provider"),
        pytest.param(_account(abuse_types=None), "missing required property 'abuse_types'", Code.MISSING_PROPERTY, id="missing abuse_types"),
        pytest.param(_account(kyc_status="maybe"), "'kyc_status' must be one of", Code.NOT_IN_VOCABULARY, id="kyc enum"),
        pytest.param(_account(acquisition="gift", reseller_ref=None), "'acquisition' must be one of", Code.NOT_IN_VOCABULARY, id="acquisition enum"),
        pytest.param(_account(reseller_ref=None), "missing required property 'reseller_ref'", Code.MISSING_PROPERTY, id="reseller needs ref"),
        pytest.param(_account(acquisition="direct-signup"), "'reseller_ref' is only allowed", Code.PROPERTY_COMBINATION, id="ref without reseller"),
        pytest.param(_account(action_taken_at=None), "missing required property 'action_taken_at'", Code.MISSING_PROPERTY, id="action time"),
        pytest.param(_account(action_taken="banned"), "'action_taken' must be one of", Code.NOT_IN_VOCABULARY, id="action enum"),
        pytest.param(_account(declared_country="nl"), "'declared_country'", Code.NOT_IN_VOCABULARY, id="country case"),
        pytest.param(_account(pseudonyms={"ssn": P}), "'pseudonyms' has unknown member 'ssn'", Code.UNKNOWN_PROPERTY, id="pseudonym kind"),
        pytest.param(_account(pseudonyms={"email": "a@b.c"}), "'pseudonyms.email'", Code.NOT_A_PSEUDONYM, id="pseudonym clear"),
        pytest.param(_account(provider_account_pseudonym="acct-1"), "'provider_account_pseudonym'", Code.NOT_A_PSEUDONYM, id="account pseudonym"),
        pytest.param(_account(abused_resource_refs=[f"indicator--{X}"]), "'abused_resource_refs[0]'", Code.WRONG_REF_TYPE, id="resource type"),
        pytest.param(_account(abuse_types=["C2 server"]), "'abuse_types[0]'", Code.INVALID_VALUE, id="abuse type form"),
        pytest.param(_account(confidence=200), "'confidence' must be an integer from 0 to 100", Code.OUT_OF_RANGE, id="ext confidence"),
        pytest.param(_account(first_abuse_seen="2026-02-30T00:00:00Z"), "first_abuse_seen", Code.INVALID_TIMESTAMP, id="ext timestamp"),
        pytest.param(_account(notes="x"), "unknown property 'notes'", Code.UNKNOWN_PROPERTY, id="ext unknown"),
        pytest.param(_indicator(pattern=None), "missing required property 'pattern'", Code.MISSING_PROPERTY, id="missing pattern"),
        pytest.param(_indicator(valid_until="2026-10-01T00:00:00Z"), "valid_until", Code.TIMESTAMP_ORDER, id="valid_until order"),
        pytest.param(_indicator(pattern="[ipv4-addr:value = '1'"), "pattern:", Code.INVALID_PATTERN, id="bad pattern"),
        pytest.param(_indicator(confidence=101), "confidence must be between 0 and 100", Code.OUT_OF_RANGE, id="confidence"),
        pytest.param(_indicator(lang="en_GB"), "lang", Code.INVALID_VALUE, id="lang"),
        pytest.param(_indicator(revoked="no"), "revoked must be a boolean", Code.WRONG_TYPE, id="revoked"),
        pytest.param(_indicator(labels=[]), "labels must be a non-empty list", Code.WRONG_TYPE, id="labels"),
        pytest.param(_indicator(created_by_ref=f"report--{X}"), "created_by_ref must refer to identity", Code.WRONG_REF_TYPE, id="created_by_ref"),
        pytest.param(_indicator(object_marking_refs=[f"identity--{X}"]), "object_marking_refs[0] must refer to marking-definition", Code.WRONG_REF_TYPE, id="marking refs"),
        pytest.param(_indicator(external_references=[{"source_name": "x"}]), "external_references[0]", Code.PROPERTY_COMBINATION, id="external ref"),
        pytest.param(_indicator(granular_markings=[{"selectors": ["nope"], "marking_ref": f"marking-definition--{X}"}]),
                     "granular_markings[0].selectors[0]", Code.INVALID_VALUE, id="selector"),
        pytest.param(_indicator(created="2026-11-01T00:00:00Z"), "created must be precise to the millisecond", Code.TIMESTAMP_PRECISION, id="millis"),
        pytest.param(_indicator(x_Bad="x"), "property name 'x_Bad'", Code.INVALID_PROPERTY_NAME, id="custom name"),
        pytest.param(_indicator(severity="high"), "property 'severity' is reserved", Code.RESERVED_PROPERTY, id="reserved"),
        pytest.param(_indicator(extensions={"bogus": {"a_b": 1}}), "extensions key 'bogus'", Code.INVALID_EXTENSION, id="extension key"),
        pytest.param(_indicator(id=f"indicator--{X[:14]}7{X[15:]}"), "RFC 4122", Code.INVALID_ID, id="uuid version"),
        pytest.param(_indicator(pattern_version="3.0"), "pattern_version", Code.UNSUPPORTED_PATTERN_VERSION, id="pattern version"),
    ],
)
def test_message_names_the_field(obj: dict[str, Any], expected: str, code: Code) -> None:
    errors = validate(obj)
    assert errors, "expected the object to be invalid"
    assert all(isinstance(e, Problem) for e in errors)
    matching = [e for e in errors if expected in str(e)]
    assert matching, errors
    assert matching[0].code == code, matching
    # Callers format problems as strings: str() and f-strings give the message.
    assert f"{matching[0]}" == matching[0].message


def test_account_type_must_be_cloud_iaas() -> None:
    obj = copy.deepcopy(ACCOUNT)
    obj["account_type"] = "unix"
    assert [(e.code, e.property) for e in validate(obj)] == [(Code.NOT_IN_VOCABULARY, "account_type")]


def test_extension_only_on_user_account() -> None:
    obj = _indicator(extensions={IAAS: copy.deepcopy(ACCOUNT["extensions"][IAAS])})
    assert any(e.code == Code.INVALID_EXTENSION and "applies only to user-account" in str(e)
               for e in validate(obj))


def test_not_an_object() -> None:
    assert validate([]) == [Problem(Code.NOT_AN_OBJECT, "an object must be a JSON object, got array")]
    assert [str(p) for p in validate([])] == ["an object must be a JSON object, got array"]
    assert not is_valid({"type": "indicator"})


@pytest.mark.parametrize(
    ("obj", "code", "prop", "value"),
    [
        pytest.param(_indicator(lang="jane.doe@example.com"), Code.INVALID_VALUE, "lang",
                     "jane.doe@example.com", id="lang"),
        pytest.param({"type": "url", "spec_version": "2.1", "id": f"url--{X}", "value": "call 4155552671"},
                     Code.INVALID_VALUE, "value", "call 4155552671", id="url"),
        pytest.param(_indicator(created_by_ref="jane.doe@example.com"), Code.INVALID_ID, "created_by_ref",
                     "jane.doe@example.com", id="reference"),
        pytest.param(_indicator(confidence=4155552671), Code.OUT_OF_RANGE, "confidence", 4155552671,
                     id="number"),
        pytest.param(_indicator(**{"jane.doe@example.com": 1}), Code.INVALID_PROPERTY_NAME, "",
                     "jane.doe@example.com", id="property name"),
        pytest.param(_indicator(pattern="[email-addr:value = 'a' OR 'jane.doe@example.com']"),
                     Code.INVALID_PATTERN, "pattern", "jane.doe@example.com", id="pattern"),
    ],
)
def test_a_quoted_value_can_be_withheld(obj: dict[str, Any], code: Code, prop: str, value: Any) -> None:
    """The validator quotes some bad values back (its user is the submitter at a terminal); such
    problems say so, and their ``without_value()`` form names the property, never the value."""
    problem = next(e for e in validate(obj) if e.code == code)
    assert problem.property == prop and problem.quotes_value
    assert str(value) in problem.message
    withheld = problem.without_value()
    assert str(value) not in withheld.message and not withheld.quotes_value
    assert withheld.code == code and withheld.property == prop
    if prop:
        assert prop in withheld.message


def test_a_well_formed_id_or_timestamp_is_quoted_freely() -> None:
    """Quoting a well-formed id or timestamp repeats nothing personal: nothing to withhold."""
    problems = validate(_indicator(created_by_ref=f"report--{X}", created="2026-11-01T00:00:00Z",
                                   valid_until="2026-10-01T00:00:00Z"))
    assert {p.code for p in problems} == {Code.WRONG_REF_TYPE, Code.TIMESTAMP_PRECISION,
                                          Code.TIMESTAMP_ORDER}
    assert not any(p.quotes_value for p in problems)
    assert all(p.without_value() == p for p in problems)


def test_pattern_cache_parses_once() -> None:
    pattern = "[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'cache.example']"
    parsed_pattern_errors.cache_clear()
    validate(_indicator(pattern=pattern))
    validate(_indicator(pattern=pattern))
    info = parsed_pattern_errors.cache_info()
    assert info.misses == 1 and info.hits == 1


def test_single_comparisons_are_checked_without_filling_the_cache() -> None:
    # A worker that takes 10,000 distinct indicators keeps no entry for them (each would hold
    # some 300 bytes); what is cached is bounded.
    parsed_pattern_errors.cache_clear()
    for i in range(20):
        assert validate(_indicator(pattern=f"[ipv4-addr:value = '198.51.100.{i}']")) == []
    assert pattern_errors("[domain-name:va = 'x.example']") != ()
    info = parsed_pattern_errors.cache_info()
    assert info.currsize == 0 and info.maxsize is not None and info.maxsize <= 4096


def test_simple_pattern_fast_path_agrees_with_parser() -> None:
    from stix2patterns.validator import run_validator

    for pattern in ["[ipv4-addr:value = '1.2.3.4']", "[url:value != 'a\\'b\\\\']",
                    "[x-custom-thing:some_prop.sub = '']", "[user-account:user_id='x']"]:
        assert pattern_errors(pattern) == () and run_validator(pattern) == []


# ---------------------------------------------------------------------------------------------
# The shipped extension-definition, identity, bundle and schema.

OASIS = ValidationOptions(version="2.1", strict=False)


@pytest.mark.parametrize("name", ["identity.json", "extension-definition.json"])
def test_shipped_objects_are_valid(name: str) -> None:
    obj = json.loads((SCHEMA_DIR / name).read_text())
    assert validate(obj) == []
    result = validate_instance(obj, OASIS)
    assert result.is_valid, [e.message for e in result.errors]


def test_shipped_bundle_is_valid() -> None:
    bundle = json.loads((SCHEMA_DIR / "bundle.json").read_text())
    result = validate_instance(bundle, OASIS)
    assert result.is_valid, [e.message for e in result.errors]
    by_type = {obj["type"]: obj for obj in bundle["objects"]}
    assert set(by_type) == {"identity", "extension-definition"}
    for obj in bundle["objects"]:
        assert validate(obj) == []
    ext = by_type["extension-definition"]
    assert ext["id"] == IAAS
    assert ext["created_by_ref"] == by_type["identity"]["id"] == "identity--5e5e6b2a-5b8a-4a43-9a3e-1d2c0b4f7a10"
    assert ext["extension_types"] == ["property-extension"]
    assert ext["schema"] == "iaas-account.schema.json"
    assert ext["version"] == "1.0.0"
    assert ext["created"] == ext["modified"] == "2026-11-22T00:00:00.000Z"
    assert by_type["identity"]["name"] == "abusehub"
    assert by_type["identity"]["identity_class"] == "organization"
    assert by_type["identity"] == json.loads((SCHEMA_DIR / "identity.json").read_text())
    assert ext == json.loads((SCHEMA_DIR / "extension-definition.json").read_text())


def test_schema_is_draft_2020_12_and_accepts_the_example() -> None:
    schema = json.loads((SCHEMA_DIR / "iaas-account.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert validator.is_valid(ACCOUNT)
    assert not validator.is_valid(_account(kyc_status=None))
    assert validate_instance(ACCOUNT, OASIS).is_valid


# A value in the wrong place may be raw personal data: messages name the property, never echo it.
RAW_VALUE = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("obj", "expected", "code"),
    [
        pytest.param(_account(pseudonyms={"email": RAW_VALUE}),
                     "'pseudonyms.email' is not a pseudonym", Code.NOT_A_PSEUDONYM, id="pseudonym"),
        pytest.param(_account(provider_account_pseudonym=RAW_VALUE),
                     "'provider_account_pseudonym' is not a pseudonym", Code.NOT_A_PSEUDONYM, id="account pseudonym"),
        pytest.param(_account(kyc_status=RAW_VALUE),
                     "'kyc_status' must be one of verified, unverified, failed, pending, exempt; "
                     f"got a string of length {len(RAW_VALUE)}", Code.NOT_IN_VOCABULARY, id="kyc enum"),
        pytest.param(_account(acquisition=RAW_VALUE, reseller_ref=None), "'acquisition' must be one of",
                     Code.NOT_IN_VOCABULARY, id="acquisition enum"),
        pytest.param(_account(action_taken=RAW_VALUE), "'action_taken' must be one of", Code.NOT_IN_VOCABULARY, id="action enum"),
        pytest.param(_account(action_taken=RAW_VALUE, action_taken_at=None),
                     "missing required property 'action_taken_at' (action_taken is set)", Code.MISSING_PROPERTY, id="action time"),
        pytest.param(_account(provider_ref=RAW_VALUE), "'provider_ref' must be the id of an identity",
                     Code.INVALID_ID, id="provider ref"),
        pytest.param(_account(reseller_ref=RAW_VALUE), "'reseller_ref' must be the id of an identity",
                     Code.INVALID_ID, id="reseller ref"),
        pytest.param(_account(declared_country=RAW_VALUE), "'declared_country' must be an ISO 3166-1",
                     Code.NOT_IN_VOCABULARY, id="country"),
        pytest.param(_account(abused_resource_refs=[RAW_VALUE]), "'abused_resource_refs[0]' must be the id",
                     Code.INVALID_ID, id="resource ref"),
        pytest.param(_account(abuse_types=[RAW_VALUE]), "'abuse_types[0]' must be a lower-case",
                     Code.INVALID_VALUE, id="abuse type"),
        pytest.param(_account(first_abuse_seen=RAW_VALUE), "'first_abuse_seen' is not a valid STIX timestamp",
                     Code.INVALID_TIMESTAMP, id="timestamp"),
        pytest.param(_account(last_seen=4155552671), "'last_seen' must be a STIX timestamp string; got a number",
                     Code.WRONG_TYPE, id="timestamp type"),
        pytest.param(_account(confidence=RAW_VALUE), "'confidence' must be an integer from 0 to 100; got a string",
                     Code.WRONG_TYPE, id="confidence"),
        pytest.param(_account(**{RAW_VALUE: "x"}), "unknown property (a name that is not a property name",
                     Code.UNKNOWN_PROPERTY, id="unknown property"),
        pytest.param(_account(pseudonyms={RAW_VALUE: P}), "'pseudonyms' has unknown member (a name",
                     Code.UNKNOWN_PROPERTY, id="unknown pseudonym kind"),
    ],
)
def test_messages_do_not_echo_the_value(obj: dict[str, Any], expected: str, code: Code) -> None:
    errors = validate(obj)
    matching = [e for e in errors if expected in str(e)]
    assert matching and matching[0].code == code, errors
    for e in errors:
        text = str(e)
        assert "jane" not in text.lower() and "example.com" not in text and "4155552671" not in text, e
        assert "jane" not in e.property.lower() and "4155552671" not in e.property, e
        assert not e.quotes_value, e


def test_account_type_is_not_echoed() -> None:
    obj = copy.deepcopy(ACCOUNT)
    obj["account_type"] = RAW_VALUE
    errors = validate(obj)
    assert any("account_type must be 'cloud-iaas'" in str(e) for e in errors), errors
    assert not any(RAW_VALUE in str(e) for e in errors), errors
