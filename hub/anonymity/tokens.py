"""Privacy Pass token type 2: publicly verifiable tokens, Blind RSA 2048 (RFC 9578 section 6,
the structures of RFC 9577 section 2), on :mod:`hub.anonymity.blindrsa`.

The issuer (the hub, for a provider it has authenticated) signs a token it never sees; the origin
(the hub again, later, for a submission that carries no credential) verifies it with the public
key alone::

    challenge = TokenChallenge(issuer_name="hub.example").encode()
    request, state = begin_issuance(public, challenge)     # client: request.encode() to the issuer
    response = TokenIssuer(private).issue(request.encode())  # issuer: a TokenResponse, 256 bytes
    token = finalize_token(state, response)                  # client: a Token, 354 bytes
    verify_token(public, token.encode(), challenge)          # origin: TokenError / InvalidSignature

``token_input = token_type || nonce || challenge_digest || token_key_id`` (98 bytes) is signed
with RSABSSA-SHA384-PSS-Deterministic; ``token_key_id`` is SHA-256 of the key's RSASSA-PSS
SubjectPublicKeyInfo (:func:`token_key_id`), and a token request names only its last byte, so
the issuer cannot tag a client by the key id it asks for. What this module does not do is what
makes tokens unlinkable in practice (one key per epoch for every provider, checked against a
second source; spent-token records; issuance and redemption apart in time and network): that is
the filing flows' business, see docs/ANONYMITY.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass, field

from hub.anonymity import blindrsa
from hub.anonymity.errors import TokenError, UnexpectedInputSize

__all__ = [
    "NK",
    "NONCE_LEN",
    "TOKEN_INPUT_LEN",
    "TOKEN_LEN",
    "TOKEN_REQUEST_LEN",
    "TOKEN_TYPE_BLIND_RSA",
    "VARIANT",
    "IssuanceState",
    "Token",
    "TokenChallenge",
    "TokenIssuer",
    "TokenRequest",
    "begin_issuance",
    "finalize_token",
    "token_key_id",
    "verify_token",
]

TOKEN_TYPE_BLIND_RSA = 0x0002
NK = 256  # the authenticator, blinded message and blind signature of a 2048-bit key
NONCE_LEN = 32
_DIGEST_LEN = 32
TOKEN_INPUT_LEN = 2 + NONCE_LEN + _DIGEST_LEN + _DIGEST_LEN  # 98
TOKEN_LEN = TOKEN_INPUT_LEN + NK  # 354
TOKEN_REQUEST_LEN = 2 + 1 + NK  # 259
VARIANT = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
_KEY_BITS = 2048


def token_key_id(public: blindrsa.PublicKey) -> bytes:
    """SHA-256 of the key's RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 section 6.5), 32 bytes."""
    return hashlib.sha256(public.spki(VARIANT)).digest()


def _require_type2_key(public: blindrsa.PublicKey) -> None:
    if public.modulus_len * 8 != _KEY_BITS or public.n.bit_length() != _KEY_BITS:
        raise TokenError(f"token type 2 uses {_KEY_BITS}-bit RSA keys")


# -- TokenChallenge (RFC 9577 section 2.1) --------------------------------------------------------

def _take(data: bytes, at: int, length: int, what: str) -> tuple[bytes, int]:
    if at + length > len(data):
        raise TokenError(f"the token challenge ends inside its {what}")
    return data[at:at + length], at + length


@dataclass(frozen=True)
class TokenChallenge:
    """``token_type`` (2), ``issuer_name`` (1..65535 bytes), ``redemption_context`` (empty or
    32 bytes) and ``origin_info`` (0..65535 bytes: origin names joined by commas)."""

    issuer_name: str
    redemption_context: bytes = b""
    origin_info: str = ""
    token_type: int = TOKEN_TYPE_BLIND_RSA

    def __post_init__(self) -> None:
        if self.token_type != TOKEN_TYPE_BLIND_RSA:
            raise TokenError(f"token type {self.token_type:#06x} is not supported (only {TOKEN_TYPE_BLIND_RSA:#06x})")
        name, origin = self.issuer_name.encode("utf-8"), self.origin_info.encode("utf-8")
        if not 1 <= len(name) <= 0xFFFF:
            raise TokenError("a token challenge's issuer_name is 1 to 65535 bytes")
        if len(self.redemption_context) not in (0, 32):
            raise TokenError("a token challenge's redemption_context is empty or 32 bytes")
        if len(origin) > 0xFFFF:
            raise TokenError("a token challenge's origin_info is at most 65535 bytes")

    def encode(self) -> bytes:
        name, origin = self.issuer_name.encode("utf-8"), self.origin_info.encode("utf-8")
        return (struct.pack("!HH", self.token_type, len(name)) + name
                + bytes([len(self.redemption_context)]) + self.redemption_context
                + struct.pack("!H", len(origin)) + origin)

    @classmethod
    def decode(cls, data: bytes) -> TokenChallenge:
        """The challenge in ``data``, which it must fill exactly; :class:`TokenError` otherwise."""
        if len(data) < 4:
            raise TokenError("a token challenge is at least 4 bytes")
        token_type, name_len = struct.unpack_from("!HH", data)
        name, at = _take(data, 4, name_len, "issuer_name")
        context_len, at = _take(data, at, 1, "redemption_context length")
        context, at = _take(data, at, context_len[0], "redemption_context")
        origin_len, at = _take(data, at, 2, "origin_info length")
        origin, at = _take(data, at, struct.unpack("!H", origin_len)[0], "origin_info")
        if at != len(data):
            raise TokenError("the token challenge has bytes after its origin_info")
        try:
            return cls(name.decode("utf-8"), context, origin.decode("utf-8"), token_type)
        except UnicodeDecodeError:
            raise TokenError("a token challenge's issuer_name and origin_info are UTF-8") from None

    def digest(self) -> bytes:
        """SHA-256 of the encoded challenge: the ``challenge_digest`` of tokens made for it."""
        return hashlib.sha256(self.encode()).digest()


# -- TokenRequest, TokenResponse, Token (RFC 9578 sections 6.1 to 6.3) ----------------------------

@dataclass(frozen=True)
class TokenRequest:
    """``token_type`` (2) || ``truncated_token_key_id`` (the key id's last byte) ||
    ``blinded_msg`` (256 bytes)."""

    truncated_token_key_id: int
    blinded_msg: bytes

    def encode(self) -> bytes:
        return struct.pack("!HB", TOKEN_TYPE_BLIND_RSA, self.truncated_token_key_id) + self.blinded_msg

    @classmethod
    def decode(cls, data: bytes) -> TokenRequest:
        if len(data) != TOKEN_REQUEST_LEN:
            raise UnexpectedInputSize(f"a token request is {TOKEN_REQUEST_LEN} bytes, not {len(data)}")
        token_type, truncated = struct.unpack_from("!HB", data)
        if token_type != TOKEN_TYPE_BLIND_RSA:
            raise TokenError(f"token type {token_type:#06x} is not supported (only {TOKEN_TYPE_BLIND_RSA:#06x})")
        return cls(truncated, data[3:])


@dataclass(frozen=True)
class Token:
    """A redeemable token: its ``token_input`` fields and the ``authenticator`` (the RSA-PSS
    signature of the token input), 354 bytes encoded."""

    nonce: bytes
    challenge_digest: bytes
    token_key_id: bytes
    authenticator: bytes
    token_type: int = TOKEN_TYPE_BLIND_RSA

    def token_input(self) -> bytes:
        return struct.pack("!H", self.token_type) + self.nonce + self.challenge_digest + self.token_key_id

    def encode(self) -> bytes:
        return self.token_input() + self.authenticator

    @classmethod
    def decode(cls, data: bytes) -> Token:
        if len(data) != TOKEN_LEN:
            raise UnexpectedInputSize(f"a token of type 2 is {TOKEN_LEN} bytes, not {len(data)}")
        (token_type,) = struct.unpack_from("!H", data)
        if token_type != TOKEN_TYPE_BLIND_RSA:
            raise TokenError(f"token type {token_type:#06x} is not supported (only {TOKEN_TYPE_BLIND_RSA:#06x})")
        a, b, c = 2 + NONCE_LEN, 2 + NONCE_LEN + _DIGEST_LEN, TOKEN_INPUT_LEN
        return cls(data[2:a], data[a:b], data[b:c], data[c:])


def _token_input(nonce: bytes, challenge: bytes, key_id: bytes) -> bytes:
    return struct.pack("!H", TOKEN_TYPE_BLIND_RSA) + nonce + hashlib.sha256(challenge).digest() + key_id


# -- the client ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuanceState:
    """What a client keeps between its request and the issuer's response (secret: the blind's
    inverse and the nonce; the repr shows neither)."""

    public: blindrsa.PublicKey
    token_input: bytes = field(repr=False)
    inv: int = field(repr=False)


def _begin_with(public: blindrsa.PublicKey, challenge: bytes, nonce: bytes, salt: bytes, r: int,
                ) -> tuple[TokenRequest, IssuanceState]:
    _require_type2_key(public)
    key_id = token_key_id(public)
    token_input = _token_input(nonce, challenge, key_id)
    blinded = blindrsa._blind_with(public, token_input, VARIANT, salt, r)
    return TokenRequest(key_id[-1], blinded.blinded_msg), IssuanceState(public, token_input, blinded.inv)


def begin_issuance(public: blindrsa.PublicKey, challenge: bytes) -> tuple[TokenRequest, IssuanceState]:
    """A token request for the encoded ``challenge`` under the issuer key ``public`` (a fresh
    random nonce, salt and blind), and the state :func:`finalize_token` needs."""
    TokenChallenge.decode(challenge)  # only well-formed challenges are signed for
    return _begin_with(public, challenge, secrets.token_bytes(NONCE_LEN), secrets.token_bytes(VARIANT.salt_len),
                       blindrsa._random_blind(public.n))


def finalize_token(state: IssuanceState, response: bytes) -> Token:
    """The token from the issuer's TokenResponse (its ``blind_sig``, 256 bytes); refuses a
    response that does not finalise to a valid signature under the key the request was made for
    (:class:`hub.anonymity.errors.InvalidSignature`)."""
    if len(response) != NK:
        raise UnexpectedInputSize(f"a token response is {NK} bytes, not {len(response)}")
    authenticator = blindrsa.finalize(state.public, state.token_input, response, state.inv, VARIANT)
    return Token.decode(state.token_input + authenticator)


# -- the issuer and the origin ---------------------------------------------------------------------

class TokenIssuer:
    """The issuer of one key: answers token requests made for it."""

    def __init__(self, private: blindrsa.PrivateKey) -> None:
        _require_type2_key(private.public_key)
        self.private = private
        self.public = private.public_key
        self.key_id = token_key_id(self.public)

    def issue(self, request: bytes) -> bytes:
        """The TokenResponse (``blind_sig``) to an encoded TokenRequest; :class:`TokenError` for
        another token type or a request made for another key (by its truncated key id),
        :class:`UnexpectedInputSize` for one of the wrong length (RFC 9578 section 6.2: 422)."""
        parsed = TokenRequest.decode(request)
        if parsed.truncated_token_key_id != self.key_id[-1]:
            raise TokenError("the token request is for another issuer key")
        return blindrsa.blind_sign(self.private, parsed.blinded_msg)


def verify_token(public: blindrsa.PublicKey, token: bytes, challenge: bytes | None = None) -> Token:
    """The decoded token if its authenticator verifies under ``public`` (RFC 9578 section 6.4),
    it names that key's id and, when ``challenge`` (encoded) is given, was made for that
    challenge. :class:`TokenError` / :class:`UnexpectedInputSize` for a malformed token or one
    for another key or challenge, :class:`hub.anonymity.errors.InvalidSignature` for a forged
    one. Whether it was spent before is the caller's question."""
    parsed = Token.decode(token)
    if not hmac.compare_digest(parsed.token_key_id, token_key_id(public)):
        raise TokenError("the token was issued under another key")
    if challenge is not None and not hmac.compare_digest(parsed.challenge_digest, hashlib.sha256(challenge).digest()):
        raise TokenError("the token was made for another challenge")
    blindrsa.verify(public, parsed.token_input(), parsed.authenticator, VARIANT)
    return parsed
