"""Keyed pseudonyms: HMAC-SHA256 of a normalised personal value under a versioned hub secret.

What is shared is ``hmac-sha256:<key version>:<hex>``, the HMAC-SHA256 of
``kind + "\\x00" + normalise(kind, value)`` under a secret key of the hub. Two providers
defrauded with the same card therefore publish the same pseudonym, while nobody without the key
can test a guess against it. Nothing here puts a key or a raw value into a message or a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from hub.pseudonyms.kinds import HMAC_PSEUDONYM_RE
from hub.pseudonyms.normalise import normalise

__all__ = ["PseudonymKeyring", "Pseudonymiser", "generate_secret"]

# Same alphabet as PSEUDONYM_RE's version part.
_VERSION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_MIN_KEY_BYTES = 16


class Pseudonymiser(Protocol):
    """Anything that turns a personal value into a pseudonym (a :class:`PseudonymKeyring`)."""

    def pseudonym(self, kind: str, value: str) -> str:  # pragma: no cover - protocol
        ...


def generate_secret() -> bytes:
    """Return a new random 32-byte pseudonym key (``secrets.token_bytes``)."""
    return secrets.token_bytes(32)


class PseudonymKeyring:
    """The hub's pseudonym keys by version, and the version new pseudonyms are made with.

    Keys are rotated by adding a version and making it current; older versions stay so that
    :meth:`pseudonyms_all_versions` can match values reported before the rotation. The repr never
    shows key material.
    """

    __slots__ = ("_keys", "_current", "_default_region")

    def __init__(
        self,
        keys: Mapping[str, bytes],
        current: str,
        *,
        default_region: str | None = None,
    ) -> None:
        if not keys:
            raise ValueError("a pseudonym keyring needs at least one key")
        checked: dict[str, bytes] = {}
        for version, key in keys.items():
            if not isinstance(version, str) or not _VERSION_RE.match(version):
                raise ValueError(
                    f"pseudonym key version {version!r} must be 1-32 characters of "
                    "letters, digits, '_', '.', '-'"
                )
            if not isinstance(key, (bytes, bytearray)):
                raise ValueError(f"pseudonym key {version!r} must be bytes")
            if len(key) < _MIN_KEY_BYTES:
                raise ValueError(
                    f"pseudonym key {version!r} is too short: at least {_MIN_KEY_BYTES} bytes "
                    "(32 recommended, see generate_secret())"
                )
            checked[version] = bytes(key)
        if current not in checked:
            raise ValueError(f"current pseudonym key version {current!r} is not in the keyring")
        self._keys = checked
        self._current = current
        self._default_region = default_region

    @classmethod
    def from_secrets(
        cls,
        secrets_by_version: Mapping[str, str | bytes],
        current: str | None = None,
        *,
        default_region: str | None = None,
    ) -> PseudonymKeyring:
        """Build a keyring from configuration: each secret is bytes or a hex string.

        ``current`` may be left out when there is exactly one version. Errors name the version,
        never the secret.
        """
        keys: dict[str, bytes] = {}
        for version, secret in secrets_by_version.items():
            if isinstance(secret, str):
                try:
                    keys[version] = bytes.fromhex(secret.strip())
                except ValueError:
                    raise ValueError(
                        f"pseudonym secret {version!r} is not a hex string"
                    ) from None
            else:
                keys[version] = secret
        if current is None:
            if len(keys) != 1:
                raise ValueError("name the current pseudonym key version (several are configured)")
            current = next(iter(keys))
        return cls(keys, current, default_region=default_region)

    generate_secret = staticmethod(generate_secret)

    @property
    def current_version(self) -> str:
        """The key version new pseudonyms are made with."""
        return self._current

    @property
    def versions(self) -> tuple[str, ...]:
        """All key versions, current first."""
        return (self._current,) + tuple(sorted(v for v in self._keys if v != self._current))

    def _pseudonym(self, version: str, kind: str, normalised: str) -> str:
        message = kind.encode("utf-8") + b"\x00" + normalised.encode("utf-8")
        digest = hmac.new(self._keys[version], message, hashlib.sha256).hexdigest()
        return f"hmac-sha256:{version}:{digest}"

    def _normalise(self, kind: str, value: str) -> str:
        return normalise(kind, value, default_region=self._default_region)

    def pseudonym(self, kind: str, value: str) -> str:
        """The pseudonym of a personal value under the current key version."""
        result = self._pseudonym(self._current, kind, self._normalise(kind, value))
        assert HMAC_PSEUDONYM_RE.match(result)
        return result

    def pseudonyms_all_versions(self, kind: str, value: str) -> list[str]:
        """The value's pseudonym under every key version (current first), for matching."""
        normalised = self._normalise(kind, value)
        return [self._pseudonym(v, kind, normalised) for v in self.versions]

    def matches(self, pseudonym: str, kind: str, value: str) -> bool:
        """True if ``pseudonym`` is the pseudonym of ``value`` under one of the keyring's versions."""
        if not HMAC_PSEUDONYM_RE.match(pseudonym):
            return False
        version = pseudonym.split(":", 2)[1]
        if version not in self._keys:
            return False
        expected = self._pseudonym(version, kind, self._normalise(kind, value))
        return hmac.compare_digest(expected, pseudonym)

    def __repr__(self) -> str:
        return f"PseudonymKeyring(versions={list(self.versions)!r}, current={self._current!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        # Keys must not travel by accident (pickling into a cache, a task queue, a log).
        raise TypeError("a PseudonymKeyring cannot be pickled")
