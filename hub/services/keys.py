"""The key registry: each party's public signing keys, their validity and revocation.

Keys are published at ``GET /<api root>/keys/`` as a JWK set that anyone may fetch, so a
consumer verifies a signature without asking anyone (see README, "Signed submissions").
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import orjson

from hub.common.errors import BadRequest, Conflict, InvalidValue, NotFound
from hub.common.files import create_once, write_private
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.signing import KeyFormatError, KeySet, SigningKey, VerifyKey
from hub.store.base import DuplicateError, Store
from hub.store.records import KeyRecord

HUB_PARTY = "abusehub"
HUB_KEY_FILE = "hub-signing-key.pem"


def published_jwk(rec: KeyRecord) -> dict[str, Any]:
    """The public JWK with the registry facts a verifier needs."""
    jwk = orjson.loads(rec.jwk_json)
    jwk.update({"kid": rec.key_id, "party": rec.party_name, "identity": rec.identity_id,
                "not_before": format_timestamp_us(rec.not_before_us)})
    if rec.not_after_us is not None:
        jwk["not_after"] = format_timestamp_us(rec.not_after_us)
    if rec.revoked_us is not None:
        jwk["revoked"] = format_timestamp_us(rec.revoked_us)
    return jwk


class KeyService:
    def __init__(self, store: Store, clock: Clock, audit: AuditService) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit

    def add(self, party_name: str, jwk: Any, not_before_us: int | None = None,
            not_after_us: int | None = None) -> KeyRecord:
        """Register a public key for a party. A JWK with private parts is refused."""
        party = self.store.get_party(party_name)
        if party is None:
            raise NotFound(f"no party named {party_name!r}")
        if not isinstance(jwk, dict):
            raise BadRequest("a key must be a JWK: a JSON object")
        try:
            key = VerifyKey.from_jwk(jwk)
        except KeyFormatError as exc:
            raise BadRequest(f"the key was refused: {exc}") from None
        now = self.clock()
        nb = now if not_before_us is None else not_before_us
        if not_after_us is not None and not_after_us <= nb:
            raise BadRequest("the key's validity must end after it begins")
        public = {k: v for k, v in key.to_jwk().items() if k != "kid"}
        try:
            self.store.add_key(party.pk, key.key_id, key.alg, orjson.dumps(public).decode(), nb,
                               not_after_us, now)
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        self.audit.record("key.add", party_name, key_id=key.key_id, alg=key.alg)
        return next(k for k in self.store.list_keys(party.pk) if k.key_id == key.key_id)

    def list(self, party_name: str | None = None) -> list[KeyRecord]:
        if party_name is None:
            return self.store.list_keys()
        party = self.store.get_party(party_name)
        if party is None:
            raise NotFound(f"no party named {party_name!r}")
        return self.store.list_keys(party.pk)

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke a key from now on: new submissions signed with it fail; stored objects stay."""
        if not self.store.revoke_key(key_id, self.clock()):
            known = {k.key_id: k for k in self.store.list_keys()}
            if key_id in known:
                raise Conflict(f"key {key_id} is already revoked")
            raise NotFound(f"no key {key_id}")
        rec = next(k for k in self.store.list_keys() if k.key_id == key_id)
        self.audit.record("key.revoke", rec.party_name, key_id=key_id)
        return rec

    def keyset(self) -> KeySet:
        """Every registered key, parsed, with the same trust rules consumers apply."""
        return KeySet.from_jwks(self.jwks())

    def jwks(self) -> dict[str, Any]:
        """The published JWK set, revoked keys included (marked) so old signatures stay checkable."""
        return {"keys": [published_jwk(r) for r in self.store.list_keys()]}


#: The members of a published JWK that describe the key itself (RFC 7517, 7518, 8037); the rest
#: are the publishing hub's registry facts (:func:`published_jwk`).
_KEY_MEMBERS = ("kty", "crv", "x", "y", "alg", "use", "kid")


def _published_time(jwk: dict[str, Any], name: str) -> int | None:
    value = jwk.get(name)
    if value is None:
        return None
    try:
        return parse_timestamp_us(value, name)
    except InvalidValue as exc:
        raise BadRequest(f"key {jwk.get('kid')!r}: {exc}") from None


def import_published_key(keys: KeyService, party_name: str, published: Any) -> tuple[str, bool]:
    """Register a key as another hub publishes it (``GET keys/``) for ``party_name``: the same
    validity (``not_before``, ``not_after``) and, if it is revoked there, revoked here too.

    Returns ``(key id, whether anything changed)``; a key already registered is left as it is
    unless it is now revoked. The caller decides whose keys it takes from whom (pinning).
    """
    if not isinstance(published, dict):
        raise BadRequest("a published key must be a JWK: a JSON object")
    jwk = {k: published[k] for k in _KEY_MEMBERS if k in published}
    not_before = _published_time(published, "not_before")
    not_after = _published_time(published, "not_after")
    revoked = published.get("revoked") is not None
    try:
        key_id = VerifyKey.from_jwk(jwk).key_id
    except KeyFormatError as exc:
        raise BadRequest(f"the key was refused: {exc}") from None
    known = {k.key_id: k for k in keys.store.list_keys()}
    changed = False
    if key_id in known:
        if known[key_id].party_name != party_name:
            raise Conflict(f"key {key_id} is registered here to {known[key_id].party_name}, not {party_name}")
    else:
        keys.add(party_name, jwk, not_before_us=not_before, not_after_us=not_after)
        changed = True
    if revoked and (key_id not in known or known[key_id].revoked_us is None):
        keys.revoke(key_id)
        changed = True
    return key_id, changed


class HubSigner:
    """The hub's own key, used to countersign what it accepts into collections that ask for it.

    The private key lives in the hub home (mode 0600); its public half is registered to the
    party ``abusehub`` and published with the others. :meth:`prepare` makes both; ``abusehub
    init`` calls it, so a hub has its key before it serves anything. Should a hub start without
    it, the first countersigning request makes it: safely, even when several workers (threads or
    processes) try at once. The file is created first-writer-wins (every creator then reads the
    winner's key), and the party and the key are registered by whoever gets there first, the
    others finding them registered.
    """

    def __init__(self, store: Store, keys: KeyService, home: Path, clock: Clock) -> None:
        self.store, self.keys, self.home, self.clock = store, keys, home, clock
        self._key: SigningKey | None = None
        self._identity: str | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """Where the hub's private key is kept."""
        return self.home / HUB_KEY_FILE

    def prepare(self) -> str:
        """Create (if missing) and register the hub's key now; returns its key id."""
        return self.ensure()[0].key_id

    def ensure(self) -> tuple[SigningKey, str]:
        """The hub's key and identity id; made and registered on first use if missing."""
        if self._key is not None and self._identity is not None:
            return self._key, self._identity
        with self._lock:  # one thread of this process does the work; the others wait for it
            if self._key is None or self._identity is None:
                self._key, self._identity = self._load_or_create()
            return self._key, self._identity

    def _load_or_create(self) -> tuple[SigningKey, str]:
        party = self.store.get_party(HUB_PARTY)
        if party is None:
            try:
                party = self.store.create_party(HUB_PARTY, "hub", f"identity--{uuid.uuid4()}", False,
                                                self.clock())
            except DuplicateError:  # another worker made it meanwhile
                party = self.store.get_party(HUB_PARTY)
                if party is None:
                    raise
        if not self.path.exists():
            # First writer wins: a complete file is linked into place or not at all, so a
            # concurrent reader never sees half a key and nobody replaces the winner's.
            create_once(self.path, SigningKey.generate().to_pem())
        key = SigningKey.from_pem(self.path.read_bytes())
        if key.key_id not in {k.key_id for k in self.store.list_keys(party.pk)}:
            try:
                self.keys.add(HUB_PARTY, key.public_key.to_jwk())
            except Conflict:  # registered by another worker meanwhile: fine if it is ours
                if key.key_id not in {k.key_id for k in self.store.list_keys(party.pk)}:
                    raise
        return key, party.identity_id


def write_private_key(path: Path, key: SigningKey) -> None:
    """Write a private key readable by its owner only (created 0600, never wider)."""
    write_private(path, key.to_pem())
