"""Editing and removing collections, listing grants, and retention by date_added.

In-process, on every store backend, through the administration and retention services and
the real app (``seeded``).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hub.common.errors import BadRequest, Conflict, NotFound
from hub.services.operations.retention import RetentionService
from tests.factories import indicator, ts
from tests.harness import FrozenClock, HubUnderTest

TAXII = "application/taxii+json;version=2.1"
DAY = 86_400


def _post(h: HubUnderTest, party: str, objects: list[dict[str, Any]], alias: str = "reports") -> Any:
    r = h.http.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **h.auth(party)})
    assert r.status_code == 202, r.json
    return r.json


def _versions(h: HubUnderTest, which: str, alias: str = "reports") -> set[tuple[str, str]]:
    body = h.http.get(h.collection_url(alias, "objects"), query_string={"match[version]": which, "limit": "50"},
                        headers=h.auth("alice")).json
    return {(o["id"], o["modified"]) for o in body.get("objects", [])}


def test_edit_changes_only_what_is_given_and_audits_old_and_new(seeded: HubUnderTest) -> None:
    h, admin = seeded, seeded.hub.admin
    cid = h.collections["reports"]
    col = admin.edit_collection(cid, title="Abuse reports", max_tlp="green", require_signatures=True)
    assert (col.title, col.max_tlp, col.require_signatures) == ("Abuse reports", "green", True)
    assert (col.countersign, col.allow_personal_data, col.description) == (False, False, "")
    assert admin.max_age_days(cid) is None
    admin.edit_collection(cid, max_age_days=30, require_signatures=False)
    assert admin.max_age_days(cid) == 30 and admin.collection(cid).require_signatures is False
    admin.edit_collection(cid, keep_forever=True)
    assert admin.max_age_days(cid) is None
    # The new policy applies to the next submission: green is now the most restrictive TLP.
    amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    r = h.http.post(h.collection_url("reports", "objects"),
                      data=orjson.dumps({"objects": [indicator(object_marking_refs=[amber])]}),
                      headers={"Content-Type": TAXII, **h.auth("alice")})
    assert r.json["failure_count"] == 1 and r.json["success_count"] == 0
    records = [r for r in h.hub.store.iter_audit() if r.kind == "collection.edit"]
    assert records[0].data["changes"]["max_tlp"] == {"from": "amber", "to": "green"}
    assert records[1].data["changes"]["max_age_days"] == {"from": None, "to": 30}
    assert len(records) == 3
    admin.edit_collection(cid, title="Abuse reports")  # no change: no record
    assert len([r for r in h.hub.store.iter_audit() if r.kind == "collection.edit"]) == 3


BAD_EDITS: list[tuple[dict[str, Any], str]] = [
    ({"title": "  "}, "must not be empty"),
    ({"max_tlp": "purple"}, "max TLP"),
    ({"max_age_days": 0}, "between 1 and"),
    ({"max_age_days": 10, "keep_forever": True}, "not both"),
    ({"description": "a\x00b"}, "NUL"),
]


def test_edit_refuses_bad_values_and_changes_nothing(seeded: HubUnderTest) -> None:
    admin, cid = seeded.hub.admin, seeded.collections["reports"]
    before = admin.collection(cid)
    for changes, message in BAD_EDITS:
        with pytest.raises(BadRequest, match=message):
            admin.edit_collection(cid, **changes)
    assert admin.collection(cid) == before and admin.max_age_days(cid) is None

def test_remove_is_refused_while_objects_are_held_unless_purged(seeded: HubUnderTest) -> None:
    h, admin = seeded, seeded.hub.admin
    _post(h, "alice", [indicator(), indicator(), indicator()])
    cid = h.collections["reports"]
    with pytest.raises(Conflict, match="holds 3 object version"):
        admin.remove_collection(cid)
    assert _versions(h, "all") and admin.collection(cid)  # nothing went
    assert admin.remove_collection(cid, purge=True) == 3
    with pytest.raises(NotFound):
        admin.collection(cid)
    assert h.http.get(h.collection_url("reports", "objects"), headers=h.auth("alice")).status_code == 404
    assert all(g.collection_id != cid for g in admin.list_grants())
    (record,) = [r for r in h.hub.store.iter_audit() if r.kind == "collection.remove"]
    assert record.collection == cid and record.data["purged"] == 3
    # An empty collection goes without --purge.
    assert admin.remove_collection(h.collections["dropbox"]) == 0


def test_grants_list_by_party_and_collection(seeded: HubUnderTest) -> None:
    admin, cols = seeded.hub.admin, seeded.collections
    every = admin.list_grants()
    assert {(g.party, g.collection_id, g.can_read, g.can_write) for g in every} == {
        ("alice", cols["reports"], True, True), ("bob", cols["reports"], True, True),
        ("gov", cols["reports"], True, False), ("gov", cols["advisories"], True, True),
        ("alice", cols["advisories"], True, False), ("alice", cols["private"], True, True),
        ("bob", cols["dropbox"], False, True)}
    assert [g.party for g in every] == sorted(g.party for g in every)
    assert {g.collection_id for g in admin.list_grants("alice")} == {cols["reports"], cols["advisories"], cols["private"]}
    assert {g.party for g in admin.list_grants(collection_id="advisories")} == {"gov", "alice"}
    assert [(g.party, g.can_write) for g in admin.list_grants("gov", "reports")] == [("gov", False)]
    with pytest.raises(NotFound):
        admin.list_grants("nobody")


def test_retention_purges_by_date_added_keeps_flags_and_is_idempotent(store: Any, tmp_path: Any) -> None:
    clock = FrozenClock()
    h = HubUnderTest.build(tmp_path / "home", store=store, clock=clock)
    try:
        old_only = indicator(created=ts(1), modified=ts(1))
        both = indicator(created=ts(2), modified=ts(2))
        _post(h, "alice", [old_only, both])
        clock.advance(10 * DAY)
        newer = {**both, "modified": ts(30), "name": "newer version"}
        fresh = indicator(created=ts(3), modified=ts(3))
        _post(h, "alice", [newer, fresh])
        # The newest version of 'both' was added first here: retention goes by date_added, not modified.
        _post(h, "alice", [indicator()], alias="private")
        assert _versions(h, "first") == {(old_only["id"], ts(1)), (both["id"], ts(2)), (fresh["id"], ts(3))}

        h.hub.admin.edit_collection(h.collections["reports"], max_age_days=5)
        service = RetentionService.of(h.hub)
        (outcome,) = service.run()
        assert outcome.collection_id == h.collections["reports"] and outcome.purged == 2
        # What remains: the newer versions; 'both' keeps its newer version, now its first and last.
        assert _versions(h, "all") == {(both["id"], ts(30)), (fresh["id"], ts(3))}
        assert _versions(h, "first") == _versions(h, "last") == {(both["id"], ts(30)), (fresh["id"], ts(3))}
        versions = h.http.get(h.collection_url("reports", "objects", both["id"], "versions"),
                                headers=h.auth("alice")).json
        assert versions["versions"] == [ts(30)]
        # The collection without a policy keeps everything.
        assert len(h.http.get(h.collection_url("private", "objects"), headers=h.auth("alice")).json["objects"]) == 1
        # Idempotent: a second run deletes nothing.
        assert [o.purged for o in service.run()] == [0]
        records = [r for r in h.hub.store.iter_audit() if r.kind == "retention.purge"]
        assert [r.data["purged"] for r in records] == [2, 0]
        assert all(r.collection == h.collections["reports"] and r.data["max_age_days"] == 5 for r in records)
        # A removed-by-retention object can be submitted again and is stored again.
        assert _post(h, "alice", [old_only])["success_count"] == 1
    finally:
        h.close()
