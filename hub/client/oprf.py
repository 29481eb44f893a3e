"""The parties' side of the hub's pseudonym endpoints: oblivious pseudonyms (RFC 9497 POPRF), and
values in clear only for a hub known to be older.

:class:`OprfClient` speaks to one API root through the :class:`~hub.client.http.HttpSession` of a
:class:`~hub.client.taxii.TaxiiClient` (whose ``pseudonym_key``, ``oblivious_pseudonyms``,
``pseudonymise`` and ``pseudonymise_in_clear`` call it), so the same HTTP rules hold:

- :meth:`~OprfClient.pseudonym_key`: ``GET pseudonyms/key``, the hub's public keys by key version;
- :meth:`~OprfClient.oblivious_pseudonyms`: each value normalised and blinded here, the blinded
  elements evaluated by the hub (``POST pseudonyms/evaluate``, one group and one proof per kind,
  at most the hub's ``max_elements`` and :data:`MAX_ELEMENTS_PER_REQUEST` elements a request,
  and no more than half the party's allowance a minute once the hub has said it; two requests
  in flight, so that blinding and checking here overlap the hub's evaluation), each group's
  proof checked against the published or the pinned public key of its version: the hub never
  sees a value, and an answer that does not verify gives nothing (:class:`UnverifiableAnswer`);
- :meth:`~OprfClient.pseudonymise`: oblivious; a hub that publishes no key gets no value
  (:class:`NoObliviousPseudonyms`) unless the caller allows values in clear, never with a
  pinned key;
- :meth:`~OprfClient.pseudonymise_in_clear`: ``POST pseudonyms/``, the values in the body.

The group arithmetic (blinding, the proof check, finalisation) is
:class:`hub.pseudonyms.PseudonymBatch`'s; this module is the protocol over HTTP around it: which
key versions, pinned keys, batches, the request body, and reading the answer. No message here
holds a value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from hub.client.errors import ClientError, ProtocolError, ResourceNotFound
from hub.client.http import Call, HttpSession, json_object
from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms import (
    PSEUDONYM_RE,
    InvalidOprfInput,
    InvalidPersonalValue,
    PseudonymBatch,
    VerifyError,
)

__all__ = [
    "JSON",
    "MAX_PSEUDONYMS_PER_REQUEST",
    "NoObliviousPseudonyms",
    "OprfClient",
    "PseudonymKeys",
    "UnverifiableAnswer",
]

#: The hub's pseudonym (and correlation) endpoints answer plain JSON.
JSON = "application/json"
#: ``POST pseudonyms/`` (values in clear) takes at most this many values per request.
MAX_PSEUDONYMS_PER_REQUEST = 100
#: The most blinded elements this client sends in one ``POST pseudonyms/evaluate``, whatever
#: the hub's ``max_elements``: 2,000 elements are about 95 KB of JSON each way.
MAX_ELEMENTS_PER_REQUEST = 2000
#: The first request of a run holds at most this many elements (what every hub has taken);
#: the hub's answer states the party's allowance a minute, which sizes the requests after it.
FIRST_REQUEST_ELEMENTS = 100
#: Evaluation requests in flight at once: one is evaluated by the hub while this side blinds
#: the next and checks the last.
IN_FLIGHT = 2


class UnverifiableAnswer(ProtocolError):
    """The hub's evaluation of blinded values did not verify against its published (or the
    pinned) public key: nothing made from it may be used or submitted."""


class NoObliviousPseudonyms(ResourceNotFound):
    """The hub publishes no pseudonym key (``GET pseudonyms/key`` answered 404: an older hub, or a
    proxy or operator hiding it), so it cannot make oblivious pseudonyms; no value was sent.

    ``api`` is the API root; ``pinned`` whether the caller pinned the hub's key (then the values
    are never sent in clear); ``clear_refused`` whether the caller was making pseudonyms and did
    not allow the values in clear (:meth:`OprfClient.pseudonymise`).
    """

    def __init__(self, description: str, *, api: str, status: int = 404, reason: str | None = None,
                 pinned: bool = False, clear_refused: bool = False) -> None:
        super().__init__(description, status=status, reason=reason)
        self.api = api
        self.pinned = pinned
        self.clear_refused = clear_refused


@dataclass(frozen=True)
class PseudonymKeys:
    """The hub's POPRF public keys by key version (``GET pseudonyms/key``), the current one, and
    the most blinded elements it takes per request (``max_elements``; 100 for a hub that does
    not say)."""

    current: str
    keys: Mapping[str, bytes]
    max_elements: int = FIRST_REQUEST_ELEMENTS

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ClientError(f"the current pseudonym key version {self.current!r} has no public key")


#: One batch of a request: the indexes of its values in the caller's list, and the batch.
_Batch = tuple[list[int], PseudonymBatch]


class OprfClient:
    """The hub's pseudonym endpoints under the API root ``api``, over ``http``."""

    def __init__(self, http: HttpSession, api: str) -> None:
        self.http = http
        self.api = api

    def __repr__(self) -> str:
        return f"OprfClient({self.api!r})"

    def pseudonym_key(self) -> PseudonymKeys:
        """The hub's published POPRF public keys (``GET pseudonyms/key``).

        :class:`NoObliviousPseudonyms` (a :class:`~hub.client.errors.ResourceNotFound`) when the
        hub publishes none: it does not make oblivious pseudonyms (an older hub), or something
        between here and the hub hides them.
        """
        call = Call("fetching the hub's pseudonym key", expect="the hub's pseudonym key",
                    missing=f"no oblivious pseudonyms at {self.api} (no pseudonyms/key)")
        try:
            resp = self.http.request("GET", self.api + "pseudonyms/key", call, headers={"Accept": JSON})
        except ResourceNotFound as exc:
            raise NoObliviousPseudonyms(
                f"the hub at {self.api} offers no oblivious pseudonym evaluation (GET pseudonyms/key "
                "answered 404)", api=self.api, status=exc.status, reason=exc.reason) from None
        keys = _read_pseudonym_keys(json_object(resp, call))
        if keys is None:
            raise ProtocolError(f"{call.what}: the answer is not a list of key versions and public keys")
        return keys

    def oblivious_pseudonyms(self, values: Sequence[tuple[str, str]], *,
                             pinned: Mapping[str, bytes] | None = None, all_versions: bool = False,
                             default_region: str | None = None) -> list[list[str]]:
        """Oblivious pseudonyms of ``(kind, value)`` pairs: per value, its ``poprf-r255:``
        pseudonym under the current key version, then (``all_versions``) under every older one.

        Each value is normalised and blinded here (RFC 9497 POPRF); the hub evaluates the
        blinded elements (``POST pseudonyms/evaluate``, one group and one proof per kind, in
        requests sized by the hub's ``max_elements`` and the party's allowance, two in flight)
        and never sees a value. Each group's proof is checked
        against the public key of its version, as published at ``GET pseudonyms/key`` or, for
        the versions in ``pinned``, as the caller pinned it; an answer that does not verify
        raises :class:`UnverifiableAnswer` ("the hub's answer could not be verified: ..."), and
        nothing made from it is returned. Values stay in memory; no message holds one.
        """
        if not values:
            return []
        return self._oblivious(values, self.pseudonym_key(), pinned, all_versions, default_region)

    def pseudonymise(self, values: Sequence[tuple[str, str]], *, pinned: Mapping[str, bytes] | None = None,
                     default_region: str | None = None, allow_clear_values: bool = False) -> list[str]:
        """The hub's pseudonyms of ``(kind, value)`` pairs, in the same order.

        Oblivious (:meth:`oblivious_pseudonyms`: the hub never sees a value). A hub that publishes
        no pseudonym key (``GET pseudonyms/key`` answers 404) cannot make them, and then nothing
        is sent: :class:`NoObliviousPseudonyms`, unless the caller passes
        ``allow_clear_values=True`` for a hub it knows to be older, when the values go in clear
        to ``POST pseudonyms/`` (ONE request; the hub sees them, and its ``hmac-sha256:``
        pseudonyms come with no proof). With ``pinned`` keys the values never go in clear,
        whatever ``allow_clear_values`` says. No message of this method contains a value.
        """
        if not values:
            return []
        try:
            published = self.pseudonym_key()
        except NoObliviousPseudonyms as exc:
            if pinned is not None or not allow_clear_values:
                why = ("values are never sent in clear to a hub whose pseudonym key is pinned"
                       if pinned is not None else
                       "sending them in clear (allow_clear_values) lets the hub see them: allow it "
                       "only for a hub known to be older")
                raise NoObliviousPseudonyms(f"{exc.description}: no value was sent; {why}", api=exc.api,
                                            status=exc.status, reason=exc.reason, pinned=pinned is not None,
                                            clear_refused=True) from None
            return self.pseudonymise_in_clear(values)
        return [p[0] for p in self._oblivious(values, published, pinned, False, default_region)]

    def pseudonymise_in_clear(self, values: Sequence[tuple[str, str]]) -> list[str]:
        """``POST pseudonyms/`` (ONE request): the values travel in the request body, the hub sees
        them, and its ``hmac-sha256:`` pseudonyms come with no proof. Only for a hub known to be
        older, by a caller that decided so: :meth:`pseudonymise` is the oblivious way."""
        if not values:
            return []
        call = Call("pseudonymising through the hub", subject="pseudonym requests",
                    expect="the hub's pseudonym endpoint", missing=f"no pseudonym endpoint at {self.api}")
        if len(values) > MAX_PSEUDONYMS_PER_REQUEST:
            raise ClientError(f"{call.what}: {len(values)} values, the hub takes at most "
                              f"{MAX_PSEUDONYMS_PER_REQUEST} per request")
        body = orjson.dumps({"values": [{"kind": k, "value": v} for k, v in values]})
        resp = self.http.request("POST", self.api + "pseudonyms/", call, content=body,
                                 headers={"Content-Type": JSON, "Accept": JSON})
        items = json_object(resp, call).get("pseudonyms")
        if not isinstance(items, list) or len(items) != len(values):
            raise ProtocolError(f"{call.what}: the hub's answer does not hold one pseudonym per value")
        out = []
        for i, ((kind, _value), item) in enumerate(zip(values, items, strict=True)):
            pseudonym = item.get("pseudonym") if isinstance(item, dict) else None
            if not isinstance(item, dict) or item.get("kind") != kind or not isinstance(pseudonym, str) \
                    or not PSEUDONYM_RE.match(pseudonym):
                raise ProtocolError(f"{call.what}: the hub's answer for value {i} ({kind}) is not a "
                                    "pseudonym of that kind")
            out.append(pseudonym)
        return out

    # -- the oblivious protocol

    def _oblivious(self, values: Sequence[tuple[str, str]], published: PseudonymKeys,
                   pinned: Mapping[str, bytes] | None, all_versions: bool,
                   default_region: str | None) -> list[list[str]]:
        versions = [published.current] + ([v for v in published.keys if v != published.current]
                                          if all_versions else [])
        keys = _keys_to_check(published, pinned, versions)
        out: list[list[str]] = [[] for _ in values]
        sizer = _RequestSizer(published.max_elements)
        indexed = list(enumerate(values))
        for version in versions:
            # The first request alone: its answer states the allowance that sizes the others.
            first = sizer.size()
            made = self._evaluate(version, keys[version], indexed[:first], default_region, sizer)
            made.update(self._pipelined(version, keys[version], indexed, first, default_region, sizer))
            for i, pseudonym in sorted(made.items()):
                out[i].append(pseudonym)
        return out

    def _pipelined(self, version: str, public_key: bytes, indexed: Sequence[tuple[int, tuple[str, str]]],
                   start: int, default_region: str | None, sizer: _RequestSizer) -> dict[int, str]:
        """The requests for ``indexed[start:]``, :data:`IN_FLIGHT` at a time, in order; the first
        that fails stops the sending of any more (those in flight are waited for) and is raised."""
        made: dict[int, str] = {}
        with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="pseudonyms") as pool:
            pending: list[Future[dict[int, str]]] = []
            try:
                for chunk in sizer.chunks(indexed, start):
                    pending.append(pool.submit(self._evaluate, version, public_key, chunk, default_region, sizer))
                    if len(pending) >= IN_FLIGHT:
                        made.update(pending.pop(0).result())
                for future in pending:
                    made.update(future.result())
            finally:
                for future in pending:
                    future.cancel()
        return made

    def _evaluate(self, version: str, public_key: bytes, chunk: Sequence[tuple[int, tuple[str, str]]],
                  default_region: str | None, sizer: _RequestSizer | None = None) -> dict[int, str]:
        """One ``POST pseudonyms/evaluate`` for ``chunk`` (index, (kind, value)) under ``version``;
        the allowance the answer states goes to ``sizer``."""
        if not chunk:
            return {}
        call = Call("making oblivious pseudonyms through the hub", subject="pseudonym requests",
                    expect="the hub's pseudonym evaluation",
                    missing=f"no oblivious pseudonyms at {self.api} (no pseudonyms/evaluate)")
        batches = _blind_batches(version, chunk, default_region, call.what)
        resp = self.http.request("POST", self.api + "pseudonyms/evaluate", call,
                                 content=_evaluation_request(version, batches),
                                 headers={"Content-Type": JSON, "Accept": JSON})
        answer = json_object(resp, call)
        if sizer is not None:
            sizer.told(answer.get("allowance_per_minute"))
        return _finish_batches(answer, version, public_key, batches)


class _RequestSizer:
    """How many elements the next evaluation request holds: at most the hub's ``max_elements``
    and :data:`MAX_ELEMENTS_PER_REQUEST`; :data:`FIRST_REQUEST_ELEMENTS` until the hub has
    stated the party's allowance a minute, then half of it (a request never outgrows the
    allowance, and a refused one waits at most half a minute for the bucket to refill)."""

    def __init__(self, max_elements: int) -> None:
        self.ceiling = max(1, min(max_elements, MAX_ELEMENTS_PER_REQUEST))
        self.allowance: int | None = None
        self._lock = threading.Lock()

    def told(self, allowance: Any) -> None:
        if isinstance(allowance, int) and not isinstance(allowance, bool) and allowance > 0:
            with self._lock:
                self.allowance = allowance

    def size(self) -> int:
        with self._lock:
            if self.allowance is None:
                return min(self.ceiling, FIRST_REQUEST_ELEMENTS)
            return max(1, min(self.ceiling, self.allowance // 2))

    def chunks(self, items: Sequence[Any], start: int) -> Iterator[Sequence[Any]]:
        """``items`` from ``start`` in consecutive slices, each as large as :meth:`size` says
        when it is taken."""
        while start < len(items):
            size = self.size()
            yield items[start:start + size]
            start += size


def _read_pseudonym_keys(body: Mapping[str, Any]) -> PseudonymKeys | None:
    """The keys of a ``GET pseudonyms/key`` answer (``{"current": ..., "keys": [{"key_version",
    "public_key"}]}``, keys in base64url), or None when it is not that."""
    entries, current = body.get("keys"), body.get("current")
    if not isinstance(entries, list):
        return None
    keys: dict[str, bytes] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("key_version"), str) \
                or not isinstance(entry.get("public_key"), str):
            return None
        try:
            keys[entry["key_version"]] = b64url_decode(entry["public_key"])
        except ValueError:
            return None
    if not isinstance(current, str) or current not in keys:
        return None
    most = body.get("max_elements")
    if isinstance(most, int) and not isinstance(most, bool) and most > 0:
        return PseudonymKeys(current, keys, most)
    return PseudonymKeys(current, keys)


def _keys_to_check(published: PseudonymKeys, pinned: Mapping[str, bytes] | None,
                  versions: Sequence[str]) -> dict[str, bytes]:
    """The public key to check each version's proofs against: the published one, or, when the
    caller pinned keys, the pinned one (a version not pinned: :class:`UnverifiableAnswer`)."""
    if pinned is None:
        return dict(published.keys)
    # A pinned key is checked instead of the published one: a hub showing this client another
    # key than it pinned cannot make its answers verify.
    unpinned = [v for v in versions if v not in pinned]
    if unpinned:
        raise UnverifiableAnswer(f"the hub's answer could not be verified: its key version "
                                 f"{unpinned[0]} is not among the pinned ones")
    return {v: bytes(pinned[v]) for v in versions}


def _blind_batches(version: str, chunk: Sequence[tuple[int, tuple[str, str]]], default_region: str | None,
                  what: str) -> list[_Batch]:
    """``chunk``'s values normalised and blinded, one batch per kind (in order of first
    appearance); a value that cannot be pseudonymised is a :class:`ClientError` naming its kind."""
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for i, (kind, value) in chunk:
        by_kind.setdefault(kind, []).append((i, value))
    batches: list[_Batch] = []
    for kind, items in by_kind.items():
        try:
            batch = PseudonymBatch(kind, version, [v for _, v in items], default_region=default_region)
        except InvalidPersonalValue as exc:
            raise ClientError(f"{what}: a value of kind {kind}: {exc.description}") from None
        except InvalidOprfInput as exc:
            raise ClientError(f"{what}: {exc.description}") from None
        batches.append(([i for i, _ in items], batch))
    return batches


def _evaluation_request(version: str, batches: Sequence[_Batch]) -> bytes:
    """The body of ``POST pseudonyms/evaluate``: the key version, and per kind its blinded elements."""
    return orjson.dumps({"key_version": version, "groups": [
        {"kind": b.kind, "blinded": [b64url_encode(e) for e in b.blinded]} for _, b in batches]})


def _finish_batches(answer: Mapping[str, Any], version: str, public_key: bytes,
                   batches: Sequence[_Batch]) -> dict[int, str]:
    """The pseudonyms of an evaluation answer by value index, every group's proof verified against
    ``public_key``; :class:`UnverifiableAnswer` if any group is missing, malformed or unproven."""
    groups = answer.get("groups")
    if answer.get("key_version") != version or not isinstance(groups, list) or len(groups) != len(batches):
        raise UnverifiableAnswer("the hub's answer could not be verified: it does not answer "
                                 "each group of the request under the key version asked for")
    out: dict[int, str] = {}
    for (indexes, batch), group in zip(batches, groups, strict=True):
        try:
            pseudonyms = batch.finish(public_key, *_evaluated_and_proof(group, batch.kind))
        except VerifyError as exc:
            raise UnverifiableAnswer(exc.description) from None
        out.update(zip(indexes, pseudonyms, strict=True))
    return out


def _evaluated_and_proof(group: Any, kind: str) -> tuple[list[bytes], bytes]:
    if not isinstance(group, dict) or group.get("kind") != kind \
            or not isinstance(group.get("evaluated"), list) or not isinstance(group.get("proof"), str) \
            or not all(isinstance(e, str) for e in group["evaluated"]):
        raise VerifyError(f"the group of kind {kind} is not evaluated elements and a proof")
    try:
        return [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"])
    except ValueError:
        raise VerifyError(f"the group of kind {kind} is not base64url") from None
