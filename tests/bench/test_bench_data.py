"""The benchmark's generated data passes the hub's own ingest rules.

The hub validates every object on ingest, refuses unknown markings and personal data in clear,
and verifies signatures in collections that require them: any generated object breaking one of
those rules would show up in the benchmark as a failed ingest instead of a figure. These tests
run the hub's validator, personal-data scan and markings check over a few hundred objects of
each kind, verify the signed ones with the provider's public key, and show that the checks do
catch a broken object (so a pass means something).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from bench import data
from hub.signing import KeySet, SigningKey, signatures_of, verify_entry
from hub.signing.documents import verify_objects
from hub.stix.basics import check_basics
from hub.stix.markings import TLP_LEVEL_BY_ID, check_markings, tlp_level
from hub.stix.pii import scan_object
from hub.stix.validator import validate

N = 400  # per kind: 400 indicators, 44 whole reports, 400 signed indicators


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return data.bench_key()


@pytest.fixture(scope="module")
def generated(key: SigningKey) -> dict[str, list[dict[str, Any]]]:
    return {kind: data.objects(kind, N, key=key) for kind in data.KINDS}


def test_every_kind_is_generated_in_full(generated: dict[str, list[dict[str, Any]]]) -> None:
    assert set(generated) == {"indicators", "reports", "signed"}
    for kind, objs in generated.items():
        assert len(objs) == N, kind
        assert len({o["id"] for o in objs}) == N, f"{kind}: ids repeat"
    report_types = {o["type"] for o in generated["reports"]}
    assert {"report", "user-account", "identity", "relationship", "indicator"} <= report_types


@pytest.mark.parametrize("kind", data.KINDS)
def test_hub_validator_accepts_every_object(generated: dict[str, list[dict[str, Any]]], kind: str) -> None:
    errors = {o["id"]: validate(o) for o in generated[kind]}
    assert {oid: e for oid, e in errors.items() if e} == {}


@pytest.mark.parametrize("kind", data.KINDS)
def test_pii_scan_finds_nothing(generated: dict[str, list[dict[str, Any]]], kind: str) -> None:
    found = {o["id"]: scan_object(o) for o in generated[kind]}
    assert {oid: r for oid, r in found.items() if r} == {}


@pytest.mark.parametrize("kind", data.KINDS)
def test_markings_are_tlp_within_the_collection_ceiling(generated: dict[str, list[dict[str, Any]]],
                                                        kind: str) -> None:
    ceiling = tlp_level(data.MAX_TLP)
    for obj in generated[kind]:
        for ref in obj.get("object_marking_refs", []):
            assert ref in TLP_LEVEL_BY_ID, f"{obj['id']}: {ref} is not a TLP marking"
        assert "granular_markings" not in obj
        assert check_markings(obj, ceiling) is None, obj["id"]
    if kind == "reports":  # reports do carry markings: the loop above checked some
        assert all(o.get("object_marking_refs") for o in generated[kind])


@pytest.mark.parametrize("kind", data.KINDS)
def test_check_sample_passes(generated: dict[str, list[dict[str, Any]]], key: SigningKey, kind: str) -> None:
    verify = key.public_key if kind in data.SIGNED_KINDS else None
    assert data.check_sample(generated[kind], verify_key=verify) == []


def test_signed_objects_verify_with_the_public_key(generated: dict[str, list[dict[str, Any]]],
                                                   key: SigningKey) -> None:
    public = key.public_key
    for obj in generated["signed"]:
        entries = signatures_of(obj)
        assert len(entries) == 1, obj["id"]
        entry = entries[0]
        assert entry.algorithm == "Ed25519"
        assert entry.key_id == public.key_id
        assert entry.signer == data.BENCH_IDENTITY == obj["created_by_ref"]
        verify_entry(obj, entry, public)  # raises SignatureInvalid if it does not verify


def test_signed_objects_pass_the_hubs_key_rules(generated: dict[str, list[dict[str, Any]]],
                                                key: SigningKey) -> None:
    """The rules the hub applies on ingest (key registered to the signer, valid when signed)."""
    jwks = {"keys": [{**key.public_key.to_jwk(), "identity": data.BENCH_IDENTITY,
                      "party": "bench-provider", "not_before": "2020-01-01T00:00:00.000Z"}]}
    verdicts = verify_objects(generated["signed"], KeySet.from_jwks(jwks), time.time_ns() // 1000)
    assert len(verdicts) == N
    assert [v for v in verdicts if not v.ok] == []


def test_signed_kind_is_the_indicators_signed(generated: dict[str, list[dict[str, Any]]]) -> None:
    for plain, signed in zip(generated["indicators"], generated["signed"], strict=True):
        body = {k: v for k, v in signed.items() if k not in ("extensions", "created_by_ref")}
        assert body == plain


def test_generation_is_deterministic(generated: dict[str, list[dict[str, Any]]]) -> None:
    assert data.objects("reports", 50) == generated["reports"][:50]
    assert data.objects("indicators", 50) == generated["indicators"][:50]
    assert data.bench_key().key_id == data.bench_key().key_id


# -- the checks can fail ------------------------------------------------------------------------

def _broken(objs: list[dict[str, Any]], index: int, edit: Any) -> list[dict[str, Any]]:
    out = copy.deepcopy(objs[:20])
    edit(out[index])
    return out


@pytest.mark.parametrize(("kind", "edit", "expected"), [
    ("indicators", lambda o: o.pop("pattern"), "invalid STIX 2.1"),
    ("indicators", lambda o: o.update(confidence=250), "invalid STIX 2.1"),
    ("reports", lambda o: o.update(description="call +1 415 555 2671 for details"), "personal data"),
    ("reports", lambda o: o.update(description="write to someone@example.com"), "personal data"),
    ("reports", lambda o: o.update(object_marking_refs=["marking-definition--00000000-0000-4000-8000-000000000000"]),
     "markings"),
    ("reports", lambda o: o.update(object_marking_refs=[data.TLP2_IDS["red"]]), "markings"),
])
def test_check_sample_catches_a_broken_object(generated: dict[str, list[dict[str, Any]]], kind: str,
                                              edit: Any, expected: str) -> None:
    index = 8 if kind == "reports" else 3  # reports: the report object itself
    problems = data.check_sample(_broken(generated[kind], index, edit))
    assert problems and all(expected in p for p in problems), problems


def test_check_sample_catches_a_tampered_signature(generated: dict[str, list[dict[str, Any]]],
                                                   key: SigningKey) -> None:
    objs = _broken(generated["signed"], 5, lambda o: o.update(name=o["name"] + " (edited)"))
    problems = data.check_sample(objs, verify_key=key.public_key)
    assert len(problems) == 1 and "does not verify" in problems[0], problems
    other = SigningKey.generate().public_key
    assert len(data.check_sample(generated["signed"][:5], verify_key=other)) == 5


def test_require_valid_raises_with_the_problems(generated: dict[str, list[dict[str, Any]]]) -> None:
    objs = _broken(generated["indicators"], 0, lambda o: o.pop("valid_from"))
    with pytest.raises(data.DataInvalid, match="valid_from"):
        data.require_valid(objs, "indicators")
    data.require_valid(generated["indicators"][:20], "indicators")  # no exception


def test_invalid_probes_pass_the_basics_and_fail_full_validation() -> None:
    probes = data.invalid_probes()
    assert len(probes) == 5
    assert len({obj["id"] for _, obj in probes}) == 5
    for what, obj in probes:
        check_basics(obj)  # a server checking only the basics refuses none of them
        assert validate(obj), f"the hub validator accepts the probe: {what}"
        assert scan_object(obj) == [], what  # refused for its STIX, not for personal data
