"""The audit trail loses no read: every read of every party is in ``abusehub audit export``,
whatever the requests around it asked for, and ``abusehub audit verify`` passes.

The hub runs in-process (:func:`hub.server.create_app` with Flask's test client) over the
``hub`` fixture (SQLite and PostgreSQL); the export and the verification run the real
``abusehub`` commands in-process against the same database. Hostile requests ask for values the
audit's canonical form (RFC 8785) cannot hold: a ``limit`` of 2**53 and more, an ``added_after``
before 1685 or after 2255 (beyond 2**53 microseconds from 1970).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import text

from hub.cli import main
from hub.common.timestamps import parse_timestamp_us
from hub.server import create_app
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests import factories as f

TAXII = "application/taxii+json;version=2.1"
PARTIES = ("alice", "bob", "gov")
HOSTILE = (
    "limit=9007199254740992",  # 2**53
    "limit=18446744073709551616",  # 2**64: not even a 64-bit integer
    "limit=" + "9" * 40,
    "added_after=1600-01-01T00:00:00.000Z",
    "added_after=2300-01-01T00:00:00.000Z",
    "added_after=0001-01-01T00:00:00Z",
    "added_after=9999-12-31T23:59:59.999999Z",
    "match[version]=9999-12-31T23:59:59.999Z",
)
ORDINARY = ("", "limit=1", "added_after=2026-01-01T00:00:00.000Z", "match[version]=all")


class Parties:
    """An in-process hub with three readers, one of them also a writer."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tokens: dict[str, str] = {}
        for name, kind in (("alice", "provider"), ("bob", "provider"), ("gov", "agency")):
            self.tokens[name] = hub.admin.add_party(name, kind)[1]
        self.col = hub.admin.add_collection("Reports", alias="reports")
        for name in PARTIES:
            hub.admin.grant(name, self.col.id, True, name == "alice")
        self.client: FlaskClient = create_app(hub.config, hub).test_client()
        self.base = f"/{hub.config.taxii.api_root}/collections/{self.col.id}"
        self.reads: Counter[tuple[str, str]] = Counter()

    def headers(self, party: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[party]}", "Accept": TAXII}

    def read(self, party: str, endpoint: str, query: str) -> None:
        path = {"objects": "/objects/", "manifest": "/manifest/"}[endpoint]
        r = self.client.get(f"{self.base}{path}?{query}", headers=self.headers(party))
        assert r.status_code == 200, (query, r.get_data(as_text=True))
        self.reads[(party, endpoint)] += 1

    def post(self, objects: list[dict[str, Any]]) -> None:
        r = self.client.post(f"{self.base}/objects/", data=orjson.dumps({"objects": objects}),
                             headers={**self.headers("alice"), "Content-Type": TAXII})
        assert r.status_code == 202, r.get_data(as_text=True)


def _numbers(value: Any) -> list[int | float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _cli(hub: Hub, *args: str) -> Any:
    store = hub.store
    assert isinstance(store, SqlStore)
    result = CliRunner().invoke(main, ["--home", str(hub.config.home), *args],
                                env={"HUB_DATABASE_URL": store.url})
    return result


def _exported(hub: Hub) -> list[dict[str, Any]]:
    result = _cli(hub, "audit", "export")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.fixture
def parties(hub: Hub) -> Parties:
    p = Parties(hub)
    p.post([f.indicator(), f.indicator()])
    return p


def test_every_read_is_exported_with_hostile_reads_mixed_in(hub: Hub, parties: Parties) -> None:
    for round_ in range(3):
        for i, party in enumerate(PARTIES):
            for query in ORDINARY:
                parties.read(party, "objects", query)
            parties.read(party, "manifest", HOSTILE[(round_ * 3 + i) % len(HOSTILE)])
            parties.read(party, "objects", HOSTILE[(round_ * 3 + i + 1) % len(HOSTILE)])
            hub.clock.advance(0.5)  # type: ignore[attr-defined]
        # A write between buffered reads: its record is appended before theirs.
        parties.post([f.indicator()])
        if round_ == 1:
            hub.audit.flush()  # as the background flush would, part way through
    hub.audit.flush()

    records = _exported(hub)
    reads = Counter((r["party"], r["data"]["endpoint"]) for r in records if r["kind"] == "read")
    assert reads == parties.reads
    assert sum(reads.values()) == 3 * 3 * (len(ORDINARY) + 2)
    # Values with no canonical form are recorded as strings, exactly; every number is exact.
    after = {r["data"]["query"].get("added_after_us") for r in records if r["kind"] == "read"}
    far = [parse_timestamp_us(q.split("=", 1)[1]) for q in HOSTILE if q.startswith("added_after=")]
    assert {str(us) for us in far if abs(us) >= 2**53} <= after
    assert all(abs(v) < 2**53 for r in records for v in _numbers(r["data"]))
    # Times never go backwards along the chain, and each record has a readable time.
    times = [r["at_us"] for r in records]
    assert times == sorted(times) and all(r["at"].endswith("Z") for r in records)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))

    verify = _cli(hub, "audit", "verify")
    assert verify.exit_code == 0 and "audit chain OK" in verify.output, verify.output


def test_reads_survive_a_failed_append_and_are_appended_later(hub: Hub, parties: Parties) -> None:
    store = hub.store
    assert isinstance(store, SqlStore)
    for party in PARTIES:
        parties.read(party, "objects", "")
    # A real failure: the audit table is away while the buffered reads are flushed.
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    try:
        with pytest.raises(Exception, match="audit_log"):
            hub.audit.flush()
        assert hub.audit.pending == 3  # kept, in order, for the next attempt
        parties.read("gov", "manifest", HOSTILE[0])  # noted meanwhile, behind them
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    hub.audit.flush()
    assert hub.audit.pending == 0
    reads = [(r["party"], r["data"]["endpoint"]) for r in _exported(hub) if r["kind"] == "read"]
    assert reads == [("alice", "objects"), ("bob", "objects"), ("gov", "objects"), ("gov", "manifest")]
    assert hub.audit.verify().ok


def test_a_record_the_database_refuses_leaves_a_note_and_the_others_are_kept(hub: Hub, parties: Parties) -> None:
    parties.read("alice", "objects", "")
    hub.audit.record_read("p" * 300, parties.col.id, endpoint="objects")  # too long for its column
    parties.read("bob", "objects", "")
    hub.audit.flush()
    reads = [r for r in _exported(hub) if r["kind"] == "read"]
    assert [r["party"] for r in reads] == ["alice", "p" * 200, "bob"]
    assert reads[1]["data"] == {"unrecorded": "the record's content could not be stored (UnstorableError)"}
    assert hub.audit.verify().ok
