"""Access policy: who may see, read and write which collection, and who may see a status.

The rest of access lives beside it: :mod:`.auth` (credentials and the requesting principal),
:mod:`.certificates` (client certificates forwarded by the proxy), :mod:`.limits` (the limits
every server process shares: failed authentications, token buckets) and :mod:`.websessions`
(the principal of a browser session). The marking and audience decisions (who may see an
object under its markings) belong here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.common.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from hub.common.quoting import show
from hub.services.access.auth import Principal, hash_token
from hub.services.access.certificates import party_for_forwarded_certificate
from hub.services.access.limits import AuthThrottle
from hub.services.metrics import NULL_METRICS, Metrics
from hub.store.base import Store
from hub.store.records import Collection

Need = Literal["see", "read", "write"]

#: The longest collection alias the store keeps; ids (UUIDs) are shorter.
_MAX_COLLECTION_REF = 200


def _can_name_a_collection(collection_id: str) -> bool:
    """A collection is named by its UUID or its alias: printable text of bounded length.

    Anything else (a NUL, another control character, a megabyte) cannot name one, and is
    answered without asking the database (PostgreSQL refuses NUL in text outright).
    """
    return 0 < len(collection_id) <= _MAX_COLLECTION_REF and collection_id.isprintable()


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as one principal sees it: what the TAXII collection resource tells
    (TAXII 2.1 section 5.2.1). ``description`` is empty and ``alias`` None when not set."""

    id: str
    title: str
    description: str
    alias: str | None
    can_read: bool
    can_write: bool

    @classmethod
    def of(cls, principal: Principal, col: Collection) -> CollectionInfo:
        """What ``principal`` may know of ``col``."""
        return cls(id=col.id, title=col.title, description=col.description, alias=col.alias,
                   can_read=principal.can_read(col), can_write=principal.can_write(col))


class AccessService:
    """Authenticates tokens and resolves collections for a principal.

    ``throttle`` (none until the server installs one) counts failed authentications across
    processes; ``metrics`` hears of every authentication, failed or not.
    """

    def __init__(self, store: Store, throttle: AuthThrottle | None = None, metrics: Metrics = NULL_METRICS) -> None:
        self.store = store
        self.throttle = throttle
        self.metrics = metrics

    def authenticate(self, token: str | None, *, address: str | None = None, claimed: str | None = None) -> Principal:
        """The principal holding ``token``; :class:`Unauthorized` for none, unknown or revoked.

        ``address`` is the request's source address and ``claimed`` the user name of HTTP Basic
        credentials: a failure is counted under both, and answered with
        :class:`~hub.common.errors.TooManyRequests` once either has failed too often.
        """
        if not token:
            # Not an attempt: clients ask without credentials first and answer the challenge.
            self.metrics.auth_failure("missing")
            raise Unauthorized("this resource needs an API token (HTTP Basic password or Bearer token)")
        party = self.store.party_for_token(hash_token(token))
        if party is None:
            self.failed(address, claimed, "invalid")
            raise Unauthorized("the API token is not valid (unknown or revoked)")
        self.metrics.authenticated(party.pk, party.name)
        return Principal(party, self.store.grants_for(party.pk))

    def authenticate_certificate(self, forwarded: str) -> Principal:
        """The principal whose registered client certificate the trusted proxy forwarded;
        :class:`Unauthorized` when it is not registered to an active party."""
        party = party_for_forwarded_certificate(self.store, forwarded)
        if party is None:
            self.metrics.auth_failure("invalid")
            raise Unauthorized("the client certificate is not registered to an active party")
        self.metrics.authenticated(party.pk, party.name)
        return Principal(party, self.store.grants_for(party.pk))

    def failed(self, address: str | None, claimed: str | None, reason: str) -> None:
        """Count a failed authentication (``reason``: ``invalid``, ``malformed``); raises
        :class:`~hub.common.errors.TooManyRequests` when its source or claimed party has failed
        too often. The caller raises :class:`Unauthorized` when this returns."""
        self.metrics.auth_failure(reason)
        if self.throttle is not None:
            try:
                self.throttle.failed(address, claimed)
            except TooManyRequests:
                self.metrics.auth_failure("throttled")
                raise

    def visible_collections(self, principal: Principal) -> list[Collection]:
        """The collections the principal may read or write; no others are ever listed."""
        return [c for c in self.store.list_collections() if principal.can_see(c)]

    def collection_infos(self, principal: Principal) -> list[CollectionInfo]:
        """The collections the principal may read or write, described for it, in a stable order."""
        # Read on a standby when one is fit (hub.store.replicas).
        visible = self.store.routed(lambda: self.visible_collections(principal), principal.party.pk)
        return [CollectionInfo.of(principal, c) for c in visible]

    def collection_info(self, principal: Principal, collection_id: str) -> CollectionInfo:
        """One visible collection described for the principal; 404 as :meth:`collection`."""
        col = self.store.routed(lambda: self.collection(principal, collection_id, "see"), principal.party.pk)
        return CollectionInfo.of(principal, col)

    def collection(self, principal: Principal, collection_id: str, need: Need) -> Collection:
        """Resolve a collection for ``need``.

        404 when the collection does not exist or is not visible to the principal (its existence
        is not revealed); 403 when it is visible but the principal lacks ``need``.
        """
        if not _can_name_a_collection(collection_id):
            raise NotFound(f"no collection {show(collection_id)} is available to you")
        col = self.store.get_collection(collection_id)
        if col is None or not principal.can_see(col):
            raise NotFound(f"no collection {collection_id!r} is available to you")
        if need == "read" and not principal.can_read(col):
            raise Forbidden(f"you may not read collection {col.id}")
        if need == "write" and not principal.can_write(col):
            raise Forbidden(f"you may not write to collection {col.id}")
        return col
