"""Pseudonyms of personal values, and the correlation view over them.

The keyring lives in the hub home (``pseudonym-keys.json``, mode 0600). It is created by
``abusehub init`` and at server start, or on first use: atomically and first writer wins, so
that several server processes starting together agree on one first key (each writes a private
temporary file and hard-links it into place; a process that finds the name taken reads the
winner's file instead). ``abusehub pseudonym rotate`` adds a key version and makes it current;
every process re-reads the file when it changes. Older versions stay, so a value pseudonymised
before a rotation is still found through ``all_versions``.

Raw values are taken, normalised, turned into HMAC-SHA256 pseudonyms and forgotten: never
stored, logged or echoed. Errors name the item (``values[2]``) and the rule, not the value.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from hub.errors import BadRequest, ConfigError, NotFound, TooManyRequests
from hub.files import fsync_directory
from hub.pseudonym import PSEUDONYM_KINDS, InvalidPersonalValue, PseudonymKeyring, generate_secret, normalise
from hub.services.access import AccessService
from hub.services.audit import AuditService
from hub.services.auth import Principal
from hub.stix.extensions import PSEUDONYM_RE
from hub.store.base import Store
from hub.store.records import Collection

KEYRING_FILE = "pseudonym-keys.json"
_LOCK_FILE = "pseudonym-keys.lock"
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


def _write_temp(folder: Path, data: dict[str, Any]) -> str:
    """A new private (0600) file in ``folder`` holding ``data``, flushed to disk; its path."""
    fd, tmp = tempfile.mkstemp(prefix=".pseudonym-keys.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def create_keyring_file(path: Path) -> bool:
    """Create the keyring file with a fresh first key unless it exists; True if this call made it.

    First writer wins: the complete file is hard-linked into place, which fails if the name is
    taken, so concurrent creators never replace each other's key and nobody reads half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path.parent, {"current": "k1", "keys": {"k1": generate_secret().hex()}})
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False
    finally:
        os.unlink(tmp)
    if created:
        fsync_directory(path.parent)
    return created


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
        self.path = home / KEYRING_FILE
        self.default_region = default_region or None
        self.limiter = RateLimiter(per_minute)
        self._keyring: PseudonymKeyring | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    # -- the keyring

    def ensure_keyring(self) -> bool:
        """Create the keyring file if there is none (first writer wins); True if created here."""
        if self.path.exists():
            return False
        created = create_keyring_file(self.path)
        if created:
            self.audit.record("pseudonym.key.create", "", version="k1")  # never the key
        return created

    def keyring(self) -> PseudonymKeyring:
        """The current keyring (created on first use; re-read when rotated by another process)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.ensure_keyring()
            st = os.stat(self.path)
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._keyring is None or stamp != self._stamp:
                self._keyring = self._load()
                self._stamp = stamp
            return self._keyring

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("keys"), dict) \
                    or not isinstance(data.get("current"), str):
                raise ValueError("expected {\"current\": version, \"keys\": {version: hex}}")
            return data
        except (OSError, ValueError) as exc:
            # json's messages give a position, never the document: no key material here.
            raise ConfigError(f"pseudonym keyring {self.path} cannot be read: {exc}") from None

    def _load(self) -> PseudonymKeyring:
        data = self._read()
        try:
            return PseudonymKeyring.from_secrets(data["keys"], data["current"],
                                                 default_region=self.default_region)
        except ValueError as exc:  # messages name the version, never the secret
            raise ConfigError(f"pseudonym keyring {self.path}: {exc}") from None

    def rotate(self) -> tuple[str, list[str]]:
        """Add a key version and make it current; returns it and every version (current first).

        Older versions stay for matching. Serialised with other rotations by a lock file; the
        new file replaces the old one atomically, so servers see either the old or the new.
        """
        import fcntl

        self.ensure_keyring()
        with open(self.path.parent / _LOCK_FILE, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            data = self._read()
            n = len(data["keys"]) + 1
            while f"k{n}" in data["keys"]:
                n += 1
            version = f"k{n}"
            data["keys"][version] = generate_secret().hex()
            data["current"] = version
            tmp = _write_temp(self.path.parent, data)
            os.replace(tmp, self.path)
            fsync_directory(self.path.parent)
        with self._lock:
            self._keyring = None
        versions = list(self.keyring().versions)
        self.audit.record("pseudonym.key.rotate", "", version=version, versions=versions)
        return version, versions

    # -- making pseudonyms

    def _make(self, ring: PseudonymKeyring, kind: str, value: str, label: str) -> dict[str, Any]:
        try:
            text = normalise(kind, value, default_region=self.default_region)
        except InvalidPersonalValue as exc:
            raise BadRequest(f"{label}: {exc.description}") from None
        # Normalised once; the current version comes first in all_versions.
        every = ring.pseudonyms_all_versions(kind, text)
        return {"kind": kind, "pseudonym": every[0], "all_versions": every}

    def make(self, kind: str, values: Iterable[str], labels: Iterable[str]) -> list[dict[str, Any]]:
        """Pseudonyms of ``values`` of one kind for the operator (no rate limit).

        ``labels`` name each value in error messages (e.g. ``line 3``).
        """
        if kind not in PSEUDONYM_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(PSEUDONYM_KINDS)}")
        ring = self.keyring()
        return [self._make(ring, kind, v, label) for v, label in zip(values, labels)]

    def pseudonymise(self, principal: Principal, values: Any) -> dict[str, Any]:
        """Pseudonyms for ``[{"kind": …, "value": …}, …]`` in request order; rate-limited per party."""
        if not isinstance(values, list) or not values:
            raise BadRequest("'values' must be a non-empty list of {\"kind\", \"value\"} objects")
        if len(values) > MAX_VALUES_PER_REQUEST:
            raise BadRequest(f"at most {MAX_VALUES_PER_REQUEST} values per request")
        for i, item in enumerate(values):
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str) \
                    or not isinstance(item.get("value"), str) or set(item) - {"kind", "value"}:
                raise BadRequest(f"values[{i}] must be an object with exactly the string members "
                                 "'kind' and 'value'")
            if item["kind"] not in PSEUDONYM_KINDS:
                # The kind is not echoed either: a value pasted into it would be.
                raise BadRequest(f"values[{i}].kind must be one of {', '.join(PSEUDONYM_KINDS)}")
        if len(values) > self.limiter.capacity:
            raise BadRequest(f"this hub pseudonymises at most {int(self.limiter.capacity)} values "
                             "per minute and party: send fewer per request")
        wait = self.limiter.take(principal.party.pk, len(values))
        if wait:
            seconds = int(wait) + 1
            raise TooManyRequests(f"too many pseudonym requests: try again in {seconds} s",
                                  details={"retry_after": seconds})
        ring = self.keyring()
        out = [self._make(ring, item["kind"], item["value"], f"values[{i}] ({item['kind']})")
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
