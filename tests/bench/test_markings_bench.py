"""The markings benchmark's data is what it claims to the hub's own marking rules, and its
figures turn into the ratios and verdicts it prints (no server, no store)."""

from __future__ import annotations

import orjson

from bench import markings
from hub.common.problems import Problem
from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.markings import TLP2_IDS
from hub.stix.sharing import Reader, admits, audience_of
from hub.stix.validator import validate

SUBMITTER = Reader("identity--8e2b0f4c-1c1e-4c52-9a59-6d0c8b8a0a01", "provider", "ORG.PROVIDER")
ALL = Reader("identity--8e2b0f4c-1c1e-4c52-9a59-6d0c8b8a0a02", "agency", "ORG.ALL")
HALF = Reader("identity--8e2b0f4c-1c1e-4c52-9a59-6d0c8b8a0a03", "agency", "ORG.HALF")


def test_constants_are_the_hubs() -> None:
    assert markings.GREEN == TLP2_IDS["green"]
    assert markings.RED == TLP2_IDS["red"]
    assert markings.SHARING_EXTENSION == SHARING_EXTENSION_ID


def test_every_other_object_is_red_for_the_reader_of_all_and_hidden_from_the_other() -> None:
    versions = markings.marked_versions(0, 40, ALL.identity_id)
    objs = [orjson.loads(v.json_text) for v in versions]
    seen = {"all": 0, "half": 0}
    for obj in objs:
        assert validate(obj) == [], obj["id"]
        audience = audience_of(obj, SUBMITTER, {})
        assert not isinstance(audience, Problem), audience
        seen["all"] += admits(audience, ALL)
        seen["half"] += admits(audience, HALF)
        assert admits(audience, SUBMITTER)
    assert seen == {"all": 40, "half": 20}
    assert [o["object_marking_refs"] for o in objs[:2]] == [[markings.GREEN], [markings.RED]]
    assert len({len(v.json_text) for v in versions[:10]}) == 1  # both halves weigh the same
    assert len({v.stix_id for v in versions}) == 40


def test_render_prints_the_ratios_against_their_targets() -> None:
    result = {
        "store": "sqlite", "sizes": {"poll": 100_000, "small": 10_000, "big": 1_000_000},
        "upgrade": {"objects": 1_110_000, "migrate_s": 111.0, "apply_s": 9.0},
        "poll": {"page": 1000, "polls": 3, "seen_ratio": 1.2, "cpu_ratio": 1.05,
                 "all": {"objects": 100_000, "seconds": 10.0, "us_per_object": 100.0, "cpu_ms_per_1000": 80.0},
                 "half": {"objects": 50_000, "seconds": 6.0, "us_per_object": 120.0, "cpu_ms_per_1000": 84.0}},
        "page": {f"{a}_{r}_{w}_ms": 10.0 if a == "small" else 12.0
                 for a in ("small", "big") for r in ("all", "half") for w in ("first", "middle")}
        | {f"{r}_{w}_ratio": 1.2 for r in ("all", "half") for w in ("first", "middle")},
    }
    text = markings.render(result)
    assert "over 1,110,000 marked objects: 111.0 s (10,000 obj/s; 100 s per million)" in text
    assert "time 1.20x (target <= 1.1x): NOT met" in text
    assert text.count("(target <= 1.5x): met") == 4
