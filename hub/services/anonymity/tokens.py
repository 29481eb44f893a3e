"""Submission tokens: anonymous filing in which the hub never learns who files (docs/ANONYMITY.md,
"Token mode").

A provider, authenticated, asks for blind signatures on token requests it made (Privacy Pass
token type 2, RFC 9578: RSABSSA-SHA384-PSS-Deterministic over a 2048-bit key); later, with no
credential at all, it files one anonymous report per token. The hub checks the token with one
RSA verification, records it as spent (its key id and nonce, nothing else) in the transaction
that accepts the filing, and publishes the report through the anonymous filing pipeline
(:meth:`hub.services.anonymity.filing.AnonymousFilingService.file_redeemed`), which gives it an
anonymous identity and the hub's attestation. The submitter's client seals its own escrow record
to the oversight key; the hub stores it as it came, unable to check it.

- **Epochs and keys.** Time is cut into epochs of ``[anonymity] token_epoch_days``; each epoch
  has one token key for every provider, made by the first request that needs it and stored in
  the database (``token_keys``; the first writer wins), its private half sealed with AES-256-GCM
  under a key derived (HKDF-SHA256) from the hub's signing key file, which every host of the hub
  holds: every host uses the same key, and the database alone does not give it. When an epoch's
  key is made, the sealed private keys of epochs before the previous one are dropped (their
  public halves stay, so their tokens are refused as of a past epoch), and so are the
  spent-token rows of every key but the current epoch's and the next's.
  :meth:`TokenService.directory` is what ``GET {api root}/anonymity/token-keys/`` publishes to
  anyone: the issuer's name, the token challenge and the current epoch's key with its validity;
  within the last ``[anonymity] token_next_key_hours`` of an epoch (at most half of it), the next
  epoch's key too (``next_key``), made by the first request that needs it, so that tokens fetched
  late in an epoch can be of the next epoch and redeemed through it.
- **Key consistency.** A provider redeems only under a key that a second source shows too:
  another hub's copy (:meth:`TokenService.copy_keys` keeps it, ``GET {api root}/anonymity/
  token-keys/copies/?issuer=<name>`` serves it) or the same directory fetched by another route.
  Each turn of a federation link copies its peer's directory by itself
  (:meth:`TokenService.copy_from_peer`, at most once per ``[federation] token_keys_interval``,
  at once when the peer's epoch has changed since); a peer that publishes a different key for
  an epoch copied before is refused, logged, audited and kept as a conflict.
  The check is the client's (:mod:`hub.client.tokens`): a hub that gave one provider its own key
  could tell its tokens from everyone else's.
- **Issuance** (:meth:`TokenService.issue`): providers only, under the current key or the next
  epoch's once it is published; at most ``[anonymity] tokens_per_epoch`` per party and epoch (the
  epoch of the key asked for), counted in the database before anything is signed.
  The audit record names the party, the epoch and the count: never a request or a signature.
- **Redemption** (:meth:`TokenService.redeem`): refused, in words that name no one, if the token
  is malformed, of a past epoch, of an epoch not begun, not of this hub's key, forged, or spent
  before (a token is redeemed in the epoch of its key); the filing's own
  refusals (a collection that does not accept anonymous reports, content naming its provider) spend
  nothing.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.anonymity import blindrsa
from hub.anonymity.errors import AnonymityError, InvalidSignature
from hub.anonymity.tokens import (
    TOKEN_LEN,
    TOKEN_TYPE_BLIND_RSA,
    Token,
    TokenChallenge,
    TokenIssuer,
    TokenRequest,
    token_key_id,
    verify_token,
)
from hub.client.errors import ClientError, ResourceNotFound
from hub.common.canonical import b64url_decode, b64url_encode
from hub.common.errors import BadRequest, Conflict, Forbidden, HubError, TooManyRequests, Unavailable
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.config import AnonymityConfig
from hub.services.access.auth import Principal
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.keys import HubSigner
from hub.store.base import DuplicateError, Store
from hub.store.submission_tokens import EpochKeyRow, KeyConflict, KeyCopy

__all__ = ["EpochKey", "Receipt", "RedeemingFiling", "TokenService", "parse_private_token_header"]

#: What the key that seals the token keys is derived for (HKDF's info).
_WRAP_INFO = b"abusehub submission token keys v1"
_DAY_US = 86_400_000_000
#: At most this many token requests in one issuance request.
MAX_BATCH = 1000
_ISSUER_MAX = 300
log = logging.getLogger(__name__)
_HEADER = re.compile(r'^\s*PrivateToken\s+token\s*=\s*"?([A-Za-z0-9_-]+)"?\s*$', re.IGNORECASE)


class Receipt(Protocol):
    """What a filing answers its submitter (:class:`hub.services.anonymity.filing.FilingReceipt`)."""

    def to_json(self) -> dict[str, Any]:
        ...


class RedeemingFiling(Protocol):
    """The part of the anonymous filing pipeline a redemption uses
    (:class:`hub.services.anonymity.filing.AnonymousFilingService`)."""

    def file_redeemed(self, collection_id: str, body: Any, *, sealed_record: dict[str, Any],
                      in_transaction: Callable[[Any], None] | None = None) -> Receipt:
        ...


@dataclass(frozen=True)
class EpochKey:
    """One epoch's token key: its public half, its id (SHA-256 of its RSASSA-PSS SPKI) and when
    it is valid (``not_before_us`` inclusive, ``not_after_us`` exclusive)."""

    epoch: int
    public: blindrsa.PublicKey
    key_id: bytes
    not_before_us: int
    not_after_us: int

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "token_type": TOKEN_TYPE_BLIND_RSA,
                "token_key_id": b64url_encode(self.key_id),
                "public_key": b64url_encode(self.public.spki(blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC)),
                "not_before": format_timestamp_us(self.not_before_us),
                "not_after": format_timestamp_us(self.not_after_us)}


def parse_private_token_header(header: str | None) -> str | None:
    """The token of an ``Authorization: PrivateToken token="<base64url>"`` header (RFC 9577
    section 2.2), None without such a header; :class:`BadRequest` for another scheme."""
    if header is None:
        return None
    m = _HEADER.match(header)
    if m is None:
        raise BadRequest("a redemption carries no credentials but its token: use "
                         "'Authorization: PrivateToken token=\"<base64url>\"' or the body's \"token\"")
    return m.group(1)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{what} must be a base64url string")
    try:
        return b64url_decode(value)
    except ValueError:
        raise BadRequest(f"{what} is not base64url") from None


class TokenService:
    """Token keys per epoch, issuance to providers at a rate, redemption of one token per filing."""

    def __init__(self, store: Store, clock: Clock, audit: AuditService, signer: HubSigner, config: AnonymityConfig,
                 issuer_name: str, filing: RedeemingFiling, *, copy_interval: float = 3600.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.tokens = store
        self.clock = clock
        self.audit = audit
        self.signer = signer
        self.config = config
        self.issuer_name = issuer_name[:_ISSUER_MAX] or "abusehub"
        self._filing = filing
        self._lock = threading.Lock()
        self._issuers: dict[int, TokenIssuer] = {}
        #: Seconds between two copies of one peer's token keys (:meth:`copy_from_peer`).
        self.copy_interval = float(copy_interval)
        #: The clock the interval between copies is measured by.
        self.monotonic = monotonic
        #: Per peer: when its keys were last copied (monotonic) and when its newest key copied ends.
        self._copied: dict[str, tuple[float, int]] = {}
        self._copying: dict[str, threading.Lock] = {}

    # -- epochs and keys -------------------------------------------------------------------------

    @property
    def epoch_us(self) -> int:
        return max(1, self.config.token_epoch_days) * _DAY_US

    def epoch_of(self, now_us: int) -> int:
        return now_us // self.epoch_us

    def challenge(self) -> bytes:
        """The encoded TokenChallenge every token of this hub is made for: this hub as issuer,
        no redemption context (tokens may be fetched ahead and redeemed later), no origin."""
        return TokenChallenge(issuer_name=self.issuer_name).encode()

    @property
    def lead_us(self) -> int:
        """How long before its epoch begins a key is published: ``token_next_key_hours``, at
        most half an epoch."""
        return min(max(0, self.config.token_next_key_hours) * 3_600_000_000, self.epoch_us // 2)

    def current(self) -> EpochKey:
        """The current epoch's key, made now if this is the first request of the epoch."""
        epoch = self.epoch_of(self.clock())
        issuer = self._issuer(epoch)
        return self._epoch_key(epoch, issuer.public)

    def upcoming(self) -> EpochKey | None:
        """The next epoch's key once it is published (within :attr:`lead_us` of the epoch's
        end), made now if this is the first request that needs it; None before."""
        now = self.clock()
        epoch = self.epoch_of(now) + 1
        if not self.lead_us or now < epoch * self.epoch_us - self.lead_us:
            return None
        return self._epoch_key(epoch, self._issuer(epoch).public)

    def _epoch_key(self, epoch: int, public: blindrsa.PublicKey) -> EpochKey:
        return EpochKey(epoch, public, token_key_id(public), epoch * self.epoch_us, (epoch + 1) * self.epoch_us)

    def _issuer(self, epoch: int) -> TokenIssuer:
        issuer = self._issuers.get(epoch)
        if issuer is not None:
            return issuer
        with self._lock:
            if epoch not in self._issuers:
                # Keep the issuers of this epoch and the next (and the one before, briefly).
                kept = {e: i for e, i in self._issuers.items() if e >= epoch - 1}
                kept[epoch] = self._load_or_create(epoch)
                self._issuers = kept
            return self._issuers[epoch]

    def _sealer(self) -> AESGCM:
        """AES-256-GCM under a key derived from the hub's signing key file (every host has it)."""
        self.signer.ensure()
        try:
            secret = self.signer.path.read_bytes()
        except OSError as exc:
            raise Unavailable(f"the hub's signing key cannot be read ({exc.strerror}): token keys are sealed with it") from None
        return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_WRAP_INFO).derive(secret))

    def _load_or_create(self, epoch: int) -> TokenIssuer:
        sealer = self._sealer()
        aad = f"token key of epoch {epoch}".encode()
        row = self.tokens.token_key(epoch)
        if row is None:
            private = blindrsa.PrivateKey.generate(2048)
            nonce = secrets.token_bytes(12)
            sealed = nonce + sealer.encrypt(nonce, private.to_pem(), aad)
            public = private.public_key
            made = self.tokens.add_token_key(EpochKeyRow(
                epoch, token_key_id(public).hex(), b64url_encode(public.spki(blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC)),
                b64url_encode(sealed), self.clock()))
            row = self.tokens.token_key(epoch)
            if row is None:
                raise Unavailable(f"the token key of epoch {epoch} could not be stored")
            if made:
                self._retire()
        if not row.sealed_private:
            raise Unavailable(f"the token key of epoch {epoch} was retired")
        data = b64url_decode(row.sealed_private)
        try:
            pem = sealer.decrypt(data[:12], data[12:], aad)
        except InvalidTag:
            raise Unavailable(f"the token key of epoch {epoch} does not open with this host's hub signing key: "
                              "every host of a hub needs the same hub-signing-key.pem") from None
        return TokenIssuer(blindrsa.PrivateKey.from_pem(pem))

    def _retire(self) -> None:
        """After a new epoch's key is made: drop the sealed private keys of epochs before the
        previous one, and the spent tokens of every key but the current epoch's and the next's
        (the tokens of the others are refused by their epoch)."""
        epoch = self.epoch_of(self.clock())
        self.tokens.retire_token_keys(epoch - 1)
        keep = [row.token_key_id for row in (self.tokens.token_key(epoch), self.tokens.token_key(epoch + 1))
                if row is not None]
        self.tokens.forget_spent_tokens(keep)

    def _past_key_ids(self, epoch: int) -> set[bytes]:
        """The key ids of the epochs before ``epoch`` that this hub issued under."""
        return {bytes.fromhex(k) for k in self.tokens.token_key_ids_before(epoch)}

    def directory(self) -> dict[str, Any]:
        """The token key directory anyone may read: the issuer, the challenge, the current key, and
        how many parties hold tokens of it so far (the size of the set a token filer hides in)."""
        key = self.current()
        doc = {"issuer": self.issuer_name, "token_type": TOKEN_TYPE_BLIND_RSA,
               "challenge": b64url_encode(self.challenge()), "epoch_days": self.config.token_epoch_days,
               "tokens_per_epoch": self.config.tokens_per_epoch,
               "next_key_published": format_timestamp_us(key.not_after_us - self.lead_us),
               "holders_this_epoch": self.tokens.token_holders(key.epoch), "keys": [key.to_json()]}
        upcoming = self.upcoming()
        if upcoming is not None:
            doc["next_key"] = upcoming.to_json()
        return doc

    # -- issuance --------------------------------------------------------------------------------

    def issue(self, principal: Principal, body: Any) -> dict[str, Any]:
        """Blind signatures for ``{"token_key_id": <b64url>, "requests": [<b64url TokenRequest>, ...]}``
        from an authenticated provider, within its allowance for the epoch."""
        party = principal.party
        if party.kind != "provider":
            raise Forbidden("submission tokens are issued to providers only")
        if not isinstance(body, dict) or set(body) != {"token_key_id", "requests"}:
            raise BadRequest('the body must be {"token_key_id": <base64url>, "requests": [<base64url>, ...]}')
        requests = body["requests"]
        if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_BATCH:
            raise BadRequest(f"requests must be a list of 1 to {MAX_BATCH} token requests")
        key = self.current()
        wanted = _b64(body["token_key_id"], "token_key_id")
        if wanted != key.key_id:
            upcoming = self.upcoming()
            if upcoming is None or wanted != upcoming.key_id:
                raise Conflict(f"the token key of epoch {key.epoch} is another one: fetch anonymity/token-keys/ again")
            key = upcoming
        decoded = []
        for index, text in enumerate(requests):
            try:
                req = TokenRequest.decode(_b64(text, f"requests[{index}]"))
            except AnonymityError as exc:
                raise BadRequest(f"requests[{index}]: {exc}") from None
            if req.truncated_token_key_id != key.key_id[-1]:
                raise BadRequest(f"requests[{index}]: the token request is for another issuer key")
            decoded.append(req.encode())
        limit = self.config.tokens_per_epoch
        total = self.tokens.take_token_allowance(party.pk, key.epoch, len(decoded), limit)
        if total is None:
            used = self.tokens.tokens_issued(party.pk, key.epoch)
            wait_s = max(1, -(-(key.not_after_us - self.clock()) // 1_000_000))
            raise TooManyRequests(f"{len(decoded)} more tokens would pass this party's {limit} for epoch "
                                  f"{key.epoch} ({used} issued); the next epoch begins "
                                  f"{format_timestamp_us(key.not_after_us)}", details={"retry_after": wait_s})
        issuer = self._issuer(key.epoch)
        responses = [b64url_encode(issuer.issue(r)) for r in decoded]
        self.audit.record("submission-token.issue", party.name, epoch=key.epoch, count=len(decoded))
        return {"epoch": key.epoch, "token_key_id": b64url_encode(key.key_id), "responses": responses,
                "issued_this_epoch": total, "tokens_per_epoch": limit}

    # -- redemption ------------------------------------------------------------------------------

    def check_token(self, token_text: str) -> Token:
        """The token, if it is one of this hub's current key that verifies and was not spent;
        otherwise a refusal naming no one."""
        raw = _b64(token_text, "the token")
        if len(raw) != TOKEN_LEN:
            raise BadRequest(f"a token is {TOKEN_LEN} bytes, not {len(raw)}")
        try:
            parsed = Token.decode(raw)
        except AnonymityError as exc:
            raise BadRequest(f"the token is malformed: {exc}") from None
        key = self.current()
        if parsed.token_key_id != key.key_id:
            if parsed.token_key_id in self._past_key_ids(key.epoch):
                raise Forbidden("the token is of a past epoch: a token is redeemed in the epoch it was issued for")
            upcoming = self.tokens.token_key(key.epoch + 1)
            if upcoming is not None and parsed.token_key_id.hex() == upcoming.token_key_id:
                raise Forbidden(f"the token is of the next epoch, which begins {format_timestamp_us(key.not_after_us)}: "
                                "a token is redeemed in the epoch it was issued for")
            raise Forbidden("the token was not issued under this hub's current token key")
        try:
            verify_token(key.public, raw, self.challenge())
        except InvalidSignature:
            raise Forbidden("the token does not verify: it was not issued by this hub") from None
        except AnonymityError as exc:
            raise Forbidden(f"the token was refused: {exc}") from None
        if self.tokens.token_spent(parsed.token_key_id.hex(), parsed.nonce.hex()):
            raise Conflict("the token was spent before: each token files one report")
        return parsed

    def redeem(self, collection_id: str, body: Any, header_token: str | None) -> Receipt:
        """File ``body`` (``{"objects": [...], "withdrawal_commitment": ..., "sealed_record": {...}}``,
        with ``"token"`` there unless ``header_token`` is given) for whoever holds the token; the
        token is spent with the filing or not at all. The filing pipeline's receipt."""
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        filing = dict(body)
        in_body = filing.pop("token", None)
        if (in_body is None) == (header_token is None):
            raise BadRequest("give the token once: in the PrivateToken Authorization header or as the body's \"token\"")
        token = self.check_token(cast(str, header_token if header_token is not None else in_body))
        sealed = filing.pop("sealed_record", None)
        if not isinstance(sealed, dict):
            raise BadRequest("sealed_record must be the submitter record the client sealed to the oversight key "
                             "(a JSON object)")
        key_id, nonce = token.token_key_id.hex(), token.nonce.hex()

        def spend(conn: Any) -> None:
            try:
                self.tokens.spend_token(conn, key_id, nonce)
            except DuplicateError:
                raise Conflict("the token was spent before: each token files one report") from None

        return self._filing.file_redeemed(collection_id, filing, sealed_record=sealed, in_transaction=spend)

    # -- other hubs' keys ------------------------------------------------------------------------

    def copy_keys(self, directory: Any, source: str, *, audit_known: bool = True) -> list[tuple[int, bool]]:
        """Keep another hub's published token key directory (as :meth:`directory` writes it: its
        current key and, when published, the next epoch's) as fetched from ``source``; per key,
        its epoch and whether it was kept (False: a different key for that issuer and epoch was
        copied before, and stays; the one offered is logged, audited and kept as a conflict). The
        copy is audited unless ``audit_known`` is False and it brought no epoch not copied before."""
        if not isinstance(directory, dict) or not isinstance(directory.get("keys"), list):
            raise BadRequest('a token key directory is {"issuer": ..., "keys": [...]}')
        issuer = directory.get("issuer")
        if not isinstance(issuer, str) or not 0 < len(issuer) <= _ISSUER_MAX:
            raise BadRequest(f"a token key directory's issuer is a name of 1 to {_ISSUER_MAX} characters")
        if issuer == self.issuer_name:
            raise BadRequest("that directory is this hub's own: copy another hub's")
        items = list(directory["keys"])
        if "next_key" in directory:
            items.append(directory["next_key"])
        published = [_published_key(item, index) for index, item in enumerate(items)]
        known = {c.epoch for c in self.tokens.key_copies(issuer)}
        kept = []
        for epoch, key_id, spki in published:
            now = self.clock()
            copy = KeyCopy(issuer, epoch, key_id.hex(), b64url_encode(spki), source[:1000], now)
            ok = self.tokens.save_key_copy(copy)
            kept.append((epoch, ok))
            if not ok and self.tokens.add_key_conflict(KeyConflict(issuer, epoch, key_id.hex(), source[:1000], now)):
                log.warning("token keys of %s: epoch %d's key at %s is not the one copied before: refused, "
                            "the earlier copy stays (that hub may be giving keys of its own to some parties)",
                            issuer, epoch, source[:1000])
                self.audit.record("submission-token.keys.conflict", "", issuer=issuer, epoch=epoch,
                                  offered=b64url_encode(key_id), source=source[:1000])
        if audit_known or any(e not in known for e, _ in kept):
            self.audit.record("submission-token.keys.copy", "", issuer=issuer, epochs=[e for e, _ in kept],
                              conflicts=[e for e, ok in kept if not ok])
        return kept

    def copy_from_peer(self, peer: Any, client: Any) -> list[tuple[int, bool]] | None:
        """Copy the token keys of a federation peer (``peer.name``) through ``client``, the link
        turn's open :class:`hub.client.taxii.TaxiiClient` (its transport and checks; the directory
        is public, so no credential is sent): at most once per :attr:`copy_interval` seconds per
        peer, at once when the newest key copied of it has ended. A peer that does not serve token
        keys (404) is skipped. What :meth:`copy_keys` answers, or None when nothing was fetched."""
        name = str(peer.name)
        # One copy of a peer at a time: its links' turns run at once, each in a thread.
        with self._copying.setdefault(name, threading.Lock()):
            return self._copy_from(name, client)

    def _copy_from(self, name: str, client: Any) -> list[tuple[int, bool]] | None:
        last = self._copied.get(name)
        moment = self.monotonic()
        if last is not None and moment - last[0] < self.copy_interval and self.clock() < last[1]:
            return None
        from hub.client.tokens import fetch_directory  # with the link turn's client, on its first turn

        url = f"{client.http.api}anonymity/token-keys/"
        try:
            directory = fetch_directory(client.http, url)
        except ResourceNotFound:
            log.debug("peer %s serves no token keys", name)
            self._copied[name] = (moment, 2**62)
            return None
        except ClientError as exc:
            log.warning("peer %s: its token keys could not be fetched: %s", name, exc.description)
            return None
        if directory.get("issuer") == self.issuer_name:
            log.warning("peer %s publishes its token keys under this hub's own issuer name %r (the [hub] title): "
                        "they cannot be copied apart from this hub's; give the hubs titles of their own",
                        name, self.issuer_name)
            self._copied[name] = (moment, 2**62)  # told once an interval
            return None
        try:
            kept = self.copy_keys(directory, url, audit_known=False)
        except BadRequest as exc:
            log.warning("peer %s: its token key directory is refused: %s", name, exc.description)
            self._copied[name] = (moment, 2**62)
            return None
        self._copied[name] = (moment, _current_end(directory))
        if all(ok for _, ok in kept):
            log.info("peer %s: token keys of epochs %s copied", name, ", ".join(str(e) for e, _ in kept))
        return kept

    def copies(self, issuer: str) -> dict[str, Any]:
        """The copies kept of ``issuer``'s keys, in the directory's shape (no challenge)."""
        found = self.tokens.key_copies(issuer)
        return {"issuer": issuer, "copied_by": self.issuer_name,
                "keys": [{"epoch": c.epoch, "token_type": TOKEN_TYPE_BLIND_RSA,
                          "token_key_id": b64url_encode(bytes.fromhex(c.token_key_id)),
                          "public_key": c.public_key, "copied": format_timestamp_us(c.copied_us),
                          "source": c.source} for c in found],
                "refused": [_conflict_json(c) for c in self.tokens.key_conflicts(issuer)]}

    def report(self) -> dict[str, Any]:
        """This hub's directory, with every other hub's keys copied here and the keys refused
        (``abusehub token keys``)."""
        return {**self.directory(),
                "copies": [{"issuer": c.issuer, "epoch": c.epoch,
                            "token_key_id": b64url_encode(bytes.fromhex(c.token_key_id)),
                            "copied": format_timestamp_us(c.copied_us), "source": c.source}
                           for c in self.tokens.key_copies()],
                "refused": [_conflict_json(c) for c in self.tokens.key_conflicts()]}


def _current_end(directory: dict[str, Any]) -> int:
    """When the current key of a (checked) directory ends, by the issuer's word; 0 if it does
    not say (the peer is then copied again at its links' next turn)."""
    try:
        return parse_timestamp_us(directory["keys"][0].get("not_after"), "not_after")
    except (HubError, IndexError, AttributeError):
        return 0


def _conflict_json(c: KeyConflict) -> dict[str, Any]:
    return {"issuer": c.issuer, "epoch": c.epoch, "token_key_id": b64url_encode(bytes.fromhex(c.token_key_id)),
            "seen": format_timestamp_us(c.seen_us), "source": c.source}


def _published_key(item: Any, index: int) -> tuple[int, bytes, bytes]:
    """The epoch, key id and SPKI of one published key; the key id must be the SPKI's."""
    if not isinstance(item, dict):
        raise BadRequest(f"keys[{index}] must be an object")
    epoch = item.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < 2**31:
        raise BadRequest(f"keys[{index}].epoch must be a whole number")
    spki = _b64(item.get("public_key"), f"keys[{index}].public_key")
    try:
        public = blindrsa.PublicKey.from_spki(spki)
    except (AnonymityError, ValueError) as exc:
        raise BadRequest(f"keys[{index}].public_key: {exc}") from None
    key_id = token_key_id(public)
    if _b64(item.get("token_key_id"), f"keys[{index}].token_key_id") != key_id:
        raise BadRequest(f"keys[{index}].token_key_id is not the id of its public_key")
    return epoch, key_id, spki

