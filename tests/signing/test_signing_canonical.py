"""RFC 8785 canonical form and strict base64url."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hub.signing import (
    CanonicalizationError,
    b64url_decode,
    b64url_encode,
    canonicalize,
)


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}', id="sorted, no whitespace"),
        # RFC 8785 section 3.2.2.3: numbers as ECMAScript would print the IEEE 754 double.
        pytest.param([1.0, 80.0, -0.0, 1e21, 1e-7, 0.1, 2**53 - 1], "[1,80,0,1e+21,1e-7,0.1,9007199254740991]",
                     id="numbers"),
        # Section 3.2.2.2: only the mandatory escapes; everything else stays as UTF-8.
        pytest.param({"s": "é—\u20ac\n\"\\\u001f/"}, '{"s":"é—€\\n\\"\\\\\\u001f/"}', id="strings"),
        # Section 3.2.3: members sorted by UTF-16 code units, which puts U+1F600 before U+E000.
        pytest.param({"\ue000": 2, "\U0001f600": 1, "a": 0}, '{"a":0,"\U0001f600":1,"\ue000":2}',
                     id="utf-16 order"),
    ],
)
def test_canonicalize(value: Any, expected: str) -> None:
    assert canonicalize(value) == expected.encode("utf-8")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**53, -(2**53), {1: "x"}, b"bytes"])
def test_canonicalize_rejects(value: Any) -> None:
    with pytest.raises(CanonicalizationError, match="no RFC 8785 canonical form"):
        canonicalize(value)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(256))])
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("AAA=", "it carries '=' padding"),
        ("ab+/", "it uses '+' or '/' of plain base64"),
        ("ab cd", "characters outside A-Z a-z 0-9 - _"),
        ("é", "characters outside"),
        ("AAAAA", "5 characters is an impossible length"),
        ("AB", "not canonical base64url"),  # "AA" is the one spelling of b"\x00"
    ],
)
def test_b64url_decode_is_strict(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        b64url_decode(text)
    assert fragment in str(info.value)


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    alphabet = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\b", "\f", "\r", "\u0000",
                "\u001f", "\u007f", "é", "\u2028", "\u2029", "\ue000", "\uffff", "\U0001f600", "€"]
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if choice == 1:
        return rng.choice([True, False, None])
    if choice == 2:
        return rng.choice([0, -1, 1, 2**53 - 1, -(2**53 - 1), rng.randrange(-10**12, 10**12)])
    if choice == 3:
        return rng.choice([0.5, -0.0, 1e21, 1e-7, 123.0, 3.14159])  # left to rfc8785
    if choice in (4, 5):
        return "".join(rng.choice(alphabet[:5]) for _ in range(rng.randrange(1, 6)))
    if choice in (6, 7):
        keys = ["id", "type", "b", "B", "a_b", "x-1", "é", "\ue000", "\U0001f600", "", "10", "9"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_canonicalize_is_the_rfc8785_package_byte_for_byte() -> None:
    """The json-module fast path and the rfc8785 package agree on every value either writes."""
    import rfc8785

    from bench.data import objects

    rng = random.Random(8785)
    values: list[Any] = [_random_json(rng) for _ in range(3000)]
    values += objects("reports", 300) + objects("signed", 50)
    for value in values:
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:
            with pytest.raises(CanonicalizationError):
                canonicalize(value)
            continue
        assert canonicalize(value) == expected, value


@pytest.mark.parametrize("value", ["\ud800", {"k": ["x\udfff"]}])
def test_canonicalize_refuses_lone_surrogates(value: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)
