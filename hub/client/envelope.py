"""Reading and writing TAXII envelopes with each object's JSON text exactly as it was sent.

A TAXII 2.1 envelope (section 3.7) holds ``more``, ``next`` and ``objects``. A client that
mirrors or forwards a collection should keep each object's text as the server sent it, not a
re-serialisation: :func:`split_envelope` returns, for each object, the exact slice of the
answer it was parsed from, and :func:`envelope_bytes` builds an envelope by concatenating texts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "ExactObject",
    "envelope_bytes",
    "json_line",
    "split_envelope",
]

_WS = re.compile(r"[ \t\n\r]*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class _NotEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class ExactObject:
    """One STIX object: its JSON ``text`` exactly as sent, and that text parsed (``data``)."""

    text: str
    data: dict[str, Any]

    @property
    def id(self) -> str | None:
        """The object's ``id``, if it has a string one."""
        value = self.data.get("id")
        return value if isinstance(value, str) else None

    @classmethod
    def parse(cls, text: str) -> ExactObject:
        """Wrap one object's JSON text; ``ValueError`` if it is not one JSON object."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({str(exc).split(':')[0]})") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return cls(text, data)


def split_envelope(text: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Parse a TAXII envelope; returns its other members and ``(text, object)`` per object.

    Each object's text is the exact slice of ``text`` it was parsed from. Raises ``ValueError``
    if ``text`` is not one JSON object whose ``objects`` (if present) is a list of objects.
    """
    def skip(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    def expect(i: int, chars: str) -> tuple[str, int]:
        c = text[i:i + 1]
        if not c or c not in chars:
            raise _NotEnvelope(f"expected {' or '.join(repr(ch) for ch in chars)} at character {i}")
        return c, skip(i + 1)

    members: dict[str, Any] = {}
    objects: list[tuple[str, dict[str, Any]]] = []
    has_objects = False
    try:
        _, i = expect(skip(0), "{")
        if text[i:i + 1] == "}":
            i = skip(i + 1)
        else:
            while True:
                if text[i:i + 1] != '"':
                    raise _NotEnvelope(f"expected a member name at character {i}")
                name, i = _DECODER.raw_decode(text, i)
                _, i = expect(skip(i), ":")
                if name == "objects" and text[i:i + 1] == "[":
                    objects = []
                    i = skip(i + 1)
                    if text[i:i + 1] == "]":
                        i = skip(i + 1)
                    else:
                        while True:
                            start = i
                            obj, i = _DECODER.raw_decode(text, i)
                            if not isinstance(obj, dict):
                                raise _NotEnvelope(f"objects[{len(objects)}] is not a JSON object")
                            objects.append((text[start:i], obj))
                            c, i = expect(skip(i), ",]")
                            if c == "]":
                                break
                    has_objects = True
                elif name == "objects":
                    raise _NotEnvelope("'objects' is not a list")
                else:
                    members[name], i = _DECODER.raw_decode(text, i)
                    i = skip(i)
                c, i = expect(skip(i), ",}")
                if c == "}":
                    break
                i = skip(i)
        if i != len(text):
            raise _NotEnvelope(f"unexpected data after the envelope at character {i}")
    except _NotEnvelope:
        raise
    except ValueError as exc:  # json.JSONDecodeError and the constants refused above
        raise _NotEnvelope(str(exc).split(":")[0]) from None
    if not has_objects and "more" not in members and "next" not in members and members:
        raise _NotEnvelope("a JSON object, but not a TAXII envelope")
    return members, objects


def envelope_bytes(objects: Iterable[ExactObject | Mapping[str, Any] | str]) -> bytes:
    """``{"objects": [...]}`` with each object's text as given (an :class:`ExactObject` or a
    string is used as it is; a mapping is serialised). Strings must each be one JSON object."""
    parts: list[bytes] = []
    for i, obj in enumerate(objects):
        if isinstance(obj, ExactObject):
            parts.append(obj.text.encode("utf-8"))
        elif isinstance(obj, str):
            try:
                ExactObject.parse(obj)
            except ValueError as exc:
                raise ValueError(f"object {i}: {exc}") from None
            parts.append(obj.encode("utf-8"))
        else:
            parts.append(orjson.dumps(obj))
    return b'{"objects":[' + b",".join(parts) + b"]}"


def json_line(text: str) -> bytes:
    """One object's text as a JSON-lines line: line breaks between tokens become spaces.

    Inside JSON strings a line break is always escaped, so only whitespace between tokens
    changes, and the line parses to the same object.
    """
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8") + b"\n"
