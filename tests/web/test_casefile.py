"""A report read as a case file: each abused resource is shown with the indicator whose pattern
detects it, the pattern read by the STIX pattern library's parser (not by looking for quotes)."""

from __future__ import annotations

from typing import Any

from hub.signing import KeySet
from hub.web.casefile import build_case_file, detected_values

REPORT = "report--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
INDICATOR = "indicator--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
NOW_US = 1_800_000_000_000_000


def _sco(kind: str, value: str, n: int) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--00000000-0000-4000-8000-00000000000{n}",
            "value": value}


def _case(pattern: str, *scos: dict[str, Any]) -> Any:
    indicator = {"type": "indicator", "spec_version": "2.1", "id": INDICATOR, "pattern": pattern,
                 "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
    objects = {o["id"]: o for o in (*scos, indicator)}
    report = {"type": "report", "spec_version": "2.1", "id": REPORT, "name": "r",
              "published": "2026-01-01T00:00:00Z", "object_refs": list(objects)}
    return build_case_file(report, objects, KeySet({}), NOW_US)


def test_each_value_a_pattern_compares_is_matched_to_its_resource() -> None:
    case = _case("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
                 _sco("domain-name", "a.example", 1), _sco("domain-name", "b.example", 2))
    assert [(r.value, r.indicator_id) for r in case.resources] == [("a.example", INDICATOR),
                                                                  ("b.example", INDICATOR)]


def test_a_literal_is_unescaped_as_the_grammar_says() -> None:
    case = _case(r"[url:value = 'https://x.example/it\'s\\here']", _sco("url", "https://x.example/it's\\here", 1))
    assert case.resources[0].indicator_id == INDICATOR
    assert detected_values(r"[url:value = 'a\\\'b']") == (("url", "a\\'b"),)


def test_only_equality_on_the_value_of_the_same_type_detects_a_resource() -> None:
    assert detected_values("[ipv4-addr:value != '192.0.2.1']") == ()
    assert detected_values("[file:name = '192.0.2.1']") == ()
    case = _case("[ipv6-addr:value = '192.0.2.1']", _sco("ipv4-addr", "192.0.2.1", 1))
    assert case.resources[0].indicator_id is None


def test_a_pattern_that_does_not_parse_detects_nothing_and_fails_nothing() -> None:
    assert detected_values("[ipv4-addr:value = '192.0.2.1'") == ()
    case = _case("ipv4-addr:value = '192.0.2.1'", _sco("ipv4-addr", "192.0.2.1", 1))
    assert [(r.value, r.indicator_id) for r in case.resources] == [("192.0.2.1", None)]
