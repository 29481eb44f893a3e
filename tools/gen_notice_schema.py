"""Write the JSON Schemas of notices and acknowledgements from the table of their facts.

    python tools/gen_notice_schema.py           # writes schemas/notice/*.schema.json
    python tools/gen_notice_schema.py --check   # exit 1 if a shipped file differs

The tables are :class:`hub.stix.notice_facts.NoticeFacts`, :class:`~hub.stix.notice_facts.AckFacts`
and :class:`~hub.stix.notice_facts.RosterFacts`
(each fact's ``stix=``), the schemas :func:`hub.stix.notice.notice_schema` and
:func:`~hub.stix.notice.ack_schema`, :func:`~hub.stix.notice.roster_schema`; ``tests/stix/test_notice.py`` fails while a shipped file is
not what this writes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.stix.notice import ack_schema, notice_schema, roster_schema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas/notice"
FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "notice.schema.json": notice_schema,
    "notice-ack.schema.json": ack_schema,
    "notice-roster.schema.json": roster_schema,
}


def render(name: str) -> str:
    """The text of the schema file ``name``."""
    return json.dumps(FILES[name](), indent=2) + "\n"


def main(argv: list[str]) -> int:
    stale = [name for name in FILES
             if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text(encoding="utf-8") != render(name)]
    if "--check" in argv:
        for name in stale:
            print(f"{SCHEMA_DIR / name} is not the schema of the table: run python tools/gen_notice_schema.py")
        return 1 if stale else 0
    for name in FILES:
        (SCHEMA_DIR / name).write_text(render(name), encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
