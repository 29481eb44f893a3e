"""Sessions of the analysts' web pages, kept in the database (revision 0008).

A browser's cookie carries a random session id; the store keeps only its SHA-256 hash
(``id_hash``), with the party, what the session signed in with (a token's SHA-256 hash, or a
client certificate's SHA-256 fingerprint), when it started and was last seen, and when and why
it ended. Every process and host of a hub that share the database see the same sessions: a
session ended on one (sign-out, idle, a revoked credential) opens nothing on another.

Persistence only: when a session is idle or too old, and what it may do, is decided by
:mod:`hub.services.access.websessions`. :class:`WebSessionMixin` gives these methods to
:class:`hub.store.sql.SqlStore`; :class:`hub.store.base.Store` declares them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.store import schema as t
from hub.store.limits import matchable

__all__ = ["WebSessionMixin", "WebSessionRecord"]


@dataclass(frozen=True, slots=True)
class WebSessionRecord:
    """One web session: never its id, only the id's hash."""

    id_hash: str
    party_pk: int
    token_hash: str | None  # signed in with a token: the token's SHA-256 hash
    cert_fingerprint: str | None  # signed in with a client certificate: its SHA-256 fingerprint
    created_us: int
    seen_us: int
    ended_us: int | None
    ended_reason: str | None

    @property
    def live(self) -> bool:
        """Whether the session has not ended."""
        return self.ended_us is None


class WebSessionMixin:
    """The web-session methods of :class:`hub.store.base.Store` for
    :class:`hub.store.sql.SqlStore` (which provides ``_read`` and ``_write``)."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    def create_web_session(self, id_hash: str, party_pk: int, token_hash: str | None,
                           cert_fingerprint: str | None, now_us: int) -> bool:
        try:
            with self._write() as conn:
                conn.execute(insert(t.web_sessions).values(
                    id_hash=id_hash, party_pk=party_pk, token_hash=token_hash,
                    cert_fingerprint=cert_fingerprint, created_us=now_us, seen_us=now_us))
        except IntegrityError:
            return False
        return True

    def web_session(self, id_hash: str) -> WebSessionRecord | None:
        if not matchable(id_hash):
            return None
        s = t.web_sessions
        with self._read() as conn:
            row = conn.execute(select(s.c.id_hash, s.c.party_pk, s.c.token_hash, s.c.cert_fingerprint,
                                      s.c.created_us, s.c.seen_us, s.c.ended_us, s.c.ended_reason)
                               .where(s.c.id_hash == id_hash)).first()
        return WebSessionRecord(*row) if row is not None else None

    def touch_web_session(self, id_hash: str, seen_us: int) -> bool:
        if not matchable(id_hash):
            return False
        s = t.web_sessions
        with self._write() as conn:
            return conn.execute(update(s).where(s.c.id_hash == id_hash, s.c.ended_us.is_(None),
                                                s.c.seen_us < seen_us)
                                .values(seen_us=seen_us)).rowcount == 1

    def end_web_session(self, id_hash: str, reason: str, now_us: int) -> bool:
        if not matchable(id_hash):
            return False
        s = t.web_sessions
        with self._write() as conn:
            return conn.execute(update(s).where(s.c.id_hash == id_hash, s.c.ended_us.is_(None))
                                .values(ended_us=now_us, ended_reason=reason)).rowcount == 1

    def purge_web_sessions(self, before_us: int) -> int:
        s = t.web_sessions
        with self._write() as conn:
            return conn.execute(delete(s).where(or_(s.c.seen_us < before_us, s.c.ended_us < before_us))).rowcount
