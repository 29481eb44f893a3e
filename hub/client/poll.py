"""Incremental polling of one TAXII 2.1 collection into a JSON-lines file.

:func:`poll_collection` (or :class:`Poller`, whose ``result`` stays readable when a run stops
half-way) fetches the objects added to a collection since the last run and appends them, one
per line, to a file, with a cursor next to it (:mod:`hub.client.cursor`)::

    GET <api root>collections/<id>/objects/?added_after=<cursor>&limit=N&match[version]=all

Paging follows TAXII 2.1 section 5.4 (Get Objects) and 3.4 (pagination): while ``more`` is
true, the next request repeats the query with ``next`` when the server gives one, else with
``added_after`` set to the page's ``X-TAXII-Date-Added-Last``. Every version of every object is
asked for (``match[version]=all``), so the file mirrors the collection; readers pick versions.

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

The transport is a ``requests.Session`` passed in (:func:`hub.client.http.open_session` makes
one with the token), so tests and other tools can hand in their own. Every failure is a
:class:`~hub.client.errors.ClientError` with one line a person can act on; no message contains
the token.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import requests

from hub.client.cursor import (
    Cursor,
    CursorError,
    default_cursor_path,
    load_cursor,
    save_cursor,
)
from hub.client.errors import ClientError

# Re-exported: part of this module's interface (see __all__).
from hub.client.http import api_root, open_session
from hub.client.verify import ObjectVerifier, Tally, append_failures, failed_path
from hub.common.errors import InvalidValue
from hub.common.ids import is_stix_type
from hub.common.timestamps import parse_timestamp_us

try:  # POSIX: one writer per output file
    import fcntl
except ImportError:  # pragma: no cover - platforms without flock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_LIMIT",
    "PollError",
    "PollResult",
    "Poller",
    "api_root",
    "open_session",
    "poll_collection",
    "split_envelope",
]

#: TAXII 2.1 section 1.6.8: the media type of TAXII resources.
TAXII_21 = "application/taxii+json;version=2.1"
#: Objects asked for per page (the server may send fewer: it clamps to its own maximum).
DEFAULT_LIMIT = 1000

# Seconds for one HTTP exchange (connect, read); a hub that takes longer is treated as down.
_TIMEOUT = (10.0, 120.0)
# The longest Retry-After (429) the poller waits for, once, before giving up.
_MAX_RETRY_AFTER = 60.0


class PollError(ClientError):
    """A poll stopped; what it wrote before stopping is kept and the next run resumes."""


# -- the envelope, with each object's text as sent ----------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class _NotEnvelope(ValueError):
    pass


def split_envelope(text: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Parse a TAXII envelope; returns its other members and ``(text, object)`` per object.

    Each object's text is the exact slice of ``text`` it was parsed from. Raises ``ValueError``
    if ``text`` is not one JSON object whose ``objects`` (if present) is a list of objects.
    """
    def skip(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    def expect(i: int, chars: str) -> tuple[str, int]:
        c = text[i:i + 1]
        if not c or c not in chars:
            raise _NotEnvelope(f"expected {' or '.join(repr(ch) for ch in chars)} at character {i}")
        return c, skip(i + 1)

    members: dict[str, Any] = {}
    objects: list[tuple[str, dict[str, Any]]] = []
    has_objects = False
    try:
        _, i = expect(skip(0), "{")
        if text[i:i + 1] == "}":
            i = skip(i + 1)
        else:
            while True:
                if text[i:i + 1] != '"':
                    raise _NotEnvelope(f"expected a member name at character {i}")
                name, i = _DECODER.raw_decode(text, i)
                _, i = expect(skip(i), ":")
                if name == "objects" and text[i:i + 1] == "[":
                    objects = []
                    i = skip(i + 1)
                    if text[i:i + 1] == "]":
                        i = skip(i + 1)
                    else:
                        while True:
                            start = i
                            obj, i = _DECODER.raw_decode(text, i)
                            if not isinstance(obj, dict):
                                raise _NotEnvelope(f"objects[{len(objects)}] is not a JSON object")
                            objects.append((text[start:i], obj))
                            c, i = expect(skip(i), ",]")
                            if c == "]":
                                break
                    has_objects = True
                elif name == "objects":
                    raise _NotEnvelope("'objects' is not a list")
                else:
                    members[name], i = _DECODER.raw_decode(text, i)
                    i = skip(i)
                c, i = expect(skip(i), ",}")
                if c == "}":
                    break
                i = skip(i)
        if i != len(text):
            raise _NotEnvelope(f"unexpected data after the envelope at character {i}")
    except _NotEnvelope:
        raise
    except ValueError as exc:  # json.JSONDecodeError and the constants refused above
        raise _NotEnvelope(str(exc).split(":")[0]) from None
    if not has_objects and "more" not in members and "next" not in members and members:
        raise _NotEnvelope("a JSON object, but not a TAXII envelope")
    return members, objects


# -- one page ----------------------------------------------------------------------------------


@dataclass
class _Page:
    objects: list[tuple[str, dict[str, Any]]]
    more: bool
    next: str | None
    first: str | None
    last: str | None


def _error_description(resp: requests.Response) -> str | None:
    """The TAXII error body's description (section 3.6.1), or None if the body is not one."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict) and isinstance(body.get("description"), str) and body["description"]:
        return " ".join(body["description"].split())[:300]
    return None


def _retry_after(resp: requests.Response) -> float | None:
    header = resp.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(0.0, float(header.strip()))
    except ValueError:
        return None  # an HTTP date: not worth waiting for


def _connection_problem(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text \
            or "Temporary failure in name resolution" in text:
        return "host name not found"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed"
    if "SSL" in text or "certificate" in text.lower():
        return "TLS failed"
    return "cannot connect"


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
    """One run of an incremental poll; :attr:`result` reflects the progress at every moment."""

    def __init__(
        self,
        session: requests.Session,
        url: str,
        collection: str,
        out: str | os.PathLike[str],
        *,
        types: Sequence[str] = (),
        since: str | None = None,
        limit: int = DEFAULT_LIMIT,
        verifier: ObjectVerifier | None = None,
        on_page: Callable[[int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.api = api_root(url)
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
        self.sleep = sleep
        self.objects_url = f"{self.api}collections/{quote(self.collection, safe='')}/objects/"
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
        position_us = parse_timestamp_us(position, "added_after") if position else None
        query_after, next_token = position, None
        while True:
            page = self._fetch(query_after, next_token)
            lines: list[bytes] = []
            if page.objects:
                last_us = self._check_page(page, position, position_us)
                objects = [obj for _, obj in page.objects]
                failures = self.verifier.check(objects)
                lines = [_line(text) for text, _ in page.objects]
            if cursor is None:
                # Recorded before any line is written: a crash during the first page leaves
                # a cursor at offset 0, and the next run starts clean from the same point.
                cursor = Cursor(self.api, self.collection, list(self.types), position, 0, 0)
                save_cursor(result.cursor_path, cursor)
            if lines:
                append_failures(result.failed_path, failures)
                output.append(b"".join(lines))
                assert page.last is not None
                cursor.added_after, position, position_us = page.last, page.last, last_us
                cursor.count += len(lines)
                cursor.offset = output.size
                save_cursor(result.cursor_path, cursor)
                result.fetched += len(lines)
                result.pages += 1
                result.total, result.added_after = cursor.count, cursor.added_after
                if self.on_page is not None:
                    self.on_page(len(lines))
            if not page.more:
                return
            if page.next:
                if not page.objects and page.next == next_token:
                    raise PollError(f"{self.api} repeats an empty page with the same 'next': "
                                    "it does not page as TAXII 2.1 says")
                next_token = page.next
            elif page.objects:
                query_after, next_token = page.last, None
            else:
                raise PollError(f"{self.api} says there is more but sent no objects and no "
                                "'next': it does not page as TAXII 2.1 says")

    def _check_page(self, page: _Page, position: str | None, position_us: int | None) -> int:
        """The page's last date_added in microseconds; refuses pages that would duplicate."""
        if page.last is None:
            raise PollError(f"{self.api} sent objects without an X-TAXII-Date-Added-Last header: "
                            "polling incrementally needs it (TAXII 2.1 section 5.4)")
        try:
            last_us = parse_timestamp_us(page.last, "X-TAXII-Date-Added-Last")
            first_us = (parse_timestamp_us(page.first, "X-TAXII-Date-Added-First")
                        if page.first is not None else last_us)
        except InvalidValue as exc:
            raise PollError(f"{self.api} sent a bad paging header: {exc}") from None
        if position_us is not None and min(first_us, last_us) <= position_us:
            raise PollError(f"{self.api} sent objects added at or before {position} (the cursor): "
                            "writing them could duplicate objects; nothing of that page was written")
        return last_us

    def _fetch(self, added_after: str | None, next_token: str | None) -> _Page:
        params: list[tuple[str, str]] = [("limit", str(self.limit)), ("match[version]", "all")]
        if added_after is not None:
            params.append(("added_after", added_after))
        if self.types:
            params.append(("match[type]", ",".join(self.types)))
        if next_token is not None:
            params.append(("next", next_token))
        resp = self._get(params)
        if resp.status_code == 429:
            wait = _retry_after(resp)
            if wait is None or wait > _MAX_RETRY_AFTER:
                raise PollError(f"the hub is rate-limiting polls of collection {self.collection} "
                                f"(429): {_error_description(resp) or 'try again later'}")
            self.sleep(wait)
            resp = self._get(params)
        self._check_status(resp)
        content_type = resp.headers.get("Content-Type", "none")
        not_taxii = (f"{self.objects_url} did not answer as a TAXII 2.1 server "
                     f"(Content-Type {content_type}): is --url the API root "
                     "(e.g. https://hub.example/api/)?")
        try:
            text = resp.content.decode("utf-8-sig")
            members, objects = split_envelope(text)
        except (UnicodeDecodeError, ValueError):
            raise PollError(not_taxii) from None
        more = members.get("more", False)
        next_value = members.get("next")
        if not isinstance(more, bool) or (next_value is not None and not isinstance(next_value, str)):
            raise PollError(not_taxii)
        return _Page(objects, more, next_value or None,
                     resp.headers.get("X-TAXII-Date-Added-First"),
                     resp.headers.get("X-TAXII-Date-Added-Last"))

    def _get(self, params: list[tuple[str, str]]) -> requests.Response:
        try:
            return self.session.get(self.objects_url, params=params, timeout=_TIMEOUT,
                                    allow_redirects=False, headers={"Accept": TAXII_21})
        except requests.ConnectionError as exc:
            raise PollError(f"cannot reach the hub at {self.api} ({_connection_problem(exc)})") from None
        except requests.Timeout:
            raise PollError(f"the hub at {self.api} did not answer in time") from None
        except requests.RequestException as exc:
            # The message of a RequestException names the URL at most, never the headers.
            raise PollError(f"{type(exc).__name__} talking to {self.api}") from None

    def _check_status(self, resp: requests.Response) -> None:
        status = resp.status_code
        if status == 200:
            return
        col = f"collection {self.collection}"
        if 300 <= status < 400:
            # Not followed: the token goes to the URL given, nowhere else.
            raise PollError(f"{self.objects_url} redirects to {resp.headers.get('Location', '?')} "
                            f"({status}): give --url as the API root it names")
        described = _error_description(resp)
        hint = "" if described else "; is --url the API root (e.g. https://hub.example/api/)?"
        why = described or resp.reason or "no description"
        if status == 401:
            raise PollError(f"the hub did not accept the token for {col} (401): {why}")
        if status == 403:
            raise PollError(f"no read access to {col} (403): {why}")
        if status == 404:
            raise PollError(f"no {col} at {self.api} (404): {why}{hint}")
        raise PollError(f"the hub answered {status} for {col}: {why}{hint}")


def _line(text: str) -> bytes:
    # Between JSON tokens only: inside strings a line break is always escaped.
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8") + b"\n"


def poll_collection(
    session: requests.Session,
    url: str,
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
    return Poller(session, url, collection, out, types=types, since=since, limit=limit,
                  verifier=verifier, on_page=on_page).run()
