"""Signatures inside STIX objects: sign, countersign, verify, tamper, malformed entries."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hub.signing import (
    SIGNATURE_EXTENSION_ID,
    CanonicalizationError,
    SignatureEntry,
    SignatureFormatError,
    SignatureInvalid,
    SigningError,
    SigningKey,
    b64url_encode,
    canonicalize,
    sign_object,
    signatures_of,
    signing_input,
    unsigned_form,
    verify_entry,
)
from tests.signing.vectors import (
    HUB,
    OTHER_EXTENSION,
    PEER,
    RFC8037_D,
    SIGNED_AT,
    SUBMITTER,
    b64d,
)

MakeReport = Callable[..., dict[str, Any]]


def sigs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]


def verify_all(obj: dict[str, Any], keys: list[SigningKey]) -> None:
    by_id = {k.key_id: k.public_key for k in keys}
    for entry in signatures_of(obj):
        verify_entry(obj, entry, by_id[entry.key_id])


# ---------------------------------------------------------------- round trip and countersignatures


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_round_trip(alg: str, make_report: MakeReport) -> None:
    key = SigningKey.generate(alg)
    report = make_report()
    signed = sign_object(report, key, SUBMITTER, SIGNED_AT)

    [entry] = signatures_of(signed)
    assert (entry.index, entry.algorithm, entry.signer, entry.key_id, entry.type, entry.version) == (
        0, alg, SUBMITTER, key.key_id, "jss", 2)
    assert entry.signed == "2026-11-22T10:00:00.123Z"
    assert entry.signed_at == SIGNED_AT.replace(microsecond=123000)
    assert len(entry.value) == 64
    verify_entry(signed, entry, key.public_key)
    # The entry as written in the object, member for member: new signatures are of version 2.
    assert sigs(signed) == [entry.to_json()]
    assert list(sigs(signed)[0]) == ["type", "version", "algorithm", "signer", "key_id", "signed", "value"]
    assert sigs(signed)[0]["version"] == "2"


def test_sign_object_does_not_mutate_and_keeps_other_extensions(
    ed_key: SigningKey, make_report: MakeReport
) -> None:
    report = make_report()
    before = copy.deepcopy(report)
    signed = sign_object(report, ed_key, SUBMITTER, SIGNED_AT)
    assert report == before
    assert signed["extensions"][OTHER_EXTENSION] == before["extensions"][OTHER_EXTENSION]
    assert signed["extensions"][SIGNATURE_EXTENSION_ID]["extension_type"] == "property-extension"
    assert unsigned_form(signed) == before

    twice = sign_object(signed, ed_key, HUB, SIGNED_AT)
    assert len(sigs(signed)) == 1 and len(sigs(twice)) == 2


def test_sign_object_without_any_extensions(ed_key: SigningKey, make_report: MakeReport) -> None:
    report = make_report()
    del report["extensions"]
    signed = sign_object(report, ed_key, SUBMITTER, SIGNED_AT)
    assert list(signed["extensions"]) == [SIGNATURE_EXTENSION_ID]
    verify_all(signed, [ed_key])
    assert unsigned_form(signed) == report
    assert signatures_of(report) == []


@pytest.mark.parametrize("order", [("submitter", "hub", "peer"), ("peer", "hub", "submitter")])
def test_countersignatures_verify_independently(
    order: tuple[str, ...], ed_key: SigningKey, es_key: SigningKey, ed_key_2: SigningKey,
    make_report: MakeReport,
) -> None:
    signers = {"submitter": (ed_key, SUBMITTER), "hub": (es_key, HUB), "peer": (ed_key_2, PEER)}
    obj = make_report()
    for i, who in enumerate(order):
        key, signer = signers[who]
        obj = sign_object(obj, key, signer, SIGNED_AT + timedelta(minutes=i))
    verify_all(obj, [ed_key, es_key, ed_key_2])

    # Each signature still verifies once the others are dropped, or reordered.
    for keep in range(3):
        alone = copy.deepcopy(obj)
        sigs(alone)[:] = [sigs(obj)[keep]]
        verify_all(alone, [ed_key, es_key, ed_key_2])
    reordered = copy.deepcopy(obj)
    sigs(reordered).reverse()
    verify_all(reordered, [ed_key, es_key, ed_key_2])


def test_a_broken_countersignature_leaves_the_others_valid(
    ed_key: SigningKey, es_key: SigningKey, make_report: MakeReport
) -> None:
    obj = sign_object(sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT), es_key, HUB, SIGNED_AT)
    sigs(obj)[1]["signed"] = "2026-11-23T00:00:00.000Z"  # the hub's metadata, after signing
    first, second = signatures_of(obj)
    verify_entry(obj, first, ed_key.public_key)
    with pytest.raises(SignatureInvalid, match="signature 1 by .*: signature does not verify"):
        verify_entry(obj, second, es_key.public_key)


def test_signature_survives_reserialisation(ed_key: SigningKey, make_report: MakeReport) -> None:
    """Transit may reorder members, indent, escape non-ASCII or write 80 as 80.0: all harmless."""
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    text = json.dumps(dict(reversed(list(signed.items()))), indent=2, ensure_ascii=True)
    text = text.replace('"confidence": 80', '"confidence": 80.0')
    assert '"confidence": 80.0' in text and "\\u00fc" in text
    verify_all(json.loads(text), [ed_key])


# ---------------------------------------------------------------- independent checks of the bytes

# The hand-written signed form of INDEPENDENT_OBJECT signed by the RFC 8037 key at SIGNED_AT:
# members sorted, no whitespace, non-ASCII as UTF-8, the signature list holding only the entry
# without "value", and (version 2) each timestamp in its shortest exact form: created and
# modified lose ".000", valid_from had no fraction, signed keeps ".123". Written out by hand, not
# computed, so it checks the library from outside.
INDEPENDENT_OBJECT = {
    "type": "indicator",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "spec_version": "2.1",
    "created": "2026-11-22T09:00:00.000Z",
    "modified": "2026-11-22T09:30:00.000Z",
    "name": "Zürich C2",
    "pattern": "[ipv4-addr:value = '203.0.113.7']",
    "pattern_type": "stix",
    "valid_from": "2026-11-22T09:00:00Z",
    "confidence": 80,
}


def expected_input(algorithm: str, key_id: str) -> bytes:
    return (
        '{"confidence":80,"created":"2026-11-22T09:00:00Z",'
        '"extensions":{"extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a":'
        '{"extension_type":"property-extension","signatures":[{"algorithm":"' + algorithm + '",'
        '"key_id":"' + key_id + '","signed":"2026-11-22T10:00:00.123Z",'
        '"signer":"identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60","type":"jss","version":"2"}]}},'
        '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2026-11-22T09:30:00Z",'
        '"name":"Zürich C2","pattern":"[ipv4-addr:value = \'203.0.113.7\']","pattern_type":"stix",'
        '"spec_version":"2.1","type":"indicator","valid_from":"2026-11-22T09:00:00Z"}'
    ).encode("utf-8")


def shortest_timestamps_by_hand(text: str) -> str:
    """The timestamp rule written again from docs/SIGNING.md, on JSON text whose strings hold
    no quotes: a string that is a whole STIX timestamp loses the trailing zeros of its fraction."""
    return re.sub(r'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]*?)0*Z"',
                  lambda m: f'"{m[1]}{m[2] if m[2] != "." else ""}Z"', text)


def test_ed25519_signature_checked_with_the_raw_primitive(rfc8037_key: SigningKey) -> None:
    signed = sign_object(INDEPENDENT_OBJECT, rfc8037_key, SUBMITTER, SIGNED_AT)
    entry = sigs(signed)[0]
    expected = expected_input("Ed25519", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    # For this object, the hand-written form is also json.dumps with sorted keys, then the rule.
    unsigned = copy.deepcopy(signed)
    unsigned["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0].pop("value")
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert shortest_timestamps_by_hand(text).encode() == expected

    public = Ed25519PublicKey.from_public_bytes(b64d("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
    public.verify(b64d(entry["value"]), expected)  # raises InvalidSignature if wrong
    # Ed25519 is deterministic: the value is exactly the primitive's signature of those bytes.
    assert b64d(entry["value"]) == Ed25519PrivateKey.from_private_bytes(b64d(RFC8037_D)).sign(expected)
    assert signing_input(signed, signatures_of(signed)[0]) == expected


# ---------------------------------------------------------------- version 1, as published before

# INDEPENDENT_OBJECT signed by the RFC 8037 key at SIGNED_AT by the library before version 2
# existed (an entry without "version"), and the bytes it covered: RFC 8785 of the object as it
# stands, timestamps as written. Objects stored and published with such signatures stay valid.
V1_ENTRY = {
    "type": "jss",
    "algorithm": "Ed25519",
    "signer": SUBMITTER,
    "key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "signed": "2026-11-22T10:00:00.123Z",
    "value": "_8XYG5SPejRosGeyHPqxqcWCnkn8YeB8RqNRftxkSvmB0E8nB6SP2I9u4DT0vIA-x7YBWl-BcmkkuNI9POQSCw",
}
V1_INPUT = (
    '{"confidence":80,"created":"2026-11-22T09:00:00.000Z",'
    '"extensions":{"extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a":'
    '{"extension_type":"property-extension","signatures":[{"algorithm":"Ed25519",'
    '"key_id":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","signed":"2026-11-22T10:00:00.123Z",'
    '"signer":"identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60","type":"jss"}]}},'
    '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2026-11-22T09:30:00.000Z",'
    '"name":"Zürich C2","pattern":"[ipv4-addr:value = \'203.0.113.7\']","pattern_type":"stix",'
    '"spec_version":"2.1","type":"indicator","valid_from":"2026-11-22T09:00:00Z"}'
).encode()


def v1_signed() -> dict[str, Any]:
    return {**copy.deepcopy(INDEPENDENT_OBJECT), "extensions": {SIGNATURE_EXTENSION_ID: {
        "extension_type": "property-extension", "signatures": [dict(V1_ENTRY)]}}}


def test_a_published_version_1_signature_still_verifies(rfc8037_key: SigningKey) -> None:
    obj = v1_signed()
    [entry] = signatures_of(obj)
    assert entry.version == 1 and entry.to_json() == V1_ENTRY  # written back without "version"
    assert signing_input(obj, entry) == V1_INPUT
    verify_entry(obj, entry, rfc8037_key.public_key)
    # Still under the old rules: a version 1 signature does not survive a timestamp respelled.
    respelled = v1_signed()
    respelled["created"] = "2026-11-22T09:00:00Z"
    [entry] = signatures_of(respelled)
    with pytest.raises(SignatureInvalid, match="signature does not verify"):
        verify_entry(respelled, entry, rfc8037_key.public_key)
    # A countersignature of version 2 next to it: each verifies by the rules of its version.
    both = sign_object(obj, rfc8037_key, HUB, SIGNED_AT)
    assert [e.version for e in signatures_of(both)] == [1, 2]
    verify_all(both, [rfc8037_key])


@pytest.mark.parametrize("change", ["add version 2", "drop version"])
def test_a_signature_cannot_change_its_version(change: str, rfc8037_key: SigningKey) -> None:
    """The version member is covered by the signature: up- or downgrading it breaks it."""
    if change == "add version 2":
        obj = v1_signed()
        sigs(obj)[0] = {"type": "jss", "version": "2", **{k: v for k, v in V1_ENTRY.items() if k != "type"}}
    else:
        obj = sign_object(INDEPENDENT_OBJECT, rfc8037_key, SUBMITTER, SIGNED_AT)
        del sigs(obj)[0]["version"]
    [entry] = signatures_of(obj)
    with pytest.raises(SignatureInvalid, match="signature does not verify"):
        verify_entry(obj, entry, rfc8037_key.public_key)


def test_es256_signature_checked_with_the_raw_primitive(es_key: SigningKey) -> None:
    signed = sign_object(INDEPENDENT_OBJECT, es_key, SUBMITTER, SIGNED_AT)
    raw = b64d(sigs(signed)[0]["value"])
    assert len(raw) == 64  # r || s as in JWS (RFC 7518 section 3.4), not DER
    jwk = es_key.public_key.to_jwk()
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64d(jwk["x"]), "big"), int.from_bytes(b64d(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, expected_input("ES256", es_key.key_id), ec.ECDSA(hashes.SHA256()))


# ---------------------------------------------------------------- tampering


def _change_name(obj: dict[str, Any]) -> None:
    obj["name"] = obj["name"].replace("C2", "C3")


def _add_property(obj: dict[str, Any]) -> None:
    obj["description"] = "added later"


def _drop_property(obj: dict[str, Any]) -> None:
    del obj["labels"]


def _change_list(obj: dict[str, Any]) -> None:
    obj["labels"].append("phishing")


def _change_number(obj: dict[str, Any]) -> None:
    obj["confidence"] = 81


def _change_other_extension(obj: dict[str, Any]) -> None:
    obj["extensions"][OTHER_EXTENSION]["ticket"] = "AB-124"


def _change_signed(obj: dict[str, Any]) -> None:
    sigs(obj)[0]["signed"] = "2026-11-22T10:00:00.124Z"


def _change_signer(obj: dict[str, Any]) -> None:
    sigs(obj)[0]["signer"] = PEER


def _bit_flip_value(obj: dict[str, Any]) -> None:
    value = sigs(obj)[0]["value"]
    sigs(obj)[0]["value"] = ("B" if value[0] == "A" else "A") + value[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_change_name, id="one character changed"),
        pytest.param(_add_property, id="property added"),
        pytest.param(_drop_property, id="property removed"),
        pytest.param(_change_list, id="list item added"),
        pytest.param(_change_number, id="number changed"),
        pytest.param(_change_other_extension, id="another extension changed"),
        pytest.param(_change_signed, id="signed time changed"),
        pytest.param(_change_signer, id="signer changed"),
        pytest.param(_bit_flip_value, id="signature value changed"),
    ],
)
@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_tampering_is_detected(
    tamper: Callable[[dict[str, Any]], None], alg: str, ed_key: SigningKey, es_key: SigningKey,
    make_report: MakeReport,
) -> None:
    key = ed_key if alg == "Ed25519" else es_key
    signed = sign_object(make_report(), key, SUBMITTER, SIGNED_AT)
    verify_all(signed, [key])  # the control: untouched, it verifies
    tamper(signed)
    [entry] = signatures_of(signed)
    with pytest.raises(SignatureInvalid, match="signature does not verify: object changed after signing"):
        verify_entry(signed, entry, key.public_key)


def _forge(obj: dict[str, Any], key: SigningKey, data: bytes, index: int = 0) -> dict[str, Any]:
    """Write ``key``'s signature of ``data`` as the value of the object's signature ``index``."""
    forged = copy.deepcopy(obj)
    sigs(forged)[index]["value"] = b64url_encode(key.sign(data))
    return forged


def test_signature_over_a_non_canonical_form_fails(ed_key: SigningKey, make_report: MakeReport) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    unsigned = copy.deepcopy(signed)
    sigs(unsigned)[0].pop("value")
    for text in (
        json.dumps(unsigned),  # the default separators, with spaces
        json.dumps(unsigned, sort_keys=True),  # sorted, but with spaces
        json.dumps(unsigned, sort_keys=True, separators=(",", ":")),  # ASCII-escaped ü and —
    ):
        forged = _forge(signed, ed_key, text.encode())
        [entry] = signatures_of(forged)
        with pytest.raises(SignatureInvalid, match="signature does not verify"):
            verify_entry(forged, entry, ed_key.public_key)


def test_signature_covering_the_other_signatures_fails(
    ed_key: SigningKey, es_key: SigningKey, make_report: MakeReport
) -> None:
    """A countersignature over the whole list (earlier signatures included) is not this scheme."""
    obj = sign_object(make_report(), es_key, HUB, SIGNED_AT)
    meta = {"type": "jss", "version": "2", "algorithm": "Ed25519", "signer": SUBMITTER,
            "key_id": ed_key.key_id, "signed": "2026-11-22T10:00:00.000Z"}
    whole_list = copy.deepcopy(obj)
    sigs(whole_list).append(meta)
    wrong = copy.deepcopy(obj)
    sigs(wrong).append({**meta, "value": b64url_encode(ed_key.sign(canonicalize(whole_list)))})
    hub_entry, entry = signatures_of(wrong)
    verify_entry(wrong, hub_entry, es_key.public_key)
    with pytest.raises(SignatureInvalid, match="signature 1 by .*signature does not verify"):
        verify_entry(wrong, entry, ed_key.public_key)


def test_another_keys_signature_fails(ed_key: SigningKey, ed_key_2: SigningKey, make_report: MakeReport) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    [entry] = signatures_of(signed)
    # ed_key_2 signs exactly the bytes ed_key signed; the entry still names ed_key.
    forged = _forge(signed, ed_key_2, signing_input(signed, entry))
    [forged_entry] = signatures_of(forged)
    with pytest.raises(SignatureInvalid, match="signature does not verify"):
        verify_entry(forged, forged_entry, ed_key.public_key)


def test_key_id_mismatch(ed_key: SigningKey, ed_key_2: SigningKey, make_report: MakeReport) -> None:
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    [entry] = signatures_of(signed)
    with pytest.raises(SignatureInvalid) as info:
        verify_entry(signed, entry, ed_key_2.public_key)
    message = str(info.value)
    assert f"key_id {ed_key.key_id} does not match the thumbprint" in message
    assert ed_key_2.key_id in message


@pytest.mark.parametrize("signer_alg, verifier_alg", [("Ed25519", "ES256"), ("ES256", "Ed25519")])
def test_key_type_does_not_fit_algorithm(
    signer_alg: str, verifier_alg: str, make_report: MakeReport
) -> None:
    signed = sign_object(make_report(), SigningKey.generate(signer_alg), SUBMITTER, SIGNED_AT)
    [entry] = signatures_of(signed)
    with pytest.raises(SignatureInvalid, match=f"algorithm is {signer_alg} but key .* is an "
                                                 f"{verifier_alg} key; the key type does not fit"):
        verify_entry(signed, entry, SigningKey.generate(verifier_alg).public_key)


def test_object_without_canonical_form(ed_key: SigningKey, make_report: MakeReport) -> None:
    with pytest.raises(CanonicalizationError, match="no RFC 8785 canonical form"):
        sign_object(make_report(confidence=float("nan")), ed_key, SUBMITTER, SIGNED_AT)
    signed = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
    signed["x_big"] = 2**60  # beyond I-JSON: JCS would round it
    [entry] = signatures_of(signed)
    with pytest.raises(SignatureInvalid, match="cannot be verified: no RFC 8785 canonical form"):
        verify_entry(signed, entry, ed_key.public_key)


# ---------------------------------------------------------------- malformed entries and extensions

GOOD = {
    "type": "jss",
    "algorithm": "Ed25519",
    "signer": SUBMITTER,
    "key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "signed": "2026-11-22T10:00:00.123Z",
    "value": "A" * 86,
}


def with_entry(**changes: Any) -> dict[str, Any]:
    entry = {k: v for k, v in {**GOOD, **changes}.items() if v is not DROP}
    return with_body({"extension_type": "property-extension", "signatures": [entry]})


def with_body(body: Any) -> dict[str, Any]:
    return {"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "extensions": {SIGNATURE_EXTENSION_ID: body}}


DROP = object()

# (object, a fragment of the message the rejection must carry)
MALFORMED = [
    pytest.param({"extensions": []}, "extensions must be an object, got array", id="extensions-array"),
    pytest.param(with_body("sig"), "must be an object, got string", id="body-string"),
    pytest.param(with_body({"signatures": [GOOD]}),
                 "extension_type must be 'property-extension', got None", id="body-no-extension-type"),
    pytest.param(with_body({"extension_type": "toplevel-property-extension", "signatures": [GOOD]}),
                 "extension_type must be 'property-extension'", id="body-wrong-extension-type"),
    pytest.param(with_body({"extension_type": "property-extension"}),
                 "missing member 'signatures'", id="no-signatures"),
    pytest.param(with_body({"extension_type": "property-extension", "signatures": GOOD}),
                 "signatures must be a list, got object", id="signatures-not-a-list"),
    pytest.param(with_body({"extension_type": "property-extension", "signatures": []}),
                 "signatures is empty", id="signatures-empty"),
    pytest.param(with_body({"extension_type": "property-extension", "signatures": [GOOD], "note": 1}),
                 "unknown member(s) 'note'", id="body-unknown-member"),
    pytest.param(with_body({"extension_type": "property-extension", "signatures": [GOOD, "x"]}),
                 "signature 1 must be an object, got string", id="entry-not-an-object"),
    *[
        pytest.param(with_entry(**{name: DROP}), f"signature 0: missing member '{name}'", id=f"missing-{name}")
        for name in GOOD
    ],
    pytest.param(with_entry(key_id=None), "signature 0: key_id must be a string, got null", id="null-key_id"),
    pytest.param(with_entry(value=123), "signature 0: value must be a string, got number", id="number-value"),
    pytest.param(with_entry(signer=["identity--x"]), "signer must be a string, got array", id="array-signer"),
    pytest.param(with_entry(public_key="..."), "signature 0: unknown member(s) 'public_key'", id="unknown-member"),
    pytest.param(with_entry(type="jws"), "unknown type 'jws'; expected 'jss'", id="unknown-type"),
    pytest.param(with_entry(algorithm="RS256"), "unknown algorithm 'RS256'; expected one of Ed25519, ES256",
                 id="unknown-algorithm"),
    pytest.param(with_entry(algorithm="EdDSA"), "unknown algorithm 'EdDSA'", id="polymorphic-algorithm"),
    pytest.param(with_entry(signer="organization--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60"),
                 "signer must be an identity id (identity--<uuid>)", id="signer-not-identity"),
    pytest.param(with_entry(signer="identity--ACME"), "signer must be an identity id", id="signer-no-uuid"),
    pytest.param(with_entry(key_id="kid-2026"), "key_id must be an RFC 7638 SHA-256 JWK thumbprint",
                 id="key_id-not-thumbprint"),
    pytest.param(with_entry(key_id="kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4l"),
                 "key_id must be an RFC 7638", id="key_id-non-canonical"),
    pytest.param(with_entry(signed="2026-11-22 10:00:00"), "signature 0: signed is not a STIX timestamp",
                 id="signed-not-stix"),
    pytest.param(with_entry(signed="2026-11-22T10:00:00+01:00"), "signed is not a STIX timestamp",
                 id="signed-not-utc"),
    pytest.param(with_entry(signed="2026-13-01T00:00:00.000Z"), "signed is not a valid date and time",
                 id="signed-impossible-date"),
    pytest.param(with_entry(value="!!" + "A" * 84), "value is not base64url: it has characters outside",
                 id="value-garbage"),
    pytest.param(with_entry(value="A" * 86 + "=="), "value is not base64url: it carries '=' padding",
                 id="value-padded"),
    pytest.param(with_entry(value="+/" + "A" * 84), "value is not base64url: it uses '+' or '/'",
                 id="value-plain-base64"),
    pytest.param(with_entry(value="A" * 85), "impossible length", id="value-impossible-length"),
    pytest.param(with_entry(value="A" * 84), "value must be a 64-byte Ed25519 signature, got 63 bytes",
                 id="value-short"),
    pytest.param(with_entry(value="A" * 85 + "B"), "value is not canonical base64url", id="value-non-canonical"),
]


@pytest.mark.parametrize("obj, fragment", MALFORMED)
def test_malformed_signatures_are_rejected(obj: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SignatureFormatError) as info:
        signatures_of(obj)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SigningError)


def test_well_formed_control_entry_parses() -> None:
    """The base of the table above is itself acceptable, so each row fails for its own reason."""
    [entry] = signatures_of(with_entry())
    assert entry == SignatureEntry(0, "Ed25519", SUBMITTER, GOOD["key_id"], GOOD["signed"],
                                   datetime(2026, 11, 22, 10, 0, 0, 123000, tzinfo=UTC), bytes(64))


def test_not_an_object() -> None:
    with pytest.raises(SignatureFormatError, match="a signed object must be a JSON object, got array"):
        signatures_of([])  # type: ignore[arg-type]


def test_sign_object_rejects_bad_arguments(ed_key: SigningKey, make_report: MakeReport) -> None:
    with pytest.raises(SignatureFormatError, match="signer must be an identity id"):
        sign_object(make_report(), ed_key, "ACME Cloud", SIGNED_AT)
    with pytest.raises(SignatureFormatError, match="timezone-aware"):
        sign_object(make_report(), ed_key, SUBMITTER, datetime(2026, 11, 22, 10, 0))
    with pytest.raises(SignatureFormatError, match="signature 1: unknown algorithm"):
        bad = sign_object(make_report(), ed_key, SUBMITTER, SIGNED_AT)
        sigs(bad).append({**sigs(bad)[0], "algorithm": "HS256"})
        sign_object(bad, ed_key, HUB, SIGNED_AT)


def test_signed_is_written_in_utc_with_milliseconds(ed_key: SigningKey, make_report: MakeReport) -> None:
    paris = timezone(timedelta(hours=1))
    signed = sign_object(make_report(), ed_key, SUBMITTER, datetime(2026, 11, 22, 11, 0, 0, 999999, tzinfo=paris))
    assert sigs(signed)[0]["signed"] == "2026-11-22T10:00:00.999Z"
    now = sign_object(make_report(), ed_key, SUBMITTER)
    assert signatures_of(now)[0].signed_at.tzinfo is not None
