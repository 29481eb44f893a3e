"""The ingest pipeline: one POSTed envelope in, a status resource out.

Each object is judged on its own: the STIX basics, then every check the hub is configured with
(collection policy: full validation, markings, personal data, then signatures). An envelope's
marking definitions are judged before its other objects, so that objects may use a marking
defined in the same envelope wherever it sits (see :mod:`hub.services.policy`). The objects that
pass are stored in one transaction, in envelope order, with the terms they can be found by
(:func:`hub.stix.terms.index_terms`); an object version already stored counts as a success, not a
second row. The status names every success and every failure with a reason.
"""

from __future__ import annotations

import uuid
from typing import Any, Sequence

import orjson

from hub.common.errors import InvalidValue, Unprocessable
from hub.common.ids import is_stix_id
from hub.common.timestamps import is_stix_timestamp
from hub.services.auth import Principal
from hub.services.checks import CheckContext, ObjectCheck, ObjectTransform
from hub.services.clock import Clock
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.stix.basics import check_basics
from hub.stix.terms import index_terms
from hub.store.audit import AuditEntry
from hub.store.base import Store
from hub.store.records import AddOutcome, Collection, NewVersion, StatusRecord

_PURGE_EVERY_US = 3600 * 1_000_000


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
    return (oid if is_stix_id(oid) else where, ver if is_stix_timestamp(ver) else "")


class IngestService:
    """Validates, stores and reports on submitted objects."""

    def __init__(self, store: Store, clock: Clock, status_retention_hours: int,
                 checks: Sequence[ObjectCheck] = (), transforms: Sequence[ObjectTransform] = ()) -> None:
        self.store = store
        self.clock = clock
        self.retention_us = status_retention_hours * 3600 * 1_000_000
        self.checks = list(checks)
        self.transforms = list(transforms)
        self._last_purge_us = 0

    def submit(self, principal: Principal, collection: Collection, envelope: Any) -> StatusRecord:
        """Ingest a TAXII envelope into ``collection`` on behalf of ``principal``.

        The caller has checked that the principal may write the collection.
        """
        if not isinstance(envelope, dict):
            raise Unprocessable("the request body must be a TAXII envelope: a JSON object with an 'objects' list")
        objects = envelope.get("objects")
        if objects is None:
            raise Unprocessable("the envelope has no 'objects' member")
        if not isinstance(objects, list):
            raise Unprocessable("the envelope's 'objects' member must be a list")
        now = self.clock()
        ctx = CheckContext(principal, collection, now)
        status = StatusRecord(id=str(uuid.uuid4()), party_pk=principal.party.pk,
                              collection_pk=collection.pk, request_us=now, status="complete")
        # Marking definitions first (rare: usually none), then the rest; results by position.
        order: list[int] | range = range(len(objects))
        firsts = [i for i in order if _is_marking_definition(objects[i])]
        if firsts:
            order = firsts + [i for i in order if not _is_marking_definition(objects[i])]
        results: list[NewVersion | dict[str, str] | None] = [None] * len(objects)
        key_by_index: dict[int, str | None] = {}
        for index in order:
            obj = objects[index]
            reason = None
            try:
                stix_id, stix_type, version_us = check_basics(obj)
            except InvalidValue as exc:
                reason = str(exc)
            if reason is None:
                for check in self.checks:
                    reason = check(obj, ctx)
                    if reason is not None:
                        break
            if reason is not None:
                oid, ver = _describe(obj, index)
                results[index] = {"id": oid, "version": ver, "message": str(reason)}
                continue
            if stix_type == "marking-definition":
                ctx.accepted_markings.add(stix_id)
            key_by_index[index] = _first_key_id(obj)
            for transform in self.transforms:
                obj = transform(obj, ctx)
            results[index] = NewVersion(
                stix_id=stix_id, type=stix_type, version_us=version_us,
                version=obj.get("modified") or obj.get("created"),
                spec_version=obj.get("spec_version", "2.1"),
                json_text=orjson.dumps(obj).decode("utf-8"), terms=index_terms(obj))
        accepted: list[NewVersion] = []
        key_ids: list[str | None] = []
        for index, result in enumerate(results):
            if isinstance(result, NewVersion):
                accepted.append(result)
                key_ids.append(key_by_index[index])
            elif result is not None:
                status.failures.append(result)

        def finish(outcomes: list[AddOutcome]) -> tuple[StatusRecord, int, AuditEntry]:
            audit_objects = []
            for outcome, key_id in zip(outcomes, key_ids):
                status.successes.append({
                    "id": outcome.stix_id, "version": outcome.version,
                    "message": "stored" if outcome.stored else "already stored: not added again"})
                audit_objects.append([outcome.stix_id, outcome.version,
                                      "stored" if outcome.stored else "already-stored", key_id])
            for failure in status.failures:
                audit_objects.append([failure["id"], failure["version"], "refused", failure["message"]])
            entry = AuditEntry("submission", principal.party.name, collection.id,
                               {"status": status.id, "objects": audit_objects})
            return status, now + self.retention_us, entry

        # Objects, status and audit record commit together.
        self.store.add_versions(collection.pk, principal.party.pk, accepted, now, finish)
        if now - self._last_purge_us > _PURGE_EVERY_US:
            self._last_purge_us = now
            self.store.purge_statuses(now)
        return status


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
