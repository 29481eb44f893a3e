"""TLP marking ids, order and the collection check (hub.stix.markings)."""

from __future__ import annotations

import json

import pytest
import stix2

from hub.common.problems import Code
from hub.stix.markings import (
    AMBER,
    AMBER_STRICT,
    CLEAR,
    GREEN,
    RED,
    TLP1_IDS,
    TLP2_EXTENSION_ID,
    TLP2_IDS,
    TLP_LEVEL_BY_ID,
    TLP_MARKING_OBJECTS,
    check_markings,
    level_name,
    object_tlp,
    tlp_level,
    tlp_marking_id,
)

# TLP 2.0 ids as published by OASIS (cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
T2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
T2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
T2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
T2_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
T2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
# TLP 1.0 ids, STIX 2.1 section 7.2.1.4.
T1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
T1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
T1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
T1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
STATEMENT = "marking-definition--8f1a0b1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
OTHER = "marking-definition--1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.mark.parametrize(("name", "level"), [
    ("clear", CLEAR), ("white", CLEAR), ("GREEN", GREEN), ("Amber", AMBER),
    ("amber+strict", AMBER_STRICT), ("AMBER+STRICT", AMBER_STRICT), ("red", RED),
    ("TLP:RED", RED), (" tlp:green ", GREEN),
])
def test_tlp_level(name: str, level: int) -> None:
    assert tlp_level(name) == level


@pytest.mark.parametrize("name", ["", "amber strict", "orange", "tlp", "amber+", None, 2])
def test_tlp_level_rejects(name) -> None:
    with pytest.raises(ValueError):
        tlp_level(name)


def test_order() -> None:
    assert CLEAR == 0 < GREEN == 1 < AMBER == 2 < AMBER_STRICT == 3 < RED == 4
    assert [level_name(n) for n in range(5)] == [
        "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


@pytest.mark.parametrize(("marking_id", "level"), [
    (T2_CLEAR, CLEAR), (T2_GREEN, GREEN), (T2_AMBER, AMBER), (T2_AMBER_STRICT, AMBER_STRICT),
    (T2_RED, RED), (T1_WHITE, CLEAR), (T1_GREEN, GREEN), (T1_AMBER, AMBER), (T1_RED, RED),
])
def test_ids_and_levels(marking_id: str, level: int) -> None:
    assert TLP_LEVEL_BY_ID[marking_id] == level
    assert len(TLP_LEVEL_BY_ID) == 9


@pytest.mark.parametrize(("name", "marking_id"), [
    ("clear", T2_CLEAR), ("white", T2_CLEAR), ("green", T2_GREEN), ("amber", T2_AMBER),
    ("amber+strict", T2_AMBER_STRICT), ("red", T2_RED),
])
def test_tlp_marking_id_is_tlp2(name: str, marking_id: str) -> None:
    assert tlp_marking_id(name) == marking_id


@pytest.mark.parametrize("lib_object", [stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER, stix2.TLP_RED])
def test_tlp1_objects_equal_the_oasis_library(lib_object) -> None:
    ours = {o["id"]: o for o in TLP_MARKING_OBJECTS}
    assert ours[lib_object.id] == json.loads(lib_object.serialize())


def test_tlp_marking_objects() -> None:
    ids = [o["id"] for o in TLP_MARKING_OBJECTS]
    assert len(ids) == len(set(ids)) == 9
    assert set(ids) == set(TLP1_IDS.values()) | set(TLP2_IDS.values())
    for obj in TLP_MARKING_OBJECTS:
        stix2.parse(obj, allow_custom=True)
        assert check_markings(obj, CLEAR) is None
    tlp2 = {o["id"]: o for o in TLP_MARKING_OBJECTS if "extensions" in o}
    assert tlp2[T2_AMBER_STRICT] == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": T2_AMBER_STRICT,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension",
                                           "tlp_2_0": "amber+strict"}},
    }


def _obj(refs=None, granular=None, **extra) -> dict:
    obj = {"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", **extra}
    if refs is not None:
        obj["object_marking_refs"] = refs
    if granular is not None:
        obj["granular_markings"] = granular
    return obj


@pytest.mark.parametrize(("obj", "expected"), [
    (_obj(), None),
    (_obj([]), None),
    (_obj([T2_GREEN]), GREEN),
    (_obj([T1_WHITE, T2_RED, T2_GREEN]), RED),
    (_obj([T1_AMBER, T2_AMBER_STRICT]), AMBER_STRICT),
    (_obj([STATEMENT]), None),
    (_obj([STATEMENT, T1_GREEN]), GREEN),
    (_obj([T2_CLEAR], [{"marking_ref": T2_RED, "selectors": ["name"]}]), CLEAR),
])
def test_object_tlp(obj: dict, expected) -> None:
    assert object_tlp(obj) == expected


CHECK = [
    pytest.param(_obj(), AMBER, frozenset(), None, id="unmarked"),
    pytest.param(_obj([T2_AMBER]), AMBER, frozenset(), None, id="at-max"),
    pytest.param(_obj([T1_AMBER]), AMBER, frozenset(), None, id="tlp1-amber-at-max"),
    pytest.param(_obj([T1_WHITE]), CLEAR, frozenset(), None, id="white-is-clear"),
    pytest.param(_obj([T2_RED]), AMBER, frozenset(), (Code.TLP_ABOVE_CEILING,
                 "object is TLP:RED, collection allows at most TLP:AMBER"), id="red-over-amber"),
    pytest.param(_obj([T2_AMBER_STRICT]), AMBER, frozenset(), (Code.TLP_ABOVE_CEILING,
                 "object is TLP:AMBER+STRICT, collection allows at most TLP:AMBER"),
                 id="strict-over-amber"),
    pytest.param(_obj([T1_AMBER]), GREEN, frozenset(), (Code.TLP_ABOVE_CEILING,
                 "object is TLP:AMBER, collection allows at most TLP:GREEN"), id="tlp1-over-green"),
    pytest.param(_obj([T2_GREEN, T2_RED]), RED, frozenset(), None, id="red-collection"),
    pytest.param(_obj([STATEMENT]), RED, frozenset(), (Code.UNKNOWN_MARKING,
                 f"unknown marking definition {STATEMENT}: refused (fail closed)"), id="unknown"),
    pytest.param(_obj([STATEMENT, T2_GREEN]), AMBER, frozenset({STATEMENT}), None, id="known"),
    pytest.param(_obj([T2_GREEN], [{"marking_ref": T2_RED, "selectors": ["description"]}]),
                 AMBER, frozenset(), (Code.TLP_ABOVE_CEILING, "object is TLP:RED, collection allows at most TLP:AMBER"),
                 id="granular-red"),
    pytest.param(_obj(None, [{"marking_ref": OTHER, "selectors": ["name"]}]), RED,
                 frozenset({STATEMENT}), (Code.UNKNOWN_MARKING, f"unknown marking definition {OTHER}: refused (fail closed)"),
                 id="granular-unknown"),
    pytest.param(_obj(None, [{"lang": "de", "selectors": ["name"]}]), CLEAR, frozenset(), None,
                 id="granular-lang-only"),
    pytest.param(_obj(T2_GREEN), RED, frozenset(), (Code.INVALID_MARKING_REF,
                 "object_marking_refs must be a list of marking-definition ids"), id="refs-not-list"),
    pytest.param(_obj(["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]), RED, frozenset(), (Code.INVALID_MARKING_REF,
                 "object_marking_refs must hold marking-definition ids"), id="ref-not-marking"),
    pytest.param(_obj(["marking-definition--jane.doe@example.com"]), RED, frozenset(),
                 (Code.INVALID_MARKING_REF, "object_marking_refs must hold marking-definition ids"),
                 id="ref-prefix-only"),
    pytest.param(_obj(None, [{"marking_ref": "marking-definition--2F0B6C4E-61B8-4F3A-9B8E-5D8C1C0E7A11",
                              "selectors": ["name"]}]), RED, frozenset(),
                 (Code.INVALID_MARKING_REF, "granular_markings[0].marking_ref must hold marking-definition ids"),
                 id="granular-ref-upper-case"),
    pytest.param({"type": "marking-definition", "id": STATEMENT, "definition_type": "statement",
                  "definition": {"statement": "Copyright Example"}, "object_marking_refs": [T2_RED]},
                 GREEN, frozenset(), (Code.TLP_ABOVE_CEILING, "object is TLP:RED, collection allows at most TLP:GREEN"),
                 id="statement-definition-marked-red"),
    pytest.param({"type": "marking-definition", "id": T1_RED, "definition_type": "tlp",
                  "definition": {"tlp": "white"}}, RED, frozenset(), (Code.TLP_DEFINITION_MISMATCH,
                 f"{T1_RED} is a TLP marking definition id with a different definition: refused"),
                 id="spoofed-tlp1"),
    pytest.param({"type": "marking-definition", "id": T2_RED, "extensions": {
        TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "clear"}}},
        RED, frozenset(), (Code.TLP_DEFINITION_MISMATCH,
        f"{T2_RED} is a TLP marking definition id with a different definition: refused"),
        id="spoofed-tlp2"),
]


@pytest.mark.parametrize(("obj", "max_level", "known", "expected"), CHECK)
def test_check_markings(obj: dict, max_level: int, known: frozenset, expected) -> None:
    problem = check_markings(obj, max_level, known)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.code, str(problem)) == expected
        # Quotes only well-formed marking-definition ids: nothing to withhold.
        assert not problem.quotes_value


@pytest.mark.parametrize("obj", list(TLP_MARKING_OBJECTS), ids=lambda o: o["name"] + o["created"][:4])
def test_tlp_definitions_pass_any_collection(obj: dict) -> None:
    assert check_markings(obj, CLEAR) is None
