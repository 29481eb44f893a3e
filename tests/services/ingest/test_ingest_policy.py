"""The ingest policy in every collection: valid STIX, markings, personal data; terms indexed.

Runs over the ``hub`` fixture (SQLite and PostgreSQL). Each refusal is checked the way a
submitter meets it: a failure in the status naming the problem, the rest of the envelope stored.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.markings import TLP1_IDS, TLP2_IDS
from hub.stix.report import build_report
from hub.store.records import Collection, ObjectFilter, StatusRecord
from tests import factories as f

RAW_EMAIL = "mallory.fraud@example.net"
RAW_PHONE = "+14155552671"
RAW_CARD = "4111 1111 1111 1111"


def _setup(hub: Hub, max_tlp: str = "amber") -> tuple[Principal, Collection]:
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Reports", alias="reports", max_tlp=max_tlp)
    hub.admin.grant("acme", col.id, True, True)
    return hub.access.authenticate(token), col


def _submit(hub: Hub, principal: Principal, col: Collection, objects: list[dict[str, Any]]) -> StatusRecord:
    return hub.ingest.submit(principal, col, {"objects": objects})


def _failure(status: StatusRecord, stix_id: str) -> str:
    messages = [x["message"] for x in status.failures if x["id"] == stix_id]
    assert messages, f"{stix_id} was not refused: {status.failures}"
    return messages[0]


def _stored_ids(hub: Hub, col: Collection) -> set[str]:
    page = hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 1000)
    return {item.stix_id for item in page.items}


def _audit_text(hub: Hub) -> str:
    return "\n".join(orjson.dumps(r.data).decode() for r in hub.store.iter_audit())


def test_invalid_stix_is_refused_naming_the_property(hub: Hub) -> None:
    principal, col = _setup(hub)
    good = f.indicator()
    no_pattern = f.indicator()
    del no_pattern["pattern"]
    bad_confidence = f.indicator(confidence=101)
    bad_vocab = f.identity("x")
    bad_vocab["identity_class"] = 7
    status = _submit(hub, principal, col, [no_pattern, good, bad_confidence, bad_vocab])
    assert "invalid STIX 2.1" in _failure(status, no_pattern["id"])
    assert "'pattern'" in _failure(status, no_pattern["id"])
    assert "confidence" in _failure(status, bad_confidence["id"])
    assert "identity_class" in _failure(status, bad_vocab["id"])
    assert [s["id"] for s in status.successes] == [good["id"]]
    assert _stored_ids(hub, col) == {good["id"]}


@pytest.mark.parametrize("max_tlp,marking,allowed", [
    ("amber", TLP2_IDS["green"], True),
    ("amber", TLP2_IDS["amber"], True),
    ("amber", TLP1_IDS["amber"], True),
    ("amber", TLP2_IDS["amber+strict"], False),
    ("amber", TLP2_IDS["red"], False),
    ("amber", TLP1_IDS["red"], False),
    ("green", TLP2_IDS["amber"], False),
    ("clear", TLP1_IDS["white"], True),
    ("clear", TLP2_IDS["green"], False),
    ("red", TLP2_IDS["red"], True),
])
def test_tlp_ceiling(hub: Hub, max_tlp: str, marking: str, allowed: bool) -> None:
    principal, col = _setup(hub, max_tlp)
    obj = f.indicator(object_marking_refs=[marking])
    if marking in (TLP2_IDS["red"], TLP1_IDS["red"]):  # TLP:RED names its recipients
        obj["extensions"] = {SHARING_EXTENSION_ID: {"extension_type": "property-extension",
                                                    "recipients": [principal.party.identity_id]}}
    status = _submit(hub, principal, col, [obj])
    if allowed:
        assert status.successes and not status.failures
    else:
        assert "collection allows at most" in _failure(status, obj["id"])
        assert obj["id"] not in _stored_ids(hub, col)


def test_granular_tlp_above_the_ceiling_is_refused(hub: Hub) -> None:
    principal, col = _setup(hub, "green")
    obj = f.indicator(granular_markings=[{"marking_ref": TLP2_IDS["red"], "selectors": ["description"]}],
                      description="seen from several regions")
    assert "TLP:RED" in _failure(_submit(hub, principal, col, [obj]), obj["id"])


def test_unknown_marking_definition_is_refused(hub: Hub) -> None:
    principal, col = _setup(hub)
    unknown = "marking-definition--2f0b6c4e-61b8-4f3a-9b8e-5d8c1c0e7a11"
    obj = f.indicator(object_marking_refs=[unknown])
    granular = f.indicator(granular_markings=[{"marking_ref": unknown, "selectors": ["name"]}])
    status = _submit(hub, principal, col, [obj, granular])
    for o in (obj, granular):
        assert f"unknown marking definition {unknown}" in _failure(status, o["id"])
    assert _stored_ids(hub, col) == set()


def test_marking_defined_in_the_envelope_or_the_collection_is_known(hub: Hub) -> None:
    principal, col = _setup(hub)
    marking = f.marking_definition()
    # The user comes before the definition: envelope order does not matter.
    first_user = f.indicator(object_marking_refs=[marking["id"], TLP2_IDS["green"]])
    status = _submit(hub, principal, col, [first_user, marking])
    assert not status.failures, status.failures
    assert [s["id"] for s in status.successes] == [first_user["id"], marking["id"]]  # envelope order

    # A later submission may use the definition stored in the collection.
    later_user = f.indicator(object_marking_refs=[marking["id"]])
    assert not _submit(hub, principal, col, [later_user]).failures

    # Another collection does not know it.
    other = hub.admin.add_collection("Other", alias="other")
    hub.admin.grant("acme", other.id, True, True)
    principal = hub.access.authenticate(hub.admin.issue_token("acme"))
    elsewhere = f.indicator(object_marking_refs=[marking["id"]])
    assert "unknown marking definition" in _failure(_submit(hub, principal, other, [elsewhere]), elsewhere["id"])


def test_a_refused_definition_does_not_make_its_marking_known(hub: Hub) -> None:
    principal, col = _setup(hub)
    bad = f.marking_definition()
    bad["definition_type"] = "statement"
    bad["definition"] = "not an object"
    user = f.indicator(object_marking_refs=[bad["id"]])
    status = _submit(hub, principal, col, [user, bad])
    assert "invalid STIX 2.1" in _failure(status, bad["id"])
    assert "unknown marking definition" in _failure(status, user["id"])
    assert _stored_ids(hub, col) == set()


def test_raw_email_in_free_text_is_refused_without_echoing_it(hub: Hub) -> None:
    principal, col = _setup(hub)
    leaky = f.indicator(description=f"account opened with {RAW_EMAIL}, paid by card {RAW_CARD}")
    fine = f.indicator(description="C2 seen on port 443")
    status = _submit(hub, principal, col, [leaky, fine])
    message = _failure(status, leaky["id"])
    assert "personal data" in message and "description contains an e-mail address" in message
    assert "payment card number" in message
    assert RAW_EMAIL not in message and "4111" not in message
    assert [s["id"] for s in status.successes] == [fine["id"]]
    # Not in the status resource as served later, nor in the audit trail.
    served = hub.statuses.get(principal, status.id)
    assert RAW_EMAIL not in orjson.dumps(served.failures).decode()
    audit = _audit_text(hub)  # holds hashes: look for the card's written forms, not a short digit run
    assert RAW_EMAIL not in audit and RAW_CARD not in audit and RAW_CARD.replace(" ", "") not in audit


def test_personal_data_allowed_where_the_collection_says_so(hub: Hub) -> None:
    principal, col = _setup(hub)
    open_col = hub.admin.add_collection("Internal", alias="internal", allow_personal_data=True)
    hub.admin.grant("acme", open_col.id, True, True)
    principal = hub.access.authenticate(hub.admin.issue_token("acme"))
    obj = f.indicator(description=f"contact {RAW_EMAIL}")
    assert not _submit(hub, principal, open_col, [obj]).failures


def _abuse_report(hub: Hub, principal: Principal, account_id: str = "acct-1",
                  personal: dict[str, str] | None = None) -> list[dict[str, Any]]:
    facts = f.report_facts(principal.party.identity_id, account_id,
                           personal=personal if personal is not None else {"phone": RAW_PHONE})
    return build_report(facts, hub.pseudonyms.keyring())


def _account(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["type"] == "user-account")


def test_raw_phone_in_a_pseudonym_field_is_refused(hub: Hub) -> None:
    principal, col = _setup(hub)
    objects = _abuse_report(hub, principal)
    account = _account(objects)
    leaky = copy.deepcopy(account)
    # Same object, other version of the story: the provider pasted the number itself.
    leaky["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["phone"] = RAW_PHONE
    status = _submit(hub, principal, col, [leaky])
    message = _failure(status, leaky["id"])
    assert "pseudonyms.phone" in message
    assert RAW_PHONE not in message and "4155552671" not in message
    assert RAW_PHONE not in _audit_text(hub)


def test_raw_account_id_where_its_pseudonym_belongs_is_not_echoed(hub: Hub) -> None:
    principal, col = _setup(hub)
    leaky = copy.deepcopy(_account(_abuse_report(hub, principal)))
    leaky["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["provider_account_pseudonym"] = "acct-7781-2290"
    message = _failure(_submit(hub, principal, col, [leaky]), leaky["id"])
    assert "provider_account_pseudonym" in message and "acct-7781-2290" not in message


def test_a_built_report_is_stored_whole_and_its_terms_indexed(hub: Hub) -> None:
    principal, col = _setup(hub)
    objects = _abuse_report(hub, principal, personal={"phone": RAW_PHONE, "payment_instrument": RAW_CARD})
    bad = f.indicator(description=f"mail {RAW_EMAIL}")
    status = _submit(hub, principal, col, objects + [bad])
    assert len(status.successes) == len(objects)
    assert [x["id"] for x in status.failures] == [bad["id"]]
    assert _stored_ids(hub, col) == {o["id"] for o in objects}

    account = _account(objects)
    ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    report = objects[-1]
    assert report["type"] == "report"
    for pseudonym in (ext["pseudonyms"]["phone"], ext["pseudonyms"]["payment_instrument"],
                      ext["provider_account_pseudonym"]):
        assert hub.store.find_terms("pseudonym", [pseudonym], [col.pk]) == [(col.pk, account["id"], pseudonym)]
        found = hub.pseudonyms.correlate(principal, [pseudonym])
        assert [(c.collection, c.account, c.report) for c in found] == [(col.id, account["id"], report["id"])]
    assert (col.pk, report["id"], account["id"]) in hub.store.find_terms("ref", [account["id"]], [col.pk])


def test_correlation_sees_only_readable_collections(hub: Hub) -> None:
    principal, col = _setup(hub)
    phone = {"phone": RAW_PHONE}
    mine = _abuse_report(hub, principal, "acct-1", phone)
    _submit(hub, principal, col, mine)
    other_party, other_token = hub.admin.add_party("other", "provider")
    other_col = hub.admin.add_collection("Other reports", alias="other")
    hub.admin.grant("other", other_col.id, True, True)
    other = hub.access.authenticate(other_token)
    theirs = _abuse_report(hub, other, "acct-9", phone)
    _submit(hub, other, other_col, theirs)

    pseudonym = _account(mine)["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["phone"]
    assert pseudonym == _account(theirs)["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["phone"]
    assert [c.report for c in hub.pseudonyms.correlate(principal, [pseudonym])] == [mine[-1]["id"]]
    assert [c.report for c in hub.pseudonyms.correlate(other, [pseudonym])] == [theirs[-1]["id"]]
    both = hub.pseudonyms.correlate_as_operator([pseudonym])
    assert {c.report for c in both} == {mine[-1]["id"], theirs[-1]["id"]}
    assert [c.report for c in hub.pseudonyms.correlate_as_operator([pseudonym], "other")] == [theirs[-1]["id"]]


@pytest.mark.parametrize("prop", ["id", "created", "modified", "spec_version", "type"])
@pytest.mark.parametrize("raw", [RAW_EMAIL, RAW_PHONE])
def test_personal_data_in_a_basic_property_is_not_echoed(hub: Hub, prop: str, raw: str) -> None:
    """A value that fails the STIX basics is named by its property; personal data in it is not
    repeated into the status, the audit trail or anything stored."""
    principal, col = _setup(hub)
    good = f.indicator()
    bad = f.indicator()
    bad[prop] = raw
    status = _submit(hub, principal, col, [good, bad])
    assert len(status.successes) == 1 and len(status.failures) == 1
    message = status.failures[0]["message"]
    assert prop in message and raw not in message
    assert raw not in orjson.dumps(status.failures).decode()
    assert raw not in _audit_text(hub)
    assert _stored_ids(hub, col) == {good["id"]}


# ---------------------------------------------------------------------------------------------
# Values the validator quotes back are withheld from statuses: the problem is named by its
# property and rule, the value described by its type and length.

@pytest.mark.parametrize(("prop", "value", "named"), [
    pytest.param("lang", RAW_EMAIL, "lang", id="lang-email"),
    pytest.param("lang", "en_GB", "lang", id="lang-not-personal"),
    pytest.param("object_marking_refs", [f"marking-definition--{RAW_EMAIL}"], "object_marking_refs[0]",
                 id="marking-ref-with-email"),
    pytest.param("created_by_ref", RAW_PHONE, "created_by_ref", id="creator-phone"),
    pytest.param("x_bad", {"nested": RAW_CARD}, None, id="custom-card-is-personal-data"),
])
def test_a_value_quoted_by_a_check_is_not_repeated_in_the_status(
        hub: Hub, prop: str, value: Any, named: str | None) -> None:
    principal, col = _setup(hub)
    bad = f.indicator(**{prop: value})
    status = _submit(hub, principal, col, [bad])
    message = _failure(status, bad["id"])
    raw = value if isinstance(value, str) else orjson.dumps(value).decode()
    for text in (RAW_EMAIL, RAW_PHONE, RAW_CARD, "en_GB", "4111"):
        if text in raw:
            assert text not in message and text not in _audit_text(hub), message
    if named is not None:
        assert message.startswith("invalid STIX 2.1: ") and named in message
        assert "not shown" in message
    else:
        assert message.startswith("personal data in clear is refused here: ")


def test_the_marking_check_decides_on_the_problem_code(hub: Hub) -> None:
    """An unknown marking definition sends the marking check to the collection; a TLP level
    above the ceiling does not (and is refused whatever else is known)."""
    principal, col = _setup(hub, "green")
    marking = f.marking_definition()
    assert not _submit(hub, principal, col, [marking]).failures
    known_but_red = f.indicator(object_marking_refs=[marking["id"], TLP2_IDS["red"]])
    known = f.indicator(object_marking_refs=[marking["id"], TLP2_IDS["green"]])
    status = _submit(hub, principal, col, [known_but_red, known])
    assert "TLP:RED, collection allows at most TLP:GREEN" in _failure(status, known_but_red["id"])
    assert [s["id"] for s in status.successes] == [known["id"]]


def _signed_collection(hub: Hub) -> tuple[Principal, Collection]:
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Signed", alias="signed", require_signatures=True)
    hub.admin.grant("acme", col.id, True, True)
    return hub.access.authenticate(token), col


@pytest.mark.parametrize(("signer", "shown"), [
    pytest.param(RAW_EMAIL, False, id="signer-is-an-email"),
    pytest.param("acme", True, id="signer-is-a-name"),
])
def test_a_malformed_signature_is_named_without_personal_data(hub: Hub, signer: str, shown: bool) -> None:
    principal, col = _signed_collection(hub)
    obj = f.indicator(created_by_ref=principal.party.identity_id)
    entry = {"type": "jss", "algorithm": "Ed25519", "signer": signer, "key_id": "A" * 43,
             "signed": "2026-01-01T00:00:00.000Z", "value": "AA"}
    obj["extensions"] = {SIGNATURE_EXTENSION_ID: {"extension_type": "property-extension",
                                                  "signatures": [entry]}}
    message = _failure(_submit(hub, principal, col, [obj]), obj["id"])
    assert message.startswith("malformed signature")
    assert RAW_EMAIL not in message and RAW_EMAIL not in _audit_text(hub)
    # The signing library's account is told when it repeats nothing personal.
    assert ("signer must be an identity id" in message) is shown


def test_an_unsigned_object_is_refused_naming_the_rule(hub: Hub) -> None:
    principal, col = _signed_collection(hub)
    obj = f.indicator(created_by_ref=principal.party.identity_id)
    assert _failure(_submit(hub, principal, col, [obj]), obj["id"]).startswith("not signed: ")
