"""Operator tasks: parties, tokens, collections, grants. The CLI and the demo call these."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hub.common.errors import BadRequest, Conflict, NotFound
from hub.common.ids import is_stix_id
from hub.common.timestamps import format_timestamp_us
from hub.services.access.auth import hash_token, new_token
from hub.services.access.certificates import normalise_fingerprint, read_certificate
from hub.services.access.markings import MarkingService
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.keys import HUB_PARTY
from hub.stix.markings import TLP_NAMES
from hub.stix.sharing import ENTITY_TYPES, PEER, SHAREABILITY
from hub.store.base import DuplicateError, Store, TokenRecord
from hub.store.lifecycle import CertificateRecord, GrantRow, PartyState
from hub.store.limits import LABEL_MAX, TITLE_MAX, UnstorableError
from hub.store.records import Collection, Grant, Party, PartyAttributes

PARTY_KINDS = ("provider", "agency", "peer", "operator")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def is_hub_party(party: Party) -> bool:
    """Whether ``party`` is the hub's own (kind ``hub``, made with its countersigning key)."""
    return party.kind == "hub" or party.name == HUB_PARTY


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


def _tlp(max_tlp: str) -> str:
    max_tlp = max_tlp.lower()
    if max_tlp == "white":
        max_tlp = "clear"
    if max_tlp not in TLP_NAMES:
        raise BadRequest(f"max TLP {max_tlp!r}: must be one of {', '.join(TLP_NAMES)}")
    return max_tlp


#: The longest retention period accepted (a century): longer is "keep everything" (None).
MAX_AGE_DAYS_LIMIT = 36_500


@dataclass(frozen=True)
class PartyRemoval:
    """What removing a party did."""

    party: Party
    tokens_revoked: int
    certificates_removed: int
    objects_kept: int


@dataclass(frozen=True)
class TokenRevocation:
    """The outcome of revoking one token: the token as it now is, and whether this call revoked it."""

    record: TokenRecord
    revoked_now: bool  # False: it had been revoked before


class AdminService:
    """Creates and changes parties, credentials, collections and grants.

    With ``markings``, a party's memberships of the audiences (which objects its markings let it
    read) are recomputed whenever it is added, edited, disabled, enabled or removed.
    """

    def __init__(self, store: Store, clock: Clock, audit: AuditService,
                 markings: MarkingService | None = None) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.markings = markings

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
        existing = self.store.get_party(name)
        if existing is not None and self.state(existing).removed_us is not None:
            removed = self.state(existing).removed_us or 0
            raise Conflict(f"party {name!r} was removed at {format_timestamp_us(removed)}: its name "
                           "stays taken, so that the audit trail and the objects it submitted keep "
                           "naming one party; add the new party under another name")
        identity_id = f"identity--{uuid.uuid4()}"
        try:
            party = self.store.create_party(name, kind, identity_id, operator or kind == "operator",
                                            self.clock())
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        self.audit.record("party.add", name, kind=kind, identity=identity_id, operator=party.operator)
        self._refresh(party)
        issued = self.issue(name, label="initial")
        return party, issued

    def _refresh(self, party: Party) -> None:
        """Recompute which audiences admit ``party`` (its attributes, or whether it exists, changed)."""
        if self.markings is not None:
            self.markings.refresh(party)

    def edit_party(self, name: str, *, organisation: str | None = None, country: str | None = None,
                   entity: str | None = None, shareability: Sequence[str] | None = None,
                   terms_accepted: bool | None = None, serves: Sequence[str] | None = None,
                   enforces_markings: bool | None = None, clear: Iterable[str] = (),
                   pseudonyms_per_minute: int | str | None = None) -> Party:
        """Set the attributes markings are judged against (None: unchanged); ``clear`` names
        those to unset (``country``, ``entity``, ``shareability``, ``serves``,
        ``pseudonyms_per_minute``). Each value is checked (:class:`BadRequest` naming it); the
        change is audited with the old and new values, and the party's memberships of the
        audiences are recomputed at once.

        ``pseudonyms_per_minute`` is the party's own allowance of oblivious pseudonym
        evaluations a minute (1 to :data:`PSEUDONYMS_PER_MINUTE_MAX`), in place of the hub's
        ``[pseudonyms] per_minute``; cleared, the party has the hub's again. It takes effect at
        the party's next request."""
        party = self._live(name)
        attrs = party_attributes(party, organisation=organisation, country=country, entity=entity,
                                 shareability=shareability, terms_accepted=terms_accepted, serves=serves,
                                 enforces_markings=enforces_markings, clear=clear,
                                 pseudonyms_per_minute=pseudonyms_per_minute)
        before = _attributes(party)
        try:
            edited = self.store.edit_party(party.pk, attrs)
        except UnstorableError as exc:
            raise BadRequest(str(exc)) from None
        after = _attributes(edited)
        changed = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
        if changed:
            self.audit.record("party.edit", name, changes=changed)
        self._refresh(edited)
        return edited

    def party(self, name: str) -> Party:
        party = self.store.get_party(name)
        if party is None:
            raise NotFound(f"no party named {name!r}")
        return party

    def list_parties(self) -> list[Party]:
        return self.store.list_parties()

    def _live(self, name: str) -> Party:
        """The party named ``name``, refused (:class:`Conflict`) when it was removed."""
        party = self.party(name)
        removed = self.state(party).removed_us
        if removed is not None:
            raise Conflict(f"party {name!r} was removed at {format_timestamp_us(removed)}; "
                           "nothing can be given to it any more")
        return party

    # -- the party's lifecycle

    def state(self, party: Party) -> PartyState:
        """Whether the party is active, disabled or removed."""
        return self.store.party_state(party.pk)

    def disable_party(self, name: str) -> bool:
        """Refuse the party's tokens and certificates from now on, on every worker (the state
        is checked in the credential lookup itself); False if it was disabled already. The
        hub's own party is refused (:class:`BadRequest`): it holds the countersigning key."""
        party = self.check_can_disable(name)
        changed = self.store.set_party_disabled(party.pk, self.clock())
        if changed:
            self.audit.record("party.disable", name)
            self._refresh(party)
        return changed

    def check_can_disable(self, name: str) -> Party:
        """The party, if it may be disabled: not removed (:class:`Conflict`), not the hub's own
        party (:class:`BadRequest`: it holds the key the hub countersigns with)."""
        party = self._live(name)
        if is_hub_party(party):
            raise BadRequest(f"party {name!r} is the hub itself (it holds the key the hub countersigns "
                             "with) and cannot be disabled")
        return party

    def enable_party(self, name: str) -> bool:
        """Accept the party's (unrevoked) credentials again; False if it was not disabled."""
        party = self._live(name)
        changed = self.store.set_party_disabled(party.pk, None)
        if changed:
            self.audit.record("party.enable", name)
            self._refresh(party)
        return changed

    def remove_party(self, name: str) -> PartyRemoval:
        """Remove a party for good: its tokens are revoked, its certificates and grants deleted,
        and it can never authenticate again. What it submitted stays (objects, statuses, the
        audit trail name it), and so does its row, so its name cannot be given to anyone else.
        """
        party = self._live(name)
        if is_hub_party(party):
            raise BadRequest(f"party {name!r} is the hub itself and cannot be removed")
        kept = self.store.count_party_objects(party.pk)
        tokens, certs = self.store.remove_party(party.pk, self.clock())
        self._refresh(party)  # a removed party is a member of no audience
        self.audit.record("party.remove", name, tokens_revoked=tokens, certificates_removed=certs,
                          objects_kept=kept)
        return PartyRemoval(party, tokens, certs, kept)

    def check_key_revocable(self, key_id: str) -> None:
        """Refuse (:class:`BadRequest`) to revoke a key of the hub's own party: every
        countersignature the hub makes with it would fail to verify from then on."""
        rec = next((k for k in self.store.list_keys() if k.key_id == key_id), None)
        owner = self.store.get_party(rec.party_name) if rec is not None else None
        if rec is not None and owner is not None and is_hub_party(owner) and rec.revoked_us is None:
            raise BadRequest(f"key {key_id} is the hub's own countersigning key: revoked, every "
                             "countersignature the hub makes with it would fail to verify; it is not "
                             "revoked")

    # -- client certificates

    def add_certificate(self, name: str, pem: bytes, source: str = "the file") -> CertificateRecord:
        """Register a client certificate (PEM) for the party: the proxy's verified certificate
        with this SHA-256 fingerprint then authenticates it."""
        info = read_certificate(pem, source)
        party = self._live(name)
        now = self.clock()
        if info.not_after_us <= now:
            raise BadRequest(f"{source}: the certificate expired at {format_timestamp_us(info.not_after_us)}; "
                             "the proxy would refuse it")
        try:
            self.store.add_certificate(party.pk, info.fingerprint, info.subject,
                                                        info.not_after_us, now)
        except DuplicateError:
            raise Conflict(f"certificate {info.fingerprint} is already registered "
                           "(to this or another party)") from None
        # The subject may name a person: the audit trail keeps the fingerprint, which is enough.
        self.audit.record("party.cert.add", name, fingerprint=info.fingerprint,
                          not_after=format_timestamp_us(info.not_after_us))
        return CertificateRecord(party.pk, info.fingerprint, info.subject, info.not_after_us, now)

    def list_certificates(self, name: str) -> list[CertificateRecord]:
        """The party's registered client certificates."""
        return self.store.list_certificates(self.party(name).pk)

    def remove_certificate(self, name: str, fingerprint: str) -> None:
        """Stop accepting one of the party's certificates; :class:`NotFound` if it has none
        with that fingerprint."""
        party = self.party(name)
        fp = normalise_fingerprint(fingerprint)
        if not self.store.remove_certificate(party.pk, fp):
            raise NotFound(f"party {name!r} has no certificate with fingerprint {fp}")
        self.audit.record("party.cert.remove", name, fingerprint=fp)

    def issue_token(self, party_name: str, label: str = "") -> str:
        """A new token for the party; earlier tokens stay valid until revoked."""
        return self.issue(party_name, label).token

    def issue(self, party_name: str, label: str = "") -> IssuedToken:
        """:meth:`issue_token`, returning the token with its id."""
        _check_text("the token's label", label, LABEL_MAX)
        party = self._live(party_name)
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
        max_tlp = _tlp(max_tlp)
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
        party, col = self._live(party_name), self.collection(collection_id)
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

    # -- the collection's lifecycle

    def edit_collection(self, collection_id: str, *, title: str | None = None,
                        description: str | None = None, max_tlp: str | None = None,
                        require_signatures: bool | None = None, countersign: bool | None = None,
                        allow_personal_data: bool | None = None,
                        max_age_days: int | None = None, keep_forever: bool = False) -> Collection:
        """Change what is given (None: unchanged) of a collection's description and policy.

        ``max_age_days`` sets its retention (``abusehub retention run`` purges versions added
        longer ago); ``keep_forever`` clears it. The policy applies to what is submitted from
        now on; what is stored stays. The change is audited with the old and new values.
        """
        col = self.collection(collection_id)
        changes: dict[str, object] = {}
        if title is not None:
            if not title.strip():
                raise BadRequest("collection title must not be empty")
            _check_text("the collection title", title.strip(), TITLE_MAX)
            changes["title"] = title.strip()
        if description is not None:
            _check_text("the collection description", description)
            changes["description"] = description
        if max_tlp is not None:
            changes["max_tlp"] = _tlp(max_tlp)
        for key, flag in (("require_signatures", require_signatures), ("countersign", countersign),
                          ("allow_personal_data", allow_personal_data)):
            if flag is not None:
                changes[key] = flag
        if max_age_days is not None and keep_forever:
            raise BadRequest("give either a maximum age or 'keep forever', not both")
        if max_age_days is not None:
            if not 1 <= max_age_days <= MAX_AGE_DAYS_LIMIT:
                raise BadRequest(f"max age {max_age_days} days: must be between 1 and {MAX_AGE_DAYS_LIMIT}")
            changes["max_age_days"] = max_age_days
        if keep_forever:
            changes["max_age_days"] = None
        before = {**_policy(col), "max_age_days": self.store.collection_max_age(col.pk)}
        changed = {k: v for k, v in changes.items() if before.get(k) != v}
        if not changed:
            return col
        updated = self.store.update_collection(col.pk, changed)
        self.audit.record("collection.edit", "", col.id,
                          changes={k: {"from": before.get(k), "to": v} for k, v in changed.items()})
        return updated

    def max_age_days(self, collection_id: str) -> int | None:
        """The collection's retention in days, None when it keeps everything."""
        return self.store.collection_max_age(self.collection(collection_id).pk)

    def remove_collection(self, collection_id: str, purge: bool = False) -> int:
        """Delete a collection with its grants and statuses. Refused (:class:`Conflict`) while
        it holds objects, unless ``purge``: then they go too, and the audit record says how
        many. Returns how many object versions were deleted."""
        col = self.collection(collection_id)
        held = self.store.count_objects(col.pk)
        if held and not purge:
            raise Conflict(f"collection {col.id} holds {held} object version(s): remove it with "
                           "--purge to delete them with it, or keep it")
        count = self.store.delete_collection(col.pk)
        self.audit.record("collection.remove", "", col.id, title=col.title, purged=count)
        return count

    def list_grants(self, party_name: str | None = None,
                    collection_id: str | None = None) -> list[GrantRow]:
        """Every grant, or those of one party and/or one collection."""
        party_pk = self.party(party_name).pk if party_name is not None else None
        col_pk = self.collection(collection_id).pk if collection_id is not None else None
        return self.store.list_grants(party_pk, col_pk)


#: The attributes ``party edit`` may unset.
CLEARABLE = ("country", "entity", "shareability", "serves", "pseudonyms_per_minute")
#: The largest allowance of pseudonym evaluations a minute a party may be given, as for the
#: hub's ``[pseudonyms] per_minute``.
PSEUDONYMS_PER_MINUTE_MAX = 1_000_000
#: The longest organisation name (as the sharing extension's ``organisations`` allows).
ORGANISATION_MAX = 200
_COUNTRY_RE = re.compile(r"^[A-Z]{3}$")
_INTEGER_RE = re.compile(r"^[+-]?[0-9]{1,100}\Z")


def _organisation(value: str) -> str:
    text = value.strip()
    if not text or len(text) > ORGANISATION_MAX or not text.isprintable():
        raise BadRequest(f"organisation: 1 to {ORGANISATION_MAX} printable characters, such as USA.EXAMPLECLOUD")
    return text


def _country(value: str) -> str:
    code = value.strip().upper()
    if not _COUNTRY_RE.match(code):
        raise BadRequest("country: a GENC / ISO 3166-1 alpha-3 code of three letters, such as USA or DEU")
    return code


def _entity(value: str) -> str:
    code = value.strip().upper()
    if code not in ENTITY_TYPES:
        raise BadRequest(f"entity: one of the ACS entity types {', '.join(ENTITY_TYPES)}")
    return code


def _shareability(values: Sequence[str]) -> tuple[str, ...]:
    codes = [v.strip().upper() for v in values]
    wrong = [i for i, c in enumerate(codes) if c not in SHAREABILITY]
    if wrong:
        raise BadRequest(f"shareability: each value is one of the ACS shareability categories "
                         f"{', '.join(SHAREABILITY)} (value {wrong[0] + 1} is not)")
    return tuple(dict.fromkeys(codes))


def _serves(party: Party, values: Sequence[str]) -> tuple[str, ...]:
    if values and party.kind != PEER:
        raise BadRequest(f"party {party.name!r} is a {party.kind}: only a peer party (another hub) serves "
                         "other parties")
    ids = [v.strip() for v in values]
    wrong = [i for i, v in enumerate(ids) if not is_stix_id(v, "identity")]
    if wrong:
        raise BadRequest(f"serves: each value is the identity id (identity--UUID) of a party the peer hub "
                         f"serves (value {wrong[0] + 1} is not)")
    return tuple(dict.fromkeys(ids))


def _pseudonyms_per_minute(value: int | str) -> int:
    """A party's allowance of pseudonym evaluations a minute: a whole number from 1 to
    :data:`PSEUDONYMS_PER_MINUTE_MAX`; :class:`BadRequest` saying which rule it breaks."""
    rule = f"pseudonyms-per-minute: a whole number of values a minute from 1 to {PSEUDONYMS_PER_MINUTE_MAX}"
    if isinstance(value, bool):
        raise BadRequest(f"{rule}, not a truth value")
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER_RE.match(text):
            raise BadRequest(f"{rule}; {value[:40]!r} is not a number")
        value = int(text)
    if value < 1:
        raise BadRequest(f"{rule}; {value} is {'zero' if value == 0 else 'negative'}")
    if value > PSEUDONYMS_PER_MINUTE_MAX:
        raise BadRequest(f"{rule}; {value} is more")
    return value


def party_attributes(party: Party, *, organisation: str | None = None, country: str | None = None,
                     entity: str | None = None, shareability: Sequence[str] | None = None,
                     terms_accepted: bool | None = None, serves: Sequence[str] | None = None,
                     enforces_markings: bool | None = None, clear: Iterable[str] = (),
                     pseudonyms_per_minute: int | str | None = None) -> PartyAttributes:
    """The checked, normalised change of ``party``'s attributes (see :meth:`AdminService.edit_party`);
    :class:`BadRequest` naming the first value that is not allowed."""
    cleared = set(clear)
    unknown = sorted(cleared - set(CLEARABLE))
    if unknown:
        raise BadRequest(f"cannot clear {unknown[0]!r}: the attributes that may be cleared are {', '.join(CLEARABLE)}")
    both = sorted(n for n, v in (("country", country), ("entity", entity), ("shareability", shareability),
                                 ("serves", serves), ("pseudonyms_per_minute", pseudonyms_per_minute))
                  if v is not None and n in cleared)
    if both:
        raise BadRequest(f"{both[0]}: give a value or clear it, not both")
    if enforces_markings is not None and party.kind != PEER:
        raise BadRequest(f"party {party.name!r} is a {party.kind}: whether markings are enforced is said of "
                         "peer parties (other hubs) only; the hub enforces them for its own parties")
    return PartyAttributes(
        organisation=_organisation(organisation) if organisation is not None else None,
        country=_country(country) if country is not None else None,
        entity=_entity(entity) if entity is not None else None,
        shareability=() if "shareability" in cleared else
        (_shareability(shareability) if shareability is not None else None),
        terms_accepted=terms_accepted,
        serves=() if "serves" in cleared else (_serves(party, serves) if serves is not None else None),
        enforces_markings=enforces_markings,
        pseudonyms_per_minute=(_pseudonyms_per_minute(pseudonyms_per_minute)
                               if pseudonyms_per_minute is not None else None),
        clear=frozenset(cleared & {"country", "entity", "pseudonyms_per_minute"}))


def _attributes(party: Party) -> dict[str, object]:
    """A party's attributes as the audit trail records them."""
    return {"organisation": party.organisation or party.identity_id, "country": party.country,
            "entity": party.entity, "shareability": list(party.shareability),
            "terms_accepted": party.terms_accepted, "serves": list(party.serves),
            "enforces_markings": party.enforces_markings, "pseudonyms_per_minute": party.pseudonyms_per_minute}


def _policy(col: Collection) -> dict[str, object]:
    return {"title": col.title, "description": col.description, "max_tlp": col.max_tlp,
            "require_signatures": col.require_signatures, "countersign": col.countersign,
            "allow_personal_data": col.allow_personal_data}
