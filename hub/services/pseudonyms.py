"""Pseudonyms for parties (rate-limited), the keyring's lifecycle (audited), and the
correlation view over pseudonyms.

The keyring itself, its file and its rotation live in :mod:`hub.pseudonyms`; this service adds
what the hub decides: who may ask for how many values, what the audit trail records (never a key
or a value), and which reports a party may see linked.

Raw values are taken, normalised, turned into HMAC-SHA256 pseudonyms and forgotten: never
stored, logged or echoed. Errors name the item (``values[2]``) and the rule, not the value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.common.errors import BadRequest, NotFound, TooManyRequests
from hub.pseudonyms import (
    KEYRING_FILE,
    PSEUDONYM_KINDS,
    PSEUDONYM_RE,
    InvalidPersonalValue,
    KeyringFile,
    PseudonymKeyring,
    normalise,
    scoped_account_value,
)
from hub.services.access import AccessService
from hub.services.audit import AuditService
from hub.services.auth import Principal
from hub.store.base import Store
from hub.store.records import Collection

#: At most this many values per POST.
MAX_VALUES_PER_REQUEST = 100
#: At most this many pseudonyms per correlation query: 40 of them, repeated as ``pseudonym=``
#: parameters, keep the GET request line under gunicorn's 4 KiB limit.
MAX_CORRELATION_PSEUDONYMS = 40


class RateLimiter:
    """A token bucket per party: ``per_minute`` values, refilled continuously (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, party_pk: int, n: int) -> float:
        """Take ``n`` tokens; returns 0, or the seconds to wait when there are too few.

        Nothing is taken when there are too few: a refused request costs the party nothing.
        """
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(party_pk, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < n:
                self._buckets[party_pk] = (tokens, now)
                return (n - tokens) / self.rate
            self._buckets[party_pk] = (tokens - n, now)
            return 0.0


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
        self.limiter = RateLimiter(per_minute)

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

    def rotate(self) -> tuple[str, list[str]]:
        """Add a key version and make it current; returns it and every version (current first).
        Older versions stay for matching."""
        self.ensure_keyring()
        version, versions = self.keyfile.rotate()
        self.audit.record("pseudonym.key.rotate", "", version=version, versions=versions)
        return version, versions

    # -- making pseudonyms

    def _make(self, ring: PseudonymKeyring, kind: str, value: str, label: str,
              provider: str | None = None) -> dict[str, Any]:
        try:
            if kind == "provider_account":
                # Account ids are unique within one provider only: the pseudonym is of
                # "<provider identity>/<account id>", exactly what a report carries.
                value = scoped_account_value(value, provider)
            text = normalise(kind, value, default_region=self.default_region)
        except InvalidPersonalValue as exc:
            raise BadRequest(f"{label}: {exc.description}") from None
        except ValueError as exc:
            raise BadRequest(f"{label}: {exc}") from None
        # Normalised once; the current version comes first in all_versions.
        every = ring.pseudonyms_all_versions(kind, text)
        return {"kind": kind, "pseudonym": every[0], "all_versions": every}

    def make(self, kind: str, values: Iterable[str], labels: Iterable[str],
             provider: str | None = None) -> list[dict[str, Any]]:
        """Pseudonyms of ``values`` of one kind for the operator (no rate limit).

        ``labels`` name each value in error messages (e.g. ``line 3``). For the kind
        ``provider_account``, ``provider`` is the identity id, or the name in this hub, of the
        provider whose account ids ``values`` are (without it, each value must be written
        ``<identity id>/<account id>``).
        """
        if kind not in PSEUDONYM_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(PSEUDONYM_KINDS)}")
        if provider is not None and kind != "provider_account":
            raise BadRequest("a provider is given only for the kind provider_account")
        if provider is not None and not provider.startswith("identity--"):
            party = self.store.get_party(provider)
            if party is None:
                raise NotFound(f"no party named {provider!r}")
            provider = party.identity_id
        ring = self.keyring()
        return [self._make(ring, kind, v, label, provider) for v, label in zip(values, labels, strict=True)]

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
        if len(values) > self.limiter.capacity:
            raise BadRequest(f"this hub pseudonymises at most {int(self.limiter.capacity)} values "
                             "per minute and party: send fewer per request")
        wait = self.limiter.take(principal.party.pk, len(values))
        if wait:
            seconds = int(wait) + 1
            raise TooManyRequests(f"too many pseudonym requests: try again in {seconds} s",
                                  details={"retry_after": seconds})
        ring = self.keyring()
        out = [self._make(ring, item["kind"], item["value"], f"values[{i}] ({item['kind']})",
                          item.get("provider"))
               for i, item in enumerate(values)]
        self.audit.record_read(principal.party.name, "", endpoint="pseudonyms", count=len(out),
                               kinds=sorted({item["kind"] for item in values}))
        return {"key_version": ring.current_version, "pseudonyms": out}

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
                raise BadRequest(f"pseudonym[{i}] is not a pseudonym "
                                 "'hmac-sha256:<key version>:<64 lower-case hex digits>'")
        return list(dict.fromkeys(pseudonyms))

    def correlate(self, principal: Principal, pseudonyms: list[str]) -> list[Correlation]:
        """The reports mentioning any of ``pseudonyms``, in collections the requester may read."""
        wanted = self.check_pseudonyms(pseudonyms)
        readable = {c.pk: c for c in self.access.visible_collections(principal) if principal.can_read(c)}
        out = self._correlate(wanted, readable)
        self.audit.record_read(principal.party.name, "", endpoint="correlations", count=len(wanted),
                               found=len(out))
        return out

    def correlate_as_operator(self, pseudonyms: list[str], party_name: str | None = None) -> list[Correlation]:
        """The operator's view: every collection, or only those ``party_name`` may read."""
        wanted = self.check_pseudonyms(pseudonyms)
        if party_name is None:
            readable = {c.pk: c for c in self.store.list_collections()}
        else:
            party = self.store.get_party(party_name)
            if party is None:
                raise NotFound(f"no party named {party_name!r}")
            principal = Principal(party, self.store.grants_for(party.pk))
            readable = {c.pk: c for c in self.store.list_collections() if principal.can_read(c)}
        out = self._correlate(wanted, readable)
        self.audit.record("correlate", "", as_party=party_name, count=len(wanted), found=len(out))
        return out

    def _correlate(self, pseudonyms: list[str], readable: dict[int, Collection]) -> list[Correlation]:
        accounts = self.store.find_terms("pseudonym", pseudonyms, readable)
        if not accounts:
            return []
        reports = self.store.find_terms("ref", {a[1] for a in accounts}, readable)
        by_account: dict[str, list[tuple[int, str]]] = {}
        for cpk, report_id, account_id in reports:
            if report_id.startswith("report--"):
                by_account.setdefault(account_id, []).append((cpk, report_id))
        out = {Correlation(pseudonym, readable[rcpk].id, account_id, report_id)
               for _cpk, account_id, pseudonym in accounts
               for rcpk, report_id in by_account.get(account_id, [])}
        return sorted(out, key=lambda c: (c.pseudonym, c.collection, c.report))
