"""The poll cursor: where an incremental pull of one collection stands, kept on disk.

A cursor is a small JSON file next to the JSON-lines output::

    {"url": ..., "collection": ..., "types": [...], "added_after": ..., "count": ..., "offset": ...}

``added_after`` is the ``X-TAXII-Date-Added-Last`` of the last page whose lines are on disk
(before the first object: ``null``, or the ``--since`` of the first run, which the cursor then
keeps), ``count`` the number of objects written so far, and
``offset`` the size in bytes of the output file at that moment. The poller writes the lines of
a page, fsyncs them, and only then replaces the cursor (atomically); on start it truncates the
output back to ``offset``, dropping whatever a crash left between the two. So an interruption at
any point neither skips nor duplicates an object. The poller writes the first cursor (offset 0)
after the hub's first answer and before the first line, so a first run that dies half-way also
resumes cleanly. :mod:`hub.client.poll` implements this.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hub.client.errors import ClientError
from hub.common.files import atomic_write

CURSOR_SUFFIX = ".cursor"


class CursorError(ClientError):
    """The cursor file is unreadable, or belongs to another pull."""


@dataclass
class Cursor:
    """The state of one incremental pull."""

    url: str
    collection: str
    types: list[str] = field(default_factory=list)
    added_after: str | None = None
    count: int = 0
    offset: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str) -> Cursor:
        """Build a cursor from parsed JSON; :class:`CursorError` naming ``where`` if malformed."""
        def bad(why: str) -> CursorError:
            return CursorError(f"cursor {where} is corrupt ({why}); "
                               "move it away to start over, or restore it from a backup")

        if not isinstance(data, dict):
            raise bad("not a JSON object")
        for name in ("url", "collection"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise bad(f"{name!r} is missing or not a string")
        added_after = data.get("added_after")
        if added_after is not None and not isinstance(added_after, str):
            raise bad("'added_after' is not a string")
        types = data.get("types", [])
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise bad("'types' is not a list of strings")
        for name in ("count", "offset"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(f"{name!r} is missing or not a non-negative integer")
        return cls(url=data["url"], collection=data["collection"], types=sorted(types),
                   added_after=added_after, count=data["count"], offset=data["offset"])


def default_cursor_path(out: Path) -> Path:
    """``FILE.jsonl`` -> ``FILE.jsonl.cursor``."""
    return out.with_name(out.name + CURSOR_SUFFIX)


def load_cursor(path: Path) -> Cursor | None:
    """Read the cursor at ``path``, or ``None`` if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CursorError(f"cannot read cursor {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return Cursor.from_json(data, str(path))


def save_cursor(path: Path, cursor: Cursor) -> None:
    """Replace the cursor at ``path`` atomically: a temporary file, fsync, rename, fsync the folder.

    A reader (or a crash) sees either the old cursor or the new one, never a mixture.
    """
    atomic_write(path, (json.dumps(cursor.to_json(), indent=1) + "\n").encode("utf-8"))
