"""The STIX basics ingest checks first (hub.stix.basics): one problem, with a code and a property,
carried by the InvalidObject it raises; a message never repeats personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.common.problems import Code
from hub.stix.basics import InvalidObject, check_basics

U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
TS = "2026-01-02T03:04:05.678Z"
RAW_EMAIL = "jane.doe@example.com"


def _obj(**changes: Any) -> dict[str, Any]:
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{U}", "created": TS, "modified": TS}
    for key, value in changes.items():
        if value is None:
            obj.pop(key)
        else:
            obj[key] = value
    return obj


def test_the_basics_of_a_good_object() -> None:
    version = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    assert check_basics(_obj()) == (f"indicator--{U}", "indicator", version // timedelta(microseconds=1))
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{U}", "value": "198.51.100.7"}
    assert check_basics(sco) == (f"ipv4-addr--{U}", "ipv4-addr", -1)


@pytest.mark.parametrize(("obj", "code", "prop", "fragment"), [
    pytest.param(["a list"], Code.NOT_AN_OBJECT, "", "must be a JSON object, got array", id="not-an-object"),
    pytest.param(_obj(type=None), Code.MISSING_PROPERTY, "type", "'type'", id="no-type"),
    pytest.param(_obj(id=None), Code.MISSING_PROPERTY, "id", "'id'", id="no-id"),
    pytest.param(_obj(spec_version=None), Code.MISSING_PROPERTY, "spec_version", "'spec_version'", id="no-spec-version"),
    pytest.param(_obj(created=None), Code.MISSING_PROPERTY, "created", "'created'", id="no-created"),
    pytest.param(_obj(modified=None), Code.MISSING_PROPERTY, "modified", "'modified'", id="no-modified"),
    pytest.param(_obj(type="Indicator", id=f"Indicator--{U}"), Code.INVALID_TYPE_NAME, "type", "'Indicator'",
                 id="type-upper-case"),
    pytest.param(_obj(id="indicator--1234"), Code.INVALID_ID, "id", "'indicator--1234'", id="bad-id"),
    pytest.param(_obj(id=f"indicator--{U.upper()}"), Code.INVALID_ID, "id", "lower-case", id="upper-case-uuid"),
    pytest.param(_obj(id=f"malware--{U}"), Code.ID_TYPE_MISMATCH, "id", "does not match type", id="prefix"),
    pytest.param(_obj(spec_version="2.0"), Code.INVALID_SPEC_VERSION, "spec_version", "'2.0'", id="spec-2.0"),
    pytest.param(_obj(created="2026-02-30T00:00:00.000Z"), Code.INVALID_TIMESTAMP, "created",
                 "not a valid date and time", id="created-not-a-date"),
    pytest.param(_obj(modified="\uff12\uff10\uff12\uff16-01-02T03:04:05.678Z"), Code.INVALID_TIMESTAMP, "modified",
                 "not a STIX timestamp", id="modified-fullwidth-digits"),
    pytest.param(_obj(modified="2026-01-01T00:00:00.000Z"), Code.TIMESTAMP_ORDER, "modified",
                 "earlier than created", id="modified-before-created"),
])
def test_each_basic_rule_has_its_code(obj: Any, code: Code, prop: str, fragment: str) -> None:
    with pytest.raises(InvalidObject) as caught:
        check_basics(obj)
    problem = caught.value.problem
    assert (problem.code, problem.property) == (code, prop)
    assert fragment in problem.message and str(caught.value) == problem.message


@pytest.mark.parametrize("prop", ["type", "id", "spec_version", "created", "modified"])
@pytest.mark.parametrize("raw", [RAW_EMAIL, "+14155552671", "4111 1111 1111 1111"])
def test_a_personal_value_is_described_not_repeated(prop: str, raw: str) -> None:
    with pytest.raises(InvalidObject) as caught:
        check_basics(_obj(**{prop: raw}))
    problem = caught.value.problem
    assert raw not in str(caught.value) and not problem.quotes_value
    assert f"a string of {len(raw)} characters" in problem.message
