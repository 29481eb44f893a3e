"""The signed form of version 2 (the timestamp rule, then RFC 8785), the versions of the scheme,
a known-answer test that pins the scheme, and the survival of signatures through stix2.

docs/SIGNING.md states the rule; the tables here are its cases. The known answer (the bytes of
the signed form and the Ed25519 signature of a fixed object by a fixed key) is also printed in
docs/SIGNING.md, and the independent verifier given there is run against it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stix2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.common.canonical import canonicalize
from hub.pseudonyms import PseudonymKeyring
from hub.signing import (
    SIGNATURE_EXTENSION_ID,
    SIGNATURE_VERSION,
    SIGNATURE_VERSIONS,
    KeySet,
    SignatureFormatError,
    SignatureInvalid,
    SigningKey,
    canonical_timestamp,
    canonical_timestamps,
    sign_object,
    signatures_of,
    signing_input,
    unsigned_form,
    verify_entry,
)
from hub.signing.documents import sign_objects, verify_objects
from hub.signing.forms import signed_form
from hub.stix.report import ReportFacts, build_report, build_sighting
from tests.harness import examples
from tests.signing.vectors import (
    OTHER_EXTENSION,
    RFC8037_D,
    RFC8037_X,
    SIGNED_AT,
    SUBMITTER,
    b64d,
    sign_v1,
)

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "SIGNING.md"


def sigs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]


# ---------------------------------------------------------------- the timestamp rule, one string

@pytest.mark.parametrize(
    "text, expected",
    [
        # Whole seconds: the spellings stix2 and the hub write of one instant meet.
        pytest.param("2026-11-22T09:00:00Z", "2026-11-22T09:00:00Z", id="whole second, no fraction"),
        pytest.param("2026-11-22T09:00:00.000Z", "2026-11-22T09:00:00Z", id="whole second, milliseconds"),
        pytest.param("2026-11-22T09:00:00.0Z", "2026-11-22T09:00:00Z", id="whole second, one digit"),
        pytest.param("2026-11-22T09:00:00.000000Z", "2026-11-22T09:00:00Z", id="whole second, microseconds"),
        pytest.param("2026-11-22T09:00:10.000Z", "2026-11-22T09:00:10Z", id="the seconds' own zero stays"),
        pytest.param("2026-11-22T09:00:10Z", "2026-11-22T09:00:10Z", id="no fraction, seconds end in 0"),
        # Milliseconds.
        pytest.param("2026-11-22T09:00:00.123Z", "2026-11-22T09:00:00.123Z", id="milliseconds"),
        pytest.param("2026-11-22T09:00:00.120Z", "2026-11-22T09:00:00.12Z", id="milliseconds ending in 0"),
        pytest.param("2026-11-22T09:00:00.100Z", "2026-11-22T09:00:00.1Z", id="tenths"),
        pytest.param("2026-11-22T09:00:00.001Z", "2026-11-22T09:00:00.001Z", id="leading zeros stay"),
        # Microseconds (what the hub keeps).
        pytest.param("2026-11-22T09:00:00.123456Z", "2026-11-22T09:00:00.123456Z", id="microseconds"),
        pytest.param("2026-11-22T09:00:00.123450Z", "2026-11-22T09:00:00.12345Z", id="microseconds ending in 0"),
        pytest.param("2026-11-22T09:00:00.120000Z", "2026-11-22T09:00:00.12Z", id="milliseconds as microseconds"),
        pytest.param("2026-11-22T09:00:00.000001Z", "2026-11-22T09:00:00.000001Z", id="one microsecond"),
        # More than six digits: kept exactly, nothing is truncated.
        pytest.param("2026-11-22T09:00:00.1234567Z", "2026-11-22T09:00:00.1234567Z", id="7 digits"),
        pytest.param("2026-11-22T09:00:00.1234567890Z", "2026-11-22T09:00:00.123456789Z", id="10 digits"),
        pytest.param("2026-11-22T09:00:00.000000000Z", "2026-11-22T09:00:00Z", id="nanoseconds, zero"),
        pytest.param("2026-11-22T09:00:00.0000000001Z", "2026-11-22T09:00:00.0000000001Z", id="1e-10 s"),
        # The rule is lexical: no calendar check (harmless: both spellings say the same).
        pytest.param("2026-13-45T25:61:60.500Z", "2026-13-45T25:61:60.5Z", id="not a real date"),
        # Not a whole STIX timestamp: unchanged.
        pytest.param("2026-11-22T09:00:00.000z", "2026-11-22T09:00:00.000z", id="lower-case z"),
        pytest.param("2026-11-22t09:00:00.000Z", "2026-11-22t09:00:00.000Z", id="lower-case t"),
        pytest.param("2026-11-22 09:00:00.000Z", "2026-11-22 09:00:00.000Z", id="space for T"),
        pytest.param("2026-11-22T09:00:00.000+00:00", "2026-11-22T09:00:00.000+00:00", id="offset"),
        pytest.param("2026-11-22T09:00:00.Z", "2026-11-22T09:00:00.Z", id="dot without digits"),
        pytest.param("2026-11-22T09:00:00.000Z\n", "2026-11-22T09:00:00.000Z\n", id="trailing newline"),
        pytest.param(" 2026-11-22T09:00:00.000Z", " 2026-11-22T09:00:00.000Z", id="leading space"),
        pytest.param("2026-11-22T09:00:00.000ZZ", "2026-11-22T09:00:00.000ZZ", id="ZZ"),
        pytest.param("２０２６-11-22T09:00:00.000Z", "２０２６-11-22T09:00:00.000Z", id="non-ASCII digits"),
        pytest.param("26-11-22T09:00:00.000Z", "26-11-22T09:00:00.000Z", id="two-digit year"),
        pytest.param("seen 2026-11-22T09:00:00.000Z", "seen 2026-11-22T09:00:00.000Z", id="inside free text"),
        pytest.param("0Z", "0Z", id="short"),
        pytest.param("", "", id="empty"),
    ],
)
def test_canonical_timestamp(text: str, expected: str) -> None:
    assert canonical_timestamp(text) == expected
    assert canonical_timestamp(expected) == expected  # the form is a fixed point


def test_spellings_meet_exactly_when_they_name_the_same_instant() -> None:
    """Any number of trailing zeros gives one form; any other digit gives another."""
    base = "2026-11-22T09:00:00"
    for fraction in ("", "5", "05", "123", "123456", "1234567"):
        spellings = [f"{base}{'.' if fraction or z else ''}{fraction}{'0' * z}Z" for z in range(10)]
        assert len({canonical_timestamp(s) for s in spellings}) == 1, spellings
    distinct = [f"{base}Z", f"{base}.1Z", f"{base}.01Z", f"{base}.001Z", f"{base}.0000001Z", f"{base}.11Z"]
    assert len({canonical_timestamp(s) for s in distinct}) == len(distinct)


# ---------------------------------------------------------------- the rule inside an object

def test_canonical_timestamps_reaches_every_string_value() -> None:
    value = {
        "valid_from": "2026-11-22T09:00:00.000Z",
        "extensions": {OTHER_EXTENSION: {
            "extension_type": "property-extension",
            "seen": ["2026-11-22T08:00:00.500Z", ["2026-11-22T08:00:01.000Z"], 3, None, True],
            "nested": {"deeper": {"at": "2026-11-22T08:00:02.000000Z"}},
        }},
        "2026-11-22T09:00:00.000Z": "member names are not values",
        "confidence": 80,
        "ratio": 0.5,
        "description": "Seen from 2026-11-22T08:00:00.000Z on.",
    }
    before = copy.deepcopy(value)
    out = canonical_timestamps(value)
    assert value == before  # not modified
    assert out == {
        "valid_from": "2026-11-22T09:00:00Z",
        "extensions": {OTHER_EXTENSION: {
            "extension_type": "property-extension",
            "seen": ["2026-11-22T08:00:00.5Z", ["2026-11-22T08:00:01Z"], 3, None, True],
            "nested": {"deeper": {"at": "2026-11-22T08:00:02Z"}},
        }},
        "2026-11-22T09:00:00.000Z": "member names are not values",
        "confidence": 80,
        "ratio": 0.5,
        "description": "Seen from 2026-11-22T08:00:00.000Z on.",
    }


def test_canonical_timestamps_copies_only_what_changes() -> None:
    untouched = {"a": ["2026-11-22T09:00:00.123Z", {"b": "x"}], "c": {"d": 1}}
    assert canonical_timestamps(untouched) is untouched
    changed = {"a": ["2026-11-22T09:00:00.100Z"], "c": {"d": 1}}
    out = canonical_timestamps(changed)
    assert out["a"] == ["2026-11-22T09:00:00.1Z"] and out["c"] is changed["c"]


def test_a_whole_string_timestamp_in_free_text_and_why_that_is_safe(rfc8037_key: SigningKey,
                                                                      make_report: Any) -> None:
    """A string that is nothing but a timestamp is rewritten wherever it is, even in ``name``.

    So a signature does not tell "2026-11-22T09:00:00.000Z" from "2026-11-22T09:00:00Z" in such a
    string, which is safe: both spell the same instant, and nothing else about the string can
    change. Text that merely contains a timestamp is signed as written, every character.
    """
    signed = sign_object(make_report(name="2026-11-22T09:00:00.000Z",
                                     description="First seen 2026-11-22T09:00:00.000Z."),
                         rfc8037_key, SUBMITTER, SIGNED_AT)

    def check(**changes: str) -> None:
        obj = {**copy.deepcopy(signed), **changes}
        verify_entry(obj, signatures_of(obj)[0], rfc8037_key.public_key)

    check()
    check(name="2026-11-22T09:00:00Z")  # the same instant, respelled: still verifies
    check(name="2026-11-22T09:00:00.000000Z")
    for changes in ({"name": "2026-11-22T09:00:01Z"},  # another instant
                    {"name": "2026-11-22T09:00:00.000Z "},  # no longer a timestamp
                    {"description": "First seen 2026-11-22T09:00:00Z."}):  # text is signed as written
        with pytest.raises(SignatureInvalid, match="signature does not verify"):
            check(**changes)


# ---------------------------------------------------------------- versions

def test_new_signatures_are_of_the_current_version(ed_key: SigningKey, make_report: Any) -> None:
    assert SIGNATURE_VERSIONS == (1, 2) and SIGNATURE_VERSION == 2
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    assert sigs(signed)[0]["version"] == "2"
    assert signatures_of(signed)[0].version == 2


def test_version_2_survives_respelled_timestamps_and_version_1_does_not(
    ed_key: SigningKey, make_report: Any
) -> None:
    obj = make_report(valid_from="2026-11-22T09:00:00.000Z", created="2026-11-22T09:00:00.000Z")
    new = sign_object(obj, ed_key, SUBMITTER, SIGNED_AT)
    old = sign_v1(obj, ed_key, SUBMITTER, "2026-11-22T10:00:00.000Z")
    for signed in (new, old):
        verify_entry(signed, signatures_of(signed)[0], ed_key.public_key)  # the control
    respell = {"valid_from": "2026-11-22T09:00:00Z", "created": "2026-11-22T09:00:00.000000Z"}
    new, old = {**new, **respell}, {**old, **respell}
    sigs(new)[0]["signed"] = "2026-11-22T10:00:00.12300Z"  # the entry's own time is covered too
    verify_entry(new, signatures_of(new)[0], ed_key.public_key)
    with pytest.raises(SignatureInvalid, match="signature does not verify"):
        verify_entry(old, signatures_of(old)[0], ed_key.public_key)


@pytest.mark.parametrize(
    "version, fragment",
    [
        pytest.param("3", "signature 0: unknown signature version '3'; this verifier knows '2' and "
                          "entries without 'version' (version 1)", id="future version"),
        pytest.param("2.0", "unknown signature version '2.0'", id="2.0"),
        pytest.param("", "unknown signature version ''", id="empty"),
        pytest.param("1", "version '1' is written without a 'version' member", id="explicit 1"),
        pytest.param(2, "signature 0: version must be a string, got number", id="number"),
        pytest.param(None, "version must be a string, got null", id="null"),
    ],
)
def test_unknown_versions_are_refused(version: Any, fragment: str, ed_key: SigningKey,
                                      make_report: Any) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    sigs(signed)[0]["version"] = version
    with pytest.raises(SignatureFormatError) as info:
        signatures_of(signed)
    assert fragment in str(info.value)
    with pytest.raises(SignatureFormatError):
        signing_input(signed, sigs(signed)[0])


def test_an_unknown_version_is_checked_before_the_members_it_may_define(make_report: Any) -> None:
    """A later version may define other members: the message names the version, not a member."""
    obj = make_report()
    obj["extensions"][SIGNATURE_EXTENSION_ID] = {"extension_type": "property-extension", "signatures": [
        {"type": "jss", "version": "3", "algorithm": "ML-DSA-65", "proof": "..."}]}
    with pytest.raises(SignatureFormatError, match="unknown signature version '3'"):
        signatures_of(obj)


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"extra": "x"}, "signature 0: unknown member(s) 'extra'; an entry of version 2 has exactly "
                         "type, version, algorithm, signer, key_id, signed, value"),
        ({"signed": None}, "signature 0: signed must be a string, got null"),
    ],
)
def test_version_2_members_are_checked_strictly(change: dict[str, Any], fragment: str, ed_key: SigningKey,
                                                make_report: Any) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    sigs(signed)[0].update(change)
    with pytest.raises(SignatureFormatError) as info:
        signatures_of(signed)
    assert fragment in str(info.value)


def test_verify_names_an_unknown_version(ed_key: SigningKey, make_report: Any) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    sigs(signed)[0]["version"] = "9"
    keys = KeySet.from_jwks({"keys": [{**ed_key.public_key.to_jwk(), "identity": SUBMITTER,
                                       "party": "acme", "not_before": "2026-01-01T00:00:00Z"}]})
    [verdict] = verify_objects([signed], keys, now_us=1_800_000_000_000_000)
    assert not verdict.ok
    assert verdict.reason.startswith("malformed signature: signature 0: unknown signature version '9'")


# ---------------------------------------------------------------- the known answer

# A fixed object with timestamps of every kind: milliseconds (".000", ".120"), none, six digits
# of zeros, nested in another extension (in a list, in a list's object), and one inside free
# text. Signed by the RFC 8037 appendix A key at 2026-11-22T10:00:00.000Z. docs/SIGNING.md shows
# the same object, these bytes and this signature.
KAT_OBJECT: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created_by_ref": "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60",
    "created": "2026-11-22T09:00:00.000Z",
    "modified": "2026-11-22T09:30:00.120Z",
    "name": "C2 at Zürich",
    "description": "Seen from 2026-11-22T08:00:00.000Z on.",
    "pattern": "[ipv4-addr:value = '203.0.113.7']",
    "pattern_type": "stix",
    "pattern_version": "2.1",
    "valid_from": "2026-11-22T09:00:00Z",
    "valid_until": "2027-02-20T09:00:00.000000Z",
    "confidence": 80,
    "extensions": {
        "extension-definition--c0ffee00-1d2e-4f3a-8b4c-5d6e7f8a9b0c": {
            "extension_type": "property-extension",
            "sightings": [{"at": "2026-11-22T08:00:00.500Z", "count": 3}],
            "checked": ["2026-11-22T08:59:59.999000Z"],
        }
    },
}
KAT_SIGNED_AT = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
KAT_ENTRY = {
    "type": "jss",
    "version": "2",
    "algorithm": "Ed25519",
    "signer": "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60",
    "key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "signed": "2026-11-22T10:00:00.000Z",
    "value": "zELK2qhS2LMBIflDhMKhhMRqrZfGBBlgZNAyCaVMTptK2L-0dPeniStNbPmKw2-N35azQ8QfpHoDSI-4pCGCAA",
}
# The signed form, one line of UTF-8 (ü is two bytes): members sorted, no whitespace, the
# signature list holding only KAT_ENTRY without "value", every whole-string timestamp shortest:
# created, signed and valid_until lose their zero fractions, modified ".120" -> ".12", the
# nested ".500" -> ".5" and ".999000" -> ".999"; valid_from had no fraction; the timestamp inside
# the description is text and stays.
KAT_SIGNED_FORM = (
    '{"confidence":80,"created":"2026-11-22T09:00:00Z",'
    '"created_by_ref":"identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60",'
    '"description":"Seen from 2026-11-22T08:00:00.000Z on.",'
    '"extensions":{"extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a":'
    '{"extension_type":"property-extension","signatures":[{"algorithm":"Ed25519",'
    '"key_id":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","signed":"2026-11-22T10:00:00Z",'
    '"signer":"identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60","type":"jss","version":"2"}]},'
    '"extension-definition--c0ffee00-1d2e-4f3a-8b4c-5d6e7f8a9b0c":{"checked":["2026-11-22T08:59:59.999Z"],'
    '"extension_type":"property-extension","sightings":[{"at":"2026-11-22T08:00:00.5Z","count":3}]}},'
    '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2026-11-22T09:30:00.12Z",'
    '"name":"C2 at Zürich","pattern":"[ipv4-addr:value = \'203.0.113.7\']","pattern_type":"stix",'
    '"pattern_version":"2.1","spec_version":"2.1","type":"indicator","valid_from":"2026-11-22T09:00:00Z",'
    '"valid_until":"2027-02-20T09:00:00Z"}'
).encode()


def kat_signed() -> dict[str, Any]:
    obj = copy.deepcopy(KAT_OBJECT)
    obj["extensions"][SIGNATURE_EXTENSION_ID] = {"extension_type": "property-extension",
                                                 "signatures": [dict(KAT_ENTRY)]}
    return obj


def test_known_answer(rfc8037_key: SigningKey) -> None:
    """The scheme cannot drift silently: a fixed object, key and time give these bytes and value."""
    assert rfc8037_key.key_id == KAT_ENTRY["key_id"]
    signed = sign_object(KAT_OBJECT, rfc8037_key, KAT_ENTRY["signer"], KAT_SIGNED_AT)
    assert signed == kat_signed()
    [entry] = signatures_of(signed)
    assert signing_input(signed, entry) == KAT_SIGNED_FORM
    # Checked with the raw primitive on the hand-written bytes, outside the library.
    raw = Ed25519PrivateKey.from_private_bytes(b64d(RFC8037_D))
    assert raw.sign(KAT_SIGNED_FORM) == b64d(KAT_ENTRY["value"])
    verify_entry(signed, entry, rfc8037_key.public_key)


def test_the_known_answer_survives_stix2(rfc8037_key: SigningKey) -> None:
    once = json.loads(stix2.parse(kat_signed(), allow_custom=True).serialize())
    assert once["valid_from"] == "2026-11-22T09:00:00Z" and once["valid_until"] == "2027-02-20T09:00:00Z"
    assert once != kat_signed()  # stix2 did respell the object
    verify_entry(once, signatures_of(once)[0], rfc8037_key.public_key)


# ---------------------------------------------------------------- docs/SIGNING.md

def _docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_the_docs_show_the_known_answer() -> None:
    text = _docs()
    assert KAT_SIGNED_FORM.decode("utf-8") in text
    assert f"these {len(KAT_SIGNED_FORM):,} bytes" in text
    assert hashlib.sha256(KAT_SIGNED_FORM).hexdigest() in text
    assert KAT_ENTRY["value"] in text
    assert RFC8037_D in text and RFC8037_X in text


def _docs_verifier() -> dict[str, Any]:
    """Run the independent verifier printed in docs/SIGNING.md (it imports only the standard
    library, cryptography and rfc8785) and return its names."""
    blocks = re.findall(r"```python\n(.*?)```", _docs(), flags=re.S)
    [code] = [b for b in blocks if "def verify_signature(" in b]
    assert "import hub" not in code and "from hub" not in code
    names: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), names)  # the docs' own code, as a reader would run it
    return names


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_the_docs_verifier_agrees_with_the_library(alg: str, make_report: Any) -> None:
    verifier = _docs_verifier()
    key = SigningKey.generate(alg)
    jwk = key.public_key.to_jwk()
    obj = make_report(valid_from="2026-11-22T09:00:00.000Z", pattern_version="2.1",
                      x_list=["2026-11-22T09:00:00.500Z"])
    new = sign_object(obj, key, SUBMITTER, SIGNED_AT)
    old = sign_v1(obj, key, SUBMITTER, "2026-11-22T10:00:00.000Z")
    for signed in (new, old):
        entry = sigs(signed)[0]
        assert verifier["signed_bytes"](signed, entry) == signing_input(signed, entry)
        verifier["verify_signature"](signed, entry, jwk)
    # After stix2, version 2 still verifies by the docs' code; version 1 does not.
    new = json.loads(stix2.parse(new, allow_custom=True).serialize())
    verifier["verify_signature"](new, sigs(new)[0], jwk)
    tampered = {**new, "confidence": 81}
    with pytest.raises(InvalidSignature):
        verifier["verify_signature"](tampered, sigs(tampered)[0], jwk)
    entry = {**sigs(new)[0], "version": "3"}
    with pytest.raises(ValueError, match="unknown signature version"):
        verifier["verify_signature"](new, entry, jwk)


def test_the_docs_verifier_on_the_known_answer() -> None:
    verifier = _docs_verifier()
    signed = kat_signed()
    assert verifier["signed_bytes"](signed, KAT_ENTRY) == KAT_SIGNED_FORM
    verifier["verify_signature"](signed, KAT_ENTRY, {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert verifier["thumbprint"]({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}) == KAT_ENTRY["key_id"]


# ---------------------------------------------------------------- every object of a report through stix2

FACTS = {
    "provider_identity_id": SUBMITTER,
    "provider_name": "Example Cloud",
    "provider_account_id": "acct-0042-9917",
    "acquisition": "reseller",
    "reseller_identity_id": "identity--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "reseller_name": "Resell Co",
    "kyc_status": "unverified",
    "declared_country": "US",
    "account_created": "2025-02-10T08:00:00Z",
    "first_abuse_seen": "2025-02-12T21:14:00Z",
    "last_seen": "2025-02-14T02:40:00Z",
    "resources": ["203.0.113.45", "2001:db8::45", "login-update.example", "https://login-update.example/verify"],
    "abuse_types": ["phishing", "scanning"],
    "summary": "Phishing kit served from a trial account; the same VMs scanned for SSH.",
    "action_taken": "suspended",
    "action_taken_at": "2025-02-14T03:05:00Z",
    "confidence": 80,
    "personal": {"email": "holder@example.com"},
}


def _round_trip(obj: dict[str, Any]) -> dict[str, Any]:
    """What a consumer holds after stix2 parsed and serialised the object."""
    result: dict[str, Any] = json.loads(stix2.parse(copy.deepcopy(obj), allow_custom=True).serialize())
    return result


@pytest.mark.parametrize("now", [
    pytest.param(datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC), id="whole second"),
    pytest.param(datetime(2025, 3, 1, 9, 30, 0, 120000, tzinfo=UTC), id="milliseconds ending in 0"),
    pytest.param(datetime(2025, 3, 1, 9, 30, 0, 123000, tzinfo=UTC), id="milliseconds"),
])
def test_every_object_of_a_report_survives_stix2(now: datetime, ed_key: SigningKey) -> None:
    facts = ReportFacts.from_mapping(FACTS)
    objects = build_report(facts, PseudonymKeyring({"k1": bytes(32)}, "k1"), now=now)
    indicator = next(o["id"] for o in objects if o["type"] == "indicator")
    objects.append(build_sighting(indicator, SUBMITTER, first_seen="2025-03-01T09:00:00Z",
                                  last_seen="2025-03-01T09:30:00Z", now=now))
    types = {o["type"] for o in objects}
    assert types >= {"identity", "user-account", "ipv4-addr", "ipv6-addr", "domain-name", "url",
                     "infrastructure", "indicator", "relationship", "report", "sighting"}
    signed = sign_objects(objects, ed_key, SUBMITTER, SIGNED_AT)
    rewritten = set()
    for obj in signed:
        after = _round_trip(obj)
        if after != obj:
            rewritten.add(obj["type"])
            # What stix2 changes is the spelling of timestamps, nothing else.
            assert canonical_timestamps(after) == canonical_timestamps(obj), obj["type"]
        verify_entry(after, signatures_of(after)[0], ed_key.public_key)
        # The same object signed by version 1 fails exactly where stix2 respelled something.
        old = sign_v1(unsigned_form(obj), ed_key, SUBMITTER, "2026-11-22T10:00:00.000Z")
        old_after = _round_trip(old)
        if old_after == old:
            verify_entry(old_after, signatures_of(old_after)[0], ed_key.public_key)
        else:
            with pytest.raises(SignatureInvalid):
                verify_entry(old_after, signatures_of(old_after)[0], ed_key.public_key)
    # The facts are on whole seconds: the infrastructure's first_seen/last_seen and the
    # sighting's are always respelled; with `now` on a whole second (or ".120") also the
    # indicators' valid_from/valid_until and the report's published.
    expected = {"infrastructure", "sighting"}
    if now.microsecond % 10_000 == 0:
        expected |= {"indicator", "report"}
    assert rewritten == expected


@pytest.mark.parametrize(
    "change, what_stix2_does",
    [
        pytest.param({"pattern_version": None}, ("pattern_version", "2.1"), id="adds pattern_version"),
        pytest.param({"revoked": False}, ("revoked", None), id="drops revoked false"),
    ],
)
def test_what_the_rule_does_not_cover(change: dict[str, Any], what_stix2_does: tuple[str, Any],
                                      ed_key: SigningKey, make_report: Any) -> None:
    """Defaults are a property of each STIX type, not of JSON: stix2 adds ``pattern_version`` to a
    STIX-pattern indicator without one and drops ``revoked: false``, and no type-blind rule can
    undo that. A signer writes such properties as the libraries do (the hub's report builder
    writes ``pattern_version`` and never ``revoked: false``); docs/SIGNING.md says so."""
    obj = {k: v for k, v in {**make_report(pattern_version="2.1"), **change}.items() if v is not None}
    signed = sign_object(obj, ed_key, SUBMITTER, SIGNED_AT)
    after = _round_trip(signed)
    name, value = what_stix2_does
    assert after.get(name) == value
    with pytest.raises(SignatureInvalid, match="signature does not verify"):
        verify_entry(after, signatures_of(after)[0], ed_key.public_key)


# -- the rule applied to canonical bytes is the rule applied to the object ---------------------

_TIMESTAMPY = st.sampled_from([
    "2025-03-01T09:30:00.000Z", "2025-03-01T09:30:00Z", "2025-03-01T09:30:00.120Z",
    "2025-03-01T09:30:00.1000000Z", "2025-03-01T09:30:00.0Z", "x2025-03-01T09:30:00.000Z",
    "2025-03-01T09:30:00.000Z ", "2025-03-01T09:30:00.000Z\n", '"2025-03-01T09:30:00.000Z',
    'a:"', "2025-03-01T09:30:00.00Z\\", "\\", ",", "[", "é,[:\"x", "\u2028",
])
_JSON = st.recursive(
    st.one_of(_TIMESTAMPY, st.text(max_size=6), st.integers(-(2**53) + 1, 2**53 - 1),
              st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(_TIMESTAMPY, st.text(max_size=4)), children,
                                               max_size=4)),
    max_leaves=12)


@settings(max_examples=examples(3000), deadline=None, derandomize=True)
@given(value=_JSON)
def test_the_rule_on_canonical_bytes_equals_the_rule_on_the_object(value: object) -> None:
    # signed_form applies the rule to the RFC 8785 bytes in one pass; the rule is defined on
    # the object (canonical_timestamps). They must give the same bytes for every JSON value.
    assert signed_form(value, 2) == canonicalize(canonical_timestamps(value))
