"""One bad object costs only itself, and a submission is stored whole or not at all.

Whatever judging one object raises (a pattern nested too deeply for the parser, a value with no
canonical form to countersign, an unexpected error in a check) refuses that object alone, with
a reason in its status entry; the rest of the envelope is stored. The objects, the status and
the audit record commit in one transaction. Runs over the ``hub`` fixture (SQLite and PostgreSQL).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.services.ingest import IngestService
from hub.services.ingest.checks import CheckContext
from hub.store.records import Collection, ObjectFilter
from hub.store.sql import SqlStore
from tests import factories as f

DEEP = 400  # parentheses: deeper than the pattern parser can recurse


def _setup(hub: Hub, **policy: Any) -> tuple[Principal, Collection]:
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Reports", alias="reports", **policy)
    hub.admin.grant("acme", col.id, True, True)
    return hub.access.authenticate(token), col


def _stored(hub: Hub, col: Collection) -> set[str]:
    return {i.stix_id for i in hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100).items}


def _deep_pattern() -> str:
    return "(" * DEEP + "[ipv4-addr:value = '198.51.100.1']" + ")" * DEEP


def test_a_pattern_nested_too_deeply_refuses_only_its_indicator(hub: Hub) -> None:
    principal, col = _setup(hub)
    deep, good, sco = f.indicator(pattern=_deep_pattern()), f.indicator(), f.ipv4("198.51.100.2")
    status = hub.ingest.submit(principal, col, {"objects": [good, deep, sco]})
    assert [(x["id"], x["message"]) for x in status.failures] == [
        (deep["id"], "the object is nested too deeply for the hub to finish checking the object; "
                     "it was not stored")]
    assert [s["id"] for s in status.successes] == [good["id"], sco["id"]]
    assert _stored(hub, col) == {good["id"], sco["id"]}
    record = [r for r in hub.store.iter_audit() if r.kind == "submission"][-1]
    assert [(o[0], o[2]) for o in record.data["objects"]] == [
        (good["id"], "stored"), (sco["id"], "stored"), (deep["id"], "refused")]


def test_a_value_without_a_canonical_form_cannot_be_countersigned_and_is_refused_alone(hub: Hub) -> None:
    principal, col = _setup(hub, countersign=True)
    big, good = f.indicator(x_acme_count=2**60), f.indicator()
    status = hub.ingest.submit(principal, col, {"objects": [big, good]})
    assert [x["id"] for x in status.failures] == [big["id"]]
    message = status.failures[0]["message"]
    assert message.startswith("refused while preparing the object for storage: ") and "canonical" in message
    assert _stored(hub, col) == {good["id"]}


def test_an_unexpected_error_in_a_check_refuses_that_object_and_is_logged_without_its_content(
        hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    principal, col = _setup(hub)
    secret = "mallory.fraud@example.net"

    def fragile_check(obj: dict[str, Any], ctx: CheckContext) -> str | None:
        if obj.get("name") == secret:
            return obj["missing"]  # KeyError('missing'): an error no check should raise
        return None

    ingest = IngestService(hub.store, hub.clock, 24, checks=[fragile_check])
    bad, good = f.indicator(name=secret), f.indicator()
    with caplog.at_level(logging.ERROR, logger="abusehub.ingest"):
        status = ingest.submit(principal, col, {"objects": [bad, good]})
    assert [(x["id"], x["message"]) for x in status.failures] == [
        (bad["id"], "the hub failed (KeyError) while checking the object; it was not stored. "
                    "The error was logged for the hub's operators")]
    assert _stored(hub, col) == {good["id"]}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "KeyError" in logged and bad["id"] in logged and "fragile_check" in logged
    assert secret not in logged and "missing" not in logged


def test_objects_status_and_audit_record_commit_together_or_not_at_all(hub: Hub) -> None:
    principal, col = _setup(hub)
    store = hub.store
    assert isinstance(store, SqlStore)
    head = store.audit_head()
    # A real failure inside the transaction: the audit table is gone when the record is appended.
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    try:
        with pytest.raises(Exception, match="audit_log"):
            hub.ingest.submit(principal, col, {"objects": [f.indicator(), f.indicator()]})
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    assert store.count_objects(col.pk) == 0
    assert store.audit_head() == head
    # Nothing was left half done: the next submission is stored with its status and record.
    obj = f.indicator()
    status = hub.ingest.submit(principal, col, {"objects": [obj]})
    assert _stored(hub, col) == {obj["id"]}
    assert hub.statuses.get(principal, status.id).successes == status.successes
    assert [r.data["status"] for r in store.iter_audit() if r.kind == "submission"] == [status.id]


def test_an_object_too_deep_to_write_as_json_is_refused_alone(hub: Hub) -> None:
    principal, col = _setup(hub)
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(300):  # within what JSON parsers read, beyond what orjson writes
        inner["x_acme_next"] = {}
        inner = inner["x_acme_next"]
    deep, good = f.indicator(x_acme_tree=nested), f.indicator()
    status = hub.ingest.submit(principal, col, {"objects": [deep, good]})
    assert [x["id"] for x in status.failures] == [deep["id"]]
    assert status.failures[0]["message"].startswith("it cannot be stored as JSON text")
    assert _stored(hub, col) == {good["id"]}
