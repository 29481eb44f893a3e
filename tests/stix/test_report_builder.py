"""The analyst's report builder (hub.stix.report)."""

from __future__ import annotations

import re
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from hub.common.problems import Code, Problem
from hub.pseudonyms import PSEUDONYM_RE, PseudonymKeyring
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.markings import AMBER, GREEN, TLP2_IDS, check_markings
from hub.stix.pii import scan_object
from hub.stix.report import (
    InvalidReportFacts,
    ReportFacts,
    build_report,
    build_sighting,
    classify_resource,
    deterministic_sco_id,
)
from hub.stix.validator import validate

PROVIDER = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
OTHER_PROVIDER = "identity--0c4f2a1e-5b3d-4e6f-9a8b-7c6d5e4f3a2b"
RESELLER = "identity--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
NOW = datetime(2024, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
TS_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")

FACTS_TOML = f"""
provider_identity_id = "{PROVIDER}"
provider_name = "Example Cloud"
provider_account_id = "acct-0042-9917"
account_created = 2024-01-02T03:04:05Z
first_abuse_seen = 2024-02-01T00:00:00Z
last_seen = "2024-02-03T10:00:00+01:00"
acquisition = "reseller"
reseller_identity_id = "{RESELLER}"
reseller_name = "Resell Co"
kyc_status = "unverified"
declared_country = "us"
resources = [
    "203.0.113.5",
    "2001:db8::5",
    "Evil.Example.",
    "https://evil.example/login?next='x'",
    "198.51.100.0/24",
]
abuse_types = ["phishing", "scanning"]
action_taken = "suspended"
action_taken_at = 2024-02-03T11:00:00Z
confidence = 85
summary = "Phishing kit on a trial account opened through a reseller; scans from the same VMs."

[personal]
email = "Alice.Smith+cloud@Example.com"
phone = "(415) 555-2671"
payment_instrument = "4111 1111 1111 1111"
name = "Alice  Smith"
address = "1 Main St., Springfield, IL 62701"
"""

RAW_FORMS = [
    "Alice.Smith+cloud@Example.com", "alice.smith+cloud@example.com", "(415) 555-2671",
    "4155552671", "+14155552671", "4111 1111 1111 1111", "4111111111111111", "Alice  Smith",
    "alice smith", "Alice Smith", "1 Main St., Springfield", "1 main st springfield",
    "acct-0042-9917",
]


@pytest.fixture()
def keyring() -> PseudonymKeyring:
    return PseudonymKeyring({"2024-01": bytes(range(32))}, "2024-01")


@pytest.fixture()
def mapping() -> dict[str, Any]:
    return tomllib.loads(FACTS_TOML)


@pytest.fixture()
def objects(mapping: dict[str, Any], keyring: PseudonymKeyring) -> list[dict[str, Any]]:
    return build_report(ReportFacts.from_mapping(mapping), keyring, now=NOW)


def _by_type(objects: list[dict[str, Any]], t: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == t]


def _account_ext(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (account,) = _by_type(objects, "user-account")
    return account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]


def test_every_object_parses_with_stix2(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        parsed = stix2.parse(obj, allow_custom=True)
        assert parsed.id == obj["id"]


def test_validator_finds_no_errors(objects: list[dict[str, Any]]) -> None:
    # The only expected warning: "cloud-iaas" is not in account-type-ov (an open vocabulary).
    for obj in objects:
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
        warnings = [str(w) for w in result.warnings]
        assert all("account-type-ov" in w for w in warnings), warnings


def test_hub_validator_accepts_every_object(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        assert validate(obj) == [], obj["type"]


def test_without_personal_values_there_is_no_pseudonyms_member(
    mapping: dict[str, Any], keyring: PseudonymKeyring
) -> None:
    objs = build_report(ReportFacts.from_mapping(_without(mapping, "personal")), keyring, now=NOW)
    assert "pseudonyms" not in _account_ext(objs)
    assert all(validate(o) == [] for o in objs)


def test_no_raw_personal_value_in_output(objects: list[dict[str, Any]]) -> None:
    text = orjson.dumps(objects).decode()
    for raw in RAW_FORMS:
        assert raw not in text
        assert raw.lower() not in text.lower()
    for obj in objects:
        assert scan_object(obj) == []


def test_object_inventory(objects: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = {}
    for o in objects:
        counts[o["type"]] = counts.get(o["type"], 0) + 1
    assert counts == {
        "identity": 2, "user-account": 1, "ipv4-addr": 2, "ipv6-addr": 1, "domain-name": 1,
        "url": 1, "infrastructure": 1, "indicator": 5, "relationship": 11, "report": 1,
    }
    assert objects[-1]["type"] == "report"
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))


def test_common_properties(objects: list[dict[str, Any]]) -> None:
    amber = TLP2_IDS["amber"]
    for obj in objects:
        assert obj["spec_version"] == "2.1"
        t = obj["type"]
        if t == "identity":
            assert obj["object_marking_refs"] == [TLP2_IDS["clear"]]
            assert obj["created_by_ref"] == PROVIDER
            assert obj["identity_class"] == "organization"
        elif t in ("infrastructure", "indicator", "relationship", "report"):
            assert obj["created_by_ref"] == PROVIDER
            assert obj["object_marking_refs"] == [amber]
            assert obj["created"] == obj["modified"] == "2024-03-01T12:30:45.123Z"
            uuid_part = obj["id"].split("--", 1)[1]
            assert uuid_part[14] == "4", "SDO/SRO ids are UUIDv4"
        else:  # SCOs
            assert "created_by_ref" not in obj
            assert obj["object_marking_refs"] == [amber]
        for key, value in obj.items():
            if key in ("created", "modified", "valid_from", "valid_until", "published",
                       "first_seen", "last_seen"):
                assert TS_RE.match(value), (key, value)


@pytest.mark.parametrize(("resource", "lib_class", "value"), [
    ("203.0.113.5", stix2.IPv4Address, "203.0.113.5"),
    ("198.51.100.0/24", stix2.IPv4Address, "198.51.100.0/24"),
    ("2001:db8::5", stix2.IPv6Address, "2001:db8::5"),
    ("Evil.Example.", stix2.DomainName, "evil.example"),
    ("https://evil.example/login?next='x'", stix2.URL, "https://evil.example/login?next='x'"),
])
def test_sco_ids_are_deterministic_as_in_stix2(
    objects: list[dict[str, Any]], resource: str, lib_class: type, value: str
) -> None:
    expected_id = lib_class(value=value).id  # the OASIS library's UUIDv5
    sco_type, canonical = classify_resource(resource)
    assert canonical == value
    assert deterministic_sco_id(sco_type, {"value": canonical}) == expected_id
    assert expected_id in {o["id"] for o in objects}


@pytest.mark.parametrize("url", ["https://example.com/päth?q=ü", "http://例え.jp/"])
def test_non_ascii_url_id_as_in_stix2(url: str) -> None:
    assert deterministic_sco_id("url", {"value": url}) == stix2.URL(value=url).id


def test_user_account_id_follows_the_facts(mapping: dict[str, Any], keyring: PseudonymKeyring,
                                           objects: list[dict[str, Any]]) -> None:
    """Observables have no versions: the same facts give the same account object (an idempotent
    resubmission), new facts about the same account a new one, never a dropped update."""
    (account,) = _by_type(objects, "user-account")
    body = {k: v for k, v in account.items() if k != "id"}
    assert account["id"] == deterministic_sco_id("user-account", body)
    assert uuid.UUID(account["id"].split("--", 1)[1]).version == 5
    again = build_report(ReportFacts.from_mapping(mapping), keyring, now=NOW + timedelta(hours=1))
    assert _by_type(again, "user-account") == [account]
    later = dict(mapping, last_seen=datetime(2024, 5, 30, tzinfo=UTC), action_taken="terminated")
    (updated,) = _by_type(build_report(ReportFacts.from_mapping(later), keyring, now=NOW), "user-account")
    assert updated["id"] != account["id"] and updated["user_id"] == account["user_id"]
    ext = updated["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    assert (ext["last_seen"], ext["action_taken"]) == ("2024-05-30T00:00:00.000Z", "terminated")
    stix2.parse(updated, allow_custom=True)  # still a user-account the stix2 library reads


def test_indicators(objects: list[dict[str, Any]]) -> None:
    patterns = sorted(i["pattern"] for i in _by_type(objects, "indicator"))
    assert patterns == sorted([
        "[ipv4-addr:value = '203.0.113.5']",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        "[ipv6-addr:value = '2001:db8::5']",
        "[domain-name:value = 'evil.example']",
        "[url:value = 'https://evil.example/login?next=\\'x\\'']",
    ])
    for ind in _by_type(objects, "indicator"):
        assert ind["pattern_type"] == "stix"
        assert ind["indicator_types"] == ["malicious-activity"]
        assert ind["confidence"] == 85
        start = datetime.fromisoformat(ind["valid_from"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(ind["valid_until"].replace("Z", "+00:00"))
        assert end - start == timedelta(days=90)


def test_relationships(objects: list[dict[str, Any]]) -> None:
    (infra,) = _by_type(objects, "infrastructure")
    assert infra["infrastructure_types"] == ["phishing", "reconnaissance"]
    rels = {(r["relationship_type"], r["source_ref"], r["target_ref"])
            for r in _by_type(objects, "relationship")}
    expected = {("indicates", i["id"], infra["id"]) for i in _by_type(objects, "indicator")}
    expected |= {("consists-of", infra["id"], o["id"]) for o in objects
                 if o["type"] in ("ipv4-addr", "ipv6-addr", "domain-name", "url", "user-account")}
    assert rels == expected


def test_report_refers_to_everything_else(objects: list[dict[str, Any]]) -> None:
    report = objects[-1]
    assert report["object_refs"] == [o["id"] for o in objects[:-1]]
    assert report["published"] == "2024-03-01T12:30:45.123Z"
    assert report["description"].startswith("Phishing kit")
    assert set(report["report_types"]) <= {"threat-report", "indicator"}


def test_extension_body(objects: list[dict[str, Any]], keyring: PseudonymKeyring) -> None:
    ext = _account_ext(objects)
    assert ext["extension_type"] == "property-extension"
    assert ext["provider_ref"] == PROVIDER
    assert ext["reseller_ref"] == RESELLER
    assert RESELLER in {o["id"] for o in _by_type(objects, "identity")}
    assert ext["account_created"] == "2024-01-02T03:04:05.000Z"
    assert ext["last_seen"] == "2024-02-03T09:00:00.000Z"  # +01:00 converted to UTC
    assert ext["declared_country"] == "US"
    assert ext["acquisition"] == "reseller" and ext["kyc_status"] == "unverified"
    assert ext["action_taken"] == "suspended"
    assert ext["action_taken_at"] == "2024-02-03T11:00:00.000Z"
    assert ext["abuse_types"] == ["phishing", "scanning"]
    sco_ids = [o["id"] for o in objects if o["type"] in ("ipv4-addr", "ipv6-addr", "domain-name", "url")]
    assert ext["abused_resource_refs"] == sco_ids
    assert PSEUDONYM_RE.match(ext["provider_account_pseudonym"])
    assert set(ext["pseudonyms"]) == {"email", "phone", "payment_instrument", "name", "address"}
    # National phone number read in the declared country.
    assert ext["pseudonyms"]["phone"] == keyring.pseudonym("phone", "+1 415 555 2671")
    assert ext["pseudonyms"]["payment_instrument"] == keyring.pseudonym(
        "payment_instrument", "4111-1111-1111-1111")
    for p in ext["pseudonyms"].values():
        assert PSEUDONYM_RE.match(p)


def test_two_providers_same_card_same_pseudonym(mapping: dict[str, Any],
                                                keyring: PseudonymKeyring) -> None:
    other = dict(mapping, provider_identity_id=OTHER_PROVIDER, provider_name="Other Cloud",
                 acquisition="direct-signup", personal={"payment_instrument": "4111111111111111",
                                                 "email": "alice.smith+cloud@example.com"})
    del other["reseller_identity_id"], other["reseller_name"]
    a = _account_ext(build_report(ReportFacts.from_mapping(mapping), keyring, now=NOW))
    b = _account_ext(build_report(ReportFacts.from_mapping(other), keyring, now=NOW))
    assert a["pseudonyms"]["payment_instrument"] == b["pseudonyms"]["payment_instrument"]
    assert a["pseudonyms"]["email"] == b["pseudonyms"]["email"]
    # The same account id at two providers is two accounts.
    assert a["provider_account_pseudonym"] != b["provider_account_pseudonym"]
    assert "reseller_ref" not in b and set(b["pseudonyms"]) == {"payment_instrument", "email"}


def test_pseudonyms_made_where_the_values_are_are_used_as_they_are(mapping: dict[str, Any],
                                                                  keyring: PseudonymKeyring) -> None:
    """Facts that carry pseudonyms (made in the analyst's browser) instead of values give the
    report those pseudonyms; the builder is asked for none."""
    made = {kind: keyring.pseudonym(kind, value) for kind, value in
            [("provider_account", f"{PROVIDER}/acct-0042-9917"), ("email", "alice.smith+cloud@example.com"),
             ("phone", "+14155552671")]}
    blind = dict(mapping, pseudonyms=made, personal={"name": "Alice Smith"})
    del blind["provider_account_id"]

    class OnlyNames:
        def pseudonym(self, kind: str, value: str) -> str:
            assert kind == "name", kind
            return keyring.pseudonym(kind, value)

    ext = _account_ext(build_report(ReportFacts.from_mapping(blind), OnlyNames(), now=NOW))
    assert ext["provider_account_pseudonym"] == made["provider_account"]
    assert ext["pseudonyms"] == {"email": made["email"], "phone": made["phone"],
                                 "name": keyring.pseudonym("name", "alice smith")}
    # The same facts with values give the same report facts.
    full = _account_ext(build_report(ReportFacts.from_mapping(mapping), keyring, now=NOW))
    assert full["provider_account_pseudonym"] == made["provider_account"]
    assert full["pseudonyms"]["email"] == made["email"]


@pytest.mark.parametrize(("change", "path", "code"), [
    ({"pseudonyms": {"email": "alice@example.com"}}, "pseudonyms.email", Code.NOT_A_PSEUDONYM),
    ({"pseudonyms": {"shoe_size": "hmac-sha256:k1:" + "0" * 64}}, "pseudonyms.shoe_size", Code.UNKNOWN_PROPERTY),
    ({"pseudonyms": {"email": "hmac-sha256:k1:" + "0" * 64}}, "personal.email", Code.PROPERTY_COMBINATION),
    ({"pseudonyms": {"provider_account": "hmac-sha256:k1:" + "0" * 64}}, "provider_account_id",
     Code.PROPERTY_COMBINATION),
    ({"pseudonyms": "not a table"}, "pseudonyms", Code.WRONG_TYPE),
])
def test_pseudonym_fact_errors(mapping: dict[str, Any], change: dict[str, Any], path: str, code: Code) -> None:
    with pytest.raises(InvalidReportFacts) as exc:
        ReportFacts.from_mapping(dict(mapping, **change))
    assert (path, code) in [(p.property, p.code) for p in exc.value.found], exc.value.found
    assert str(exc.value) == "invalid report: " + "; ".join(p.message for p in exc.value.found)


def test_the_account_is_required_as_a_value_or_a_pseudonym(mapping: dict[str, Any]) -> None:
    del mapping["provider_account_id"]
    with pytest.raises(InvalidReportFacts) as exc:
        ReportFacts.from_mapping(mapping)
    assert [(p.property, p.code) for p in exc.value.found] == [("provider_account_id", Code.MISSING_PROPERTY)]
    assert exc.value.found[0].message.startswith("provider_account_id must be a non-empty string")


def test_markings_fit_the_collection(objects: list[dict[str, Any]]) -> None:
    assert all(check_markings(o, AMBER) is None for o in objects)
    refused = [o["type"] for o in objects if check_markings(o, GREEN) is not None]
    assert "identity" not in refused and "report" in refused


@pytest.mark.parametrize(("tlp", "marking"), [("red", TLP2_IDS["red"]),
                                              ("amber+strict", TLP2_IDS["amber+strict"]),
                                              ("CLEAR", TLP2_IDS["clear"])])
def test_tlp_choice(mapping: dict[str, Any], keyring: PseudonymKeyring, tlp: str, marking: str) -> None:
    recipients = {"recipients": [OTHER_PROVIDER]} if tlp == "red" else {}
    objs = build_report(ReportFacts.from_mapping(dict(mapping, tlp=tlp, **recipients)), keyring, now=NOW)
    assert objs[-1]["object_marking_refs"] == [marking]


def test_repr_hides_personal_values(mapping: dict[str, Any]) -> None:
    shown = repr(ReportFacts.from_mapping(mapping))
    for raw in RAW_FORMS:
        assert raw not in shown


def _problems(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(InvalidReportFacts) as info:
        ReportFacts.from_mapping(data)
    assert isinstance(info.value, ValueError)
    return info.value.found


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


FACT_ERRORS = [
    pytest.param(lambda m: _without(m, "provider_name"), "missing required field 'provider_name'",
                 "provider_name", id="missing"),
    pytest.param(lambda m: dict(m, provider_acount_id="x"), "unknown field 'provider_acount_id'",
                 "provider_acount_id", id="unknown-field"),
    pytest.param(lambda m: dict(m, provider_identity_id="identity--1"),
                 "provider_identity_id must be an identity id", "provider_identity_id", id="bad-identity"),
    pytest.param(lambda m: dict(m, account_created="yesterday"), "account_created is not a timestamp",
                 "account_created", id="bad-timestamp"),
    pytest.param(lambda m: dict(m, account_created=datetime(2024, 1, 1)),
                 "account_created must include a time zone", "account_created", id="naive-timestamp"),
    pytest.param(lambda m: dict(m, last_seen="2023-01-01T00:00:00Z"), "last_seen is earlier than first_abuse_seen",
                 "last_seen", id="order"),
    pytest.param(lambda m: dict(m, first_abuse_seen="2023-01-01T00:00:00Z"),
                 "first_abuse_seen is earlier than account_created", "first_abuse_seen", id="order-first"),
    pytest.param(lambda m: dict(m, resources=[]), "resources must list at least one", "resources",
                 id="no-resources"),
    pytest.param(lambda m: dict(m, resources="203.0.113.5"), "resources must be a list of strings", "resources",
                 id="resources-not-a-list"),
    pytest.param(lambda m: dict(m, resources=["203.0.113.5/24"]), "resources[0]: not a valid IP",
                 "resources[0]", id="cidr-host-bits"),
    pytest.param(lambda m: dict(m, resources=["not a host"]), "resources[0]: not an IP address",
                 "resources[0]", id="bad-resource"),
    pytest.param(lambda m: dict(m, resources=["203.0.113.5", "203.0.113.5"]),
                 "resources[1] repeats", "resources[1]", id="duplicate-resource"),
    pytest.param(lambda m: dict(m, abuse_types=["phishing", "phising"]), "unknown abuse type 'phising'",
                 "abuse_types[1]", id="bad-abuse-type"),
    pytest.param(lambda m: dict(m, acquisition="stolen"), "acquisition must be one of", "acquisition",
                 id="acquisition"),
    pytest.param(lambda m: _without(m, "reseller_name"), "reseller_name is required", "reseller_name",
                 id="reseller-name-missing"),
    pytest.param(lambda m: dict(m, reseller_identity_id="Resell Co"), "reseller_identity_id must be an identity id",
                 "reseller_identity_id", id="reseller-id-not-an-id"),
    pytest.param(lambda m: dict(m, acquisition="direct-signup"), "is only allowed when acquisition is reseller",
                 "reseller_identity_id", id="reseller-without-reseller"),
    pytest.param(lambda m: dict(m, declared_country="USA"), "declared_country must be an ISO",
                 "declared_country", id="country"),
    pytest.param(lambda m: dict(m, declared_country="XX"), "declared_country must be an ISO",
                 "declared_country", id="country-unassigned"),
    pytest.param(lambda m: _without(m, "kyc_status"), "missing required field 'kyc_status'", "kyc_status",
                 id="kyc-missing"),
    pytest.param(lambda m: dict(m, kyc_status="email-verified"), "kyc_status must be one of", "kyc_status",
                 id="kyc-enum"),
    pytest.param(lambda m: _without(m, "action_taken_at"), "action_taken_at is required", "action_taken_at",
                 id="action-at"),
    pytest.param(lambda m: dict(m, confidence=101), "confidence must be", "confidence", id="confidence"),
    pytest.param(lambda m: dict(m, confidence=True), "confidence must be", "confidence", id="confidence-bool"),
    pytest.param(lambda m: dict(m, tlp="orange"), "tlp must be one of", "tlp", id="tlp"),
    pytest.param(lambda m: dict(m, indicator_validity_days=0), "indicator_validity_days",
                 "indicator_validity_days", id="days"),
    # The markings.
    pytest.param(lambda m: dict(m, tlp="red"), "recipients is required when tlp is red", "recipients",
                 id="red-without-recipients"),
    pytest.param(lambda m: dict(m, tlp="TLP:RED"), "recipients is required when tlp is red", "recipients",
                 id="red-as-tlp-red-without-recipients"),
    pytest.param(lambda m: dict(m, recipients=[OTHER_PROVIDER]), "recipients is only allowed when tlp is red",
                 "recipients", id="recipients-without-red"),
    pytest.param(lambda m: dict(m, tlp="red", recipients=[]), "recipients must list at least one recipient",
                 "recipients", id="recipients-empty"),
    pytest.param(lambda m: dict(m, tlp="red", recipients=[OTHER_PROVIDER, "Agency"]),
                 "recipients[1] must be an identity id", "recipients[1]", id="recipient-not-an-id"),
    pytest.param(lambda m: dict(m, tlp="red", recipients=[OTHER_PROVIDER, OTHER_PROVIDER]),
                 "recipients[1] repeats an earlier recipient", "recipients[1]", id="recipient-twice"),
    pytest.param(lambda m: dict(m, tlp="green", share_with=["USA.OTHERCLOUD"]),
                 "share_with is only allowed when tlp is amber or amber+strict", "share_with",
                 id="share-with-green"),
    pytest.param(lambda m: dict(m, share_with=["USA.OTHERCLOUD", " "]),
                 "share_with[1] must be an organisation name", "share_with[1]", id="share-with-blank"),
    pytest.param(lambda m: dict(m, share_with=["x" * 201]), "share_with[0] must be an organisation name of 1 to 200",
                 "share_with[0]", id="share-with-long"),
    pytest.param(lambda m: dict(m, acs_countries=["US"], acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_countries[0] must be an ISO 3166-1 alpha-3 code", "acs_countries[0]", id="acs-country-alpha-2"),
    pytest.param(lambda m: dict(m, acs_countries=["USB"], acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_countries[0] must be an ISO 3166-1 alpha-3 code", "acs_countries[0]", id="acs-country-unknown"),
    pytest.param(lambda m: dict(m, acs_organisations=["DHS"], acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_organisations[0] must be an organisation code", "acs_organisations[0]", id="acs-org"),
    pytest.param(lambda m: dict(m, acs_entities=["GOV", "ISP"], acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_entities[1]: unknown entity type 'ISP'", "acs_entities[1]", id="acs-entity"),
    pytest.param(lambda m: dict(m, acs_further_sharing="yes", acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_further_sharing must be true or false", "acs_further_sharing", id="acs-further-not-bool"),
    pytest.param(lambda m: dict(m, acs_countries=["USA"]), "acs_custodian is required with acs_countries, "
                 "acs_organisations, acs_entities or acs_further_sharing", "acs_custodian", id="acs-no-custodian"),
    pytest.param(lambda m: dict(m, acs_further_sharing=True), "acs_custodian is required with", "acs_custodian",
                 id="acs-further-no-custodian"),
    pytest.param(lambda m: dict(m, acs_custodian="USA.EXAMPLECLOUD"), "acs_custodian is only allowed with",
                 "acs_custodian", id="acs-custodian-alone"),
    pytest.param(lambda m: dict(m, acs_further_sharing=False, acs_custodian="USA.EXAMPLECLOUD"),
                 "acs_custodian is only allowed with", "acs_custodian", id="acs-custodian-no-sharing"),
    pytest.param(lambda m: dict(m, acs_entities=["GOV"], acs_custodian="DHS"), "acs_custodian must be an "
                 "organisation code such as USA.DHS", "acs_custodian", id="acs-custodian-code"),
    pytest.param(lambda m: dict(m, personal={"ssn": "078-05-1120"}), "personal.ssn: unknown kind",
                 "personal.ssn", id="personal-kind"),
    pytest.param(lambda m: dict(m, personal={"payment_instrument": "4111 1111 1111 1112"}),
                 "personal.payment_instrument: not a valid card number", "personal.payment_instrument",
                 id="personal-card"),
    pytest.param(lambda m: dict(m, personal={"phone": "415 555 2671"}, declared_country=None),
                 "personal.phone: not a phone number", "personal.phone", id="personal-phone-no-region"),
    pytest.param(lambda m: dict(m, personal="alice@example.com"), "personal must be a table", "personal",
                 id="personal-not-a-table"),
    pytest.param(lambda m: dict(m, summary="holder: alice@example.com"),
                 "summary contains an e-mail address", "summary", id="summary-email"),
    pytest.param(lambda m: dict(m, summary="paid with 4111 1111 1111 1111"),
                 "summary contains a payment card number", "summary", id="summary-card"),
    pytest.param(lambda m: dict(m, summary="  "), "summary must be a non-empty string", "summary",
                 id="summary-blank"),
    pytest.param(lambda m: dict(m, report_name="call +1 415 555 2671"), "report_name contains a phone number",
                 "report_name", id="report-name-phone"),
]


@pytest.mark.parametrize(("change", "expected", "path"), FACT_ERRORS)
def test_fact_errors(mapping: dict[str, Any], change, expected: str, path: str) -> None:
    """Each problem says what is wrong, names its fact by path (what the web form places it
    by), and repeats no personal value."""
    data = change(mapping)
    problems = _problems(data)
    matching = [p for p in problems if expected in p.message]
    assert matching, problems
    assert matching[0].property == path, problems
    message = "; ".join(map(str, problems))
    for raw in ("4111", "415 555", "alice@", "078-05"):
        assert raw not in message


def test_the_markings_are_kept_as_read(mapping: dict[str, Any]) -> None:
    facts = ReportFacts.from_mapping(dict(mapping, tlp="TLP:Red", recipients=[OTHER_PROVIDER],
                                          acs_countries=["usa", " deu"], acs_organisations=["usa.dhs"],
                                          acs_entities=["GOV"], acs_custodian="usa.examplecloud"))
    assert facts.tlp == "red" and facts.recipients == (OTHER_PROVIDER,)
    assert facts.acs_countries == ("USA", "DEU") and facts.acs_organisations == ("USA.DHS",)
    assert facts.acs_custodian == "USA.EXAMPLECLOUD" and facts.acs_further_sharing is False
    assert ReportFacts.from_mapping(dict(mapping, tlp="TLP:WHITE")).tlp == "clear"
    amber = ReportFacts.from_mapping(dict(mapping, tlp="Amber+Strict", share_with=[" Example Agency "]))
    assert amber.tlp == "amber+strict" and amber.share_with == ("Example Agency",)


def test_all_problems_reported_together(mapping: dict[str, Any]) -> None:
    problems = _problems(dict(mapping, confidence=-1, tlp="blue", resources=["x"]))
    assert sorted(p.property for p in problems) == ["confidence", "resources[0]", "tlp"]


def test_name_in_summary_is_caught_by_the_leak_check(mapping: dict[str, Any],
                                                      keyring: PseudonymKeyring) -> None:
    facts = ReportFacts.from_mapping(dict(mapping, summary="Account held by ALICE SMITH."))
    with pytest.raises(InvalidReportFacts) as info:
        build_report(facts, keyring, now=NOW)
    assert "personal.name" in str(info.value)
    assert "alice" not in str(info.value).lower()


def test_sighting() -> None:
    indicator = "indicator--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    s = build_sighting(indicator, OTHER_PROVIDER, count=3,
                       first_seen="2024-02-10T00:00:00Z",
                       last_seen=datetime(2024, 2, 12, tzinfo=UTC), tlp="green", now=NOW)
    stix2.parse(s, allow_custom=True)
    assert s["type"] == "sighting" and s["sighting_of_ref"] == indicator
    assert s["where_sighted_refs"] == [OTHER_PROVIDER]
    assert s["created_by_ref"] == OTHER_PROVIDER
    assert s["count"] == 3
    assert s["first_seen"] == "2024-02-10T00:00:00.000Z"
    assert s["last_seen"] == "2024-02-12T00:00:00.000Z"
    assert s["object_marking_refs"] == [TLP2_IDS["green"]]
    assert s["created"] == "2024-03-01T12:30:45.123Z"


@pytest.mark.parametrize(("kwargs", "expected", "path"), [
    ({"indicator_id": "malware--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, "sighting_of_ref", "sighting_of_ref"),
    ({"sighted_by_ref": "organisation"}, "sighted_by_ref", "sighted_by_ref"),
    ({"where_sighted_refs": ["indicator--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}, "where_sighted_refs[0]",
     "where_sighted_refs[0]"),
    ({"count": -1}, "count", "count"),
    ({"count": 1_000_000_000}, "count", "count"),
    ({"first_seen": "2024-02-12T00:00:00Z", "last_seen": "2024-02-10T00:00:00Z"}, "earlier", "last_seen"),
    ({"first_seen": "soon"}, "first_seen", "first_seen"),
    ({"tlp": "purple"}, "tlp", "tlp"),
    ({"confidence": 101}, "confidence", "confidence"),
    ({"description": "seen from +1 415 555 2671"}, "description contains a phone number", "description"),
])
def test_sighting_errors(kwargs: dict[str, Any], expected: str, path: str) -> None:
    args = {"indicator_id": "indicator--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "sighted_by_ref": OTHER_PROVIDER, **kwargs}
    indicator_id, sighted_by = args.pop("indicator_id"), args.pop("sighted_by_ref")
    with pytest.raises(InvalidReportFacts, match=re.escape(expected)) as info:
        build_sighting(indicator_id, sighted_by, **args)
    assert path in [p.property for p in info.value.found]


@pytest.mark.parametrize(("resource", "expected"), [
    ("203.0.113.5", ("ipv4-addr", "203.0.113.5")),
    (" 203.0.113.5/32 ", ("ipv4-addr", "203.0.113.5")),
    ("2001:DB8:0::5", ("ipv6-addr", "2001:db8::5")),
    ("2001:db8::/32", ("ipv6-addr", "2001:db8::/32")),
    ("Bücher.Example", ("domain-name", "xn--bcher-kva.example")),
    ("http://203.0.113.5:8080/x", ("url", "http://203.0.113.5:8080/x")),
])
def test_classify_resource(resource: str, expected: tuple[str, str]) -> None:
    assert classify_resource(resource) == expected


@pytest.mark.parametrize("resource", ["", "localhost", "300.1.2.3", "exa mple.com", "http://",
                                      "-bad-.example", "alice@example.com", "example.123"])
def test_classify_resource_rejects(resource: str) -> None:
    with pytest.raises(ValueError):
        classify_resource(resource)
