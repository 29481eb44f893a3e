"""Marking decisions: which parties may read each stored object version.

Every object version gets an **audience** once, at ingest (:meth:`MarkingService.classify`, from
its markings and its submitter, judged by :mod:`hub.stix.sharing`), never at read time. An
audience that restricts nothing (no marking, TLP CLEAR or GREEN, no ACS marking) is audience 0,
"every reader of the collection"; any other is a row of the store's ``audiences`` table, and the
parties it admits are precomputed in ``audience_members`` (:meth:`MarkingService.resolve`, inside
the transaction that stores the first object using it). A read by a party then asks the store
for the versions whose audience is 0 or one the party is a member of: one SQL condition, applied
before paging (:attr:`hub.store.records.ObjectFilter.reader_pk`).

Memberships follow the parties: ``party add``, ``edit``, ``disable``, ``enable`` and ``remove``
recompute the party's memberships over every audience (:meth:`MarkingService.refresh`); a
removed party belongs to none. A new audience's members are computed from the parties as they
are before the transaction that makes it, at a *parties generation* that every refresh raises;
the store makes the audience only if the generation has not moved since
(:meth:`hub.store.audiences.AudienceStore.ensure_audience`), else the members are computed
again (docs/MARKINGS.md, "Memberships while parties change"). The upgrade to audiences classifies the objects stored before them
(:meth:`MarkingService.backfill`, run by ``abusehub migrate``): objects marked TLP RED or
AMBER+STRICT, which every reader of their collection read until then, keep audience 0 with their
new audience pending, until an operator runs ``abusehub markings apply``
(:meth:`MarkingService.pending`, :meth:`MarkingService.apply`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hub.common.problems import Code, Problem
from hub.services.access.auth import Principal
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.stix.markings import AMBER_STRICT, TLP_LEVEL_BY_ID
from hub.stix.sharing import PEER, Audience, Reader, admits, audience_of
from hub.store.base import StaleMembers, Store, Transaction
from hub.store.records import AudienceRecord, Party

__all__ = ["CLASSIFIED_SETTING", "BackfillResult", "MarkingService", "classification_problem"]

#: The hub setting that records that the objects stored before audiences existed were classified
#: (``"1"``): ``abusehub migrate`` sets it, and the hub serves nothing until it is set.
CLASSIFIED_SETTING = "audiences_classified"
#: How many stored objects the back-fill reads at a time.
BACKFILL_BATCH = 2000
#: How many times an audience's members are computed again, for a store call of its own, while
#: parties keep changing under it (inside a transaction, once is enough).
_STALE_ATTEMPTS = 5


def classification_problem(store: Store) -> str | None:
    """The line that refuses to serve a database whose objects' audiences were never classified
    (a schema migrated by a tool other than ``abusehub migrate``, or a migration interrupted
    before the back-fill ended), or None when they were."""
    if store.get_setting(CLASSIFIED_SETTING) == "1":
        return None
    return ("the objects stored before markings were enforced have not been classified yet: "
            "run 'abusehub migrate'")


@dataclass(frozen=True)
class BackfillResult:
    """What classifying the stored objects did.

    ``examined``: the object versions that mention a marking (the others have audience 0);
    ``restricted``: those given a restricting audience at once (TLP AMBER, ACS markings);
    ``pending``: those marked RED or AMBER+STRICT, or whose markings could not be judged, that
    keep audience 0 until ``abusehub markings apply``.
    """

    examined: int = 0
    restricted: int = 0
    pending: int = 0
    unjudged: int = 0


def _object_tlp(obj: Mapping[str, Any]) -> int:
    """The highest TLP level among the object's own markings (-1 when it has none)."""
    refs = obj.get("object_marking_refs")
    if not isinstance(refs, list):
        return -1
    return max((TLP_LEVEL_BY_ID[r] for r in refs if isinstance(r, str) and r in TLP_LEVEL_BY_ID), default=-1)


class MarkingService:
    """Classifies objects into audiences, keeps the audiences' members, and upgrades a hub.

    Audience rows are never changed or deleted once made, so what is known of them (their pk by
    key, their parsed form by pk) is kept in memory; a key is remembered only once the row that
    holds it is committed (:meth:`remember`).
    """

    def __init__(self, store: Store, clock: Clock, audit: AuditService) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self._lock = threading.Lock()
        self._pk_by_key: dict[str, int] = {}
        self._by_pk: dict[int, Audience] = {}
        self._loaded_to = 0  # the highest audience pk read from the store

    # -- parties as readers

    @staticmethod
    def reader(party: Party) -> Reader:
        """What markings are judged against for ``party``: its identity, kind and attributes. A
        party whose organisation was never set is an organisation of its own (its identity id)."""
        return Reader(identity_id=party.identity_id, kind=party.kind,
                      organisation=party.organisation or party.identity_id, country=party.country,
                      entity=party.entity, shareability=tuple(party.shareability),
                      terms_accepted=party.terms_accepted, serves=tuple(party.serves),
                      enforces_markings=party.enforces_markings)

    def _live_parties(self) -> list[Party]:
        """Every party that was not removed (disabled ones too: they may be enabled again)."""
        return [p for p in self.store.list_parties() if self.store.party_state(p.pk).removed_us is None]

    def _current(self) -> tuple[int, list[Party]]:
        """The parties generation, then the live parties (read after it: members computed from
        them are current as of that generation)."""
        generation = self.store.parties_generation()
        return generation, self._live_parties()

    def known_recipients(self) -> frozenset[str]:
        """The identity ids a submitter may name as recipients: every live party's, and every
        identity a live peer party serves."""
        known: set[str] = set()
        for party in self._live_parties():
            known.add(party.identity_id)
            if party.kind == PEER:
                known.update(party.serves)
        return frozenset(known)

    # -- ingest

    def classify(self, obj: dict[str, Any], principal: Principal, ctx_definitions: Mapping[str, dict[str, Any]],
                 known_recipients: Callable[[], frozenset[str]] | None = None) -> Audience | Problem:
        """The audience of ``obj`` submitted by ``principal``, or the problem that refuses it.

        ``ctx_definitions`` are the marking definitions the object may use (by id: those of the
        same envelope the hub accepted, and those stored in the collection). A submitter that is
        not a peer may name only recipients that exist (:meth:`known_recipients`; pass
        ``known_recipients`` to compute that set once per submission); objects coming from a peer
        are not checked for them (their other recipients are at other hubs).
        """
        audience = audience_of(obj, self.reader(principal.party), ctx_definitions)
        if isinstance(audience, Problem):
            return audience
        if principal.party.kind == PEER:
            return audience
        named = audience.recipients  # TLP:RED's (the extension's list means nothing otherwise)
        if named:
            known = known_recipients() if known_recipients is not None else self.known_recipients()
            unknown = [r for r in named if r not in known]
            if unknown:
                more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
                return Problem(Code.UNKNOWN_RECIPIENT,
                               f"recipient {unknown[0]}{more} is not a party of this hub nor served by one of "
                               "its peers: refused (name recipients by their identity ids)",
                               "extensions")
        return audience

    # -- audiences and their members

    def members(self, audience: Audience, parties: Iterable[Party] | None = None) -> list[int]:
        """The pks of the live parties (or of ``parties``) that ``audience`` admits."""
        listed = self._live_parties() if parties is None else parties
        return [p.pk for p in listed if admits(audience, self.reader(p))]

    def resolve(self, tx: Transaction | Store, audience: Audience, staged: dict[str, int] | None = None) -> int:
        """The pk of ``audience`` (0 when it restricts nothing), made through ``tx`` with its
        members (every live party it admits) when it is new.

        Called inside the transaction that stores the objects using it, so that an audience
        and its members commit with its first object. The new keys are put in ``staged``; give
        them to :meth:`remember` once the transaction has committed (a rolled-back audience row
        does not exist, and must not be remembered).
        """
        if audience.is_open:
            return 0
        key = audience.key()
        pk = self._known_pk(key)
        if pk is None and staged is not None:
            pk = staged.get(key)
        if pk is not None:
            return pk
        pk = self._ensure(tx, audience)
        if staged is not None:
            staged[key] = pk
        return pk

    def _ensure(self, target: Transaction | Store, audience: Audience,
                current: tuple[int, list[Party]] | None = None) -> int:
        """``target.ensure_audience`` with the members ``audience`` admits among the live parties
        (``current``: a generation and the parties read after it), computed again from the
        parties as they are now when they changed meanwhile (:class:`StaleMembers`).

        In a transaction, the second call cannot be stale: the store holds the generation's row
        locked from the first call until the transaction ends. A store call is a transaction of
        its own: asked again while parties keep changing (each time a refresh has been made)."""
        key, canonical = audience.key(), audience.canonical()
        generation, parties = current if current is not None else self._current()
        for _attempt in range(_STALE_ATTEMPTS):
            try:
                return target.ensure_audience(key, canonical, self.members(audience, parties), self.clock(),
                                              generation)
            except StaleMembers as stale:
                generation, parties = stale.generation, self._live_parties()
        return target.ensure_audience(key, canonical, self.members(audience, parties), self.clock(), generation)

    def remember(self, staged: Mapping[str, int]) -> None:
        """Remember the audiences :meth:`resolve` made (``staged``), after their transaction committed."""
        with self._lock:
            self._pk_by_key.update(staged)

    def _known_pk(self, key: str) -> int | None:
        """The pk of a committed audience with this key, read from the store when not known yet."""
        pk = self._pk_by_key.get(key)
        if pk is None:
            with self._lock:
                after = self._loaded_to
            for rec in self._records(after):
                self._parse(rec)
            pk = self._pk_by_key.get(key)
        return pk

    def _records(self, after: int) -> Iterator[AudienceRecord]:
        """The stored audiences whose pk is above ``after``, oldest first."""
        while True:
            records = [r for r in self.store.list_audiences(after) if r.pk > after]
            if not records:
                return
            yield from records
            after = records[-1].pk

    def _parse(self, rec: AudienceRecord) -> Audience:
        """A stored audience read (once: rows never change), and its key remembered."""
        with self._lock:
            audience = self._by_pk.get(rec.pk)
        if audience is None:
            audience = Audience.from_canonical(rec.canonical)
        with self._lock:
            self._by_pk[rec.pk] = audience
            self._pk_by_key[rec.key] = rec.pk
            self._loaded_to = max(self._loaded_to, rec.pk)
        return audience

    def audiences(self) -> list[tuple[int, Audience]]:
        """Every stored audience, as ``(pk, audience)``, oldest first."""
        return [(rec.pk, self._parse(rec)) for rec in self._records(0)]

    def refresh(self, party: Party) -> int:
        """Recompute ``party``'s memberships over every audience (after it was added, edited,
        disabled, enabled or removed); a removed party belongs to none. Returns how many
        audiences admit it.

        The store reads the party and the audiences, and replaces the memberships, in one
        transaction that raises the parties generation under its lock
        (:meth:`hub.store.audiences.AudienceStore.refresh_memberships`): the party is judged as
        it is then, whatever ``party`` says, and an audience being made at the same time is
        either read here or made with members computed after this refresh."""

        def admitted(now: Party | None, records: list[AudienceRecord]) -> list[int]:
            if now is None:
                return []
            reader = self.reader(now)
            return [rec.pk for rec in records if admits(self._parse(rec), reader)]

        return self.store.refresh_memberships(party.pk, admitted)

    # -- the upgrade

    def classified(self) -> bool:
        """Whether the objects stored before audiences existed have been classified."""
        return self.store.get_setting(CLASSIFIED_SETTING) == "1"

    def backfill(self, progress: Callable[[int], None] | None = None,
                 batch: int = BACKFILL_BATCH) -> BackfillResult:
        """Classify every stored object version that mentions a marking, as ingest would have
        (its submitter as the party that stored it), then record that it was done.

        TLP AMBER and ACS markings take effect at once. Objects marked TLP RED or AMBER+STRICT
        were read by every reader of their collection until now: they keep audience 0, with
        their new audience pending until :meth:`apply`. So do objects whose markings cannot be
        judged under today's rules (a marking definition that is no longer accepted, a granular
        marking on one property, RED without recipients): their pending audience is their
        submitter alone. Safe to run again: an object's audience is set from its markings each
        time. ``progress`` hears how many objects were examined so far, after each batch.
        """
        submitters = {p.pk: self.reader(p) for p in self.store.list_parties()}
        current = self._current()
        definitions = self._stored_definitions(batch)
        resolved: dict[Audience, int] = {}  # most objects share a few audiences
        examined = restricted = pending = unjudged = 0
        after = 0
        while True:
            rows = self.store.objects_to_classify(after, batch)
            if not rows:
                break
            updates: list[tuple[int, int, int | None]] = []
            for pk, party_pk, text in rows:
                examined += 1
                judged = self._judge_stored(text, submitters.get(party_pk), definitions)
                if judged is None:
                    continue
                audience, wait, failed = judged
                audience_pk = resolved.get(audience)
                if audience_pk is None:
                    audience_pk = resolved[audience] = self._resolve_now(audience, current)
                unjudged += failed
                if wait:
                    pending += 1
                    updates.append((pk, 0, audience_pk))
                else:
                    restricted += 1
                    updates.append((pk, audience_pk, None))
            if updates:
                self.store.set_object_audiences(updates)
            after = rows[-1][0]
            if progress is not None:
                progress(examined)
        self.store.set_setting(CLASSIFIED_SETTING, "1")
        result = BackfillResult(examined, restricted, pending, unjudged)
        if examined:
            self.audit.record("markings.classify", "", examined=examined, restricted=restricted,
                              pending=pending, unjudged=unjudged)
        return result

    def _resolve_now(self, audience: Audience, current: tuple[int, list[Party]]) -> int:
        """:meth:`resolve` outside any transaction of the caller's (the store commits the
        audience on its own), remembered at once; ``current``: a parties generation and the live
        parties read after it."""
        if audience.is_open:
            return 0
        key = audience.key()
        pk = self._known_pk(key)
        if pk is None:
            pk = self._ensure(self.store, audience, current)
            self.remember({key: pk})
        return pk

    def _stored_definitions(self, batch: int) -> dict[str, dict[str, Any]]:
        """Every stored marking definition that is not TLP, by id (for the back-fill)."""
        found: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            rows = self.store.objects_to_classify(after, batch)
            if not rows:
                return found
            for _pk, _party, text in rows:
                if '"marking-definition"' not in text:
                    continue
                obj = _parsed(text)
                oid = obj.get("id") if obj is not None else None
                if (obj is not None and obj.get("type") == "marking-definition" and isinstance(oid, str)
                        and oid not in TLP_LEVEL_BY_ID):
                    found.setdefault(oid, obj)
            after = rows[-1][0]

    @staticmethod
    def _judge_stored(text: str, submitter: Reader | None,
                      definitions: Mapping[str, dict[str, Any]]) -> tuple[Audience, bool, int] | None:
        """A stored object's audience, whether it waits for :meth:`apply`, and 1 when its
        markings could not be judged (0 otherwise); None when it stays audience 0."""
        obj = _parsed(text)
        if obj is None or submitter is None:
            return None
        audience = audience_of(obj, submitter, definitions)
        wait = _object_tlp(obj) >= AMBER_STRICT
        if isinstance(audience, Problem):
            # Refused under today's rules: only its submitter reads it, once the operator applies.
            alone = Audience(tlp="red", submitter=submitter.identity_id, submitter_org=submitter.organisation)
            return alone, True, 1
        if audience.is_open:
            return None
        return audience, wait, 0

    def pending(self) -> int:
        """How many object versions change audience when :meth:`apply` runs."""
        return self.store.count_pending_audiences()

    def apply(self) -> int:
        """Give every object version its pending audience (the upgrade's RED and AMBER+STRICT
        objects); returns how many changed. Audited."""
        changed = self.store.apply_pending_audiences()
        self.audit.record("markings.apply", "", objects=changed)
        return changed


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None
