"""Write the IaaS-account extension's JSON Schema from the table of the report facts.

    python tools/gen_iaas_schema.py           # writes schemas/iaas-account/iaas-account.schema.json
    python tools/gen_iaas_schema.py --check   # exit 1 if the shipped file differs

The table is :class:`hub.stix.report_facts.ReportFacts` (each fact's ``stix=``), the schema
:func:`hub.stix.iaas.extension_schema`; ``tests/stix/test_facts_table.py`` fails while the
shipped file is not what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hub.stix.iaas import extension_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas/iaas-account/iaas-account.schema.json"


def render() -> str:
    """The schema file's text."""
    return json.dumps(extension_schema(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if SCHEMA_FILE.read_text(encoding="utf-8") != text:
            print(f"{SCHEMA_FILE} is not the schema of the table: run python tools/gen_iaas_schema.py")
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
