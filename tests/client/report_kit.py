"""What the tests of ``abusehub report new`` share: the example facts, the raw personal values
they hold (in every written form), and a hub set up by the CLI the way an operator would.

Used by ``tests/client/test_report_new.py``, ``tests/client/test_reports.py`` and
``tests/flows/test_report_flow.py``.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.client.reports import REPORT_TEMPLATE
from tests.harness import run_cli as run

REPO = Path(__file__).resolve().parents[2]
#: The example facts file the README quotes (``abusehub report template`` prints the same).
EXAMPLE_FACTS = REPO / "deploy" / "report-example.toml"
#: The placeholder identity of the example file: an analyst puts their own there.
TEMPLATE_IDENTITY = "identity--00000000-0000-4000-8000-000000000000"

# The example's holder data is fictional (reserved example domain, a 555 number, a test card).
RAW: dict[str, str] = tomllib.loads(REPORT_TEMPLATE)["personal"]
ACCOUNT_ID: str = tomllib.loads(REPORT_TEMPLATE)["provider_account_id"]
#: Every written form a raw value could take: as typed, and as normalised.
RAW_FORMS = [
    *RAW.values(), ACCOUNT_ID, "+14155552671", "4155552671", "4111111111111111",
    "jane example", "1 main st springfield",
]


def raw_in(text: str) -> list[str]:
    """The raw forms found in ``text`` (case-insensitive); empty when it holds none."""
    low = text.lower()
    return [form for form in RAW_FORMS if form.lower() in low]


def raw_in_bytes(data: bytes) -> list[str]:
    """:func:`raw_in` for a file's bytes (a database page, a log)."""
    low = data.lower()
    return [form for form in RAW_FORMS if form.lower().encode() in low]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def set_up_hub(home: Path, work: Path) -> tuple[dict[str, str], dict[str, str], str]:
    """As an operator would: provider acme (writer, the analyst's key registered), provider nosy
    (reader only), a collection that requires signatures. Returns tokens, identities, collection.

    The analyst's files go to ``work``: ``acme.token``, ``nosy.token``, ``analyst.pem`` (the
    private key made by ``abusehub key generate``) and ``analyst.jwk.json`` (its public half).
    """
    run(home, "init")
    tokens, ids = {}, {}
    for name in ("acme", "nosy"):
        p = json.loads(run(home, "party", "add", name, "--kind", "provider", "--json").stdout)
        tokens[name], ids[name] = p["token"], p["identity"]
        write(work / f"{name}.token", p["token"] + "\n")
    col = json.loads(run(home, "collection", "add", "Abused accounts", "--require-signatures",
                         "--json").stdout)["id"]
    run(home, "grant", "acme", col, "--read", "--write")
    run(home, "grant", "nosy", col, "--read")
    jwk = run(work, "key", "generate", "--out", str(work / "analyst.pem")).stdout
    write(work / "analyst.jwk.json", jwk)
    assert "registered key" in run(home, "party", "key", "add", "acme",
                                   str(work / "analyst.jwk.json")).stdout
    return tokens, ids, col


def example_facts(identity: str) -> str:
    """The example facts file as an analyst fills it in: their identity for the placeholder."""
    text = EXAMPLE_FACTS.read_text(encoding="utf-8")
    assert text.count(TEMPLATE_IDENTITY) == 1
    return text.replace(TEMPLATE_IDENTITY, identity)


def example_table() -> dict[str, Any]:
    """The example facts, parsed."""
    return tomllib.loads(EXAMPLE_FACTS.read_text(encoding="utf-8"))


def _toml_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def facts_toml(provider: str, **changes: Any) -> str:
    """The example facts for ``provider``; ``changes`` replace (or, as None, drop) fields."""
    table = tomllib.loads(REPORT_TEMPLATE.replace(TEMPLATE_IDENTITY, provider))
    personal = table.pop("personal")
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    lines = [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    lines.append("[personal]")
    lines += [f"{k} = {_toml_value(v)}" for k, v in personal.items()]
    return "\n".join(lines) + "\n"
