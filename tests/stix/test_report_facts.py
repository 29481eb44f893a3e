"""The table of a report's facts (hub.stix.report_facts) and what is made from it or held to it:
the IaaS-account extension's JSON Schema, its check on ingest, the builder's extension, and the
TOML template analysts start from."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hub.client.reports import REPORT_TEMPLATE
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_KINDS, PseudonymKeyring
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.facts import Choice, ListOf
from hub.stix.iaas import EXTENSION_PROPERTIES, check_iaas_extension, extension_schema
from hub.stix.markings import TLP_NAMES
from hub.stix.report import build_report
from hub.stix.report_facts import ReportFacts

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas/iaas-account/iaas-account.schema.json"
FACTS = ReportFacts.model()


def test_the_shipped_schema_is_the_one_the_table_writes() -> None:
    """schemas/iaas-account/iaas-account.schema.json is generated (tools/gen_iaas_schema.py):
    a fact added to the table with stix=... is in the schema once the file is written again."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_iaas_schema
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert SCHEMA_FILE.read_text(encoding="utf-8") == gen_iaas_schema.render(), \
        "run: python tools/gen_iaas_schema.py"
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == extension_schema()
    jsonschema.Draft202012Validator.check_schema(extension_schema())


def test_the_extension_check_and_the_schema_list_the_same_properties() -> None:
    body = extension_schema()["$defs"]["iaas_account_extension"]
    assert list(body["properties"]) == [s.name for s, _t in EXTENSION_PROPERTIES]
    assert body["required"] == [s.name for s, _t in EXTENSION_PROPERTIES if s.required is True]
    # Each fact becomes at most one property, and no two facts the same one.
    names = [f.stix.name for f in FACTS.facts if f.stix is not None]
    assert len(names) == len(set(names))


def test_the_builder_writes_what_the_check_and_the_schema_accept() -> None:
    facts = ReportFacts.from_mapping({**_template(), "acquisition": "reseller", "reseller_name": "Resell Co",
                                      "reseller_identity_id": "identity--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})
    objects = build_report(facts, PseudonymKeyring({"k1": bytes(range(32))}, "k1"))
    account = next(o for o in objects if o["type"] == "user-account")
    body = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    assert check_iaas_extension(account, body) == []
    validator = jsonschema.Draft202012Validator(extension_schema())
    assert validator.is_valid(account), list(validator.iter_errors(account))
    # Written in the order of the table; the template's facts give nearly every property.
    names = [s.name for s, _t in EXTENSION_PROPERTIES]
    assert list(body) == [n for n in names if n in body]
    assert len(body) >= 15


# -- the template ---------------------------------------------------------------------------------

_KEY_RE = re.compile(r"^#?\s*([a-z_]+)\s*=")
_SECTION_RE = re.compile(r"^#?\s*\[([a-z_]+)\]\s*$")


def _template() -> dict[str, Any]:
    return tomllib.loads(REPORT_TEMPLATE)


def _mentioned() -> dict[str, set[str]]:
    """Every key the template shows, set or commented out, by table ("" for the top level)."""
    out: dict[str, set[str]] = {"": set()}
    section = ""
    for line in REPORT_TEMPLATE.splitlines():
        if m := _SECTION_RE.match(line):
            section = m.group(1)
            out.setdefault(section, set())
        elif m := _KEY_RE.match(line):
            out[section].add(m.group(1))
    return out


def test_the_template_names_only_facts_of_the_table() -> None:
    mentioned = _mentioned()
    top = mentioned.pop("")
    assert top <= set(FACTS.by_name), top - set(FACTS.by_name)
    assert set(mentioned) <= {"personal", "pseudonyms"}
    assert mentioned.get("personal", set()) <= set(PERSONAL_KINDS)
    assert mentioned.get("pseudonyms", set()) <= set(PSEUDONYM_KINDS)


def _uncommented(*names: str) -> dict[str, Any]:
    """The template's commented-out lines of the facts ``names``, as TOML."""
    lines = [line.lstrip("#").strip() for line in REPORT_TEMPLATE.splitlines()
             if (m := _KEY_RE.match(line)) and line.startswith("#") and m.group(1) in names]
    assert len(lines) == len(names), lines
    return tomllib.loads("\n".join(lines))


# The markings are in the template, each commented out as an example that is valid as it stands.
@pytest.mark.parametrize("names", [
    ("share_with",),
    ("acs_countries", "acs_organisations", "acs_entities", "acs_further_sharing", "acs_custodian"),
    ("report_name", "phone_region"),
])
def test_the_templates_commented_facts_are_valid_as_they_stand(names: tuple[str, ...]) -> None:
    ReportFacts.from_mapping({**_template(), **_uncommented(*names)})


def test_the_templates_recipients_are_valid_with_tlp_red() -> None:
    facts = ReportFacts.from_mapping({**_template(), **_uncommented("recipients"), "tlp": "red"})
    assert facts.recipients and facts.tlp == "red"


def test_the_template_is_valid_facts_with_every_required_fact() -> None:
    table = _template()
    assert set(FACTS.present) <= set(table)
    ReportFacts.from_mapping(table)


@pytest.mark.parametrize("name", [f.name for f in FACTS.facts if f.type.choices and len(f.type.choices) < 20])
def test_the_template_lists_each_vocabulary_as_the_table_has_it(name: str) -> None:
    """A comment listing the values of a fact ("direct-signup | reseller | compromised") lists
    exactly the table's vocabulary, in its order."""
    choices = FACTS.by_name[name].type.choices
    # Comments continued on the next line are one list.
    text = re.sub(r"\|\s*\n#\s*", "| ", REPORT_TEMPLATE)
    listed = [line for line in text.splitlines() if " | " in line and choices[0] in line]
    assert listed, f"the template does not list the values of {name}"
    for line in listed:
        values = re.findall(r"[A-Za-z0-9+-]+(?:\s*\|\s*[A-Za-z0-9+-]+)+", line.split("#", 1)[1])
        assert any(v.split(" | ") == list(choices) for v in values), (name, line)


def test_the_tlp_vocabulary_is_the_markings_one() -> None:
    assert FACTS.by_name["tlp"].type.choices == TLP_NAMES
    abuse = FACTS.by_name["abuse_types"].type
    assert isinstance(abuse, ListOf) and isinstance(abuse.item, Choice)
