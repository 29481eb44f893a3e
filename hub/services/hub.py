"""The service container: one per process, built from the configuration.

The TAXII views, the CLI and the demo all go through it; none of them touches the store.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.config import HubConfig
from hub.services.access import AccessService
from hub.services.access.markings import BackfillResult, MarkingService
from hub.services.admin import AdminService
from hub.services.anonymity.filing import AnonymousFilingService
from hub.services.anonymity.tokens import TokenService
from hub.services.audit import AuditService
from hub.services.audit_spool import ReadSpool
from hub.services.clock import Clock, system_clock
from hub.services.federation import FederationService
from hub.services.federation.tombstones import TombstoneService
from hub.services.ingest import IngestService
from hub.services.ingest.policy import policy_checks
from hub.services.ingest.signatures import make_countersign, make_signature_check
from hub.services.ingest.statuses import StatusService
from hub.services.keys import HubSigner, KeyService
from hub.services.notices import NoticeService, make_notice_check
from hub.services.pseudonyms import PseudonymService
from hub.services.query import QueryService
from hub.store import open_store
from hub.store.base import Store

#: Where a Flask application keeps its hub: ``app.extensions[EXTENSION]`` (put there by
#: :func:`hub.server.create_app`, read by the TAXII views and the web pages).
EXTENSION = "abusehub"


class Hub:
    """Everything a front end needs: access, ingest, query, statuses, pseudonyms, administration."""

    def __init__(self, config: HubConfig, store: Store, clock: Clock = system_clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        # With standbys, reads are served while the primary is down: their records wait on disk.
        spool = ReadSpool(config.home / "read-spool", config.database_read_spool_records)
        self.audit = AuditService(store, clock, spool, spool_reads=bool(config.database_read_urls))
        self.access = AccessService(store)
        # Who may read each object: its audience, from its markings, decided at ingest.
        self.markings = MarkingService(store, clock, self.audit)
        self.admin = AdminService(store, clock, self.audit, self.markings)
        self.keys = KeyService(store, clock, self.audit)
        # Its key is made by ``signer.prepare()`` (at init), or else by the first countersignature.
        self.signer = HubSigner(store, self.keys, config.home, clock)
        self.pseudonyms = PseudonymService(
            store, self.access, self.audit, config.home, config.pseudonyms.per_minute,
            config.pseudonyms.default_region or None)
        # Deleted versions (their tombstones), served as signed records and never stored again.
        self.tombstones = TombstoneService(store, self.access, self.audit, clock, self.keys, self.signer,
                                           config.taxii.default_page_size, config.taxii.max_page_size)
        # Every collection: not a deleted version; valid STIX, markings, personal data,
        # pseudonyms under key versions this hub has; then signatures (cryptography last), and
        # who may issue and acknowledge notices.
        self.ingest = IngestService(
            store, clock, config.taxii.status_retention_hours,
            checks=[self.tombstones.check, *policy_checks(store), self.pseudonyms.check_key_versions,
                    make_signature_check(self.keys), make_notice_check(store, self.keys)],
            transforms=[make_countersign(self.signer)], markings=self.markings)
        self.query = QueryService(store, self.access, self.audit, config.taxii.default_page_size,
                                  config.taxii.max_page_size)
        self.statuses = StatusService(store, clock)
        # Who acted on a notice: its addressees' acknowledgements, by the hub's clock.
        self.notices = NoticeService(store, clock, signer=self.signer, ingest=self.ingest)
        self.federation = FederationService(store, self.audit, clock, self.keys, self.ingest, config.home,
                                            config.federation)
        # Each turn of a link refreshes this hub's rosters of the notices it carries from others.
        self.federation.engine.on_collection = self.notices.refresh_rosters
        # Anonymous filing: attested when filed, published at random moments, withdrawn by secret.
        self.anonymous = AnonymousFilingService(store, clock, config.anonymity, config.home, self.ingest,
                                                self.keys, self.signer, self.audit, config.title)
        # Submission tokens: one key per epoch, issued to providers at a rate, redeemed through
        # anonymous filing.
        self.tokens = TokenService(store, clock, self.audit, self.signer, config.anonymity, config.title,
                                   self.anonymous, copy_interval=config.federation.token_keys_interval)
        # Each turn of a link copies the peer's token keys (at most once an interval): the second
        # source this hub's providers check the peer's key against, and the peer's against this.
        self.federation.engine.on_peer = self.tokens.copy_from_peer

    def migrate(self) -> str:
        """Bring the database schema up to date (idempotent, never drops data), then classify
        the objects stored before markings were enforced if that was never done; its revision."""
        return self.upgrade()[0]

    def upgrade(self, progress: Callable[[int], None] | None = None) -> tuple[str, BackfillResult | None]:
        """:meth:`migrate`, saying what classifying the stored objects did (None when they were
        classified before). ``progress`` hears how many objects were examined so far."""
        revision = self.store.migrate()
        if self.markings.classified():
            return revision, None
        return revision, self.markings.backfill(progress)

    def prepare(self) -> tuple[str, str, bool]:
        """Make what a hub needs before it serves anything, once: the schema, the hub's
        countersigning key (registered and published at keys/) and the pseudonym keyring.

        Returns the schema revision, the hub key's id, and whether the keyring was created now.
        """
        revision = self.migrate()
        key_id = self.signer.prepare()
        created = self.pseudonyms.ensure_keyring()
        return revision, key_id, created

    def check_standbys(self) -> list[str]:
        """Check the configured standbys now (``serve`` does at start-up): one line per standby
        that is not a hot standby of this hub's database. One that does not answer is no
        problem here: :meth:`standbys` says so, and it is tried again."""
        return self.store.check_standbys()

    def standbys(self) -> list[dict[str, object]]:
        """Each configured standby's name, state (serving, ready, lagging, down, promoted,
        refused) and lag in seconds, as ``/readyz`` and the metrics show them."""
        from hub.store.replicas import describe

        return describe(self.store.standbys())

    def close(self) -> None:
        self.audit.close()
        self.store.close()


def open_hub(config: HubConfig, *, migrate: bool = False, clock: Clock = system_clock,
             database_file: tuple[int, int] | None = None) -> Hub:
    """Open the hub's store at the configured database and build the services.

    This checks nothing: the commands open a hub through :mod:`hub.services.operations.runtime`, which
    says which databases each may open. ``migrate`` brings the schema to head (making a SQLite
    file that does not exist) and classifies the objects stored before markings were enforced, as
    :meth:`Hub.migrate` does; ``database_file`` is the (device, inode) of the SQLite file to
    serve, and no other (:meth:`hub.store.base.Store.database_file`).
    """
    store = open_store(config.effective_database_url, migrate=migrate, database_file=database_file,
                       read_urls=config.database_read_urls, max_lag_s=config.database_read_max_lag)
    hub = Hub(config, store, clock)
    if migrate:
        try:
            hub.upgrade()
        except BaseException:
            hub.close()
            raise
    return hub
