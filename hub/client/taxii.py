"""A TAXII 2.1 client over an injected HTTP transport, with the hub's own endpoints.

:class:`TaxiiClient` talks to one API root. It is what the parties' tools (``abusehub poll``,
``abusehub report new``), federation between hubs and the analysts' web page share::

    from hub.client.taxii import TaxiiClient

    with TaxiiClient("https://hub.example/api/", token) as client:
        for page in client.pages(collection_id, added_after=cursor):
            for obj in page.objects:
                obj.text  # the object's JSON text exactly as the server sent it
        status = client.submit(collection_id, objects)       # POST, then follow the status

TAXII 2.1 resources (section numbers of the TAXII 2.1 specification):

- :meth:`~TaxiiClient.discovery` (4.1), :meth:`~TaxiiClient.api_root_information` (4.2),
  :meth:`~TaxiiClient.status` (4.3), :meth:`~TaxiiClient.collections` (5.1),
  :meth:`~TaxiiClient.collection` (5.2), :meth:`~TaxiiClient.manifest` (5.3),
  :meth:`~TaxiiClient.get_objects` and :meth:`~TaxiiClient.pages` (5.4),
  :meth:`~TaxiiClient.add_objects` (5.5), :meth:`~TaxiiClient.get_object` (5.6);

and the hub's plain-JSON endpoints under the same API root: :meth:`~TaxiiClient.key_set`
(``GET keys/``, public), :meth:`~TaxiiClient.pseudonym_key` (``GET pseudonyms/key``),
:meth:`~TaxiiClient.oblivious_pseudonyms` (``POST pseudonyms/evaluate``: the values are blinded
here, the hub's proof checked, and the hub never sees a value),
:meth:`~TaxiiClient.pseudonymise` (oblivious; ``POST pseudonyms/`` with the values in clear only
when the caller allows it for a hub that publishes no pseudonym key, never with a pinned key),
:meth:`~TaxiiClient.pseudonymise_in_clear` (``POST pseudonyms/``, for a hub known to be older)
and :meth:`~TaxiiClient.correlations` (``GET correlations/``). The pseudonym methods are
:class:`hub.client.oprf.OprfClient`'s (the RFC 9497 POPRF protocol), over the same session.

The transport is an :class:`httpx.BaseTransport` (default: the network); tests and in-process
federation pass :class:`httpx.WSGITransport` (``app=create_app(config)``). The HTTP rules (token
only to the API root, no redirects, nothing from the environment, retries on 429/503, one-line
errors) are :class:`hub.client.http.HttpSession`'s.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from hub.client.envelope import ExactObject, envelope_bytes, split_envelope
from hub.client.errors import ClientError, ProtocolError
from hub.client.http import (
    DEFAULT_TIMEOUT,
    Call,
    HttpSession,
    api_root,
    check_transport,
    json_object,
    not_taxii,
)
from hub.client.oprf import (
    JSON,
    MAX_PSEUDONYMS_PER_REQUEST,
    NoObliviousPseudonyms,
    OprfClient,
    PseudonymKeys,
    UnverifiableAnswer,
)
from hub.client.retry import RetryNotice, RetryPolicy
from hub.common.errors import InvalidValue
from hub.common.timestamps import parse_timestamp_us

__all__ = [
    "JSON",
    "JWK_SET_ACCEPT",
    "MAX_CORRELATION_PSEUDONYMS",
    "MAX_PSEUDONYMS_PER_REQUEST",
    "TAXII_21",
    "ManifestEntry",
    "ManifestPage",
    "NoObliviousPseudonyms",
    "ObjectsPage",
    "Outcome",
    "PseudonymKeys",
    "StatusResource",
    "TaxiiClient",
    "TombstonePage",
    "UnverifiableAnswer",
    "fetch_key_set",
    "read_outcome",
]

#: TAXII 2.1 section 1.6.8: the media type of TAXII resources.
TAXII_21 = "application/taxii+json;version=2.1"
#: The hub's keys endpoint answers ``application/jwk-set+json`` (RFC 7517 section 8.5).
JWK_SET_ACCEPT = "application/jwk-set+json, application/json;q=0.9, */*;q=0.1"
#: The correlation endpoint takes at most this many pseudonyms per query.
MAX_CORRELATION_PSEUDONYMS = 24
# JSON, MAX_PSEUDONYMS_PER_REQUEST, NoObliviousPseudonyms, PseudonymKeys and UnverifiableAnswer
# are hub.client.oprf's, named here too: TaxiiClient's pseudonym methods return and raise them.

_ALREADY_STORED = "already stored"


# -- what the server answers ---------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectsPage:
    """One page of objects (TAXII 2.1 section 5.4): each object's exact text, the paging members
    and the ``X-TAXII-Date-Added-First``/``-Last`` headers (section 3.4.2)."""

    objects: list[ExactObject]
    more: bool
    next: str | None
    date_added_first: str | None
    date_added_last: str | None


@dataclass(frozen=True)
class TombstonePage:
    """One page of a hub's tombstone records (``GET collections/{id}/tombstones/``, an abusehub
    extension: docs/OPERATIONS.md): the records, ``more``, and the page's first and last places
    in the feed (``X-TAXII-Date-Added-First``/``-Last``), the last to page on with ``added_after``."""

    records: list[dict[str, Any]]
    more: bool
    date_added_first: str | None
    date_added_last: str | None


@dataclass(frozen=True)
class ManifestEntry:
    """One manifest record (section 5.3): an object version and when it was added."""

    id: str
    date_added: str
    version: str
    media_type: str | None


@dataclass(frozen=True)
class ManifestPage:
    """One page of a collection's manifest."""

    entries: list[ManifestEntry]
    more: bool
    next: str | None
    date_added_first: str | None
    date_added_last: str | None


@dataclass(frozen=True)
class StatusResource:
    """A status resource (TAXII 2.1 section 4.3.1); ``raw`` is the whole answer."""

    id: str
    status: str
    total_count: int | None
    successes: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    pendings: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @property
    def complete(self) -> bool:
        """True when the server has judged every object."""
        return self.status == "complete"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusResource:
        """Read a status resource; ``ValueError`` if it has no string ``id`` and ``status``."""
        if not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
            raise ValueError("not a TAXII status resource (no id or status)")

        def entries(name: str) -> list[dict[str, Any]]:
            value = data.get(name)
            return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

        total = data.get("total_count")
        return cls(data["id"], data["status"],
                   total if isinstance(total, int) and not isinstance(total, bool) else None,
                   entries("successes"), entries("failures"), entries("pendings"), dict(data))


@dataclass(frozen=True)
class Outcome:
    """What a status resource says, by kind of answer: stored, already stored (the hub's
    success message for an object version it held already), refused with reasons, pending."""

    status_id: str
    complete: bool
    stored: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def read_outcome(status: StatusResource | Mapping[str, Any]) -> Outcome:
    """Sort a status resource's entries into stored, already stored, refused and pending."""
    if not isinstance(status, StatusResource):
        status = StatusResource.from_json(status)
    outcome = Outcome(status.id, status.complete)
    for e in status.successes:
        message = str(e.get("message") or "")
        target = outcome.already_stored if message.startswith(_ALREADY_STORED) else outcome.stored
        target.append(str(e.get("id")))
    for e in status.failures:
        outcome.refused.append((str(e.get("id")), " ".join(str(e.get("message") or "").split())))
    outcome.pending.extend(str(e.get("id")) for e in status.pendings)
    return outcome


# -- the client ----------------------------------------------------------------------------------


def _params(*, added_after: str | None = None, limit: int | None = None, next_token: str | None = None,
            types: Sequence[str] = (), ids: Sequence[str] = (), versions: Sequence[str] = (),
            spec_versions: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The query of a TAXII 2.1 GET (section 3.5: ``match[field]`` values are comma-separated)."""
    params: list[tuple[str, str]] = []
    if limit is not None:
        params.append(("limit", str(limit)))
    for name, values in (("match[type]", types), ("match[id]", ids), ("match[version]", versions),
                         ("match[spec_version]", spec_versions)):
        if values:
            params.append((name, ",".join(values)))
    if added_after is not None:
        params.append(("added_after", added_after))
    if next_token is not None:
        params.append(("next", next_token))
    return params


class TaxiiClient:
    """A client of one TAXII 2.1 API root (and the hub's endpoints under it).

    ``token`` is sent as a Bearer token to URLs under the API root only. Plain ``http://`` to
    another machine is refused unless ``unsafe_plain_http``. ``transport`` defaults to the
    network (TLS checked against ``verify``). ``retry`` says how 429/503 answers are retried,
    ``on_retry`` hears of each wait; ``sleep``, ``clock`` (monotonic seconds) and ``rng`` make
    waiting testable. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        unsafe_plain_http: bool = False,
        verify: ssl.SSLContext | str | bool = True,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        api = api_root(url)
        check_transport(api, unsafe_plain_http, "the token" if token else "every request")
        self.api = api
        self.sleep = sleep
        self.clock = clock
        self.http = HttpSession(api, token, transport=transport, verify=verify, timeout=timeout,
                                retry=retry, on_retry=on_retry, sleep=sleep, rng=rng)
        #: The hub's pseudonym endpoints (RFC 9497 POPRF), over the same session.
        self.oprf = OprfClient(self.http, api)

    def __repr__(self) -> str:
        return f"TaxiiClient({self.api!r})"

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- URLs and requests

    def _collection_url(self, collection_id: str, *rest: str) -> str:
        if not collection_id.strip():
            raise ClientError("a collection id is required")
        parts = [quote(collection_id.strip(), safe=""), *(quote(r, safe="") for r in rest)]
        return self.api + "collections/" + "/".join(parts) + "/"

    def _taxii_get(self, url: str, call: Call, params: Sequence[tuple[str, str]] = ()) -> httpx.Response:
        return self.http.request("GET", url, call, params=params, headers={"Accept": TAXII_21})

    @staticmethod
    def _reading(collection_id: str, api: str) -> Call:
        return Call(f"polling collection {collection_id}",
                    denied=f"no read access to collection {collection_id}",
                    missing=f"no collection {collection_id} at {api}")

    # -- TAXII 2.1 section 4: server discovery, API root, status

    def discovery(self, url: str | None = None) -> dict[str, Any]:
        """The discovery resource (section 4.1), by default at ``/taxii2/`` of the API root's
        server (the token goes with that one, which may need it); ``url`` gets no token."""
        target = url or self.http.discovery_url
        call = Call("reading the discovery resource", missing=f"no TAXII discovery resource at {target}",
                    hint=None)
        resp = self.http.request("GET", target, call, headers={"Accept": TAXII_21},
                                 authenticated=target == self.http.discovery_url)
        body = json_object(resp, call)
        if not isinstance(body.get("title"), str):
            raise not_taxii(resp, call)
        return body

    def api_root_information(self) -> dict[str, Any]:
        """The API root resource (section 4.2): title, versions, max_content_length."""
        call = Call("reading the API root", missing=f"no TAXII API root at {self.api}")
        resp = self._taxii_get(self.api, call)
        body = json_object(resp, call)
        if not isinstance(body.get("title"), str) or not isinstance(body.get("versions"), list):
            raise not_taxii(resp, call)
        return body

    def status(self, status_id: str) -> StatusResource:
        """A status resource (section 4.3)."""
        call = Call(f"following status {status_id}", missing=f"no status {status_id} at {self.api}")
        resp = self._taxii_get(f"{self.api}status/{quote(status_id, safe='')}/", call)
        try:
            return StatusResource.from_json(json_object(resp, call))
        except ValueError:
            raise not_taxii(resp, call) from None

    def follow_status(self, status: StatusResource, *, timeout: float = 120.0,
                      interval: float = 0.5, max_interval: float = 5.0) -> StatusResource:
        """GET the status again until it is complete or ``timeout`` seconds have passed; returns
        the last one seen (its ``complete`` says which). Waits grow from ``interval`` to
        ``max_interval``."""
        deadline = self.clock() + timeout
        while not status.complete:
            left = deadline - self.clock()
            if left <= 0:
                break
            self.sleep(min(interval, left))
            interval = min(interval * 2, max_interval)
            status = self.status(status.id)
        return status

    # -- TAXII 2.1 section 5: collections, manifest, objects

    def collections(self) -> list[dict[str, Any]]:
        """The collections this party can see (section 5.1)."""
        call = Call("listing collections", missing=f"no collections resource at {self.api}")
        resp = self._taxii_get(self.api + "collections/", call)
        body = json_object(resp, call)
        items = body.get("collections", [])
        if not isinstance(items, list) or not all(isinstance(c, dict) and isinstance(c.get("id"), str)
                                                  for c in items):
            raise not_taxii(resp, call)
        return items

    def collection(self, collection_id: str) -> dict[str, Any]:
        """One collection's resource (section 5.2): id, title, can_read, can_write."""
        call = Call(f"reading collection {collection_id}",
                    missing=f"no collection {collection_id} at {self.api}")
        resp = self._taxii_get(self._collection_url(collection_id), call)
        body = json_object(resp, call)
        if not isinstance(body.get("id"), str):
            raise not_taxii(resp, call)
        return body

    def manifest(self, collection_id: str, *, added_after: str | None = None, limit: int | None = None,
                 next: str | None = None, types: Sequence[str] = (), ids: Sequence[str] = (),
                 versions: Sequence[str] = ()) -> ManifestPage:
        """One page of the collection's manifest (section 5.3)."""
        call = self._reading(collection_id, self.api)
        resp = self._taxii_get(self._collection_url(collection_id, "manifest"), call,
                               _params(added_after=added_after, limit=limit, next_token=next,
                                       types=types, ids=ids, versions=versions))
        body = json_object(resp, call)
        more, next_value = body.get("more", False), body.get("next")
        items = body.get("objects", [])
        if not isinstance(more, bool) or (next_value is not None and not isinstance(next_value, str)) \
                or not isinstance(items, list):
            raise not_taxii(resp, call)
        entries = []
        for item in items:
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str)
                                                     for k in ("id", "date_added", "version")):
                raise not_taxii(resp, call)
            media = item.get("media_type")
            entries.append(ManifestEntry(item["id"], item["date_added"], item["version"],
                                         media if isinstance(media, str) else None))
        return ManifestPage(entries, more, next_value or None,
                            resp.headers.get("X-TAXII-Date-Added-First"),
                            resp.headers.get("X-TAXII-Date-Added-Last"))

    def get_objects(self, collection_id: str, *, added_after: str | None = None, limit: int | None = None,
                    next: str | None = None, types: Sequence[str] = (), ids: Sequence[str] = (),
                    versions: Sequence[str] = (), spec_versions: Sequence[str] = ()) -> ObjectsPage:
        """One page of objects (section 5.4), each with its JSON text exactly as sent."""
        call = self._reading(collection_id, self.api)
        resp = self._taxii_get(self._collection_url(collection_id, "objects"), call,
                               _params(added_after=added_after, limit=limit, next_token=next, types=types,
                                       ids=ids, versions=versions, spec_versions=spec_versions))
        return self._objects_page(resp, call)

    def get_object(self, collection_id: str, object_id: str, *, versions: Sequence[str] = (),
                   limit: int | None = None, next: str | None = None) -> ObjectsPage:
        """The versions of one object (section 5.6), as a page of exact texts."""
        call = self._reading(collection_id, self.api)
        resp = self._taxii_get(self._collection_url(collection_id, "objects", object_id), call,
                               _params(limit=limit, next_token=next, versions=versions))
        return self._objects_page(resp, call)

    @staticmethod
    def _objects_page(resp: httpx.Response, call: Call) -> ObjectsPage:
        try:
            members, objects = split_envelope(resp.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise not_taxii(resp, call) from None
        more = members.get("more", False)
        next_value = members.get("next")
        if not isinstance(more, bool) or (next_value is not None and not isinstance(next_value, str)):
            raise not_taxii(resp, call)
        return ObjectsPage([ExactObject(text, obj) for text, obj in objects], more, next_value or None,
                           resp.headers.get("X-TAXII-Date-Added-First"),
                           resp.headers.get("X-TAXII-Date-Added-Last"))

    def pages(self, collection_id: str, *, added_after: str | None = None, limit: int | None = None,
              types: Sequence[str] = (), ids: Sequence[str] = (), versions: Sequence[str] = (),
              spec_versions: Sequence[str] = ()) -> Iterator[ObjectsPage]:
        """Every page of objects added after ``added_after`` (all of them when None), in order.

        Paging follows TAXII 2.1 sections 3.4 and 5.4: while ``more`` is true, the next request
        repeats the query with ``next`` when the server gives one, else with ``added_after`` set
        to the page's ``X-TAXII-Date-Added-Last``. A page whose objects were added at or before
        the point already reached is refused (:class:`ProtocolError`), as is a server that says
        there is more but gives no way to get it: nothing is skipped or repeated silently.
        """
        position = added_after
        position_us = self._added_us(added_after, "added_after") if added_after else None
        query_after, next_token = added_after, None
        while True:
            page = self.get_objects(collection_id, added_after=query_after, limit=limit, next=next_token,
                                    types=types, ids=ids, versions=versions, spec_versions=spec_versions)
            if page.objects and page.date_added_last is not None:
                first_us = self._added_us(page.date_added_first or page.date_added_last,
                                          "X-TAXII-Date-Added-First")
                last_us = self._added_us(page.date_added_last, "X-TAXII-Date-Added-Last")
                if position_us is not None and min(first_us, last_us) <= position_us:
                    raise ProtocolError(f"{self.api} sent objects of collection {collection_id} added at or "
                                        f"before {position}, where the previous page ended: they could "
                                        "repeat objects; nothing of that page was used")
                position, position_us = page.date_added_last, last_us
            yield page
            if not page.more:
                return
            if page.next:
                if not page.objects and page.next == next_token:
                    raise ProtocolError(f"{self.api} repeats an empty page with the same 'next': "
                                        "it does not page as TAXII 2.1 says")
                next_token = page.next
            elif page.objects:
                if page.date_added_last is None:
                    raise ProtocolError(f"{self.api} says there is more but sent neither 'next' nor an "
                                        "X-TAXII-Date-Added-Last header (TAXII 2.1 section 5.4)")
                query_after, next_token = page.date_added_last, None
            else:
                raise ProtocolError(f"{self.api} says there is more but sent no objects and no "
                                    "'next': it does not page as TAXII 2.1 says")

    def _added_us(self, value: str, name: str) -> int:
        try:
            return parse_timestamp_us(value, name)
        except InvalidValue as exc:
            raise ProtocolError(f"{self.api} sent a bad paging value: {exc}") from None

    def add_objects(self, collection_id: str,
                    objects: Iterable[ExactObject | Mapping[str, Any] | str]) -> StatusResource:
        """POST objects in one envelope (section 5.5); returns the status resource.

        :class:`ExactObject` and string objects are sent with their text as it is (a relayed
        object keeps its bytes); mappings are serialised.
        """
        call = Call(f"submitting to collection {collection_id}",
                    denied=f"no write access to collection {collection_id}",
                    missing=f"no collection {collection_id} at {self.api}")
        try:
            body = envelope_bytes(objects)
        except ValueError as exc:
            raise ClientError(f"{call.what}: {exc}") from None
        resp = self.http.request("POST", self._collection_url(collection_id, "objects"), call, content=body,
                                 headers={"Content-Type": TAXII_21, "Accept": TAXII_21})
        try:
            return StatusResource.from_json(json_object(resp, call))
        except ValueError:
            raise not_taxii(resp, call) from None

    def submit(self, collection_id: str, objects: Iterable[ExactObject | Mapping[str, Any] | str], *,
               wait: float | None = 120.0) -> StatusResource:
        """:meth:`add_objects`, then :meth:`follow_status` for up to ``wait`` seconds (None: not)."""
        status = self.add_objects(collection_id, objects)
        if wait is not None and not status.complete:
            status = self.follow_status(status, timeout=wait)
        return status

    def delete_object(self, collection_id: str, object_id: str, *, versions: Sequence[str] = ()) -> None:
        """DELETE the versions of one object that ``versions`` (``match[version]``) names
        (section 5.7; the server's default when empty)."""
        call = Call(f"deleting object {object_id} from collection {collection_id}",
                    denied=f"not allowed to delete object {object_id} from collection {collection_id}",
                    missing=f"no object {object_id} (of those versions) in collection {collection_id} at {self.api}")
        self.http.request("DELETE", self._collection_url(collection_id, "objects", object_id), call,
                          params=_params(versions=versions), headers={"Accept": TAXII_21})

    # -- the hub's endpoints

    def tombstones(self, collection_id: str, *, added_after: str | None = None,
                   limit: int | None = None) -> TombstonePage:
        """One page of a hub's signed tombstone records of a collection, after ``added_after``
        (``GET collections/{id}/tombstones/``); :class:`ResourceNotFound` from a server without
        them (any plain TAXII 2.1 server)."""
        call = Call(f"reading the tombstones of collection {collection_id}",
                    denied=f"no read access to collection {collection_id}",
                    missing=f"no tombstones of collection {collection_id} at {self.api}")
        resp = self._taxii_get(self._collection_url(collection_id, "tombstones"), call,
                               _params(added_after=added_after, limit=limit))
        body = json_object(resp, call)
        records, more = body.get("tombstones", []), body.get("more", False)
        if not isinstance(records, list) or not isinstance(more, bool):
            raise not_taxii(resp, call)
        return TombstonePage(records, more, resp.headers.get("X-TAXII-Date-Added-First"),
                             resp.headers.get("X-TAXII-Date-Added-Last"))

    def tombstone_pages(self, collection_id: str, *, added_after: str | None = None,
                        limit: int | None = None) -> Iterator[TombstonePage]:
        """Every page of :meth:`tombstones` after ``added_after``, paged by ``added_after`` set to
        each page's last place; a page that does not move forward is refused (:class:`ProtocolError`)."""
        position_us = self._added_us(added_after, "added_after") if added_after else None
        while True:
            page = self.tombstones(collection_id, added_after=added_after, limit=limit)
            yield page
            if not page.more:
                return
            if not page.records or page.date_added_last is None:
                raise ProtocolError(f"{self.api} says there are more tombstones but sent none, or no "
                                    "X-TAXII-Date-Added-Last header to page on")
            last_us = self._added_us(page.date_added_last, "X-TAXII-Date-Added-Last")
            if position_us is not None and last_us <= position_us:
                raise ProtocolError(f"{self.api} sent tombstones at or before {added_after}, where the "
                                    "previous page ended")
            added_after, position_us = page.date_added_last, last_us

    def key_set(self, url: str | None = None) -> dict[str, Any]:
        """The JWK set of the parties' signing keys: ``GET keys/`` of the API root, or ``url``.

        Public: the token is never sent with it (``url`` may be another server's).
        """
        return _get_key_set(self.http, url or self.api + "keys/")

    def pseudonym_key(self) -> PseudonymKeys:
        """The hub's published POPRF public keys (``GET pseudonyms/key``);
        :class:`NoObliviousPseudonyms` when it publishes none (:meth:`OprfClient.pseudonym_key
        <hub.client.oprf.OprfClient.pseudonym_key>`)."""
        return self.oprf.pseudonym_key()

    def oblivious_pseudonyms(self, values: Sequence[tuple[str, str]], *,
                             pinned: Mapping[str, bytes] | None = None, all_versions: bool = False,
                             default_region: str | None = None) -> list[list[str]]:
        """Oblivious pseudonyms of ``(kind, value)`` pairs, blinded here and evaluated by the hub
        (``POST pseudonyms/evaluate``), each proof checked against the published or ``pinned``
        key (:meth:`OprfClient.oblivious_pseudonyms <hub.client.oprf.OprfClient.oblivious_pseudonyms>`):
        per value, its pseudonym under the current key version, then (``all_versions``) under
        every older one; :class:`UnverifiableAnswer` when an answer does not verify."""
        return self.oprf.oblivious_pseudonyms(values, pinned=pinned, all_versions=all_versions,
                                              default_region=default_region)

    def pseudonymise(self, values: Sequence[tuple[str, str]], *, pinned: Mapping[str, bytes] | None = None,
                     default_region: str | None = None, allow_clear_values: bool = False) -> list[str]:
        """The hub's pseudonyms of ``(kind, value)`` pairs, in the same order: oblivious, and in
        clear (``POST pseudonyms/``) only with ``allow_clear_values`` for a hub that publishes no
        pseudonym key, never with ``pinned`` keys (else :class:`NoObliviousPseudonyms`, nothing
        sent): :meth:`OprfClient.pseudonymise <hub.client.oprf.OprfClient.pseudonymise>`."""
        return self.oprf.pseudonymise(values, pinned=pinned, default_region=default_region,
                                      allow_clear_values=allow_clear_values)

    def pseudonymise_in_clear(self, values: Sequence[tuple[str, str]]) -> list[str]:
        """``POST pseudonyms/`` (ONE request, the hub sees the values): only for a hub known to be
        older (:meth:`OprfClient.pseudonymise_in_clear <hub.client.oprf.OprfClient.pseudonymise_in_clear>`)."""
        return self.oprf.pseudonymise_in_clear(values)

    def correlations(self, pseudonyms: Sequence[str]) -> list[dict[str, Any]]:
        """The reports, in collections this party can read, that carry any of ``pseudonyms``.

        More pseudonyms than the hub takes in one query (:data:`MAX_CORRELATION_PSEUDONYMS`, so
        that the request line stays short) are asked in several; each correlation once.
        """
        call = Call("looking up correlations", expect="the hub's correlation endpoint",
                    missing=f"no correlation endpoint at {self.api}")
        wanted = list(dict.fromkeys(pseudonyms)) or [""]
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), MAX_CORRELATION_PSEUDONYMS):
            chunk = wanted[start:start + MAX_CORRELATION_PSEUDONYMS]
            resp = self.http.request("GET", self.api + "correlations/", call,
                                     params=[("pseudonym", ",".join(chunk))], headers={"Accept": JSON})
            found = json_object(resp, call).get("correlations")
            if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
                raise not_taxii(resp, call)
            out += [c for c in found if c not in out]
        return out


def _get_key_set(http: HttpSession, url: str) -> dict[str, Any]:
    call = Call(f"fetching the signing keys from {url}", expect="a JWK set", hint=None)
    resp = http.request("GET", url, call, headers={"Accept": JWK_SET_ACCEPT}, authenticated=False)
    body = json_object(resp, call)
    if not isinstance(body.get("keys"), list):
        raise not_taxii(resp, call)
    return body


def fetch_key_set(url: str, *, transport: httpx.BaseTransport | None = None,
                  timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """A published JWK set (e.g. a hub's ``…/api/keys/``), fetched without any token."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError(f"{url!r} is not an http(s) URL of a key set")
    with HttpSession(f"{parts.scheme}://{parts.netloc}/", None, transport=transport, timeout=timeout) as http:
        return _get_key_set(http, url)
