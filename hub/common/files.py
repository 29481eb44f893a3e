"""File writes that a crash cannot leave half done, and files only their owner can read.

Shared by the hub (its signing key, the pseudonym keyring) and the parties' tools (poll
cursors, blocklists).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable (POSIX; a no-op where folders cannot be
    opened)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_temp(folder: Path, data: bytes, prefix: str = ".tmp.") -> Path:
    """A new private (0600) file in ``folder`` holding ``data``, flushed to disk; its path."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically: a reader, or a crash, sees the old content or
    the new, never a mixture. Raises :class:`OSError` (the temporary file is removed)."""
    tmp = write_temp(path.parent, data, prefix=f".{path.name}.")
    try:
        if mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_directory(path.parent)


def create_once(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data`` unless it exists; True if this call made it.

    First writer wins: the complete file is hard-linked into place, which fails if the name is
    taken, so concurrent creators never replace each other's content and nobody reads half a
    file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path.parent, data, prefix=f".{path.name}.")
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


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner only (created 0600, never wider); refuses to
    replace an existing file (:class:`FileExistsError`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
