"""Markings decide who reads each object, through the services: the audience computed at ingest
(refusals with their reasons, the rest of the envelope stored), every read of the query service
and the correlations filtered by it, memberships recomputed when a party is added, edited or
removed, and the upgrade (objects stored before markings were enforced classified, RED and
AMBER+STRICT waiting for ``markings apply``).

Runs over the ``hub`` fixture (SQLite and PostgreSQL). Who may read what is written out by
hand from the decisions, never asked of the hub's marking code.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from hub.common.errors import BadRequest, Forbidden, NotFound
from hub.common.problems import Problem
from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.services.query import ObjectQuery
from hub.store.base import Transaction
from hub.store.records import Collection, ObjectFilter, StatusRecord
from hub.store.sql import SqlStore
from tests import factories as f
from tests.harness import FrozenClock, open_seeded_store, seed_services

ACS_EXTENSION_ID = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"
SHARING = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#: An analyst served by the peer hub: a recipient that is no party here.
PEER_ANALYST = "identity--5d0c7a4e-1f0b-4c8e-9a51-3b2f6f0e9d21"
READERS = ("alice", "bob", "gov", "peer")


class Setup:
    """Parties alice and bob (providers, writing), gov (agency) and peer (a peer hub that serves
    PEER_ANALYST and enforces markings), all reading one collection."""

    @staticmethod
    def seed(hub: Hub) -> None:
        """Make the collection and the parties (once per test process: each test's store is a
        copy, see the ``store`` fixture below)."""
        col = hub.admin.add_collection("Reports", alias="reports", max_tlp="red")
        for name, kind in (("alice", "provider"), ("bob", "provider"), ("gov", "agency"), ("peer", "peer")):
            hub.admin.add_party(name, kind)
            hub.admin.grant(name, col.id, True, name in ("alice", "bob"))
        hub.admin.edit_party("peer", organisation="USA.PEERHUB", serves=[PEER_ANALYST], enforces_markings=True)

    def __init__(self, hub: Hub) -> None:
        """The set-up of a hub whose store :meth:`seed` filled."""
        self.hub = hub
        self.principals: dict[str, Principal] = {}
        self.col = hub.admin.collection("reports")
        self.refresh()

    def refresh(self) -> None:
        for p in self.hub.admin.list_parties():
            self.principals[p.name] = Principal(p, self.hub.store.grants_for(p.pk))

    def identity(self, name: str) -> str:
        return self.principals[name].party.identity_id

    def submit(self, name: str, objects: list[dict[str, Any]], col: Collection | None = None) -> StatusRecord:
        return self.hub.ingest.submit(self.principals[name], col or self.col, {"objects": objects})

    def seen(self, name: str, **query: Any) -> set[str]:
        """The ids ``name`` is served by GET objects (all pages)."""
        out: set[str] = set()
        nxt = None
        while True:
            page = self.hub.query.objects(self.principals[name], self.col.id, ObjectQuery(limit=2, next=nxt, **query))
            out.update(i.stix_id for i in page.items)
            if not page.more:
                return out
            nxt = page.next

    def readers(self, stix_id: str) -> set[str]:
        """Who of READERS is served ``stix_id`` by GET objects."""
        return {name for name in READERS if stix_id in self.seen(name)}


def sharing(**body: list[str]) -> dict[str, Any]:
    return {SHARING: {"extension_type": "property-extension", **body}}


def acs_definition(*, nationalities: list[str] | None = None, entity: list[str] | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An ACS 3.0 marking-definition letting read (DSPLY) those of the given nationalities and
    entity types, nobody else (privdefault deny)."""
    scope: dict[str, list[str]] = {}
    if nationalities:
        scope["permitted_nationalities"] = nationalities
    if entity:
        scope["entity"] = entity
    body: dict[str, Any] = {
        "extension_type": "property-extension",
        "identifier": f"isa:guide.19001.ACS3-{uuid.uuid4()}",
        "create_date_time": "2026-01-15T00:00:00.000Z",
        "responsible_entity_custodian": "USA.DHS",
        "policy_reference": "urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=permit",
        "control_set": {"classification": "U"},
        "access_privilege": [{"privilege_action": "DSPLY", "privilege_scope": scope, "rule_effect": "permit"}],
        **(extra or {}),
    }
    return {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
            "created": "2026-01-15T00:00:00.000Z", "extensions": {ACS_EXTENSION_ID: body}}


def failure(status: StatusRecord, stix_id: str) -> str:
    found = [x["message"] for x in status.failures if x["id"] == stix_id]
    assert found, f"{stix_id} was not refused: {status.failures}"
    return found[0]


@pytest.fixture
def store(backend: str, tmp_path: Path, clock: FrozenClock) -> Iterator[SqlStore]:
    """A store of each backend that :meth:`Setup.seed` filled (a copy of one it filled once), the
    test's clock going on from where the seed's stopped."""
    with open_seeded_store(backend, tmp_path, "markings-setup", seed_services(Setup.seed)) as (made, seeded_until):
        clock.now = seeded_until
        yield made


@pytest.fixture
def s(hub: Hub) -> Setup:
    return Setup(hub)


# -- ingest: each object's audience, refusals with their reasons -------------------------------------

def test_each_tlp_level_reaches_the_readers_its_marking_admits(s: Setup) -> None:
    open_ = f.indicator()
    green = f.indicator(object_marking_refs=[GREEN])
    amber = f.indicator(object_marking_refs=[AMBER])
    strict = f.indicator(object_marking_refs=[STRICT])
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("gov")]))
    status = s.submit("alice", [open_, green, amber, strict, red])
    assert not status.failures and len(status.successes) == 5
    assert s.readers(open_["id"]) == s.readers(green["id"]) == set(READERS)
    # AMBER and AMBER+STRICT: every reader but a peer of another organisation.
    assert s.readers(amber["id"]) == s.readers(strict["id"]) == {"alice", "bob", "gov"}
    # RED: the submitter and the named recipient.
    assert s.readers(red["id"]) == {"alice", "gov"}


def test_red_to_an_identity_a_peer_serves_reaches_that_peer(s: Setup) -> None:
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[PEER_ANALYST]))
    assert not s.submit("alice", [red]).failures
    assert s.readers(red["id"]) == {"alice", "peer"}


def test_bad_markings_refuse_their_object_alone_with_its_reason(s: Setup) -> None:
    good = f.indicator(object_marking_refs=[AMBER])
    no_recipients = f.indicator(object_marking_refs=[RED])
    stranger = f"identity--{uuid.uuid4()}"
    unknown = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[stranger]))
    granular = f.indicator(object_marking_refs=[GREEN], description="seen widely",
                           granular_markings=[{"marking_ref": AMBER, "selectors": ["description"]}])
    status = s.submit("alice", [no_recipients, good, unknown, granular])
    assert [x["id"] for x in status.successes] == [good["id"]]
    assert "recipients" in failure(status, no_recipients["id"])
    assert stranger in failure(status, unknown["id"]) and "not a party of this hub" in failure(status, unknown["id"])
    assert "mark the whole object" in failure(status, granular["id"])
    assert s.seen("alice") == {good["id"]}


def test_a_peer_may_name_recipients_that_live_at_other_hubs(s: Setup) -> None:
    elsewhere = f"identity--{uuid.uuid4()}"
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[elsewhere, s.identity("bob")]))
    s.hub.admin.grant("peer", s.col.id, True, True)
    s.refresh()
    assert not s.submit("peer", [red]).failures
    assert s.readers(red["id"]) == {"peer", "bob"}


def test_acs_markings_defined_in_the_envelope_or_the_collection_decide_who_reads(s: Setup) -> None:
    s.hub.admin.edit_party("gov", country="USA", entity="GOV")
    s.hub.admin.edit_party("bob", country="DEU", entity="CTR")
    usa = acs_definition(nationalities=["USA"])
    first = f.indicator(object_marking_refs=[usa["id"]])
    # The object before its definition in the envelope: the definitions are judged first.
    status = s.submit("alice", [first, usa])
    assert not status.failures, status.failures
    assert s.readers(first["id"]) == {"alice", "gov"}
    # Later, the definition stored in the collection is found there.
    later = f.indicator(object_marking_refs=[usa["id"]])
    assert not s.submit("bob", [later]).failures
    assert s.readers(later["id"]) == {"bob", "gov"}
    # The marking definition itself is read by everyone.
    assert s.readers(usa["id"]) == set(READERS)


def test_an_acs_marking_the_hub_cannot_enforce_refuses_its_users(s: Setup) -> None:
    secret = acs_definition(nationalities=["USA"])
    secret["extensions"][ACS_EXTENSION_ID]["control_set"] = {"classification": "S"}
    user = f.indicator(object_marking_refs=[secret["id"]])
    plain = f.indicator()
    status = s.submit("alice", [user, secret, plain])
    assert {x["id"] for x in status.successes} == {plain["id"]}
    assert secret["id"] in {x["id"] for x in status.failures}
    assert user["id"] in {x["id"] for x in status.failures}


# -- reads: every path, and a hidden object answers as a missing one ---------------------------------

def test_every_read_path_hides_what_the_reader_may_not_read(s: Setup) -> None:
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("bob")]))
    later = dict(red, modified=f.ts(5), name="a later version")
    assert not s.submit("alice", [red, later]).failures
    hub, gov, bob = s.hub, s.principals["gov"], s.principals["bob"]
    every = ObjectQuery(versions=("all",))
    assert {i.stix_id for i in hub.query.manifest(gov, s.col.id, every).items} == set()
    assert len(hub.query.manifest(bob, s.col.id, every).items) == 2
    with pytest.raises(NotFound) as missing:
        hub.query.object(gov, s.col.id, f"indicator--{uuid.uuid4()}", ObjectQuery())
    with pytest.raises(NotFound) as hidden:
        hub.query.object(gov, s.col.id, red["id"], ObjectQuery())
    assert hidden.value.description.replace(red["id"], "X") == missing.value.description.replace(
        missing.value.description.split("'")[1], "X")
    with pytest.raises(NotFound):
        hub.query.versions(gov, s.col.id, red["id"], ObjectQuery())
    assert len(hub.query.versions(bob, s.col.id, red["id"], ObjectQuery()).items) == 2
    assert len(hub.query.object(bob, s.col.id, red["id"], every).items) == 2


def test_delete_of_a_hidden_object_answers_as_for_a_missing_one(s: Setup) -> None:
    hub = s.hub
    hub.admin.grant("gov", s.col.id, True, True)
    s.refresh()
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("bob")]))
    amber = f.indicator(object_marking_refs=[AMBER])
    assert not s.submit("alice", [red, amber]).failures
    # gov may read the AMBER object: deleting another party's object is forbidden, and says so.
    with pytest.raises(Forbidden) as readable:
        hub.query.delete(s.principals["gov"], s.col.id, amber["id"], ObjectQuery(versions=("all",)))
    assert "submitted by another party" in str(readable.value)
    # The RED object is hidden from gov: it is not there.
    with pytest.raises(NotFound):
        hub.query.delete(s.principals["gov"], s.col.id, red["id"], ObjectQuery(versions=("all",)))
    # Its submitter deletes it.
    assert hub.query.delete(s.principals["alice"], s.col.id, red["id"], ObjectQuery(versions=("all",))) == 1


def test_audit_read_records_count_what_the_reader_was_served(s: Setup) -> None:
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("bob")]))
    assert not s.submit("alice", [red, f.indicator()]).failures
    s.hub.query.objects(s.principals["gov"], s.col.id, ObjectQuery())
    s.hub.query.objects(s.principals["bob"], s.col.id, ObjectQuery())
    s.hub.audit.flush()
    counts = {r.party: r.data["count"] for r in s.hub.store.iter_audit() if r.kind == "read"}
    assert counts == {"gov": 1, "bob": 2}


def test_correlations_go_only_through_objects_the_reader_may_read(s: Setup) -> None:
    from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
    from hub.stix.report import build_report

    facts = f.report_facts(s.identity("alice"), personal={"phone": "+14155552671"})
    objects = [o for o in build_report(facts, s.hub.pseudonyms.keyring()) if o["type"] != "marking-definition"]
    for obj in objects:  # the whole report TLP:RED, for bob
        obj["object_marking_refs"] = [RED]
        obj.setdefault("extensions", {}).update(sharing(recipients=[s.identity("bob")]))
    assert not s.submit("alice", objects).failures
    account = next(o for o in objects if o["type"] == "user-account")
    pseudonym = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["phone"]
    report = objects[-1]["id"]
    assert [c.report for c in s.hub.pseudonyms.correlate(s.principals["bob"], [pseudonym])] == [report]
    assert s.hub.pseudonyms.correlate(s.principals["gov"], [pseudonym]) == []
    assert s.hub.pseudonyms.correlate_as_operator([pseudonym], "gov") == []
    assert [c.report for c in s.hub.pseudonyms.correlate_as_operator([pseudonym], "bob")] == [report]


# -- memberships follow the parties ------------------------------------------------------------------

def test_a_party_added_later_reads_the_amber_objects_stored_before_it(s: Setup) -> None:
    amber = f.indicator(object_marking_refs=[AMBER])
    assert not s.submit("alice", [amber]).failures
    s.hub.admin.add_party("newcomer", "agency")
    s.hub.admin.grant("newcomer", s.col.id, True, False)
    s.refresh()
    assert amber["id"] in s.seen("newcomer")


def test_editing_a_party_changes_what_it_reads_at_once(s: Setup) -> None:
    usa = acs_definition(nationalities=["USA"], entity=["GOV"])
    marked = f.indicator(object_marking_refs=[usa["id"]])
    amber = f.indicator(object_marking_refs=[AMBER], extensions=sharing(organisations=["USA.PEERHUB"]))
    assert not s.submit("alice", [usa, marked, amber]).failures
    assert marked["id"] not in s.seen("gov")
    s.hub.admin.edit_party("gov", country="usa", entity="gov")
    s.refresh()
    assert marked["id"] in s.seen("gov")
    s.hub.admin.edit_party("gov", clear=["entity"])
    s.refresh()
    assert marked["id"] not in s.seen("gov")
    # AMBER naming the peer's organisation: the peer reads it while it enforces markings.
    assert amber["id"] in s.seen("peer")
    s.hub.admin.edit_party("peer", enforces_markings=False)
    s.refresh()
    assert amber["id"] not in s.seen("peer")


def test_a_removed_party_is_a_member_of_no_audience(s: Setup) -> None:
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("gov")]))
    assert not s.submit("alice", [red]).failures
    gov = s.principals["gov"].party
    audiences = [pk for pk, _a in s.hub.markings.audiences()]
    assert any(gov.pk in s.hub.store.audience_members(pk) for pk in audiences)
    s.hub.admin.remove_party("gov")
    assert not any(gov.pk in s.hub.store.audience_members(pk) for pk in audiences)


def test_every_change_of_a_party_raises_the_parties_generation(s: Setup) -> None:
    """Add, edit, disable, enable and remove each recompute the party's memberships, through
    the refresh that raises the generation an audience being made is checked against."""
    store, admin = s.hub.store, s.hub.admin
    changes = [lambda: admin.add_party("later", "agency"), lambda: admin.edit_party("later", country="deu"),
               lambda: admin.disable_party("later"), lambda: admin.enable_party("later"),
               lambda: admin.remove_party("later")]
    for change in changes:
        seen = store.parties_generation()
        change()
        assert store.parties_generation() > seen


class EditedMeanwhile:
    """A store (or an open transaction) through which an audience is made, where ``edit`` (a
    party edited, its memberships refreshed) runs once, just before the first audience is made:
    after its members were computed from the parties as they were."""

    def __init__(self, target: Any, edit: Callable[[], object]) -> None:
        self.target = target
        self.edit: Callable[[], object] | None = edit

    def ensure_audience(self, *args: Any) -> int:
        if self.edit is not None:
            edit, self.edit = self.edit, None
            edit()
        pk: int = self.target.ensure_audience(*args)
        return pk


def _usa_gov(s: Setup) -> tuple[dict[str, Any], Any]:
    """A stored ACS marking that admits parties of the USA of entity GOV, and the audience of an
    object alice marks with it."""
    usa = acs_definition(nationalities=["USA"], entity=["GOV"])
    assert not s.submit("alice", [usa]).failures
    marked = f.indicator(object_marking_refs=[usa["id"]])
    audience = s.hub.markings.classify(marked, s.principals["alice"], {usa["id"]: usa})
    assert not isinstance(audience, Problem)
    return marked, audience


@pytest.mark.parametrize("before,after", [({"country": "usa", "entity": "gov"}, {"clear": ["entity"]}),
                                          ({}, {"country": "usa", "entity": "gov"})],
                         ids=["admitted-before", "admitted-after"])
def test_an_audience_made_while_a_party_is_edited_follows_its_new_attributes(
        s: Setup, before: dict[str, Any], after: dict[str, Any]) -> None:
    """The members of a new audience are computed, then gov is edited (and refreshed) before
    the audience is made: it is made with gov's membership by gov's new attributes (not kept
    in by the old ones until the next refresh, nor left out)."""
    if before:
        s.hub.admin.edit_party("gov", **before)
    marked, audience = _usa_gov(s)
    gov = s.principals["gov"].party
    racing = EditedMeanwhile(s.hub.store, lambda: s.hub.admin.edit_party("gov", **after))
    pk = s.hub.markings.resolve(cast(Transaction, racing), audience)
    assert racing.edit is None  # it did run in between
    assert (gov.pk in s.hub.store.audience_members(pk)) is not bool(before)
    assert not s.submit("alice", [marked]).failures
    s.refresh()
    assert (marked["id"] in s.seen("gov")) is not bool(before)


def test_an_audience_made_in_the_ingest_transaction_while_a_party_is_edited(s: Setup, backend: str) -> None:
    """The same inside the transaction that stores the object (PostgreSQL: another connection
    edits gov while the transaction is open; on SQLite the transaction holds the database's
    write lock from its start, so no party changes while it computes the members)."""
    if backend != "postgres":
        pytest.skip("SQLite: the ingest transaction holds the database's write lock from its start")
    s.hub.admin.edit_party("gov", country="usa", entity="gov")
    marked, audience = _usa_gov(s)
    gov = s.principals["gov"].party

    def elsewhere() -> None:  # another connection, as another process would
        done = threading.Thread(target=lambda: s.hub.admin.edit_party("gov", clear=["entity"]))
        done.start()
        done.join(60)
        assert not done.is_alive()

    staged: dict[str, int] = {}
    with s.hub.store.transaction() as tx:
        pk = s.hub.markings.resolve(cast(Transaction, EditedMeanwhile(tx, elsewhere)), audience, staged)
    s.hub.markings.remember(staged)
    assert s.hub.store.get_party("gov").entity is None  # type: ignore[union-attr]
    assert gov.pk not in s.hub.store.audience_members(pk)


@pytest.mark.parametrize("change,words", [
    ({"country": "US"}, "alpha-3"),
    ({"country": "U1A"}, "alpha-3"),
    ({"entity": "ARMY"}, "entity"),
    ({"shareability": ["LE", "PRESS"]}, "value 2"),
    ({"organisation": ""}, "organisation"),
    ({"organisation": "x" * 201}, "organisation"),
    ({"serves": [PEER_ANALYST]}, "only a peer"),
    ({"enforces_markings": True}, "peer parties"),
    ({"clear": ["organisation"]}, "cannot clear"),
    ({"country": "USA", "clear": ["country"]}, "not both"),
])
def test_party_attributes_are_checked(s: Setup, change: dict[str, Any], words: str) -> None:
    with pytest.raises(BadRequest) as refused:
        s.hub.admin.edit_party("bob", **change)
    assert words in refused.value.description


def test_a_peer_serves_identity_ids_only(s: Setup) -> None:
    with pytest.raises(BadRequest) as refused:
        s.hub.admin.edit_party("peer", serves=["alice"])
    assert "identity id" in refused.value.description


def test_party_edit_is_audited_with_old_and_new_values(s: Setup) -> None:
    s.hub.admin.edit_party("bob", organisation="DEU.BOBHOST", country="deu", shareability=["le", "ic"])
    party = s.hub.admin.party("bob")
    assert (party.organisation, party.country, party.shareability) == ("DEU.BOBHOST", "DEU", ("LE", "IC"))
    record = [r for r in s.hub.store.iter_audit() if r.kind == "party.edit"][-1]
    assert record.data["changes"]["country"] == {"from": None, "to": "DEU"}


# -- the upgrade ---------------------------------------------------------------------------------------

def _stored_before_markings(s: Setup, name: str, objects: list[dict[str, Any]]) -> None:
    """Store ``objects`` as a hub before markings were enforced did: every one audience 0."""
    markings, s.hub.ingest.markings = s.hub.ingest.markings, None
    try:
        status = s.submit(name, objects)
    finally:
        s.hub.ingest.markings = markings
    assert not status.failures, status.failures


def test_the_upgrade_keeps_red_and_amber_strict_readable_until_applied(s: Setup) -> None:
    s.hub.admin.edit_party("gov", country="USA")
    usa = acs_definition(nationalities=["USA"])
    amber = f.indicator(object_marking_refs=[AMBER])
    strict = f.indicator(object_marking_refs=[STRICT])
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("gov")]))
    bare_red = f.indicator(object_marking_refs=[RED])  # refused today: no recipients
    acs = f.indicator(object_marking_refs=[usa["id"]])
    green = f.indicator(object_marking_refs=[GREEN])
    _stored_before_markings(s, "alice", [usa, amber, strict, red, bare_red, acs, green])
    assert s.readers(red["id"]) == set(READERS)
    s.hub.store.set_setting("audiences_classified", "0")
    seen: list[int] = []

    revision, done = s.hub.upgrade(seen.append)
    assert revision and done is not None
    assert (done.restricted, done.pending, done.unjudged) == (2, 3, 1)
    assert seen and seen[-1] == done.examined
    assert s.hub.markings.classified()
    # AMBER and ACS: their rules at once.
    assert s.readers(amber["id"]) == {"alice", "bob", "gov"}
    assert s.readers(acs["id"]) == {"alice", "gov"}
    # RED and AMBER+STRICT: as before, until applied.
    for obj in (strict, red, bare_red, green):
        assert s.readers(obj["id"]) == set(READERS)
    assert s.hub.markings.pending() == 3
    # Once done, migrating again classifies nothing.
    assert s.hub.upgrade() == (revision, None)

    assert s.hub.markings.apply() == 3
    assert s.hub.markings.pending() == 0
    assert s.readers(strict["id"]) == {"alice", "bob", "gov"}
    assert s.readers(red["id"]) == {"alice", "gov"}
    assert s.readers(bare_red["id"]) == {"alice"}
    assert s.readers(green["id"]) == set(READERS)
    assert [r.data for r in s.hub.store.iter_audit() if r.kind == "markings.apply"] == [{"objects": 3}]


def test_the_upgrade_finds_definitions_stored_after_their_users(s: Setup) -> None:
    s.hub.admin.edit_party("gov", country="USA")
    usa = acs_definition(nationalities=["USA"])
    user = f.indicator(object_marking_refs=[usa["id"]])
    _stored_before_markings(s, "alice", [user, usa])  # stored in envelope order: the user first
    s.hub.store.set_setting("audiences_classified", "0")
    s.hub.upgrade()
    assert s.readers(user["id"]) == {"alice", "gov"}


def test_stored_versions_carry_their_audience(s: Setup) -> None:
    red = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("gov")]))
    again = f.indicator(object_marking_refs=[RED], extensions=sharing(recipients=[s.identity("gov")]))
    assert not s.submit("alice", [red]).failures
    assert not s.submit("alice", [again]).failures  # the same audience: one row
    audiences = s.hub.markings.audiences()
    assert len(audiences) == 1
    pk, audience = audiences[0]
    assert audience.tlp == "red" and audience.recipients == (s.identity("gov"),)
    members = set(s.hub.store.audience_members(pk))
    assert members == {s.principals["alice"].party.pk, s.principals["gov"].party.pk}
    page = s.hub.store.query_objects(s.col.pk, ObjectFilter(reader_pk=s.principals["bob"].party.pk), None, 10)
    assert page.items == []
    assert orjson.loads(s.hub.store.query_objects(s.col.pk, ObjectFilter(), None, 10).items[0].json_text)["id"] == red["id"]
