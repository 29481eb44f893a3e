"""The sync engine: one pass over every link, or a loop of passes until told to stop.

Pull (TAXII 2.1 section 5.4): page through the peer's collection from the link's cursor (the
peer's ``X-TAXII-Date-Added-Last``, its exact text) and submit each page, as the peer's party,
through the same ingest pipeline as a POST. The cursor moves only after the page is committed
here; what ingest refuses is held aside in quarantine with the reason, never dropped. A crash at
any point re-delivers the last page, and ingest answers "already stored" for what it holds.

Push (section 5.5): send the local collection's versions added after the link's cursor (a local
``date_added``) to the peer, except those the peer itself submitted here, and follow the status
until the peer has judged every object; only then the cursor moves.

Markings (docs/MARKINGS.md): a push link sends only the versions the peer's party may read, as
that party would read them here (``Store.outgoing`` with ``reader_pk``: the version's audience
admits it), so a peer that does not enforce markings gets CLEAR, GREEN and unmarked objects
only. The cursor passes over what is withheld: such a version is not sent later when the peer's
attributes change (``party edit``); only a new link (``link remove``, then ``link add``) sends it,
starting from the beginning. On a pull link the peer hub decides, serving this hub's party there
as any reader; what arrives is classified by ingest like any submission (the peer's party is the
submitter) and read here by whom its markings admit.

Deletions (:mod:`.deletions`): a pull link first takes the peer's signed tombstone records and
passes over the versions deleted here; a push link, after its objects, sends the TAXII DELETE of
each deleted version it had pushed.

Loops end by themselves: an object version already present is not stored again, so it gets no
new ``date_added`` and is not pushed again, and nothing goes back to the peer it came from.

Links are independent: each turn of a link runs in a thread of its own, so a slow or hung peer
holds up only its own links. A turn has a deadline (:data:`DEFAULT_DEADLINE`, ``federate
--deadline``) after which it ends after its current page; a single request is bounded by
``[federation] timeout``. Faults stay on their link: an error ends that link's turn with a log
line and a recorded ``last_error``; in the loop the link waits ``2**n`` seconds (with jitter, at
most ``[federation] max_backoff``) before its next turn while the other links go on. Stopping
never waits for a peer: turns end after their current page, and those still waiting for an
answer half a second later are left behind. Every step commits on its own (a page with its
objects, then the cursor), so an abandoned step is simply done again by the link's next turn.
"""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from hub.client.envelope import ExactObject
from hub.client.errors import ClientError
from hub.client.retry import RetryNotice
from hub.common.errors import HubError
from hub.common.ids import is_stix_id
from hub.common.timestamps import is_stix_timestamp
from hub.services.access.auth import Principal
from hub.services.clock import Clock
from hub.services.federation.deletions import Deletions
from hub.services.federation.peers import PeerDirectory
from hub.services.ingest import IngestService
from hub.signing.batch import BatchVerifier, default_processes, spare_core
from hub.stix.markings import TLP_LEVEL_BY_ID, tlp_level
from hub.store.base import Store
from hub.store.federation import LinkRecord, OutgoingVersion, PeerRecord
from hub.store.records import Collection

if TYPE_CHECKING:  # a link's turn imports the client with its first peer (:mod:`.transport`)
    from hub.client.taxii import ObjectsPage

__all__ = ["DEFAULT_DEADLINE", "LinkResult", "SyncEngine", "digest"]

log = logging.getLogger("abusehub.federation")


def digest(text: str) -> str:
    """The SHA-256 of an object's exact text, hex: one quarantine row per text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class LinkResult:
    """What one turn of one link did."""

    link: int
    direction: str
    peer: str
    stored: int = 0
    already: int = 0
    quarantined: int = 0
    pushed: int = 0
    refused_by_peer: int = 0
    #: Deletions (:mod:`.deletions`): the peer's tombstones taken, the versions they deleted here,
    #: offered versions passed over as deleted here, and TAXII DELETEs the peer acknowledged.
    tombstones: int = 0
    removed: int = 0
    deleted_here: int = 0
    deletes_sent: int = 0
    error: str | None = None
    skipped: bool = False
    refusals: list[tuple[str, str]] = field(default_factory=list)


def _failure_key(obj: dict[str, Any], index: int) -> str:
    """How ingest names a failed object (see hub.services.ingest._describe)."""
    oid = obj.get("id")
    return str(oid) if is_stix_id(oid) else f"(object {index} of the envelope)"


def _object_tlp(obj: dict[str, Any]) -> int | None:
    refs = obj.get("object_marking_refs")
    levels = [TLP_LEVEL_BY_ID[r] for r in refs if isinstance(r, str) and r in TLP_LEVEL_BY_ID] \
        if isinstance(refs, list) else []
    return max(levels) if levels else None


_DONE = object()
#: The longest wait (seconds) of the loop: how soon it notices a stop, a deadline or an ended turn.
_TICK = 0.2
#: Seconds a turn of one link may run by default (``abusehub federate --deadline``).
DEFAULT_DEADLINE = 300


@dataclass
class _Turn:
    """One turn of one link, running in a thread of its own."""

    link: LinkRecord
    #: Set at the turn's deadline, or when the loop stops: the turn ends after its current page.
    stop: threading.Event
    deadline: float
    thread: threading.Thread | None = None
    result: LinkResult | None = None
    late: bool = False


def _prefetched(pages: Iterator[ObjectsPage]) -> Iterator[ObjectsPage]:
    """The pages, each fetched while the one before it is being ingested (one page ahead, in a
    thread of its own); an error of the fetch is raised where that page would have come."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=1)
    quit_ = threading.Event()

    def offer(item: Any) -> bool:
        while not quit_.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    worker = threading.Thread(target=fetch, name="federation-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        quit_.set()  # the fetching thread stops at its next page (or wait)
        worker.join(timeout=float(60))


class SyncEngine:
    """Moves objects along every link; one instance per ``abusehub federate`` process."""

    def __init__(self, store: Store, peers: PeerDirectory, ingest: IngestService, clock: Clock, *,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.peers = peers
        self.ingest = ingest
        self.clock = clock
        self.rng = rng or random.Random()
        self.config = peers.config
        self.deletions = Deletions(store, peers.audit, clock, self.config.page_size)
        self._failures: dict[int, int] = {}
        self._not_before: dict[int, float] = {}
        #: Seconds a turn of one link may run; past it, the turn ends after its current page.
        self.deadline = float(DEFAULT_DEADLINE)
        #: Seconds a stopping loop waits for turns to end after their current page.
        self.grace = 0.5
        #: Called with a local collection's id before a push turn sends it and after a pull turn
        #: took into it (the hub's rosters of notices, :mod:`hub.services.notices`).
        self.on_collection: Callable[[str], object] | None = None
        #: Called with a link's peer and the turn's open client after the turn moved its objects
        #: (the copies of the peer's token keys, :mod:`hub.services.anonymity.tokens`).
        self.on_peer: Callable[[PeerRecord, Any], object] | None = None
        #: Worker processes that verify the signatures of a pulled page while ingest judges its
        #: objects (:mod:`hub.signing.batch`; 0: none, each is verified as it is judged), for
        #: pages of at least :attr:`batch_min` objects while :attr:`spare_core` says the machine
        #: has a core to spare (else the page is verified here: on busy cores more processes
        #: only add their cost); started on the first such page, ended when a pass or the loop
        #: ends (:meth:`close`).
        self.verify_processes = default_processes()
        self.batch_min = 50
        self.spare_core: Callable[[], bool] = spare_core
        self._verifier: BatchVerifier | None = None
        self._verifier_lock = threading.Lock()

    def _batch_verifier(self, size: int) -> BatchVerifier | None:
        """The verifier for a page of ``size`` objects (None: they are verified as judged)."""
        if self.verify_processes <= 0 or size < self.batch_min or not self.spare_core():
            return None
        with self._verifier_lock:
            if self._verifier is None:
                self._verifier = BatchVerifier(self.verify_processes)
            return self._verifier

    def close(self) -> None:
        """End the verifier's processes (started again by the next page that needs them)."""
        with self._verifier_lock:
            verifier, self._verifier = self._verifier, None
        if verifier is not None:
            verifier.close()

    # -- turns: each link in a thread of its own

    def _start(self, link: LinkRecord, deadline: float, done: queue.Queue[_Turn]) -> _Turn:
        """Start one turn of ``link`` in a daemon thread; it is put on ``done`` when it ends."""
        turn = _Turn(link, threading.Event(), time.monotonic() + deadline)

        def work() -> None:
            try:
                turn.result = self.sync_link(link, stop=turn.stop)
            except Exception as exc:  # the store failing while the error is recorded
                log.exception("link %d (%s %s) failed", link.pk, link.direction, link.peer_name)
                turn.result = LinkResult(link.pk, link.direction, link.peer_name,
                                         error=f"{type(exc).__name__} while syncing (logged)")
            finally:
                done.put(turn)

        # A daemon: a turn waiting for a peer never keeps the process from ending; what it has
        # not committed is fetched or sent again by the link's next turn.
        turn.thread = threading.Thread(target=work, name=f"federation-link-{link.pk}", daemon=True)
        turn.thread.start()
        return turn

    def _ended(self, turn: _Turn, now: float) -> LinkResult:
        """The result of a turn that ended, its link's backoff brought up to date."""
        link, result = turn.link, turn.result
        assert result is not None
        if result.error is None:
            self._failures.pop(link.pk, None)
            self._not_before.pop(link.pk, None)
        else:
            n = self._failures.get(link.pk, 0)
            self._failures[link.pk] = n + 1
            ceiling = min(float(self.config.max_backoff), 2.0 ** n)
            # Equal jitter: half fixed, half random, so links that failed together spread out.
            self._not_before[link.pk] = now + ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return result

    def _watch(self, running: dict[int, _Turn]) -> None:
        """Tell turns past their deadline to end after their current page (once each)."""
        now = time.monotonic()
        for turn in running.values():
            if not turn.late and now > turn.deadline:
                turn.late = True
                turn.stop.set()
                log.warning("link %d (%s %s): its turn passed its deadline of %g s: it ends after its current "
                            "page and goes on next turn", turn.link.pk, turn.link.direction,
                            turn.link.peer_name, self.deadline)

    def _stopping(self, running: dict[int, _Turn], done: queue.Queue[_Turn], grace: float) -> list[_Turn]:
        """Ask every running turn to end after its current page; wait at most ``grace`` seconds,
        then leave the turns still waiting for a peer behind (daemon threads). Returns the turns
        that ended; those left behind stay in ``running``."""
        for turn in running.values():
            turn.stop.set()
        until = time.monotonic() + grace
        ended = []
        while running:
            try:
                turn = done.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            running.pop(turn.link.pk, None)
            ended.append(turn)
        for turn in running.values():
            log.warning("link %d (%s %s): stopped with a request to the peer in flight; what it had not "
                        "committed is fetched or sent again next time", turn.link.pk, turn.link.direction,
                        turn.link.peer_name)
        return ended

    # -- one pass

    def run_once(self, *, now: Callable[[], float] = time.monotonic, honour_backoff: bool = False,
                 stop: threading.Event | None = None) -> list[LinkResult]:
        """One turn of every link, each in a thread of its own, so a slow peer holds up only its
        own links; returns when every turn has ended, the results in link order. A failing link
        does not stop the others. ``stop`` ends the turns after their current page."""
        try:
            return self._run_once(now, honour_backoff, stop)
        finally:
            self.close()

    def _run_once(self, now: Callable[[], float], honour_backoff: bool,
                  stop: threading.Event | None) -> list[LinkResult]:
        done: queue.Queue[_Turn] = queue.Queue()
        results: dict[int, LinkResult] = {}
        running: dict[int, _Turn] = {}
        links = self.store.list_links()
        for link in links:
            if honour_backoff and self._not_before.get(link.pk, 0.0) > now():
                results[link.pk] = LinkResult(link.pk, link.direction, link.peer_name, skipped=True)
            else:
                running[link.pk] = self._start(link, self.deadline, done)
        while running:
            if stop is not None and stop.is_set():
                for turn in self._stopping(running, done, self.grace):
                    results[turn.link.pk] = self._ended(turn, now())
                break
            self._watch(running)
            try:
                turn = done.get(timeout=_TICK)
            except queue.Empty:
                continue
            del running[turn.link.pk]
            results[turn.link.pk] = self._ended(turn, now())
        return [results[link.pk] for link in links if link.pk in results]

    def run_forever(self, interval: float, stop: threading.Event) -> int:
        """Turns of every link until ``stop`` is set (a SIGTERM handler sets it): each link in a
        thread of its own, a new turn ``interval`` seconds after its last one began (or when it
        ends, if it took longer; or after its backoff), so a slow or hung peer holds up only its
        own links. A turn ends after its current page when it passes its deadline. Once ``stop``
        is set, turns end after their current page; those still waiting for a peer after
        :attr:`grace` seconds are left behind. Returns how many were."""
        done: queue.Queue[_Turn] = queue.Queue()
        running: dict[int, _Turn] = {}
        began: dict[int, float] = {}
        look = 0.0  # when to read the links again (to start the turns due)
        while not stop.is_set():
            now = time.monotonic()
            if now >= look:
                look = now + interval
                try:
                    links = self.store.list_links()
                except Exception:  # the store failing: log, wait, go on
                    log.exception("federation: cannot read the links")
                    links = []
                for link in links:
                    if link.pk in running:
                        continue
                    due = max(began.get(link.pk, -math.inf) + interval, self._not_before.get(link.pk, 0.0))
                    if due > now:
                        look = min(look, due)
                        continue
                    began[link.pk] = now
                    running[link.pk] = self._start(link, self.deadline, done)
            self._watch(running)
            try:
                turn = done.get(timeout=min(_TICK, max(0.0, look - time.monotonic())))
            except queue.Empty:
                continue
            running.pop(turn.link.pk, None)
            self._ended(turn, time.monotonic())
            look = min(look, max(began[turn.link.pk] + interval, self._not_before.get(turn.link.pk, 0.0)))
        self._stopping(running, done, self.grace)
        self.close()
        return len(running)

    def sync_link(self, link: LinkRecord, *, stop: threading.Event | None = None) -> LinkResult:
        """One turn of one link; errors are caught, logged and recorded on the link."""
        result = LinkResult(link.pk, link.direction, link.peer_name)
        peer = next((p for p in self.store.list_peers() if p.pk == link.peer_pk), None)
        col = self.store.get_collection(link.collection_id)
        if peer is None or col is None:
            result.error = "the link's peer or local collection no longer exists"
            return result

        def on_retry(notice: RetryNotice) -> None:
            log.warning("link %d (%s %s): the peer asked to wait; retrying (%s)", link.pk, link.direction,
                        link.peer_name, notice)

        try:
            with self.peers.client(peer, on_retry=on_retry) as client:
                if link.direction == "pull":
                    self._pull(link, peer, col, client, result, stop)
                    self._collection_hook(col)
                else:
                    self._collection_hook(col)
                    self._push(link, peer, col, client, result, stop)
                self._peer_hook(peer, client)
        except (HubError, OSError, ValueError) as exc:
            text = exc.description if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
            result.error = " ".join(text.split())[:1000]
        except Exception as exc:  # never one link's fault stopping the others
            result.error = f"{type(exc).__name__} while syncing (logged)"
            log.exception("link %d (%s %s) failed", link.pk, link.direction, link.peer_name)
        if result.error is not None:
            log.warning("link %d (%s %s, remote collection %s): %s", link.pk, link.direction, link.peer_name,
                        link.remote_collection, result.error)
            self.store.set_link_error(link.pk, result.error, self.clock())
        else:
            log.info("link %d (%s %s): %d stored, %d already here, %d quarantined, %d pushed",
                     link.pk, link.direction, link.peer_name, result.stored, result.already,
                     result.quarantined, result.pushed)
        return result

    def _collection_hook(self, col: Collection) -> None:
        """Run :attr:`on_collection` for ``col``; its failure is logged, the turn goes on."""
        if self.on_collection is None:
            return
        try:
            self.on_collection(col.id)
        except Exception:
            log.exception("collection %s: refreshing what the hub reports failed", col.id)

    def _peer_hook(self, peer: PeerRecord, client: Any) -> None:
        """Run :attr:`on_peer` for ``peer`` with the turn's client; its failure is logged, the turn
        goes on."""
        if self.on_peer is None:
            return
        try:
            self.on_peer(peer, client)
        except Exception:
            log.exception("peer %s: the work done for the peer after its link's turn failed", peer.name)

    # -- pull

    def _principal(self, peer: PeerRecord) -> Principal:
        party = next(p for p in self.store.list_parties() if p.pk == peer.party_pk)
        return Principal(party, self.store.grants_for(party.pk))

    def _pull(self, link: LinkRecord, peer: PeerRecord, col: Collection, client: Any, result: LinkResult,
              stop: threading.Event | None) -> None:
        principal = self._principal(peer)
        # The peer's deletions first: a version deleted there is not taken again here.
        self.deletions.pull(link, peer, col, client, result, stop)
        cursor = link.cursor
        pages = client.pages(link.remote_collection, added_after=cursor, limit=self.config.page_size,
                             types=link.types, versions=("all",))
        for page in _prefetched(pages):
            if page.objects:
                self.admit(link, peer, principal, col, page.objects, result)
                if page.date_added_last is not None:
                    cursor = page.date_added_last
                # Only now, with the page committed here, does the cursor move.
                self.store.set_link_cursor(link.pk, cursor, self.clock(), None)
            if stop is not None and stop.is_set():
                return
        # The whole collection has been read: nothing is left behind.
        self.store.set_link_cursor(link.pk, cursor, self.clock(), 0)

    def admit(self, link: LinkRecord | None, peer: PeerRecord, principal: Principal, col: Collection,
              objects: Sequence[ExactObject], result: LinkResult) -> None:
        """Ingest objects from a peer; each refused one is quarantined with its reason, and a
        version deleted here is passed over."""
        objects = self.deletions.skip_deleted(col, objects, result)
        ceiling = tlp_level(link.max_tlp) if link is not None and link.max_tlp else None
        admitted: list[ExactObject] = []
        for obj in objects:
            level = _object_tlp(obj.data)
            if ceiling is not None and level is not None and level > ceiling:
                self._hold(link, peer, col, obj, f"marked above the link's TLP ceiling {link.max_tlp}"
                           if link else "above the TLP ceiling", result)
            else:
                admitted.append(obj)
        if not admitted:
            return
        status = self.ingest.submit(principal, col, {"objects": [o.data for o in admitted]},
                                    verifier=self._batch_verifier(len(admitted)))
        for success in status.successes:
            if str(success.get("message", "")).startswith("already stored"):
                result.already += 1
            else:
                result.stored += 1
        by_key: dict[str, list[ExactObject]] = {}
        for index, obj in enumerate(admitted):
            by_key.setdefault(_failure_key(obj.data, index), []).append(obj)
        for failure in status.failures:
            candidates = by_key.get(str(failure.get("id")), [])
            if candidates:
                self._hold(link, peer, col, candidates.pop(0), str(failure.get("message", "")), result)

    def _hold(self, link: LinkRecord | None, peer: PeerRecord, col: Collection, obj: ExactObject, reason: str,
              result: LinkResult) -> None:
        oid = obj.data.get("id")
        version = obj.data.get("modified") or obj.data.get("created") or ""
        stix_id = str(oid) if is_stix_id(oid) else "(no valid id)"
        version = str(version) if is_stix_timestamp(version) else ""
        added = self.store.quarantine(link.pk if link else None, peer.pk, col.pk, stix_id, version,
                                    digest(obj.text), reason, obj.text, self.clock())
        result.refusals.append((stix_id, reason))
        if added:
            result.quarantined += 1
            log.warning("quarantined %s from peer %s into collection %s: %s", stix_id, peer.name, col.id,
                        reason)

    # -- push

    def _push(self, link: LinkRecord, peer: PeerRecord, col: Collection, client: Any, result: LinkResult,
              stop: threading.Event | None) -> None:
        after = int(link.cursor or 0)
        ceiling = tlp_level(link.max_tlp) if link.max_tlp else None
        while True:
            # Only what the peer's party may read (its markings' audience admits it): the rest is
            # withheld, and the cursor passes over it.
            batch = self.store.outgoing(col.pk, after, self.config.page_size, reader_pk=peer.party_pk)
            if not batch:
                self._pass_withheld(link, peer, col, after)
                break
            send = [v.json_text for v in batch if self._sends(link, peer, ceiling, v)]
            if send:
                self._submit(link, peer, col, client, send, result)
            after = batch[-1].date_added_us
            # The peer has acknowledged every object of the batch: the cursor moves. The lag counts
            # only what the peer's party may read: the rest is never sent.
            self.store.set_link_cursor(link.pk, str(after), self.clock(),
                                       self.store.count_after(col.pk, after, reader_pk=peer.party_pk))
            if stop is not None and stop.is_set():
                return
        # Then what the link had pushed and was deleted since: its TAXII DELETE at the peer.
        self.deletions.push(link, peer, col, client, result, stop)

    @staticmethod
    def _sends(link: LinkRecord, peer: PeerRecord, ceiling: int | None, v: OutgoingVersion) -> bool:
        """Whether the link sends a version the peer may read: not back to the peer it came
        from, of the link's types, within its TLP ceiling."""
        if v.party_pk == peer.party_pk or (link.types and v.type not in link.types):
            return False
        if ceiling is not None:
            level = _object_tlp(orjson.loads(v.json_text))
            return level is None or level <= ceiling
        return True

    def _submit(self, link: LinkRecord, peer: PeerRecord, col: Collection, client: Any, send: list[str],
                result: LinkResult) -> None:
        """Push one batch and wait until the peer has judged every object of it."""
        from hub.client.taxii import read_outcome  # imported by the turn's client already

        status = client.submit(link.remote_collection, send, wait=float(self.config.status_wait))
        outcome = read_outcome(status)
        if not outcome.complete:
            raise ClientError(f"the peer has not judged {len(outcome.pending)} pushed object(s) "
                              f"after {self.config.status_wait} s (status {outcome.status_id}); "
                              "they are sent again next time")
        result.pushed += len(outcome.stored)
        result.already += len(outcome.already_stored)
        result.refused_by_peer += len(outcome.refused)
        result.refusals.extend(outcome.refused)
        for oid, reason in outcome.refused:
            log.warning("peer %s refused %s pushed from collection %s: %s", peer.name, oid, col.id, reason)

    def _pass_withheld(self, link: LinkRecord, peer: PeerRecord, col: Collection, after: int) -> None:
        """With nothing left after ``after`` that the peer may read, move the cursor over the
        versions withheld from it, to the newest the collection holds: they are not sent later,
        even when the peer's attributes change (a new link starts from the beginning).

        The newest version's date_added is read first (one look at the collection's index, no
        text read), and only then is the collection asked again whether anything the peer may
        read came after the cursor: if something did (added meanwhile), the cursor stays, and the
        next turn sends it."""
        newest = self.store.newest_added_us(col.pk)
        if newest is None or newest <= after:
            return
        if self.store.outgoing(col.pk, after, 1, reader_pk=peer.party_pk):
            return
        self.store.set_link_cursor(link.pk, str(newest), self.clock(),
                                   self.store.count_after(col.pk, newest, reader_pk=peer.party_pk))
