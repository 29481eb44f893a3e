"""Detection of personal data in free text and STIX objects (hub.stix.pii)."""

from __future__ import annotations

import pytest

from hub.common.problems import Code
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.pii import EMAIL, IBAN, PAYMENT_CARD, PHONE, find_pii, scan_object

PSEUDO = "hmac-sha256:1:" + "ab12" * 16

FOUND = [
    pytest.param("contact alice@example.com for access", [EMAIL], id="email"),
    pytest.param("ALICE.SMITH+cloud@mail.example.co.uk", [EMAIL], id="email-upper-tag"),
    pytest.param("call +1 415 555 2671 today", [PHONE], id="phone-us-intl"),
    pytest.param("+44 20 7946 0958", [PHONE], id="phone-gb-intl"),
    pytest.param("+33 1 42 68 53 00", [PHONE], id="phone-fr-intl"),
    pytest.param("(415) 555-2671", [PHONE], id="phone-us-national"),
    pytest.param("tel 415.555.2671", [PHONE], id="phone-us-dotted"),
    pytest.param("paid with 4111 1111 1111 1111", [PAYMENT_CARD], id="card-spaces"),
    pytest.param("card 4111-1111-1111-1111 expired", [PAYMENT_CARD], id="card-dashes"),
    pytest.param("amex 378282246310005.", [PAYMENT_CARD], id="card-amex"),
    pytest.param("card 4111 1111 1111 1111 2024", [PAYMENT_CARD], id="card-then-digits"),
    pytest.param("IBAN DE89 3704 0044 0532 0130 00", [IBAN], id="iban"),
    pytest.param("a@example.com, +1 415 555 2671, 4111111111111111", [EMAIL, PHONE, PAYMENT_CARD],
                 id="all-three-in-order"),
    # Digits of other scripts are the same digits: a number written in them is still found.
    pytest.param("call \uff0b\uff11 \uff14\uff11\uff15 \uff15\uff15\uff15 \uff12\uff16\uff17\uff11",
                 [PHONE], id="phone-fullwidth-digits"),
    pytest.param("card \u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 "
                 "\u0661\u0661\u0661\u0661", [PAYMENT_CARD], id="card-arabic-indic-digits"),
    pytest.param("tel +1 \u096a\u0967\u096b \u096b\u096b\u096b \u0968\u096c\u096d\u0967", [PHONE],
                 id="phone-devanagari-digits"),
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_find_pii_finds(text: str, expected: list[str]) -> None:
    assert find_pii(text) == expected


NOT_FOUND = [
    pytest.param("", id="empty"),
    pytest.param("Phishing kit hosted on a trial account", id="prose"),
    pytest.param("first seen 2024-01-15", id="date"),
    pytest.param("between 2024-01-15 and 2024-03-30", id="two-dates"),
    pytest.param("at 2024-01-15T10:20:30.123Z", id="stix-timestamp"),
    pytest.param("at 2024-01-15 10:20:30+02:00", id="iso-timestamp-offset"),
    pytest.param("15/01/2024 12:30:45", id="slash-date-time"),
    pytest.param("20240115", id="compact-date"),
    # 16 digits joined by dashes that pass Luhn: only the date masking keeps it from being a card.
    pytest.param("active 2024-04-28-2024-05-05", id="date-range-luhn-valid"),
    pytest.param("epoch 1705314030 and 1705314030123", id="epoch-seconds-millis"),
    pytest.param("agent version 10.0.19041.1234", id="version-4-groups"),
    pytest.param("openssl 3.0.13 and kernel 5.15.0", id="version-3-groups"),
    pytest.param("from 203.0.113.5 and 192.168.100.200", id="ipv4"),
    pytest.param("198.51.100.0/24", id="ipv4-cidr"),
    pytest.param("listening on 203.0.113.5:8443", id="ipv4-port"),
    pytest.param("ports 8080, 8443, 31337 and 65535", id="ports"),
    pytest.param("2001:db8:85a3::8a2e:370:7334", id="ipv6"),
    pytest.param("mac 00:1a:2b:3c:4d:5e", id="mac"),
    pytest.param("6ba7b810-9dad-11d1-80b4-00c04fd430c8", id="uuid"),
    pytest.param("12345678-1234-4123-8123-123456789012", id="uuid-all-digits"),
    pytest.param("see indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", id="stix-id"),
    pytest.param("user-account--12345678-1234-5123-8123-412345678901", id="stix-id-digits"),
    pytest.param("sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 id="sha256"),
    pytest.param(PSEUDO, id="pseudonym"),
    pytest.param("CVE-2021-44228", id="cve"),
    pytest.param("AS13335 AS15169", id="asn"),
    pytest.param("card ending 1111", id="card-last-four"),
    pytest.param("order 4111111111111112", id="luhn-invalid-16"),
    pytest.param("user@ but no domain", id="at-sign-only"),
    # Superscripts are digits (str.isdigit) but not decimal digits: no number is written in them.
    pytest.param("x\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u00b9\u2070", id="superscripts"),
    pytest.param("first seen \uff12\uff10\uff12\uff14-01-15", id="date-fullwidth-year"),
]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_find_pii_ignores_structured_values(text: str) -> None:
    assert find_pii(text) == []


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_find_pii_never_returns_the_value(text: str, expected: list[str]) -> None:
    for description in find_pii(text):
        assert description in (EMAIL, PHONE, PAYMENT_CARD, IBAN)
        assert not any(ch.isdigit() for ch in description) and "@" not in description


IAAS = IAAS_ACCOUNT_EXTENSION_ID

SCAN = [
    pytest.param(
        {"type": "indicator", "name": "Bad IP", "description": "Seen 2024-01-15 from 203.0.113.5",
         "pattern": "[email-addr:value = 'a@example.com']"},
        [], id="clean-indicator-pattern-not-scanned"),
    pytest.param(
        {"type": "report", "description": "holder alice@example.com, phone +1 415 555 2671"},
        ["description contains an e-mail address", "description contains a phone number"],
        id="report-description"),
    pytest.param({"type": "note", "abstract": "card 4111 1111 1111 1111", "content": "fine"},
                 ["abstract contains a payment card number"], id="note-abstract"),
    pytest.param({"type": "note", "content": "mail bob@example.org"},
                 ["content contains an e-mail address"], id="note-content"),
    pytest.param({"type": "opinion", "explanation": "ask +44 20 7946 0958"},
                 ["explanation contains a phone number"], id="opinion-explanation"),
    pytest.param({"type": "infrastructure", "name": "x", "labels": ["ok", "bob@example.org"]},
                 ["labels[1] contains an e-mail address"], id="labels"),
    pytest.param({"type": "indicator", "external_references": [
        {"source_name": "ticket", "description": "from carol@example.net",
         "url": "https://tickets.example/123"}]},
        ["external_references[0].description contains an e-mail address"], id="external-ref"),
    pytest.param({"type": "indicator", "x_contact": {"who": ["dave@example.com"]},
                  "x_count": 4155552671},
                 ["x_contact.who[0] contains an e-mail address"], id="custom-nested"),
    pytest.param({"type": "email-addr", "value": "eve@example.com"},
                 ["email-addr object carries an e-mail address in clear"], id="email-addr-sco"),
    pytest.param({"type": "user-account", "user_id": "eve@example.com",
                  "account_login": "+14155552671", "display_name": "Eve"},
                 ["user_id looks like an e-mail address", "account_login looks like a phone number"],
                 id="user-account-fields"),
    pytest.param({"type": "user-account", "user_id": PSEUDO, "account_type": "cloud-iaas",
                  "extensions": {IAAS: {"extension_type": "property-extension",
                                        "provider_account_pseudonym": PSEUDO,
                                        "pseudonyms": {"email": PSEUDO, "phone": PSEUDO}}}},
                 [], id="iaas-pseudonyms-ok"),
    pytest.param({"type": "user-account", "account_type": "cloud-iaas",
                  "extensions": {IAAS: {"provider_account_pseudonym": "123456789012",
                                        "pseudonyms": {"email": "eve@example.com",
                                                       "phone": PSEUDO,
                                                       "name": "Eve Example",
                                                       "address": None,
                                                       "payment_instrument": [PSEUDO, "4111"]}}}},
                 ["provider_account_pseudonym is not a pseudonym: raw personal values are refused",
                  "pseudonyms.email is not a pseudonym: raw personal values are refused",
                  "pseudonyms.name is not a pseudonym: raw personal values are refused",
                  "pseudonyms.address is not a pseudonym: raw personal values are refused",
                  "pseudonyms.payment_instrument is not a pseudonym: raw personal values are refused"],
                 id="iaas-raw-values"),
    pytest.param({"type": "user-account", "extensions": {IAAS: {"pseudonyms": "eve@example.com"}}},
                 ["pseudonyms must be an object of pseudonyms: raw personal values are refused"],
                 id="iaas-pseudonyms-not-object"),
    pytest.param({"type": "user-account", "extensions": {IAAS: {
        "pseudonyms": {"email": "hmac-sha256:1:" + "AB12" * 16}}}},
        ["pseudonyms.email is not a pseudonym: raw personal values are refused"],
        id="iaas-pseudonym-upper-hex"),
    pytest.param({"type": "identity", "name": "Example Cloud", "identity_class": "organization",
                  "id": "identity--12345678-1234-4123-8123-412345678901",
                  "created": "2024-01-15T10:20:30.123Z"},
                 [], id="structured-properties-skipped"),
    pytest.param({"type": "indicator", "x_notes": {"frank@example.com": "yes", "k": "+1 415 555 2671"}},
                 ["x_notes (a member name) contains an e-mail address", "x_notes.k contains a phone number"],
                 id="custom-member-name"),
    pytest.param({"type": "user-account", "extensions": {IAAS: {"pseudonyms": {"frank@example.com": "x"}}}},
                 ["pseudonyms.(a member that is not a kind) is not a pseudonym: raw personal values are refused"],
                 id="iaas-unknown-kind-not-named"),
]


@pytest.mark.parametrize(("obj", "expected"), SCAN)
def test_scan_object(obj: dict, expected: list[str]) -> None:
    problems = scan_object(obj)
    assert [str(p) for p in problems] == expected
    assert all(p.code == Code.PERSONAL_DATA and p.property and not p.quotes_value for p in problems)


@pytest.mark.parametrize(("obj", "expected"), SCAN)
def test_scan_reasons_never_contain_values(obj: dict, expected: list[str]) -> None:
    for problem in scan_object(obj):
        for text in (problem.message, problem.property):
            assert "@" not in text and "4111" not in text and "555" not in text, problem


def test_scan_object_not_a_dict() -> None:
    assert scan_object(["not", "an", "object"]) == []  # type: ignore[arg-type]


def _phone_corpus() -> list[str]:
    """Every region's example numbers of every type, written every way a person would."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    types = [v for k, v in vars(PhoneNumberType).items() if k.isupper() and k != "UNKNOWN"]
    formats = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL,
               PhoneNumberFormat.NATIONAL, PhoneNumberFormat.RFC3966)
    texts: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in types:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for fmt in formats:
                texts.append(f"call {phonenumbers.format_number(number, fmt)} now")
            # Dialled from the US: "011 ..." without a plus.
            texts.append("dial " + phonenumbers.format_out_of_country_calling_number(number, "US"))
    return texts


def _digit_noise() -> list[str]:
    import random

    rng = random.Random(7)
    seps = ["", " ", "-", ".", "/", " - ", "(", ")", "x", "  ", ",", ":"]
    texts = []
    for _ in range(3000):
        parts = ["".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))
                 for _ in range(rng.randint(1, 5))]
        lead = rng.choice(["", "", "+", "(", "011 ", "1 "])
        texts.append("ref " + lead + "".join(p + rng.choice(seps) for p in parts).strip())
    return texts


def test_phone_prefilter_never_hides_a_number_the_matcher_finds() -> None:
    """The cheap pre-filter may let through text without a number, never the other way."""
    from hub.stix.pii import _could_be_phone, _has_phone

    corpus = _phone_corpus() + _digit_noise()
    assert len(corpus) > 4000
    found = [t for t in corpus if _has_phone(t)]
    assert len(found) > 1000  # the corpus does exercise the matcher
    hidden = [t for t in found if not _could_be_phone(t)]
    assert hidden == []


@pytest.mark.parametrize("text", ["sequence 00000123", "build 20260105 step 2", "ticket 1234-5678"])
def test_short_digit_runs_skip_the_phone_matcher(text: str) -> None:
    from hub.stix.pii import _could_be_phone

    assert not _could_be_phone(text)
    assert find_pii(text) == []
