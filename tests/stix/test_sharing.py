"""Who reads an object: audiences from TLP, the hub's sharing extension and ACS 3.0 markings,
who each admits, their canonical keys, and the fail-closed checks of ACS markings and of the
sharing extension (with the shipped schema held to the check)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stix2validator import ValidationOptions, validate_instance

from hub.common.problems import Code, Problem
from hub.stix.extensions import SHARING_EXTENSION_ID as SHARING
from hub.stix.markings import TLP1_IDS, TLP2_IDS
from hub.stix.sharing import (
    ACS_EXTENSION_ID as ACS,
)
from hub.stix.sharing import (
    OPEN,
    AcsPolicy,
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
from tests.harness import examples

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas/sharing"
OASIS = ValidationOptions(version="2.1", strict=False)


def ident(name: str) -> str:
    return f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def mid(name: str) -> str:
    return f"marking-definition--{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


# ---------------------------------------------------------------------------------------------
# The readers.

SUBMITTER = Reader(ident("submitter"), "provider", "USA.CLOUDA", country="USA", entity="CTR")
COLLEAGUE = Reader(ident("colleague"), "provider", "USA.CLOUDA", country="USA", entity="CTR")
AGENCY = Reader(ident("agency"), "agency", "USA.DHS", country="USA", entity="GOV",
                shareability=("LE",), terms_accepted=True)
FOREIGN = Reader(ident("foreign"), "provider", "DEU.CLOUDB", country="DEU", entity="CTR")
OPERATOR = Reader(ident("operator"), "operator", "HUB.OPS")
RECIPIENT = Reader(ident("recipient"), "agency", "USA.FBI", country="USA", entity="GOV")
REMOTE_RECIPIENT = ident("remote-recipient")  # a party of another hub
PEER_SAME_ORG = Reader(ident("peer-same"), "peer", "USA.CLOUDA", country="USA",
                       enforces_markings=True)
PEER_NAMED_ORG = Reader(ident("peer-named"), "peer", "USA.NAMED", country="USA",
                        enforces_markings=True)
PEER_OTHER_ORG = Reader(ident("peer-other"), "peer", "USA.OTHER", country="USA",
                        enforces_markings=True)
PEER_SAME_ORG_LAX = Reader(ident("peer-lax"), "peer", "USA.CLOUDA", country="USA")
PEER_SERVING = Reader(ident("peer-serving"), "peer", "USA.FARHUB", country="USA",
                      serves=(REMOTE_RECIPIENT,), enforces_markings=True)
PEER_SERVING_LAX = Reader(ident("peer-serving-lax"), "peer", "USA.FARHUB", country="USA",
                          serves=(REMOTE_RECIPIENT,))

READERS = {
    "submitter": SUBMITTER, "colleague": COLLEAGUE, "agency": AGENCY, "foreign": FOREIGN,
    "operator": OPERATOR, "recipient": RECIPIENT, "peer_same_org": PEER_SAME_ORG,
    "peer_named_org": PEER_NAMED_ORG, "peer_other_org": PEER_OTHER_ORG,
    "peer_same_org_lax": PEER_SAME_ORG_LAX, "peer_serving": PEER_SERVING,
    "peer_serving_lax": PEER_SERVING_LAX,
}
NON_PEERS = {"submitter", "colleague", "agency", "foreign", "operator", "recipient"}

EXT = {"extension_type": "property-extension", "recipients": [RECIPIENT.identity_id, REMOTE_RECIPIENT],
       "organisations": ["USA.NAMED"]}


def obj(*refs: str, ext: dict[str, Any] | None = EXT, **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, 'i')}",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
    }
    if refs:
        out["object_marking_refs"] = list(refs)
    if ext is not None:
        out["extensions"] = {SHARING: copy.deepcopy(ext)}
    out.update(props)
    return out


def audience(o: dict[str, Any], definitions: dict[str, dict[str, Any]] | None = None,
             submitter: Reader = SUBMITTER) -> Audience:
    result = audience_of(o, submitter, definitions or {})
    assert isinstance(result, Audience), result
    return result


def problem(o: dict[str, Any], definitions: dict[str, dict[str, Any]] | None = None) -> Problem:
    result = audience_of(o, SUBMITTER, definitions or {})
    assert isinstance(result, Problem), result
    return result


def admitted(aud: Audience, readers: dict[str, Reader] = READERS) -> set[str]:
    return {name for name, reader in readers.items() if admits(aud, reader)}


# ---------------------------------------------------------------------------------------------
# TLP, every level and generation, against every kind of reader.

EVERYONE = set(READERS)
AMBER_READERS = NON_PEERS | {"peer_same_org", "peer_named_org"}
STRICT_READERS = NON_PEERS | {"peer_same_org"}
RED_READERS = {"submitter", "recipient", "peer_serving"}


@pytest.mark.parametrize(("refs", "expected"), [
    pytest.param((), EVERYONE, id="unmarked"),
    pytest.param((TLP2_IDS["clear"],), EVERYONE, id="clear"),
    pytest.param((TLP2_IDS["green"],), EVERYONE, id="green"),
    pytest.param((TLP1_IDS["white"],), EVERYONE, id="tlp1-white"),
    pytest.param((TLP1_IDS["green"],), EVERYONE, id="tlp1-green"),
    pytest.param((TLP2_IDS["amber"],), AMBER_READERS, id="amber"),
    pytest.param((TLP1_IDS["amber"],), AMBER_READERS, id="tlp1-amber"),
    pytest.param((TLP2_IDS["amber+strict"],), STRICT_READERS, id="amber+strict"),
    pytest.param((TLP2_IDS["red"],), RED_READERS, id="red"),
    pytest.param((TLP1_IDS["red"],), RED_READERS, id="tlp1-red"),
    pytest.param((TLP2_IDS["green"], TLP2_IDS["red"]), RED_READERS, id="green+red: highest"),
    pytest.param((TLP2_IDS["amber+strict"], TLP1_IDS["amber"]), STRICT_READERS,
                 id="strict+tlp1-amber: highest"),
    pytest.param((TLP1_IDS["white"], TLP2_IDS["amber"]), AMBER_READERS, id="white+amber"),
])
def test_tlp_levels_admit_exactly(refs: tuple[str, ...], expected: set[str]) -> None:
    aud = audience(obj(*refs))
    assert admitted(aud) == expected
    assert aud.is_open == (expected == EVERYONE)


def test_open_markings_give_the_one_open_audience() -> None:
    for refs in [(), (TLP2_IDS["clear"],), (TLP1_IDS["green"],)]:
        aud = audience(obj(*refs))
        assert aud == OPEN and aud.key() == OPEN.key()
    assert OPEN.is_open and OPEN.tlp is None and not OPEN.acs


def test_amber_without_named_organisations_reaches_only_the_submitters_hubs() -> None:
    aud = audience(obj(TLP2_IDS["amber"], ext=None))
    assert aud.organisations == ()
    assert admitted(aud) == NON_PEERS | {"peer_same_org"}


def test_amber_strict_ignores_named_organisations() -> None:
    aud = audience(obj(TLP2_IDS["amber+strict"]))
    assert aud.organisations == () and aud.recipients == ()
    assert not admits(aud, PEER_NAMED_ORG)


def test_red_keeps_recipients_and_drops_organisations() -> None:
    aud = audience(obj(TLP2_IDS["red"]))
    assert aud.tlp == "red"
    assert aud.recipients == tuple(sorted([RECIPIENT.identity_id, REMOTE_RECIPIENT]))
    assert aud.organisations == ()
    assert aud.submitter == SUBMITTER.identity_id and aud.submitter_org == "USA.CLOUDA"
    # The submitter's colleague (same organisation) is not a recipient.
    assert not admits(aud, COLLEAGUE)
    assert not admits(aud, OPERATOR)


def test_amber_keeps_organisations_and_drops_recipients() -> None:
    aud = audience(obj(TLP2_IDS["amber"]))
    assert aud.tlp == "amber" and aud.organisations == ("USA.NAMED",) and aud.recipients == ()


def test_a_peer_whose_own_identity_is_a_recipient_reads_red_when_it_enforces() -> None:
    aud = audience(obj(TLP2_IDS["red"], ext={"extension_type": "property-extension",
                                           "recipients": [PEER_OTHER_ORG.identity_id]}))
    assert admits(aud, PEER_OTHER_ORG)
    lax = Reader(PEER_OTHER_ORG.identity_id, "peer", "USA.OTHER")
    assert not admits(aud, lax)


def test_a_peer_without_organisation_never_matches_amber() -> None:
    aud = audience(obj(TLP2_IDS["amber"]), submitter=Reader(ident("s2"), "provider", ""))
    assert not admits(aud, Reader(ident("p"), "peer", "", enforces_markings=True))
    assert admits(aud, Reader(ident("x"), "provider", ""))


def test_the_submitter_always_reads_what_it_submitted() -> None:
    aud = audience(obj(TLP2_IDS["red"]))
    assert admits(aud, SUBMITTER)
    acs_aud = audience(obj(TLP2_IDS["red"], ACS_ID), {ACS_ID: acs_def()},
                       submitter=FOREIGN)  # ACS: USA only, the submitter is German
    assert admits(acs_aud, FOREIGN)
    assert not admits(acs_aud, Reader(ident("other-german"), "provider", "DEU.CLOUDB",
                                      country="DEU"))
    # A peer that submitted (pulled objects) reads them back even without enforcing.
    peer_aud = audience(obj(TLP2_IDS["amber+strict"]), submitter=PEER_SERVING_LAX)
    assert admits(peer_aud, PEER_SERVING_LAX)


@pytest.mark.parametrize("ext", [
    None,
    {"extension_type": "property-extension", "organisations": ["USA.NAMED"]},
], ids=["no extension", "organisations only"])
def test_red_without_recipients_is_refused(ext: dict[str, Any] | None) -> None:
    p = problem(obj(TLP2_IDS["red"], ext=ext))
    assert p.code == Code.RED_WITHOUT_RECIPIENTS
    assert p.property == f"extensions[{SHARING!r}].recipients"
    assert "recipients" in p.message


def test_recipients_on_open_objects_restrict_nothing() -> None:
    assert audience(obj(TLP2_IDS["green"])) is OPEN
    assert audience(obj()) is OPEN


def test_a_malformed_sharing_extension_is_refused() -> None:
    p = problem(obj(TLP2_IDS["red"], ext={"extension_type": "property-extension",
                                        "recipients": ["bob"]}))
    assert p.code == Code.INVALID_VALUE and p.property.endswith(".recipients[0]")
    assert "bob" not in p.message


# ---------------------------------------------------------------------------------------------
# Marking references.


STATEMENT_ID = mid("statement")
STATEMENT = {"type": "marking-definition", "spec_version": "2.1", "id": STATEMENT_ID,
             "created": "2026-01-01T00:00:00.000Z", "definition_type": "statement",
             "definition": {"statement": "Copyright 2026 Example"}}


def test_unknown_marking_is_refused() -> None:
    p = problem(obj(TLP2_IDS["green"], mid("nowhere")))
    assert p.code == Code.UNKNOWN_MARKING and p.property == "object_marking_refs[1]"


def test_a_statement_marking_restricts_nothing() -> None:
    assert audience(obj(STATEMENT_ID), {STATEMENT_ID: STATEMENT}) is OPEN
    aud = audience(obj(TLP2_IDS["amber"], STATEMENT_ID), {STATEMENT_ID: STATEMENT})
    assert aud.tlp == "amber" and aud.acs == ()


def test_a_marking_of_another_kind_is_refused() -> None:
    other = {**STATEMENT, "definition_type": "x-custom", "definition": {"x": 1}}
    p = problem(obj(STATEMENT_ID), {STATEMENT_ID: other})
    assert p.code == Code.UNKNOWN_MARKING


def test_malformed_marking_refs_are_refused() -> None:
    assert problem(obj(ext=None, object_marking_refs="x")).code == Code.INVALID_MARKING_REF
    p = problem(obj(ext=None, object_marking_refs=[TLP2_IDS["green"], "identity--x"]))
    assert p.code == Code.INVALID_MARKING_REF and p.property == "object_marking_refs[1]"


def test_an_invalid_acs_definition_refuses_the_object() -> None:
    bad = acs_def(control_set={"classification": "S"})
    p = problem(obj(ACS_ID), {ACS_ID: bad})
    assert p.code == Code.INVALID_ACS_MARKING and p.property == "object_marking_refs[0]"
    assert "classification" in p.message


# ---------------------------------------------------------------------------------------------
# Granular markings: accepted only when they restrict nothing beyond the object's own markings.


def granular(ref: str | None = None, lang: str | None = None) -> dict[str, Any]:
    marking: dict[str, Any] = {"selectors": ["pattern"]}
    if ref is not None:
        marking["marking_ref"] = ref
    if lang is not None:
        marking["lang"] = lang
    return marking


@pytest.mark.parametrize(("refs", "marking", "definitions", "ok"), [
    pytest.param((TLP2_IDS["amber"],), granular(TLP2_IDS["amber"]), {}, True, id="same as object"),
    pytest.param((TLP2_IDS["amber"],), granular(TLP2_IDS["green"]), {}, True, id="lower tlp"),
    pytest.param((TLP2_IDS["amber"],), granular(TLP1_IDS["amber"]), {}, True, id="equal tlp1"),
    pytest.param((), granular(TLP2_IDS["green"]), {}, True, id="green on unmarked"),
    pytest.param((), granular(TLP1_IDS["white"]), {}, True, id="white on unmarked"),
    pytest.param((TLP2_IDS["clear"],), granular(TLP2_IDS["green"]), {}, True, id="green on clear"),
    pytest.param((), granular(lang="de"), {}, True, id="lang only"),
    pytest.param((), granular(STATEMENT_ID), {STATEMENT_ID: STATEMENT}, True, id="statement"),
    pytest.param((TLP2_IDS["amber"],), granular(TLP2_IDS["red"]), {}, False, id="red on amber"),
    pytest.param((TLP2_IDS["amber"],), granular(TLP2_IDS["amber+strict"]), {}, False,
                 id="strict on amber"),
    pytest.param((), granular(TLP2_IDS["amber"]), {}, False, id="amber on unmarked"),
    pytest.param((TLP2_IDS["green"],), granular(TLP2_IDS["amber"]), {}, False, id="amber on green"),
    pytest.param((), granular("ACS"), "ACS", False, id="acs only granular"),
    pytest.param(("ACS",), granular("ACS"), "ACS", True, id="acs also on object"),
])
def test_granular_markings(refs: tuple[str, ...], marking: dict[str, Any],
                           definitions: Any, ok: bool) -> None:
    if definitions == "ACS":
        definitions = {ACS_ID: acs_def()}
    refs = tuple(ACS_ID if r == "ACS" else r for r in refs)
    if marking.get("marking_ref") == "ACS":
        marking["marking_ref"] = ACS_ID
    o = obj(*refs, granular_markings=[granular(lang="en"), marking])
    result = audience_of(o, SUBMITTER, definitions)
    if ok:
        assert isinstance(result, Audience), result
    else:
        assert isinstance(result, Problem)
        assert result.code == Code.GRANULAR_MARKING_NOT_ENFORCED
        assert result.property == "granular_markings[1].marking_ref"
        assert "mark the whole object" in result.message


# ---------------------------------------------------------------------------------------------
# Marking-definitions carry only open markings.


@pytest.mark.parametrize(("refs", "ok"), [
    ((), True), ((TLP2_IDS["green"],), True), ((TLP1_IDS["white"],), True),
    ((TLP2_IDS["amber"],), False), ((TLP2_IDS["red"],), False), (("ACS",), False),
])
def test_marking_definitions_must_be_open(refs: tuple[str, ...], ok: bool) -> None:
    definition = copy.deepcopy(STATEMENT)
    refs = tuple(ACS_ID if r == "ACS" else r for r in refs)
    if refs:
        definition["object_marking_refs"] = list(refs)
    result = audience_of(definition, SUBMITTER, {ACS_ID: acs_def()})
    if ok:
        assert result is OPEN
    else:
        assert isinstance(result, Problem) and result.code == Code.MARKING_DEFINITION_NOT_OPEN
        assert result.property == "object_marking_refs"


def test_an_acs_marking_definition_itself_is_open() -> None:
    assert audience_of(acs_def(), SUBMITTER, {}) is OPEN


def test_a_red_marking_definition_with_recipients_is_still_refused() -> None:
    definition = {**STATEMENT, "object_marking_refs": [TLP2_IDS["red"]],
                  "extensions": {SHARING: copy.deepcopy(EXT)}}
    result = audience_of(definition, SUBMITTER, {})
    assert isinstance(result, Problem) and result.code == Code.MARKING_DEFINITION_NOT_OPEN


# ---------------------------------------------------------------------------------------------
# ACS 3.0.

ACS_ID = "marking-definition--a7b1dc1b-7471-4099-adc2-ab6b47a39cc4"
ACS_BODY: dict[str, Any] = {
    "extension_type": "property-extension",
    "identifier": "isa:guide.19001.ACS3-c80ccff0-5960-4052-93e8-c6f3a7ae5445",
    "create_date_time": "2025-01-15T00:00:00.000Z",
    "responsible_entity_custodian": "USA.DHS",
    "policy_reference": "urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=deny",
    "control_set": {"classification": "U"},
    "access_privilege": [{"privilege_action": "ALL",
                          "privilege_scope": {"permitted_nationalities": ["USA"]},
                          "rule_effect": "permit"}],
}


def acs_def(marking_id: str = ACS_ID, **changes: Any) -> dict[str, Any]:
    """The ACS marking-definition of MARKINGS.md, with body changes (None drops a field)."""
    body = copy.deepcopy(ACS_BODY)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return {"type": "marking-definition", "spec_version": "2.1", "id": marking_id,
            "created": "2025-01-15T00:00:00.000Z", "extensions": {ACS: body}}


def policy(privdefault: str = "deny", sharedefault: str = "deny", **changes: Any) -> AcsPolicy:
    changes.setdefault("policy_reference", f"urn:isa:policy:acs:ns:v3.0?privdefault={privdefault}"
                                           f"&sharedefault={sharedefault}")
    return parse_acs(acs_def(**changes))


def rule(effect: str = "permit", action: str = "DSPLY", **scope: list[str]) -> dict[str, Any]:
    return {"privilege_action": action, "privilege_scope": scope, "rule_effect": effect}


def acs_audience(*policies: AcsPolicy, tlp: str | None = None) -> Audience:
    return Audience(tlp, ident("acs-submitter"), "USA.SUBMITTER", acs=policies)


def reader(country: str | None = None, entity: str | None = None, org: str = "USA.READER",
           shareability: tuple[str, ...] = (), terms: bool = False, kind: str = "provider",
           enforces: bool = True, name: str = "reader") -> Reader:
    return Reader(ident(name), kind, org, country=country, entity=entity,
                  shareability=shareability, terms_accepted=terms, enforces_markings=enforces)


USA = reader("USA")
DEU = reader("DEU")
NOWHERE = reader()


def test_the_example_marking_admits_usa_readers_only() -> None:
    aud = audience(obj(ACS_ID, ext=None), {ACS_ID: acs_def()})
    assert aud.tlp is None and len(aud.acs) == 1 and not aud.is_open
    assert admits(aud, USA)
    assert not admits(aud, DEU)
    assert not admits(aud, NOWHERE)
    assert admits(aud, SUBMITTER)  # the submitter (and a US reader too)


def test_privdefault_decides_when_no_rule_matches() -> None:
    assert not admits(acs_audience(policy("deny", access_privilege=None)), USA)
    assert admits(acs_audience(policy("permit", access_privilege=None)), USA)
    assert admits(acs_audience(policy("permit", access_privilege=None)), NOWHERE)


def test_a_deny_rule_wins_over_privdefault_permit_and_over_a_permit() -> None:
    p = policy("permit", access_privilege=[rule("deny", permitted_nationalities=["RUS"])])
    assert not admits(acs_audience(p), reader("RUS"))
    assert admits(acs_audience(p), USA)
    both = policy("deny", access_privilege=[rule("permit", permitted_nationalities=["ALL"]),
                                            rule("deny", entity=["MIL"])])
    assert not admits(acs_audience(both), reader("USA", "MIL"))
    assert admits(acs_audience(both), reader("USA", "GOV"))


def test_an_unknown_attribute_matches_deny_lists_but_no_permit_list() -> None:
    deny = policy("permit", access_privilege=[rule("deny", permitted_nationalities=["RUS"])])
    assert not admits(acs_audience(deny), NOWHERE)
    deny_entity = policy("permit", access_privilege=[rule("deny", entity=["MIL"])])
    assert not admits(acs_audience(deny_entity), reader("USA"))
    deny_share = policy("permit", access_privilege=[rule("deny", shareability=["IC"])])
    assert not admits(acs_audience(deny_share), reader("USA"))
    assert admits(acs_audience(deny_share), reader("USA", shareability=("LE",)))
    permit = policy("deny", access_privilege=[rule(entity=["GOV"])])
    assert not admits(acs_audience(permit), reader("USA"))


def test_a_permit_scope_needs_every_list_and_a_deny_scope_any() -> None:
    permit = policy(access_privilege=[rule(permitted_nationalities=["USA"], entity=["GOV"])])
    assert admits(acs_audience(permit), reader("USA", "GOV"))
    assert not admits(acs_audience(permit), reader("USA", "CTR"))
    assert not admits(acs_audience(permit), reader("DEU", "GOV"))
    deny = policy("permit", access_privilege=[rule("deny", permitted_nationalities=["RUS"],
                                                   entity=["MIL"])])
    assert not admits(acs_audience(deny), reader("USA", "MIL"))
    assert not admits(acs_audience(deny), reader("RUS", "GOV"))
    assert admits(acs_audience(deny), reader("USA", "GOV"))


def test_within_a_list_any_value_matches() -> None:
    p = policy(access_privilege=[rule(permitted_nationalities=["DEU", "USA"])])
    assert admits(acs_audience(p), USA) and admits(acs_audience(p), DEU)
    assert not admits(acs_audience(p), reader("FRA"))


def test_several_permit_rules_any_one_suffices() -> None:
    p = policy(access_privilege=[rule(permitted_nationalities=["DEU"]), rule(entity=["GOV"])])
    assert admits(acs_audience(p), DEU)
    assert admits(acs_audience(p), reader("FRA", "GOV"))
    assert not admits(acs_audience(p), reader("FRA", "CTR"))


def test_all_matches_anyone() -> None:
    everyone = policy(access_privilege=[rule(permitted_nationalities=["ALL"])])
    assert admits(acs_audience(everyone), NOWHERE)
    nobody = policy("permit", access_privilege=[rule("deny", entity=["ALL"])])
    assert not admits(acs_audience(nobody), reader("USA", "GOV"))


def test_permitted_organizations() -> None:
    p = policy(access_privilege=[rule(permitted_organizations=["USA.DHS"])])
    assert admits(acs_audience(p), AGENCY)
    assert not admits(acs_audience(p), USA)
    sector = policy(access_privilege=[rule(permitted_organizations=["FIN"])])
    assert not admits(acs_audience(sector), reader("USA", org="FIN.BANK"))
    deny_sector = policy("permit", access_privilege=[rule("deny", permitted_organizations=["FIN"])])
    assert not admits(acs_audience(deny_sector), USA)
    deny_org = policy("permit", access_privilege=[rule("deny", permitted_organizations=["USA.DHS"])])
    assert not admits(acs_audience(deny_org), AGENCY)
    assert admits(acs_audience(deny_org), USA)


def test_shareability_scope() -> None:
    p = policy(access_privilege=[rule(shareability=["LE", "IC"])])
    assert admits(acs_audience(p), reader("USA", shareability=("LE",)))
    assert not admits(acs_audience(p), reader("USA", shareability=("NCC",)))
    assert not admits(acs_audience(p), USA)


@pytest.mark.parametrize("action", ["IDSRC", "TENOT", "NETDEF", "LEGAL", "INTEL", "TEARLINE",
                                    "OPACTION", "REQUEST", "ANONYMOUSACCESS", "CISAUSES"])
def test_only_display_and_all_rules_govern_reading(action: str) -> None:
    permit = policy("deny", access_privilege=[rule(action=action, permitted_nationalities=["ALL"])])
    assert not admits(acs_audience(permit), USA)
    deny = policy("permit", access_privilege=[rule("deny", action=action,
                                                   permitted_nationalities=["ALL"])])
    assert admits(acs_audience(deny), USA)
    assert permit.access == () and deny.access == ()


@pytest.mark.parametrize(("control_set", "admitted_readers", "refused_readers"), [
    ({"entity": ["GOV", "MIL"]}, [reader("USA", "GOV")], [reader("USA", "CTR"), USA]),
    ({"shareability": ["LE"]}, [reader("USA", shareability=("IC", "LE"))],
     [reader("USA", shareability=("IC",)), USA]),
    ({"formal_determination": ["NF"]}, [USA], [DEU, NOWHERE]),
    ({"formal_determination": ["AIS"]}, [reader("DEU", terms=True)], [USA]),
    ({"formal_determination": ["AIS", "NF"]}, [reader("USA", terms=True)],
     [reader("DEU", terms=True), USA]),
    ({"formal_determination": ["PUBREL", "FOUO", "NO-PII-PRESENT"]}, [USA, DEU, NOWHERE], []),
    ({"caveat": ["CISAPROPRIETARY"]}, [reader("USA", org="USA.DHS")], [USA]),
    ({"caveat": ["FISA", "POSSIBLEPII"]}, [USA, NOWHERE], []),
    ({"sensitivity": ["PCII", "PII", "NTOC_DHS_ECYBER_SVC_SHARE.NSA.NSA"]}, [USA, NOWHERE], []),
    ({"permitted_nationalities": ["USA", "CAN"]}, [USA, reader("CAN")], [DEU, NOWHERE]),
    ({"permitted_organizations": ["USA.DHS"]}, [reader(org="USA.DHS")], [USA]),
    ({"permitted_organizations": ["CIKR"]}, [], [USA, reader(org="CIKR")]),
])
def test_control_set(control_set: dict[str, Any], admitted_readers: list[Reader],
                     refused_readers: list[Reader]) -> None:
    p = policy("permit", control_set={"classification": "U", **control_set}, access_privilege=None)
    aud = acs_audience(p)
    for r in admitted_readers:
        assert admits(aud, r), r
    for r in refused_readers:
        assert not admits(aud, r), r


def test_every_acs_marking_must_admit() -> None:
    usa = policy(access_privilege=[rule(permitted_nationalities=["USA", "DEU"])])
    gov = policy(identifier="isa:guide.19001.ACS3-d80ccff0-5960-4052-93e8-c6f3a7ae5445",
                 access_privilege=[rule(entity=["GOV"])])
    aud = acs_audience(usa, gov)
    assert admits(aud, reader("USA", "GOV"))
    assert not admits(aud, reader("USA", "CTR"))
    assert not admits(aud, reader("FRA", "GOV"))
    second = acs_def(mid("acs-2"), identifier="isa:guide.19001.ACS3-d80ccff0-5960-4052-93e8-c6f3a7ae5445",
                     access_privilege=[rule(entity=["GOV"])])
    from_obj = audience(obj(ACS_ID, mid("acs-2"), ext=None), {ACS_ID: acs_def(), mid("acs-2"): second})
    assert len(from_obj.acs) == 2
    assert admitted(from_obj, {"gov": reader("USA", "GOV"), "ctr": reader("USA", "CTR"),
                               "deu": reader("DEU", "GOV")}) == {"gov"}


def test_tlp_and_acs_both_apply() -> None:
    aud = audience(obj(TLP2_IDS["amber"], ACS_ID), {ACS_ID: acs_def()})
    assert aud.tlp == "amber"
    assert admits(aud, AGENCY)
    assert not admits(aud, FOREIGN)  # amber lets every non-peer in, ACS keeps it to USA
    assert admits(aud, PEER_NAMED_ORG) is False  # a peer must pass further_sharing too
    red = audience(obj(TLP2_IDS["red"], ACS_ID), {ACS_ID: acs_def()})
    assert admits(red, RECIPIENT)
    assert not admits(red, AGENCY)


# ---------------------------------------------------------------------------------------------
# further_sharing: peers only.

PEER_US = reader("USA", org="USA.PEERHUB", kind="peer", name="peer-us")
PEER_DE = reader("DEU", org="DEU.PEERHUB", kind="peer", name="peer-de")
PEER_NOWHERE = reader(None, org="XXX.PEERHUB", kind="peer", name="peer-nowhere")
OPEN_ACCESS = {"access_privilege": None}


def shared(sharedefault: str, *rules: dict[str, Any]) -> Audience:
    return acs_audience(policy("permit", sharedefault,
                               further_sharing=list(rules) if rules else None, **OPEN_ACCESS))


def share(effect: str, *scope: str) -> dict[str, Any]:
    return {"sharing_scope": list(scope), "rule_effect": effect}


def test_further_sharing_does_not_apply_to_readers_of_this_hub() -> None:
    aud = shared("deny")
    assert admits(aud, USA) and admits(aud, reader(org="USA.PEERHUB", name="not-a-peer"))
    assert not admits(aud, PEER_US)


def test_sharedefault_decides_for_peers_when_no_rule_matches() -> None:
    assert admits(shared("permit"), PEER_US)
    assert not admits(shared("deny"), PEER_US)
    assert not admits(shared("deny", share("permit", "USA.ELSEWHERE")), PEER_US)


def test_further_sharing_rules_by_organisation() -> None:
    assert admits(shared("deny", share("permit", "USA.PEERHUB")), PEER_US)
    assert not admits(shared("permit", share("deny", "USA.PEERHUB")), PEER_US)
    assert not admits(shared("deny", share("permit", "USA.PEERHUB"), share("deny", "USA.PEERHUB")),
                      PEER_US)


def test_further_sharing_foreign_governments() -> None:
    permit = shared("deny", share("permit", "FOREIGNGOV"))
    assert admits(permit, PEER_DE)
    assert not admits(permit, PEER_US)
    assert not admits(permit, PEER_NOWHERE)
    deny = shared("permit", share("deny", "FOREIGNGOV"))
    assert not admits(deny, PEER_DE)
    assert admits(deny, PEER_US)
    assert not admits(deny, PEER_NOWHERE)


@pytest.mark.parametrize("sector", ["SECTOR", "CIKR", "PRIVATESECTOR"])
def test_further_sharing_sectors_permit_nobody_and_deny_everybody(sector: str) -> None:
    assert not admits(shared("deny", share("permit", sector)), PEER_US)
    assert not admits(shared("permit", share("deny", sector)), PEER_US)


def test_a_peer_that_does_not_enforce_markings_gets_only_open_objects() -> None:
    lax = reader("USA", org="USA.PEERHUB", kind="peer", enforces=False, name="lax")
    assert not admits(shared("permit"), lax)
    assert admits(OPEN, lax)
    assert not admits(audience(obj(TLP2_IDS["amber"]), submitter=reader(org="USA.PEERHUB")), lax)


# ---------------------------------------------------------------------------------------------
# Canonical form and key.


def test_canonical_form_is_pinned() -> None:
    aud = Audience("red", ident("a"), "USA.A", recipients=(ident("r2"), ident("r1")))
    expected = ('{"acs":[],"organisations":[],"recipients":["' + "\",\"".join(sorted([ident("r1"), ident("r2")]))
                + '"],"submitter":"' + ident("a") + '","submitter_org":"USA.A","tlp":"red","v":1}')
    assert aud.canonical() == expected
    assert aud.key() == hashlib.sha256(expected.encode()).hexdigest()


def test_the_key_ignores_order_and_repeats() -> None:
    one = audience(obj(TLP2_IDS["red"], ext={"extension_type": "property-extension",
                                           "recipients": [RECIPIENT.identity_id, REMOTE_RECIPIENT]}))
    two = audience(obj(TLP2_IDS["green"], TLP2_IDS["red"],
                       ext={"extension_type": "property-extension",
                            "recipients": [REMOTE_RECIPIENT, RECIPIENT.identity_id]}))
    assert one == two and one.key() == two.key()
    assert Audience("amber", organisations=("B", "A", "B")).organisations == ("A", "B")


def test_the_key_of_an_acs_marking_ignores_the_order_of_rules_and_values() -> None:
    rules = [rule(permitted_nationalities=["USA", "CAN"]), rule("deny", entity=["MIL", "DEV"]),
             rule(action="IDSRC", entity=["ALL"])]
    a = policy(access_privilege=rules, control_set={"classification": "U",
                                                     "formal_determination": ["NF", "AIS"]},
               further_sharing=[share("permit", "USA.X", "CAN.Y"), share("deny", "FOREIGNGOV")])
    reordered = [rule("deny", entity=["DEV", "MIL", "DEV"]), rule(permitted_nationalities=["CAN", "USA"])]
    b = policy(access_privilege=reordered, control_set={"classification": "U",
                                                         "formal_determination": ["AIS", "NF"]},
               further_sharing=[share("deny", "FOREIGNGOV"), share("permit", "CAN.Y", "USA.X")])
    assert a == b and hash(a) == hash(b)
    assert acs_audience(a).key() == acs_audience(b).key()
    assert acs_audience(a, a).acs == (a,)


def test_different_audiences_have_different_keys() -> None:
    keys = {
        audience(obj(TLP2_IDS["amber"])).key(),
        audience(obj(TLP2_IDS["amber+strict"])).key(),
        audience(obj(TLP2_IDS["red"])).key(),
        audience(obj(TLP2_IDS["amber"]), submitter=COLLEAGUE).key(),
        audience(obj(TLP2_IDS["amber"], ext=None)).key(),
        audience(obj(ACS_ID, ext=None), {ACS_ID: acs_def()}).key(),
        audience(obj(TLP2_IDS["amber"], ACS_ID), {ACS_ID: acs_def()}).key(),
        OPEN.key(),
    }
    assert len(keys) == 8


def test_round_trip_through_canonical() -> None:
    full = policy("permit", "deny",
                  access_privilege=[rule(permitted_nationalities=["USA"], permitted_organizations=["USA.DHS"],
                                         shareability=["LE"], entity=["GOV"]),
                                    rule("deny", entity=["ALL"])],
                  further_sharing=[share("permit", "FOREIGNGOV", "USA.X")],
                  control_set={"classification": "U", "entity": ["GOV"], "shareability": ["LE"],
                               "formal_determination": ["AIS"], "caveat": ["CISAPROPRIETARY"],
                               "sensitivity": ["PII"], "permitted_nationalities": ["USA"],
                               "permitted_organizations": ["USA.DHS"]})
    for aud in [OPEN, audience(obj(TLP2_IDS["red"])), audience(obj(TLP2_IDS["amber"])),
                acs_audience(full, policy(), tlp="amber+strict")]:
        back = Audience.from_canonical(aud.canonical())
        assert back == aud and back.key() == aud.key()
        assert admitted(back) == admitted(aud)


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"v":2}', '{"v":1,"tlp":"red"}',
                                  '{"v":1,"tlp":"purple","submitter":"","submitter_org":"",'
                                  '"recipients":[],"organisations":[],"acs":[]}'])
def test_from_canonical_refuses_what_is_not_an_audience(text: str) -> None:
    with pytest.raises(ValueError):
        Audience.from_canonical(text)


def test_is_open() -> None:
    assert Audience(None, submitter=ident("x")).is_open
    assert not Audience("amber").is_open
    assert not acs_audience(policy()).is_open


# ---------------------------------------------------------------------------------------------
# ACS marking definitions: valid ones, and each invalid field refused by name.

FULL_BODY: dict[str, Any] = {
    **ACS_BODY,
    "name": "banner marking",
    "identifier": "ISA:Guide.999191.c80ccff0-5960-4052-93e8-C6F3A7AE5445",
    "responsible_entity_custodian": "USA.DHS.US-CERT",
    "responsible_entity_originator": "PRIVATESECTOR",
    "authority_reference": ["urn:isa:authority:misa"],
    "original_classification": {"classified_by": "x", "classified_on": "2025-01-01T00:00:00Z",
                                "classification_reason": "r", "compilation_reason": "c"},
    "derivative_classification": {"classified_by": "x", "derived_from": "y",
                                  "classified_on": "2025-01-01T00:00:00Z"},
    "declassification": {"declass_exemption": "e", "declass_period": 25,
                         "declass_date": "2050-01-01T00:00:00Z", "declass_event": "ev"},
    "resource_disposition": {"disposition_date": "2030-01-01T00:00:00Z", "disposition_process": "d"},
    "public_release": {"released_by": "USA.DHS", "released_on": "2025-01-01T00:00:00Z"},
    "control_set": {"classification": "U", "formal_determination": list(FORMAL := [
        "PUBREL", "NF", "AIS", "FOUO", "NO-PII-PRESENT", "PII-NECESSARY-TO-UNDERSTAND-THREAT",
        "INFORMATION-DIRECTLY-RELATED-TO-CYBERSECURITY-THREAT"]),
        "caveat": ["FISA", "POSSIBLEPII", "CISAPROPRIETARY"],
        "sensitivity": ["PCII", "LES", "INT", "PII", "PR", "TEI", "NTOC_DHS_ECYBER_SVC_SHARE.NSA.NSA"],
        "shareability": ["NCC", "EM", "LE", "IC"], "entity": ["MIL", "GOV", "CTR", "SVR", "SVC", "DEV", "NET"],
        "permitted_nationalities": ["USA"], "permitted_organizations": ["USA.DHS", "CIKR"]},
    "access_privilege": [
        rule(action=a, permitted_nationalities=["USA"], permitted_organizations=["ALL"],
             shareability=["LE"], entity=["ALL"])
        for a in ["DSPLY", "IDSRC", "TENOT", "NETDEF", "LEGAL", "INTEL", "TEARLINE", "OPACTION",
                  "REQUEST", "ANONYMOUSACCESS", "CISAUSES", "ALL"]
    ] + [rule("deny", permitted_organizations=["DIB", "USA.X.YZ"])],
    "further_sharing": [share("permit", "USA.DHS", "FOREIGNGOV", "SECTOR", "CDC"),
                        share("deny", "FIN")],
}


def test_valid_acs_definitions() -> None:
    for definition in [acs_def(), {**acs_def(), "extensions": {ACS: copy.deepcopy(FULL_BODY)}}]:
        assert check_acs_definition(definition) == []
        assert validate(definition) == []
        assert validate_instance(definition, OASIS).is_valid
        parse_acs(definition)


def _nested(path: str, value: Any) -> dict[str, Any]:
    """acs_def with the value at a dotted path (``[n]`` indexes lists) set, or dropped (None)."""
    definition = acs_def()
    node: Any = definition["extensions"][ACS]
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    elif value is _DROP:
        del node[last]
    else:
        node[last] = value
    return definition


class _Dropped:
    """The property is left out (its repr names that, so test ids stay the same in every run)."""

    def __repr__(self) -> str:
        return "<dropped>"


_DROP = _Dropped()
W = f"extensions[{ACS!r}]"

BAD_ACS: list[tuple[str, Any, str]] = [
    # (where, value, the property the problem names)
    *[(f, _DROP, f) for f in ["identifier", "create_date_time", "responsible_entity_custodian",
                              "policy_reference", "control_set", "extension_type"]],
    ("extension_type", "toplevel-property-extension", "extension_type"),
    ("identifier", "acs-c80ccff0-5960-4052-93e8-c6f3a7ae5445", "identifier"),
    ("identifier", "isa:guide.19001.ACS3-c80ccff0-5960-4052-93e8", "identifier"),
    ("identifier", "isa:guide.19001.AC_S3-c80ccff0-5960-4052-93e8-c6f3a7ae5445", "identifier"),
    ("identifier", "isa:guide.19001.ACS3-c80ccff0-5960-4052-93e8-c6f3a7ae5445\n", "identifier"),
    ("identifier", 7, "identifier"),
    ("name", ["n"], "name"),
    ("create_date_time", "yesterday", "create_date_time"),
    ("create_date_time", "2025-01-15", "create_date_time"),
    ("responsible_entity_custodian", "usa.dhs", "responsible_entity_custodian"),
    ("responsible_entity_custodian", "USA", "responsible_entity_custodian"),
    ("responsible_entity_custodian", "USA.DHS.X", "responsible_entity_custodian"),
    ("responsible_entity_custodian", "xx USA.DHS", "responsible_entity_custodian"),
    ("responsible_entity_custodian", "CIKR", "responsible_entity_custodian"),
    ("responsible_entity_originator", "someone", "responsible_entity_originator"),
    ("authority_reference", "urn:isa:authority:misa", "authority_reference"),
    ("authority_reference", [], "authority_reference"),
    ("authority_reference", ["urn:isa:authority:mi-sa"], "authority_reference[0]"),
    ("policy_reference", "urn:isa:policy:acs:ns:v3.0?privdefault=maybe&sharedefault=deny", "policy_reference"),
    ("policy_reference", "urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=deny "
                         "urn:isa:policy:acs:ns:v3.0?privdefault=permit&sharedefault=deny", "policy_reference"),
    ("policy_reference", "urn:isa:policy:acs:ns:v2.0?privdefault=deny&sharedefault=deny", "policy_reference"),
    ("x_custom", "x", ""),
    ("control_set", "U", "control_set"),
    ("control_set.classification", _DROP, "control_set.classification"),
    ("control_set.classification", "C", "control_set.classification"),
    ("control_set.classification", "S", "control_set.classification"),
    ("control_set.classification", "TS", "control_set.classification"),
    ("control_set.classification", "u", "control_set.classification"),
    ("control_set.formal_determination", ["XYZ"], "control_set.formal_determination[0]"),
    ("control_set.formal_determination", "AIS", "control_set.formal_determination"),
    ("control_set.formal_determination", [], "control_set.formal_determination"),
    ("control_set.caveat", ["SECRET"], "control_set.caveat[0]"),
    ("control_set.sensitivity", ["XX"], "control_set.sensitivity[0]"),
    ("control_set.shareability", ["ALL"], "control_set.shareability[0]"),
    ("control_set.entity", ["gov"], "control_set.entity[0]"),
    ("control_set.permitted_nationalities", ["usa"], "control_set.permitted_nationalities[0]"),
    ("control_set.permitted_organizations", ["dhs"], "control_set.permitted_organizations[0]"),
    ("control_set.sci_controls", ["X"], "control_set.sci_controls"),
    ("control_set.logical_authority_category", ["X"], "control_set.logical_authority_category"),
    ("control_set.x_other", ["X"], "control_set"),
    ("access_privilege", [], "access_privilege"),
    ("access_privilege", {"privilege_action": "ALL"}, "access_privilege"),
    ("access_privilege[0]", "ALL", "access_privilege[0]"),
    ("access_privilege[0].privilege_action", _DROP, "access_privilege[0].privilege_action"),
    ("access_privilege[0].privilege_action", "READ", "access_privilege[0].privilege_action"),
    ("access_privilege[0].rule_effect", "allow", "access_privilege[0].rule_effect"),
    ("access_privilege[0].rule_effect", _DROP, "access_privilege[0].rule_effect"),
    ("access_privilege[0].privilege_scope", _DROP, "access_privilege[0].privilege_scope"),
    ("access_privilege[0].privilege_scope", {}, "access_privilege[0].privilege_scope"),
    ("access_privilege[0].x_note", "n", "access_privilege[0]"),
    ("access_privilege[0].privilege_scope.permitted_nationalities", ["usa"],
     "access_privilege[0].privilege_scope.permitted_nationalities[0]"),
    ("access_privilege[0].privilege_scope.permitted_nationalities", ["US"],
     "access_privilege[0].privilege_scope.permitted_nationalities[0]"),
    ("access_privilege[0].privilege_scope.permitted_nationalities", [],
     "access_privilege[0].privilege_scope.permitted_nationalities"),
    ("access_privilege[0].privilege_scope.permitted_nationalities", ["ALL", "USA"],
     "access_privilege[0].privilege_scope.permitted_nationalities"),
    ("access_privilege[0].privilege_scope.entity", ["ALL", "GOV"],
     "access_privilege[0].privilege_scope.entity"),
    ("access_privilege[0].privilege_scope.entity", ["ARMY"],
     "access_privilege[0].privilege_scope.entity[0]"),
    ("access_privilege[0].privilege_scope.shareability", ["XX"],
     "access_privilege[0].privilege_scope.shareability[0]"),
    ("access_privilege[0].privilege_scope.permitted_organizations", ["dhs"],
     "access_privilege[0].privilege_scope.permitted_organizations[0]"),
    ("access_privilege[0].privilege_scope.groups", ["X"], "access_privilege[0].privilege_scope"),
    ("further_sharing", [share("permit")], "further_sharing[0].sharing_scope"),
    ("further_sharing", [{"sharing_scope": ["USA.DHS"]}], "further_sharing[0].rule_effect"),
    ("further_sharing", [{"rule_effect": "deny"}], "further_sharing[0].sharing_scope"),
    ("further_sharing", [share("permit", "nowhere")], "further_sharing[0].sharing_scope[0]"),
    ("further_sharing", [share("maybe", "USA.DHS")], "further_sharing[0].rule_effect"),
    ("further_sharing", [{**share("deny", "FIN"), "x_why": "n"}], "further_sharing[0]"),
    ("further_sharing", share("deny", "FIN"), "further_sharing"),
    ("original_classification", {"classification_reason": "r"}, "original_classification.classified_by"),
    ("original_classification", {"classified_by": "x", "x": 1}, "original_classification"),
    ("derivative_classification", {"classified_by": "x"}, "derivative_classification.derived_from"),
    ("declassification", {}, "declassification"),
    ("declassification", {"declass_period": "25"}, "declassification.declass_period"),
    ("declassification", {"declass_date": "2050"}, "declassification.declass_date"),
    ("resource_disposition", {"disposition_date": "2030-01-01T00:00:00Z"},
     "resource_disposition.disposition_process"),
    ("public_release", {"released_on": "2025-01-01T00:00:00Z"}, "public_release.released_by"),
    ("public_release", {"released_by": 3}, "public_release.released_by"),
]


@pytest.mark.parametrize(("where", "value", "prop"), BAD_ACS,
                         ids=[f"{w}={v!r}"[:60] for w, v, _ in BAD_ACS])
def test_each_invalid_acs_field_is_refused_by_name(where: str, value: Any, prop: str) -> None:
    definition = _nested(where, value)
    problems = check_acs_definition(definition)
    assert problems, "accepted"
    assert all(p.code == Code.INVALID_ACS_MARKING for p in problems)
    expected = f"{W}.{prop}" if prop else W
    assert expected in [p.property for p in problems], [(p.property, p.message) for p in problems]
    # The validator refuses it too, and the message names the field without the value.
    found = [p for p in validate(definition) if p.code == Code.INVALID_ACS_MARKING]
    assert expected in [p.property for p in found]
    for p in problems:
        assert not p.quotes_value
        if isinstance(value, str) and len(value) > 3 and value not in ("ALL",):
            assert value not in p.message, p.message
    with pytest.raises(ValueError):
        parse_acs(definition)


def test_the_body_must_be_an_object() -> None:
    definition = acs_def()
    definition["extensions"][ACS] = "U"
    problems = check_acs_definition(definition)
    assert [p.property for p in problems] == [W]


@pytest.mark.parametrize(("extra", "prop"), [
    ({"definition_type": "statement"}, "definition_type"),
    ({"definition": {"statement": "x"}}, "definition"),
])
def test_an_acs_definition_carries_nothing_else_that_could_restrict(extra: dict[str, Any], prop: str) -> None:
    problems = check_acs_definition({**acs_def(), **extra})
    assert [p.property for p in problems] == [prop]


def test_an_acs_definition_carries_no_other_extension() -> None:
    definition = acs_def()
    definition["extensions"]["extension-definition--0b1c5f62-8f5e-4b8e-9d3a-2c6f0a7e1d44"] = {
        "extension_type": "property-extension", "rule": "x"}
    problems = check_acs_definition(definition)
    assert [p.property for p in problems] == ["extensions"]
    assert any(p.code == Code.INVALID_ACS_MARKING for p in validate(definition))


def test_the_acs_extension_belongs_on_marking_definitions_only() -> None:
    o = obj(ext=None)
    o["extensions"] = {ACS: copy.deepcopy(ACS_BODY)}
    problems = validate(o)
    assert [p.code for p in problems] == [Code.INVALID_EXTENSION]
    assert "marking-definition" in problems[0].message
    assert check_acs_definition(o)[0].code == Code.INVALID_ACS_MARKING


# ---------------------------------------------------------------------------------------------
# The sharing extension: the check, the validator, and the shipped schema agree.

SCHEMA = json.loads((SCHEMA_DIR / "sharing.schema.json").read_text())
SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SW = f"extensions[{SHARING!r}]"

GOOD_SHARING = [
    {"extension_type": "property-extension", "recipients": [ident("a")]},
    {"extension_type": "property-extension", "organisations": ["USA.EXAMPLECLOUD"]},
    {"extension_type": "property-extension", "recipients": [ident("a"), ident("b")],
     "organisations": ["Example Cloud GmbH", "Ex\u00e4mple", "x" * 200]},
]
BAD_SHARING: list[tuple[Any, str, str]] = [
    # (body, the property named, code)
    ("recipients", "", Code.WRONG_TYPE),
    ({"recipients": [ident("a")]}, "extension_type", Code.MISSING_PROPERTY),
    ({"extension_type": "new-sdo", "recipients": [ident("a")]}, "extension_type", Code.INVALID_VALUE),
    ({"extension_type": "property-extension"}, "", Code.PROPERTY_COMBINATION),
    ({"extension_type": "property-extension", "recipients": []}, "recipients", Code.WRONG_TYPE),
    ({"extension_type": "property-extension", "recipients": ident("a")}, "recipients", Code.WRONG_TYPE),
    ({"extension_type": "property-extension", "recipients": ["bob@example.com"]}, "recipients[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "recipients": [ident("a").replace("identity", "indicator")]},
     "recipients[0]", Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "recipients": [ident("a").upper()]}, "recipients[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "recipients": [ident("a"), ident("a")]}, "recipients",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": []}, "organisations", Code.WRONG_TYPE),
    ({"extension_type": "property-extension", "organisations": [""]}, "organisations[0]", Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": ["x" * 201]}, "organisations[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": [" USA.X"]}, "organisations[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": ["USA.X\n"]}, "organisations[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": ["USA\tX"]}, "organisations[0]",
     Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": [3]}, "organisations[0]", Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "organisations": ["A", "A"]}, "organisations", Code.INVALID_VALUE),
    ({"extension_type": "property-extension", "recipients": [ident("a")], "readers": ["x"]}, "",
     Code.UNKNOWN_PROPERTY),
]


@pytest.mark.parametrize("body", GOOD_SHARING)
def test_valid_sharing_extensions(body: dict[str, Any]) -> None:
    assert check_sharing_extension(body) == []
    assert SCHEMA_VALIDATOR.is_valid(body)
    assert validate(obj(ext=body)) == []


@pytest.mark.parametrize(("body", "prop", "code"), BAD_SHARING,
                         ids=[f"{b!r}"[:50] for b, _, _ in BAD_SHARING])
def test_invalid_sharing_extensions(body: Any, prop: str, code: str) -> None:
    problems = check_sharing_extension(body)
    expected = f"{SW}.{prop}" if prop else SW
    assert (code, expected) in [(p.code, p.property) for p in problems], problems
    assert not SCHEMA_VALIDATOR.is_valid(body), "the shipped schema accepts it"
    assert (code, expected) in [(p.code, p.property) for p in validate(obj(ext=body))]
    assert "bob@example.com" not in " ".join(p.message for p in problems)


def test_the_shipped_schema_is_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", ["extension-definition.json", "identity.json"])
def test_shipped_objects_are_valid(name: str) -> None:
    shipped = json.loads((SCHEMA_DIR / name).read_text())
    assert validate(shipped) == []
    assert validate_instance(shipped, OASIS).is_valid


def test_shipped_extension_definition_names_the_extension() -> None:
    ext = json.loads((SCHEMA_DIR / "extension-definition.json").read_text())
    assert ext["id"] == SHARING
    assert ext["schema"] == "sharing.schema.json"
    assert ext["extension_types"] == ["property-extension"]
    assert ext["created_by_ref"] == json.loads((SCHEMA_DIR / "identity.json").read_text())["id"]
    assert SCHEMA["properties"]["extension_type"] == {"const": "property-extension"}


def test_recipients_of() -> None:
    assert recipients_of(obj()) == tuple(sorted([RECIPIENT.identity_id, REMOTE_RECIPIENT]))
    assert recipients_of(obj(ext=None)) == ()
    assert recipients_of(obj(ext={"extension_type": "property-extension", "organisations": ["A"]})) == ()
    assert recipients_of(obj(ext={"extension_type": "property-extension", "recipients": "x"})) == ()
    assert recipients_of(obj(ext={"extension_type": "property-extension",
                                  "recipients": [ident("b"), ident("a"), ident("b")]})) == \
        tuple(sorted([ident("a"), ident("b")]))


def test_an_acs_definition_is_judged_by_its_content_not_its_id() -> None:
    good = acs_def()
    bad = acs_def(control_set={"classification": "TS"})
    assert good["id"] == bad["id"]
    for _ in range(2):  # the second time from what was kept
        assert isinstance(audience_of(obj(ACS_ID, ext=None), SUBMITTER, {ACS_ID: good}), Audience)
        refused = audience_of(obj(ACS_ID, ext=None), SUBMITTER, {ACS_ID: bad})
        assert isinstance(refused, Problem) and refused.code == Code.INVALID_ACS_MARKING


@pytest.mark.parametrize("ref", [{"x": 1}, ["a"], 7, "identity--0b1c5f62-8f5e-4b8e-9d3a-2c6f0a7e1d44"])
def test_a_malformed_granular_reference_is_a_problem_not_an_error(ref: Any) -> None:
    result = audience_of(obj(granular_markings=[{"selectors": ["pattern"], "marking_ref": ref}]),
                         SUBMITTER, {})
    assert isinstance(result, Problem) and result.code == Code.INVALID_MARKING_REF
    assert result.property == "granular_markings[0].marking_ref"


@pytest.mark.parametrize("bad", [None, 7, "x", [], {"object_marking_refs": [{"a": 1}]}])
def test_audience_of_never_raises(bad: Any) -> None:
    result = audience_of(bad, SUBMITTER, {})
    assert isinstance(result, Problem | Audience)


# Any JSON where an ACS body or a sharing extension goes: a list of problems, never an error.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["U", "ALL", "USA", "permit", "deny", "DSPLY", "GOV", "LE", "USA.DHS"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(list(ACS_BODY) + ["control_set", "classification", "privilege_scope",
                                          "privilege_action", "rule_effect", "entity",
                                          "permitted_nationalities", "further_sharing",
                                          "sharing_scope", "recipients", "organisations", "x"]),
        inner, max_size=5),
    max_leaves=20)


@settings(max_examples=examples(100), deadline=None, database=None, derandomize=True)
@given(body=_JSON, patch=st.dictionaries(st.sampled_from(list(ACS_BODY)), _JSON, max_size=3))
def test_checks_never_raise(body: Any, patch: dict[str, Any]) -> None:
    for candidate in (body, {**ACS_BODY, **patch}):
        definition = acs_def()
        definition["extensions"][ACS] = candidate
        problems = check_acs_definition(definition)
        assert all(p.code == Code.INVALID_ACS_MARKING for p in problems)
        result = audience_of(obj(ACS_ID, ext=None), SUBMITTER, {ACS_ID: definition})
        assert isinstance(result, Audience) == (not problems)
        assert isinstance(validate(definition), list)
    assert isinstance(check_sharing_extension(body), list)
    assert isinstance(audience_of(obj(TLP2_IDS["red"], ext=body if isinstance(body, dict) else None),
                                  SUBMITTER, {}), Audience | Problem)
