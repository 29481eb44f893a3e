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
  answer (received, applied, not applicable, objection) or, with none that settles it once the
  notice is due (:func:`hub.stix.notice.due_us`), overdue by the hub's clock; read as the agency
  reads, so only the acknowledgements its markings admit count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.common.errors import BadRequest, NotFound
from hub.common.problems import Code, Problem
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.services.clock import Clock
from hub.services.ingest.checks import CheckContext, ObjectCheck
from hub.services.keys import KeyService
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, signatures_of
from hub.stix.markings import object_tlp, tlp_level
from hub.stix.notice import ack_id, addressed_to, due_us, in_force
from hub.stix.notice_facts import ACK_TYPE, NOTICE_TYPE, REQUEST_KINDS, RESPONSE_FOR
from hub.stix.sharing import recipients_of
from hub.store.base import Store
from hub.store.records import ObjectFilter, Party

__all__ = ["AddresseeStatus", "NoticeService", "NoticeStatus", "make_notice_check", "tally"]

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
        if kind not in (NOTICE_TYPE, ACK_TYPE) or ctx.principal.party.kind == "peer":
            return None
        if kind == NOTICE_TYPE:
            return _check_notice(store, keys, obj, ctx)
        return _check_ack(store, keys, obj, ctx)

    return check


# -- status ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddresseeStatus:
    """One addressee of a notice: its ``state`` (pending, received, applied, not-applicable,
    objection, overdue; for a request, preserved or answered once it responded), its newest answer and when it was given (``answered``)."""

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

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class NoticeStatus:
    """Who acted on one notice, by the hub's clock ``now``."""

    notice_id: str
    title: str
    notice_kind: str
    state: str  # in force, not yet in force, ended, withdrawn
    due: str | None
    now: str
    addressees: list[AddresseeStatus] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(a.state for a in self.addressees))

    def to_json(self) -> dict[str, Any]:
        return {"notice_id": self.notice_id, "title": self.title, "notice_kind": self.notice_kind,
                "state": self.state, "due": self.due, "now": self.now, "counts": self.counts,
                "addressees": [a.to_json() for a in self.addressees]}


def _notice_state(notice: Mapping[str, Any], now_us: int) -> str:
    if notice.get("withdrawn") is True:
        return "withdrawn"
    if in_force(notice, now_us):
        return "in force"
    start = notice.get("effective_from")
    return "not yet in force" if start is not None and parse_timestamp_us(start) > now_us else "ended"


def _row(identity: str, name: str | None, state: str, ack: Mapping[str, Any] | None) -> AddresseeStatus:
    if ack is None:
        return AddresseeStatus(identity, name, state)
    return AddresseeStatus(identity, name, state, ack.get("status"), ack.get("modified"),
                           ack.get("accounts_affected"), ack.get("note"), ack.get("response"),
                           ack.get("preservation_reference"), ack.get("preserved_until"),
                           ack.get("answer_pseudonyms"))


def tally(notice: Mapping[str, Any], acks: Iterable[Mapping[str, Any]], addressees: Mapping[str, str | None],
          now_us: int) -> NoticeStatus:
    """The status of ``notice`` from the acknowledgements ``acks`` (newest versions; others are
    ignored), for ``addressees`` (identity id -> party name, None when not known here), by name
    (then those without one, by identity id)."""
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
        ack: Mapping[str, Any] | None = answers.get(identity)
        answer = ack.get("status") if ack is not None else None
        state = answer if answer in SETTLED else ("overdue" if late else (answer or "pending"))
        if ack is not None and ack.get("response") is not None:  # a request answered: what was done
            state = ack["response"]
        rows.append(_row(identity, addressees[identity], str(state), ack))
    return NoticeStatus(notice["id"], str(notice.get("name", "")), str(notice.get("notice_kind", "")),
                        _notice_state(notice, now_us), format_timestamp_us(due) if due is not None else None,
                        format_timestamp_us(now_us), rows)


class NoticeService:
    """The status of notices, read as one party (the issuing agency, or an operator acting as it)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _reader(self, party_name: str, collection_id: str) -> tuple[Party, Any]:
        party = self.store.get_party(party_name)
        if party is None:
            raise NotFound(f"no party {party_name!r}")
        col = self.store.get_collection(collection_id)
        grant = self.store.grants_for(party.pk).get(col.pk) if col is not None else None
        if col is None or grant is None or not grant.can_read:
            raise NotFound(f"no collection {collection_id!r} that {party_name} may read")
        return party, col

    def _objects(self, col_pk: int, flt: ObjectFilter) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page = self.store.query_objects(col_pk, flt, after, 1000)
            out += [orjson.loads(item.json_text) for item in page.items]
            if not page.more or not page.items:
                return out
            after = page.items[-1].key

    def addressees(self, notice: Mapping[str, Any], col_pk: int) -> dict[str, str | None]:
        """identity id -> party name of every addressee: those named, or else every provider
        party that may read the notice's collection."""
        parties = {p.identity_id: p for p in self.store.list_parties()}
        named: Sequence[str] | None = notice.get("addressee_refs")
        if named:
            return {i: (parties[i].name if i in parties else None) for i in named}
        return {p.identity_id: p.name for p in parties.values()
                if p.kind == "provider" and (g := self.store.grants_for(p.pk).get(col_pk)) is not None and g.can_read}

    def status(self, party_name: str, collection_id: str, notice_id: str) -> NoticeStatus:
        """Who acted on ``notice_id``, from what ``party_name`` may read of ``collection_id``."""
        party, col = self._reader(party_name, collection_id)
        if notice_id.isdigit():  # the number `abusehub notice list` shows
            listed = self.notices(party_name, collection_id)
            if not 1 <= int(notice_id) <= len(listed):
                raise NotFound(f"no notice number {notice_id} that {party_name} may read in collection {col.id}")
            notice_id = str(listed[int(notice_id) - 1]["id"])
        if not notice_id.startswith(f"{NOTICE_TYPE}--"):
            raise BadRequest(f"{notice_id!r} is not a notice id ({NOTICE_TYPE}--<uuid>) or number")
        found = self._objects(col.pk, ObjectFilter(ids=(notice_id,), reader_pk=party.pk))
        if not found:
            raise NotFound(f"no notice {notice_id} that {party_name} may read in collection {col.id}")
        notice = found[0]
        addressees = self.addressees(notice, col.pk)
        ids = tuple(sorted(ack_id(notice_id, a) for a in addressees))
        acks = self._objects(col.pk, ObjectFilter(ids=ids, types=(ACK_TYPE,), reader_pk=party.pk)) if ids else []
        return tally(notice, acks, addressees, self.clock())

    def notices(self, party_name: str, collection_id: str) -> list[dict[str, Any]]:
        """The newest version of every notice ``party_name`` may read in the collection, in the
        order ``abusehub notice list`` numbers them (by ``created``, then id)."""
        party, col = self._reader(party_name, collection_id)
        found = self._objects(col.pk, ObjectFilter(types=(NOTICE_TYPE,), reader_pk=party.pk))
        return sorted(found, key=lambda o: (str(o.get("created", "")), str(o["id"])))
