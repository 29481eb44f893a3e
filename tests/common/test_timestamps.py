"""The one STIX timestamp grammar (hub.common.timestamps), case by case.

STIX 2.1 section 3.2: ``YYYY-MM-DDTHH:mm:ss[.s+]Z``, UTC, the "T" and "Z" in upper case, a real
date and time (RFC 3339). The hub reads ASCII digits only, refuses the leap second ``:60`` (as the
OASIS validator does), reads any number of fraction digits and keeps microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.common.timestamps import (
    InvalidTimestamp,
    format_timestamp_ms,
    format_timestamp_us,
    fraction_digits,
    is_stix_timestamp,
    parse_timestamp_us,
)


def _us(*args: int) -> int:
    """Microseconds since the epoch of a UTC date and time, computed by datetime."""
    delta = datetime(*args, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)  # type: ignore[misc]
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


VALID = [
    pytest.param("1970-01-01T00:00:00Z", 0, 0, id="epoch"),
    pytest.param("2025-03-01T09:30:00Z", _us(2025, 3, 1, 9, 30), 0, id="no-fraction"),
    pytest.param("2025-03-01T09:30:00.1Z", _us(2025, 3, 1, 9, 30, 0, 100_000), 1, id="one-digit"),
    pytest.param("2025-03-01T09:30:00.123Z", _us(2025, 3, 1, 9, 30, 0, 123_000), 3, id="milliseconds"),
    pytest.param("2025-03-01T09:30:00.123456Z", _us(2025, 3, 1, 9, 30, 0, 123_456), 6, id="microseconds"),
    pytest.param("2025-03-01T09:30:00.1234567891Z", _us(2025, 3, 1, 9, 30, 0, 123_456), 10,
                 id="nanoseconds-and-more-truncated"),
    pytest.param("2025-03-01T09:30:00.000Z", _us(2025, 3, 1, 9, 30), 3, id="zero-fraction"),
    pytest.param("2024-02-29T12:00:00Z", _us(2024, 2, 29, 12), 0, id="leap-day"),
    pytest.param("2000-02-29T00:00:00Z", _us(2000, 2, 29), 0, id="leap-day-400-year"),
    pytest.param("2025-12-31T23:59:59.999Z", _us(2025, 12, 31, 23, 59, 59, 999_000), 3, id="last-millisecond"),
    pytest.param("0001-01-01T00:00:00Z", _us(1, 1, 1), 0, id="year-1"),
    pytest.param("9999-12-31T23:59:59.999999Z", _us(9999, 12, 31, 23, 59, 59, 999_999), 6, id="year-9999"),
    pytest.param("1969-12-31T23:59:59.5Z", -500_000, 1, id="before-the-epoch"),
]


@pytest.mark.parametrize(("text", "us", "digits"), VALID)
def test_valid(text: str, us: int, digits: int) -> None:
    assert is_stix_timestamp(text)
    assert parse_timestamp_us(text) == us
    assert fraction_digits(text) == digits


# (text, is it of the form at all): a value of the right form may still name no real instant.
INVALID = [
    pytest.param("2025-02-29T00:00:00Z", True, id="leap-day-in-common-year"),
    pytest.param("1900-02-29T00:00:00Z", True, id="leap-day-in-century-year"),
    pytest.param("2025-02-30T00:00:00Z", True, id="30-february"),
    pytest.param("2025-04-31T00:00:00Z", True, id="31-april"),
    pytest.param("2025-13-01T00:00:00Z", True, id="month-13"),
    pytest.param("2025-00-10T00:00:00Z", True, id="month-0"),
    pytest.param("2025-01-00T00:00:00Z", True, id="day-0"),
    pytest.param("0000-01-01T00:00:00Z", True, id="year-0"),
    pytest.param("2025-01-01T24:00:00Z", True, id="hour-24"),
    pytest.param("2025-01-01T23:60:00Z", True, id="minute-60"),
    pytest.param("2016-12-31T23:59:60Z", True, id="leap-second"),
    pytest.param("2025-01-01T00:00:00.Z", False, id="point-without-digits"),
    pytest.param("2025-01-01T00:00:00,123Z", False, id="comma-fraction"),
    pytest.param("2025-01-01T00:00:00", False, id="no-zone"),
    pytest.param("2025-01-01T00:00:00+00:00", False, id="offset"),
    pytest.param("2025-01-01t00:00:00z", False, id="lower-case-t-z"),
    pytest.param("2025-01-01 00:00:00Z", False, id="space-for-t"),
    pytest.param("2025-01-01", False, id="date-only"),
    pytest.param("2025-1-01T00:00:00Z", False, id="one-digit-month"),
    pytest.param("12025-01-01T00:00:00Z", False, id="five-digit-year"),
    pytest.param("20250101T000000Z", False, id="basic-format"),
    pytest.param("2025-01-01T00:00:00Z\n", False, id="trailing-newline"),
    pytest.param(" 2025-01-01T00:00:00Z", False, id="leading-space"),
    # Digits of other scripts: Python's \d and int() read them, no STIX consumer does.
    pytest.param("\uff12\uff10\uff12\uff15-01-01T00:00:00.000Z", False, id="fullwidth-year"),
    pytest.param("\u0662\u0660\u0662\u0665-\u0660\u0661-\u0660\u0661T00:00:00Z", False,
                 id="arabic-indic-digits"),
    pytest.param("\u00b2\u2070\u00b2\u2075-01-01T00:00:00Z", False, id="superscript-digits"),
    pytest.param("\u0968\u0966\u0968\u096b-01-01T00:00:00Z", False, id="devanagari-digits"),
    pytest.param("2025-01-01T00:00:00.\uff11\uff12\uff13Z", False, id="fullwidth-fraction"),
    pytest.param("", False, id="empty"),
]


@pytest.mark.parametrize(("text", "of_the_form"), INVALID)
def test_invalid(text: str, of_the_form: bool) -> None:
    assert is_stix_timestamp(text) is of_the_form
    assert (fraction_digits(text) is not None) is of_the_form
    with pytest.raises(InvalidTimestamp) as caught:
        parse_timestamp_us(text, "valid_from")
    assert "valid_from" in str(caught.value)
    problem = caught.value.problem
    assert (problem.code, problem.property, problem.message) == ("invalid-timestamp", "valid_from",
                                                                 str(caught.value))


@pytest.mark.parametrize("value", [
    pytest.param(1735689600, id="number"),
    pytest.param(None, id="null"),
    pytest.param(datetime(2025, 1, 1, tzinfo=UTC), id="datetime"),
    pytest.param(["2025-01-01T00:00:00Z"], id="list"),
])
def test_not_a_string(value: Any) -> None:
    assert not is_stix_timestamp(value) and fraction_digits(value) is None
    with pytest.raises(InvalidTimestamp, match="valid_from must be a STIX timestamp string"):
        parse_timestamp_us(value, "valid_from")


@pytest.mark.parametrize(("value", "shown"), [
    pytest.param("2025-02-30T00:00:00Z", True, id="date-shaped-is-quoted"),
    pytest.param("2025-01-01 10:00:00+02:00", True, id="iso-with-offset-is-quoted"),
    pytest.param("jane.doe@example.com", False, id="email-is-described"),
    pytest.param("2025-01-01 +14155552671", False, id="phone-after-a-date-is-described"),
    pytest.param("x" * 200, False, id="long-value-is-described"),
])
def test_a_bad_value_is_quoted_only_when_shaped_like_a_date(value: str, shown: bool) -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        parse_timestamp_us(value, "created")
    message = str(caught.value)
    assert (value in message) is shown
    if not shown:
        assert f"a string of {len(value)} characters" in message


@pytest.mark.parametrize(("text", "us"), [pytest.param(p.values[0], p.values[1], id=p.id) for p in VALID])
def test_format_reads_back(text: str, us: int) -> None:
    formatted = format_timestamp_us(us)
    assert is_stix_timestamp(formatted) and fraction_digits(formatted) == 6
    assert parse_timestamp_us(formatted) == us


@pytest.mark.parametrize("us", [
    pytest.param(_us(1, 1, 1) - 1, id="before-year-1"),
    pytest.param(_us(9999, 12, 31, 23, 59, 59, 999_999) + 1, id="after-year-9999"),
])
def test_format_refuses_instants_outside_the_grammar(us: int) -> None:
    with pytest.raises(InvalidTimestamp):
        format_timestamp_us(us)


def test_millisecond_form() -> None:
    text = format_timestamp_ms(datetime(2025, 3, 1, 9, 30, 0, 123_456, tzinfo=UTC))
    assert text == "2025-03-01T09:30:00.123Z" and fraction_digits(text) == 3
