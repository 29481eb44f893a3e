"""Submission tokens' tables (revisions 0013 and 0014): what the hub keeps of issuing and redeeming
blind-signed tokens, in tables that share nothing.

- ``token_keys``: per epoch, its token key: the key id (hex), the public key (base64url of its
  RSASSA-PSS SPKI) and the private key sealed by the service (base64url; "" once retired), so
  that every host of the hub on this database uses the same key. The first host to make an
  epoch's key stores it; the others read it.
- ``token_issuance``: per party and epoch, how many tokens it was issued (the rate per provider
  per epoch). Counts only: no blinded message, no signature, no time.
- ``spent_tokens``: per redeemed token, its key id and nonce (hex), so it is refused a second
  time. No party, no time, no address, no collection: a row cannot be put beside an issuance or
  beside the report it carried.
- ``token_key_copies``: other hubs' token key directories as this hub copied them (the second
  source a provider checks a hub's key against): per issuer and epoch, the key id and public key
  the issuer published, where it was copied from and when.
- ``token_key_conflicts`` (revision 0014): keys another hub published for an epoch whose copy
  here is a different key (the copy stays): per issuer, epoch and key id offered, where and
  when it was seen first.

Persistence only: what an epoch is, who may be issued tokens and whether a token verifies are
decided by :mod:`hub.services.anonymity.tokens`. :class:`SubmissionTokenMixin` gives these methods
to :class:`hub.store.sql.SqlStore`; :class:`SubmissionTokenStore` declares them.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from hub.store.errors import DuplicateError
from hub.store.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["EpochKeyRow", "KeyConflict", "KeyCopy", "SubmissionTokenMixin", "SubmissionTokenStore"]

token_keys = Table(
    "token_keys", metadata,
    Column("epoch", Integer, primary_key=True),
    Column("token_key_id", String(64), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("sealed_private", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

token_issuance = Table(
    "token_issuance", metadata,
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("issued", Integer, nullable=False),
)

spent_tokens = Table(
    "spent_tokens", metadata,
    Column("token_key_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
)

token_key_copies = Table(
    "token_key_copies", metadata,
    Column("issuer", String(300), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("token_key_id", String(64), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("copied_us", BigInteger, nullable=False),
)

token_key_conflicts = Table(
    "token_key_conflicts", metadata,
    Column("issuer", String(300), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("token_key_id", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("seen_us", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class EpochKeyRow:
    """One epoch's token key as stored: its id (hex), public key (base64url SPKI) and sealed
    private key (base64url, "" once retired)."""

    epoch: int
    token_key_id: str
    public_key: str
    sealed_private: str
    created_us: int


@dataclass(frozen=True, slots=True)
class KeyCopy:
    """One epoch's token key of another hub (``issuer``) as this hub copied it from ``source``:
    its key id (hex) and public key (base64url of its RSASSA-PSS SubjectPublicKeyInfo)."""

    issuer: str
    epoch: int
    token_key_id: str
    public_key: str
    source: str
    copied_us: int


@dataclass(frozen=True, slots=True)
class KeyConflict:
    """A key ``issuer`` published for ``epoch`` that is not the one copied here before: its key
    id (hex), where it was seen and when, first."""

    issuer: str
    epoch: int
    token_key_id: str
    source: str
    seen_us: int


class SubmissionTokenStore(Protocol):
    """The submission token part of the store (see the module text)."""

    def token_key(self, epoch: int) -> EpochKeyRow | None:
        """The token key of ``epoch``, if one was made."""
        ...

    def add_token_key(self, row: EpochKeyRow) -> bool:
        """Store an epoch's key unless one is stored for it already (another host made it
        first); whether this one was stored."""
        ...

    def token_key_ids_before(self, epoch: int) -> set[str]:
        """The key ids (hex) of every epoch before ``epoch``."""
        ...

    def retire_token_keys(self, before_epoch: int) -> int:
        """Drop the sealed private keys of the epochs before ``before_epoch`` (their public keys
        and ids stay); how many were dropped."""
        ...

    def take_token_allowance(self, party_pk: int, epoch: int, count: int, limit: int) -> int | None:
        """Count ``count`` more tokens issued to the party in ``epoch`` if that keeps its total
        at most ``limit``; the new total, or None (nothing counted) if it would not."""
        ...

    def tokens_issued(self, party_pk: int, epoch: int) -> int:
        """How many tokens the party was issued in ``epoch``."""
        ...

    def token_holders(self, epoch: int) -> int:
        """How many parties were issued tokens in ``epoch`` (the anonymity set's size)."""
        ...

    def token_spent(self, token_key_id: str, nonce: str) -> bool:
        """Whether the token of that key id and nonce (hex) was redeemed."""
        ...

    def spend_token(self, conn: Any, token_key_id: str, nonce: str) -> None:
        """Record a token as spent through ``conn``, the caller's write transaction; raises
        :class:`DuplicateError` if it was (the caller's transaction must then roll back)."""
        ...

    def forget_spent_tokens(self, keep_key_ids: Iterable[str]) -> int:
        """Drop the spent tokens of every key but ``keep_key_ids`` (retired keys' tokens are
        refused by their epoch anyway); how many rows went."""
        ...

    def save_key_copy(self, copy: KeyCopy) -> bool:
        """Keep another hub's key for an epoch; False if a different key was kept for that
        issuer and epoch before (the earlier copy stays: a changed key is the issuer's to
        explain), True if stored or already the same."""
        ...

    def key_copies(self, issuer: str | None = None) -> list[KeyCopy]:
        """The copies kept, of one issuer or of all, by issuer and epoch."""
        ...

    def add_key_conflict(self, conflict: KeyConflict) -> bool:
        """Keep a refused key of another hub; False if it was kept before (the first sighting stays)."""
        ...

    def key_conflicts(self, issuer: str | None = None) -> list[KeyConflict]:
        """The refused keys kept, of one issuer or of all, by issuer, epoch and first sighting."""
        ...


class SubmissionTokenMixin:
    """The methods of :class:`SubmissionTokenStore` for :class:`hub.store.sql.SqlStore`."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    def token_key(self, epoch: int) -> EpochKeyRow | None:
        k = token_keys
        with self._read() as conn:
            r = conn.execute(select(k).where(k.c.epoch == epoch)).one_or_none()
        return None if r is None else EpochKeyRow(r.epoch, r.token_key_id, r.public_key, r.sealed_private, r.created_us)

    def add_token_key(self, row: EpochKeyRow) -> bool:
        try:
            with self._write() as conn:
                conn.execute(insert(token_keys).values(epoch=row.epoch, token_key_id=row.token_key_id,
                                                       public_key=row.public_key, sealed_private=row.sealed_private,
                                                       created_us=row.created_us))
        except IntegrityError:
            return False
        return True

    def token_key_ids_before(self, epoch: int) -> set[str]:
        k = token_keys
        with self._read() as conn:
            return {r[0] for r in conn.execute(select(k.c.token_key_id).where(k.c.epoch < epoch))}

    def retire_token_keys(self, before_epoch: int) -> int:
        k = token_keys
        with self._write() as conn:
            return int(conn.execute(update(k).where(k.c.epoch < before_epoch, k.c.sealed_private != "")
                                    .values(sealed_private="")).rowcount or 0)

    def take_token_allowance(self, party_pk: int, epoch: int, count: int, limit: int) -> int | None:
        ti = token_issuance
        where = (ti.c.party_pk == party_pk, ti.c.epoch == epoch)
        for _attempt in range(3):
            try:
                with self._write() as conn:
                    # One conditional UPDATE: two workers issuing at once cannot both pass the limit.
                    done = conn.execute(update(ti).where(*where, ti.c.issued + count <= limit)
                                        .values(issued=ti.c.issued + count)).rowcount
                    if not done:
                        if conn.execute(select(ti.c.issued).where(*where)).scalar() is not None:
                            return None
                        if count > limit:
                            return None
                        conn.execute(insert(ti).values(party_pk=party_pk, epoch=epoch, issued=count))
                    return int(conn.execute(select(ti.c.issued).where(*where)).scalar_one())
            except IntegrityError:  # another worker made the row meanwhile: count again
                continue
        raise RuntimeError("could not count the tokens issued")

    def tokens_issued(self, party_pk: int, epoch: int) -> int:
        ti = token_issuance
        with self._read() as conn:
            got = conn.execute(select(ti.c.issued).where(ti.c.party_pk == party_pk, ti.c.epoch == epoch)).scalar()
        return int(got or 0)

    def token_holders(self, epoch: int) -> int:
        ti = token_issuance
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(ti).where(ti.c.epoch == epoch,
                                                                              ti.c.issued > 0)).scalar_one())

    def token_spent(self, token_key_id: str, nonce: str) -> bool:
        s = spent_tokens
        with self._read() as conn:
            return conn.execute(select(s.c.nonce).where(s.c.token_key_id == token_key_id,
                                                        s.c.nonce == nonce)).first() is not None

    def spend_token(self, conn: Any, token_key_id: str, nonce: str) -> None:
        try:
            conn.execute(insert(spent_tokens).values(token_key_id=token_key_id, nonce=nonce))
        except IntegrityError:
            raise DuplicateError("the token was spent before") from None

    def forget_spent_tokens(self, keep_key_ids: Iterable[str]) -> int:
        keep = list(keep_key_ids)
        s = spent_tokens
        with self._write() as conn:
            stmt = delete(s) if not keep else delete(s).where(s.c.token_key_id.not_in(keep))
            return int(conn.execute(stmt).rowcount or 0)

    def save_key_copy(self, copy: KeyCopy) -> bool:
        c = token_key_copies
        known_q = select(c.c.token_key_id).where(c.c.issuer == copy.issuer, c.c.epoch == copy.epoch)
        try:
            with self._write() as conn:
                known = conn.execute(known_q).scalar()
                if known is not None:
                    return bool(known == copy.token_key_id)
                conn.execute(insert(c).values(issuer=copy.issuer, epoch=copy.epoch, token_key_id=copy.token_key_id,
                                              public_key=copy.public_key, source=copy.source,
                                              copied_us=copy.copied_us))
                return True
        except IntegrityError:  # another process copied that epoch meanwhile: compare with its copy
            with self._read() as conn:
                return bool(conn.execute(known_q).scalar() == copy.token_key_id)

    def key_copies(self, issuer: str | None = None) -> list[KeyCopy]:
        c = token_key_copies
        stmt = select(c).order_by(c.c.issuer, c.c.epoch)
        if issuer is not None:
            stmt = stmt.where(c.c.issuer == issuer)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [KeyCopy(r.issuer, r.epoch, r.token_key_id, r.public_key, r.source, r.copied_us) for r in rows]

    def add_key_conflict(self, conflict: KeyConflict) -> bool:
        try:
            with self._write() as conn:
                conn.execute(insert(token_key_conflicts).values(
                    issuer=conflict.issuer, epoch=conflict.epoch, token_key_id=conflict.token_key_id,
                    source=conflict.source, seen_us=conflict.seen_us))
        except IntegrityError:
            return False
        return True

    def key_conflicts(self, issuer: str | None = None) -> list[KeyConflict]:
        c = token_key_conflicts
        stmt = select(c).order_by(c.c.issuer, c.c.epoch, c.c.seen_us)
        if issuer is not None:
            stmt = stmt.where(c.c.issuer == issuer)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [KeyConflict(r.issuer, r.epoch, r.token_key_id, r.source, r.seen_us) for r in rows]
