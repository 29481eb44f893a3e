"""Published keys and the rules for trusting a signature made with one.

A :class:`KeySet` is built from the JWK set a hub publishes (each JWK carrying ``kid``,
``identity``, ``party``, ``not_before`` and, when set, ``not_after`` and ``revoked``). The
hub's ingest check and the offline ``abusehub verify`` command use the same rules:

- the key must be known, and belong to the signer;
- for a NEW submission, the key must not be revoked or expired now;
- for checking later, a key revoked AFTER the signature was made still vouches for it
  (what was accepted before revocation stays valid, marked as such);
- the signature must have been made inside the key's validity window, and verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.common.errors import InvalidValue
from hub.common.timestamps import format_timestamp_us as _ts
from hub.common.timestamps import parse_timestamp_us as _us
from hub.signing.errors import KeyFormatError, SignatureInvalid
from hub.signing.keys import VerifyKey
from hub.signing.signatures import SignatureEntry, verify_entry

_SKEW_US = 5 * 60 * 1_000_000  # a signature may claim a time this far ahead (clock skew)


@dataclass(frozen=True)
class PublishedKey:
    """A public key and what its publisher says about it."""

    key: VerifyKey
    identity: str
    party: str
    not_before_us: int
    not_after_us: int | None
    revoked_us: int | None


class KeySet:
    """Keys by key id, with the trust rules above."""

    def __init__(self, keys: dict[str, PublishedKey]) -> None:
        self.keys = keys

    @classmethod
    def from_jwks(cls, jwks: Any) -> KeySet:
        """Parse a published JWK set; :class:`KeyFormatError` names a bad entry."""
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise KeyFormatError('a JWK set must be a JSON object with a "keys" list')
        out: dict[str, PublishedKey] = {}
        for i, jwk in enumerate(jwks["keys"]):
            if not isinstance(jwk, dict):
                raise KeyFormatError(f"keys[{i}] is not a JSON object")
            meta = {k: jwk.get(k) for k in ("identity", "party", "not_before", "not_after", "revoked")}
            public = {k: v for k, v in jwk.items() if k not in meta}
            key = VerifyKey.from_jwk(public)
            if not isinstance(meta["identity"], str):
                raise KeyFormatError(f"keys[{i}] ({key.key_id}) does not say which identity it belongs to")
            try:
                nb = _us(meta["not_before"]) if meta["not_before"] else 0
                na = _us(meta["not_after"]) if meta["not_after"] else None
                rv = _us(meta["revoked"]) if meta["revoked"] else None
            except InvalidValue:
                raise KeyFormatError(f"keys[{i}] ({key.key_id}) has a bad validity timestamp") from None
            out[key.key_id] = PublishedKey(key, meta["identity"], str(meta["party"] or ""), nb, na, rv)
        return cls(out)

    def check(self, obj: dict[str, Any], entry: SignatureEntry, now_us: int, *, new_submission: bool,
              verified: bool | None = None) -> str | None:
        """Why this signature is not to be trusted, or None when it is.

        ``verified``: True when the caller has already found, with this key set's key for the
        entry, that the signature verifies over the object as it is (:mod:`hub.signing.batch`):
        every other rule is still applied, only the verification is not done again. False or
        None: it is verified here (so a failure gets its reason)."""
        pk = self.keys.get(entry.key_id)
        if pk is None:
            return f"key {entry.key_id} is unknown: the signer must register it with the hub first"
        if pk.identity != entry.signer:
            return f"key {entry.key_id} belongs to {pk.party or pk.identity} ({pk.identity}), not to the signer {entry.signer}"
        signed_us = int(entry.signed_at.timestamp()) * 1_000_000 + entry.signed_at.microsecond
        if pk.revoked_us is not None and (new_submission or signed_us >= pk.revoked_us):
            return f"key {entry.key_id} was revoked on {_ts(pk.revoked_us)}"
        if pk.not_after_us is not None and ((new_submission and now_us > pk.not_after_us) or signed_us > pk.not_after_us):
            return f"key {entry.key_id} expired on {_ts(pk.not_after_us)}"
        if signed_us < pk.not_before_us:
            return (f"key {entry.key_id} was not yet valid when the object was signed ({entry.signed}); "
                    f"it is valid from {_ts(pk.not_before_us)}")
        if signed_us > now_us + _SKEW_US:
            return f"the signature claims a time in the future ({entry.signed})"
        if entry.algorithm != pk.key.alg:
            return f"the signature uses {entry.algorithm} but key {entry.key_id} is an {pk.key.alg} key"
        if verified is True:
            return None
        try:
            verify_entry(obj, entry, pk.key)
        except SignatureInvalid as exc:
            return str(exc)
        return None
