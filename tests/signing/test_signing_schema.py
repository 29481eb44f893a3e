"""The shipped extension-definition, identity and JSON Schema of the signature extension."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stix2
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from hub.signing import (
    SIGNATURE_EXTENSION_ID,
    SignatureFormatError,
    SigningKey,
    sign_object,
    signatures_of,
)
from hub.stix.basics import check_basics
from tests.signing.vectors import HUB, SIGNED_AT, SUBMITTER, sign_v1

FOLDER = Path(__file__).resolve().parents[2] / "schemas" / "signature"


def load(name: str) -> Any:
    return json.loads((FOLDER / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    schema = load("signature.schema.json")
    Draft202012Validator.check_schema(schema)
    return schema


@pytest.fixture(scope="module")
def body_validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def entry_validator(schema: dict[str, Any]) -> Draft202012Validator:
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator({"$ref": schema["$id"] + "#/$defs/signature"}, registry=registry)


def test_extension_definition() -> None:
    definition = load("extension-definition.json")
    identity = load("identity.json")
    assert definition["id"] == SIGNATURE_EXTENSION_ID
    assert definition["created_by_ref"] == identity["id"]
    assert definition["extension_types"] == ["property-extension"]
    # Version 2.0.0 of the definition (signature scheme version 2) is a new version of the
    # object published on 2026-11-22: same id and created, a later modified.
    assert definition["version"] == "2.0.0"
    assert load("signature.schema.json")["$id"].endswith(":" + definition["version"])
    assert (definition["created"], definition["modified"]) == ("2026-11-22T00:00:00.000Z",
                                                                "2026-11-30T00:00:00.000Z")
    assert identity["created"] == identity["modified"] == "2026-11-22T00:00:00.000Z"
    assert (FOLDER / definition["schema"]).is_file()
    for obj in (definition, identity):
        check_basics(obj)
        parsed = stix2.parse(obj, allow_custom=False)
        assert parsed.id == obj["id"]


def test_one_abusehub_identity() -> None:
    """Every extension the project ships is authored by the same identity object."""
    copies = {p.parent.name: json.loads(p.read_text(encoding="utf-8"))
              for p in FOLDER.parent.glob("*/identity.json")}
    assert copies["signature"] == load("identity.json")
    assert all(obj == copies["signature"] for obj in copies.values()), sorted(copies)


@pytest.mark.parametrize("algs", [["Ed25519"], ["ES256"], ["Ed25519", "ES256", "Ed25519"]])
def test_signed_objects_validate(
    algs: list[str], body_validator: Draft202012Validator, entry_validator: Draft202012Validator,
    make_report: Callable[..., dict[str, Any]],
) -> None:
    obj = make_report()
    for i, alg in enumerate(algs):
        obj = sign_object(obj, SigningKey.generate(alg), SUBMITTER if i == 0 else HUB, SIGNED_AT)
    body = obj["extensions"][SIGNATURE_EXTENSION_ID]
    body_validator.validate(body)
    for entry in body["signatures"]:
        entry_validator.validate(entry)
    # The signed object is still STIX 2.1 that stix2 accepts.
    assert stix2.parse(obj, allow_custom=False).id == obj["id"]


def _entry(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]


@pytest.mark.parametrize(
    "member, value",
    [
        ("type", "jws"),
        ("algorithm", "RS256"),
        ("signer", "identity--ACME"),
        ("key_id", "kid-1"),
        ("key_id", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4l"),  # non-canonical last character
        ("signed", "2026-11-22 10:00:00Z"),
        ("value", "A" * 86 + "=="),
        ("value", "A" * 84),
        ("value", "A" * 85 + "B"),
        ("extra", "x"),
        ("key_id", None),
        ("version", "3"),  # unknown versions are refused
        ("version", "1"),  # version 1 is written without the member
        ("version", 2),
        ("version", None),
    ],
)
def test_schema_and_parser_reject_the_same_entries(
    member: str, value: Any, entry_validator: Draft202012Validator,
    make_report: Callable[..., dict[str, Any]],
) -> None:
    obj = sign_object(make_report(), SigningKey.generate(), SUBMITTER, SIGNED_AT)
    entry_validator.validate(_entry(obj))  # the control
    bad = copy.deepcopy(obj)
    _entry(bad)[member] = value
    assert not entry_validator.is_valid(_entry(bad))
    with pytest.raises(SignatureFormatError):
        signatures_of(bad)


@pytest.mark.parametrize(
    "body",
    [
        {"extension_type": "property-extension", "signatures": []},
        {"extension_type": "property-extension"},
        {"extension_type": "new-sdo", "signatures": [{}]},
        {"extension_type": "property-extension", "signatures": "x"},
    ],
)
def test_schema_rejects_bad_bodies(body: Any, body_validator: Draft202012Validator) -> None:
    assert not body_validator.is_valid(body)


def test_version_1_entries_still_validate(entry_validator: Draft202012Validator,
                                          make_report: Callable[..., dict[str, Any]]) -> None:
    """Entries written before versions were named (schema 1.0.0) are valid under 2.0.0."""
    obj = sign_v1(make_report(), SigningKey.generate(), SUBMITTER, "2026-11-22T10:00:00.000Z")
    entry = _entry(obj)
    assert "version" not in entry
    entry_validator.validate(entry)
    assert signatures_of(obj)[0].version == 1
