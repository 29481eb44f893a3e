"""RFC 9474 Appendix A, byte for byte: every value of the four named variants' vectors.

The hub's tokens use RSABSSA-SHA384-PSS-Deterministic; the other three variants come from the
same code, so all four are checked: key, Prepare, EMSA-PSS-ENCODE, Blind (with the vector's salt and the blind r whose
inverse the vector gives), BlindSign, Finalize and verification.
"""

from __future__ import annotations

import pytest

from hub.anonymity import blindrsa
from tests.anonymity.vectors import rfc9474_vectors

VECTORS = rfc9474_vectors()


def _h(vector: dict, name: str) -> bytes:
    return bytes.fromhex(vector[name])


def _i(vector: dict, name: str) -> int:
    return int(vector[name], 16)


def test_the_vectors_are_the_four_variants_of_the_rfc() -> None:
    assert [v["name"] for v in VECTORS] == [
        "RSABSSA-SHA384-PSS-Randomized", "RSABSSA-SHA384-PSSZERO-Randomized",
        "RSABSSA-SHA384-PSS-Deterministic", "RSABSSA-SHA384-PSSZERO-Deterministic"]
    assert set(blindrsa.VARIANTS) == {v["name"] for v in VECTORS}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc9474_vector(vector: dict) -> None:
    variant = blindrsa.VARIANTS[vector["name"]]
    private = blindrsa.PrivateKey.from_primes(_i(vector, "p"), _i(vector, "q"), _i(vector, "e"))
    public = private.public_key
    assert public.n == _i(vector, "n")
    assert private.to_pem()  # a whole key: it serialises
    assert len(_h(vector, "salt")) == variant.salt_len
    assert len(_h(vector, "msg_prefix")) == (blindrsa.PREFIX_LEN if variant.randomized else 0)

    prepared = blindrsa._prepare_with(_h(vector, "msg"), variant, _h(vector, "msg_prefix"))
    assert prepared == _h(vector, "prepared_msg")
    assert blindrsa.message_of(prepared, variant) == _h(vector, "msg")
    assert blindrsa._emsa_pss_encode(prepared, public.n.bit_length() - 1, _h(vector, "salt")) == _h(vector, "encoded_msg")

    r = pow(_i(vector, "inv"), -1, public.n)
    blinded = blindrsa._blind_with(public, prepared, variant, _h(vector, "salt"), r)
    assert blinded.blinded_msg == _h(vector, "blinded_msg")
    assert blinded.inv == _i(vector, "inv")

    assert blindrsa.blind_sign(private, blinded.blinded_msg) == _h(vector, "blind_sig")
    sig = blindrsa.finalize(public, prepared, _h(vector, "blind_sig"), blinded.inv, variant)
    assert sig == _h(vector, "sig")
    blindrsa.verify(public, prepared, sig, variant)
