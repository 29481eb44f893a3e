"""Privacy Pass token type 2 beyond the RFC vectors: a whole issuance and redemption with fresh
randomness, and every refusal an origin relies on (forged or altered tokens, another key,
another challenge, other token types, malformed structures)."""

from __future__ import annotations

import hashlib

import pytest

from hub.anonymity import blindrsa, tokens
from hub.anonymity.errors import InvalidSignature, TokenError, UnexpectedInputSize


@pytest.fixture(scope="module")
def issuer() -> tokens.TokenIssuer:
    return tokens.TokenIssuer(blindrsa.PrivateKey.generate(2048))


@pytest.fixture(scope="module")
def other_issuer() -> tokens.TokenIssuer:
    return tokens.TokenIssuer(blindrsa.PrivateKey.generate(2048))


CHALLENGE = tokens.TokenChallenge(issuer_name="hub.example", origin_info="hub.example").encode()


def _token(issuer: tokens.TokenIssuer, challenge: bytes = CHALLENGE) -> bytes:
    request, state = tokens.begin_issuance(issuer.public, challenge)
    return tokens.finalize_token(state, issuer.issue(request.encode())).encode()


def test_issue_and_redeem(issuer: tokens.TokenIssuer) -> None:
    token = _token(issuer)
    assert len(token) == tokens.TOKEN_LEN == 354
    parsed = tokens.verify_token(issuer.public, token, CHALLENGE)
    assert parsed.token_key_id == issuer.key_id == hashlib.sha256(issuer.public.spki()).digest()
    assert parsed.challenge_digest == hashlib.sha256(CHALLENGE).digest()
    assert tokens.verify_token(issuer.public, token) == parsed  # without the challenge too


def test_the_request_names_only_the_last_byte_of_the_key_id(issuer: tokens.TokenIssuer) -> None:
    request, _ = tokens.begin_issuance(issuer.public, CHALLENGE)
    encoded = request.encode()
    assert len(encoded) == tokens.TOKEN_REQUEST_LEN == 259
    assert encoded[:3] == b"\x00\x02" + issuer.key_id[-1:]
    assert issuer.key_id[:-1] not in encoded


def test_two_tokens_for_the_same_challenge_differ(issuer: tokens.TokenIssuer) -> None:
    first, second = tokens.Token.decode(_token(issuer)), tokens.Token.decode(_token(issuer))
    assert first.nonce != second.nonce and first.authenticator != second.authenticator


def test_a_forged_token_is_refused(issuer: tokens.TokenIssuer) -> None:
    token = tokens.Token.decode(_token(issuer))
    forged = tokens.Token(token.nonce, token.challenge_digest, token.token_key_id, bytes(tokens.NK))
    with pytest.raises(InvalidSignature):
        tokens.verify_token(issuer.public, forged.encode())
    other_nonce = tokens.Token(bytes(32), token.challenge_digest, token.token_key_id, token.authenticator)
    with pytest.raises(InvalidSignature):
        tokens.verify_token(issuer.public, other_nonce.encode())
    flipped = bytearray(token.encode())
    flipped[-1] ^= 1
    with pytest.raises(InvalidSignature):
        tokens.verify_token(issuer.public, bytes(flipped))


def test_a_token_of_another_key_is_refused(issuer: tokens.TokenIssuer, other_issuer: tokens.TokenIssuer) -> None:
    token = _token(other_issuer)
    with pytest.raises(TokenError, match="another key"):
        tokens.verify_token(issuer.public, token)
    # relabelled with this key's id, it still does not verify
    parsed = tokens.Token.decode(token)
    relabelled = tokens.Token(parsed.nonce, parsed.challenge_digest, issuer.key_id, parsed.authenticator)
    with pytest.raises(InvalidSignature):
        tokens.verify_token(issuer.public, relabelled.encode())


def test_a_token_for_another_challenge_is_refused(issuer: tokens.TokenIssuer) -> None:
    token = _token(issuer)
    other = tokens.TokenChallenge(issuer_name="hub.example", origin_info="elsewhere.example").encode()
    with pytest.raises(TokenError, match="another challenge"):
        tokens.verify_token(issuer.public, token, other)


def test_the_issuer_refuses_requests_for_another_key_or_type(
        issuer: tokens.TokenIssuer, other_issuer: tokens.TokenIssuer) -> None:
    request, _ = tokens.begin_issuance(other_issuer.public, CHALLENGE)
    if request.truncated_token_key_id != issuer.key_id[-1]:
        with pytest.raises(TokenError, match="another issuer key"):
            issuer.issue(request.encode())
    encoded = tokens.TokenRequest(issuer.key_id[-1], request.blinded_msg).encode()
    with pytest.raises(TokenError, match="not supported"):
        issuer.issue(b"\x00\x01" + encoded[2:])
    with pytest.raises(UnexpectedInputSize):
        issuer.issue(encoded[:-1])


def test_finalize_refuses_a_response_from_another_key(
        issuer: tokens.TokenIssuer, other_issuer: tokens.TokenIssuer) -> None:
    # A blinded message is uniform below this key's modulus; the other key signs one below its own.
    while True:
        request, state = tokens.begin_issuance(issuer.public, CHALLENGE)
        if int.from_bytes(request.blinded_msg, "big") < other_issuer.public.n:
            break
    wrong = blindrsa.blind_sign(other_issuer.private, request.blinded_msg)
    with pytest.raises(InvalidSignature):
        tokens.finalize_token(state, wrong)
    with pytest.raises(UnexpectedInputSize):
        tokens.finalize_token(state, wrong[:-1])
    assert "inv" not in repr(state) and "token_input" not in repr(state)


def test_malformed_tokens_are_refused(issuer: tokens.TokenIssuer) -> None:
    token = _token(issuer)
    with pytest.raises(UnexpectedInputSize):
        tokens.verify_token(issuer.public, token[:-1])
    with pytest.raises(TokenError, match="not supported"):
        tokens.verify_token(issuer.public, b"\x00\x01" + token[2:])


@pytest.mark.parametrize("data, reason", [
    (b"\x00\x02", "at least 4 bytes"),
    (b"\x00\x01\x00\x01a\x00\x00\x00", "not supported"),
    (b"\x00\x02\x00\x00\x00\x00\x00", "issuer_name is 1 to 65535 bytes"),
    (b"\x00\x02\x00\x05ab", "ends inside its issuer_name"),
    (b"\x00\x02\x00\x01a\x05abcde\x00\x00", "redemption_context is empty or 32 bytes"),
    (b"\x00\x02\x00\x01a\x00\x00\x00x", "bytes after its origin_info"),
    (b"\x00\x02\x00\x01\xff\x00\x00\x00", "UTF-8"),
])
def test_malformed_challenges_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(TokenError, match=reason):
        tokens.TokenChallenge.decode(data)


def test_begin_issuance_refuses_a_malformed_challenge_and_a_key_not_of_2048_bits(issuer: tokens.TokenIssuer) -> None:
    with pytest.raises(TokenError):
        tokens.begin_issuance(issuer.public, b"\x00\x02")
    with pytest.raises(TokenError, match="2048-bit"):
        tokens.TokenIssuer(blindrsa.PrivateKey.generate(3072))
