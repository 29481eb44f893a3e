"""Notices to the providers: the rules on ingest, and who acted on a notice.

Notices and acknowledgements are STIX objects in ordinary collections (:mod:`hub.stix.notice`);
the hub adds two things here.

- **The ingest rules** (:func:`make_notice_check`, one per-object check among the others): a
  notice is issued by an agency party, names it in ``created_by_ref`` and carries a signature by
  its registered key that verifies, whatever the collection's signature policy; a withdrawn
  notice stays withdrawn. An acknowledgement is made by a provider party, signed by it, answers a
  notice stored in the same collection that is not withdrawn and addresses that provider, has the
  one id of that notice and provider, and is marked TLP:RED with the issuing agency among the
  recipients of the hub's sharing extension, so the markings alone decide that only the agency
  and the provider read it. The scope and the dates are the validator's (the notice's own check).
  Objects relayed by a peer hub are judged by the signature policy only.
- **The status of a notice** (:class:`NoticeService`, :func:`tally`): per addressee, its newest
  answer (received, applied, not applicable, objection; a request's response, preserved or
  answered) or, with none that settles it once the notice is due
  (:func:`hub.stix.notice.due_us`), overdue by the hub's clock; read as the agency reads, so
  only the acknowledgements its markings admit count. Addressees are grouped by hub: this
  hub's, and those each peer hub reported in its roster.
- **Rosters** (:meth:`NoticeService.refresh_rosters`): for a notice it carries from another
  hub, this hub reports the providers it serves that the notice addresses and each one's state,
  in an ``abusehub-notice-roster`` signed with the hub's key and marked TLP:RED for the issuing
  agency, stored as the hub's own party; the federation engine refreshes them on each turn of
  a link, and the links carry them (and the providers' acknowledgements) back to the issuing
  hub. A roster is refused from any other local party than the hub itself.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.common.errors import BadRequest, NotFound
from hub.common.problems import Code, Problem
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.services.access.auth import Principal
from hub.services.clock import Clock
from hub.services.ingest import IngestService
from hub.services.ingest.checks import CheckContext, ObjectCheck
from hub.services.keys import HUB_PARTY, HubSigner, KeyService
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, sign_object, signatures_of
from hub.stix.markings import object_tlp, tlp_level
from hub.stix.notice import ack_id, addressed_to, build_roster, due_us, in_force, roster_id
from hub.stix.notice_facts import ACK_TYPE, NOTICE_TYPE, REQUEST_KINDS, RESPONSE_FOR, ROSTER_TYPE, RosterFacts
from hub.stix.sharing import recipients_of
from hub.store.base import Store
from hub.store.records import Collection, Grant, ObjectFilter, Party

log = logging.getLogger("abusehub.notices")

__all__ = ["HERE", "UNKNOWN", "AddresseeStatus", "NoticeService", "NoticeStatus", "make_notice_check", "tally"]

_EXT_PATH = f"extensions[{SIGNATURE_EXTENSION_ID!r}]"
_RED = tlp_level("red")
#: Answers that settle a notice for an addressee (received alone does not).
SETTLED = ("applied", "not-applicable", "objection")


# -- ingest -------------------------------------------------------------------------------------------


def _signed_by(obj: dict[str, Any], party: Party, ctx: CheckContext, keys: KeyService, what: str) -> Problem | None:
    """The object names ``party`` as its creator and carries a valid signature by its key."""
    if obj.get("created_by_ref") != party.identity_id:
        return Problem(Code.NOT_THE_SUBMITTER,
                       f"{what}: created_by_ref is not the submitter's identity {party.identity_id}",
                       "created_by_ref")
    try:
        entries = [e for e in signatures_of(obj) if e.signer == party.identity_id]
    except SignatureFormatError:
        return Problem(Code.MALFORMED_SIGNATURE, f"{what}: malformed signature (`abusehub verify` tells why)",
                       _EXT_PATH)
    if not entries:
        return Problem(Code.NOT_SIGNED, f"{what} must be signed by its issuer {party.identity_id}", _EXT_PATH)
    keyset = ctx.cache.get("keys")
    if keyset is None:
        keyset = ctx.cache["keys"] = keys.keyset()
    reasons = [keyset.check(obj, e, ctx.now_us, new_submission=True) for e in entries]
    if all(reasons):
        return Problem(Code.BAD_SIGNATURE, f"{what}: {reasons[0]}", _EXT_PATH)
    return None


def _newest(store: Store, ctx: CheckContext, stix_id: str) -> dict[str, Any] | None:
    """The newest stored version of ``stix_id`` in the collection (the hub's own read)."""
    page = store.query_objects(ctx.collection.pk, ObjectFilter(ids=(stix_id,)), None, 1)
    if not page.items:
        return None
    data = orjson.loads(page.items[0].json_text)
    return data if isinstance(data, dict) else None


def _check_notice(store: Store, keys: KeyService, obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
    party = ctx.principal.party
    if party.kind != "agency":
        return Problem(Code.NOT_THE_SUBMITTER,
                       f"a notice is issued by an agency party; {party.name} is a {party.kind}", "type")
    problem = _signed_by(obj, party, ctx, keys, "a notice")
    if problem is not None:
        return problem
    earlier = _newest(store, ctx, obj["id"])
    if earlier is None:
        return None
    if earlier.get("created_by_ref") != party.identity_id:
        return Problem(Code.NOT_THE_SUBMITTER, f"notice {obj['id']} was issued by {earlier.get('created_by_ref')}: "
                                               "only its issuer makes new versions of it", "created_by_ref")
    if earlier.get("withdrawn") is True and obj.get("withdrawn") is not True \
            and obj.get("modified", "") > earlier.get("modified", ""):
        return Problem(Code.INVALID_VALUE, f"notice {obj['id']} was withdrawn: issue a new notice instead",
                       "withdrawn")
    return None


def _check_ack(store: Store, keys: KeyService, obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
    party = ctx.principal.party
    if party.kind != "provider":
        return Problem(Code.NOT_THE_SUBMITTER,
                       f"a notice is acknowledged by a provider party; {party.name} is a {party.kind}", "type")
    problem = _signed_by(obj, party, ctx, keys, "an acknowledgement")
    if problem is not None:
        return problem
    ref = obj.get("notice_ref")
    if not isinstance(ref, str):
        return Problem(Code.MISSING_PROPERTY, "an acknowledgement names its notice in notice_ref", "notice_ref")
    notice = _newest(store, ctx, ref)
    if notice is None or notice.get("type") != NOTICE_TYPE:
        return Problem(Code.INVALID_VALUE, f"unknown notice {ref} in collection {ctx.collection.id}", "notice_ref")
    if notice.get("withdrawn") is True:
        return Problem(Code.INVALID_VALUE, f"notice {ref} was withdrawn: it takes no acknowledgement", "notice_ref")
    if not addressed_to(notice, party.identity_id):
        return Problem(Code.INVALID_VALUE, f"notice {ref} does not address {party.identity_id}", "notice_ref")
    problem = _response_fits(obj, notice, ref)
    if problem is not None:
        return problem
    if obj["id"] != ack_id(ref, party.identity_id):
        return Problem(Code.INVALID_ID, f"an acknowledgement of {ref} by {party.identity_id} has the id "
                                        f"{ack_id(ref, party.identity_id)}", "id")
    agency = notice.get("created_by_ref")
    if object_tlp(obj) != _RED or agency not in recipients_of(obj):
        return Problem(Code.RED_WITHOUT_RECIPIENTS,
                       f"an acknowledgement is marked TLP:RED with the issuing agency {agency} among the "
                       "recipients of the hub's sharing extension", "object_marking_refs")
    return None


def _response_fits(obj: Mapping[str, Any], notice: Mapping[str, Any], ref: str) -> Problem | None:
    """A response (``response`` set) answers a request of its kind: preserved a
    preservation-request, answered an information-request."""
    response = obj.get("response")
    if response is None:
        return None
    kind = notice.get("notice_kind")
    a = "an" if str(kind)[:1] in "aeiou" else "a"
    if kind not in REQUEST_KINDS:
        return Problem(Code.INVALID_VALUE, f"notice {ref} is {a} {kind}: only a preservation-request or an "
                                           "information-request takes a response", "response")
    if RESPONSE_FOR.get(str(response)) != kind:
        return Problem(Code.INVALID_VALUE, f"notice {ref} is {a} {kind}: it is answered with response "
                                           f"{next(r for r, k in RESPONSE_FOR.items() if k == kind)!r}", "response")
    return None


def make_notice_check(store: Store, keys: KeyService) -> ObjectCheck:
    """The ingest check of notices and acknowledgements (other objects pass untouched)."""

    def check(obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
        kind = obj.get("type")
        if kind not in (NOTICE_TYPE, ACK_TYPE, ROSTER_TYPE) or ctx.principal.party.kind == "peer":
            return None
        if kind == ROSTER_TYPE:
            return None if ctx.principal.party.kind == "hub" else Problem(
                Code.NOT_THE_SUBMITTER, f"a notice roster is made by a hub; {ctx.principal.party.name} is a "
                                        f"{ctx.principal.party.kind}", "type")
        if kind == NOTICE_TYPE:
            return _check_notice(store, keys, obj, ctx)
        return _check_ack(store, keys, obj, ctx)

    return check


# -- status ---------------------------------------------------------------------------------------------

#: The hub label of addressees this hub serves, and of named addressees no hub reports.
HERE = "here"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class AddresseeStatus:
    """One addressee of a notice: its ``state`` (pending, received, applied, not-applicable,
    objection, overdue; for a request, preserved or answered once it responded), its newest
    answer and when it was given (``answered``), and the ``hub`` that serves it (:data:`HERE`,
    a peer hub's party name, or :data:`UNKNOWN`)."""

    identity_id: str
    name: str | None
    state: str
    answer: str | None = None
    answered: str | None = None
    accounts_affected: int | None = None
    note: str | None = None
    #: A response to a request: preserved (with the provider's reference) or answered (the
    #: answer's pseudonyms, by kind).
    response: str | None = None
    preservation_reference: str | None = None
    preserved_until: str | None = None
    answer_pseudonyms: dict[str, list[str]] | None = None
    hub: str = HERE
    #: The state the addressee's hub reported in its roster (None: this hub's own addressee).
    reported: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class NoticeStatus:
    """Who acted on one notice, by the hub's clock ``now``; ``reports``: per peer hub that
    reported its addressees, when its roster was made (its clock)."""

    notice_id: str
    title: str
    notice_kind: str
    state: str  # in force, not yet in force, ended, withdrawn
    due: str | None
    now: str
    addressees: list[AddresseeStatus] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(a.state for a in self.addressees))

    def by_hub(self) -> dict[str, list[AddresseeStatus]]:
        """The addressees grouped by hub: this hub's first, then peers by name, unknown last."""
        groups: dict[str, list[AddresseeStatus]] = {}
        for a in sorted(self.addressees, key=lambda a: (a.hub != HERE, a.hub == UNKNOWN, a.hub)):
            groups.setdefault(a.hub, []).append(a)
        return groups

    def to_json(self) -> dict[str, Any]:
        return {"notice_id": self.notice_id, "title": self.title, "notice_kind": self.notice_kind,
                "state": self.state, "due": self.due, "now": self.now, "counts": self.counts,
                "hubs": [{"hub": hub, "reported": self.reports.get(hub),
                          "counts": dict(Counter(a.state for a in rows))} for hub, rows in self.by_hub().items()],
                "addressees": [a.to_json() for a in self.addressees]}

    def without_content(self) -> NoticeStatus:
        """The status as an operator reads it: who acted and when, without the answers'
        content (notes, references, answers)."""
        rows = [replace(a, note=None, preservation_reference=None, answer_pseudonyms=None) for a in self.addressees]
        return replace(self, addressees=rows)


def _notice_state(notice: Mapping[str, Any], now_us: int) -> str:
    if notice.get("withdrawn") is True:
        return "withdrawn"
    if in_force(notice, now_us):
        return "in force"
    start = notice.get("effective_from")
    return "not yet in force" if start is not None and parse_timestamp_us(start) > now_us else "ended"


def _row(identity: str, name: str | None, state: str, ack: Mapping[str, Any] | None, hub: str,
         reported: str | None) -> AddresseeStatus:
    if ack is None:
        return AddresseeStatus(identity, name, state, hub=hub, reported=reported)
    return AddresseeStatus(identity, name, state, ack.get("status"), ack.get("modified"),
                           ack.get("accounts_affected"), ack.get("note"), ack.get("response"),
                           ack.get("preservation_reference"), ack.get("preserved_until"),
                           ack.get("answer_pseudonyms"), hub, reported)


def _state(ack: Mapping[str, Any] | None, reported: str | None, late: bool) -> str:
    """An addressee's state: by its newest answer read here; without one, by what its hub
    reported; pending or received turn overdue once the notice is due (by this hub's clock)."""
    if ack is not None and ack.get("response") is not None:  # a request answered: what was done
        return str(ack["response"])
    answer = ack.get("status") if ack is not None else reported
    if answer in SETTLED or answer in RESPONSE_FOR:
        return str(answer)
    if late or answer == "overdue":
        return "overdue"
    return str(answer or "pending")


def tally(notice: Mapping[str, Any], acks: Iterable[Mapping[str, Any]], addressees: Mapping[str, str | None],
          now_us: int, *, hubs: Mapping[str, str] | None = None, reported: Mapping[str, str] | None = None,
          reports: Mapping[str, str] | None = None) -> NoticeStatus:
    """The status of ``notice`` from the acknowledgements ``acks`` (newest versions; others are
    ignored), for ``addressees`` (identity id -> party name, None when not known here), by name
    (then those without one, by identity id). ``hubs``: identity id -> the hub that serves it
    (default :data:`HERE`); ``reported``: identity id -> the state its hub's roster gave, used
    when no answer is read here; ``reports``: hub -> when its roster was made."""
    hubs, reported = hubs or {}, reported or {}
    answers: dict[str, Mapping[str, Any]] = {}
    for one in acks:
        who = one.get("created_by_ref")
        if one.get("notice_ref") == notice["id"] and isinstance(who, str) and who in addressees:
            if who not in answers or one.get("modified", "") > answers[who].get("modified", ""):
                answers[who] = one
    due = due_us(notice)
    late = due is not None and now_us > due and notice.get("withdrawn") is not True
    rows = []
    for identity in sorted(addressees, key=lambda i: (addressees[i] is None, addressees[i] or "", i)):
        ack = answers.get(identity)
        rows.append(_row(identity, addressees[identity], _state(ack, reported.get(identity), late), ack,
                         hubs.get(identity, HERE), reported.get(identity)))
    return NoticeStatus(notice["id"], str(notice.get("name", "")), str(notice.get("notice_kind", "")),
                        _notice_state(notice, now_us), format_timestamp_us(due) if due is not None else None,
                        format_timestamp_us(now_us), rows, dict(reports or {}))


class NoticeService:
    """The status of notices, read as one party (the issuing agency, or an operator acting as
    it), and this hub's rosters of the notices it carries from other hubs (:meth:`refresh_rosters`,
    which needs the hub's ``signer`` and ``ingest``)."""

    def __init__(self, store: Store, clock: Clock, *, signer: HubSigner | None = None,
                 ingest: IngestService | None = None) -> None:
        self.store = store
        self.clock = clock
        self.signer = signer
        self.ingest = ingest
        self._rosters = threading.Lock()

    def _reader(self, party_name: str, collection_id: str) -> tuple[Party, Any]:
        party = self.store.get_party(party_name)
        if party is None:
            raise NotFound(f"no party {party_name!r}")
        col = self.store.get_collection(collection_id)
        grant = self.store.grants_for(party.pk).get(col.pk) if col is not None else None
        if col is None or grant is None or not grant.can_read:
            raise NotFound(f"no collection {collection_id!r} that {party_name} may read")
        return party, col

    def objects(self, col_pk: int, flt: ObjectFilter) -> list[dict[str, Any]]:
        """Every object of collection ``col_pk`` that ``flt`` selects (as the filter's reader
        may read them), read page by page."""
        out: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page = self.store.query_objects(col_pk, flt, after, 1000)
            out += [orjson.loads(item.json_text) for item in page.items]
            if not page.more or not page.items:
                return out
            after = page.items[-1].key

    def addressees(self, notice: Mapping[str, Any], col_pk: int, parties: Sequence[Party] | None = None,
                   grants: Mapping[int, Grant] | None = None) -> dict[str, str | None]:
        """identity id -> party name of every addressee here: those named, or else every
        provider party that may read the notice's collection (``grants``: the collection's, by
        party, when the caller has read them)."""
        by_identity = {p.identity_id: p for p in (self.store.list_parties() if parties is None else parties)}
        named: Sequence[str] | None = notice.get("addressee_refs")
        if named:
            return {i: (by_identity[i].name if i in by_identity else None) for i in named}
        grants = self.store.grants_of(col_pk) if grants is None else grants
        return {p.identity_id: p.name for p in by_identity.values()
                if p.kind == "provider" and (g := grants.get(p.pk)) is not None and g.can_read}

    def _resolve(self, party_name: str, col: Collection, notice_id: str) -> str:
        if notice_id.isdigit():  # the number `abusehub notice list` shows
            listed = self.notices(party_name, col.id)
            if not 1 <= int(notice_id) <= len(listed):
                raise NotFound(f"no notice number {notice_id} that {party_name} may read in collection {col.id}")
            return str(listed[int(notice_id) - 1]["id"])
        if not notice_id.startswith(f"{NOTICE_TYPE}--"):
            raise BadRequest(f"{notice_id!r} is not a notice id ({NOTICE_TYPE}--<uuid>) or number")
        return notice_id

    def status(self, party_name: str, collection_id: str, notice_id: str) -> NoticeStatus:
        """Who acted on ``notice_id``, from what ``party_name`` may read of ``collection_id``:
        this hub's addressees, and those each peer hub reported in its roster, by hub."""
        party, col = self._reader(party_name, collection_id)
        notice_id = self._resolve(party_name, col, notice_id)
        found = self.objects(col.pk, ObjectFilter(ids=(notice_id,), reader_pk=party.pk))
        if not found:
            raise NotFound(f"no notice {notice_id} that {party_name} may read in collection {col.id}")
        return self._status(found[0], col, party.pk)

    def _status(self, notice: Mapping[str, Any], col: Collection, reader_pk: int) -> NoticeStatus:
        notice_id = str(notice["id"])
        parties = self.store.list_parties()
        grants = self.store.grants_of(col.pk)
        addressees = self.addressees(notice, col.pk, parties, grants)
        hubs = dict.fromkeys(addressees, HERE)
        peers = self._hubs(parties)
        named = set(notice.get("addressee_refs") or ())
        serving = {p.identity_id for p in parties
                   if p.kind == "provider" and (g := grants.get(p.pk)) is not None and g.can_read}
        reported: dict[str, str] = {}
        reports: dict[str, str] = {}
        roster_ids = tuple(sorted(roster_id(notice_id, hub) for hub in peers))
        rosters = self.objects(col.pk, ObjectFilter(ids=roster_ids, reader_pk=reader_pk)) if roster_ids else []
        for roster in sorted(rosters, key=lambda r: str(r.get("created_by_ref"))):
            hub = roster.get("created_by_ref")
            if hub not in peers or roster.get("notice_ref") != notice_id or roster["id"] != roster_id(notice_id, hub):
                continue
            reports[peers[hub]] = str(roster.get("as_of"))
            for entry in roster.get("addressees", ()):
                identity = entry["identity_ref"]
                if identity in serving or (named and identity not in named):
                    continue  # this hub's own provider, or one the notice does not address
                addressees[identity] = entry["name"]
                hubs[identity] = peers[hub]
                reported[identity] = entry["state"]
        for identity in named:
            if hubs.get(identity) == HERE and identity not in serving:
                hubs[identity] = UNKNOWN
        ids = tuple(sorted(ack_id(notice_id, a) for a in addressees))
        acks = self.objects(col.pk, ObjectFilter(ids=ids, types=(ACK_TYPE,), reader_pk=reader_pk)) if ids else []
        return tally(notice, acks, addressees, self.clock(), hubs=hubs, reported=reported, reports=reports)

    def _hubs(self, parties: Sequence[Party]) -> dict[str, str]:
        """identity id -> name of each peer hub's identity: the peer's name where the identity is
        pinned to a peer (``peer add`` pins the peer hub's own), else its party's name."""
        names = {p.identity_id: p.name for p in parties if p.kind == "peer"}
        for peer in self.store.list_peers():
            for identity in self.store.identities_of(peer.pk):
                if identity in names:
                    names[identity] = peer.name
        return names

    def status_for(self, principal: Principal, collection_id: str, notice_id: str) -> NoticeStatus:
        """The status of ``notice_id`` (its id, or the number ``notice list`` shows it with) for
        the TAXII API: read by the agency that issued it, as it reads, and by an operator,
        who sees it as the issuing agency would without the answers' content. Anyone else, a
        collection it may not read and a notice not stored are all :class:`NotFound` alike."""
        party = principal.party
        col = self.store.get_collection(collection_id)
        missing = NotFound(f"no notice {notice_id} in collection {collection_id} whose status you may read")
        if col is None or not principal.can_read(col):
            raise missing
        if notice_id.isdigit() and party.kind == "agency":
            notice_id = self._resolve(party.name, col, notice_id)
        if not notice_id.startswith(f"{NOTICE_TYPE}--"):
            raise missing
        found = self.objects(col.pk, ObjectFilter(ids=(notice_id,)))  # the hub's own read, then who asks
        if not found or found[0].get("type") != NOTICE_TYPE:
            raise missing
        notice = found[0]
        if notice.get("created_by_ref") == party.identity_id:
            return self._status(notice, col, party.pk)
        if not party.operator:
            raise missing
        issuer = next((p for p in self.store.list_parties() if p.identity_id == notice.get("created_by_ref")), None)
        if issuer is None:
            raise missing
        return self._status(notice, col, issuer.pk).without_content()

    def notices(self, party_name: str, collection_id: str) -> list[dict[str, Any]]:
        """The newest version of every notice ``party_name`` may read in the collection, in the
        order ``abusehub notice list`` numbers them (by ``created``, then id)."""
        party, col = self._reader(party_name, collection_id)
        found = self.objects(col.pk, ObjectFilter(types=(NOTICE_TYPE,), reader_pk=party.pk))
        return sorted(found, key=lambda o: (str(o.get("created", "")), str(o["id"])))

    # -- rosters: this hub's report of the notices it carries from other hubs

    def refresh_rosters(self, collection_id: str) -> int:
        """Make a new version of this hub's roster of each notice in the collection issued at
        another hub (its issuer is no agency party here) whose addressees or their states
        changed since the last one: the providers this hub serves that the notice addresses,
        each with its state by this hub's clock, signed with the hub's key, TLP:RED for the
        issuing agency, stored through ingest as the hub's own party (so links carry it back).
        Returns how many rosters were stored."""
        if self.signer is None or self.ingest is None:
            return 0
        col = self.store.get_collection(collection_id)
        if col is None:
            raise NotFound(f"no collection {collection_id!r}")
        hub_party = self.store.get_party(HUB_PARTY)
        if hub_party is None:
            return 0
        with self._rosters:
            parties = self.store.list_parties()
            here = {p.identity_id for p in parties if p.kind == "agency"}
            notices = [n for n in self.objects(col.pk, ObjectFilter(types=(NOTICE_TYPE,)))
                       if n.get("created_by_ref") not in here and isinstance(n.get("created_by_ref"), str)]
            if not notices:
                return 0
            key, identity = self.signer.ensure()
            providers = [p for p in parties if p.kind == "provider"]
            made = []
            for notice in notices:
                roster = self._roster(notice, col, providers, identity)
                if roster is not None:
                    made.append(sign_object(roster, key, identity))
            if not made:
                return 0
            principal = Principal(hub_party, {col.pk: Grant(hub_party.pk, col.pk, True, True)})
            status = self.ingest.submit(principal, col, {"objects": made})
            for failure in status.failures:
                log.warning("roster %s not stored in collection %s: %s", failure.get("id"), col.id,
                            failure.get("message"))
            return len(made) - len(status.failures)

    def _roster(self, notice: Mapping[str, Any], col: Collection, providers: Sequence[Party],
                identity: str) -> dict[str, Any] | None:
        """The next version of this hub's roster of ``notice`` (unsigned), or None when the one
        stored says the same."""
        grants = self.store.grants_of(col.pk)
        readers = {p.identity_id for p in providers if (g := grants.get(p.pk)) is not None and g.can_read}
        addressees = {i: name for i, name in self.addressees(notice, col.pk, providers).items()
                      if name is not None and i in readers}
        ids = tuple(sorted(ack_id(str(notice["id"]), a) for a in addressees))
        acks = self.objects(col.pk, ObjectFilter(ids=ids, types=(ACK_TYPE,))) if ids else []
        now = self.clock()
        status = tally(notice, acks, addressees, now)
        entries = tuple({"identity_ref": a.identity_id, "name": a.name or a.identity_id, "state": a.state}
                        for a in status.addressees)
        previous = next(iter(self.objects(col.pk, ObjectFilter(ids=(roster_id(str(notice["id"]), identity),)))),
                        None)
        stamp = datetime.fromtimestamp(now / 1e6, UTC)
        version = datetime.fromtimestamp(parse_timestamp_us(str(notice["modified"])) / 1e6, UTC)
        facts = RosterFacts(notice_ref=str(notice["id"]), notice_modified=version, as_of=stamp,
                            addressees=entries)
        roster = build_roster(facts, hub=identity, agency=str(notice["created_by_ref"]), now=stamp,
                              previous=previous)
        if previous is not None and all(previous.get(k) == roster.get(k) for k in ("notice_modified", "addressees")):
            return None
        return roster
