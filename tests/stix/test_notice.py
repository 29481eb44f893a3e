"""Notices and acknowledgements: the facts table, the builder, the hub's check and the shipped schemas."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hub.stix.extensions import NOTICE_ACK_EXTENSION_ID, NOTICE_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.markings import tlp_marking_id
from hub.stix.notice import (
    ack_id,
    ack_schema,
    addressed_to,
    build_ack,
    build_notice,
    check_notice_object,
    due_us,
    in_force,
    notice_schema,
    withdrawn_version,
)
from hub.stix.notice_facts import (
    AckFacts,
    InvalidAckFacts,
    InvalidNoticeFacts,
    NoticeFacts,
    normal_registration,
    normal_reseller_name,
)
from hub.stix.validator import validate
from tools import gen_notice_schema

AGENCY = "identity--00000000-0000-4000-8000-0000000000a1"
PROVIDER = "identity--00000000-0000-4000-8000-0000000000b1"
PSEUDONYM = "poprf-r255:k1:" + "ab" * 64
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas/notice"


def measure(**over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "issuer_identity_id": AGENCY, "notice_kind": "special-measure", "title": "Special measure 7",
        "legal_reference": "Order 2026-7", "measures": ["prohibit-new-accounts"],
        "jurisdictions": ["kp"], "resellers": [{"name": "Resell-Co., Ltd.", "country": "cn"}],
        "effective_from": datetime(2026, 12, 1, tzinfo=UTC),
    }
    facts.update(over)
    return facts


def problems_of(facts: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidNoticeFacts) as err:
        NoticeFacts.from_mapping(facts)
    return {p.property: p.message for p in err.value.found}


# -- the facts ---------------------------------------------------------------------------------------


def test_scope_is_kept_in_normal_form() -> None:
    facts = NoticeFacts.from_mapping(measure(
        resellers=[{"name": " Résell-Co., Ltd. ", "country": "cn", "registration_number": "91-1100 00x"}],
        ip_ranges=["2001:DB8::/32"], domains=["Bad.Example."]))
    assert facts.jurisdictions == ("KP",)
    assert facts.resellers == ({"name": "resell co ltd", "country": "CN", "registration_number": "91110000X"},)
    assert facts.ip_ranges == ("2001:db8::/32",)
    assert facts.domains == ("bad.example",)
    assert normal_reseller_name("RESELL  co ltd") == normal_reseller_name("Resell-Co., Ltd.")
    assert normal_registration("hrb 12-345") == "HRB12345"


@pytest.mark.parametrize(("over", "path", "words"), [
    ({"effective_until": datetime(2026, 11, 1, tzinfo=UTC)}, "effective_until", "earlier than effective_from"),
    ({"jurisdictions": ["Atlantis"]}, "jurisdictions[0]", "ISO 3166-1"),
    ({"resellers": [{"name": "A", "country": "zz"}]}, "resellers[0].country", "ISO 3166-1"),
    ({"resellers": [{"country": "CN"}]}, "resellers[0].name", "legal name"),
    ({"resellers": [{"name": "A", "country": "CN", "vat": "1"}]}, "resellers[0].vat", "unknown member"),
    ({"ip_ranges": ["203.0.113.7/24"]}, "ip_ranges[0]", "host bits zero"),
    ({"domains": ["not a domain"]}, "domains[0]", "domain name"),
    ({"account_pseudonyms": {"email": ["holder@example.com"]}}, "account_pseudonyms.email[0]", "pseudonym"),
    ({"measures": ["ban-everything"]}, "measures[0]", "measure"),
    ({"legal_reference": None}, "legal_reference", "required when notice_kind is special-measure"),
    ({"tlp": "red"}, "addressee_refs", "required when tlp is red"),
    ({"respond_by": datetime(2027, 1, 1, tzinfo=UTC)}, "respond_by", "only allowed when"),
    ({"title": "Write to holder@example.com"}, "title", "personal data"),
])
def test_a_bad_fact_is_named_by_its_path(over: dict[str, Any], path: str, words: str) -> None:
    found = problems_of(measure(**over))
    assert path in found, found
    assert words in found[path]


def test_a_special_measure_needs_a_scope() -> None:
    found = problems_of(measure(jurisdictions=None, resellers=None))
    assert "at least one of jurisdictions" in found["jurisdictions"]


def test_a_request_names_its_account_and_date() -> None:
    base = {"issuer_identity_id": AGENCY, "notice_kind": "preservation-request", "title": "Preserve"}
    found = problems_of(base)
    assert {"requested", "respond_by", "account_pseudonyms"} <= found.keys()
    facts = NoticeFacts.from_mapping({**base, "requested": "Keep the account's logs.",
                                      "respond_by": datetime(2026, 12, 20, tzinfo=UTC),
                                      "account_pseudonyms": {"provider_account": [PSEUDONYM]}})
    obj = build_notice(facts, now=NOW)
    assert validate(obj) == []
    assert due_us(obj) == int(datetime(2026, 12, 20, tzinfo=UTC).timestamp() * 1e6)


def test_ack_facts() -> None:
    with pytest.raises(InvalidAckFacts) as err:
        AckFacts.from_mapping({"notice_ref": "report--00000000-0000-4000-8000-000000000001",
                               "notice_modified": NOW, "status": "done"})
    assert {p.property for p in err.value.found} == {"notice_ref", "status"}


# -- the objects ---------------------------------------------------------------------------------------


def test_the_builder_makes_valid_objects() -> None:
    notice = build_notice(NoticeFacts.from_mapping(measure(addressee_refs=[PROVIDER], tlp="red")), now=NOW)
    assert validate(notice) == []
    assert notice["extensions"][NOTICE_EXTENSION_ID] == {"extension_type": "new-sdo"}
    assert notice["extensions"][SHARING_EXTENSION_ID]["recipients"] == [PROVIDER]
    assert notice["resellers"] == [{"name": "resell co ltd", "country": "CN"}]
    assert in_force(notice, int(NOW.timestamp() * 1e6))
    assert addressed_to(notice, PROVIDER) and not addressed_to(notice, AGENCY)

    gone = withdrawn_version(notice, now=NOW)
    assert validate(gone) == [] and gone["withdrawn"] is True and gone["modified"] > notice["modified"]
    assert not in_force(gone, int(NOW.timestamp() * 1e6))

    ack = build_ack(AckFacts(notice_ref=notice["id"], notice_modified=NOW, status="applied",
                             accounts_affected=3), provider=PROVIDER, agency=AGENCY, now=NOW)
    assert validate(ack) == []
    assert ack["id"] == ack_id(notice["id"], PROVIDER)
    assert ack["object_marking_refs"] == [tlp_marking_id("red")]
    assert ack["extensions"][SHARING_EXTENSION_ID]["recipients"] == sorted([AGENCY, PROVIDER])
    assert ack["extensions"][NOTICE_ACK_EXTENSION_ID] == {"extension_type": "new-sdo"}


def _notice() -> dict[str, Any]:
    return build_notice(NoticeFacts.from_mapping(measure(ip_ranges=["203.0.113.0/24"],
                                                         account_pseudonyms={"email": [PSEUDONYM]})), now=NOW)


def _set(**props: Any) -> Any:
    def change(obj: dict[str, Any]) -> None:
        obj.update(props)
    return change


def _drop(*names: str) -> Any:
    def change(obj: dict[str, Any]) -> None:
        for name in names:
            obj.pop(name, None)
    return change


def _ext(body: Any) -> Any:
    def change(obj: dict[str, Any]) -> None:
        obj["extensions"][NOTICE_EXTENSION_ID] = body
    return change


#: (what, change, hub refuses): the hub's check and the shipped schema agree on each.
MUTATIONS = [
    ("unchanged", _set(), False),
    ("unknown kind", _set(notice_kind="order"), True),
    ("unknown property", _set(colour="red"), True),
    ("reseller name not normal", _set(resellers=[{"name": "Resell Co", "country": "CN"}]), True),
    ("reseller country lower case", _set(resellers=[{"name": "resell co", "country": "cn"}]), True),
    ("reseller extra member", _set(resellers=[{"name": "a", "country": "CN", "x": "1"}]), True),
    ("jurisdiction lower case", _set(jurisdictions=["kp"]), True),
    ("pseudonym in clear", _set(account_pseudonyms={"email": ["holder@example.com"]}), True),
    ("pseudonym kind unknown", _set(account_pseudonyms={"name": [PSEUDONYM]}), True),
    ("measure open vocabulary", _set(measures=["freeze-payments"]), False),
    ("measure not a vocabulary word", _set(measures=["Freeze Payments"]), True),
    ("measures empty", _set(measures=[]), True),
    ("no measures", _drop("measures"), True),
    ("no legal reference", _drop("legal_reference"), True),
    ("no effective_from", _drop("effective_from"), True),
    ("respond_by on a measure", _set(respond_by="2027-01-01T00:00:00.000Z"), True),
    ("withdrawn", _set(withdrawn=True), False),
    ("withdrawn not boolean", _set(withdrawn="yes"), True),
    ("no created_by_ref", _drop("created_by_ref"), True),
    ("extension body", _ext({"extension_type": "property-extension"}), True),
]


@pytest.mark.parametrize(("what", "change", "refused"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_check_and_schema_agree(what: str, change: Any, refused: bool) -> None:
    obj = copy.deepcopy(_notice())
    change(obj)
    problems = validate(obj)
    assert bool(problems) == refused, problems
    schema = json.loads((SCHEMAS / "notice.schema.json").read_text())
    valid = jsonschema.Draft202012Validator(schema).is_valid(obj)
    assert valid == (not refused)


def test_rules_over_several_properties_are_checked_on_ingest() -> None:
    obj = _notice()
    obj["effective_until"] = "2026-11-01T00:00:00.000Z"
    assert any(p.property == "effective_until" and "earlier" in p.message for p in validate(obj))
    for prop in ("jurisdictions", "resellers", "ip_ranges", "account_pseudonyms"):
        obj.pop(prop)
    obj.pop("effective_until")
    assert any("at least one of" in p.message for p in validate(obj))


def test_the_extensions_belong_to_their_types() -> None:
    obj = _notice()
    del obj["extensions"][NOTICE_EXTENSION_ID]
    assert any(p.property == "extensions" for p in check_notice_object(obj, obj["type"]))
    note = {"type": "note", "id": "note--00000000-0000-4000-8000-000000000001", "spec_version": "2.1",
            "created": "2026-12-07T00:00:00.000Z", "modified": "2026-12-07T00:00:00.000Z",
            "content": "x", "object_refs": [obj["id"]],
            "extensions": {NOTICE_EXTENSION_ID: {"extension_type": "new-sdo"}}}
    assert any("defines the type 'abusehub-notice'" in p.message for p in validate(note))


def test_ack_schema_agrees() -> None:
    ack = build_ack(AckFacts(notice_ref=_notice()["id"], notice_modified=NOW, status="objection",
                             note="The order names a reseller we do not work with."),
                    provider=PROVIDER, agency=AGENCY, now=NOW)
    schema = json.loads((SCHEMAS / "notice-ack.schema.json").read_text())
    assert validate(ack) == [] and jsonschema.Draft202012Validator(schema).is_valid(ack)
    ack["status"] = "ignored"
    assert validate(ack) and not jsonschema.Draft202012Validator(schema).is_valid(ack)


def test_shipped_schemas_are_the_tables() -> None:
    assert gen_notice_schema.main(["--check"]) == 0
    assert json.loads((SCHEMAS / "notice.schema.json").read_text()) == notice_schema()
    assert json.loads((SCHEMAS / "notice-ack.schema.json").read_text()) == ack_schema()


@pytest.mark.parametrize("name", ["extension-definition.json", "ack-extension-definition.json", "identity.json"])
def test_shipped_definitions_are_valid(name: str) -> None:
    assert validate(json.loads((SCHEMAS / name).read_text())) == []
