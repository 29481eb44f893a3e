"""Oblivious pseudonyms beyond the RFC vectors: what the hub and a provider rely on.

A provider must refuse any answer the hub's published key does not vouch for; the hub must refuse
blinded elements that are not valid ristretto255 encodings; the same value under the same key
gives the same pseudonym to everyone (that is what correlates reports), and another kind or key
version gives another.
"""

from __future__ import annotations

import copy
import os
import pickle
import sys

import pytest
import rbcl

from hub.common.errors import BadRequest
from hub.pseudonyms import InvalidPersonalValue
from hub.pseudonyms.oprf import (
    MAX_BATCH_SIZE,
    POPRF_PSEUDONYM_RE,
    InvalidElement,
    InvalidOprfInput,
    Mode,
    PoprfKeyring,
    PoprfServer,
    PseudonymBatch,
    VerifyError,
    VoprfServer,
    blind,
    finalize,
    finalize_batch,
    format_pseudonym,
    pseudonym_info,
    pseudonym_input,
    verify_batch,
)

INFO = pseudonym_info("email", "k1")
IDENTITY = bytes(32)
# Not canonical encodings (RFC 9496 section 4.3.1): a negative s (odd first byte) and s >= p.
NOT_CANONICAL = [b"\x01" + bytes(31), b"\xff" * 32, (2**255 - 19).to_bytes(32, "little")]


@pytest.fixture(scope="module")
def server() -> PoprfServer:
    return PoprfServer.generate()


def _request(values: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    pairs = [blind(v) for v in values]
    return [r for r, _ in pairs], [b for _, b in pairs]


VALUES = [b"alice@example.com", b"bob@example.org", b"carol@example.net"]


def test_round_trip_matches_the_server_in_clear(server: PoprfServer) -> None:
    blinds, blinded = _request(VALUES)
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    outputs = finalize_batch(server.public_key, VALUES, blinds, blinded, evaluated, proof, INFO)
    assert outputs == [server.evaluate_unblinded(v, INFO) for v in VALUES]
    assert len(set(outputs)) == len(VALUES)
    assert all(len(o) == 64 for o in outputs)


def test_same_value_same_key_same_output_for_two_clients(server: PoprfServer) -> None:
    """Correlation: two providers blind differently, the hub sees unrelated elements, both get
    the same output."""
    first_blinds, first = _request([VALUES[0]])
    second_blinds, second = _request([VALUES[0]])
    assert first != second  # the hub cannot link the two requests
    e1, p1 = server.evaluate_batch(first, INFO)
    e2, p2 = server.evaluate_batch(second, INFO)
    out1 = finalize_batch(server.public_key, [VALUES[0]], first_blinds, first, e1, p1, INFO)
    out2 = finalize_batch(server.public_key, [VALUES[0]], second_blinds, second, e2, p2, INFO)
    assert out1 == out2


@pytest.mark.parametrize("other_info", [
    pytest.param(pseudonym_info("phone", "k1"), id="another kind"),
    pytest.param(pseudonym_info("email", "k2"), id="another key version"),
])
def test_another_info_gives_another_output(server: PoprfServer, other_info: bytes) -> None:
    assert server.evaluate_unblinded(VALUES[0], INFO) != server.evaluate_unblinded(VALUES[0], other_info)
    blinds, blinded = _request([VALUES[0]])
    evaluated, proof = server.evaluate_batch(blinded, other_info)
    # An answer made under another info does not pass as this info's.
    with pytest.raises(VerifyError):
        verify_batch(server.public_key, blinded, evaluated, proof, INFO)
    assert finalize_batch(server.public_key, [VALUES[0]], blinds, blinded, evaluated, proof, other_info) != \
        finalize_batch(server.public_key, [VALUES[0]], blinds, blinded, *server.evaluate_batch(blinded, INFO), INFO)


def test_another_key_gives_another_output(server: PoprfServer) -> None:
    assert PoprfServer.generate().evaluate_unblinded(VALUES[0], INFO) != server.evaluate_unblinded(VALUES[0], INFO)


def test_proof_made_with_another_key_is_refused(server: PoprfServer) -> None:
    impostor = PoprfServer.generate()
    _, blinded = _request(VALUES)
    evaluated, proof = impostor.evaluate_batch(blinded, INFO)
    with pytest.raises(VerifyError, match="the hub's answer could not be verified"):
        verify_batch(server.public_key, blinded, evaluated, proof, INFO)
    # The impostor's own key does vouch for it: the refusal is about the key.
    verify_batch(impostor.public_key, blinded, evaluated, proof, INFO)


def test_tampered_evaluated_element_is_refused(server: PoprfServer) -> None:
    blinds, blinded = _request(VALUES)
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    # A valid element in place of one answer (here: the blinded element sent back unevaluated).
    forged = [evaluated[0], blinded[1], evaluated[2]]
    with pytest.raises(VerifyError, match="proof does not hold"):
        verify_batch(server.public_key, blinded, forged, proof, INFO)
    with pytest.raises(VerifyError):
        finalize_batch(server.public_key, VALUES, blinds, blinded, forged, proof, INFO)
    # Answers in another order do not verify either: the proof binds each position.
    with pytest.raises(VerifyError):
        verify_batch(server.public_key, blinded, [evaluated[1], evaluated[0], evaluated[2]], proof, INFO)


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_tampered_proof_is_refused(server: PoprfServer, index: int) -> None:
    _, blinded = _request(VALUES)
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    tampered = bytearray(proof)
    tampered[index] ^= 0x01
    with pytest.raises(VerifyError):
        verify_batch(server.public_key, blinded, evaluated, bytes(tampered), INFO)


@pytest.mark.parametrize("proof", [
    pytest.param(bytes(63), id="short"),
    pytest.param(bytes(64), id="zero scalars"),
    pytest.param(b"\xff" * 64, id="scalars not below the order"),
])
def test_malformed_proof_is_refused(server: PoprfServer, proof: bytes) -> None:
    _, blinded = _request([VALUES[0]])
    evaluated, _ = server.evaluate_batch(blinded, INFO)
    with pytest.raises(VerifyError):
        verify_batch(server.public_key, blinded, evaluated, proof, INFO)


@pytest.mark.parametrize("bad", [
    pytest.param(IDENTITY, id="identity"),
    *[pytest.param(b, id=f"not canonical {i}") for i, b in enumerate(NOT_CANONICAL)],
    pytest.param(bytes(31), id="31 bytes"),
    pytest.param("00" * 32, id="text, not bytes"),
])
def test_server_refuses_invalid_blinded_elements(server: PoprfServer, bad: object) -> None:
    _, blinded = _request(VALUES)
    with pytest.raises(InvalidElement, match="blinded element 1") as info:
        server.evaluate_batch([blinded[0], bad, blinded[2]], INFO)  # type: ignore[list-item]
    # A 400 for the endpoint, and the message names the element, not its bytes.
    assert isinstance(info.value, BadRequest) and info.value.http_status == 400
    if isinstance(bad, bytes) and bad:
        assert bad.hex() not in str(info.value)


@pytest.mark.parametrize("bad", [
    pytest.param(IDENTITY, id="identity"),
    *[pytest.param(b, id=f"not canonical {i}") for i, b in enumerate(NOT_CANONICAL)],
])
def test_client_refuses_invalid_evaluated_elements(server: PoprfServer, bad: bytes) -> None:
    blinds, blinded = _request(VALUES[:2])
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    with pytest.raises(VerifyError, match="evaluated element 1"):
        verify_batch(server.public_key, blinded, [evaluated[0], bad], proof, INFO)
    with pytest.raises(VerifyError, match="evaluated element"):
        finalize(VALUES[1], blinds[1], bad, INFO)


@pytest.mark.parametrize("bad_key", [IDENTITY, *NOT_CANONICAL])
def test_client_refuses_an_invalid_public_key(server: PoprfServer, bad_key: bytes) -> None:
    _, blinded = _request([VALUES[0]])
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    with pytest.raises(VerifyError, match="public key"):
        verify_batch(bad_key, blinded, evaluated, proof, INFO)


def test_client_refuses_a_wrong_number_of_answers(server: PoprfServer) -> None:
    _, blinded = _request(VALUES)
    evaluated, proof = server.evaluate_batch(blinded, INFO)
    with pytest.raises(VerifyError, match="2 evaluated elements for 3"):
        verify_batch(server.public_key, blinded, evaluated[:2], proof, INFO)


def test_batch_size_limits(server: PoprfServer) -> None:
    with pytest.raises(InvalidOprfInput, match="no blinded element"):
        server.evaluate_batch([], INFO)
    element = rbcl.crypto_core_ristretto255_random()
    evaluated, proof = server.evaluate_batch([element] * MAX_BATCH_SIZE, INFO)
    verify_batch(server.public_key, [element] * MAX_BATCH_SIZE, evaluated, proof, INFO)
    with pytest.raises(InvalidOprfInput, match=f"at most {MAX_BATCH_SIZE}"):
        server.evaluate_batch([element] * (MAX_BATCH_SIZE + 1), INFO)


def test_voprf_proof_is_for_the_untweaked_key() -> None:
    server = VoprfServer.generate()
    values = VALUES[:2]
    pairs = [blind(v, mode=Mode.VOPRF) for v in values]
    blinded = [b for _, b in pairs]
    evaluated, proof = server.evaluate_batch(blinded)
    outputs = finalize_batch(server.public_key, values, [r for r, _ in pairs], blinded, evaluated, proof,
                             mode=Mode.VOPRF)
    assert outputs == [server.evaluate_unblinded(v) for v in values]
    with pytest.raises(VerifyError):
        verify_batch(VoprfServer.generate().public_key, blinded, evaluated, proof, mode=Mode.VOPRF)


def test_secret_key_stays_inside(server: PoprfServer) -> None:
    secret = server.secret_key_bytes()
    assert secret.hex() not in repr(server) and secret.hex() not in str(server)
    assert server.public_key.hex() in repr(server)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(server)
    with pytest.raises(TypeError, match="cannot be pickled"):
        copy.deepcopy(server)
    assert PoprfServer(secret).public_key == server.public_key


@pytest.mark.parametrize("key", [
    pytest.param(bytes(32), id="zero"),
    pytest.param(b"\xff" * 32, id="not below the order"),
    pytest.param(bytes(16), id="16 bytes"),
])
def test_invalid_secret_keys_are_refused(key: bytes) -> None:
    with pytest.raises(InvalidOprfInput, match="the secret key"):
        PoprfServer(key)


@pytest.mark.parametrize("kind, version, message", [
    pytest.param("ssn", "k1", "unknown pseudonym kind", id="unknown kind"),
    pytest.param("email", "k:1", "key version", id="colon in version"),
    pytest.param("email", "", "key version", id="empty version"),
    pytest.param("email", "k" * 33, "key version", id="long version"),
])
def test_pseudonym_info_refuses_what_would_not_parse_one_way(kind: str, version: str, message: str) -> None:
    with pytest.raises(InvalidOprfInput, match=message):
        pseudonym_info(kind, version)


def test_pseudonym_info_form() -> None:
    assert pseudonym_info("email", "k2") == b"abusehub:email:k2"
    assert pseudonym_info("payment_instrument", "2025.1") == b"abusehub:payment_instrument:2025.1"


def test_pseudonym_batch_end_to_end() -> None:
    keyring = PoprfKeyring({"k1": bytes(range(32)), "k2": bytes(range(1, 33))}, current="k2")
    version = keyring.current_version
    # Two providers write the same address differently; normalisation makes them one value.
    first = PseudonymBatch("email", version, [" Alice@Example.COM", "bob@example.org"])
    second = PseudonymBatch("email", version, ["alice@example.com"])
    server = keyring.server(version)
    pseudonyms = first.finish(keyring.public_keys()[version], *server.evaluate_batch(first.blinded, first.info))
    again = second.finish(keyring.public_keys()[version], *server.evaluate_batch(second.blinded, second.info))
    assert pseudonyms[0] == again[0] != pseudonyms[1]
    assert all(POPRF_PSEUDONYM_RE.match(p) for p in pseudonyms)
    assert pseudonyms[0].startswith("poprf-r255:k2:")
    assert pseudonyms[0] == format_pseudonym(
        "k2", server.evaluate_unblinded(pseudonym_input("email", "alice@example.com"), pseudonym_info("email", "k2")))
    # The other version's key does not vouch for this version's answer.
    with pytest.raises(VerifyError):
        first.finish(keyring.public_keys()["k1"], *server.evaluate_batch(first.blinded, first.info))
    assert "alice" not in repr(first).lower()


def test_pseudonym_batch_refuses_bad_values() -> None:
    with pytest.raises(InvalidPersonalValue):
        PseudonymBatch("email", "k1", ["not an address"])
    with pytest.raises(InvalidOprfInput, match="at least one value"):
        PseudonymBatch("email", "k1", [])
    with pytest.raises(InvalidOprfInput, match=f"at most {MAX_BATCH_SIZE}"):
        PseudonymBatch("name", "k1", ["a"] * (MAX_BATCH_SIZE + 1))


def test_keyring_is_deterministic_and_keeps_its_keys() -> None:
    seed = PoprfKeyring.generate_seed()
    one = PoprfKeyring.from_secrets({"k1": seed.hex()})
    two = PoprfKeyring.from_secrets({"k1": seed})
    assert one.public_keys() == two.public_keys()
    assert list(one.public_keys()) == ["k1"]
    assert seed.hex() not in repr(one)
    with pytest.raises(TypeError):
        pickle.dumps(one)
    with pytest.raises(InvalidOprfInput, match="'k1'") as info:
        PoprfKeyring.from_secrets({"k1": "zz" + seed.hex()[2:]})
    assert seed.hex()[2:] not in str(info.value)
    with pytest.raises(InvalidOprfInput, match="32 bytes"):
        PoprfKeyring({"k1": bytes(16)}, "k1")
    with pytest.raises(InvalidOprfInput, match="not in the keyring"):
        PoprfKeyring({"k1": seed}, "k2")
    with pytest.raises(InvalidOprfInput, match="unknown POPRF key version"):
        one.server("k9")


@pytest.mark.skipif(os.name != "posix", reason="a loaded library can be removed on POSIX systems only")
def test_no_copy_of_libsodium_is_left_in_the_temporary_directory() -> None:
    # rbcl writes its libsodium to a temporary file at import; the module removes it once loaded.
    path = sys.modules["rbcl._sodium"].lib_path
    assert isinstance(path, str) and path.endswith(".so")
    assert not os.path.exists(path)


def test_the_bytes_of_libsodium_are_not_kept_once_loaded() -> None:
    # rbcl keeps the library's bytes (some 3 MB in every process) as a module global.
    assert not hasattr(sys.modules["rbcl._sodium"], "sodium_bs")
    assert bytes(rbcl.crypto_core_ristretto255_scalar_reduce(bytes(64))) == bytes(32)
