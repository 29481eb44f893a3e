"""RSA blind signatures, RFC 9474, on ``cryptography``'s RSA keys.

A client gets a server's RSA-PSS signature on a message the server never sees::

    input_msg = prepare(msg, variant)                        # client
    blinded = blind(public, input_msg, variant)              # client -> blinded.blinded_msg
    blind_sig = blind_sign(private, blinded.blinded_msg)     # server
    sig = finalize(public, input_msg, blind_sig, blinded.inv, variant)   # client
    verify(public, input_msg, sig, variant)                  # anyone: InvalidSignature if not

``sig`` is an ordinary RSASSA-PSS signature (SHA-384, MGF1 with SHA-384) of ``input_msg``; the
server cannot tie it to the ``blinded_msg`` it signed. The four named variants of RFC 9474
section 5 are here (:data:`VARIANTS`): Privacy Pass token type 2, and so the hub's submission
tokens, use :data:`RSABSSA_SHA384_PSS_DETERMINISTIC` (48-byte salt, the message as it is: the
token input already holds a fresh 32-byte nonce).

What ``cryptography`` has no function for is written here, after RFC 8017 and RFC 9474: MGF1 and
EMSA-PSS-ENCODE (RFC 8017 sections B.2.1 and 9.1.1), Blind, BlindSign and Finalize (RFC 9474
section 4). RSASSA-PSS verification (the end of Finalize, and :func:`verify`) is
``cryptography``'s. Python's integers are not constant-time, so the private-key operation is
hidden as RFC 9474 section 7.1 asks: the message is blinded by a fresh random r^e before
exponentiation and unblinded after, and each CRT exponent gets a random multiple of (p - 1)
(or (q - 1)) added, so no two signatures raise the same base to the same exponent; the result is
checked (s^e = m, compared in constant time) before it leaves :func:`blind_sign`, against fault
attacks. Values drawn at random (salt, message prefix, r) come from :mod:`secrets` and cannot be
chosen by a caller (RFC 9474 section 7.4); the functions that take them are private and exist for
the RFC's test vectors.

A blind signing key signs nothing else and only one variant (RFC 9474 section 6): the public key
is published as an RSASSA-PSS SubjectPublicKeyInfo naming that variant's parameters
(:meth:`PublicKey.spki`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.anonymity.errors import (
    AnonymityError,
    BlindingError,
    InvalidSignature,
    SigningFailure,
    UnexpectedInputSize,
)

__all__ = [
    "HASH_LEN",
    "MIN_MODULUS_BITS",
    "PREFIX_LEN",
    "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "RSABSSA_SHA384_PSS_DETERMINISTIC",
    "RSABSSA_SHA384_PSS_RANDOMIZED",
    "VARIANTS",
    "Blinded",
    "PrivateKey",
    "PublicKey",
    "Variant",
    "blind",
    "blind_sign",
    "finalize",
    "message_of",
    "prepare",
    "verify",
]

HASH_LEN = 48  # SHA-384
PREFIX_LEN = 32  # PrepareRandomize's msg_prefix
MIN_MODULUS_BITS = 2048
_EXPONENT_BLIND_BITS = 64


@dataclass(frozen=True)
class Variant:
    """One named variant of RFC 9474 section 5: SHA-384 and MGF1-SHA-384, a PSS salt of
    ``salt_len`` bytes (48 or 0), and PrepareRandomize (``randomized``) or PrepareIdentity."""

    name: str
    salt_len: int
    randomized: bool

    def pss(self) -> padding.PSS:
        """The RSASSA-PSS padding of this variant for ``cryptography``."""
        return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=self.salt_len)


RSABSSA_SHA384_PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", HASH_LEN, True)
RSABSSA_SHA384_PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
RSABSSA_SHA384_PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", HASH_LEN, False)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    RSABSSA_SHA384_PSS_RANDOMIZED, RSABSSA_SHA384_PSSZERO_RANDOMIZED,
    RSABSSA_SHA384_PSS_DETERMINISTIC, RSABSSA_SHA384_PSSZERO_DETERMINISTIC)}


# -- integers and bytes (RFC 8017 section 4) ------------------------------------------------------

def _i2osp(x: int, length: int) -> bytes:
    return x.to_bytes(length, "big")


def _os2ip(data: bytes) -> int:
    return int.from_bytes(data, "big")


# -- DER for the RSASSA-PSS SubjectPublicKeyInfo (RFC 4055, RFC 5756) -----------------------------

def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _der_oid(encoded: bytes) -> bytes:
    return _der(0x06, encoded)


_OID_SHA384 = _der_oid(bytes.fromhex("608648016503040202"))          # 2.16.840.1.101.3.4.2.2
_OID_MGF1 = _der_oid(bytes.fromhex("2a864886f70d010108"))            # 1.2.840.113549.1.1.8
_OID_RSASSA_PSS = _der_oid(bytes.fromhex("2a864886f70d01010a"))      # 1.2.840.113549.1.1.10


def _pss_algorithm_identifier(salt_len: int) -> bytes:
    sha384 = _der(0x30, _OID_SHA384)
    params = _der(0x30,
                  _der(0xA0, sha384)
                  + _der(0xA1, _der(0x30, _OID_MGF1 + sha384))
                  + _der(0xA2, _der(0x02, salt_len.to_bytes(1 + salt_len.bit_length() // 8, "big"))))
    return _der(0x30, _OID_RSASSA_PSS + params)


# -- keys ----------------------------------------------------------------------------------------

class PublicKey:
    """An RSA public key (n, e) for blind signatures. Keys below :data:`MIN_MODULUS_BITS` bits
    are refused."""

    __slots__ = ("_key", "e", "modulus_len", "n")

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        numbers = key.public_numbers()
        if key.key_size < MIN_MODULUS_BITS:
            raise AnonymityError(f"an RSA key for blind signatures needs at least {MIN_MODULUS_BITS} bits, "
                                 f"this one has {key.key_size}")
        self._key = key
        self.n: int = numbers.n
        self.e: int = numbers.e
        self.modulus_len: int = (key.key_size + 7) // 8

    @classmethod
    def from_spki(cls, der: bytes, variant: Variant = RSABSSA_SHA384_PSS_DETERMINISTIC) -> PublicKey:
        """The key in an RSASSA-PSS SubjectPublicKeyInfo (DER) whose parameters are exactly
        ``variant``'s (SHA-384, MGF1-SHA-384, its salt length), as :meth:`spki` writes it;
        :class:`AnonymityError` for anything else (another algorithm, other parameters, an
        rsaEncryption key)."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise AnonymityError("not a DER SubjectPublicKeyInfo of an RSA key") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise AnonymityError("not a DER SubjectPublicKeyInfo of an RSA key")
        public = cls(key)
        if not hmac.compare_digest(public.spki(variant), der):
            raise AnonymityError(f"the key is not published as an RSASSA-PSS key with the parameters of {variant.name}")
        return public

    def spki(self, variant: Variant = RSABSSA_SHA384_PSS_DETERMINISTIC) -> bytes:
        """The DER SubjectPublicKeyInfo with the id-RSASSA-PSS algorithm and ``variant``'s
        RSASSA-PSS-params (hashAlgorithm, maskGenAlgorithm and saltLength all present), as
        RFC 9474 section 6 and RFC 9578 section 6.5 require."""
        rsa_public_key = self._key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        return _der(0x30, _pss_algorithm_identifier(variant.salt_len) + _der(0x03, b"\x00" + rsa_public_key))

    def to_cryptography(self) -> rsa.RSAPublicKey:
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and (self.n, self.e) == (other.n, other.e)

    def __hash__(self) -> int:
        return hash((self.n, self.e))

    def __repr__(self) -> str:
        return f"PublicKey(bits={self._key.key_size})"


class PrivateKey:
    """An RSA private key for BlindSign. Its repr shows the size only."""

    __slots__ = ("_dp", "_dq", "_key", "_p", "_q", "_qinv", "public_key")

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.public_key = PublicKey(key.public_key())
        numbers = key.private_numbers()
        self._key = key
        self._p, self._q = numbers.p, numbers.q
        self._dp, self._dq, self._qinv = numbers.dmp1, numbers.dmq1, numbers.iqmp

    @classmethod
    def generate(cls, bits: int = 2048) -> PrivateKey:
        """A new key of ``bits`` bits with e = 65537."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> PrivateKey:
        """The RSA key in PEM (PKCS#8 or PKCS#1); :class:`AnonymityError` otherwise."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise AnonymityError("not a PEM RSA private key (or the wrong password)") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise AnonymityError("not a PEM RSA private key")
        return cls(key)

    @classmethod
    def from_primes(cls, p: int, q: int, e: int) -> PrivateKey:
        """The key with primes ``p``, ``q`` and public exponent ``e`` (as RFC 9474's test vectors
        give it)."""
        d = pow(e, -1, (p - 1) * (q - 1) // math.gcd(p - 1, q - 1))
        numbers = rsa.RSAPrivateNumbers(
            p=p, q=q, d=d, dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q),
            iqmp=rsa.rsa_crt_iqmp(p, q), public_numbers=rsa.RSAPublicNumbers(e=e, n=p * q))
        return cls(numbers.private_key())

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def _rsasp1(self, m: int) -> int:
        """RSASP1 (RFC 8017 section 5.2.1) by CRT, with the base blinded by r^e and each CRT
        exponent blinded by a random multiple of its group order."""
        n, e, p, q = self.public_key.n, self.public_key.e, self._p, self._q
        r = _random_blind(n)
        c = (m * pow(r, e, n)) % n
        dp = self._dp + secrets.randbits(_EXPONENT_BLIND_BITS) * (p - 1)
        dq = self._dq + secrets.randbits(_EXPONENT_BLIND_BITS) * (q - 1)
        sp, sq = pow(c % p, dp, p), pow(c % q, dq, q)
        h = (self._qinv * (sp - sq)) % p
        return ((sq + h * q) * pow(r, -1, n)) % n

    def __repr__(self) -> str:
        return f"PrivateKey(bits={self._key.key_size})"


# -- EMSA-PSS (RFC 8017 section 9.1.1, MGF1 section B.2.1) -----------------------------------------

def _mgf1(seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def _emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    em_len = (em_bits + 7) // 8
    if em_len < HASH_LEN + len(salt) + 2:
        raise BlindingError("the key is too small for this encoding")
    m_hash = hashlib.sha384(msg).digest()
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - HASH_LEN - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1(h, em_len - HASH_LEN - 1), strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


# -- the protocol (RFC 9474 section 4) -------------------------------------------------------------

@dataclass(frozen=True)
class Blinded:
    """What Blind returns: ``blinded_msg`` goes to the signer, ``inv`` (the inverse of the blind,
    secret) stays with the client for :func:`finalize`. The repr hides ``inv``."""

    blinded_msg: bytes
    inv: int = field(repr=False)


def _prepare_with(msg: bytes, variant: Variant, prefix: bytes) -> bytes:
    return prefix + msg if variant.randomized else msg


def prepare(msg: bytes, variant: Variant) -> bytes:
    """Prepare (section 4.1): ``msg`` itself (PrepareIdentity) or 32 random bytes then ``msg``
    (PrepareRandomize), as ``variant`` says."""
    return _prepare_with(msg, variant, secrets.token_bytes(PREFIX_LEN) if variant.randomized else b"")


def message_of(input_msg: bytes, variant: Variant) -> bytes:
    """The application message of a prepared message (section 4.5): without the 32-byte prefix
    of a randomized variant."""
    if variant.randomized:
        if len(input_msg) < PREFIX_LEN:
            raise UnexpectedInputSize(f"a prepared message of {variant.name} is at least {PREFIX_LEN} bytes")
        return input_msg[PREFIX_LEN:]
    return input_msg


def _random_blind(n: int) -> int:
    """A uniformly random r in [1, n) with an inverse modulo n (rejection sampling)."""
    while True:
        r = secrets.randbelow(n - 1) + 1
        if math.gcd(r, n) == 1:
            return r


def _blind_with(public: PublicKey, input_msg: bytes, variant: Variant, salt: bytes, r: int) -> Blinded:
    n = public.n
    m = _os2ip(_emsa_pss_encode(input_msg, n.bit_length() - 1, salt))
    if math.gcd(m, n) != 1:
        raise BlindingError("the encoded message is not coprime with the key's modulus")
    try:
        inv = pow(r, -1, n)
    except ValueError:
        raise BlindingError("the blind has no inverse modulo the key's modulus") from None
    z = (m * pow(r, public.e, n)) % n
    return Blinded(_i2osp(z, public.modulus_len), inv)


def blind(public: PublicKey, input_msg: bytes, variant: Variant) -> Blinded:
    """Blind (section 4.2): EMSA-PSS-encode ``input_msg`` with a fresh random salt, then multiply
    by r^e for a uniformly random r in [1, n). Retries the negligible "blinding error" (an r with
    no inverse) itself; :class:`BlindingError` if the message is not coprime with n (a bad key)."""
    return _blind_with(public, input_msg, variant, secrets.token_bytes(variant.salt_len), _random_blind(public.n))


def blind_sign(private: PrivateKey, blinded_msg: bytes) -> bytes:
    """BlindSign (section 4.3): s = RSASP1(sk, m), checked by RSAVP1 before it is returned
    (:class:`SigningFailure` if s^e != m). :class:`UnexpectedInputSize` for a message not of the
    modulus' length, :class:`AnonymityError` for one not below the modulus."""
    public = private.public_key
    if len(blinded_msg) != public.modulus_len:
        raise UnexpectedInputSize(f"a blinded message is {public.modulus_len} bytes, not {len(blinded_msg)}")
    m = _os2ip(blinded_msg)
    if m >= public.n:
        raise AnonymityError("the blinded message is not below the key's modulus")
    s = private._rsasp1(m)
    if not hmac.compare_digest(_i2osp(pow(s, public.e, public.n), public.modulus_len), blinded_msg):
        raise SigningFailure("the blind signature failed its check and was not returned")
    return _i2osp(s, public.modulus_len)


def verify(public: PublicKey, input_msg: bytes, sig: bytes, variant: Variant) -> None:
    """RSASSA-PSS-VERIFY (RFC 8017 section 8.1.2) of ``sig`` over the prepared message with
    ``variant``'s parameters; :class:`InvalidSignature` if it does not verify."""
    if len(sig) != public.modulus_len:
        raise InvalidSignature(f"a signature under this key is {public.modulus_len} bytes, not {len(sig)}")
    try:
        public.to_cryptography().verify(sig, input_msg, variant.pss(), hashes.SHA384())
    except _CryptographyInvalidSignature:
        raise InvalidSignature("the signature does not verify under this key") from None


def finalize(public: PublicKey, input_msg: bytes, blind_sig: bytes, inv: int, variant: Variant) -> bytes:
    """Finalize (section 4.4): unblind ``blind_sig`` with ``inv`` and return the signature only
    if it verifies over ``input_msg`` (:class:`InvalidSignature` otherwise, e.g. a signer that
    used another key); :class:`UnexpectedInputSize` for a blind signature of the wrong length."""
    if len(blind_sig) != public.modulus_len:
        raise UnexpectedInputSize(f"a blind signature is {public.modulus_len} bytes, not {len(blind_sig)}")
    z = _os2ip(blind_sig)
    if z >= public.n:
        raise InvalidSignature("the blind signature is not below the key's modulus")
    sig = _i2osp((z * inv) % public.n, public.modulus_len)
    verify(public, input_msg, sig, variant)
    return sig
