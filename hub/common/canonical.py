"""RFC 8785 (JSON Canonicalization Scheme) and base64url: the encodings that signatures and the
audit chain rest on."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
import rfc8785

from hub.common.errors import Unprocessable

# RFC 4648 section 5 alphabet; JWS and JWK use it without padding (RFC 7515 section 2).
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")

# Integers that RFC 8785 writes exactly as Python does (I-JSON: exact as IEEE 754 doubles).
_MAX_SAFE_INT = 2**53 - 1


class CanonicalizationError(Unprocessable, ValueError):
    """A value has no RFC 8785 canonical form (non-finite float, integer beyond 2**53, ...)."""

    title = "No canonical form"


def _plain(value: Any) -> bool:
    """True if ``value`` holds only what orjson writes as RFC 8785 does.

    That is: strings (both escape only '"', '\\' and U+0000-U+001F, with the same short forms
    and lower-case ``\\u00xx``), booleans, null, safe integers, and objects whose keys are ASCII
    (so that code-point order is UTF-16 order, RFC 8785's). Floats, big integers and non-ASCII
    keys are left to the rfc8785 package.
    """
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if t is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _plain(item):
                return False
        return True
    if t is list or t is tuple:
        for item in value:
            if not _plain(item):
                return False
        return True
    return False


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises :class:`CanonicalizationError` for values JCS cannot represent: NaN and infinities,
    integers outside the I-JSON range (RFC 8785 section 3.2.2.3 serialises numbers as IEEE 754
    doubles, so larger integers would silently change), non-string keys, non-JSON types, and
    values nested too deeply to walk.

    STIX objects hold strings, integers and lists almost only; for those, orjson with sorted
    keys writes the canonical form (compact, UTF-8, the same escapes) in about 15 us, the check
    included, where the pure-Python ``rfc8785`` package takes about 120 us; the package handles
    everything else (floats, non-ASCII keys, errors). The tests hold the two to the same bytes.
    """
    try:
        if _plain(obj):
            try:
                return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
            except orjson.JSONEncodeError:  # lone surrogates, nesting orjson refuses
                pass
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(f"no RFC 8785 canonical form: {exc}") from None
    except RecursionError:
        raise CanonicalizationError("no RFC 8785 canonical form: nested too deeply") from None


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode strict base64url without padding.

    Raises :class:`ValueError` whose message is a predicate ("is not base64url: ...") to be
    prefixed with the name of the value, if ``text`` uses another alphabet, carries ``=``
    padding, has an impossible length, or is not the one canonical encoding of its bytes
    (non-zero unused bits), so that one value has exactly one spelling.
    """
    if not _B64URL_RE.match(text):
        if "=" in text:
            raise ValueError("is not base64url: it carries '=' padding (write it without)")
        if "+" in text or "/" in text:
            raise ValueError("is not base64url: it uses '+' or '/' of plain base64 "
                             "(base64url uses '-' and '_')")
        raise ValueError("is not base64url: it has characters outside A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise ValueError(f"is not base64url: {len(text)} characters is an impossible length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the checks above exclude this
        raise ValueError("is not base64url") from None
    if b64url_encode(data) != text:
        raise ValueError("is not canonical base64url: the unused trailing bits are not zero")
    return data
