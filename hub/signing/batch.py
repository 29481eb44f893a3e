"""Checking many signatures at once, in worker processes beside the caller.

An Ed25519 or ES256 verification holds the interpreter for its whole duration (about a third of
what ingest spends on a signed object), so threads do not spread it over cores: processes do. A
:class:`BatchVerifier` takes a list of ``(key, signature, signed bytes)`` jobs (the caller has
prepared the bytes with :func:`~hub.signing.signatures.signing_input` and chosen the key by its
own policy), splits it into chunks sent to its processes, and answers each job's outcome as
soon as its chunk is back (:class:`Verdicts`), so that the caller goes on with its other work
meanwhile. It only ever says whether a signature verifies; which key may vouch for whom stays
the caller's business, and the caller checks again itself what did not verify (for the
reason it gives).

The processes are started on first use (``spawn``: a fresh interpreter that imports this
package and ``cryptography``, and the calling program's main module as :mod:`multiprocessing`
does, guarded by ``if __name__ == "__main__"`` in the hub's commands; nothing of the caller's
state), and ended by :meth:`close`, or by themselves as soon as the caller has ended, however.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from hub.signing.keys import VerifyKey

__all__ = ["BatchVerifier", "Verdicts", "cores", "default_processes", "spare_core"]

#: Jobs per chunk: small enough that the first verdicts come back while the caller still works
#: on the first objects, large enough that sending a chunk costs little beside verifying it.
CHUNK = 50


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return multiprocessing.cpu_count()


def default_processes() -> int:
    """One process fewer than the cores this process may run on (the caller keeps one), at most
    four; 0 on a single core, where processes would only add their cost."""
    return max(0, min(4, cores() - 1))


def spare_core() -> bool:
    """Whether the machine has a core to spare for verifying processes now: its load over the
    last minute (the caller's own work included) is below its cores less one half. On a machine
    whose cores are all busy, more processes only add the cost of sending them the work."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this system
        return True
    return load < cores() - 0.5


class Verdicts:
    """The outcomes of a batch, by the jobs' positions; each waits for its own chunk only."""

    def __init__(self, chunks: list[Future[list[bool]] | list[bool]], size: int) -> None:
        self._chunks = chunks
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> bool:
        if not 0 <= index < self._size:
            raise IndexError(index)
        chunk = self._chunks[index // CHUNK]
        outcomes = chunk.result() if isinstance(chunk, Future) else chunk
        return outcomes[index % CHUNK]


class BatchVerifier:
    """Verifies signatures in ``processes`` worker processes (0: in the calling thread)."""

    def __init__(self, processes: int) -> None:
        self.processes = max(0, processes)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def verify(self, jobs: Sequence[tuple[VerifyKey, bytes, bytes]]) -> Verdicts:
        """Start verifying each ``(key, signature, signed bytes)``; the verdicts, in job order."""
        chunks: list[Future[list[bool]] | list[bool]] = []
        for start in range(0, len(jobs), CHUNK):
            part = jobs[start:start + CHUNK]
            pool = self._started()
            if pool is None:
                chunks.append([key.verify(signature, data) for key, signature, data in part])
                continue
            keys = {key.key_id: key.to_jwk() for key, _s, _d in part}
            chunks.append(pool.submit(_verify_chunk, keys, [(k.key_id, s, d) for k, s, d in part]))
        return Verdicts(chunks, len(jobs))

    def _started(self) -> ProcessPoolExecutor | None:
        if self.processes == 0:
            return None
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_end_with_parent)
            return self._pool

    def close(self) -> None:
        """End the processes (verdicts not yet back are cancelled)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BatchVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end_with_parent() -> None:
    """In a worker process: end as soon as the process that started it has ended, even killed
    (SIGKILL leaves no time to end the pool), rather than wait forever for work."""
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - a pool's worker always has its parent's sentinel
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


#: In a worker process: keys parsed from their JWK once, by key id.
_KEYS: dict[str, VerifyKey] = {}


def _verify_chunk(jwks: dict[str, dict[str, Any]], jobs: list[tuple[str, bytes, bytes]]) -> list[bool]:
    """In a worker process: whether each ``(key id, signature, signed bytes)`` verifies."""
    out = []
    for key_id, signature, data in jobs:
        key = _KEYS.get(key_id)
        if key is None:
            key = _KEYS[key_id] = VerifyKey.from_jwk(jwks[key_id])
        out.append(key.verify(signature, data))
    return out
