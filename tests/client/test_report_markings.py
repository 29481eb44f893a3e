"""A report filed with markings (:func:`hub.client.reports.file_report` against a hub in-process,
on each store backend, into a collection that requires signatures and countersigns) reaches
exactly the readers its facts name: TLP:RED its recipients, an ACS marking the parties whose
attributes it admits; a recipient the hub does not know is refused, object by object, with the
reason."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hub.client.reports import file_report
from hub.client.taxii import TaxiiClient
from hub.signing import signatures_of
from hub.stix.sharing import check_acs_definition
from tests.client.conftest import HubPerBackend, MakeHubs
from tests.client.report_kit import example_table
from tests.harness import BACKENDS, HubUnderTest

#: The objects of a report every reader of the collection reads whatever the report's markings:
#: the identities (TLP:CLEAR) and the ACS marking-definition (a marking governs no definition).
OPEN_TYPES = frozenset({"identity", "marking-definition"})


@pytest.fixture(scope="module")
def marking_hubs(module_hubs: MakeHubs) -> HubPerBackend:
    return HubPerBackend(module_hubs, {"acme": "provider", "nosy": "provider", "dhs": "agency"},
                         keys_for=("acme",))


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, marking_hubs: HubPerBackend) -> HubUnderTest:
    hub = marking_hubs(request.param)
    with hub.services() as services:
        # A collection that may carry TLP:RED, requiring signatures and countersigning.
        col = services.admin.add_collection("Reports", max_tlp="red", require_signatures=True, countersign=True)
        for party, write in (("acme", True), ("nosy", False), ("dhs", False)):
            services.admin.grant(party, col.id, True, write)
        services.admin.edit_party("dhs", organisation="USA.DHS", country="USA", entity="GOV", terms_accepted=True)
        services.admin.edit_party("nosy", organisation="USA.NOSYCLOUD", country="USA", entity="CTR",
                                  terms_accepted=True)
    hub.collections["reports"] = col.id
    return hub


def _facts(h: HubUnderTest, **changes: Any) -> dict[str, Any]:
    return {**example_table(), "provider_identity_id": h.identities["acme"], **changes}


def _seen(client: TaxiiClient, collection: str) -> set[str]:
    return {str(o.id) for page in client.pages(collection) for o in page.objects}


def _file(h: HubUnderTest, **changes: Any) -> Any:
    with h.client("acme") as client:
        return file_report(client, h.collections["reports"], _facts(h, **changes), h.keys["acme"],
                           h.identities["acme"])


def _views(h: HubUnderTest) -> dict[str, set[str]]:
    out = {}
    for party in ("acme", "nosy", "dhs"):
        with h.client(party) as client:
            out[party] = _seen(client, h.collections["reports"])
    return out


def test_a_red_report_reaches_only_its_recipients(desk: HubUnderTest) -> None:
    result = _file(desk, tlp="red", recipients=[desk.identities["dhs"]])
    assert result.state == "stored", result.refused
    every = {o["id"] for o in result.objects}
    open_ = {o["id"] for o in result.objects if o["type"] in OPEN_TYPES}
    views = _views(desk)
    assert views["acme"] == views["dhs"] == every
    assert views["nosy"] == open_


def test_an_acs_report_reaches_the_readers_its_choices_admit(desk: HubUnderTest) -> None:
    result = _file(desk, tlp="green", acs_countries=["USA"], acs_entities=["GOV"], acs_custodian="USA.EXAMPLECLOUD")
    assert result.state == "stored", result.refused
    assert result.objects[0]["type"] == "marking-definition"
    every = {o["id"] for o in result.objects}
    views = _views(desk)
    assert views["acme"] == views["dhs"] == every  # the submitter, and a US government reader
    assert views["nosy"] == {o["id"] for o in result.objects if o["type"] in OPEN_TYPES}  # a contractor
    # Stored as submitted: the hub countersigns the objects, never the marking-definition (an ACS
    # marking-definition carries its own extension only, and nobody signs a shared definition).
    stored = {i: orjson.loads(text) for i, _v, text in desk.stored("reports")}
    definition = stored[result.objects[0]["id"]]
    assert definition == result.objects[0] and check_acs_definition(definition) == []
    assert len(signatures_of(stored[result.report_id])) == 2


def test_an_amber_report_names_organisations_and_stays_readable_at_home(desk: HubUnderTest) -> None:
    result = _file(desk, tlp="amber", share_with=["GBR.PARTNER"])
    assert result.state == "stored", result.refused
    views = _views(desk)
    assert views["nosy"] == views["dhs"] == {o["id"] for o in result.objects}


def test_a_recipient_the_hub_does_not_know_is_refused(desk: HubUnderTest) -> None:
    stranger = "identity--4b1d3c2e-9f8a-4e7d-8c6b-5a4f3e2d1c0b"
    result = _file(desk, tlp="red", recipients=[desk.identities["dhs"], stranger])
    assert result.state == "refused"
    marked = {o["id"] for o in result.objects if o["type"] not in OPEN_TYPES}
    assert {oid for oid, _reason in result.refused} == marked
    assert all(stranger in reason for _oid, reason in result.refused)
    with desk.client("dhs") as client:
        assert _seen(client, desk.collections["reports"]) & marked == set()
