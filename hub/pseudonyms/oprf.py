"""Oblivious pseudonyms: RFC 9497 OPRF, VOPRF and POPRF with the ristretto255-SHA512 suite.

With the partially oblivious mode (POPRF, RFC 9497 section 3.3.3) a provider learns the hub's
pseudonym of a personal value without the hub ever seeing the value:

1. the provider normalises the value (:func:`pseudonym_input`) and blinds it (:func:`blind`):
   the blinded element is a random-looking ristretto255 element;
2. the hub evaluates the blinded elements of one kind with its secret key under the public input
   ``info`` (:func:`pseudonym_info`: kind and key version, ``abusehub:email:k2``), and proves
   with one batched DLEQ proof that it used the key it publishes (:class:`PoprfServer`);
3. the provider checks the proof (:func:`verify_batch`), unblinds (:func:`finalize`) and writes
   the 64-byte output as ``poprf-r255:<key version>:<128 hex digits>`` (:func:`format_pseudonym`).

Because ``info`` is bound into the key (t = sk + HashToScalar(info)), one kind's pseudonym can
never be confused with another kind's, nor one key version's with another's. Two providers with
the same value get the same pseudonym (the function is deterministic); nobody without the hub's
key can test a guess, and the hub learns nothing about the values it evaluates.

:class:`PseudonymBatch` is the provider's side of one request, :class:`PoprfKeyring` the hub's
keys by version. The RFC's three modes are all here (:class:`OprfServer`, :class:`VoprfServer`,
:class:`PoprfServer`, and the client functions with ``mode=``) so that every test vector of the
suite (RFC 9497 Appendix A.1) can be checked; the hub uses POPRF.

Group and scalar arithmetic is libsodium's ristretto255 (RFC 9496), through ``rbcl``, which
ships its own libsodium; hashing to the group and to scalars is RFC 9380's
``expand_message_xmd`` with SHA-512 followed by RFC 9496's one-way map (libsodium's
``crypto_core_ristretto255_from_hash``) or a reduction modulo the group order. Operations on
secret scalars (the key, the tweak, blinds, the proof nonce) go through libsodium's
constant-time functions. No key, blind or input appears in a message or a repr.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import Any, ClassVar, Self

import rbcl

from hub.common.errors import HubError, InvalidValue
from hub.pseudonyms.kinds import PSEUDONYM_KINDS
from hub.pseudonyms.normalise import normalise

__all__ = [
    "ELEMENT_BYTES",
    "MAX_BATCH_SIZE",
    "OUTPUT_BYTES",
    "POPRF_PSEUDONYM_RE",
    "PROOF_BYTES",
    "PSEUDONYM_PREFIX",
    "SCALAR_BYTES",
    "SUITE",
    "InvalidElement",
    "InvalidOprfInput",
    "InverseError",
    "Mode",
    "OprfServer",
    "PoprfKeyring",
    "PoprfServer",
    "PseudonymBatch",
    "VerifyError",
    "VoprfServer",
    "blind",
    "context_string",
    "derive_key_pair",
    "derive_secret_key",
    "expand_message_xmd",
    "finalize",
    "finalize_batch",
    "format_pseudonym",
    "generate_key_pair",
    "hash_to_group",
    "hash_to_scalar",
    "pseudonym_info",
    "pseudonym_input",
    "tweaked_key",
    "verify_batch",
]


def _forget_rbcl_library_file() -> None:
    # rbcl writes its bundled libsodium into a new temporary file each time it is imported and
    # never removes it (rbcl/_sodium.py). Once loaded the file is not needed any more; left
    # alone, every process that imports this module (each CLI run, each server worker) would
    # leave about 3 MB behind in the temporary directory. Where a loaded library cannot be
    # removed (Windows), it stays. rbcl also keeps the library's bytes as a module global
    # (``sodium_bs``, some 3 MB) that nothing reads once the library is loaded: dropped, so that
    # no process (the server's master and each of its workers) holds them.
    module = sys.modules.get("rbcl._sodium")
    path = getattr(module, "lib_path", None)
    if isinstance(path, str) and os.path.dirname(os.path.abspath(path)) == os.path.abspath(tempfile.gettempdir()):
        with contextlib.suppress(OSError):
            os.unlink(path)
    if module is not None:
        vars(module).pop("sodium_bs", None)


_forget_rbcl_library_file()

# --- The suite: RFC 9497 section 4.1, OPRF(ristretto255, SHA-512) -----------------------------

SUITE = "ristretto255-SHA512"
#: Ne, Ns, the size of a proof (two scalars) and Nh (SHA-512).
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
PROOF_BYTES = 2 * SCALAR_BYTES
OUTPUT_BYTES = 64
#: The most blinded elements one evaluation takes (and ``POST pseudonyms/evaluate`` all groups
#: together): bounded so that one batch is about 0.4 s of one core and under 100 KB each way.
MAX_BATCH_SIZE = 2000

# RFC 9496 section 4.1: the order of ristretto255 (Order() in RFC 9497 section 4.1).
_ORDER = 2**252 + 27742317777372353535851937790883648493
# RFC 9496 section 4.3.1: the identity's only encoding is all zeros (decoding is canonical).
_IDENTITY = bytes(ELEMENT_BYTES)
# RFC 9497 section 5.1: PrivateInput and PublicInput values MUST be shorter than 2^16 - 1 bytes.
_MAX_INPUT_BYTES = 2**16 - 2


class Mode(IntEnum):
    """The protocol variants of RFC 9497 section 3.1."""

    OPRF = 0x00
    VOPRF = 0x01
    POPRF = 0x02


def context_string(mode: Mode) -> bytes:
    """``"OPRFV1-" || I2OSP(mode, 1) || "-" || identifier`` (RFC 9497 section 3.1)."""
    return b"OPRFV1-" + bytes([Mode(mode)]) + b"-" + SUITE.encode("ascii")


class _Context:
    """The domain separation tags of one mode, built once (RFC 9497 sections 2.2.1, 3.2.1, 4.1)."""

    __slots__ = ("mode", "hash_to_group_dst", "hash_to_scalar_dst", "derive_key_pair_dst", "seed_dst")

    def __init__(self, mode: Mode) -> None:
        context = context_string(mode)
        self.mode = mode
        self.hash_to_group_dst = b"HashToGroup-" + context
        self.hash_to_scalar_dst = b"HashToScalar-" + context
        self.derive_key_pair_dst = b"DeriveKeyPair" + context
        self.seed_dst = b"Seed-" + context


_CONTEXTS = {mode: _Context(mode) for mode in Mode}


# --- Errors ------------------------------------------------------------------------------------


class InvalidElement(InvalidValue):
    """A received group element is not the canonical encoding of a ristretto255 element, or is
    the identity (RFC 9497 sections 3.3 and 4.1: DeserializeError, InputValidationError)."""


class InvalidOprfInput(InvalidValue):
    """An input, a public ``info``, a scalar or a batch breaks a rule of RFC 9497 or of the hub
    (too long, empty batch, unknown kind, an input that maps to the identity)."""


class InverseError(InvalidValue):
    """The tweaked key ``sk + HashToScalar(info)`` is zero (RFC 9497 section 3.3.3). Only
    someone who knows the secret key can choose such an ``info``: the key should be replaced."""


class VerifyError(HubError):
    """The evaluation the hub returned could not be verified: its DLEQ proof does not hold for
    the published key, or an element in it is not a valid encoding (RFC 9497 VerifyError)."""

    http_status = 502
    title = "Unverifiable pseudonym evaluation"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the hub's answer could not be verified: {reason}")
        self.reason = reason


# --- Encodings ---------------------------------------------------------------------------------


def _i2osp2(n: int) -> bytes:
    return n.to_bytes(2, "big")


def _as_bytes(value: object, what: str, error: type[InvalidValue]) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise error(f"{what} must be bytes, got {type(value).__name__}")


def _deserialize_element(value: object, what: str) -> bytes:
    """RFC 9497 section 4.1 DeserializeElement: canonical ristretto255 decoding, not identity."""
    buf = _as_bytes(value, what, InvalidElement)
    if len(buf) != ELEMENT_BYTES:
        raise InvalidElement(f"{what} must be {ELEMENT_BYTES} bytes, got {len(buf)}")
    if buf == _IDENTITY:
        raise InvalidElement(f"{what} is the identity element")
    if not rbcl.crypto_core_ristretto255_is_valid_point(buf):
        raise InvalidElement(f"{what} is not a valid ristretto255 encoding")
    return buf


def _deserialize_scalar(value: object, what: str, *, nonzero: bool = True) -> bytes:
    """RFC 9497 section 4.1 DeserializeScalar: 32 bytes little-endian, below the group order."""
    buf = _as_bytes(value, what, InvalidOprfInput)
    if len(buf) != SCALAR_BYTES:
        raise InvalidOprfInput(f"{what} must be {SCALAR_BYTES} bytes, got {len(buf)}")
    n = int.from_bytes(buf, "little")
    if n >= _ORDER:
        raise InvalidOprfInput(f"{what} is not a canonical scalar (not below the group order)")
    if nonzero and n == 0:
        raise InvalidOprfInput(f"{what} is zero")
    return buf


def _check_length(value: bytes, what: str) -> None:
    if len(value) > _MAX_INPUT_BYTES:
        raise InvalidOprfInput(f"{what} is {len(value)} bytes; RFC 9497 allows at most {_MAX_INPUT_BYTES}")


# --- Hashing: RFC 9380 expand_message_xmd with SHA-512, hash_to_ristretto255, HashToScalar ------

_SHA512_BLOCK = 128
_SHA512_ZPAD = hashlib.sha512(bytes(_SHA512_BLOCK))  # Z_pad, hashed once and copied per call


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 section 5.3.1 ``expand_message_xmd`` with H = SHA-512 (b = 64, s = 128 bytes)."""
    if len(dst) > 255:
        raise ValueError("a domain separation tag is at most 255 bytes (RFC 9380 section 5.3.3)")
    ell = -(-length // 64)
    if length < 1 or ell > 255 or length > 65535:
        raise ValueError("expand_message_xmd with SHA-512 gives 1 to 16320 bytes")
    dst_prime = dst + bytes([len(dst)])
    h = _SHA512_ZPAD.copy()
    h.update(msg + _i2osp2(length) + b"\x00" + dst_prime)
    b0 = h.digest()
    b = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    blocks = [b]
    for i in range(2, ell + 1):
        b = hashlib.sha512(bytes(x ^ y for x, y in zip(b0, b, strict=True)) + bytes([i]) + dst_prime).digest()
        blocks.append(b)
    return b"".join(blocks)[:length]


def hash_to_scalar(msg: bytes, mode: Mode, dst: bytes | None = None) -> bytes:
    """RFC 9497 section 4.1 HashToScalar: 64 uniform bytes read little-endian, reduced mod the
    order; the DST is ``"HashToScalar-" || contextString`` unless one is given."""
    ctx = _CONTEXTS[mode]
    uniform = expand_message_xmd(msg, ctx.hash_to_scalar_dst if dst is None else dst, 64)
    return bytes(rbcl.crypto_core_ristretto255_scalar_reduce(uniform))


def hash_to_group(msg: bytes, mode: Mode) -> bytes:
    """RFC 9497 section 4.1 HashToGroup: RFC 9380 hash_to_ristretto255 (64 bytes of
    expand_message_xmd, then RFC 9496 section 4.3.4's one-way map) with DST
    ``"HashToGroup-" || contextString``."""
    uniform = expand_message_xmd(msg, _CONTEXTS[mode].hash_to_group_dst, 64)
    return bytes(rbcl.crypto_core_ristretto255_from_hash(uniform))


# --- Group operations ----------------------------------------------------------------------------


def _random_scalar() -> bytes:
    # RFC 9497 section 4.7: uniform in [1, order - 1]; libsodium samples ]0, L[.
    return bytes(rbcl.crypto_core_ristretto255_scalar_random())


def _mult(scalar: bytes, element: bytes) -> bytes:
    # libsodium refuses a product that is the identity (zero scalar, or an identity point).
    return bytes(rbcl.crypto_scalarmult_ristretto255(scalar, element))


def _mult_gen(scalar: bytes) -> bytes:
    return bytes(rbcl.crypto_scalarmult_ristretto255_base(scalar))


def _add(a: bytes, b: bytes) -> bytes:
    return bytes(rbcl.crypto_core_ristretto255_add(a, b))


def _invert(scalar: bytes) -> bytes:
    return bytes(rbcl.crypto_core_ristretto255_scalar_invert(scalar))


# --- Keys: RFC 9497 section 3.2 -----------------------------------------------------------------


def generate_key_pair() -> tuple[bytes, bytes]:
    """GenerateKeyPair (RFC 9497 section 3.2): a random secret scalar and its public element."""
    sk = _random_scalar()
    return sk, _mult_gen(sk)


def derive_key_pair(seed: bytes, info: bytes, mode: Mode = Mode.POPRF) -> tuple[bytes, bytes]:
    """DeriveKeyPair (RFC 9497 section 3.2.1): the key pair of a 32-byte secret seed and a public
    ``info``, for one mode (the mode is part of the DST, so each mode derives another key)."""
    seed = _as_bytes(seed, "the key seed", InvalidOprfInput)
    if len(seed) != SCALAR_BYTES:
        raise InvalidOprfInput(f"the key seed must be {SCALAR_BYTES} bytes, got {len(seed)}")
    _check_length(info, "the key info")
    derive_input = seed + _i2osp2(len(info)) + info
    dst = _CONTEXTS[mode].derive_key_pair_dst
    for counter in range(256):
        sk = hash_to_scalar(derive_input + bytes([counter]), mode, dst=dst)
        if sk != bytes(SCALAR_BYTES):
            return sk, _mult_gen(sk)
    raise InvalidOprfInput("DeriveKeyPair found no non-zero key in 256 tries")  # pragma: no cover


# --- DLEQ proofs: RFC 9497 section 2.2 ---------------------------------------------------------


def _composite_seed(ctx: _Context, b: bytes) -> bytes:
    return hashlib.sha512(_i2osp2(len(b)) + b + _i2osp2(len(ctx.seed_dst)) + ctx.seed_dst).digest()


def _composite_weight(ctx: _Context, seed: bytes, i: int, ci: bytes, di: bytes) -> bytes:
    transcript = (
        _i2osp2(len(seed)) + seed + _i2osp2(i)
        + _i2osp2(len(ci)) + ci
        + _i2osp2(len(di)) + di
        + b"Composite"
    )
    return hash_to_scalar(transcript, ctx.mode)


def _compute_composites_fast(ctx: _Context, k: bytes, b: bytes, c: Sequence[bytes], d: Sequence[bytes]) -> tuple[bytes, bytes]:
    """ComputeCompositesFast (section 2.2.1): the server knows k, so Z = k * M."""
    seed = _composite_seed(ctx, b)
    m = b""
    for i, (ci, di) in enumerate(zip(c, d, strict=True)):
        term = _mult(_composite_weight(ctx, seed, i, ci, di), ci)
        m = _add(m, term) if m else term
    return m, _mult(k, m)


def _compute_composites(ctx: _Context, b: bytes, c: Sequence[bytes], d: Sequence[bytes]) -> tuple[bytes, bytes]:
    """ComputeComposites (section 2.2.2): the client's M and Z, from public values only."""
    seed = _composite_seed(ctx, b)
    m = z = b""
    for i, (ci, di) in enumerate(zip(c, d, strict=True)):
        weight = _composite_weight(ctx, seed, i, ci, di)
        m_term, z_term = _mult(weight, ci), _mult(weight, di)
        m = _add(m, m_term) if m else m_term
        z = _add(z, z_term) if z else z_term
    return m, z


def _challenge_transcript(b: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes) -> bytes:
    return b"".join(_i2osp2(len(x)) + x for x in (b, m, z, t2, t3)) + b"Challenge"


def _generate_proof(ctx: _Context, k: bytes, b: bytes, c: Sequence[bytes], d: Sequence[bytes],
                    r: bytes | None) -> bytes:
    """GenerateProof (section 2.2.1) with A = the generator: proves k*G == B and k*C[i] == D[i]."""
    m, z = _compute_composites_fast(ctx, k, b, c, d)
    if r is None:
        r = _random_scalar()
    t2 = _mult_gen(r)
    t3 = _mult(r, m)
    challenge = hash_to_scalar(_challenge_transcript(b, m, z, t2, t3), ctx.mode)
    s = rbcl.crypto_core_ristretto255_scalar_sub(r, rbcl.crypto_core_ristretto255_scalar_mul(challenge, k))
    return challenge + bytes(s)


def _verify_proof(ctx: _Context, b: bytes, c: Sequence[bytes], d: Sequence[bytes], proof: bytes) -> bool:
    """VerifyProof (section 2.2.2) with A = the generator."""
    try:
        challenge = _deserialize_scalar(proof[:SCALAR_BYTES], "the proof's challenge", nonzero=False)
        response = _deserialize_scalar(proof[SCALAR_BYTES:], "the proof's response", nonzero=False)
        m, z = _compute_composites(ctx, b, c, d)
        # A zero scalar or an identity product makes libsodium refuse (RuntimeError): an honest
        # proof meets one with negligible probability, so it counts as a failed proof.
        t2 = _add(_mult_gen(response), _mult(challenge, b))
        t3 = _add(_mult(response, m), _mult(challenge, z))
    except (InvalidOprfInput, RuntimeError):
        return False
    expected = hash_to_scalar(_challenge_transcript(b, m, z, t2, t3), ctx.mode)
    return hmac.compare_digest(expected, challenge)


# --- Servers: RFC 9497 sections 3.3.1 to 3.3.3 --------------------------------------------------


def _check_batch(blinded: Sequence[bytes]) -> list[bytes]:
    if isinstance(blinded, (bytes, bytearray, str)) or not isinstance(blinded, Sequence):
        raise InvalidOprfInput("the blinded elements must be a list")
    if not blinded:
        raise InvalidOprfInput("no blinded element to evaluate")
    if len(blinded) > MAX_BATCH_SIZE:
        raise InvalidOprfInput(f"at most {MAX_BATCH_SIZE} blinded elements per evaluation, got {len(blinded)}")
    return [_deserialize_element(e, f"blinded element {i}") for i, e in enumerate(blinded)]


def _finalize_hash(value: bytes, info: bytes | None, element: bytes) -> bytes:
    # RFC 9497 sections 3.3.1 and 3.3.3, Finalize and Evaluate: info only in POPRF.
    parts = [_i2osp2(len(value)), value]
    if info is not None:
        parts += [_i2osp2(len(info)), info]
    parts += [_i2osp2(len(element)), element, b"Finalize"]
    return hashlib.sha512(b"".join(parts)).digest()


def _input_element(value: bytes, mode: Mode) -> bytes:
    value = _as_bytes(value, "the input", InvalidOprfInput)
    _check_length(value, "the input")
    element = hash_to_group(value, mode)
    if element == _IDENTITY:  # pragma: no cover - negligible probability (RFC 9497 InvalidInputError)
        raise InvalidOprfInput("the input maps to the identity element")
    return element


def _framed_info(info: bytes) -> bytes:
    info = _as_bytes(info, "the public info", InvalidOprfInput)
    _check_length(info, "the public info")
    # RFC 9497 section 3.3.3: framedInfo = "Info" || I2OSP(len(info), 2) || info.
    return b"Info" + _i2osp2(len(info)) + info


class _Server:
    """A secret key of one mode; never shown, never pickled."""

    __slots__ = ("_sk", "_pk")
    mode: ClassVar[Mode]

    def __init__(self, secret_key: bytes) -> None:
        self._sk = _deserialize_scalar(secret_key, "the secret key")
        self._pk = _mult_gen(self._sk)

    @classmethod
    def generate(cls) -> Self:
        """A server with a new random key (GenerateKeyPair)."""
        return cls(generate_key_pair()[0])

    @classmethod
    def from_seed(cls, seed: bytes, key_info: bytes) -> Self:
        """A server with the key DeriveKeyPair gives for a 32-byte secret seed in this mode."""
        return cls(derive_key_pair(seed, key_info, cls.mode)[0])

    @property
    def public_key(self) -> bytes:
        """The serialised public element ``pkS = sk * G`` (32 bytes)."""
        return self._pk

    def secret_key_bytes(self) -> bytes:
        """The serialised secret scalar, for storing the key; never log it."""
        return self._sk

    def __repr__(self) -> str:
        return f"{type(self).__name__}(public_key={self._pk.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        # Keys must not travel by accident (pickling into a cache, a task queue, a log).
        raise TypeError(f"a {type(self).__name__} cannot be pickled")


class OprfServer(_Server):
    """The server of the base mode (RFC 9497 section 3.3.1): no proof."""

    __slots__ = ()
    mode = Mode.OPRF

    def blind_evaluate(self, blinded: Sequence[bytes]) -> list[bytes]:
        """BlindEvaluate of each blinded element: ``sk * B``."""
        return [_mult(self._sk, b) for b in _check_batch(blinded)]

    def evaluate_unblinded(self, value: bytes) -> bytes:
        """Evaluate (section 3.3.1): the output for an input the server sees in clear."""
        return _finalize_hash(value, None, _mult(self._sk, _input_element(value, self.mode)))


class VoprfServer(_Server):
    """The server of the verifiable mode (RFC 9497 section 3.3.2)."""

    __slots__ = ()
    mode = Mode.VOPRF

    def evaluate_batch(self, blinded: Sequence[bytes], *,
                       unsafe_proof_randomness: bytes | None = None) -> tuple[list[bytes], bytes]:
        """BlindEvaluate of a batch with one DLEQ proof that ``evaluated[i] == sk * blinded[i]``
        for the key of :attr:`public_key`.

        ``unsafe_proof_randomness`` fixes the proof's nonce r, for test vectors only: two proofs
        made with the same r under the same key reveal the key.
        """
        elements = _check_batch(blinded)
        evaluated = [_mult(self._sk, b) for b in elements]
        r = None if unsafe_proof_randomness is None else _deserialize_scalar(
            unsafe_proof_randomness, "the proof randomness")
        proof = _generate_proof(_CONTEXTS[self.mode], self._sk, self._pk, elements, evaluated, r)
        return evaluated, proof

    def evaluate_unblinded(self, value: bytes) -> bytes:
        """Evaluate (section 3.3.2 refers to 3.3.1): the output for an input seen in clear."""
        return _finalize_hash(value, None, _mult(self._sk, _input_element(value, self.mode)))


class PoprfServer(_Server):
    """The server of the partially oblivious mode (RFC 9497 section 3.3.3), the hub's.

    Each call evaluates a batch of blinded elements under one public ``info`` (one kind and key
    version, :func:`pseudonym_info`) with one batched DLEQ proof for the tweaked key
    ``(sk + HashToScalar(framedInfo)) * G``, which the client recomputes from :attr:`public_key`
    and ``info``. Elements under different ``info`` have different tweaked keys, so they need
    one call (and one proof) per ``info``.
    """

    __slots__ = ()
    mode = Mode.POPRF

    def _tweak(self, info: bytes) -> bytes:
        m = hash_to_scalar(_framed_info(info), self.mode)
        t = bytes(rbcl.crypto_core_ristretto255_scalar_add(self._sk, m))
        if t == bytes(SCALAR_BYTES):
            raise InverseError("this public info cannot be evaluated under this key")
        return t

    def evaluate_batch(self, blinded: Sequence[bytes], info: bytes, *,
                       unsafe_proof_randomness: bytes | None = None) -> tuple[list[bytes], bytes]:
        """BlindEvaluate of a batch under ``info``: ``evaluated[i] = (sk + m)^-1 * blinded[i]``,
        with ``m = HashToScalar("Info" || I2OSP(len(info), 2) || info)``, and one 64-byte proof.

        Raises :class:`InvalidElement` naming the first blinded element that is not a valid
        ristretto255 encoding or is the identity, :class:`InvalidOprfInput` for an empty or too
        large batch. ``unsafe_proof_randomness`` fixes the proof's nonce r, for test vectors only:
        two proofs made with the same r under the same key reveal the key.
        """
        elements = _check_batch(blinded)
        t = self._tweak(info)
        t_inverse = _invert(t)
        evaluated = [_mult(t_inverse, b) for b in elements]
        r = None if unsafe_proof_randomness is None else _deserialize_scalar(
            unsafe_proof_randomness, "the proof randomness")
        # GenerateProof(t, G, tweakedKey, evaluatedElements, blindedElements): t * Z[i] == B[i].
        proof = _generate_proof(_CONTEXTS[self.mode], t, _mult_gen(t), evaluated, elements, r)
        return evaluated, proof

    def evaluate_unblinded(self, value: bytes, info: bytes) -> bytes:
        """Evaluate (section 3.3.3): the output for an input the server sees in clear. The hub
        never does this with a personal value; it exists for tests and tools."""
        element = _input_element(value, self.mode)
        t = self._tweak(info)
        return _finalize_hash(value, info, _mult(_invert(t), element))


# --- Clients ---------------------------------------------------------------------------------


def blind(value: bytes, *, mode: Mode = Mode.POPRF, unsafe_blind: bytes | None = None) -> tuple[bytes, bytes]:
    """Blind (RFC 9497 sections 3.3.1 and 3.3.3): ``(blind, blindedElement)`` for an input.

    Keep ``blind`` (a secret scalar) locally; send ``blindedElement``. ``unsafe_blind`` fixes the
    blind, for test vectors only: a reused blind links the requests that carry it.
    """
    element = _input_element(value, mode)
    r = _random_scalar() if unsafe_blind is None else _deserialize_scalar(unsafe_blind, "the blind")
    return r, _mult(r, element)


def _answer_elements(evaluated: Sequence[bytes], count: int) -> list[bytes]:
    if isinstance(evaluated, (bytes, bytearray, str)) or not isinstance(evaluated, Sequence):
        raise VerifyError("the evaluated elements are not a list")
    if len(evaluated) != count:
        raise VerifyError(f"{len(evaluated)} evaluated elements for {count} blinded elements")
    try:
        return [_deserialize_element(e, f"evaluated element {i}") for i, e in enumerate(evaluated)]
    except InvalidElement as exc:
        raise VerifyError(exc.description) from None


def tweaked_key(public_key: bytes, info: bytes) -> bytes:
    """The POPRF tweaked key ``HashToScalar(framedInfo) * G + pkS`` (RFC 9497 section 3.3.3)."""
    try:
        pk = _deserialize_element(public_key, "the public key")
    except InvalidElement as exc:
        raise VerifyError(exc.description) from None
    key = _add(_mult_gen(hash_to_scalar(_framed_info(info), Mode.POPRF)), pk)
    if key == _IDENTITY:
        raise InvalidOprfInput("the public info cannot be used with this key (the tweaked key is the identity)")
    return key


def verify_batch(public_key: bytes, blinded: Sequence[bytes], evaluated: Sequence[bytes], proof: bytes,
                 info: bytes = b"", *, mode: Mode = Mode.POPRF) -> None:
    """Check the server's batched DLEQ proof for ``evaluated`` against ``blinded``.

    POPRF (default): the proof must hold for the tweaked key of ``public_key`` and ``info``;
    VOPRF: for ``public_key`` itself (``info`` is not used). Raises :class:`VerifyError`
    ("the hub's answer could not be verified: ...") when an evaluated element, the public key or
    the proof is malformed, or the proof does not verify.
    """
    if mode == Mode.OPRF:
        raise InvalidOprfInput("the base OPRF mode has no proof to verify")
    elements = [_deserialize_element(b, f"blinded element {i}") for i, b in enumerate(blinded)]
    if not elements:
        raise InvalidOprfInput("no blinded element to verify")
    answers = _answer_elements(evaluated, len(elements))
    if not isinstance(proof, (bytes, bytearray, memoryview)) or len(proof) != PROOF_BYTES:
        raise VerifyError(f"the proof must be {PROOF_BYTES} bytes")
    ctx = _CONTEXTS[mode]
    if mode == Mode.POPRF:
        ok = _verify_proof(ctx, tweaked_key(public_key, info), answers, elements, bytes(proof))
    else:
        try:
            pk = _deserialize_element(public_key, "the public key")
        except InvalidElement as exc:
            raise VerifyError(exc.description) from None
        ok = _verify_proof(ctx, pk, elements, answers, bytes(proof))
    if not ok:
        raise VerifyError("the proof does not hold for the published key")


def finalize(value: bytes, blind: bytes, evaluated: bytes, info: bytes = b"", *,
             mode: Mode = Mode.POPRF) -> bytes:
    """Finalize (RFC 9497 sections 3.3.1 to 3.3.3) without the proof check: the 64-byte output.

    Call :func:`verify_batch` first in the verifiable modes (or use :func:`finalize_batch`).
    ``info`` is part of the output in POPRF only.
    """
    value = _as_bytes(value, "the input", InvalidOprfInput)
    _check_length(value, "the input")
    r = _deserialize_scalar(blind, "the blind")
    try:
        element = _deserialize_element(evaluated, "the evaluated element")
    except InvalidElement as exc:
        raise VerifyError(exc.description) from None
    unblinded = _mult(_invert(r), element)
    if mode == Mode.POPRF:
        _framed_info(info)  # the same checks as the server's
        return _finalize_hash(value, bytes(info), unblinded)
    return _finalize_hash(value, None, unblinded)


def finalize_batch(public_key: bytes, values: Sequence[bytes], blinds: Sequence[bytes],
                   blinded: Sequence[bytes], evaluated: Sequence[bytes], proof: bytes,
                   info: bytes = b"", *, mode: Mode = Mode.POPRF) -> list[bytes]:
    """:func:`verify_batch`, then :func:`finalize` of each value: the outputs, in order."""
    if not (len(values) == len(blinds) == len(blinded)):
        raise InvalidOprfInput("values, blinds and blinded elements must be as many")
    verify_batch(public_key, blinded, evaluated, proof, info, mode=mode)
    values = [_as_bytes(v, "the input", InvalidOprfInput) for v in values]
    for v in values:
        _check_length(v, "the input")
    inverses = _invert_all([_deserialize_scalar(r, "the blind") for r in blinds])
    # verify_batch checked every evaluated element's encoding.
    if mode == Mode.POPRF:
        _framed_info(info)  # the same checks as the server's
        framed: bytes | None = bytes(info)
    else:
        framed = None
    return [_finalize_hash(v, framed, _mult(r_inverse, bytes(e)))
            for v, r_inverse, e in zip(values, inverses, evaluated, strict=True)]


def _invert_all(scalars: Sequence[bytes]) -> list[bytes]:
    """The inverses of non-zero scalars with ONE inversion (Montgomery's trick): the prefix
    products, the inverse of the last, then each inverse from the end, 3 (n - 1) scalar
    multiplications in all (libsodium's, constant-time, as the inversion). A batch's blinds are
    inverted so at about a third of the cost of an inversion each."""
    if not scalars:
        return []
    mul = rbcl.crypto_core_ristretto255_scalar_mul
    prefix = [scalars[0]]
    for s in scalars[1:]:
        prefix.append(bytes(mul(prefix[-1], s)))
    inverse = _invert(prefix[-1])
    out = [b""] * len(scalars)
    for i in range(len(scalars) - 1, 0, -1):
        out[i] = bytes(mul(inverse, prefix[i - 1]))
        inverse = bytes(mul(inverse, scalars[i]))
    out[0] = inverse
    return out


# --- Pseudonyms: how the hub uses POPRF -----------------------------------------------------

#: The scheme of an oblivious pseudonym.
PSEUDONYM_PREFIX = "poprf-r255"
_VERSION_PATTERN = r"[A-Za-z0-9_.-]{1,32}"
_VERSION_RE = re.compile(rf"^{_VERSION_PATTERN}$")
#: ``poprf-r255:<key version>:<128 lower-case hex digits>``, the hex of the 64-byte RFC 9497
#: output, so that any RFC 9497 implementation of the suite gives the same text.
POPRF_PSEUDONYM_RE = re.compile(rf"^{PSEUDONYM_PREFIX}:{_VERSION_PATTERN}:[0-9a-f]{{{2 * OUTPUT_BYTES}}}\Z")


def _check_version(key_version: str) -> str:
    if not isinstance(key_version, str) or not _VERSION_RE.match(key_version):
        raise InvalidOprfInput("a pseudonym key version is 1-32 characters of letters, digits, '_', '.', '-'")
    return key_version


def pseudonym_info(kind: str, key_version: str) -> bytes:
    """The POPRF public input of a kind under a key version: ``abusehub:<kind>:<version>``.

    Kinds come from :data:`PSEUDONYM_KINDS` and versions have no ``:``, so the text parses one way
    only: no two (kind, version) pairs share an ``info`` (RFC 9497 section 5.4 asks for such a
    prefix-free, domain-separated public input).
    """
    if kind not in PSEUDONYM_KINDS:
        raise InvalidOprfInput(f"unknown pseudonym kind {kind!r}; expected one of {', '.join(PSEUDONYM_KINDS)}")
    return f"abusehub:{kind}:{_check_version(key_version)}".encode("ascii")


def pseudonym_input(kind: str, value: str, *, default_region: str | None = None) -> bytes:
    """The POPRF private input of a personal value: its normalised form (:func:`normalise`) in
    UTF-8. Raises :class:`~hub.pseudonyms.normalise.InvalidPersonalValue`, never naming the value."""
    return normalise(kind, value, default_region=default_region).encode("utf-8")


def format_pseudonym(key_version: str, output: bytes) -> str:
    """``poprf-r255:<key version>:<hex of the 64-byte output>``."""
    if len(output) != OUTPUT_BYTES:
        raise InvalidOprfInput(f"a POPRF output is {OUTPUT_BYTES} bytes, got {len(output)}")
    return f"{PSEUDONYM_PREFIX}:{_check_version(key_version)}:{bytes(output).hex()}"


def derive_secret_key(seed: bytes, key_version: str) -> bytes:
    """The hub's POPRF secret key of a key version: DeriveKeyPair(seed, ``abusehub:poprf-key:<version>``)
    of a 32-byte random seed, so that a stored seed always gives the same key."""
    info = f"abusehub:poprf-key:{_check_version(key_version)}".encode("ascii")
    return derive_key_pair(seed, info, Mode.POPRF)[0]


class PoprfKeyring:
    """The hub's POPRF keys by version, and the version new pseudonyms are made with.

    Built from one 32-byte secret seed per version (:func:`derive_secret_key`).
    :meth:`public_keys` is what ``GET pseudonyms/key`` publishes; :meth:`server` evaluates.
    The repr never shows key material and the keyring cannot be pickled.
    """

    __slots__ = ("_servers", "_current")

    def __init__(self, seeds: Mapping[str, bytes], current: str) -> None:
        if not seeds:
            raise InvalidOprfInput("a POPRF keyring needs at least one key")
        servers: dict[str, PoprfServer] = {}
        for version, seed in seeds.items():
            try:
                servers[_check_version(version)] = PoprfServer(derive_secret_key(seed, version))
            except InvalidOprfInput as exc:
                raise InvalidOprfInput(f"POPRF key {version!r}: {exc.description}") from None
        if current not in servers:
            raise InvalidOprfInput(f"current POPRF key version {current!r} is not in the keyring")
        self._servers = servers
        self._current = current

    @classmethod
    def from_secrets(cls, secrets_by_version: Mapping[str, str | bytes], current: str | None = None) -> PoprfKeyring:
        """A keyring from configuration: each seed is 32 bytes or 64 hex digits. ``current`` may
        be left out when there is one version. Errors name the version, never the seed."""
        seeds: dict[str, bytes] = {}
        for version, secret in secrets_by_version.items():
            if isinstance(secret, str):
                try:
                    seeds[version] = bytes.fromhex(secret.strip())
                except ValueError:
                    raise InvalidOprfInput(f"POPRF key {version!r} is not a hex string") from None
            else:
                seeds[version] = secret
        if current is None:
            if len(seeds) != 1:
                raise InvalidOprfInput("name the current POPRF key version (several are configured)")
            current = next(iter(seeds))
        return cls(seeds, current)

    @staticmethod
    def generate_seed() -> bytes:
        """A new random 32-byte seed for a key version."""
        return os.urandom(SCALAR_BYTES)

    @property
    def current_version(self) -> str:
        """The key version new pseudonyms are made with."""
        return self._current

    @property
    def versions(self) -> tuple[str, ...]:
        """All key versions, current first."""
        return (self._current,) + tuple(sorted(v for v in self._servers if v != self._current))

    def server(self, version: str | None = None) -> PoprfServer:
        """The evaluator of a key version (the current one by default)."""
        try:
            return self._servers[self._current if version is None else version]
        except KeyError:
            raise InvalidOprfInput(f"unknown POPRF key version {version!r}") from None

    def public_keys(self) -> dict[str, bytes]:
        """Each key version's public key, current first."""
        return {v: self._servers[v].public_key for v in self.versions}

    def __repr__(self) -> str:
        return f"PoprfKeyring(versions={list(self.versions)!r}, current={self._current!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a PoprfKeyring cannot be pickled")


class PseudonymBatch:
    """A provider's side of one POPRF evaluation: values of one kind under one key version.

    Build it from raw values (normalised here), send :attr:`blinded` with :attr:`kind` and
    :attr:`key_version`, then :meth:`finish` with the hub's evaluated elements and proof and the
    version's published public key: it verifies the proof and returns the pseudonyms in the
    order of the values. The values and blinds stay inside; the repr shows neither.
    """

    __slots__ = ("kind", "key_version", "info", "blinded", "_inputs", "_blinds")

    def __init__(self, kind: str, key_version: str, values: Sequence[str], *,
                 default_region: str | None = None) -> None:
        self.info = pseudonym_info(kind, key_version)
        if isinstance(values, str) or not values:
            raise InvalidOprfInput("a pseudonym batch needs a list of at least one value")
        if len(values) > MAX_BATCH_SIZE:
            raise InvalidOprfInput(f"at most {MAX_BATCH_SIZE} values per evaluation, got {len(values)}")
        self.kind = kind
        self.key_version = key_version
        self._inputs = [pseudonym_input(kind, v, default_region=default_region) for v in values]
        pairs = [blind(x) for x in self._inputs]
        self._blinds = [r for r, _ in pairs]
        #: The blinded elements to send, in the order of the values.
        self.blinded: list[bytes] = [b for _, b in pairs]

    def finish(self, public_key: bytes, evaluated: Sequence[bytes], proof: bytes) -> list[str]:
        """Verify the hub's answer and return the pseudonyms; raises :class:`VerifyError`."""
        outputs = finalize_batch(public_key, self._inputs, self._blinds, self.blinded, evaluated, proof, self.info)
        return [format_pseudonym(self.key_version, o) for o in outputs]

    def __repr__(self) -> str:
        return f"PseudonymBatch(kind={self.kind!r}, key_version={self.key_version!r}, size={len(self.blinded)})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a PseudonymBatch cannot be pickled")
