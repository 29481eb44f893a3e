"""The pseudonym keyring's file in the hub home: created once, re-read when rotated.

``pseudonym-keys.json`` (mode 0600) holds ``{"current": version, "keys": {version: hex}}``. It is
created atomically and first writer wins, so that several server processes starting together
agree on one first key (:func:`hub.common.files.create_once`). A rotation adds a version and
makes it current, serialised with other rotations by a lock file and written atomically; every
process re-reads the file when it changes. Older versions stay, so a value pseudonymised before
a rotation is still found under ``all_versions``. No message holds key material.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from hub.common.errors import ConfigError
from hub.common.files import atomic_write, create_once
from hub.pseudonyms.keyring import PseudonymKeyring, generate_secret

__all__ = ["KEYRING_FILE", "KeyringFile", "create_keyring_file"]

KEYRING_FILE = "pseudonym-keys.json"
_LOCK_FILE = "pseudonym-keys.lock"


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode("utf-8")


def create_keyring_file(path: Path) -> bool:
    """Create the keyring file with a fresh first key unless it exists; True if this call made it."""
    return create_once(path, _encode({"current": "k1", "keys": {"k1": generate_secret().hex()}}))


class KeyringFile:
    """The keyring at ``path``, loaded on demand and re-read whenever the file changes."""

    def __init__(self, path: Path, default_region: str | None = None) -> None:
        self.path = path
        self.default_region = default_region or None
        self._keyring: PseudonymKeyring | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def create(self) -> bool:
        """Create the file if there is none (first writer wins); True if created here."""
        if self.path.exists():
            return False
        return create_keyring_file(self.path)

    def keyring(self) -> PseudonymKeyring:
        """The current keyring (the file is created on first use; re-read when rotated by
        another process)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.create()
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

        self.create()
        with open(self.path.parent / _LOCK_FILE, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            data = self._read()
            n = len(data["keys"]) + 1
            while f"k{n}" in data["keys"]:
                n += 1
            version = f"k{n}"
            data["keys"][version] = generate_secret().hex()
            data["current"] = version
            atomic_write(self.path, _encode(data))
        with self._lock:
            self._keyring = None
        return version, list(self.keyring().versions)
