"""The anonymous filing pipeline (docs/ANONYMITY.md, "How a filing goes").

A filing is judged and transformed at once, and published later:

1. the collection must accept anonymous filings and the hub must have an oversight key;
2. (attested mode) every object but a marking-definition must carry the authenticated party's
   trusted signature, as on ingest;
3. the signatures are dropped, and nothing left may name the submitter: its party name (as a
   word or a domain label), identity id, organisation code or key ids, anywhere in any object;
4. the report is re-made by the hub: one new identity, ``a registered IaaS provider``, whose
   id is random, as creator and provider; every other id that is not an observable's content
   id new and random (references follow), the account's id recomputed from its content;
   ``created``/``modified``/``published``/``valid_from`` at the start of the hour of filing,
   ``valid_until`` whole days after, every other timestamp to the whole second; objects
   ordered by their new ids; the withdrawal commitment on the report;
5. every object gets the hub's attestation (:data:`hub.signing.signatures.ATTESTATION_TYPE`);
6. the result is judged by the ingest pipeline's checks without storing (any refusal refuses
   the filing, reasons naming objects, never a party);
7. the submitter record (attested mode: made here; token mode: sealed by the client) is stored
   beside the report with the commitment and the report's own ids; the objects wait for a
   random moment within ``[anonymity] publish_window_seconds`` (:meth:`flush_due` publishes
   every filing whose moment has come, shuffled together, as the hub's own party).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson

from hub.anonymity.escrow import EscrowRecord, OversightPublicKey, seal
from hub.anonymity.filing import (
    ANONYMOUS_NAME,
    WITHDRAWAL_PROPERTY,
    is_commitment,
    secret_opens,
)
from hub.common.canonical import b64url_encode, canonicalize
from hub.common.errors import BadRequest, Forbidden, HubError, NotFound, Unprocessable
from hub.common.ids import SCO_TYPES, is_stix_id
from hub.common.timestamps import format_timestamp_us, is_stix_timestamp, parse_timestamp_us
from hub.config import AnonymityConfig
from hub.services.access.auth import Principal, hash_token
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.federation.tombstones import held_facts
from hub.services.ingest import IngestService
from hub.services.keys import HUB_PARTY, HubSigner, KeyService
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, signatures_of, signing_input, unsigned_form
from hub.signing.signatures import ATTESTATION_TYPE, EXTENSION_TYPE, SIGNATURE_VERSION
from hub.stix.report import deterministic_sco_id
from hub.store.anonymous import AnonymousReport, PendingFiling
from hub.store.base import Store
from hub.store.records import Collection, ObjectFilter, Party

log = logging.getLogger("abusehub.anonymity")

__all__ = ["ATTESTS_PROPERTY", "ATTESTS_PROVIDER", "ATTESTS_TOKEN", "AnonymousFilingService", "FilingReceipt"]

#: What an attestation says of the object's submitter, in each mode (docs/SIGNING.md).
ATTESTS_PROVIDER = "registered-provider"
ATTESTS_TOKEN = "token-holder"
_HOUR_US = 3600 * 1_000_000
_DAY_US = 24 * _HOUR_US
_SECOND_US = 1_000_000
#: Timestamps the hub sets to the start of the hour of filing.
_HOUR_PROPS = ("created", "modified", "published", "valid_from")
_MAX_OBJECTS = 1000
#: The report's custom property saying what the hub attests of its submitter.
ATTESTS_PROPERTY = "x_abusehub_attests"


@dataclass(frozen=True, slots=True)
class FilingReceipt:
    """What the submitter is told: the report's id and its objects' ids as they will be
    published (chosen now), and the latest moment of publication."""

    report_id: str
    object_ids: tuple[str, ...]
    publish_by: str

    def to_json(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "object_ids": list(self.object_ids), "publish_by": self.publish_by}


class AnonymousFilingService:
    """Anonymous filings: judged and attested when filed, published later, withdrawn by secret."""

    def __init__(self, store: Store, clock: Clock, config: AnonymityConfig, home: Path, ingest: IngestService,
                 keys: KeyService, signer: HubSigner, audit: AuditService, hub_name: str) -> None:
        self.store = store
        self.anon = store
        self.clock = clock
        self.config = config
        self.home = home
        self.ingest = ingest
        self.keys = keys
        self.signer = signer
        self.audit = audit
        self.hub_name = hub_name
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._rng = random.SystemRandom()
        self._started = False

    # -- collections

    def allows(self, collection: Collection) -> bool:
        return collection.pk in self.anon.anonymous_collection_pks()

    def allowed(self, collection_id: str) -> bool:
        """Whether the collection ``collection_id`` accepts anonymous filings."""
        col = self.store.get_collection(collection_id)
        if col is None:
            raise NotFound(f"no collection {collection_id!r}")
        return self.allows(col)

    def set_allowed(self, collection_id: str, allowed: bool) -> None:
        """Allow or stop anonymous filings in a collection (``collection add|edit
        --anonymous-submissions``); a change is audited with its old and new value."""
        col = self.store.get_collection(collection_id)
        if col is None:
            raise NotFound(f"no collection {collection_id!r}")
        before = self.allows(col)
        if before == allowed:
            return
        self.anon.set_anonymous_collection(col.pk, allowed)
        self.audit.record("collection.edit", "", col.id,
                          changes={"anonymous_submissions": {"from": before, "to": allowed}})

    # -- filing

    def authenticate(self, token: str | None) -> Principal | None:
        """The principal holding ``token`` (None: no such live token). Unlike
        :meth:`hub.services.access.AccessService.authenticate`, the request is not counted per
        party in the metrics: that count would rise with each filing."""
        if not token:
            return None
        party = self.store.party_for_token(hash_token(token))
        if party is None:
            return None
        return Principal(party, self.store.grants_for(party.pk))

    def start(self) -> None:
        """Once per process: publish what is due now and schedule the next publication."""
        if self._started:
            return
        self._started = True
        try:
            self.flush_due()
            self.schedule()
        except Exception:  # never the request's failure: the next tick or filing tries again
            log.exception("publishing anonymous reports failed")

    def oversight_key(self) -> OversightPublicKey:
        name = self.config.oversight_public_key_file
        if not name:
            raise Forbidden("this hub takes no anonymous filings: it has no oversight key "
                            "([anonymity] oversight_public_key_file)")
        path = Path(name) if Path(name).is_absolute() else self.home / name
        try:
            return OversightPublicKey.from_pem(path.read_bytes())
        except OSError as exc:
            log.error("the oversight public key %s cannot be read: %s", path, exc.strerror)
            raise HubError("the hub cannot read its oversight key; the filing was not stored") from None

    def file_attested(self, principal: Principal, collection_id: str, body: Any) -> FilingReceipt:
        """File ``body`` anonymously for the authenticated ``principal`` (module text)."""
        collection = self._collection(collection_id, principal)
        objects, committed = _request(body)
        party = principal.party
        if party.kind == "peer" or party.name == HUB_PARTY:
            raise Forbidden("only a provider or agency party files reports anonymously")
        self._check_signatures(objects, party, collection)
        stripped = [unsigned_form(o) for o in objects]
        _refuse_naming(stripped, self._names_of(party))
        report_hash = "sha256:" + hashlib.sha256(canonicalize(stripped)).hexdigest()

        def sealed(report_id: str, oversight: OversightPublicKey) -> dict[str, Any]:
            record = EscrowRecord(party.name, party.identity_id, report_id, report_hash,
                                  format_timestamp_us(self.clock()))
            return seal(record, oversight, self.hub_name)

        return self._publish(collection, stripped, committed, ATTESTS_PROVIDER, sealed, None)

    def file_redeemed(self, collection_id: str, body: Any, *, sealed_record: dict[str, Any],
                      attests: str = ATTESTS_TOKEN,
                      in_transaction: Callable[[Any], None] | None = None) -> FilingReceipt:
        """File ``body`` for a submitter nobody authenticated (its token was verified by the
        caller); ``sealed_record`` is stored as it came (module text)."""
        collection = self._collection(collection_id, None)
        objects, committed = _request(body)
        if not isinstance(sealed_record, dict):
            raise BadRequest("the sealed submitter record must be a JSON object")
        stripped = [unsigned_form(o) for o in objects]
        for obj in objects:
            if obj is not None and _has_signatures(obj):
                raise BadRequest("an anonymous report filed with a token carries no signature: "
                                 "a signature names its signer")
        return self._publish(collection, stripped, committed, attests, lambda _rid, _key: sealed_record,
                             in_transaction)

    def _collection(self, collection_id: str, principal: Principal | None) -> Collection:
        col = self.store.get_collection(collection_id)
        if col is None or (principal is not None and not principal.can_write(col)):
            raise NotFound(f"no collection {collection_id!r} that you may write")
        if not self.allows(col):
            raise Forbidden(f"collection {col.id} does not accept anonymous reports")
        return col

    def _check_signatures(self, objects: list[dict[str, Any]], party: Party, collection: Collection) -> None:
        """Every object but a marking-definition must carry the party's trusted signature."""
        keyset = self.keys.keyset()
        now = self.clock()
        for index, obj in enumerate(objects):
            if obj.get("type") == "marking-definition":
                continue
            try:
                entries = [e for e in signatures_of(obj) if e.signer == party.identity_id]
            except SignatureFormatError as exc:
                raise BadRequest(f"object {index}: malformed signature: {exc}") from None
            if not entries:
                raise BadRequest(f"object {index}: not signed by the filing party: an anonymous "
                                 "report is checked like a named one before it is attested")
            reasons = [keyset.check(obj, entry, now, new_submission=True) for entry in entries]
            if all(reason is not None for reason in reasons):
                # The key set's reason names the signer and its key: said here without them.
                reason = str(reasons[0])
                for name in self._names_of(party):
                    reason = reason.replace(name, "(the filing party)")
                raise BadRequest(f"object {index}: {reason}")

    def _names_of(self, party: Party) -> list[str]:
        names = [party.name, party.identity_id]
        if party.organisation and party.organisation != party.identity_id:
            names.append(party.organisation)
        names += [k.key_id for k in self.store.list_keys(party.pk)]
        return names

    def _publish(self, collection: Collection, objects: list[dict[str, Any]], committed: str, attests: str,
                 sealed: Callable[[str, OversightPublicKey], dict[str, Any]],
                 in_transaction: Callable[[Any], None] | None) -> FilingReceipt:
        oversight = self.oversight_key()
        now = self.clock()
        remade, report_id, own_ids = _remake(objects, committed, attests, now)
        key, hub_identity = self.signer.ensure()
        principal = self._hub_principal()
        signed_us = self._signed_us(principal.party, key.key_id, now)
        attested = [_attest(o, key, hub_identity, signed_us) for o in remade]
        failures = self.ingest.preview(principal, collection, attested, attested=True)
        if failures:
            first = failures[0]
            raise Unprocessable(f"the anonymous report was refused ({len(failures)} object(s)): "
                                f"{first['message']}; nothing was stored")
        window = self.config.publish_window_seconds * _SECOND_US
        # A random moment in the window after the one this filing falls in: every filing of one
        # window is published at the first such moment of any of them (flush_due), together.
        publish_us = (now // window + 1) * window + self._rng.randrange(window) if window else now
        record = AnonymousReport(report_id, collection.pk, committed,
                                 orjson.dumps(sealed(report_id, oversight)).decode("utf-8"), own_ids, False)
        filing = PendingFiling(str(uuid.uuid4()), publish_us, orjson.dumps(attested).decode("utf-8"), record)
        with self.anon.anonymous_transaction() as conn:
            if in_transaction is not None:
                in_transaction(conn)
            self.anon.add_anonymous_filing(conn, filing)
        if window == 0:
            self.flush_due()
        else:
            self.schedule()
        ids = tuple(sorted(o["id"] for o in attested))
        latest = (now // window + 2) * window if window else now
        return FilingReceipt(report_id, ids, format_timestamp_us(latest))

    def _signed_us(self, party: Party, key_id: str, now: int) -> int:
        """When attestations say they were made: the start of the hour, or the second the hub's
        key became valid if that is later (an attestation is checked against the key's window)."""
        hour = now - now % _HOUR_US
        for record in self.store.list_keys(party.pk):
            if record.key_id == key_id:
                start = -(-record.not_before_us // _SECOND_US) * _SECOND_US
                return max(hour, start)
        return now - now % _SECOND_US

    def _hub_principal(self) -> Principal:
        self.signer.ensure()
        party = self.store.get_party(HUB_PARTY)
        if party is None:  # made by ensure()
            raise HubError("the hub's own party is missing")
        return Principal(party, {})

    # -- publication

    def flush_due(self) -> int:
        """Publish the filings whose moment has come, with every other filing of the same
        window, shuffled together per collection, as the hub's own party; how many."""
        with self._lock:
            now = self.clock()
            due = self.anon.due_anonymous_filings(now)
            if not due:
                return 0
            window = self.config.publish_window_seconds * _SECOND_US
            if window:
                # Every filing whose publication falls in the same window as a due one goes now.
                until = (max(f.publish_us for f in due) // window + 1) * window
                due = self.anon.due_anonymous_filings(until - 1)
            by_collection: dict[int, list[PendingFiling]] = {}
            for filing in due:
                by_collection.setdefault(filing.report.collection_pk, []).append(filing)
            principal = self._hub_principal()
            collections = {c.pk: c for c in self.store.list_collections()}
            for pk, filings in by_collection.items():
                self._rng.shuffle(filings)
                objects = [o for f in filings for o in orjson.loads(f.objects_json)]
                self._rng.shuffle(objects)
                col = collections.get(pk)
                if col is not None:
                    self.ingest.submit(principal, col, {"objects": objects}, attested=True)
                self.anon.published_anonymous_filings(filings)
            return len(due)

    def schedule(self) -> None:
        """Make sure this process publishes the next filing when its moment comes."""
        upcoming = self.anon.next_anonymous_publication()
        if upcoming is None:
            return
        delay = max(0.0, (upcoming - self.clock()) / _SECOND_US) + 0.05
        with self._lock:
            if self._timer is not None and self._timer.is_alive():
                return
            self._timer = threading.Timer(delay, self._tick)
            self._timer.daemon = True
            self._timer.start()

    def _tick(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush_due()
        except Exception:  # logged; the next request or tick tries again
            log.exception("publishing anonymous reports failed")
        self.schedule()

    # -- withdrawal

    def withdraw(self, collection_id: str, report_id: str, secret: str) -> int:
        """Withdraw the anonymous report ``report_id`` for whoever holds its secret: its own
        objects are deleted (tombstones, by the hub's party); how many versions went."""
        col = self.store.get_collection(collection_id)
        record = self._record(report_id) if is_stix_id(report_id, "report") else None
        if col is None or record is None or record.collection_pk != col.pk:
            raise NotFound(f"no anonymous report {report_id!r} in collection {collection_id!r}")
        if not secret_opens(secret, record.commitment):
            raise Forbidden("the secret does not open this report's withdrawal commitment")
        if record.withdrawn or not self.anon.withdraw_anonymous_report(report_id):
            raise NotFound(f"anonymous report {report_id!r} was withdrawn already")
        party = self._hub_principal().party
        count = 0
        for stix_id in record.own_ids:
            count += len(self.store.delete_remembered(col.pk, stix_id, _EVERY_VERSION, party.pk,
                                                      party.identity_id, self.clock(), held_facts))
        self.audit.record("anonymous.withdraw", "", col.id, count=count)
        return count

    def register_opening(self, opened: dict[str, Any], reference: str) -> None:
        """Record in the audit trail that the oversight opened a report's sealed record and
        made its submitter known: the report, the submitter the oversight states, its reference
        (a decision, a case number). The hub cannot check the opened record against the sealed
        one (only the oversight key can): the record says it is the oversight's statement."""
        report_id = opened.get("report_id")
        names = [opened.get(k) for k in ("submitter", "identity_id")]
        if not isinstance(report_id, str) or not all(isinstance(n, str) and n for n in names):
            raise BadRequest("an opened record (as 'abusehub escrow open' prints it) names report_id, "
                             "submitter and identity_id")
        if not reference.strip():
            raise BadRequest("an opening is registered with the oversight's reference (its decision)")
        if self._record(report_id) is None:
            raise NotFound(f"no anonymous report {report_id!r} at this hub")
        hub_name = opened.get("hub")
        if isinstance(hub_name, str) and hub_name != self.hub_name:
            raise BadRequest(f"the opened record is of hub {hub_name!r}, not of this hub ({self.hub_name!r})")
        self.audit.record("anonymous.opened", "", "", report=report_id, submitter=names[0], identity=names[1],
                          reference=reference.strip(), stated_by="oversight")

    def _record(self, report_id: str) -> AnonymousReport | None:
        """The record of a published report, or of one waiting to be published."""
        record = self.anon.anonymous_report(report_id)
        if record is None:
            pending = self.anon.pending_anonymous_report(report_id)
            record = None if pending is None else pending.report
        return record

    def sealed_record(self, report_id: str) -> dict[str, Any]:
        """The sealed submitter record kept beside an anonymous report, for the oversight."""
        record = self._record(report_id)
        if record is None:
            raise NotFound(f"no anonymous report {report_id!r}")
        return cast(dict[str, Any], orjson.loads(record.sealed_json))


_EVERY_VERSION = ObjectFilter(versions=("all",))


def _request(body: Any) -> tuple[list[dict[str, Any]], str]:
    """The objects and the withdrawal commitment of a filing request, or a 400 naming what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("an anonymous filing is a JSON object with 'objects' and 'withdrawal_commitment'")
    objects = body.get("objects")
    if not isinstance(objects, list) or not objects or not all(isinstance(o, dict) for o in objects):
        raise BadRequest("'objects' must be a non-empty list of STIX objects")
    if len(objects) > _MAX_OBJECTS:
        raise BadRequest(f"an anonymous report has at most {_MAX_OBJECTS} objects")
    committed = body.get("withdrawal_commitment")
    if not is_commitment(committed):
        raise BadRequest("'withdrawal_commitment' must be 'sha256:' and 64 lower-case hex digits "
                         "(hub.anonymity.filing.commitment of the report's withdrawal secret)")
    reports = [o for o in objects if o.get("type") == "report"]
    if len(reports) != 1:
        raise BadRequest(f"an anonymous filing holds exactly one report object, not {len(reports)}")
    unknown = set(body) - {"objects", "withdrawal_commitment"}
    if unknown:
        raise BadRequest(f"unknown member(s) of an anonymous filing: {', '.join(sorted(map(str, unknown)))}")
    return objects, cast(str, committed)


def _has_signatures(obj: dict[str, Any]) -> bool:
    ext = obj.get("extensions")
    return isinstance(ext, dict) and SIGNATURE_EXTENSION_ID in ext


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _refuse_naming(objects: list[dict[str, Any]], names: list[str]) -> None:
    """Refuse a report that still names its submitter; the reason names the object and the
    kind of name, never the name (the refusal may be logged or shown)."""
    patterns = []
    for kind, name in zip(("party name", "identity id"), names[:2], strict=True):
        patterns.append((kind, name))
    patterns += [("organisation code" if not _looks_like_key_id(n) else "key id", n) for n in names[2:]]
    compiled = [(kind, re.compile(r"(?<![0-9a-z_-])" + re.escape(name.casefold()) + r"(?![0-9a-z_-])"))
                for kind, name in patterns if len(name) >= 3]
    for index, obj in enumerate(objects):
        text = "\n".join(_strings(obj)).casefold()
        for kind, pattern in compiled:
            if pattern.search(text):
                raise BadRequest(f"object {index} ({obj.get('type', 'object')}) still names its submitter "
                                 f"(its {kind}): an anonymous report must not; nothing was stored")


def _looks_like_key_id(text: str) -> bool:
    return len(text) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", text) is not None


def _remake(objects: list[dict[str, Any]], committed: str, attests: str,
            now_us: int) -> tuple[list[dict[str, Any]], str, tuple[str, ...]]:
    """The report as the hub publishes it (module text, step 4): the objects, the report's id,
    and the ids that belong to this report alone."""
    hour_us = now_us - now_us % _HOUR_US
    identity = f"identity--{uuid.uuid4()}"
    creators = {o.get("created_by_ref") for o in objects} - {None}
    mapping: dict[str, str] = {}
    for obj in objects:
        oid = obj.get("id")
        if not isinstance(oid, str) or obj.get("type") in SCO_TYPES:
            continue
        if oid in creators and obj.get("type") == "identity":
            mapping[oid] = identity
        else:
            mapping[oid] = f"{oid.partition('--')[0]}--{uuid.uuid4()}"
    for creator in creators:
        if isinstance(creator, str) and creator not in mapping:
            mapping[creator] = identity
    remade = [_rewrite(copy.deepcopy(o), mapping, hour_us) for o in objects]
    for obj in remade:
        if obj.get("type") == "identity" and obj.get("id") == identity:
            obj["name"] = ANONYMOUS_NAME
            obj.pop("description", None)
            obj.pop("contact_information", None)
        if obj.get("type") == "report":
            obj[WITHDRAWAL_PROPERTY] = committed
            obj[ATTESTS_PROPERTY] = attests
            obj["object_refs"] = sorted(obj.get("object_refs") or [])
    remade = _account_ids(remade)
    remade.sort(key=lambda o: str(o.get("id")))
    report = next(o for o in remade if o.get("type") == "report")
    own = tuple(sorted(o["id"] for o in remade if o.get("type") not in SCO_TYPES))
    return remade, report["id"], own


def _rewrite(value: Any, mapping: dict[str, str], hour_us: int, prop: str = "") -> Any:
    """``value`` with ids mapped and timestamps coarsened (step 4 of the module text)."""
    if isinstance(value, dict):
        out = {k: _rewrite(v, mapping, hour_us, k) for k, v in value.items()}
        if "valid_until" in out and "valid_from" in value and is_stix_timestamp(value["valid_from"]):
            span = parse_timestamp_us(value["valid_until"]) - parse_timestamp_us(value["valid_from"])
            days = max(1, -(-span // _DAY_US))
            out["valid_until"] = _ms(hour_us + days * _DAY_US)
        return out
    if isinstance(value, list):
        return [_rewrite(v, mapping, hour_us, prop) for v in value]
    if isinstance(value, str):
        if value in mapping:
            return mapping[value]
        if is_stix_timestamp(value):
            if prop in _HOUR_PROPS:
                return _ms(hour_us)
            us = parse_timestamp_us(value)
            return _ms(us - us % _SECOND_US)
    return value


def _ms(us: int) -> str:
    return datetime.fromtimestamp(us / _SECOND_US, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _account_ids(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User-accounts get their content id again (their content named the provider's identity)."""
    mapping: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") == "user-account":
            body = {k: v for k, v in obj.items() if k not in ("id", "type", "spec_version")}
            mapping[obj["id"]] = deterministic_sco_id("user-account", body)
    if not mapping:
        return objects
    return [cast(dict[str, Any], _map_ids(o, mapping)) for o in objects]


def _map_ids(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _map_ids(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_ids(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def _attest(obj: dict[str, Any], key: Any, hub_identity: str, signed_us: int) -> dict[str, Any]:
    """``obj`` with the hub's attestation entry (its only entry); marking-definitions as they are."""
    if obj.get("type") == "marking-definition":
        return obj
    metadata = {"type": ATTESTATION_TYPE, "version": str(SIGNATURE_VERSION), "algorithm": key.alg,
                "signer": hub_identity, "key_id": key.key_id, "signed": _ms(signed_us)}
    value = key.sign(signing_input(obj, metadata))
    signed = dict(obj)
    extensions = dict(obj.get("extensions") or {})
    extensions[SIGNATURE_EXTENSION_ID] = {"extension_type": EXTENSION_TYPE,
                                          "signatures": [{**metadata, "value": b64url_encode(value)}]}
    signed["extensions"] = extensions
    return signed

