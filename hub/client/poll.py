"""Incremental polling of one TAXII 2.1 collection into a JSON-lines file.

:func:`poll_collection` (or :class:`Poller`, whose ``result`` stays readable when a run stops
half-way) fetches the objects added to a collection since the last run through a
:class:`~hub.client.taxii.TaxiiClient` and appends them, one per line, to a file, with a cursor
next to it (:mod:`hub.client.cursor`)::

    GET <api root>collections/<id>/objects/?added_after=<cursor>&limit=N&match[version]=all

Paging is :meth:`TaxiiClient.pages <hub.client.taxii.TaxiiClient.pages>` (TAXII 2.1 sections
3.4 and 5.4: ``next`` when the server gives one, else ``added_after`` from the page's
``X-TAXII-Date-Added-Last``). Every version of every object is asked for
(``match[version]=all``), so the file mirrors the collection; readers pick versions.

Never skip, never duplicate. A page's lines are written and fsynced before the cursor moves to
its ``X-TAXII-Date-Added-Last``, and a run starts by truncating the file back to the cursor's
``offset``; the cursor is only ever replaced atomically. A run stopped at any point (Ctrl-C,
``kill -9``, a network error, a full disk) therefore resumes exactly after the last page it
recorded. This relies on the server giving each object of a collection its own ``date_added``
(abusehub does); a page whose objects were added at or before the cursor is refused, not
written. The file is locked while a run writes it, so two runs cannot interleave.

Lines hold each object's JSON text exactly as the server sent it (line breaks between tokens,
from a server that pretty-prints, become spaces). Signatures are checked page by page before
the page is written (:mod:`hub.client.verify`).

Every failure is a :class:`~hub.client.errors.ClientError` with one line a person can act on;
no message contains the token.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.client.cursor import (
    Cursor,
    CursorError,
    default_cursor_path,
    load_cursor,
    save_cursor,
)
from hub.client.envelope import json_line, split_envelope
from hub.client.errors import ClientError
from hub.client.verify import ObjectVerifier, Tally, append_failures, failed_path
from hub.common.errors import InvalidValue
from hub.common.ids import is_stix_type
from hub.common.timestamps import parse_timestamp_us

if TYPE_CHECKING:  # the poller is given its client: it does not import the HTTP layer itself
    from hub.client.taxii import TaxiiClient

try:  # POSIX: one writer per output file
    import fcntl
except ImportError:  # pragma: no cover - platforms without flock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_LIMIT",
    "PollError",
    "PollResult",
    "Poller",
    "poll_collection",
    "split_envelope",
]

#: Objects asked for per page (the server may send fewer: it clamps to its own maximum).
DEFAULT_LIMIT = 1000


class PollError(ClientError):
    """A poll stopped; what it wrote before stopping is kept and the next run resumes."""


# -- the output file ---------------------------------------------------------------------------


class _Output:
    """The JSON-lines file, locked, positioned at the cursor's offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = self.discarded = 0
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ClientError(f"cannot open {path} for writing: {exc.strerror}") from None
        try:
            self._lock()
        except BaseException:
            os.close(self.fd)
            raise

    def _lock(self) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClientError(f"another poll is writing {self.path}; wait for it to finish") from None

    def align(self, cursor: Cursor | None, cursor_path: Path) -> None:
        """Check the file against the cursor and cut what a crash left after its offset."""
        size = os.fstat(self.fd).st_size
        offset = cursor.offset if cursor is not None else 0
        if cursor is None and size:
            raise ClientError(f"{self.path} already holds data but has no cursor {cursor_path}: "
                              "poll into a new file, or move it away to start over")
        if size < offset:
            raise CursorError(f"{self.path} is shorter ({size} bytes) than its cursor {cursor_path} "
                              f"records ({offset} bytes): the file was changed since the last poll; "
                              "move both away to start over")
        if offset and os.pread(self.fd, 1, offset - 1) != b"\n":
            raise CursorError(f"{self.path} does not end a line where its cursor {cursor_path} "
                              f"says (byte {offset}): the file was changed since the last poll; "
                              "move both away to start over")
        if size > offset:
            # Lines of a page whose cursor update never happened (a crash): fetched again now.
            os.ftruncate(self.fd, offset)
            os.fsync(self.fd)
        self.size, self.discarded = offset, size - offset

    def append(self, data: bytes) -> None:
        """Write ``data`` at the end and make it durable; on failure, take it back out."""
        start = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(self.fd, view, start + (len(data) - len(view)))
                view = view[written:]
            os.fsync(self.fd)
        except OSError as exc:
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass  # the next run truncates back to the cursor anyway
            raise PollError(f"cannot write {self.path}: {exc.strerror}") from None
        self.size = start + len(data)

    def close(self) -> None:
        os.close(self.fd)  # releases the lock


# -- the poll ----------------------------------------------------------------------------------


@dataclass
class PollResult:
    """What a run did; complete or not, it describes what is on disk."""

    out: Path
    cursor_path: Path
    failed_path: Path
    collection: str
    api: str
    verify: str
    fetched: int = 0
    pages: int = 0
    total: int = 0
    added_after: str | None = None
    resumed: bool = False
    since_ignored: bool = False
    discarded_bytes: int = 0
    complete: bool = False
    signatures: Tally = field(default_factory=Tally)

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection, "url": self.api, "out": str(self.out),
            "cursor": str(self.cursor_path), "complete": self.complete, "fetched": self.fetched,
            "pages": self.pages, "total": self.total, "added_after": self.added_after,
            "resumed": self.resumed, "since_ignored": self.since_ignored,
            "discarded_bytes": self.discarded_bytes, "verify": self.verify,
            "signatures": self.signatures.to_json(),
            "failed_file": str(self.failed_path) if self.signatures.failed else None,
        }


class Poller:
    """One run of an incremental poll; :attr:`result` reflects the progress at every moment.

    ``client`` names the API root and carries the token and the transport; the poller neither
    opens nor closes it.
    """

    def __init__(
        self,
        client: TaxiiClient,
        collection: str,
        out: str | os.PathLike[str],
        *,
        types: Sequence[str] = (),
        since: str | None = None,
        limit: int = DEFAULT_LIMIT,
        verifier: ObjectVerifier | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> None:
        self.client = client
        self.api = client.api
        if not collection.strip():
            raise ClientError("--collection must name a collection")
        self.collection = collection.strip()
        self.out = Path(out)
        self.types = sorted(set(types))
        for t in self.types:
            if not is_stix_type(t):
                raise ClientError(f"--type {t!r} is not a STIX type name (e.g. indicator)")
        if since is not None:
            try:
                parse_timestamp_us(since, "--since")
            except InvalidValue as exc:
                raise ClientError(str(exc)) from None
        self.since = since
        if limit < 1:
            raise ClientError(f"--limit must be at least 1, got {limit}")
        self.limit = limit
        self.verifier = verifier or ObjectVerifier("off", None)
        self.on_page = on_page
        cursor_path = default_cursor_path(self.out)
        self.result = PollResult(out=self.out, cursor_path=cursor_path,
                                 failed_path=failed_path(self.out), collection=self.collection,
                                 api=self.api, verify=self.verifier.mode,
                                 signatures=self.verifier.tally)

    def run(self) -> PollResult:
        """Fetch every page added since the cursor; returns the (complete) result."""
        result = self.result
        output = _Output(self.out)  # locked first: the cursor is read by the only writer
        try:
            cursor = load_cursor(result.cursor_path)
            if cursor is not None:
                self._check_cursor(cursor)
                result.resumed = True
                result.since_ignored = self.since is not None
                result.total, result.added_after = cursor.count, cursor.added_after
            output.align(cursor, result.cursor_path)
            result.discarded_bytes = output.discarded
            self.verifier.prepare()
            self._loop(output, cursor)
        finally:
            output.close()
        result.complete = True
        return result

    def _check_cursor(self, cursor: Cursor) -> None:
        if (cursor.url, cursor.collection, cursor.types) != (self.api, self.collection, self.types):
            types = ", ".join(cursor.types) or "all types"
            raise CursorError(f"cursor {self.result.cursor_path} belongs to another poll "
                              f"({cursor.url} collection {cursor.collection}, {types}): "
                              "poll into another --out file, or give the same --url, "
                              "--collection and --type as before")

    def _loop(self, output: _Output, cursor: Cursor | None) -> None:
        result = self.result
        position = cursor.added_after if cursor is not None else self.since
        pages = self.client.pages(self.collection, added_after=position, limit=self.limit,
                                  types=self.types, versions=("all",))
        for page in pages:
            lines: list[bytes] = []
            if page.objects:
                if page.date_added_last is None:
                    raise PollError(f"{self.api} sent objects without an X-TAXII-Date-Added-Last "
                                    "header: polling incrementally needs it (TAXII 2.1 section 5.4)")
                failures = self.verifier.check([o.data for o in page.objects])
                lines = [json_line(o.text) for o in page.objects]
            if cursor is None:
                # Recorded before any line is written: a crash during the first page leaves
                # a cursor at offset 0, and the next run starts clean from the same point.
                cursor = Cursor(self.api, self.collection, list(self.types), position, 0, 0)
                save_cursor(result.cursor_path, cursor)
            if lines:
                append_failures(result.failed_path, failures)
                output.append(b"".join(lines))
                cursor.added_after = page.date_added_last
                cursor.count += len(lines)
                cursor.offset = output.size
                save_cursor(result.cursor_path, cursor)
                result.fetched += len(lines)
                result.pages += 1
                result.total, result.added_after = cursor.count, cursor.added_after
                if self.on_page is not None:
                    self.on_page(len(lines))


def poll_collection(
    client: TaxiiClient,
    collection: str,
    out: str | os.PathLike[str],
    *,
    types: Sequence[str] = (),
    since: str | None = None,
    limit: int = DEFAULT_LIMIT,
    verifier: ObjectVerifier | None = None,
    on_page: Callable[[int], None] | None = None,
) -> PollResult:
    """Fetch what was added to ``collection`` since the last run into ``out`` (JSON lines).

    ``since`` counts only when there is no cursor yet. Raises :class:`PollError` (or another
    :class:`ClientError`) when the run cannot finish; what it wrote before is kept.
    """
    return Poller(client, collection, out, types=types, since=since, limit=limit,
                  verifier=verifier, on_page=on_page).run()
