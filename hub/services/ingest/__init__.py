"""The ingest pipeline: one POSTed envelope in, a status resource out.

Each object is judged on its own: the STIX basics, what every database can store alike
(:func:`hub.store.limits.unstorable_reason`: lengths, control characters, U+0000), then every
check the hub is configured with (collection policy: full validation, markings, personal data,
then signatures), then its audience (who may read it, from its markings and its submitter:
:meth:`hub.services.access.markings.MarkingService.classify`; a marking the hub cannot enforce,
a TLP:RED object without recipients, a recipient that does not exist refuse the object), then
the transforms (the hub's countersignature). One bad object costs only
itself: whatever judging it raises (a pattern nested too deeply for the parser, a value with no
canonical form, a signature that does not decode) is caught, and that object alone is refused
with a reason; unexpected errors are logged without the object's content.

An envelope's marking definitions are judged before its other objects, so that objects may use
a marking defined in the same envelope wherever it sits (see :mod:`hub.services.ingest.policy`). The
objects that pass are stored in envelope order, with the terms they can be found by
(:func:`hub.stix.terms.index_terms`) and their audience's pk (an audience new to the hub is made,
with its members, in the same transaction); an object version already stored counts as a
success, not a second row. The objects, the status (every success and every failure with a reason) and the
submission's audit record are written in one transaction: all of them or none.

The pipeline's parts: :mod:`.checks` (what a check and a transform are, and what they may see),
:mod:`.policy` (validity, markings, personal data), :mod:`.signatures` (the signature policy and
the hub's countersignature), :mod:`.statuses` (the status resources the pipeline writes, read
back by the party that made the request).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import orjson

from hub.common.errors import HubError, InvalidValue, Unprocessable
from hub.common.ids import is_stix_id
from hub.common.problems import Code, Problem
from hub.common.timestamps import is_stix_timestamp
from hub.services.access.auth import Principal
from hub.services.access.markings import MarkingService
from hub.services.clock import Clock
from hub.services.ingest.checks import CheckContext, ObjectCheck, ObjectTransform
from hub.services.ingest.policy import marking_definitions
from hub.services.metrics import NULL_METRICS, Metrics
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.signing.batch import BatchVerifier
from hub.stix.basics import check_basics
from hub.stix.sharing import Audience
from hub.stix.terms import index_terms
from hub.store.audit import AuditEntry
from hub.store.base import Store, Transaction
from hub.store.limits import unstorable_reason
from hub.store.records import AddOutcome, Collection, NewVersion, StatusRecord

log = logging.getLogger("abusehub.ingest")

_PURGE_EVERY_US = 3600 * 1_000_000
_LOGGED_FRAMES = 8


def _describe(obj: Any, index: int) -> tuple[str, str]:
    """An id and version to name a failed object by, even if it has none of its own.

    Only a well-formed STIX id and timestamp are repeated: anything else in those places may be
    personal data, and the status is read by the submitter, logged and kept.
    """
    where = f"(object {index} of the envelope)"
    if not isinstance(obj, dict):
        return where, ""
    oid = obj.get("id")
    ver = obj.get("modified") or obj.get("created") or ""
    return (str(oid) if is_stix_id(oid) else where, str(ver) if is_stix_timestamp(ver) else "")


class _Judged:
    """An accepted object: the version to store, the key id of its first signature, and who
    may read it (its audience, None where the hub classifies nothing: audience 0)."""

    __slots__ = ("audience", "key_id", "version")

    def __init__(self, version: NewVersion, key_id: str | None, audience: Audience | None = None) -> None:
        self.version = version
        self.key_id = key_id
        self.audience = audience


class _Refused(NamedTuple):
    """Why one object was refused: the message its status carries, and the code metrics count
    it under (a :class:`~hub.common.problems.Code`, or one of the hub's own failures)."""

    message: str
    code: str


class IngestService:
    """Validates, stores and reports on submitted objects.

    ``metrics`` hears of every object's outcome (:meth:`hub.services.metrics.Metrics.ingest`).
    ``markings`` classifies each object that passed every check into its audience (who may
    read it), stored with it; without it every object is stored with audience 0.
    """

    def __init__(self, store: Store, clock: Clock, status_retention_hours: int,
                 checks: Sequence[ObjectCheck] = (), transforms: Sequence[ObjectTransform] = (),
                 markings: MarkingService | None = None) -> None:
        self.store = store
        self.clock = clock
        self.retention_us = status_retention_hours * 3600 * 1_000_000
        self.checks = list(checks)
        self.transforms = list(transforms)
        self.markings = markings
        self._last_purge_us = 0
        self.metrics: Metrics = NULL_METRICS

    def submit(self, principal: Principal, collection: Collection, envelope: Any, *,
               attested: bool = False, verifier: BatchVerifier | None = None) -> StatusRecord:
        """Ingest a TAXII envelope into ``collection`` on behalf of ``principal``.

        The caller has checked that the principal may write the collection. Raises
        :class:`Unprocessable` for an envelope that is not one; never for one bad object.
        ``attested``: the hub publishes anonymous reports (:mod:`hub.services.anonymity`) as its
        own party; their signatures were checked at filing, and the audit record names no
        object (only counts). ``verifier``: the envelope's signatures are verified in its worker
        processes while the objects are judged (a federation pull's pages), by the same rules.
        """
        if not isinstance(envelope, dict):
            raise Unprocessable("the request body must be a TAXII envelope: a JSON object with an 'objects' list")
        objects = envelope.get("objects")
        if objects is None:
            raise Unprocessable("the envelope has no 'objects' member")
        if not isinstance(objects, list):
            raise Unprocessable("the envelope's 'objects' member must be a list")
        now = self.clock()
        ctx = CheckContext(principal, collection, now, attested=attested, verifier=verifier)
        for check in self.checks:
            prepare = getattr(check, "prepare", None)
            if prepare is not None:
                prepare(objects, ctx)
        status = StatusRecord(id=str(uuid.uuid4()), party_pk=principal.party.pk,
                              collection_pk=collection.pk, request_us=now, status="complete")
        # Marking definitions first (rare: usually none), then the rest; results by position.
        order: list[int] | range = range(len(objects))
        firsts = [i for i in order if _is_marking_definition(objects[i])]
        if firsts:
            order = firsts + [i for i in order if not _is_marking_definition(objects[i])]
        results: list[_Judged | dict[str, str] | None] = [None] * len(objects)
        codes: list[str] = []
        for index in order:
            obj = objects[index]
            judged = self._judge_contained(obj, index, ctx)
            if isinstance(judged, _Judged):
                results[index] = judged
                if judged.version.type == "marking-definition":
                    ctx.accepted_markings.add(judged.version.stix_id)
                    ctx.accepted_definitions[judged.version.stix_id] = obj
            else:
                oid, ver = _describe(obj, index)
                results[index] = {"id": oid, "version": ver, "message": judged.message}
                codes.append(judged.code)
        accepted: list[_Judged] = []
        failures: list[dict[str, str]] = []
        for result in results:
            if isinstance(result, _Judged):
                accepted.append(result)
            elif result is not None:
                failures.append(result)

        # Objects (with their audiences), status and audit record commit together, or not at all.
        staged: dict[str, int] = {}
        with self.store.transaction() as tx:
            outcomes = tx.add_versions(collection.pk, principal.party.pk,
                                       self._placed(tx, accepted, staged), now)
            successes: list[dict[str, str]] = []
            audit_objects: list[list[Any]] = []
            for outcome, judged in zip(outcomes, accepted, strict=True):
                successes.append({
                    "id": outcome.stix_id, "version": outcome.version,
                    "message": "stored" if outcome.stored else "already stored: not added again"})
                audit_objects.append([outcome.stix_id, outcome.version,
                                      "stored" if outcome.stored else "already-stored", judged.key_id])
            for failure in failures:
                audit_objects.append([failure["id"], failure["version"], "refused", failure["message"]])
            status.successes, status.failures = successes, failures
            tx.save_status(status, now + self.retention_us)
            tx.append_audit([_audit_entry(principal, collection, status, audit_objects, attested)], now)
        self._committed(staged, outcomes, codes, now)
        return status

    def preview(self, principal: Principal, collection: Collection, objects: list[Any], *,
                attested: bool = False) -> list[dict[str, str]]:
        """Judge ``objects`` as :meth:`submit` would, storing nothing: the failures (id, version,
        message), empty if every object would be accepted."""
        ctx = CheckContext(principal, collection, self.clock(), attested=attested)
        failures = []
        for index, obj in enumerate(objects):
            judged = self._judge_contained(obj, index, ctx)
            if isinstance(judged, _Judged):
                if judged.version.type == "marking-definition":
                    ctx.accepted_markings.add(judged.version.stix_id)
                    ctx.accepted_definitions[judged.version.stix_id] = obj
                continue
            oid, ver = _describe(obj, index)
            failures.append({"id": oid, "version": ver, "message": judged.message})
        return failures

    def _committed(self, staged: dict[str, int], outcomes: list[AddOutcome], codes: list[str], now: int) -> None:
        """After a submission committed: remember the audiences it made, count its outcomes, and
        purge expired statuses now and then."""
        if self.markings is not None:
            self.markings.remember(staged)
        for outcome in outcomes:
            self.metrics.ingest("stored" if outcome.stored else "already-stored")
        for code in codes:
            self.metrics.ingest("refused", code)
        if now - self._last_purge_us > _PURGE_EVERY_US:
            self._last_purge_us = now
            self.store.purge_statuses(now)

    def _placed(self, tx: Transaction, accepted: list[_Judged], staged: dict[str, int]) -> list[NewVersion]:
        """The accepted versions with their audiences' pks, audiences new to the hub made through
        ``tx`` (with the objects: remembered in ``staged`` once it commits)."""
        if self.markings is None:
            return [a.version for a in accepted]
        out = []
        for judged in accepted:
            pk = 0 if judged.audience is None else self.markings.resolve(tx, judged.audience, staged)
            out.append(judged.version if pk == 0 else replace(judged.version, audience_pk=pk))
        return out

    def _audience(self, obj: dict[str, Any], ctx: CheckContext) -> Audience | Problem | None:
        """Who may read ``obj`` (None: the hub classifies nothing), or the problem that refuses
        it: its markings judged against the definitions it may use (:func:`marking_definitions`)
        and its submitter."""
        if self.markings is None:
            return None
        markings = self.markings

        def known() -> frozenset[str]:
            found: frozenset[str] | None = ctx.cache.get("known_recipients")
            if found is None:
                found = ctx.cache["known_recipients"] = markings.known_recipients()
            return found

        return markings.classify(obj, ctx.principal, marking_definitions(self.store, obj, ctx), known)

    def _judge_contained(self, obj: Any, index: int, ctx: CheckContext) -> _Judged | _Refused:
        """:meth:`_judge`, with whatever it raises turned into a reason to refuse this object."""
        stage = ["checking the object"]
        try:
            return self._judge(obj, ctx, stage)
        except InvalidValue as exc:
            return _Refused(str(exc), Code.INVALID_VALUE)
        except RecursionError:
            log.warning("object %d of a submission to collection %s is nested too deeply (while %s)",
                        index, ctx.collection.id, stage[0])
            return _Refused(f"the object is nested too deeply for the hub to finish {stage[0]}; it was not stored",
                            "nested-too-deeply")
        except HubError as exc:  # raised for the submitter: the message names the problem
            return _Refused(f"refused while {stage[0]}: {exc.description}", "refused")
        except Exception as exc:
            # Only the type and where it was raised: the message may quote the object.
            frames = traceback.extract_tb(exc.__traceback__)[-_LOGGED_FRAMES:]
            where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in frames)
            oid, _ = _describe(obj, index)
            log.error("%s while %s: %s (object %d of a submission to collection %s), at %s",
                      type(exc).__name__, stage[0], oid, index, ctx.collection.id, where)
            return _Refused(f"the hub failed ({type(exc).__name__}) while {stage[0]}; it was not stored. "
                            "The error was logged for the hub's operators", "internal-error")

    def _judge(self, obj: Any, ctx: CheckContext, stage: list[str]) -> _Judged | _Refused:
        """Accept one object (the version to store) or refuse it (the reason).

        ``stage`` is kept up to date with what is being done, for the reason of a failure.
        """
        stix_id, stix_type, version_us = check_basics(obj)
        stage[0] = "serialising the object"
        text = _json_text(obj)
        if text is None:
            return _Refused(_NOT_JSON, "not-json")
        version = NewVersion(stix_id=stix_id, type=stix_type, version_us=version_us,
                             version=obj.get("modified") or obj.get("created"),
                             spec_version=obj.get("spec_version") or "2.1", json_text=text,
                             terms=index_terms(obj))
        # Before the costly checks: what no database could store alike is refused at once.
        reason = unstorable_reason(version)
        if reason is not None:
            return _Refused(reason, "unstorable")
        stage[0] = "checking the object"
        for check in self.checks:
            problem = check(obj, ctx)
            if problem is not None:
                return _Refused(str(problem), problem.code)
        stage[0] = "judging the object's markings"
        audience = self._audience(obj, ctx)
        if isinstance(audience, Problem):
            return _Refused(str(audience.without_value()), audience.code)
        key_id = _first_key_id(obj)
        stage[0] = "preparing the object for storage"
        stored = obj
        for transform in self.transforms:
            stored = transform(stored, ctx)
        if stored is not obj:
            # A transform changed the object (the hub's countersignature): judge its new text.
            text = _json_text(stored)
            if text is None:
                return _Refused(_NOT_JSON, "not-json")
            version = replace(version, json_text=text, terms=index_terms(stored),
                              version=stored.get("modified") or stored.get("created"))
            reason = unstorable_reason(version)
            if reason is not None:
                return _Refused(reason, "unstorable")
        return _Judged(version, key_id, audience)


def _audit_entry(principal: Principal, collection: Collection, status: StatusRecord,
                 audit_objects: list[list[Any]], attested: bool) -> AuditEntry:
    """A submission's audit record: every object's id and outcome, or for a publication of
    anonymous reports only how many (operators read the trail: an id there would sit beside
    the request that filed it)."""
    if not attested:
        return AuditEntry("submission", principal.party.name, collection.id,
                          {"status": status.id, "objects": audit_objects})
    counts: dict[str, int] = {}
    for item in audit_objects:
        counts[item[2]] = counts.get(item[2], 0) + 1
    return AuditEntry("anonymous-publication", "", collection.id, {"outcomes": counts})


_NOT_JSON = ("it cannot be stored as JSON text: it is nested more deeply than 254 levels, or "
             "holds an integer beyond 64 bits or text that is not valid Unicode")


def _json_text(obj: dict[str, Any]) -> str | None:
    """The object as compact JSON text, or None if orjson cannot write it (what it refuses is
    listed in ``_NOT_JSON``; its messages are not shown, they may name a value)."""
    try:
        return orjson.dumps(obj).decode("utf-8")
    except orjson.JSONEncodeError:
        return None


def _is_marking_definition(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") == "marking-definition"


def _first_key_id(obj: dict[str, Any]) -> str | None:
    """The key id of an object's first signature, for the audit record (None if unsigned)."""
    ext = obj.get("extensions")
    body = ext.get(SIGNATURE_EXTENSION_ID) if isinstance(ext, dict) else None
    sigs = body.get("signatures") if isinstance(body, dict) else None
    if isinstance(sigs, list) and sigs and isinstance(sigs[0], dict):
        kid = sigs[0].get("key_id")
        return kid if isinstance(kid, str) else None
    return None
