"""The operator's commands for markings, in-process (click's runner over a real hub home made by
``abusehub init``): ``party edit`` and ``party list`` with the attributes markings are judged
against, ``markings status`` and ``markings apply`` after an upgrade, and the refusal to open a
database whose objects were never classified, until ``migrate`` classifies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.config import load_config
from hub.services.access.auth import Principal
from hub.services.hub import Hub, open_hub
from hub.services.query import ObjectQuery
from tests import factories as f

RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
SHARING = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"


def _run(home: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], input=stdin, env={"HUB_DATABASE_URL": ""})


def _cli(home: Path, *args: str, stdin: str | None = None) -> Result:
    result = _run(home, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result


def _refused(home: Path, *args: str, status: int = 1) -> str:
    result = _run(home, *args)
    assert result.exit_code == status, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("abusehub: ", "Error: ")), result.output
    return lines[0]


@contextmanager
def _services(home: Path) -> Iterator[Hub]:
    hub = open_hub(load_config(home, environ={}))
    try:
        yield hub
    finally:
        hub.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A hub home made by ``abusehub init``, with parties alice (provider), gov (agency) and peer
    (peer) added by ``abusehub party add``, all reading and writing collection ``reports``."""
    home = tmp_path / "hub"
    _cli(home, "init")
    _cli(home, "collection", "add", "Reports", "--alias", "reports", "--max-tlp", "red")
    for name, kind in (("alice", "provider"), ("gov", "agency"), ("peer", "peer")):
        _cli(home, "party", "add", name, "--kind", kind)
        _cli(home, "grant", name, "reports", "--read", "--write")
    return home


def test_party_edit_sets_what_party_list_shows(home: Path) -> None:
    out = _cli(home, "party", "edit", "gov", "--organisation", "USA.DHS", "--country", "usa", "--entity", "gov",
               "--shareability", "LE", "--shareability", "IC", "--terms").output
    assert "organisation USA.DHS; country USA; entity GOV; shareability LE,IC; terms accepted" in out
    analyst = "identity--5d0c7a4e-1f0b-4c8e-9a51-3b2f6f0e9d21"
    _cli(home, "party", "edit", "peer", "--serves", analyst, "--enforces-markings")
    listed = {p["name"]: p for p in json.loads(_cli(home, "party", "list", "--json").output)}
    gov, peer, alice = listed["gov"], listed["peer"], listed["alice"]
    assert (gov["organisation"], gov["country"], gov["entity"], gov["shareability"], gov["terms_accepted"]) == (
        "USA.DHS", "USA", "GOV", ["LE", "IC"], True)
    assert (peer["serves"], peer["enforces_markings"]) == ([analyst], True)
    # A party never edited is an organisation of its own.
    assert alice["organisation"] == alice["identity"] and alice["country"] is None
    assert "serves" not in alice
    text = _cli(home, "party", "list").output
    assert "organisation USA.DHS; country USA; entity GOV" in text
    assert f"serves {analyst}; enforces markings" in text

    _cli(home, "party", "edit", "gov", "--clear", "country", "--no-terms")
    gov = {p["name"]: p for p in json.loads(_cli(home, "party", "list", "--json").output)}["gov"]
    assert (gov["country"], gov["entity"], gov["terms_accepted"]) == (None, "GOV", False)


@pytest.mark.parametrize("args,words", [
    (("gov", "--country", "US"), "country: a GENC / ISO 3166-1 alpha-3 code"),
    (("gov", "--serves", "identity--5d0c7a4e-1f0b-4c8e-9a51-3b2f6f0e9d21"), "only a peer party"),
    (("alice", "--enforces-markings"), "peer parties"),
    (("peer", "--serves", "not-an-id"), "identity id"),
    (("nobody", "--country", "USA"), "no party named 'nobody'"),
])
def test_party_edit_refuses_a_bad_value_in_one_line(home: Path, args: tuple[str, ...], words: str) -> None:
    assert words in _refused(home, "party", "edit", *args)


def test_party_edit_refuses_a_value_outside_the_acs_vocabulary(home: Path) -> None:
    line = _refused(home, "party", "edit", "gov", "--entity", "ARMY")
    assert line == "abusehub: entity: one of the ACS entity types MIL, GOV, CTR, SVR, SVC, DEV, NET"
    line = _refused(home, "party", "edit", "gov", "--shareability", "LE", "--shareability", "PRESS")
    assert "shareability: each value is one of the ACS shareability categories NCC, EM, LE, IC (value 2" in line


def _pending_red_object(home: Path) -> str:
    """A TLP:RED object for gov, stored as a hub did before markings were enforced (audience 0),
    and the database marked as never classified: what an upgraded hub holds before 'migrate'."""
    with _services(home) as hub:
        alice = hub.admin.party("alice")
        gov = hub.admin.party("gov")
        col = hub.admin.collection("reports")
        red = f.indicator(object_marking_refs=[RED], extensions={
            SHARING: {"extension_type": "property-extension", "recipients": [gov.identity_id]}})
        markings, hub.ingest.markings = hub.ingest.markings, None
        status = hub.ingest.submit(Principal(alice, hub.store.grants_for(alice.pk)), col, {"objects": [red]})
        hub.ingest.markings = markings
        assert not status.failures
        hub.store.set_setting("audiences_classified", "0")
    return str(red["id"])


def _readers(home: Path, stix_id: str) -> set[str]:
    with _services(home) as hub:
        out = set()
        for name in ("alice", "gov", "peer"):
            party = hub.admin.party(name)
            page = hub.query.objects(Principal(party, hub.store.grants_for(party.pk)), "reports", ObjectQuery())
            if any(i.stix_id == stix_id for i in page.items):
                out.add(name)
        return out


def test_an_unclassified_database_is_refused_until_migrate_classifies_it(home: Path) -> None:
    red = _pending_red_object(home)
    line = _refused(home, "party", "list", status=2)
    assert line == ("abusehub: the objects stored before markings were enforced have not been classified yet: "
                    "run 'abusehub migrate'")
    assert "classified yet" in _refused(home, "markings", "status", status=2)
    out = _cli(home, "migrate").output
    assert "classified 1 marked object version(s): 0 read under their markings now; 1 marked TLP:RED" in out
    assert "classified" not in _cli(home, "migrate").output  # once
    _cli(home, "party", "list")
    assert _readers(home, red) == {"alice", "gov", "peer"}


def test_markings_apply_prints_what_changes_then_applies_it(home: Path) -> None:
    red = _pending_red_object(home)
    _cli(home, "migrate")
    assert "1 object version(s) change audience" in _cli(home, "markings", "status").output
    assert json.loads(_cli(home, "markings", "status", "--json").output) == {"pending": 1}

    declined = _run(home, "markings", "apply", stdin="n\n")
    assert declined.exit_code == 1 and "1 object version(s) change audience" in declined.output
    assert _readers(home, red) == {"alice", "gov", "peer"}

    out = _cli(home, "markings", "apply", stdin="y\n").output
    assert "1 object version(s) change audience" in out and "applied: 1 object version(s)" in out
    assert _readers(home, red) == {"alice", "gov"}
    assert "no object version waits" in _cli(home, "markings", "status").output
    assert json.loads(_cli(home, "markings", "apply", "--yes", "--json").output) == {"pending": 0, "changed": 0}


def test_a_new_hub_has_nothing_to_apply(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    _cli(home, "init")
    assert "no object version waits" in _cli(home, "markings", "status").output
    data: Any = json.loads(_cli(home, "markings", "apply", "--yes", "--json").output)
    assert data == {"pending": 0, "changed": 0}
