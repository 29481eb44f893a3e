"""Access policy: who may see, read and write which collection, and who may see a status."""

from __future__ import annotations

from typing import Literal

from hub.common.errors import Forbidden, NotFound, Unauthorized
from hub.services.auth import Principal, hash_token
from hub.store.base import Store
from hub.store.records import Collection

Need = Literal["see", "read", "write"]


class AccessService:
    """Authenticates tokens and resolves collections for a principal."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def authenticate(self, token: str | None) -> Principal:
        """The principal holding ``token``; :class:`Unauthorized` for none, unknown or revoked."""
        if not token:
            raise Unauthorized("this resource needs an API token (HTTP Basic password or Bearer token)")
        party = self.store.party_for_token(hash_token(token))
        if party is None:
            raise Unauthorized("the API token is not valid (unknown or revoked)")
        return Principal(party, self.store.grants_for(party.pk))

    def visible_collections(self, principal: Principal) -> list[Collection]:
        """The collections the principal may read or write; no others are ever listed."""
        return [c for c in self.store.list_collections() if principal.can_see(c)]

    def collection(self, principal: Principal, collection_id: str, need: Need) -> Collection:
        """Resolve a collection for ``need``.

        404 when the collection does not exist or is not visible to the principal (its existence
        is not revealed); 403 when it is visible but the principal lacks ``need``.
        """
        col = self.store.get_collection(collection_id)
        if col is None or not principal.can_see(col):
            raise NotFound(f"no collection {collection_id!r} is available to you")
        if need == "read" and not principal.can_read(col):
            raise Forbidden(f"you may not read collection {col.id}")
        if need == "write" and not principal.can_write(col):
            raise Forbidden(f"you may not write to collection {col.id}")
        return col
