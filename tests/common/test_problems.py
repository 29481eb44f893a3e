"""Problems: what a check found, told as a message, decided on by code (hub.common.problems)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.common.problems import Code, Problem


def test_a_problem_reads_as_its_message() -> None:
    problem = Problem(Code.INVALID_ID, "created_by_ref 'x' is not an identifier", "created_by_ref")
    assert str(problem) == f"{problem}" == problem.message
    assert "; ".join(str(p) for p in [problem, problem]) == f"{problem.message}; {problem.message}"
    assert problem.code == "invalid-id" and problem.property == "created_by_ref"


def test_codes_are_stable_names() -> None:
    values = [c.value for c in Code]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[a-z]+(?:-[a-z]+)*", v) for v in values)


@pytest.mark.parametrize(("value", "shown", "described"), [
    pytest.param("jane.doe@example.com", "'jane.doe@example.com'", "(a string of 20 characters, not shown)",
                 id="string"),
    pytest.param(4155552671, "4155552671", "(a number, not shown)", id="number"),
    pytest.param({"a": 1}, "{'a': 1}", "(an object, not shown)", id="object"),
    pytest.param(["x"], "['x']", "(an array, not shown)", id="array"),
    pytest.param(None, "None", "(null, not shown)", id="null"),
])
def test_a_quoted_value_can_be_withheld(value: Any, shown: str, described: str) -> None:
    problem = Problem.quoting(Code.INVALID_VALUE, "lang", value, lambda v: f"lang {v} is not a language tag")
    assert problem.quotes_value
    assert str(problem) == f"lang {shown} is not a language tag"
    withheld = problem.without_value()
    assert withheld == Problem(Code.INVALID_VALUE, f"lang {described} is not a language tag", "lang")
    assert withheld.without_value() == withheld


def test_a_long_value_is_cut_short() -> None:
    problem = Problem.quoting(Code.INVALID_VALUE, "url", "x" * 10_000, lambda v: f"url {v} is not a URI")
    assert len(str(problem)) < 100


def test_a_problem_that_quotes_nothing_is_told_as_it_is() -> None:
    problem = Problem(Code.TLP_ABOVE_CEILING, "object is TLP:RED, collection allows at most TLP:AMBER")
    assert problem.without_value() is problem


@pytest.mark.parametrize(("prop", "expected"), [
    pytest.param("pattern", "pattern: the value given is not valid (invalid-pattern; not shown)", id="property"),
    pytest.param("", "a value given is not valid (invalid-pattern; not shown)", id="object"),
])
def test_without_a_withheld_sentence_only_the_property_is_named(prop: str, expected: str) -> None:
    problem = Problem(Code.INVALID_PATTERN, "pattern: 'jane@example.com' ...", prop, quotes_value=True)
    assert problem.without_value().message == expected


def test_problems_are_values() -> None:
    a = Problem(Code.PERSONAL_DATA, "description contains an e-mail address", "description")
    b = Problem("personal-data", "description contains an e-mail address", "description")
    assert a == b and hash(a) == hash(b) and list(dict.fromkeys([a, b])) == [a]
    with pytest.raises(AttributeError):
        a.message = "changed"  # type: ignore[misc]
