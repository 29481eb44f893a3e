"""RFC 9578 Appendix A.2, byte for byte: the five vectors of issuance protocol 2 (Blind RSA,
2048). Each checks the issuer key and its RSASSA-PSS SubjectPublicKeyInfo, the challenge's
encoding, the client's TokenRequest (from the vector's nonce, salt and blind r), the issuer's
TokenResponse, the client's Token and the origin's verification of it."""

from __future__ import annotations

import pytest

from hub.anonymity import blindrsa, tokens
from tests.anonymity.vectors import rfc9578_type2_vectors

VECTORS = rfc9578_type2_vectors()


def _h(vector: dict, name: str) -> bytes:
    return bytes.fromhex(vector[name])


def test_there_are_five_vectors() -> None:
    assert len(VECTORS) == 5


@pytest.mark.parametrize("vector", VECTORS, ids=[f"vector-{i + 1}" for i in range(len(VECTORS))])
def test_rfc9578_type2_vector(vector: dict) -> None:
    private = blindrsa.PrivateKey.from_pem(_h(vector, "skS"))
    public = private.public_key
    assert public.spki() == _h(vector, "pkS")
    assert blindrsa.PublicKey.from_spki(_h(vector, "pkS")) == public

    challenge = _h(vector, "token_challenge")
    assert tokens.TokenChallenge.decode(challenge).encode() == challenge

    request, state = tokens._begin_with(public, challenge, _h(vector, "nonce"), _h(vector, "salt"),
                                        int(vector["blind"], 16))
    assert request.encode() == _h(vector, "token_request")
    assert tokens.TokenRequest.decode(_h(vector, "token_request")) == request

    response = tokens.TokenIssuer(private).issue(_h(vector, "token_request"))
    assert response == _h(vector, "token_response")

    token = tokens.finalize_token(state, response)
    assert token.encode() == _h(vector, "token")
    assert tokens.verify_token(public, _h(vector, "token"), challenge) == token
