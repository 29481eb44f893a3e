"""A hub's roster of a notice: its facts, the builder, the check on ingest and the shipped schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.markings import tlp_marking_id
from hub.stix.notice import ROSTER_EXTENSION_ID, build_roster, roster_id, roster_schema
from hub.stix.notice_facts import InvalidRosterFacts, RosterFacts
from hub.stix.validator import validate

AGENCY = "identity--00000000-0000-4000-8000-0000000000a1"
HUB = "identity--00000000-0000-4000-8000-0000000000c1"
CAROL = "identity--00000000-0000-4000-8000-0000000000b3"
NOTICE = "abusehub-notice--00000000-0000-4000-8000-000000000001"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas/notice"


def facts(*entries: dict[str, str]) -> RosterFacts:
    return RosterFacts.from_mapping({"notice_ref": NOTICE, "notice_modified": NOW, "as_of": NOW,
                                     "addressees": list(entries)})


def test_the_builder_makes_a_valid_red_roster_for_the_agency() -> None:
    roster = build_roster(facts({"identity_ref": CAROL, "name": "carol", "state": "overdue"}), hub=HUB,
                          agency=AGENCY, now=NOW)
    assert roster["id"] == roster_id(NOTICE, HUB) and roster["created_by_ref"] == HUB
    assert roster["object_marking_refs"] == [tlp_marking_id("red")]
    assert roster["extensions"][SHARING_EXTENSION_ID]["recipients"] == [AGENCY]
    assert validate(roster) == []
    jsonschema.Draft202012Validator(roster_schema()).validate(roster)
    later = build_roster(facts(), hub=HUB, agency=AGENCY, now=NOW, previous=roster)
    assert later["created"] == roster["created"] and later["modified"] > roster["modified"]
    assert "addressees" not in later and validate(later) == []


@pytest.mark.parametrize(("entry", "words"), [
    ({"identity_ref": "carol", "name": "carol", "state": "overdue"}, "identity_ref"),
    ({"identity_ref": CAROL, "name": "carol", "state": "asleep"}, "state"),
    ({"identity_ref": CAROL, "name": "carol", "state": "applied", "email": "x"}, "unknown member"),
])
def test_a_bad_entry_is_named(entry: dict[str, str], words: str) -> None:
    with pytest.raises(InvalidRosterFacts) as err:
        facts(entry)
    assert words in str(err.value)
    roster = build_roster(facts(), hub=HUB, agency=AGENCY, now=NOW)
    roster["addressees"] = [entry]
    problems = validate(roster)
    assert problems and words in " ".join(str(p) for p in problems)
    assert not jsonschema.Draft202012Validator(roster_schema()).is_valid(roster)


def test_the_roster_extension_belongs_to_its_type() -> None:
    roster = build_roster(facts(), hub=HUB, agency=AGENCY, now=NOW)
    roster["type"] = "indicator"
    assert any("abusehub-notice-roster" in str(p) for p in validate(roster))
    definition = json.loads((SCHEMAS / "roster-extension-definition.json").read_text())
    assert definition["id"] == ROSTER_EXTENSION_ID and validate(definition) == []
    assert json.loads((SCHEMAS / "notice-roster.schema.json").read_text()) == roster_schema()
