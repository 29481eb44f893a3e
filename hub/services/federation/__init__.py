"""Federation: hubs of different organisations exchange collections as TAXII 2.1 clients of
each other, with signatures and provenance intact, without loops and without loss.

- :mod:`.peers`: peers (API root, credentials kept 0600 under the home, a party of kind
  ``peer``) and links (pull or push, types, TLP ceiling);
- :mod:`.transport`: the TAXII client of a peer, over httpx, imported with the first client a
  peer gets (:data:`TRANSPORT_MODULES`), so a hub without links never imports httpx;
- :mod:`.engine`: the sync engine (cursors, quarantine of what ingest refuses, per-link faults,
  each link's turn in a thread of its own; a push link sends only what the peer's party may
  read by the objects' markings, a pull link gets what the peer hub lets this hub's party read);
- :mod:`.tombstones`: deleted versions stay deleted: the ingest check, the signed tombstone
  records a collection serves, and taking a peer's records;
- :mod:`.deletions`: deletions across links (pull links take records, push links send TAXII
  DELETE);
- :class:`FederationService`: the facade the CLI uses, with the quarantine (list, show,
  release, drop), the pinned key import and each link's status.

Keys travel pinned: from a peer's published key set (``GET <api root>/keys/``) this hub takes
the keys of the identities its operator pinned to that peer, and ignores (and reports) every
other one, so a compromised peer cannot add keys for anyone else.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hub.client.errors import ClientError
from hub.common.errors import BadRequest, Conflict, NotFound
from hub.common.ids import is_stix_id
from hub.config import FederationConfig
from hub.services.access.auth import Principal
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.services.federation.engine import DEFAULT_DEADLINE, LinkResult, SyncEngine
from hub.services.federation.peers import DIRECTIONS, Credentials, PeerDirectory, TransportFor
from hub.services.ingest import IngestService
from hub.services.keys import HUB_PARTY, KeyService, import_published_key
from hub.store.base import DuplicateError, Store
from hub.store.federation import LinkRecord, PeerRecord, QuarantineRecord

__all__ = ["DEFAULT_DEADLINE", "DIRECTIONS", "TRANSPORT_MODULES", "Credentials", "FederationService", "KeyImport",
           "LinkResult", "LinkStatus", "Release"]

#: The modules a link's turn imports when it opens its first client on a peer, and none of the
#: service imports before: the peer's transport with the client's HTTP layer and httpx, and the
#: copy of the peer's token keys (:meth:`hub.services.anonymity.tokens.TokenService.copy_from_peer`).
#: Link turns run in ``abusehub federate``, not in the server: its processes never import them.
TRANSPORT_MODULES = (
    "httpx", "hub.client.http", "hub.client.oprf", "hub.client.taxii", "hub.client.tokens",
    "hub.services.federation.transport",
)

_PARTY_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class KeyImport:
    """What importing a peer's key set did."""

    peer: str
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: (key id, identity, why it was not taken)
    ignored: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class LinkStatus:
    """A link with how far behind it is."""

    link: LinkRecord
    lag_objects: int | None
    lag_seconds: float | None
    quarantined: int


@dataclass(frozen=True)
class Release:
    """What releasing a quarantined object did: stored (or already stored), or held again."""

    record: QuarantineRecord
    accepted: bool
    reason: str | None


class FederationService:
    """Peers, links, the sync engine, the quarantine and the pinned key import."""

    def __init__(self, store: Store, audit: AuditService, clock: Clock, keys: KeyService,
                 ingest: IngestService, home: Path, config: FederationConfig,
                 transport_for: TransportFor | None = None) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock
        self.keys = keys
        self.ingest = ingest
        self.peers = PeerDirectory(store, audit, clock, home, config, transport_for)
        self.engine = SyncEngine(store, self.peers, ingest, clock)

    def set_transport(self, transport_for: TransportFor) -> None:
        """Reach peers through ``transport_for`` (in-process federation, tests)."""
        self.peers.transport_for = transport_for

    # -- syncing

    def sync_once(self) -> list[LinkResult]:
        """One turn of every link, the links side by side."""
        return self.engine.run_once()

    def status(self) -> list[LinkStatus]:
        """Every link with its lag (objects and seconds since the last success; a push link's
        objects are those past its cursor that the peer's party may read) and how many of its
        objects are quarantined."""
        out = []
        now = self.clock()
        readers = {p.pk: p.party_pk for p in self.store.list_peers()}
        for link in self.store.list_links():
            lag = link.lag_objects
            if link.direction == "push":  # what the peer's party may read: the rest is never sent
                lag = self.store.count_after(link.collection_pk, int(link.cursor or 0),
                                             reader_pk=readers.get(link.peer_pk))
            seconds = (now - link.last_success_us) / 1e6 if link.last_success_us is not None else None
            out.append(LinkStatus(link, lag, seconds, self.store.count_quarantined(link.pk)))
        return out

    # -- pinned keys

    def import_keys(self, peer_name: str) -> KeyImport:
        """Take the peer's published keys of the identities pinned to it (see module docs)."""
        peer = self.peers.get(peer_name)
        pinned = set(self.store.identities_of(peer.pk))
        try:
            with self.peers.client(peer) as client:
                jwks = client.key_set()
        except ClientError as exc:
            raise BadRequest(f"peer {peer_name}: cannot fetch its key set: {exc.description}") from None
        report = KeyImport(peer_name)
        for jwk in jwks.get("keys", []):
            if not isinstance(jwk, dict):
                continue
            kid, identity = str(jwk.get("kid", "?"))[:100], jwk.get("identity")
            if not is_stix_id(identity, "identity"):
                report.ignored.append((kid, "(none)", "the key names no identity"))
                continue
            if identity not in pinned:
                report.ignored.append((kid, str(identity), f"identity not pinned to peer {peer_name}"))
                continue
            try:
                party = self._party_for(peer, identity, jwk.get("party"))
                key_id, changed = import_published_key(self.keys, party, jwk)
            except (BadRequest, Conflict, NotFound) as exc:
                report.ignored.append((kid, identity, exc.description))
                continue
            (report.added if changed else report.unchanged).append(key_id)
        self.audit.record("peer.import-keys", peer_name, added=report.added,
                          ignored=[k for k, _, _ in report.ignored])
        return report

    def _party_for(self, peer: PeerRecord, identity: str, remote_name: object) -> str:
        """The local party of a pinned identity, made (without tokens) on first import: of kind
        ``peer`` for another hub's own identity (its key published as the hub's, party
        ``abusehub``), whose signed tombstones this hub then takes; else ``provider``."""
        for party in self.store.list_parties():
            if party.identity_id == identity:
                if party.kind == "hub":
                    raise Conflict("that is this hub's own identity")
                return party.name
        base = _PARTY_CHARS.sub("-", str(remote_name or "org"))[:60].strip("-.") or "org"
        name = f"{base}.{peer.name}"[:100]
        if self.store.get_party(name) is not None:
            name = f"{name[:90]}.{uuid.uuid4().hex[:8]}"
        kind = "peer" if remote_name == HUB_PARTY else "provider"
        try:
            self.store.create_party(name, kind, identity, False, self.clock())
        except DuplicateError:
            raise Conflict(f"cannot register a party for identity {identity}") from None
        self.audit.record("party.add", name, kind=kind, identity=identity, operator=False,
                          via_peer=peer.name)
        return name

    # -- quarantine

    def quarantined(self, peer_name: str | None = None) -> list[QuarantineRecord]:
        """The objects held aside (of one peer), oldest first."""
        return self.store.list_quarantine(self.peers.get(peer_name).pk if peer_name else None)

    def quarantined_one(self, pk: int) -> QuarantineRecord:
        """One object held aside; :class:`NotFound` otherwise."""
        rec = self.store.get_quarantined(pk)
        if rec is None:
            raise NotFound(f"nothing quarantined with number {pk}")
        return rec

    def release(self, pk: int) -> Release:
        """Send a held object through ingest again, as the peer it came from (e.g. after its
        signer's key was registered). Accepted: it leaves the quarantine; else it stays, with
        the new reason."""
        rec = self.quarantined_one(pk)
        peer = next((p for p in self.store.list_peers() if p.pk == rec.peer_pk), None)
        col = self.store.get_collection(rec.collection_id)
        if peer is None or col is None:
            raise Conflict("the object's peer or collection no longer exists")
        from hub.client.envelope import split_envelope

        _members, objects = split_envelope('{"objects":[' + rec.json_text + "]}")
        party = next(p for p in self.store.list_parties() if p.pk == peer.party_pk)
        status = self.ingest.submit(Principal(party, self.store.grants_for(party.pk)), col,
                                    {"objects": [obj for _text, obj in objects]})
        if status.failures:
            reason = str(status.failures[0].get("message", ""))
            self.audit.record("quarantine.release", peer.name, col.id, object=rec.stix_id, accepted=False)
            return Release(rec, False, reason)
        self.store.drop_quarantined(pk)
        self.audit.record("quarantine.release", peer.name, col.id, object=rec.stix_id, accepted=True)
        return Release(rec, True, None)

    def drop(self, pk: int) -> QuarantineRecord:
        """Delete a held object for good."""
        rec = self.quarantined_one(pk)
        self.store.drop_quarantined(pk)
        self.audit.record("quarantine.drop", rec.peer_name, rec.collection_id, object=rec.stix_id)
        return rec

