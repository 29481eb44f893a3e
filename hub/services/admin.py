"""Operator tasks: parties, tokens, collections, grants. The CLI and the demo call these."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from hub.common.errors import BadRequest, Conflict, NotFound
from hub.services.audit import AuditService
from hub.services.auth import hash_token, new_token
from hub.services.clock import Clock
from hub.store.base import DuplicateError, Store, TokenRecord
from hub.store.limits import LABEL_MAX, TITLE_MAX
from hub.store.records import Collection, Grant, Party

PARTY_KINDS = ("provider", "agency", "peer", "operator")
TLP_NAMES = ("clear", "green", "amber", "amber+strict", "red")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _check_text(what: str, value: str, limit: int | None = None) -> None:
    """Refuse text every database would not store alike: too long for its column (PostgreSQL
    refuses it, SQLite keeps it), or holding U+0000 (PostgreSQL text cannot)."""
    if limit is not None and len(value) > limit:
        raise BadRequest(f"{what} is {len(value)} characters long: at most {limit} are allowed")
    if "\x00" in value:
        raise BadRequest(f"{what} contains the character U+0000 (NUL)")


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: its id (not secret) and the token itself, returned this once."""

    id: int
    party: str
    label: str
    created_us: int
    token: str = field(repr=False)  # kept out of reprs, so out of logs and tracebacks


@dataclass(frozen=True)
class TokenRevocation:
    """The outcome of revoking one token: the token as it now is, and whether this call revoked it."""

    record: TokenRecord
    revoked_now: bool  # False: it had been revoked before


class AdminService:
    """Creates and changes parties, credentials, collections and grants."""

    def __init__(self, store: Store, clock: Clock, audit: AuditService) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit

    def add_party(self, name: str, kind: str, operator: bool = False) -> tuple[Party, str]:
        """Create a party and its first token. The token is returned once and never again."""
        party, issued = self.add_party_with_token(name, kind, operator)
        return party, issued.token

    def add_party_with_token(self, name: str, kind: str, operator: bool = False) -> tuple[Party, IssuedToken]:
        """:meth:`add_party`, returning the first token with its id."""
        if not _NAME_RE.match(name):
            raise BadRequest(f"party name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
        if kind not in PARTY_KINDS:
            raise BadRequest(f"party kind {kind!r}: must be one of {', '.join(PARTY_KINDS)}")
        identity_id = f"identity--{uuid.uuid4()}"
        try:
            party = self.store.create_party(name, kind, identity_id, operator or kind == "operator",
                                            self.clock())
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        self.audit.record("party.add", name, kind=kind, identity=identity_id, operator=party.operator)
        issued = self.issue(name, label="initial")
        return party, issued

    def party(self, name: str) -> Party:
        party = self.store.get_party(name)
        if party is None:
            raise NotFound(f"no party named {name!r}")
        return party

    def list_parties(self) -> list[Party]:
        return self.store.list_parties()

    def issue_token(self, party_name: str, label: str = "") -> str:
        """A new token for the party; earlier tokens stay valid until revoked."""
        return self.issue(party_name, label).token

    def issue(self, party_name: str, label: str = "") -> IssuedToken:
        """:meth:`issue_token`, returning the token with its id."""
        _check_text("the token's label", label, LABEL_MAX)
        party = self.party(party_name)
        token = new_token()
        now = self.clock()
        token_id = self.store.add_token(party.pk, hash_token(token), label, now)
        self.audit.record("token.issue", party_name, token_id=token_id, label=label)  # never the token itself
        return IssuedToken(id=token_id, party=party_name, label=label, created_us=now, token=token)

    def list_tokens(self, party_name: str) -> list[TokenRecord]:
        """The party's tokens, revoked ones included, oldest first: ids and dates, never secrets."""
        return self.store.list_tokens(self.party(party_name).pk)

    def revoke_token(self, party_name: str, token_id: int) -> TokenRevocation:
        """Revoke one token of the party, leaving its other tokens valid (rotation).

        :class:`NotFound` when no token has that id, :class:`BadRequest` when it is another
        party's. Revoking a token that is already revoked changes nothing and says so.
        """
        party = self.party(party_name)
        # Ids are positive 32-bit integers (the column's type): others name no token on any database.
        record = self.store.get_token(token_id) if 0 < token_id < 2**31 else None
        if record is None:
            raise NotFound(f"no token with id {token_id}")
        if record.party_pk != party.pk:
            raise BadRequest(f"token {token_id} is not a token of party {party_name!r}: "
                             "it belongs to another party")
        if record.revoked_us is None and self.store.revoke_token(party.pk, token_id, self.clock()):
            self.audit.record("token.revoke", party_name, token_id=token_id, label=record.label)
            return TokenRevocation(self._token(token_id), True)
        return TokenRevocation(self._token(token_id), False)

    def _token(self, token_id: int) -> TokenRecord:
        record = self.store.get_token(token_id)
        if record is None:  # tokens are never deleted while their party exists
            raise NotFound(f"no token with id {token_id}")
        return record

    def revoke_tokens(self, party_name: str) -> int:
        """Revoke every token of the party; returns how many."""
        count = self.store.revoke_tokens(self.party(party_name).pk, self.clock())
        self.audit.record("token.revoke", party_name, count=count)
        return count

    def add_collection(self, title: str, *, description: str = "", alias: str | None = None,
                       collection_id: str | None = None, max_tlp: str = "amber",
                       require_signatures: bool = False, countersign: bool = False,
                       allow_personal_data: bool = False) -> Collection:
        """Create a collection with its policy."""
        if not title.strip():
            raise BadRequest("collection title must not be empty")
        _check_text("the collection title", title.strip(), TITLE_MAX)
        _check_text("the collection description", description)
        if alias is not None:
            _check_text("the collection alias", alias, TITLE_MAX)
        max_tlp = max_tlp.lower()
        if max_tlp == "white":
            max_tlp = "clear"
        if max_tlp not in TLP_NAMES:
            raise BadRequest(f"max TLP {max_tlp!r}: must be one of {', '.join(TLP_NAMES)}")
        if collection_id is None:
            collection_id = str(uuid.uuid4())
        else:
            try:
                collection_id = str(uuid.UUID(collection_id))
            except ValueError:
                raise BadRequest(f"collection id {collection_id!r} is not a UUID") from None
        try:
            col = self.store.create_collection(collection_id, title.strip(), description, alias,
                                               max_tlp, require_signatures, countersign,
                                               allow_personal_data, self.clock())
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        self.audit.record("collection.add", "", col.id, title=col.title, max_tlp=max_tlp,
                          require_signatures=require_signatures, countersign=countersign,
                          allow_personal_data=allow_personal_data)
        return col

    def collection(self, collection_id: str) -> Collection:
        col = self.store.get_collection(collection_id)
        if col is None:
            raise NotFound(f"no collection {collection_id!r}")
        return col

    def list_collections(self) -> list[Collection]:
        return self.store.list_collections()

    def grant(self, party_name: str, collection_id: str, read: bool, write: bool) -> Grant:
        """Add read and/or write rights (keeps rights already held)."""
        party, col = self.party(party_name), self.collection(collection_id)
        current = self.store.grants_for(party.pk).get(col.pk)
        return self._set(party_name, party.pk, col, read or bool(current and current.can_read),
                         write or bool(current and current.can_write))

    def revoke(self, party_name: str, collection_id: str, read: bool, write: bool) -> Grant:
        """Take read and/or write rights away."""
        party, col = self.party(party_name), self.collection(collection_id)
        current = self.store.grants_for(party.pk).get(col.pk)
        can_read = bool(current and current.can_read) and not read
        can_write = bool(current and current.can_write) and not write
        return self._set(party_name, party.pk, col, can_read, can_write)

    def _set(self, party_name: str, party_pk: int, col: Collection, read: bool, write: bool) -> Grant:
        grant = self.store.set_grant(party_pk, col.pk, read, write)
        self.audit.record("grant", party_name, col.id, read=read, write=write)
        return grant

    def grants(self, party_name: str) -> list[tuple[Collection, Grant]]:
        party = self.party(party_name)
        by_pk = {c.pk: c for c in self.store.list_collections()}
        return [(by_pk[pk], g) for pk, g in self.store.grants_for(party.pk).items() if pk in by_pk]
