"""The facts engine (hub.stix.facts): a table of fields in, checks, STIX properties and a JSON
Schema out; adding a field is one declaration (docs/CONTRIBUTING.md)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from hub.common.problems import Code
from hub.pseudonyms import PseudonymKeyring
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.facts import (
    Boolean,
    Choice,
    Country,
    Facts,
    Form,
    Found,
    FreeText,
    Integer,
    InvalidFacts,
    ListOf,
    Marking,
    Order,
    RequiredWith,
    Stix,
    StixId,
    Text,
    Timestamp,
    When,
    check_stix,
    fact,
    stix_schema,
)
from hub.stix.iaas import EXTENSION_PROPERTIES
from hub.stix.report import build_report
from hub.stix.report_facts import PROVIDER, InvalidReportFacts, ReportFacts
from tests.stix.test_report_facts import _template

IDENTITY = "identity--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


# The worked example of docs/CONTRIBUTING.md, "adding a report field": one declaration.
@dataclass(frozen=True, kw_only=True)
class WithHostingRegion(ReportFacts):
    hosting_region: str | None = fact(
        Country(), default=None, help="Where the abused resources ran.",
        stix=Stix("hosting_region", help="Country the abused resources ran in, ISO 3166-1 alpha-2."),
        form=Form("Hosting region", PROVIDER, hint="ISO 3166 alpha-2: where the abused resources ran, e.g. DE."))


def test_a_field_added_to_the_table_is_checked_built_and_in_the_schema() -> None:
    facts = WithHostingRegion.from_mapping({**_template(), "hosting_region": " de"})
    assert facts.hosting_region == "DE"
    with pytest.raises(InvalidReportFacts) as info:
        WithHostingRegion.from_mapping({**_template(), "hosting_region": "Atlantis"})
    assert [(p.property, p.code) for p in info.value.found] == [("hosting_region", Code.NOT_IN_VOCABULARY)]
    # The builder writes it into the extension.
    objects = build_report(facts, PseudonymKeyring({"k1": bytes(range(32))}, "k1"))
    account = next(o for o in objects if o["type"] == "user-account")
    assert account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["hosting_region"] == "DE"
    # The extension check and the schema made from the same table know it.
    props = (EXTENSION_PROPERTIES[0], *WithHostingRegion.model().stix_properties())
    found = Found()
    check_stix(props, {**account["extensions"][IAAS_ACCOUNT_EXTENSION_ID], "hosting_region": "de"}, found)
    assert [(p.property, p.code) for p in found.problems] == [("hosting_region", Code.NOT_IN_VOCABULARY)]
    assert "hosting_region" in stix_schema(props)["properties"]
    # The unchanged table knows nothing of it.
    with pytest.raises(InvalidReportFacts, match="unknown field 'hosting_region'"):
        ReportFacts.from_mapping({**_template(), "hosting_region": "DE"})


# A small kind of facts of its own, as a notice or a marking would be declared.
PAID = When("status", "paid")


class InvalidNotice(InvalidFacts):
    about = "notice"
    lead = "invalid notice"


@dataclass(frozen=True, kw_only=True)
class Notice(Facts):
    invalid = InvalidNotice
    rules = (Order("opened", "closed"),)

    about_ref: str = fact(StixId("indicator", "report"), required=True, stix=Stix("about_ref", required=True))
    status: str = fact(Choice(("open", "paid", "void")), default="open",
                       stix=Stix("status", required=True))
    receipt_ref: str | None = fact(StixId("note"), required=PAID, only_when=PAID, default=None,
                                   stix=Stix("receipt_ref", required=PAID, only_when=PAID))
    labels: tuple[str, ...] = fact(ListOf(Choice(("a", "b"), noun="label"), "label", min_items=0, unique=True),
                                   default=(), stix=Stix("labels"))
    opened: datetime | None = fact(Timestamp(), default=None, stix=Stix("opened"))
    closed: datetime | None = fact(Timestamp(), default=None, stix=Stix("closed"))
    note: str | None = fact(FreeText(), default=None)
    weight: int = fact(Integer(1, 9), default=5, stix=Stix("weight"))


REF = "report--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
NOTE = "note--5e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def _notice_problems(**data: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidNotice) as info:
        Notice.from_mapping({"about_ref": REF, **data})
    assert str(info.value).startswith("invalid notice: ")
    return [(p.property, p.code) for p in info.value.found]


@pytest.mark.parametrize(("data", "expected"), [
    ({"about_ref": IDENTITY}, [("about_ref", Code.INVALID_ID)]),
    ({"status": "paid"}, [("receipt_ref", Code.MISSING_PROPERTY)]),
    ({"receipt_ref": NOTE}, [("receipt_ref", Code.PROPERTY_COMBINATION)]),
    ({"labels": ["a", "c", "a"]}, [("labels[1]", Code.NOT_IN_VOCABULARY), ("labels[2]", Code.INVALID_VALUE)]),
    ({"labels": "a"}, [("labels", Code.WRONG_TYPE)]),
    ({"opened": "2024-02-02T00:00:00Z", "closed": "2024-02-01T00:00:00Z"}, [("closed", Code.TIMESTAMP_ORDER)]),
    ({"closed": "2024-02-01"}, [("closed", Code.INVALID_TIMESTAMP)]),
    ({"note": "ring +1 415 555 2671"}, [("note", Code.PERSONAL_DATA)]),
    ({"weight": 10}, [("weight", Code.OUT_OF_RANGE)]),
    ({"weight": True}, [("weight", Code.WRONG_TYPE)]),
    ({"stauts": "open"}, [("stauts", Code.UNKNOWN_PROPERTY)]),
])
def test_each_problem_carries_the_path_of_its_fact(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert _notice_problems(**data) == expected


def test_every_problem_is_found_at_once_and_no_value_is_repeated() -> None:
    problems = _notice_problems(status="paid", weight=0, note="mail alice@example.org", labels=["c"])
    assert problems == [("labels[0]", Code.NOT_IN_VOCABULARY), ("note", Code.PERSONAL_DATA),
                        ("weight", Code.OUT_OF_RANGE), ("receipt_ref", Code.MISSING_PROPERTY)]
    with pytest.raises(InvalidNotice) as info:
        Notice.from_mapping({"about_ref": REF, "note": "mail alice@example.org"})
    assert "alice" not in str(info.value)


def test_values_are_kept_as_read_and_become_stix() -> None:
    notice = Notice.from_mapping({"about_ref": REF, "status": "paid", "receipt_ref": NOTE,
                                  "labels": ["b"], "opened": datetime(2024, 1, 1).date()})
    assert notice.opened == datetime(2024, 1, 1, tzinfo=UTC) and notice.labels == ("b",)
    assert Notice.model().stix_values(notice) == {
        "about_ref": REF, "status": "paid", "receipt_ref": NOTE, "labels": ["b"],
        "opened": "2024-01-01T00:00:00.000Z", "weight": 5}


SCHEMA = jsonschema.Draft202012Validator(
    {**stix_schema(Notice.model().stix_properties()),
     "$defs": {"timestamp": {"type": "string"}, "identity_ref": {"type": "string"}}})


@pytest.mark.parametrize("body", [
    {"about_ref": REF, "status": "open"},
    {"about_ref": REF, "status": "paid", "receipt_ref": NOTE},
    {"about_ref": REF, "status": "paid"},
    {"about_ref": REF, "status": "void", "receipt_ref": NOTE},
    {"about_ref": REF},
    {"about_ref": REF, "status": "open", "weight": 10},
    {"about_ref": REF, "status": "open", "labels": ["a"]},
    {"about_ref": REF, "status": "open", "extra": 1},
])
def test_the_stix_check_and_the_schema_agree(body: dict[str, Any]) -> None:
    found = Found()
    check_stix(Notice.model().stix_properties(), body, found)
    assert (not found) == SCHEMA.is_valid(body), (found.problems, list(SCHEMA.iter_errors(body)))


def test_a_field_must_be_declared_with_fact() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Broken(Facts):
        name: str = "x"

    with pytest.raises(TypeError, match="Broken.name is not declared with fact"):
        Broken()


def test_the_report_facts_read_toml_dates_and_keep_utc() -> None:
    table = tomllib.loads('first_abuse_seen = 2025-02-12\n')
    facts = ReportFacts.from_mapping({**_template(), **table})
    assert facts.first_abuse_seen == datetime(2025, 2, 12, tzinfo=UTC)


# Conditions on several values, a yes-or-no fact, a fact required with any of others, and a
# condition judged on the value as read: what the report's markings are declared with.
AMBERISH = When("level", ("amber", "amber+strict"))


@dataclass(frozen=True, kw_only=True)
class Sharing(Facts):
    invalid = InvalidNotice
    rules = (RequiredWith("custodian", "countries", "onward"),)

    level: str = fact(Marking(), default="amber")
    recipients: tuple[str, ...] | None = fact(ListOf(StixId("identity"), "recipient"), required=When("level", "red"),
                                              only_when=When("level", "red"), default=None)
    organisations: tuple[str, ...] | None = fact(ListOf(Text(), "organisation"), only_when=AMBERISH, default=None)
    countries: tuple[str, ...] | None = fact(ListOf(Country(), "country"), default=None)
    onward: bool = fact(Boolean(), default=False, stix=Stix("onward"))
    custodian: str | None = fact(Text(), default=None)


def _sharing_problems(**data: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidNotice) as info:
        Sharing.from_mapping(data)
    return [(p.property, p.code, p.message) for p in info.value.found]


@pytest.mark.parametrize(("data", "expected"), [
    ({"level": "TLP:RED"}, [("recipients", Code.MISSING_PROPERTY, "recipients is required when level is red")]),
    ({"recipients": [IDENTITY]}, [("recipients", Code.PROPERTY_COMBINATION,
                                   "recipients is only allowed when level is red")]),
    ({"level": "green", "organisations": ["X"]}, [
        ("organisations", Code.PROPERTY_COMBINATION, "organisations is only allowed when level is amber or amber+strict")]),
    ({"onward": "yes", "custodian": "C"}, [("onward", Code.WRONG_TYPE, "onward must be true or false")]),
    ({"countries": ["DE"]}, [("custodian", Code.MISSING_PROPERTY,
                              "custodian is required with countries or onward")]),
    ({"onward": True}, [("custodian", Code.MISSING_PROPERTY, "custodian is required with countries or onward")]),
    ({"custodian": "C"}, [("custodian", Code.PROPERTY_COMBINATION, "custodian is only allowed with countries or onward")]),
    ({"onward": False, "custodian": "C"}, [
        ("custodian", Code.PROPERTY_COMBINATION, "custodian is only allowed with countries or onward")]),
])
def test_conditions_on_several_values_flags_and_facts_required_with_others(
        data: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert _sharing_problems(**data) == expected


def test_a_condition_is_judged_on_the_value_as_read() -> None:
    assert Sharing.from_mapping({"level": "TLP:Red", "recipients": [IDENTITY]}).level == "red"
    assert Sharing.from_mapping({"level": "Amber+Strict", "organisations": ["X"]}).organisations == ("X",)
    assert Sharing.from_mapping({"level": "white"}).level == "clear"
    kept = Sharing.from_mapping({"countries": ["de"], "onward": True, "custodian": "C"})
    assert kept.countries == ("DE",) and kept.onward is True
    assert Sharing.model().stix_values(kept) == {"onward": True}
    assert Sharing.model().stix_values(Sharing.from_mapping({})) == {}  # false is not given


def test_a_condition_on_several_values_in_stix_and_its_schema() -> None:
    props = ((Stix("level", Choice(("amber", "amber+strict", "red"))), Choice(("amber", "amber+strict", "red"))),
             (Stix("names", required=AMBERISH, only_when=AMBERISH), ListOf(Choice(("x", "y")), "name")))
    schema = jsonschema.Draft202012Validator(stix_schema(props))
    cases: list[tuple[dict[str, Any], bool]] = [
        ({"level": "amber", "names": ["x"]}, True), ({"level": "amber+strict"}, False),
        ({"level": "red", "names": ["x"]}, False), ({"level": "red"}, True)]
    for body, ok in cases:
        found = Found()
        check_stix(props, body, found)
        assert (not found) == ok == schema.is_valid(body), (body, found.problems)
    found = Found()
    check_stix(props, {"level": "amber+strict"}, found)
    assert [p.message for p in found.problems] == ["missing required property 'names' (level is 'amber+strict')"]
    assert AMBERISH.stix_text() == "level is 'amber' or 'amber+strict'"
