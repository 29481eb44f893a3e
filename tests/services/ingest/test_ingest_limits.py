"""Both databases give the same answer: what one of them could not store is refused at ingest,
object by object, with a reason in that object's status entry; its neighbours are stored.

Runs over the ``hub`` fixture (SQLite and PostgreSQL). Each case expects the very same status
message on both: PostgreSQL refuses a string longer than its column and the character U+0000,
SQLite would keep both.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.common.errors import BadRequest
from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.store.records import Collection, ObjectFilter
from tests import factories as f

LONG_MODIFIED = "2026-01-01T00:00:00." + "1" * 40 + "Z"


def _setup(hub: Hub) -> tuple[Principal, Collection]:
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Reports", alias="reports")
    hub.admin.grant("acme", col.id, True, True)
    return hub.access.authenticate(token), col


def _stored(hub: Hub, col: Collection) -> set[str]:
    return {i.stix_id for i in hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100).items}


def _with_nul_key(obj: dict[str, Any]) -> dict[str, Any]:
    obj["x_acme_\x00note"] = "value"
    return obj


@pytest.mark.parametrize("bad,message", [
    pytest.param(lambda: f.indicator(modified=LONG_MODIFIED),
                 "its version (modified, or created) is 61 characters long: the hub stores versions "
                 "of at most 40 characters, a STIX timestamp with at most 19 fraction digits",
                 id="modified-with-40-fraction-digits"),
    pytest.param(lambda: f.marking_definition() | {"created": LONG_MODIFIED},
                 "its version (modified, or created) is 61 characters long: the hub stores versions "
                 "of at most 40 characters, a STIX timestamp with at most 19 fraction digits",
                 id="created-of-an-unmodifiable-object"),
    pytest.param(lambda: f.indicator(description="first line\x00hidden"),
                 "it contains the character U+0000 (NUL), which the hub does not store", id="nul-in-a-value"),
    pytest.param(lambda: _with_nul_key(f.indicator()),
                 "it contains the character U+0000 (NUL), which the hub does not store", id="nul-in-a-key"),
    pytest.param(lambda: f.indicator(labels=["ok", "a\x00b"]),
                 "it contains the character U+0000 (NUL), which the hub does not store", id="nul-in-a-list"),
])
def test_what_a_database_would_refuse_is_refused_alone_with_its_reason(hub: Hub, bad: Any, message: str) -> None:
    principal, col = _setup(hub)
    before, obj, after = f.indicator(), bad(), f.ipv4("198.51.100.7")
    status = hub.ingest.submit(principal, col, {"objects": [before, obj, after]})
    assert [x["message"] for x in status.failures] == [message]
    assert status.failures[0]["id"] == obj["id"]
    assert [s["id"] for s in status.successes] == [before["id"], after["id"]]
    assert _stored(hub, col) == {before["id"], after["id"]}
    # The status as saved says the same (it was committed with the objects).
    saved = hub.statuses.get(principal, status.id)
    assert saved.failures == status.failures


def test_an_id_with_a_trailing_newline_is_refused(hub: Hub) -> None:
    principal, col = _setup(hub)
    obj = f.indicator()
    obj["id"] += "\n"
    good = f.indicator()
    status = hub.ingest.submit(principal, col, {"objects": [obj, good]})
    assert len(status.failures) == 1 and status.failures[0]["id"] == "(object 0 of the envelope)"
    assert _stored(hub, col) == {good["id"]}


def test_text_that_only_looks_like_an_escaped_nul_is_stored(hub: Hub) -> None:
    principal, col = _setup(hub)
    obj = f.indicator(description="registry path C:\\u0000\\run")  # a backslash, then 'u0000'
    status = hub.ingest.submit(principal, col, {"objects": [obj]})
    assert not status.failures and _stored(hub, col) == {obj["id"]}


def test_the_longest_storable_version_is_stored(hub: Hub) -> None:
    principal, col = _setup(hub)
    modified = "2026-01-01T00:00:00." + "1" * 19 + "Z"  # 40 characters
    obj = f.indicator(modified=modified)
    status = hub.ingest.submit(principal, col, {"objects": [obj]})
    assert not status.failures, status.failures
    assert [s["version"] for s in status.successes] == [modified]


@pytest.mark.parametrize("kwargs,message", [
    (dict(title="t" * 201), "the collection title is 201 characters long: at most 200 are allowed"),
    (dict(title="Reports", alias="a" * 201), "the collection alias is 201 characters long: at most 200 are allowed"),
    (dict(title="Reports\x00"), "the collection title contains the character U+0000 (NUL)"),
    (dict(title="Reports", description="about\x00"), "the collection description contains the character U+0000"),
])
def test_collections_no_database_would_store_alike_are_refused(hub: Hub, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        hub.admin.add_collection(**kwargs)
    assert caught.value.description.startswith(message)
    assert hub.admin.list_collections() == []
