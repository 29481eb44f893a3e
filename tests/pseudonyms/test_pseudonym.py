"""Normalisation of personal values and keyed pseudonyms (hub.pseudonyms)."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import pytest

from hub.common.errors import HubError
from hub.pseudonyms import (
    PERSONAL_KINDS,
    PSEUDONYM_RE,
    InvalidPersonalValue,
    PseudonymKeyring,
    generate_secret,
    iban_is_valid,
    luhn_is_valid,
    normalise,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


# --- normalise -----------------------------------------------------------------------------

NORMALISE_CASES = [
    # kind, raw value, default region, canonical form
    pytest.param("email", "  Alice@Example.COM ", None, "alice@example.com", id="email-case-space"),
    pytest.param("email", "Alice+Shop@example.com", None, "alice+shop@example.com",
                 id="email-plus-tag-kept"),
    pytest.param("email", "bob@Bücher.example", None, "bob@xn--bcher-kva.example", id="email-idn"),
    pytest.param("email", "bob@xn--bcher-kva.example.", None, "bob@xn--bcher-kva.example",
                 id="email-trailing-dot"),
    pytest.param("phone", "+1 415 555 2671", None, "+14155552671", id="phone-intl"),
    pytest.param("phone", "(415) 555-2671", "US", "+14155552671", id="phone-national-us"),
    pytest.param("phone", "020 7946 0958", "GB", "+442079460958", id="phone-national-gb"),
    pytest.param("phone", "+44 (0)20 7946 0958", "US", "+442079460958", id="phone-intl-trunk-0"),
    pytest.param("payment_instrument", "4111 1111 1111 1111", None, "4111111111111111",
                 id="card-spaces"),
    pytest.param("payment_instrument", "4111-1111-1111-1111", None, "4111111111111111",
                 id="card-dashes"),
    pytest.param("payment_instrument", "3782 822463 10005", None, "378282246310005", id="card-amex"),
    pytest.param("payment_instrument", "500000000009", None, "500000000009", id="card-12-digits"),
    pytest.param("payment_instrument", "４１１１ １１１１ １１１１ １１１１", None, "4111111111111111",
                 id="card-fullwidth"),
    pytest.param("payment_instrument", "de89 3704 0044 0532 0130 00", None,
                 "DE89370400440532013000", id="iban-lower-spaces"),
    pytest.param("payment_instrument", "GB82 WEST 1234 5698 7654 32", None,
                 "GB82WEST12345698765432", id="iban-gb"),
    pytest.param("name", "  Jean-Luc   PICARD ", None, "jean luc picard", id="name-space-case"),
    pytest.param("name", "Seán O'Brien", None, "seán obrien", id="name-apostrophe"),
    pytest.param("name", "Seán O\u2019Brien", None, "seán obrien", id="name-curly-apostrophe"),
    pytest.param("name", "ＪＯＨＮ　ＳＭＩＴＨ", None, "john smith", id="name-fullwidth-nfkc"),
    pytest.param("name", "Grosse STRAẞE", None, "grosse strasse", id="name-casefold"),
    pytest.param("address", "1 Main St.,Springfield,\n IL  62701", None,
                 "1 main st springfield il 62701", id="address-punct"),
    pytest.param("provider_account", "  123456789012 ", None, "123456789012", id="account"),
]


@pytest.mark.parametrize(("kind", "raw", "region", "expected"), NORMALISE_CASES)
def test_normalise(kind: str, raw: str, region: str | None, expected: str) -> None:
    assert normalise(kind, raw, default_region=region) == expected


@pytest.mark.parametrize(("kind", "raw", "region", "expected"), NORMALISE_CASES)
def test_normalise_is_idempotent(kind: str, raw: str, region: str | None, expected: str) -> None:
    # The builder normalises and the keyring normalises again: that must change nothing.
    once = normalise(kind, raw, default_region=region)
    assert normalise(kind, once, default_region=region) == once


REJECT_CASES = [
    pytest.param("email", "alice.example.com", id="email-no-at"),
    pytest.param("email", "alice@localhost", id="email-no-dot"),
    pytest.param("email", "alice smith@example.com", id="email-space"),
    pytest.param("email", "@example.com", id="email-empty-local"),
    pytest.param("email", "alice@example.com\n.", id="email-newline-before-final-dot"),
    pytest.param("phone", "call me maybe", id="phone-text"),
    pytest.param("phone", "415 555 2671", id="phone-national-without-region"),
    pytest.param("phone", "+1 415 555", id="phone-too-short"),
    pytest.param("phone", "+1 099 555 2671", id="phone-invalid-area"),
    pytest.param("payment_instrument", "4111 1111 1111 1112", id="card-luhn"),
    pytest.param("payment_instrument", "41111111118", id="card-11-digits"),
    pytest.param("payment_instrument", "41111111111111111113", id="card-20-digits"),
    pytest.param("payment_instrument", "DE89 3704 0044 0532 0130 01", id="iban-checksum"),
    pytest.param("payment_instrument", "paypal: alice", id="payment-other"),
    pytest.param("name", " .,;- ", id="name-only-punct"),
    pytest.param("address", "   ", id="address-blank"),
    pytest.param("provider_account", "  ", id="account-blank"),
]


@pytest.mark.parametrize(("kind", "raw"), REJECT_CASES)
def test_normalise_rejects_without_echoing_value(kind: str, raw: str) -> None:
    with pytest.raises(InvalidPersonalValue) as info:
        normalise(kind, raw)
    exc = info.value
    assert isinstance(exc, ValueError) and isinstance(exc, HubError)
    assert exc.kind == kind
    message = str(exc)
    assert message.startswith(f"{kind}: ")
    for form in {raw.strip(), raw.replace(" ", ""), "".join(c for c in raw if c.isdigit())}:
        if len(form) >= 4:
            assert form not in message
    # The library exception (which may quote the input) is not chained.
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_normalise_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown personal value kind"):
        normalise("ssn", "078-05-1120")


@pytest.mark.parametrize(("digits", "valid"), [
    ("4111111111111111", True), ("378282246310005", True), ("79927398713", True),
    ("4111111111111112", False), ("", False), ("4111 1111", False), ("٤١١١", False),
])
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_is_valid(digits) is valid


@pytest.mark.parametrize(("iban", "valid"), [
    ("DE89370400440532013000", True), ("GB82WEST12345698765432", True),
    ("NO9386011117947", True), ("DE89370400440532013001", False), ("DE8937040044", False),
    ("de89370400440532013000", False),
])
def test_iban(iban: str, valid: bool) -> None:
    assert iban_is_valid(iban) is valid


# --- keyring --------------------------------------------------------------------------------

def _expected(key: bytes, version: str, kind: str, canonical: str) -> str:
    digest = hmac.new(key, f"{kind}\x00{canonical}".encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{version}:{digest}"


@pytest.mark.parametrize(("kind", "raw", "region", "canonical"), NORMALISE_CASES)
def test_pseudonym_is_hmac_of_kind_and_normalised_value(
    kind: str, raw: str, region: str | None, canonical: str
) -> None:
    ring = PseudonymKeyring({"2024-01": KEY_A}, "2024-01", default_region=region)
    p = ring.pseudonym(kind, raw)
    assert PSEUDONYM_RE.match(p)
    assert p == _expected(KEY_A, "2024-01", kind, canonical)
    assert canonical not in p


@pytest.mark.parametrize(("kind", "a", "b"), [
    ("email", "Alice@Example.com", " alice@example.COM"),
    ("phone", "+1 (415) 555-2671", "+14155552671"),
    ("payment_instrument", "4111 1111 1111 1111", "4111-1111-1111-1111"),
    ("name", "JOHN  SMITH", "John Smith"),
])
def test_same_value_written_differently_gives_same_pseudonym(kind: str, a: str, b: str) -> None:
    ring = PseudonymKeyring({"1": KEY_A}, "1")
    assert ring.pseudonym(kind, a) == ring.pseudonym(kind, b)


def test_kind_separates_pseudonyms() -> None:
    ring = PseudonymKeyring({"1": KEY_A}, "1")
    assert ring.pseudonym("name", "Springfield") != ring.pseudonym("address", "Springfield")


def test_keys_separate_pseudonyms() -> None:
    a = PseudonymKeyring({"1": KEY_A}, "1").pseudonym("email", "a@example.com")
    b = PseudonymKeyring({"1": KEY_B}, "1").pseudonym("email", "a@example.com")
    assert a != b


def test_rotation_matches_across_versions() -> None:
    old = PseudonymKeyring({"1": KEY_A}, "1")
    rotated = PseudonymKeyring({"1": KEY_A, "2": KEY_B}, "2")
    before = old.pseudonym("email", "a@example.com")
    after = rotated.pseudonym("email", "A@example.com")
    assert after.startswith("hmac-sha256:2:")
    assert rotated.pseudonyms_all_versions("email", "a@example.com") == [after, before]
    assert rotated.matches(before, "email", "a@example.com")
    assert rotated.matches(after, "email", "a@example.com")
    assert not rotated.matches(after, "email", "b@example.com")
    assert not rotated.matches(after.replace(":2:", ":9:"), "email", "a@example.com")
    assert not rotated.matches("not a pseudonym", "email", "a@example.com")
    assert rotated.versions == ("2", "1")
    assert rotated.current_version == "2"


def test_keyring_errors_do_not_echo_personal_values() -> None:
    ring = PseudonymKeyring({"1": KEY_A}, "1")
    with pytest.raises(InvalidPersonalValue) as info:
        ring.pseudonym("payment_instrument", "4111 1111 1111 1112")
    assert "4111" not in str(info.value)


@pytest.mark.parametrize("text", [repr, str])
def test_keyring_repr_never_shows_key_material(text) -> None:
    key = generate_secret()
    ring = PseudonymKeyring({"v1": KEY_A, "v2": key}, "v2")
    shown = text(ring)
    assert "v1" in shown and "v2" in shown
    for k in (KEY_A, key):
        for form in (k.hex(), repr(k), k.decode("latin-1"), repr(k)[2:-1]):
            assert form not in shown


def test_keyring_refuses_pickling() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(PseudonymKeyring({"1": KEY_A}, "1"))


@pytest.mark.parametrize(("keys", "current", "message"), [
    ({}, "1", "at least one key"),
    ({"1": b"short"}, "1", "too short"),
    ({"bad version!": KEY_A}, "bad version!", "version"),
    ({"x" * 33: KEY_A}, "x" * 33, "version"),
    ({"1": KEY_A}, "2", "not in the keyring"),
    ({"1": "not bytes"}, "1", "must be bytes"),
])
def test_keyring_validation(keys, current, message) -> None:
    with pytest.raises(ValueError, match=message):
        PseudonymKeyring(keys, current)


def test_from_secrets() -> None:
    ring = PseudonymKeyring.from_secrets({"7": KEY_A.hex()})
    assert ring.current_version == "7"
    assert ring.pseudonym("email", "a@example.com") == _expected(KEY_A, "7", "email", "a@example.com")
    two = PseudonymKeyring.from_secrets({"1": KEY_A, "2": KEY_B.hex()}, "2")
    assert two.versions == ("2", "1")
    with pytest.raises(ValueError, match="name the current"):
        PseudonymKeyring.from_secrets({"1": KEY_A, "2": KEY_B})
    secret = "zz" + KEY_A.hex()[2:]
    with pytest.raises(ValueError) as info:
        PseudonymKeyring.from_secrets({"1": secret})
    assert secret not in str(info.value) and "'1'" in str(info.value)


def test_generate_secret() -> None:
    a, b = generate_secret(), PseudonymKeyring.generate_secret()
    assert isinstance(a, bytes) and len(a) == 32 and len(b) == 32
    assert a != b


def test_personal_kinds_are_the_extension_fields() -> None:
    assert PERSONAL_KINDS == ("email", "phone", "payment_instrument", "name", "address")
