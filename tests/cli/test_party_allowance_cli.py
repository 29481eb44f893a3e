"""A party's own allowance of oblivious pseudonym evaluations, in-process (click's runner over a
real hub home made by ``abusehub init``): ``party edit --pseudonyms-per-minute`` sets it, ``party
list`` shows it, ``--clear pseudonyms_per_minute`` gives the party the hub's default again, each
change is audited with its old and new value, and a bad value is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.config import load_config
from hub.services.hub import open_hub


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], env={"HUB_DATABASE_URL": ""})


def _cli(home: Path, *args: str) -> Result:
    result = _run(home, *args)
    assert result.exit_code == 0, result.output
    return result


def _listed(home: Path) -> dict[str, dict[str, object]]:
    return {p["name"]: p for p in json.loads(_cli(home, "party", "list", "--json").output)}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "hub"
    _cli(home, "init")
    _cli(home, "party", "add", "cloudco", "--kind", "provider")
    _cli(home, "party", "add", "other", "--kind", "provider")
    return home


def test_party_edit_sets_the_allowance_party_list_shows_and_clear_unsets(home: Path) -> None:
    assert _listed(home)["cloudco"]["pseudonyms_per_minute"] is None
    assert "pseudonyms/min hub default" in _cli(home, "party", "list").output

    out = _cli(home, "party", "edit", "cloudco", "--pseudonyms-per-minute", "120000").output
    assert "pseudonyms/min 120000" in out
    listed = _listed(home)
    assert listed["cloudco"]["pseudonyms_per_minute"] == 120000
    assert listed["other"]["pseudonyms_per_minute"] is None  # only the party named
    text = _cli(home, "party", "list").output
    assert "pseudonyms/min 120000" in text and "pseudonyms/min hub default" in text

    # Another attribute edited leaves the allowance as it is.
    _cli(home, "party", "edit", "cloudco", "--country", "USA")
    assert _listed(home)["cloudco"]["pseudonyms_per_minute"] == 120000

    _cli(home, "party", "edit", "cloudco", "--clear", "pseudonyms_per_minute")
    assert _listed(home)["cloudco"]["pseudonyms_per_minute"] is None

    hub = open_hub(load_config(home, environ={}))
    try:
        edits = [e.data["changes"] for e in hub.store.iter_audit() if e.kind == "party.edit"]
    finally:
        hub.close()
    allowance = [c["pseudonyms_per_minute"] for c in edits if "pseudonyms_per_minute" in c]
    assert allowance == [{"from": None, "to": 120000}, {"from": 120000, "to": None}]


@pytest.mark.parametrize(("value", "words"), [
    ("0", "0 is zero"),
    ("-5", "-5 is negative"),
    ("many", "'many' is not a number"),
    ("1.5", "'1.5' is not a number"),
    ("", "'' is not a number"),
    ("1000001", "1000001 is more"),
])
def test_a_bad_allowance_is_refused_by_name_and_nothing_changes(home: Path, value: str, words: str) -> None:
    _cli(home, "party", "edit", "cloudco", "--pseudonyms-per-minute", "5000")
    result = _run(home, "party", "edit", "cloudco", "--pseudonyms-per-minute", value, "--country", "DEU")
    assert result.exit_code != 0
    assert "pseudonyms-per-minute: a whole number of values a minute from 1 to 1000000" in result.output
    assert words in result.output
    after = _listed(home)["cloudco"]
    assert (after["pseudonyms_per_minute"], after["country"]) == (5000, None)  # nothing half-done


def test_a_value_and_its_clearing_together_are_refused(home: Path) -> None:
    result = _run(home, "party", "edit", "cloudco", "--pseudonyms-per-minute", "900",
                  "--clear", "pseudonyms_per_minute")
    assert result.exit_code != 0 and "pseudonyms_per_minute: give a value or clear it, not both" in result.output
