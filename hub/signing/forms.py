"""The signed form of an object under each version of the signature scheme (docs/SIGNING.md).

Version 1 signs the RFC 8785 form of the object as it stands. That survives any JSON
re-serialisation, but not a STIX library: stix2, for one, parses a timestamp without a precision
constraint (``valid_from``, ``first_seen``, ``published``, ...) into a datetime and writes it
back in its shortest form, so ``2025-03-01T09:30:00.000Z`` comes back as
``2025-03-01T09:30:00Z`` and a signature over the first spelling no longer verifies.

Version 2 therefore applies the *timestamp rule* before RFC 8785: every JSON string value, at any
depth, that is entirely a STIX timestamp (STIX 2.1 section 3.2, the grammar of
:mod:`hub.common.timestamps`) is written with its shortest exact fraction: trailing zeros of the
fraction are removed, and the ``.`` too if no digit is left. Nothing else changes: member names,
numbers, and strings that merely contain a timestamp are left as they are.

Why the shortest exact fraction rather than, say, always six digits: it loses nothing (two
spellings give the same signed form only if they name the same instant to every digit written,
whatever the number of digits, which STIX does not bound), it needs no date arithmetic (two string
operations after one regular expression, in any language), and it is what stix2 itself writes for
unconstrained timestamps.
"""

from __future__ import annotations

import re
from typing import Any

from hub.common.canonical import canonicalize

#: The versions of the scheme this library signs and verifies; new signatures use the last.
SIGNATURE_VERSIONS: tuple[int, ...] = (1, 2)
#: The version of new signatures.
SIGNATURE_VERSION = SIGNATURE_VERSIONS[-1]

# STIX 2.1 section 3.2: YYYY-MM-DDTHH:mm:ss[.s+]Z, UTC, ASCII digits. Used with fullmatch, so
# that (unlike "$" in a Python pattern) a trailing newline does not match, as in ECMAScript.
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")
# The shortest string the rule can change: a one-digit fraction "0", e.g. "...:00.0Z".
_MIN_CHANGED_LEN = len("0000-00-00T00:00:00.0Z")


def canonical_timestamp(text: str) -> str:
    """Apply the timestamp rule to one string: the shortest exact form if it is a STIX timestamp.

    ``"2025-03-01T09:30:00.000Z"`` gives ``"2025-03-01T09:30:00Z"``, ``"...:00.120Z"`` gives
    ``"...:00.12Z"``; a string that is not entirely a timestamp comes back unchanged (the same
    object). The rule is purely lexical: no calendar check, no time zone arithmetic.
    """
    # Only a fraction ending in "0" changes; cheap tests first, the pattern last.
    if len(text) < _MIN_CHANGED_LEN or text[-1] != "Z" or text[-2] != "0":
        return text
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None or match.group(1) is None:  # no fraction: "...:00Z" stays as it is
        return text
    head = text[:-1].rstrip("0")  # stops at the "." at the latest
    return (head[:-1] if head.endswith(".") else head) + "Z"


def canonical_timestamps(value: Any) -> Any:
    """Apply the timestamp rule to every string value inside a JSON value (not to member names).

    Returns ``value`` itself when nothing changes; otherwise new dicts and lists along the paths
    that change, sharing everything else with ``value`` (which is never modified). Tuples are
    read as lists.
    """
    if isinstance(value, str):
        return canonical_timestamp(value)
    if isinstance(value, (dict, list, tuple)):
        return _walk(value)
    return value


def _walk(value: Any) -> Any:
    # This runs on every object signed or verified, so it is written for speed: numbers and
    # strings that cannot change (all but those ending in "0Z") are passed over without a call
    # or a pattern, and a container is copied only once something in it changes.
    items = value.items() if isinstance(value, dict) else enumerate(value)
    changed: Any = None
    for key, item in items:
        kind = type(item)
        if kind is str:
            if len(item) < _MIN_CHANGED_LEN or item[-2:] != "0Z":
                continue
            new = canonical_timestamp(item)
        elif kind is dict or kind is list or kind is tuple:
            new = _walk(item)
        elif kind is int or kind is bool or kind is float or item is None:
            continue
        else:  # subclasses of str, dict or list
            new = canonical_timestamps(item)
        if new is not item:
            if changed is None:
                changed = dict(value) if isinstance(value, dict) else list(value)
            changed[key] = new
    return value if changed is None else changed


#: The timestamp rule on RFC 8785 bytes: a whole string VALUE that is a STIX timestamp whose
#: fraction ends in "0". The pattern starts with a literal quote (so the engine scans for it
#: fast); :func:`_shortest` then checks that the quote opens a value: in compact JSON a quote
#: preceded by ":", "," or "[" (or starting the text) is always an opening delimiter, never one
#: inside a string, and the closing quote of a value is followed by ",", "}" or "]" (a member
#: name is followed by ":"). Group 1 is all before the fraction, group 2 the "." and the digits
#: to keep.
_SIGNED_TIMESTAMP_RE = re.compile(
    rb'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]*?)0+Z"(?=[,}\]]|\Z)')
_OPENS_VALUE = frozenset(b":,[")


def _shortest(match: re.Match[bytes]) -> bytes:
    start = match.start()
    if start and match.string[start - 1] not in _OPENS_VALUE:
        return match.group(0)
    fraction = match.group(2)
    return b'"' + match.group(1) + (fraction if len(fraction) > 1 else b"") + b'Z"'


def signed_form(obj: Any, version: int) -> bytes:
    """The bytes a signature of ``version`` covers, given the object already prepared for it.

    ``obj`` is the object whose ``signatures`` list holds only the entry being signed or checked,
    without its ``value`` (:func:`hub.signing.signatures.signing_input` prepares it). Raises
    :class:`CanonicalizationError` if it has no RFC 8785 form, :class:`ValueError` for a version
    not in :data:`SIGNATURE_VERSIONS` (callers check versions before).

    Version 2 applies the timestamp rule to the canonical bytes in one pass, which gives exactly
    ``canonicalize(canonical_timestamps(obj))`` (the rule changes no member name and no order:
    RFC 8785 sorts by member names only) without walking the object in Python; the tests hold
    the two to the same bytes.
    """
    if version == 1:
        return canonicalize(obj)
    if version == 2:
        return _SIGNED_TIMESTAMP_RE.sub(_shortest, canonicalize(obj))
    raise ValueError(f"unknown signature version {version!r}")
