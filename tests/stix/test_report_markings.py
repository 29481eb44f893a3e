"""The markings the report builder writes (hub.stix.report): TLP:RED's recipients and TLP:AMBER's
organisations in the hub's sharing extension on every object of the report, under its
signature, and the ACS 3.0 marking made from the facts' plain choices, as the hub's markings
(hub.stix.sharing) read them."""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from hub.common.timestamps import parse_timestamp_us
from hub.pseudonyms import PseudonymKeyring
from hub.signing import SigningKey
from hub.signing.documents import sign_objects, verify_objects
from hub.signing.keyset import KeySet
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.markings import TLP2_IDS
from hub.stix.report import ACS_NAMESPACE, ReportFacts, build_report
from hub.stix.sharing import (
    ACS_EXTENSION_ID,
    Audience,
    Reader,
    admits,
    audience_of,
    check_acs_definition,
    check_sharing_extension,
    parse_acs,
    recipients_of,
)
from hub.stix.validator import validate
from tests.stix.test_report_builder import FACTS_TOML, NOW, PROVIDER

AGENCY = "identity--0c4f2a1e-5b3d-4e6f-9a8b-7c6d5e4f3a2b"
OTHER = "identity--1d5e3b2f-6c4e-4f70-8a9b-8d7e6f5a4b3c"
ACS = {"acs_countries": ["usa"], "acs_entities": ["GOV", "CTR"], "acs_custodian": "usa.examplecloud"}
SUBMITTER = Reader(PROVIDER, "provider", "USA.EXAMPLECLOUD", country="USA", entity="CTR", terms_accepted=True)


@pytest.fixture(scope="module")
def keyring() -> PseudonymKeyring:
    return PseudonymKeyring({"2024-01": bytes(range(32))}, "2024-01")


def _build(keyring: PseudonymKeyring, **facts: Any) -> list[dict[str, Any]]:
    return build_report(ReportFacts.from_mapping({**tomllib.loads(FACTS_TOML), **facts}), keyring, now=NOW)


def _marked(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects the report's markings apply to: all but the identities (TLP:CLEAR, the same
    object in every report) and the marking-definitions."""
    return [o for o in objects if o["type"] not in ("identity", "marking-definition")]


def _definitions(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects if o["type"] == "marking-definition"}


def test_red_names_its_recipients_on_every_object(keyring: PseudonymKeyring) -> None:
    objects = _build(keyring, tlp="TLP:Red", recipients=[AGENCY, OTHER])
    for obj in _marked(objects):
        assert obj["object_marking_refs"] == [TLP2_IDS["red"]], obj["type"]
        body = obj["extensions"][SHARING_EXTENSION_ID]
        assert body == {"extension_type": "property-extension", "recipients": [AGENCY, OTHER]}
        assert check_sharing_extension(body) == []
        assert recipients_of(obj) == tuple(sorted((AGENCY, OTHER)))
        audience = audience_of(obj, SUBMITTER, {})
        assert isinstance(audience, Audience) and audience.tlp == "red", audience
        assert audience.recipients == tuple(sorted((AGENCY, OTHER)))
        assert admits(audience, Reader(AGENCY, "agency", "USA.DHS"))
        assert not admits(audience, Reader("identity--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "agency", "USA.DHS"))
    # The user-account carries it beside the IaaS-account extension.
    (account,) = [o for o in objects if o["type"] == "user-account"]
    assert set(account["extensions"]) == {IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID}
    for identity in (o for o in objects if o["type"] == "identity"):
        assert "extensions" not in identity and identity["object_marking_refs"] == [TLP2_IDS["clear"]]
    # Each object has a list of its own (a change to one is not a change to all).
    first, second = _marked(objects)[:2]
    assert first["extensions"][SHARING_EXTENSION_ID] is not second["extensions"][SHARING_EXTENSION_ID]


@pytest.mark.parametrize("tlp", ["amber", "amber+strict"])
def test_amber_names_the_organisations_whose_hubs_may_receive_it(keyring: PseudonymKeyring, tlp: str) -> None:
    objects = _build(keyring, tlp=tlp, share_with=[" USA.OTHERCLOUD", "Example Agency"])
    for obj in _marked(objects):
        body = obj["extensions"][SHARING_EXTENSION_ID]
        assert body == {"extension_type": "property-extension",
                        "organisations": ["USA.OTHERCLOUD", "Example Agency"]}
        audience = audience_of(obj, SUBMITTER, {})
        assert isinstance(audience, Audience) and audience.tlp == tlp
        # AMBER+STRICT reaches only hubs of the submitter's own organisation, whatever it names.
        assert audience.organisations == (("Example Agency", "USA.OTHERCLOUD") if tlp == "amber" else ())


@pytest.mark.parametrize("tlp", ["clear", "green", "amber"])
def test_without_names_there_is_no_sharing_extension(keyring: PseudonymKeyring, tlp: str) -> None:
    objects = _build(keyring, tlp=tlp)
    assert not any(SHARING_EXTENSION_ID in o.get("extensions", {}) for o in objects)
    assert [o["type"] for o in objects if o["type"] == "marking-definition"] == []


def test_the_acs_choices_become_one_acs_marking_every_object_references(keyring: PseudonymKeyring) -> None:
    objects = _build(keyring, tlp="amber", **ACS)
    marking = objects[0]
    assert marking["type"] == "marking-definition" and objects[-1]["type"] == "report"
    assert check_acs_definition(marking) == []
    assert "name" not in marking  # a consumer would read a name instead of the fields
    u = uuid.uuid5(ACS_NAMESPACE, objects[-1]["id"])
    assert marking["id"].startswith("marking-definition--") and uuid.UUID(marking["id"][20:]).version == 4
    body = marking["extensions"][ACS_EXTENSION_ID]
    assert body == {
        "extension_type": "property-extension",
        "identifier": f"isa:guide.19001.ACS3-{u}",
        "create_date_time": "2024-03-01T12:30:45.123Z",
        "responsible_entity_custodian": "USA.EXAMPLECLOUD",
        "policy_reference": "urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=deny",
        "control_set": {"classification": "U", "formal_determination": ["AIS"]},
        "access_privilege": [{"privilege_action": "ALL", "rule_effect": "permit", "privilege_scope": {
            "permitted_nationalities": ["USA"], "permitted_organizations": ["ALL"],
            "shareability": ["ALL"], "entity": ["GOV", "CTR"]}}],
    }
    assert parse_timestamp_us(marking["created"]) == int(NOW.replace(microsecond=123000).timestamp() * 1e6)
    for obj in _marked(objects):
        assert obj["object_marking_refs"] == [TLP2_IDS["amber"], marking["id"]], obj["type"]
    assert marking["id"] not in objects[-1]["object_refs"]
    # The marking-definition carries nothing but the ACS extension, and no marking of its own.
    assert set(marking["extensions"]) == {ACS_EXTENSION_ID} and "object_marking_refs" not in marking
    assert "marking-definition" not in {o["type"] for o in _build(keyring, tlp="amber")}


def test_the_acs_marking_admits_the_readers_the_choices_name(keyring: PseudonymKeyring) -> None:
    objects = _build(keyring, tlp="green", **ACS)
    report = objects[-1]
    audience = audience_of(report, SUBMITTER, _definitions(objects))
    assert isinstance(audience, Audience) and audience.tlp is None and len(audience.acs) == 1
    assert audience.acs[0] == parse_acs(objects[0])
    agency = Reader("identity--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "agency", "USA.DHS",
                    country="USA", entity="GOV", terms_accepted=True)
    assert admits(audience, agency)
    assert not admits(audience, Reader(agency.identity_id, "agency", "DEU.BSI", country="DEU", entity="GOV",
                                       terms_accepted=True))
    assert not admits(audience, Reader(agency.identity_id, "agency", "USA.DHS", country="USA", entity="MIL",
                                       terms_accepted=True))
    # AIS: only readers who accepted the programme's terms.
    assert not admits(audience, Reader(agency.identity_id, "agency", "USA.DHS", country="USA", entity="GOV"))


@pytest.mark.parametrize(("further", "default"), [(True, "permit"), (False, "deny")])
def test_further_sharing_is_the_sharing_default(keyring: PseudonymKeyring, further: bool, default: str) -> None:
    objects = _build(keyring, acs_organisations=["USA.DHS"], acs_further_sharing=further,
                     acs_custodian="USA.EXAMPLECLOUD")
    body = objects[0]["extensions"][ACS_EXTENSION_ID]
    assert body["policy_reference"].endswith(f"&sharedefault={default}")
    assert body["access_privilege"][0]["privilege_scope"] == {
        "permitted_nationalities": ["ALL"], "permitted_organizations": ["USA.DHS"],
        "shareability": ["ALL"], "entity": ["ALL"]}


def test_further_sharing_alone_makes_a_marking_for_every_reader_who_accepted_the_terms(
        keyring: PseudonymKeyring) -> None:
    objects = _build(keyring, acs_further_sharing=True, acs_custodian="USA.EXAMPLECLOUD")
    body = objects[0]["extensions"][ACS_EXTENSION_ID]
    assert list(body["access_privilege"][0]["privilege_scope"].values()) == [["ALL"]] * 4
    assert body["policy_reference"].endswith("&sharedefault=permit")


def test_the_marking_differs_per_report_and_the_objects_stay_valid(keyring: PseudonymKeyring) -> None:
    one = _build(keyring, tlp="red", recipients=[AGENCY], **ACS)
    two = _build(keyring, tlp="red", recipients=[AGENCY], **ACS)
    assert one[0]["id"] != two[0]["id"]
    assert one[0]["extensions"][ACS_EXTENSION_ID]["identifier"] != two[0]["extensions"][ACS_EXTENSION_ID]["identifier"]
    for obj in one:
        assert validate(obj) == [], obj["type"]
        assert stix2.parse(obj, allow_custom=True).id == obj["id"]
        # The OASIS validator: neither error nor warning.
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
        assert all("account-type-ov" in str(w) for w in result.warnings), [str(w) for w in result.warnings]


def test_the_signature_covers_the_recipients(keyring: PseudonymKeyring) -> None:
    key = SigningKey.generate()
    signed = sign_objects(_build(keyring, tlp="red", recipients=[AGENCY], **ACS), key, PROVIDER, NOW)
    keys = KeySet.from_jwks({"keys": [{**key.public_key.to_jwk(), "identity": PROVIDER, "party": "example",
                                       "not_before": "2024-01-01T00:00:00Z"}]})
    now_us = int(datetime(2024, 3, 2, tzinfo=UTC).timestamp() * 1_000_000)
    verdicts = verify_objects(signed, keys, now_us)
    assert verdicts and all(v.ok for v in verdicts), [v.reason for v in verdicts if not v.ok]
    # A recipient added on the way breaks the report's signature.
    report = dict(signed[-1])
    report["extensions"] = {**report["extensions"], SHARING_EXTENSION_ID: {
        "extension_type": "property-extension", "recipients": [AGENCY, OTHER]}}
    assert not verify_objects([report], keys, now_us)[0].ok
