"""Checking the signatures of polled objects, and remembering the ones that failed.

Signatures are checked against the JWK set a hub publishes at ``GET <api root>keys/`` (public,
fetched without the token through :class:`~hub.client.taxii.TaxiiClient`) or a JWK set saved in
a file, with the same trust rules as ``abusehub verify``
(:func:`hub.signing.documents.verify_objects`).

Three modes:

- ``auto`` (the default): objects that carry signatures are verified; unsigned objects are
  counted as unsigned. The keys are fetched only once a signed object arrives, so polling a
  TAXII server that signs nothing needs no keys.
- ``require`` (``--verify``): every object must carry a signature that verifies; an unsigned
  object FAILS. Use it on collections whose policy requires signatures, so that a stripped
  signature is caught, not counted as "unsigned".
- ``off`` (``--no-verify``): nothing is checked.

Objects whose signatures fail are still written (the output mirrors the collection), and each
failure is appended to ``FILE.jsonl.failed`` (JSON lines: ``id``, ``version``, ``reason``), which
``abusehub export blocklist`` reads to leave those object versions out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from hub.client.errors import ClientError
from hub.signing import (
    SIGNATURE_EXTENSION_ID,
    KeyFormatError,
    KeySet,
    SignatureFormatError,
    signatures_of,
)
from hub.signing.documents import verify_objects

if TYPE_CHECKING:  # the HTTP layer is imported when keys are fetched: a key file needs none
    import httpx

    from hub.client.taxii import TaxiiClient

__all__ = [
    "FAILED_SUFFIX",
    "POLL_KEYS_HINT",
    "Failure",
    "KeySource",
    "ObjectVerifier",
    "Tally",
    "VerifyMode",
    "append_failures",
    "failed_path",
    "read_failures",
    "version_of",
]

VerifyMode = Literal["auto", "require", "off"]

#: ``FILE.jsonl`` -> ``FILE.jsonl.failed``: the object versions whose signatures failed.
FAILED_SUFFIX = ".failed"

#: What a failed key fetch suggests while polling.
POLL_KEYS_HINT = "give --keys FILE (a saved JWK set), or --no-verify"


@dataclass(frozen=True)
class Failure:
    """One object version whose signature check failed, and why."""

    id: str
    version: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "reason": self.reason}


@dataclass
class Tally:
    """What the signature checks of one run found."""

    verified: int = 0
    unsigned: int = 0
    not_checked: int = 0
    failed: list[Failure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "unsigned": self.unsigned,
                "not_checked": self.not_checked, "failed": [f.to_json() for f in self.failed]}


def version_of(obj: dict[str, Any]) -> str | None:
    """An object's version as TAXII names it: ``modified``, else ``created``, else none."""
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return None


class KeySource:
    """The JWK set to verify with: a file (read once) or a URL (fetched on first need).

    A URL is fetched through ``client`` (its transport; never with its token), or, without a
    client, over the network (``transport`` to choose another). A key set fetched from a URL
    may be refreshed once per run, when a signature names a key it does not hold (a party
    registered a new key while the poll was running). ``hint`` ends the message of a failed
    fetch, saying what else the person can do.
    """

    def __init__(self, location: str, client: TaxiiClient | None = None, *,
                 transport: httpx.BaseTransport | None = None, hint: str = POLL_KEYS_HINT) -> None:
        self.location = location
        self.is_url = location.startswith(("http://", "https://"))
        self.client = client
        self.transport = transport
        self.hint = hint
        self._keys: KeySet | None = None
        self._refreshed = False

    def get(self) -> KeySet:
        """The key set, loaded on the first call."""
        if self._keys is None:
            self._keys = self._load()
        return self._keys

    def refresh(self) -> KeySet | None:
        """Fetch the key set again (once per run, URLs only); None when that is not possible."""
        if not self.is_url or self._refreshed:
            return None
        self._refreshed = True
        self._keys = self._load()
        return self._keys

    def _load(self) -> KeySet:
        if self.is_url:
            data = self._fetch()
        else:
            try:
                data = orjson.loads(Path(self.location).read_bytes())
            except OSError as exc:
                raise ClientError(f"cannot read the key set {self.location}: {exc.strerror}") from None
            except orjson.JSONDecodeError:
                raise ClientError(f"the key set {self.location} is not JSON (expected a JWK set "
                                  'with a "keys" list)') from None
        try:
            return KeySet.from_jwks(data)
        except KeyFormatError as exc:
            raise ClientError(f"the key set {self.location} is not usable: {exc}") from None

    def _fetch(self) -> Any:
        try:
            if self.client is not None:
                return self.client.key_set(self.location)
            from hub.client.taxii import fetch_key_set

            return fetch_key_set(self.location, transport=self.transport)
        except ClientError as exc:
            suffix = f"; {self.hint}" if self.hint else ""
            raise ClientError(exc.description + suffix) from None


def _carries_signatures(obj: dict[str, Any]) -> bool:
    extensions = obj.get("extensions")
    return isinstance(extensions, dict) and SIGNATURE_EXTENSION_ID in extensions


class ObjectVerifier:
    """Checks the objects of each page as they arrive and keeps the :class:`Tally`."""

    def __init__(self, mode: VerifyMode, keys: KeySource | None,
                 clock_us: Callable[[], int] = lambda: time.time_ns() // 1000) -> None:
        if mode != "off" and keys is None:
            raise ValueError("verifying needs a key source")
        self.mode = mode
        self.keys = keys
        self.clock_us = clock_us
        self.tally = Tally()

    def prepare(self) -> None:
        """Load the keys now if every object will need them (``require`` mode): fail early."""
        if self.mode == "require" and self.keys is not None:
            self.keys.get()

    def check(self, objects: list[dict[str, Any]]) -> list[Failure]:
        """Check one page; returns its failures (also added to the tally)."""
        if self.mode == "off":
            self.tally.not_checked += len(objects)
            return []
        assert self.keys is not None
        to_verify = [o for o in objects if self.mode == "require" or _carries_signatures(o)]
        self.tally.unsigned += len(objects) - len(to_verify)
        if not to_verify:
            return []
        keyset = self.keys.get()
        if _unknown_key(to_verify, keyset):
            keyset = self.keys.refresh() or keyset
        now = self.clock_us()
        failures = []
        for obj in to_verify:
            verdicts = verify_objects([obj], keyset, now)
            if not verdicts:  # a shared definition (marking, extension): nobody signs those
                self.tally.unsigned += 1
            elif verdicts[0].ok:
                self.tally.verified += 1
            else:
                failures.append(Failure(verdicts[0].id, version_of(obj), verdicts[0].reason))
        self.tally.failed.extend(failures)
        return failures


def _unknown_key(objects: Iterable[dict[str, Any]], keyset: KeySet) -> bool:
    for obj in objects:
        try:
            entries = signatures_of(obj)
        except SignatureFormatError:
            continue
        if any(e.key_id not in keyset.keys for e in entries):
            return True
    return False


def failed_path(out: Path) -> Path:
    """``FILE.jsonl`` -> ``FILE.jsonl.failed``."""
    return out.with_name(out.name + FAILED_SUFFIX)


def append_failures(path: Path, failures: list[Failure]) -> None:
    """Append failures as JSON lines and make them durable before the page itself is written.

    A crash between this and the cursor update repeats the page on the next run, so a failure
    may be listed twice; readers take the set.
    """
    if not failures:
        return
    data = b"".join(orjson.dumps(f.to_json()) + b"\n" for f in failures)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A crash cut the last record short: drop it (its page is fetched again).
            whole = os.pread(fd, size, 0)
            size = whole.rfind(b"\n") + 1
            os.ftruncate(fd, size)
        os.pwrite(fd, data, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_failures(path: Path) -> set[tuple[str, str | None]]:
    """The ``(id, version)`` pairs listed in a failures file (empty if there is none)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    out: set[tuple[str, str | None]] = set()
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            item = None
        if number == len(lines) and not isinstance(item, dict):
            continue  # a record a crash cut short: its page is fetched (and checked) again
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ClientError(f"{path} line {number}: not a failure record "
                              '({"id": ..., "version": ..., "reason": ...})')
        version = item.get("version")
        out.add((item["id"], version if isinstance(version, str) else None))
    return out
