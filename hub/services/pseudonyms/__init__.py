"""Pseudonyms for parties (rate-limited), the keyring's lifecycle (audited), and the
correlation view over pseudonyms.

The keyring itself, its file and its rotation live in :mod:`hub.pseudonyms`; this service adds
what the hub decides: who may ask for how many values, what the audit trail records (never a key
or a value), and which reports a party may see linked.

Two ways to a pseudonym:

- oblivious (``POST pseudonyms/evaluate``, :meth:`PseudonymService.evaluate`): the provider
  blinds each normalised value (RFC 9497 POPRF, :mod:`hub.pseudonyms.oprf`), the hub evaluates
  the blinded elements of each kind under that kind's public ``info`` with one batched DLEQ
  proof per kind, and the provider verifies and unblinds: the hub never sees a value, only
  kinds and counts; ``GET pseudonyms/key`` publishes each key version's public key;
- in clear (``POST pseudonyms/``, :meth:`PseudonymService.pseudonymise`, only where the operator
  turned on ``[pseudonyms] accept_raw_values``): raw values are taken, normalised, turned into
  HMAC-SHA256 pseudonyms and forgotten, never stored, logged or echoed. Errors name the item
  (``values[2]``) and the rule, not the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

from hub.common.canonical import b64url_decode, b64url_encode
from hub.common.errors import BadRequest, NotFound, TooManyRequests
from hub.common.problems import Code, Problem
from hub.pseudonyms import (
    KEYRING_FILE,
    PSEUDONYM_FORMS,
    PSEUDONYM_KINDS,
    PSEUDONYM_RE,
    InvalidElement,
    InvalidOprfInput,
    InvalidPersonalValue,
    KeyringFile,
    PoprfKeyring,
    PseudonymKeyring,
    normalise,
    pseudonym_info,
    pseudonym_version,
    scoped_account_value,
)
from hub.pseudonyms.oprf import MAX_BATCH_SIZE, SUITE, PoprfServer, format_pseudonym
from hub.services.access import AccessService
from hub.services.access.auth import Principal
from hub.services.access.limits import TokenBucket
from hub.services.audit import AuditService
from hub.services.clock import Clock, system_clock
from hub.services.ingest.checks import CheckContext
from hub.services.metrics import NULL_METRICS, Metrics
from hub.store.base import Store
from hub.store.records import Collection

#: At most this many values per ``POST pseudonyms/`` (values in clear).
MAX_VALUES_PER_REQUEST = 100
#: At most this many blinded elements per ``POST pseudonyms/evaluate`` (all groups together),
#: what ``GET pseudonyms/key`` publishes as ``max_elements``. A request of that many is about
#: 95 KB of JSON each way (46 bytes an element, a proof per kind) and about 0.4 s of one core
#: (two scalar multiplications an element), well inside ``[taxii] max_content_length`` and a
#: worker's timeout; a provider's tools send their values in requests of at most this many.
MAX_ELEMENTS_PER_REQUEST = MAX_BATCH_SIZE
#: At most this many pseudonyms per correlation query: 24 oblivious ones (146 characters each
#: with a 6-character key version), repeated as ``pseudonym=`` parameters, keep the GET request
#: line under gunicorn's 4 KiB limit (``limit_request_line``, 4094).
MAX_CORRELATION_PSEUDONYMS = 24


class RateLimiter:
    """A token bucket per party: ``per_minute`` values, refilled continuously.

    The bucket is a row in the database (:class:`hub.services.access.limits.TokenBucket`), so every
    server process draws on the same allowance: the hub as a whole allows ``per_minute``, not
    ``workers x per_minute``. ``capacity`` and ``rate`` (tokens per second) are the hub's default
    (``[pseudonyms] per_minute``); a party given its own allowance (``party edit
    --pseudonyms-per-minute``) has a bucket of that size, refilled at that rate, instead. Both
    are read at each take, so a change holds from the party's next request.
    """

    def __init__(self, per_minute: int, store: Store, clock: Clock) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.store = store
        self.clock = clock
        self.metrics: Metrics = NULL_METRICS

    def allowance(self, per_minute: int | None) -> tuple[float, float]:
        """The capacity and the refill rate (tokens per second) of a party whose own allowance is
        ``per_minute`` (None: the hub's)."""
        if per_minute is None:
            return self.capacity, self.rate
        return float(per_minute), per_minute / 60.0

    def take(self, party_pk: int, n: int, per_minute: int | None = None) -> float:
        """Take ``n`` tokens from the party's bucket, whose allowance is ``per_minute`` (None: the
        hub's); returns 0, or the seconds to wait when there are too few.

        Nothing is taken when there are too few: a refused request costs the party nothing.
        """
        capacity, rate = self.allowance(per_minute)
        wait = TokenBucket(self.store, self.clock, "pseudonyms", capacity, rate).take(str(party_pk), n)
        if not wait:
            self.metrics.pseudonyms(party_pk, n)
        return wait


@dataclass(frozen=True)
class Correlation:
    """A report that mentions a pseudonym, in a collection the requester may read."""

    pseudonym: str
    collection: str
    account: str
    report: str

    def as_json(self) -> dict[str, str]:
        return {"pseudonym": self.pseudonym, "collection": self.collection,
                "account": self.account, "report": self.report}


@dataclass(frozen=True)
class BlindedGroup:
    """One group of a ``POST pseudonyms/evaluate`` body: a kind and its blinded elements, decoded."""

    kind: str
    elements: tuple[bytes, ...]


@dataclass(frozen=True)
class EvaluateRequest:
    """A ``POST pseudonyms/evaluate`` body, read: the key version asked for (None: the current
    one) and the groups, in order, one per kind, at most :data:`MAX_ELEMENTS_PER_REQUEST`
    elements in all. Whether each element is a valid one is for the evaluation to say."""

    key_version: str | None
    groups: tuple[BlindedGroup, ...]

    @property
    def total(self) -> int:
        """The number of blinded elements, all groups together."""
        return sum(len(g.elements) for g in self.groups)

    @classmethod
    def from_json(cls, body: Any, versions: Sequence[str]) -> EvaluateRequest:
        """Read ``{"key_version": v, "groups": [{"kind": k, "blinded": [b64url, ...]}, ...]}``
        (``key_version`` optional, one of ``versions``); 400 naming the first thing wrong, the
        member or item and the rule, never a value."""
        if not isinstance(body, dict) or set(body) - {"key_version", "groups"} or "groups" not in body:
            raise BadRequest('the body must be {"key_version": ..., "groups": '
                             '[{"kind": ..., "blinded": [...]}, ...]}')
        version = body.get("key_version")
        if "key_version" in body and (not isinstance(version, str) or version not in versions):
            raise _unknown_key_version(versions)
        groups = body["groups"]
        if not isinstance(groups, list) or not groups:
            raise BadRequest("'groups' must be a non-empty list of {\"kind\", \"blinded\"} objects")
        seen: set[str] = set()
        for i, group in enumerate(groups):
            _check_group(i, group, seen)
        total = sum(len(group["blinded"]) for group in groups)
        if total > MAX_ELEMENTS_PER_REQUEST:
            raise BadRequest(f"at most {MAX_ELEMENTS_PER_REQUEST} blinded elements per request, got {total} "
                             "(max_elements at GET pseudonyms/key): send them in several requests")
        # Decoded once every group's shape and the total are known good.
        return cls(version, tuple(BlindedGroup(group["kind"], _decode_blinded(i, group["blinded"]))
                                  for i, group in enumerate(groups)))


def _check_group(i: int, group: Any, seen: set[str]) -> None:
    """``groups[i]`` is ``{"kind": k, "blinded": [...]}`` with a kind not in ``seen`` (added to it)
    and at least one element; 400 naming it otherwise."""
    if not isinstance(group, dict) or set(group) != {"kind", "blinded"} \
            or not isinstance(group["kind"], str) or not isinstance(group["blinded"], list):
        raise BadRequest(f"groups[{i}] must be an object with the members 'kind' (a string) "
                         "and 'blinded' (a list of base64url elements)")
    if group["kind"] not in PSEUDONYM_KINDS:
        raise BadRequest(f"groups[{i}].kind must be one of {', '.join(PSEUDONYM_KINDS)}")
    if group["kind"] in seen:
        raise BadRequest(f"groups[{i}]: the kind {group['kind']} is given twice; one group per kind")
    seen.add(group["kind"])
    if not group["blinded"]:
        raise BadRequest(f"groups[{i}].blinded is empty")


def _decode_blinded(i: int, blinded: list[Any]) -> tuple[bytes, ...]:
    """The elements of ``groups[i].blinded``, decoded from base64url; 400 naming the first that is not."""
    elements = []
    for j, text in enumerate(blinded):
        where = f"groups[{i}].blinded[{j}]"
        if not isinstance(text, str):
            raise BadRequest(f"{where} must be a base64url string")
        try:
            elements.append(b64url_decode(text))
        except ValueError as exc:
            raise BadRequest(f"{where} {exc}") from None
    return tuple(elements)


def _unknown_key_version(versions: Sequence[str]) -> BadRequest:
    return BadRequest("key_version must be one of this hub's pseudonym key versions "
                      f"({', '.join(versions)}): see GET pseudonyms/key")


class PseudonymService:
    """Makes pseudonyms for parties (rate-limited) and finds the reports that share them."""

    def __init__(self, store: Store, access: AccessService, audit: AuditService, home: Path,
                 per_minute: int, default_region: str | None) -> None:
        self.store = store
        self.access = access
        self.audit = audit
        self.keyfile = KeyringFile(home / KEYRING_FILE, default_region)
        self.path = self.keyfile.path
        self.default_region = default_region or None
        self.limiter = RateLimiter(per_minute, store, audit.clock if audit is not None else system_clock)

    # -- the keyring

    def ensure_keyring(self) -> bool:
        """Create the keyring file if there is none (first writer wins); True if created here."""
        created = self.keyfile.create()
        if created:
            self.audit.record("pseudonym.key.create", "", version="k1")  # never the key
        return created

    def keyring(self) -> PseudonymKeyring:
        """The current keyring (created on first use; re-read when rotated by another process)."""
        if not self.keyfile.path.exists():
            self.ensure_keyring()
        return self.keyfile.keyring()

    def poprf_keyring(self) -> PoprfKeyring:
        """The POPRF keys, by the same versions as :meth:`keyring` (seeds added to an older
        keyring file on first use)."""
        if not self.keyfile.path.exists():
            self.ensure_keyring()
        return self.keyfile.poprf()

    def public_keys(self) -> dict[str, Any]:
        """What ``GET pseudonyms/key`` publishes: the suite, the form of the public input, and
        each key version's public key (base64url), the current one first and flagged.

        Every version stays valid for evaluation: a provider asks for older versions to find
        reports filed before a rotation.
        """
        ring = self.poprf_keyring()
        return {
            "suite": SUITE,
            "mode": "POPRF",
            "info": "abusehub:<kind>:<key version>",
            "kinds": list(PSEUDONYM_KINDS),
            "max_elements": MAX_ELEMENTS_PER_REQUEST,
            "current": ring.current_version,
            "keys": [{"key_version": v, "public_key": b64url_encode(pk), "current": v == ring.current_version,
                      "valid": True}
                     for v, pk in ring.public_keys().items()],
        }

    def rotate(self) -> tuple[str, list[str]]:
        """Add a key version and make it current; returns it and every version (current first).
        Older versions stay for matching."""
        self.ensure_keyring()
        version, versions = self.keyfile.rotate()
        self.audit.record("pseudonym.key.rotate", "", version=version, versions=versions)
        return version, versions

    # -- making pseudonyms

    def _make(self, ring: PseudonymKeyring, kind: str, value: str, label: str,
              provider: str | None = None, poprf: PoprfKeyring | None = None,
              region: str | None = None) -> dict[str, Any]:
        try:
            if kind == "provider_account":
                # Account ids are unique within one provider only: the pseudonym is of
                # "<provider identity>/<account id>", exactly what a report carries.
                value = scoped_account_value(value, provider)
            text = normalise(kind, value, default_region=region or self.default_region)
        except InvalidPersonalValue as exc:
            raise BadRequest(f"{label}: {exc.description}") from None
        except ValueError as exc:
            raise BadRequest(f"{label}: {exc}") from None
        if poprf is not None:
            # The operator's machine holds the key: it evaluates in clear, as the provider's
            # blind evaluation would give (RFC 9497 section 3.3.3, Evaluate).
            data = text.encode("utf-8")
            oblivious = [format_pseudonym(v, poprf.server(v).evaluate_unblinded(data, pseudonym_info(kind, v)))
                         for v in poprf.versions]
            older = ring.pseudonyms_all_versions(kind, text)
            return {"kind": kind, "pseudonym": oblivious[0], "all_versions": oblivious + older}
        # Normalised once; the current version comes first in all_versions.
        every = ring.pseudonyms_all_versions(kind, text)
        return {"kind": kind, "pseudonym": every[0], "all_versions": every}

    def make(self, kind: str, values: Iterable[str], labels: Iterable[str],
             provider: str | None = None, *, scheme: str = "hmac",
             region: str | None = None) -> list[dict[str, Any]]:
        """Pseudonyms of ``values`` of one kind for the operator (no rate limit).

        ``scheme`` ``"poprf"`` gives the oblivious pseudonym providers' tools make now
        (``poprf-r255:``), and in ``all_versions`` every POPRF version followed by every HMAC
        version, so that a correlation also finds reports filed with ``hmac-sha256:``
        pseudonyms; ``"hmac"`` (the default, what ``POST pseudonyms/`` makes) the HMAC ones only. ``labels`` name each value in error
        messages (e.g. ``line 3``). For the kind
        ``provider_account``, ``provider`` is the identity id, or the name in this hub, of the
        provider whose account ids ``values`` are (without it, each value must be written
        ``<identity id>/<account id>``). For the kind ``phone``, ``region`` (ISO 3166-1 alpha-2,
        e.g. ``US``) is where numbers written without ``+<country code>`` are read, as a report's
        ``phone_region`` (default: ``[pseudonyms] default_region``).
        """
        if kind not in PSEUDONYM_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(PSEUDONYM_KINDS)}")
        if region is not None:
            if kind != "phone":
                raise BadRequest("a region is given only for the kind phone")
            region = region.strip().upper()
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise BadRequest("the region must be an ISO 3166-1 alpha-2 code with a telephone "
                                 "numbering plan, such as 'US' or 'DE'")
        if provider is not None and kind != "provider_account":
            raise BadRequest("a provider is given only for the kind provider_account")
        if provider is not None and not provider.startswith("identity--"):
            party = self.store.get_party(provider)
            if party is None:
                raise NotFound(f"no party named {provider!r}")
            provider = party.identity_id
        if scheme not in ("poprf", "hmac"):
            raise BadRequest("scheme must be poprf or hmac")
        ring = self.keyring()
        poprf = self.poprf_keyring() if scheme == "poprf" else None
        return [self._make(ring, kind, v, label, provider, poprf, region)
                for v, label in zip(values, labels, strict=True)]

    def pseudonymise(self, principal: Principal, values: Any) -> dict[str, Any]:
        """Pseudonyms for ``[{"kind": …, "value": …}, …]`` in request order; rate-limited per party.

        An item of kind ``provider_account`` may name the provider whose account id it is,
        ``{"kind": "provider_account", "value": "<account id>", "provider": "identity--…"}``;
        without it the value must be ``<identity id>/<account id>``. Either way the pseudonym is
        the one a report of that provider carries for that account.
        """
        if not isinstance(values, list) or not values:
            raise BadRequest("'values' must be a non-empty list of {\"kind\", \"value\"} objects")
        if len(values) > MAX_VALUES_PER_REQUEST:
            raise BadRequest(f"at most {MAX_VALUES_PER_REQUEST} values per request")
        for i, item in enumerate(values):
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str) \
                    or not isinstance(item.get("value"), str) or set(item) - {"kind", "value", "provider"} \
                    or not isinstance(item.get("provider", ""), str):
                raise BadRequest(f"values[{i}] must be an object with the string members 'kind' and "
                                 "'value' (and 'provider' for the kind provider_account)")
            if item["kind"] not in PSEUDONYM_KINDS:
                # The kind is not echoed either: a value pasted into it would be.
                raise BadRequest(f"values[{i}].kind must be one of {', '.join(PSEUDONYM_KINDS)}")
            if "provider" in item and item["kind"] != "provider_account":
                raise BadRequest(f"values[{i}].provider is given only for the kind provider_account")
        self._take(principal, len(values))
        ring = self.keyring()
        out = [self._make(ring, item["kind"], item["value"], f"values[{i}] ({item['kind']})",
                          item.get("provider"))
               for i, item in enumerate(values)]
        self.audit.record_read(principal.party.name, "", endpoint="pseudonyms", count=len(out),
                               kinds=sorted({item["kind"] for item in values}))
        return {"key_version": ring.current_version, "pseudonyms": out}

    # -- oblivious pseudonyms

    def key_versions(self) -> tuple[str, ...]:
        """This hub's pseudonym key versions, the current one first: what a request may name."""
        return self.poprf_keyring().versions

    def evaluate(self, principal: Principal, request: EvaluateRequest) -> dict[str, Any]:
        """Evaluate blinded elements (RFC 9497 POPRF, BlindEvaluate) for a party; rate-limited.

        ``request`` is a ``POST pseudonyms/evaluate`` body read by :meth:`EvaluateRequest.from_json`:
        at most :data:`MAX_ELEMENTS_PER_REQUEST` elements in all. The answer holds, per group in
        order, the evaluated elements and ONE batched DLEQ proof under the group's ``info``
        (``abusehub:<kind>:<v>``): a proof is tied to one ``info``, so a kind is one group.
        Every element counts against the party's allowance (its own, ``party edit
        --pseudonyms-per-minute``, else the hub's ``[pseudonyms] per_minute``), which the answer
        states (``allowance_per_minute``) so that a provider's tools size their requests by it.
        The audit trail records the counts per kind; no element is stored, logged or echoed
        (they are random-looking anyway).
        """
        ring = self.poprf_keyring()
        version = ring.current_version if request.key_version is None else request.key_version
        if version not in ring.versions:
            raise _unknown_key_version(ring.versions)
        total = request.total
        # Counted before the elements are checked: each check costs the hub a group operation.
        self._take(principal, total)
        server = ring.server(version)
        out = [self._evaluate_group(server, i, group, version) for i, group in enumerate(request.groups)]
        self.audit.record_read(principal.party.name, "", endpoint="pseudonyms/evaluate", key_version=version,
                               count=total, kinds={g.kind: len(g.elements) for g in request.groups})
        capacity = self.limiter.allowance(principal.party.pseudonyms_per_minute)[0]
        return {"key_version": version, "groups": out,
                "allowance_per_minute": int(capacity) if capacity != float("inf") else None}

    @staticmethod
    def _evaluate_group(server: PoprfServer, i: int, group: BlindedGroup, version: str) -> dict[str, Any]:
        """The evaluated elements of ``groups[i]`` and their one proof; 400 naming the group and
        the element's position when one is not a valid blinded element."""
        try:
            evaluated, proof = server.evaluate_batch(group.elements, pseudonym_info(group.kind, version))
        except InvalidElement as exc:
            # "blinded element 3 is the identity element": a position and a rule, no value.
            raise BadRequest(f"groups[{i}]: {exc.description}") from None
        except InvalidOprfInput as exc:
            raise BadRequest(f"groups[{i}]: {exc.description}") from None
        return {"kind": group.kind, "evaluated": [b64url_encode(e) for e in evaluated],
                "proof": b64url_encode(proof)}

    def _take(self, principal: Principal, n: int) -> None:
        """Draw ``n`` from the party's allowance; 429 with the seconds to wait when too few are
        left. More than the whole allowance in one request could never pass: 400 naming the
        allowance and how it is raised, not a 429 a client would wait and retry in vain."""
        own = principal.party.pseudonyms_per_minute
        capacity, _rate = self.limiter.allowance(own)
        if n > capacity:
            whose = "its own" if own is not None else "the hub's default, [pseudonyms] per_minute"
            raise BadRequest(
                f"this request asks for {n} pseudonym evaluations, more than party "
                f"{principal.party.name!r} may have a minute ({int(capacity)}, {whose}): send at most "
                f"{int(capacity)} per request, or ask the hub's operator to raise the party's allowance "
                "(abusehub party edit NAME --pseudonyms-per-minute N)",
                details={"allowance_per_minute": int(capacity), "requested": n})
        wait = self.limiter.take(principal.party.pk, n, own)
        if wait:
            seconds = int(wait) + 1
            raise TooManyRequests(f"too many pseudonym requests: try again in {seconds} s",
                                  details={"retry_after": seconds})

    def check_key_versions(self, obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
        """An ingest check: every pseudonym an IaaS-account extension carries names a key version
        this hub has (of its scheme); a pseudonym under a version that never existed cannot
        correlate with anything and is refused with the reason."""
        from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID

        ext = (obj.get("extensions") or {}).get(IAAS_ACCOUNT_EXTENSION_ID) if isinstance(obj, dict) else None
        if not isinstance(ext, dict):
            return None
        found: list[tuple[str, Any]] = [("provider_account_pseudonym", ext.get("provider_account_pseudonym"))]
        if isinstance(ext.get("pseudonyms"), dict):
            found += [(f"pseudonyms.{k}", v) for k, v in ext["pseudonyms"].items()]
        versions = set(self.poprf_keyring().versions)
        for path, value in found:
            parsed = pseudonym_version(value) if isinstance(value, str) else None
            if parsed is None:
                continue  # absent or malformed: the extension's own check says so
            if parsed[1] not in versions:
                return Problem(Code.NOT_A_PSEUDONYM,
                               f"'{path}' is a {parsed[0]} pseudonym under the key version "
                               f"{parsed[1]!r}, which this hub never had (it has "
                               f"{', '.join(sorted(versions))}): it cannot match any report",
                               f"extensions[{IAAS_ACCOUNT_EXTENSION_ID}].{path}")
        return None

    # -- correlation

    @staticmethod
    def check_pseudonyms(pseudonyms: list[str]) -> list[str]:
        """The distinct pseudonyms asked for, in order; 400 naming the first malformed one."""
        if not pseudonyms:
            raise BadRequest("give at least one pseudonym to correlate")
        if len(pseudonyms) > MAX_CORRELATION_PSEUDONYMS:
            raise BadRequest(f"at most {MAX_CORRELATION_PSEUDONYMS} pseudonyms per query")
        for i, p in enumerate(pseudonyms):
            if not isinstance(p, str) or not PSEUDONYM_RE.match(p):
                raise BadRequest(f"pseudonym[{i}] is not a pseudonym {PSEUDONYM_FORMS}")
        return list(dict.fromkeys(pseudonyms))

    def correlate(self, principal: Principal, pseudonyms: list[str]) -> list[Correlation]:
        """The reports mentioning any of ``pseudonyms``, in collections the requester may read,
        through accounts and reports whose markings admit it (the objects it may read)."""
        wanted = self.check_pseudonyms(pseudonyms)
        readable = {c.pk: c for c in self.access.visible_collections(principal) if principal.can_read(c)}
        out = self._correlate(wanted, readable, principal.party.pk)
        self.audit.record_read(principal.party.name, "", endpoint="correlations", count=len(wanted),
                               found=len(out))
        return out

    def correlate_as_operator(self, pseudonyms: list[str], party_name: str | None = None) -> list[Correlation]:
        """The operator's view: every collection, or only those ``party_name`` may read."""
        wanted = self.check_pseudonyms(pseudonyms)
        reader_pk = None  # the operator's view: ids, in every collection
        if party_name is None:
            readable = {c.pk: c for c in self.store.list_collections()}
        else:
            party = self.store.get_party(party_name)
            if party is None:
                raise NotFound(f"no party named {party_name!r}")
            principal = Principal(party, self.store.grants_for(party.pk))
            readable = {c.pk: c for c in self.store.list_collections() if principal.can_read(c)}
            reader_pk = party.pk  # what that party would be shown
        out = self._correlate(wanted, readable, reader_pk)
        self.audit.record("correlate", "", as_party=party_name, count=len(wanted), found=len(out))
        return out

    def _correlate(self, pseudonyms: list[str], readable: dict[int, Collection],
                   reader_pk: int | None = None) -> list[Correlation]:
        """Correlations in the ``readable`` collections; with ``reader_pk``, only through objects
        that party may read (an account or a report hidden from it links nothing for it)."""
        accounts = self.store.find_terms("pseudonym", pseudonyms, readable, reader_pk=reader_pk)
        if not accounts:
            return []
        reports = self.store.find_terms("ref", {a[1] for a in accounts}, readable, reader_pk=reader_pk)
        by_account: dict[str, list[tuple[int, str]]] = {}
        for cpk, report_id, account_id in reports:
            if report_id.startswith("report--"):
                by_account.setdefault(account_id, []).append((cpk, report_id))
        out = {Correlation(pseudonym, readable[rcpk].id, account_id, report_id)
               for _cpk, account_id, pseudonym in accounts
               for rcpk, report_id in by_account.get(account_id, [])}
        return sorted(out, key=lambda c: (c.pseudonym, c.collection, c.report))
