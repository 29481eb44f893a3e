"""Submission tokens on the provider's side (docs/ANONYMITY.md, "Token mode"): fetch blind-signed
tokens while authenticated, keep them, and later file one anonymous report per token with no
credential at all.

- :func:`read_directory` reads a hub's token key directory (``GET {api}anonymity/token-keys/``)
  and checks that each key id is its key's (:func:`read_next_key`: the next epoch's key, which
  the directory shows within the last hours of an epoch, for tokens redeemed through the next); :func:`check_key_consistency` refuses a key that a
  second source (a peer hub's copy at ``anonymity/token-keys/copies/?issuer=``, or the same
  directory fetched by another route) does not show for the same issuer and epoch: a hub that
  gave one provider its own key could tell that provider's tokens from everyone else's.
- :func:`fetch_tokens` makes ``count`` token requests (:func:`hub.anonymity.tokens.begin_issuance`:
  a fresh nonce, salt and blind each), has the hub sign them blind, finalises and verifies each
  token, and :class:`TokenWallet` keeps them in a file readable by its owner only.
- :func:`redeem_token` files a report with one token, through a session that carries no token of the
  party (``Authorization: PrivateToken``), and :func:`seal_submitter_record` makes the escrow
  record the hub cannot make in this mode: the submitter's name and identity, the filing's hash,
  signed with its registered key, sealed to the oversight key the provider was given (never one
  the hub hands out).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hub.anonymity import blindrsa
from hub.anonymity.errors import AnonymityError
from hub.anonymity.escrow import EscrowRecord, OversightPublicKey, seal
from hub.anonymity.tokens import (
    TOKEN_TYPE_BLIND_RSA,
    TokenChallenge,
    begin_issuance,
    finalize_token,
    token_key_id,
    verify_token,
)
from hub.client.errors import ClientError
from hub.common.canonical import b64url_decode, b64url_encode, canonicalize
from hub.common.errors import InvalidValue
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.signing import KeySet, SigningKey

if TYPE_CHECKING:  # the HTTP layer is imported when a request is made: the checks run without it
    from hub.client.http import HttpSession

__all__ = [
    "KeyInconsistent",
    "StoredToken",
    "TokenKey",
    "TokenWallet",
    "check_key_consistency",
    "fetch_directory",
    "fetch_tokens",
    "filing_hash",
    "read_directory",
    "read_next_key",
    "redeem_token",
    "seal_submitter_record",
    "submitter_record_problem",
]

_JSON = "application/json"


class KeyInconsistent(ClientError):
    """The hub's token key is not the one a second source shows: tokens are not fetched or redeemed."""


@dataclass(frozen=True)
class TokenKey:
    """The current token key of one issuer (a hub), as its directory publishes it."""

    issuer: str
    epoch: int
    key_id: bytes
    public: blindrsa.PublicKey
    challenge: bytes
    not_after: str
    #: How many parties hold tokens of this key so far, as the directory says (None: it does not).
    holders: int | None = None


@dataclass(frozen=True)
class StoredToken:
    """A finalised token, kept until it is redeemed (secret: whoever holds it may file once)."""

    issuer: str
    epoch: int
    token_key_id: str
    not_after: str
    token: str

    def to_json(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "epoch": self.epoch, "token_key_id": self.token_key_id,
                "not_after": self.not_after, "token": self.token}

    def __repr__(self) -> str:
        return f"StoredToken(issuer={self.issuer!r}, epoch={self.epoch}, <token hidden>)"


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ClientError(f"the token key directory's {what} is not a base64url string")
    try:
        return b64url_decode(value)
    except ValueError:
        raise ClientError(f"the token key directory's {what} is not base64url") from None


def _published_keys(doc: Mapping[str, Any], where: str) -> dict[int, bytes]:
    """Epoch -> key id of every key a directory (its current key and the next epoch's when it
    shows it) or a copy of one shows, each checked against its public key."""
    keys = doc.get("keys")
    if not isinstance(keys, list):
        raise ClientError(f"{where}: not a token key directory (no keys)")
    found: dict[int, bytes] = {}
    for item in [*keys, *([doc["next_key"]] if "next_key" in doc else [])]:
        if not isinstance(item, dict) or not isinstance(item.get("epoch"), int):
            raise ClientError(f"{where}: a key without an epoch")
        spki = _b64(item.get("public_key"), "public_key")
        try:
            public = blindrsa.PublicKey.from_spki(spki)
        except (AnonymityError, ValueError) as exc:
            raise ClientError(f"{where}: a public key is refused: {exc}") from None
        key_id = token_key_id(public)
        if _b64(item.get("token_key_id"), "token_key_id") != key_id:
            raise ClientError(f"{where}: a key id is not the id of its public key")
        found[item["epoch"]] = key_id
    return found


def read_directory(doc: Mapping[str, Any], where: str = "the hub's token key directory") -> TokenKey:
    """The current key of a directory as ``GET anonymity/token-keys/`` answers it, checked: one
    key of token type 2, its id that of its public key, the challenge well formed."""
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ClientError(f"{where}: no issuer")
    keys = doc.get("keys")
    if not isinstance(keys, list) or len(keys) != 1 or not isinstance(keys[0], dict):
        raise ClientError(f"{where}: one current key expected")
    item = keys[0]
    if item.get("token_type") != TOKEN_TYPE_BLIND_RSA:
        raise ClientError(f"{where}: the key is not of token type 2")
    challenge = _b64(doc.get("challenge"), "challenge")
    try:
        parsed = TokenChallenge.decode(challenge)
        public = blindrsa.PublicKey.from_spki(_b64(item.get("public_key"), "public_key"))
    except (AnonymityError, ValueError) as exc:
        raise ClientError(f"{where}: {exc}") from None
    if parsed.issuer_name != issuer or parsed.redemption_context:
        raise ClientError(f"{where}: the challenge is not the issuer's, or it is tied to a redemption context")
    epochs = _published_keys(doc, where)
    holders = doc.get("holders_this_epoch")
    return TokenKey(issuer, item["epoch"], epochs[item["epoch"]], public, challenge, str(item.get("not_after", "")),
                    holders if isinstance(holders, int) and not isinstance(holders, bool) else None)


def read_next_key(doc: Mapping[str, Any], where: str = "the hub's token key directory") -> TokenKey | None:
    """The next epoch's key of a directory (its ``next_key``, published ahead of the epoch), checked
    as :func:`read_directory` checks the current one; None when the directory shows none yet."""
    item = doc.get("next_key")
    if item is None:
        return None
    current = read_directory(doc, where)
    if not isinstance(item, dict) or item.get("token_type") != TOKEN_TYPE_BLIND_RSA:
        raise ClientError(f"{where}: the next key is not of token type 2")
    epochs = _published_keys({"keys": [item]}, where)
    if list(epochs) != [current.epoch + 1]:
        raise ClientError(f"{where}: the next key is not of the epoch after the current one")
    public = blindrsa.PublicKey.from_spki(_b64(item.get("public_key"), "public_key"))
    return TokenKey(current.issuer, current.epoch + 1, epochs[current.epoch + 1], public, current.challenge,
                    str(item.get("not_after", "")))


def check_key_consistency(key: TokenKey, second: Mapping[str, Any], source: str) -> None:
    """Refuse ``key`` unless ``second`` (another route's copy of the directory, or a peer hub's
    copy of it: ``{"issuer": ..., "keys": [...]}``) shows the same key for the same issuer and
    epoch (:class:`KeyInconsistent`)."""
    if second.get("issuer") != key.issuer:
        raise KeyInconsistent(f"{source} shows the keys of another issuer, not of {key.issuer!r}")
    shown = _published_keys(second, source)
    if key.epoch not in shown:
        raise KeyInconsistent(f"{source} does not show {key.issuer!r}'s key of epoch {key.epoch}: "
                              "not using a key others cannot see")
    if shown[key.epoch] != key.key_id:
        raise KeyInconsistent(f"{source} shows another key for {key.issuer!r} in epoch {key.epoch}: "
                              "the hub may be giving keys of its own to some parties; not using it")


def fetch_directory(http: HttpSession, url: str) -> dict[str, Any]:
    """A token key directory (or a copy of one) at ``url``, fetched without credentials."""
    from hub.client.http import Call, json_object

    call = Call(f"fetching the token keys at {url}", expect="a token key directory", hint=None)
    resp = http.request("GET", url, call, headers={"Accept": _JSON}, authenticated=False)
    return json_object(resp, call)


def fetch_tokens(http: HttpSession, key: TokenKey, count: int) -> list[StoredToken]:
    """``count`` tokens under ``key``: requests made here, blind-signed by the hub (``POST
    {api}anonymity/tokens/``, authenticated), finalised and verified here."""
    from hub.client.http import Call, json_object

    if count < 1:
        raise ClientError("ask for at least one token")
    begun = [begin_issuance(key.public, key.challenge) for _ in range(count)]
    body = {"token_key_id": b64url_encode(key.key_id), "requests": [b64url_encode(r.encode()) for r, _ in begun]}
    call = Call(f"asking for {count} submission tokens", subject="token requests",
                denied="this party is not issued submission tokens")
    resp = http.request("POST", f"{http.api}anonymity/tokens/", call, content=orjson.dumps(body),
                        headers={"Content-Type": _JSON, "Accept": _JSON})
    answer = json_object(resp, call)
    responses = answer.get("responses")
    if not isinstance(responses, list) or len(responses) != count or answer.get("epoch") != key.epoch:
        raise ClientError(f"{call.what}: the hub answered another number of responses, or for another epoch")
    tokens = []
    for (_request, state), text in zip(begun, responses, strict=True):
        try:
            token = finalize_token(state, _b64(text, "response"))
            verify_token(key.public, token.encode(), key.challenge)
        except AnonymityError as exc:
            raise ClientError(f"{call.what}: a response does not make a valid token ({exc})") from None
        tokens.append(StoredToken(key.issuer, key.epoch, b64url_encode(key.key_id), key.not_after,
                                  b64url_encode(token.encode())))
    return tokens


class TokenWallet:
    """Tokens kept in one JSON file, readable by its owner only; each is taken out once."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def tokens(self) -> list[StoredToken]:
        if not self.path.exists():
            return []
        try:
            data = orjson.loads(self.path.read_bytes())
            return [StoredToken(t["issuer"], int(t["epoch"]), t["token_key_id"], t["not_after"], t["token"])
                    for t in data["tokens"]]
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ClientError(f"{self.path}: not a token file") from None

    def _write(self, tokens: list[StoredToken]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps({"tokens": [t.to_json() for t in tokens]}, option=orjson.OPT_INDENT_2))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def add(self, new: list[StoredToken]) -> int:
        """Keep ``new`` beside the tokens already kept; how many are kept now."""
        kept = self.tokens() + new
        self._write(kept)
        return len(kept)

    def take(self, key: TokenKey) -> StoredToken:
        """One token of ``key`` (its issuer, epoch and key id), taken out of the file before it
        is used (a token tried once is never tried again: it may have been spent)."""
        kept = self.tokens()
        wanted = b64url_encode(key.key_id)
        for index, token in enumerate(kept):
            if token.issuer == key.issuer and token.epoch == key.epoch and token.token_key_id == wanted:
                self._write(kept[:index] + kept[index + 1:])
                return token
        raise ClientError(f"{self.path}: no token of {key.issuer!r} for epoch {key.epoch} "
                          "(tokens are redeemed in the epoch they were issued for: 'abusehub token fetch')")

    def count(self, key: TokenKey | None = None) -> int:
        tokens = self.tokens()
        if key is None:
            return len(tokens)
        wanted = b64url_encode(key.key_id)
        return sum(1 for t in tokens if t.issuer == key.issuer and t.token_key_id == wanted)


def filing_hash(objects: list[dict[str, Any]], withdrawal_commitment: str) -> str:
    """``sha256:<hex>`` of the canonical JSON of the filing as sent (its objects and commitment)."""
    return "sha256:" + hashlib.sha256(canonicalize({"objects": objects,
                                                     "withdrawal_commitment": withdrawal_commitment})).hexdigest()


def seal_submitter_record(key: SigningKey, party: str, identity_id: str, objects: list[dict[str, Any]],
                          withdrawal_commitment: str, hub_name: str, oversight: OversightPublicKey, *,
                          now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, Any]:
    """The escrow record of a token-mode filing, made by the submitter: who it is, the filing's
    hash, signed with its registered key over :meth:`EscrowRecord.signing_input`, sealed to the
    oversight key. Its report id is the withdrawal commitment, which the published report
    carries (the hub chooses the report's id only when it accepts the filing)."""
    stamp = now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = EscrowRecord(party, identity_id, withdrawal_commitment, filing_hash(objects, withdrawal_commitment),
                            stamp)
    signature = b64url_encode(key.sign(unsigned.signing_input()))
    record = EscrowRecord(party, identity_id, withdrawal_commitment, unsigned.report_hash, stamp,
                          key_id=key.key_id, signature=signature)
    return seal(record, oversight, hub_name)


def submitter_record_problem(record: EscrowRecord, keys: KeySet) -> str | None:
    """Why an opened token-mode escrow record does not hold up against ``keys`` (the key set
    the hub publishes at ``keys/``), or None when it does: the key it names is registered to the
    identity it names, was valid (not yet revoked, not expired) at the record's time, and the
    signature verifies over :meth:`EscrowRecord.signing_input`. A record the hub made (the
    attested mode) carries no signature: the hub vouches for it."""
    if not record.key_id:
        return "it carries no submitter signature (the hub made it: the attested mode)"
    published = keys.keys.get(record.key_id)
    if published is None:
        return f"the key it names ({record.key_id}) is not in the key set"
    if published.identity != record.identity_id:
        return (f"the key it names ({record.key_id}) is registered to {published.identity}, "
                f"not to the identity it names ({record.identity_id})")
    try:
        at_us = parse_timestamp_us(record.time)
    except InvalidValue:
        return f"its time ({record.time!r}) is not a timestamp"
    if published.revoked_us is not None and at_us >= published.revoked_us:
        return f"the key it names was revoked on {format_timestamp_us(published.revoked_us)}, before its time"
    if published.not_after_us is not None and at_us > published.not_after_us:
        return f"the key it names expired on {format_timestamp_us(published.not_after_us)}, before its time"
    if at_us < published.not_before_us:
        return f"the key it names was valid only from {format_timestamp_us(published.not_before_us)}, after its time"
    try:
        signature = b64url_decode(record.signature)
    except ValueError:
        return "its signature is not base64url"
    if not published.key.verify(signature, record.signing_input()):
        return "its signature does not verify with the key it names"
    return None


def redeem_token(http: HttpSession, collection_id: str, objects: list[dict[str, Any]], withdrawal_commitment: str,
           sealed_record: Mapping[str, Any], token: StoredToken) -> dict[str, Any]:
    """File an anonymous report paid with ``token`` (``POST {api}anonymous/redeem/``). ``http``
    must carry no token of the party: the request is sent unauthenticated, with the token in
    ``Authorization: PrivateToken``. The hub's receipt."""
    from hub.client.http import Call, json_object

    body = {"collection": collection_id, "objects": objects, "withdrawal_commitment": withdrawal_commitment,
            "sealed_record": dict(sealed_record)}
    call = Call(f"filing anonymously with a token in collection {collection_id}",
                denied="the token or the filing was refused", missing=f"no collection {collection_id}")
    resp = http.request("POST", f"{http.api}anonymous/redeem/", call, content=orjson.dumps(body),
                        headers={"Content-Type": _JSON, "Accept": _JSON,
                                 "Authorization": f'PrivateToken token="{token.token}"'},
                        authenticated=False)
    receipt = json_object(resp, call)
    if not isinstance(receipt.get("report_id"), str):
        raise ClientError(f"{call.what}: the hub's answer names no report")
    return receipt

