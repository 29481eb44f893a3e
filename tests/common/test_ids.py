"""The one STIX identifier and type-name grammar (hub.common.ids), case by case.

STIX 2.1 section 2.9: an identifier is ``<object type>--<UUID>`` and the UUID "MUST be an RFC
4122-compliant UUID": RFC 4122 defines versions 1 to 5 and the variant 10xx (8, 9, a or b as the
first digit of the fourth group). The hub takes lower case only. Section 3.1 (and the OASIS 2.1
schemas' ``type`` and ``identifier`` patterns): a type name is 3 to 250 characters a-z, 0-9 and
hyphen, starting with a letter, without a trailing or doubled hyphen.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.common.ids import (
    SCO_TYPES,
    STIX_ID_IN_TEXT_RE,
    id_type,
    is_stix_id,
    is_stix_type,
    is_uuid_text,
    uuid_version,
)

U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"  # a version 4, variant 10xx UUID


def _with(version: str = "4", variant: str = "9") -> str:
    """``U`` with another version digit and first digit of the fourth group."""
    return f"{U[:14]}{version}{U[15:19]}{variant}{U[20:]}"


# One row per UUID version digit: RFC 4122 defines 1 to 5 (later RFC 9562 adds 6 to 8, which
# STIX 2.1 does not cite); 0 and 9 are no version at all.
VERSIONS = [pytest.param(str(v), 1 <= v <= 5, id=f"version-{v}") for v in range(10)] + [
    pytest.param(d, False, id=f"version-{d}") for d in "abcdef"
]
# One row per first digit of the fourth group: 0-7 are the NCS variant, 8-b RFC 4122's,
# c-d Microsoft's, e-f reserved.
VARIANTS = [pytest.param(d, d in "89ab", id=f"variant-{d}") for d in "0123456789abcdef"]


@pytest.mark.parametrize(("version", "ok"), VERSIONS)
def test_uuid_version(version: str, ok: bool) -> None:
    value = f"indicator--{_with(version=version)}"
    assert is_stix_id(value) is ok
    assert uuid_version(value) == (int(version) if ok else None)


@pytest.mark.parametrize(("variant", "ok"), VARIANTS)
def test_uuid_variant(variant: str, ok: bool) -> None:
    value = _with(variant=variant)
    assert is_stix_id(f"indicator--{value}") is ok
    # The same verdict as Python's own reading of the UUID.
    assert (uuid.UUID(value).variant == uuid.RFC_4122) is ok


ID_CASES = [
    pytest.param(f"indicator--{U}", True, id="v4"),
    pytest.param(f"ipv4-addr--{uuid.uuid5(uuid.NAMESPACE_URL, 'x')}", True, id="v5-sco"),
    pytest.param(f"x-acme-widget--{U}", True, id="custom-type"),
    pytest.param(f"x509-certificate--{U}", True, id="digits-in-type"),
    pytest.param("indicator--00000000-0000-0000-0000-000000000000", False, id="nil-uuid"),
    pytest.param("indicator--ffffffff-ffff-ffff-ffff-ffffffffffff", False, id="max-uuid"),
    pytest.param(f"indicator--{U.upper()}", False, id="upper-case-uuid"),
    pytest.param(f"indicator--{U[:-1]}F", False, id="one-upper-case-digit"),
    pytest.param(f"Indicator--{U}", False, id="upper-case-type"),
    pytest.param(f"indicator--{{{U}}}", False, id="braced-uuid"),
    pytest.param(f"indicator--{U.replace('-', '')}", False, id="uuid-without-hyphens"),
    pytest.param(f"urn:uuid:{U}", False, id="urn"),
    pytest.param(U, False, id="uuid-alone"),
    pytest.param(f"indicator-{U}", False, id="one-hyphen"),
    pytest.param(f"indicator---{U}", False, id="three-hyphens"),
    pytest.param(f"--{U}", False, id="no-type"),
    pytest.param("indicator--", False, id="no-uuid"),
    pytest.param(f"indicator--{U}\n", False, id="trailing-newline"),
    pytest.param(f" indicator--{U}", False, id="leading-space"),
    pytest.param(f"indicator--{U} ", False, id="trailing-space"),
    pytest.param(f"indicator--{U}x", False, id="trailing-character"),
    # Digits and letters of other scripts look alike but are not the ASCII the grammar names.
    pytest.param(f"indicator--\uff18{U[1:]}", False, id="fullwidth-digit"),
    pytest.param(f"indicator--\u0668{U[1:]}", False, id="arabic-indic-digit"),
    pytest.param(f"indicator--\u2078{U[1:]}", False, id="superscript-digit"),
    pytest.param(f"indicator--{U[:-1]}\uff46", False, id="fullwidth-letter"),
    pytest.param(f"\u0131ndicator--{U}", False, id="dotless-i-in-type"),
    pytest.param(None, False, id="null"),
    pytest.param(42, False, id="number"),
    pytest.param(f"indicator--{U}".encode(), False, id="bytes"),
    pytest.param([f"indicator--{U}"], False, id="list"),
]


@pytest.mark.parametrize(("value", "ok"), ID_CASES)
def test_is_stix_id(value: Any, ok: bool) -> None:
    assert is_stix_id(value) is ok
    assert (id_type(value) is not None) is ok


@pytest.mark.parametrize(("value", "wanted", "ok"), [
    pytest.param(f"identity--{U}", "identity", True, id="right-type"),
    pytest.param(f"identity--{U}", "indicator", False, id="other-type"),
    pytest.param(f"identity--{U}", "identit", False, id="prefix-of-type"),
    pytest.param(f"x-identity--{U}", "identity", False, id="type-ends-alike"),
])
def test_is_stix_id_of_a_type(value: str, wanted: str, ok: bool) -> None:
    assert is_stix_id(value, wanted) is ok


TYPE_CASES = [
    pytest.param("indicator", True, id="sdo"),
    pytest.param("x-acme-widget", True, id="custom"),
    pytest.param("abc", True, id="three-characters"),
    pytest.param("ab", False, id="two-characters"),
    pytest.param("a" * 250, True, id="250-characters"),
    pytest.param("a" * 251, False, id="251-characters"),
    pytest.param("x509-certificate", True, id="digits-inside"),
    pytest.param("abc1", True, id="ends-in-digit"),
    pytest.param("1abc", False, id="starts-with-digit"),
    pytest.param("-abc", False, id="starts-with-hyphen"),
    pytest.param("abc-", False, id="ends-with-hyphen"),
    pytest.param("ab--c", False, id="double-hyphen"),
    pytest.param("x_acme", False, id="underscore"),
    pytest.param("Indicator", False, id="upper-case"),
    pytest.param("indicator\n", False, id="trailing-newline"),
    pytest.param("ind icator", False, id="space"),
    pytest.param("\uff49ndicator", False, id="fullwidth-letter"),
    pytest.param("ab\u0663", False, id="arabic-indic-digit"),
    pytest.param("ab\u00b2", False, id="superscript-digit"),
    pytest.param("", False, id="empty"),
    pytest.param(None, False, id="null"),
]


@pytest.mark.parametrize(("value", "ok"), TYPE_CASES)
def test_is_stix_type(value: Any, ok: bool) -> None:
    assert is_stix_type(value) is ok
    # A type is a type name exactly when it can be an identifier's type part.
    if isinstance(value, str):
        assert is_stix_id(f"{value}--{U}") is ok
        assert id_type(f"{value}--{U}") == (value if ok else None)


@pytest.mark.parametrize("sco_type", sorted(SCO_TYPES))
def test_every_observable_type_is_a_type_name(sco_type: str) -> None:
    assert is_stix_type(sco_type)


UUID_TEXT_CASES = [
    pytest.param(U, True, id="v4"),
    pytest.param(str(uuid.uuid1()), True, id="v1"),
    pytest.param("00000000-0000-0000-0000-000000000000", True, id="nil-any-version"),
    pytest.param(_with(version="7", variant="c"), True, id="any-version-and-variant"),
    pytest.param(U.upper(), False, id="upper-case"),
    pytest.param(f"{U}\n", False, id="trailing-newline"),
    pytest.param(U.replace("-", ""), False, id="without-hyphens"),
    pytest.param(f"{{{U}}}", False, id="braced"),
    pytest.param(f"indicator--{U}", False, id="stix-id"),
    pytest.param(f"\uff18{U[1:]}", False, id="fullwidth-digit"),
    pytest.param(None, False, id="null"),
]


@pytest.mark.parametrize(("value", "ok"), UUID_TEXT_CASES)
def test_is_uuid_text(value: Any, ok: bool) -> None:
    assert is_uuid_text(value) is ok
    if ok:  # exactly the text Python writes for that UUID
        assert str(uuid.UUID(value)) == value


def test_ids_in_a_text_are_found_whatever_their_uuid_version() -> None:
    text = (f"created_by_ref identity--{U} and x509-certificate--{_with(version='0')} refused; "
            f"not indicator--{U.upper()} nor {U}")
    assert STIX_ID_IN_TEXT_RE.findall(text) == [f"identity--{U}", f"x509-certificate--{_with(version='0')}"]


def test_the_id_grammar_is_written_only_here() -> None:
    """No module of the hub spells a UUID pattern of its own: hub.common.ids holds it."""
    hub = Path(__file__).resolve().parents[2] / "hub"
    spelled = re.compile(r"\[0-9a-f\]\{8\}-|\{4\}-\[0-9a-f\]")
    found = sorted(str(path.relative_to(hub)) for path in hub.rglob("*.py")
                   if path != hub / "common" / "ids.py" and spelled.search(path.read_text(encoding="utf-8")))
    assert found == []
