"""The spools: where a process keeps what it must write to the primary database while the
primary cannot be written to (a hub with standbys goes on serving reads then): the read records
(:class:`ReadSpool`, ``read-spool/``) and the failed authentications the throttle counts
(``auth-spool/``, :class:`hub.services.access.limits.AuthThrottle`).

Each process appends to a file of its own in the spool's folder (``<pid>.jsonl``, one JSON
value per record, flushed and fsync'ed before :meth:`Spool.hold` returns), so a crash loses
none of them. When the primary answers again the audit flush drains the spool first, oldest
file and record first, its own file and those of processes that are gone (a worker that was
replaced), then appends what came since. The spool is bounded: when a process holds
``max_records``, :meth:`Spool.full` is true and the hub refuses reads (503) rather than
lose a record.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson

from hub.store.audit import AuditEntry

__all__ = ["ReadSpool", "Spool"]

T = TypeVar("T")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool(Generic[T]):
    """A bounded, on-disk queue of records (see the module's text); ``encode`` makes a record a
    JSON value and ``decode`` makes it back."""

    def __init__(self, folder: Path, max_records: int, encode: Callable[[T], Any],
                 decode: Callable[[Any], T]) -> None:
        self.folder = folder
        self.max_records = max_records
        self.encode = encode
        self.decode = decode
        self._lock = threading.Lock()
        self._held: int | None = None  # records in this process's own file (counted on first use)

    @property
    def path(self) -> Path:
        return self.folder / f"{os.getpid()}.jsonl"

    @property
    def held(self) -> int:
        """How many records this process holds in its spool file."""
        with self._lock:
            return self._count()

    @property
    def full(self) -> bool:
        return self.held >= self.max_records

    def _count(self) -> int:
        if self._held is None:
            try:
                with self.path.open("rb") as f:
                    self._held = sum(1 for _ in f)
            except FileNotFoundError:
                self._held = 0
        return self._held

    def own(self) -> list[T]:
        """The records this process holds, oldest first."""
        with self._lock:
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return []
        return [self.decode(orjson.loads(line)) for line in data.splitlines() if line]

    def hold(self, entries: list[T]) -> None:
        """Append ``entries`` to this process's file, durably, in order."""
        if not entries:
            return
        lines = b"".join(orjson.dumps(self.encode(e)) + b"\n" for e in entries)
        with self._lock:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, lines)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._held = self._count() + len(entries)

    def drain(self, append: Callable[[list[T]], None]) -> int:
        """Append every held record, a file at a time (``append`` takes the file's records,
        oldest first, in one transaction), and remove each file once appended; how many. Raises
        what ``append`` raises, the file kept. A process that dies between appending a file and
        removing it leaves its records to be appended again: a record is never lost, and at
        worst recorded twice."""
        if not self.folder.is_dir():
            return 0
        done = 0
        with self._lock:
            files = sorted(self.folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
            for path in files:
                pid = int(path.stem) if path.stem.isdigit() else 0
                if pid != os.getpid() and _alive(pid):
                    continue  # another live process drains its own
                entries = [self.decode(orjson.loads(line)) for line in path.read_bytes().splitlines() if line]
                if entries:
                    append(entries)  # one transaction: the whole file or nothing
                path.unlink()
                done += len(entries)
                if pid == os.getpid():
                    self._held = 0
        return done


class ReadSpool(Spool[AuditEntry]):
    """The read records' spool: audit entries, each as ``[kind, party, collection, data, at_us]``."""

    def __init__(self, folder: Path, max_records: int) -> None:
        super().__init__(folder, max_records,
                         lambda e: [e.kind, e.party, e.collection, e.data, e.at_us],
                         lambda v: AuditEntry(v[0], v[1], v[2], v[3], at_us=v[4]))
