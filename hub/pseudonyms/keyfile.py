"""The pseudonym keyring's file in the hub home: created once, re-read when rotated.

``pseudonym-keys.json`` (mode 0600) holds ``{"current": version, "keys": {version: hex},
"poprf": {version: hex}}``: per key version, the HMAC secret of the ``hmac-sha256:`` pseudonyms
the hub makes from values it sees, and the 32-byte seed of the POPRF key of the oblivious
``poprf-r255:`` pseudonyms (:mod:`hub.pseudonyms.oprf`). The two are made and rotated together,
so their versions stay aligned. A file written before oblivious pseudonyms has no ``"poprf"``
member: the seeds are added on first use, under the rotation lock and atomically. It is
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
from hub.pseudonyms.oprf import InvalidOprfInput, PoprfKeyring

__all__ = ["KEYRING_FILE", "KeyringFile", "create_keyring_file"]

KEYRING_FILE = "pseudonym-keys.json"
_LOCK_FILE = "pseudonym-keys.lock"


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode("utf-8")


def create_keyring_file(path: Path) -> bool:
    """Create the keyring file with a fresh first key unless it exists; True if this call made it."""
    return create_once(path, _encode({"current": "k1", "keys": {"k1": generate_secret().hex()},
                                      "poprf": {"k1": PoprfKeyring.generate_seed().hex()}}))


class KeyringFile:
    """The keyring at ``path``, loaded on demand and re-read whenever the file changes."""

    def __init__(self, path: Path, default_region: str | None = None) -> None:
        self.path = path
        self.default_region = default_region or None
        self._keyring: PseudonymKeyring | None = None
        self._poprf: PoprfKeyring | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def create(self) -> bool:
        """Create the file if there is none (first writer wins); True if created here."""
        if self.path.exists():
            return False
        return create_keyring_file(self.path)

    def keyring(self) -> PseudonymKeyring:
        """The current HMAC keyring (the file is created on first use; re-read when rotated by
        another process)."""
        return self._both()[0]

    def poprf(self) -> PoprfKeyring:
        """The current POPRF keyring, of the same versions as :meth:`keyring` (seeds missing
        from an older file are added first)."""
        return self._both()[1]

    def _both(self) -> tuple[PseudonymKeyring, PoprfKeyring]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.create()
            st = os.stat(self.path)
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._keyring is None or self._poprf is None or stamp != self._stamp:
                data = self._read()
                if set(data.get("poprf") or {}) != set(data["keys"]):
                    data = self._add_poprf_seeds()
                    st = os.stat(self.path)
                    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
                self._keyring, self._poprf = self._load(data)
                self._stamp = stamp
            return self._keyring, self._poprf

    def _add_poprf_seeds(self) -> dict[str, Any]:
        """Give every key version without a POPRF seed a new one (a file from before oblivious
        pseudonyms), under the rotation lock, atomically; the file's new content."""
        import fcntl

        with open(self.path.parent / _LOCK_FILE, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            data = self._read()  # again, under the lock: another process may have done it
            seeds = data.get("poprf") or {}
            missing = [v for v in data["keys"] if v not in seeds]
            if missing:
                for version in missing:
                    seeds[version] = PoprfKeyring.generate_seed().hex()
                data["poprf"] = seeds
                atomic_write(self.path, _encode(data))
            return data

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("keys"), dict) \
                    or not isinstance(data.get("current"), str) \
                    or not isinstance(data.get("poprf", {}), dict):
                raise ValueError("expected {\"current\": version, \"keys\": {version: hex}, "
                                 "\"poprf\": {version: hex}}")
            return data
        except (OSError, ValueError) as exc:
            # json's messages give a position, never the document: no key material here.
            raise ConfigError(f"pseudonym keyring {self.path} cannot be read: {exc}") from None

    def _load(self, data: dict[str, Any]) -> tuple[PseudonymKeyring, PoprfKeyring]:
        try:
            hmac_ring = PseudonymKeyring.from_secrets(data["keys"], data["current"],
                                                      default_region=self.default_region)
        except ValueError as exc:  # messages name the version, never the secret
            raise ConfigError(f"pseudonym keyring {self.path}: {exc}") from None
        try:
            poprf_ring = PoprfKeyring.from_secrets(data["poprf"], data["current"])
        except InvalidOprfInput as exc:  # likewise
            raise ConfigError(f"pseudonym keyring {self.path}: {exc.description}") from None
        return hmac_ring, poprf_ring

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
            # The POPRF seed of the same version, made with it: versions stay aligned.
            seeds = data.setdefault("poprf", {})
            for missing in [v for v in data["keys"] if v not in seeds]:
                seeds[missing] = PoprfKeyring.generate_seed().hex()
            data["current"] = version
            atomic_write(self.path, _encode(data))
        with self._lock:
            self._keyring = self._poprf = None
        return version, list(self.keyring().versions)
