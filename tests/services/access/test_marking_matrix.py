"""The markings access matrix: parties with different attributes x TLP and ACS markings x every
read path, in-process on both stores.

What each reader may see is written out by hand below (``ROWS``: one line per object version,
the parties that may read it), worked out from the design's decisions, never by asking the hub's
own marking code. The hub under test is set up as an operator sets one up: parties added, their
attributes set with ``abusehub party edit`` (run in this process), objects submitted over TAXII
(POST envelopes, the ACS marking-definitions in the same envelope as the objects they mark).
Each read path is then walked as every party that may read the collection, and must give that
party exactly the versions its markings admit: every page of every size, ``more``/``next``, the
date-added headers, 404s shaped like those of a missing id, the correlations, the web pages, the
statuses and the federation's outgoing feed.

The parties (kind, and what ``party edit`` sets)::

    alice         provider  USA.ALICECLOUD  USA  CTR             terms
    alice2        provider  USA.ALICECLOUD  USA  CTR
    bob           provider  DEU.BOBHOST     DEU  CTR             terms
    gov           agency    USA.DHS         USA  GOV  LE         terms
    cert          agency    GBR.NCSC        GBR  GOV  IC
    ops           operator  USA.HUBOPS      USA  SVC             terms
    peer_home     peer      USA.ALICECLOUD  USA  CTR  enforces   serves HOME_ANALYST
    peer_partner  peer      GBR.PARTNER     GBR  CTR  enforces   serves PARTNER_ANALYST
    peer_plain    peer      USA.ALICECLOUD  USA  CTR  (does not enforce; serves PARTNER_ANALYST)

Where the decisions leave a case open, the table reads them as written: a reader matches an ACS
scope list when its attribute is in it (``"ALL"`` matches anyone), so a party with no country or
entity set is not caught by a deny rule naming countries or entity types; and a reader matches
``permitted_organizations`` by its organisation or its identity id, so an identity id is a valid
value there.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from werkzeug.test import TestResponse

from hub.cli import main
from hub.common.timestamps import format_timestamp_us
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.report import build_report
from hub.store.records import ObjectFilter
from tests import factories as f
from tests.harness import BACKENDS, HubUnderTest

TAXII = "application/taxii+json;version=2.1"
#: The hub's settings: pages of up to 100 (the largest page size walked), the default small.
MATRIX_TOML = "[taxii]\nmax_content_length = 65536\ndefault_page_size = 5\nmax_page_size = 100\n"
#: ACS 3.0's property-extension (AIS 2.0), written out here rather than taken from the hub.
ACS_EXTENSION_ID = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"
_NS = uuid.UUID("6c1d6f0e-2f53-4c35-a3f4-2b8f0f7d3c11")

# -- TLP marking-definition ids (STIX 2.1 section 7.2.1.4; OASIS cti-stix-common-objects tlp-2.0)

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
WHITE1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
AMBER1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
RED1 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

# -- the parties --------------------------------------------------------------------------------

#: Identities served by the peer hubs (analysts at those hubs): RED recipients that are no party here.
HOME_ANALYST = "identity--0b9d3c61-6a43-4d43-9f59-7f3a1e7c0a01"
PARTNER_ANALYST = "identity--0b9d3c61-6a43-4d43-9f59-7f3a1e7c0a02"

#: name: (kind, the options of ``abusehub party edit NAME``)
PARTIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("provider", ("--organisation", "USA.ALICECLOUD", "--country", "USA", "--entity", "CTR", "--terms")),
    "alice2": ("provider", ("--organisation", "USA.ALICECLOUD", "--country", "USA", "--entity", "CTR", "--no-terms")),
    "bob": ("provider", ("--organisation", "DEU.BOBHOST", "--country", "DEU", "--entity", "CTR", "--terms")),
    "gov": ("agency", ("--organisation", "USA.DHS", "--country", "USA", "--entity", "GOV",
                       "--shareability", "LE", "--terms")),
    "cert": ("agency", ("--organisation", "GBR.NCSC", "--country", "GBR", "--entity", "GOV",
                        "--shareability", "IC", "--no-terms")),
    "ops": ("operator", ("--organisation", "USA.HUBOPS", "--country", "USA", "--entity", "SVC", "--terms")),
    "peer_home": ("peer", ("--organisation", "USA.ALICECLOUD", "--country", "USA", "--entity", "CTR",
                           "--enforces-markings", "--serves", HOME_ANALYST)),
    "peer_partner": ("peer", ("--organisation", "GBR.PARTNER", "--country", "GBR", "--entity", "CTR",
                              "--enforces-markings", "--serves", PARTNER_ANALYST)),
    "peer_plain": ("peer", ("--organisation", "USA.ALICECLOUD", "--country", "USA", "--entity", "CTR",
                            "--no-enforces-markings", "--serves", PARTNER_ANALYST)),
}
READERS = tuple(PARTIES)
WRITERS = ("alice", "alice2", "bob", "gov")
OPERATORS = ("ops",)

ALL = frozenset(READERS)
PEERS = frozenset({"peer_home", "peer_partner", "peer_plain"})
NON_PEERS = ALL - PEERS


def only(*names: str) -> frozenset[str]:
    return frozenset(names)


# -- the ACS 3.0 markings (shared/design/MARKINGS.md section 1) ---------------------------------

def permit(action: str, **scope: list[str]) -> dict[str, Any]:
    return {"privilege_action": action, "privilege_scope": scope, "rule_effect": "permit"}


def deny(action: str, **scope: list[str]) -> dict[str, Any]:
    return {"privilege_action": action, "privilege_scope": scope, "rule_effect": "deny"}


def share(effect: str, *scope: str) -> dict[str, Any]:
    return {"sharing_scope": list(scope), "rule_effect": effect}


@dataclass(frozen=True)
class Acs:
    privdefault: str
    sharedefault: str
    rules: tuple[dict[str, Any], ...] = ()
    control_set: dict[str, Any] = field(default_factory=dict)
    further: tuple[dict[str, Any], ...] = ()


#: "@party" in a scope stands for that party's identity id.
ACS: dict[str, Acs] = {
    "nat_usa": Acs("deny", "permit", (permit("DSPLY", permitted_nationalities=["USA"]),)),
    "orgs": Acs("deny", "deny", (permit("ALL", permitted_organizations=["GBR.NCSC", "DEU.BOBHOST"]),)),
    "entity_gov": Acs("deny", "deny", (permit("DSPLY", entity=["GOV"]),)),
    "usa_and_gov": Acs("deny", "deny", (permit("ALL", permitted_nationalities=["USA"], entity=["GOV"]),)),
    "scope_ic": Acs("deny", "deny", (permit("DSPLY", shareability=["IC"]),)),
    "deny_deu_svc": Acs("deny", "permit", (permit("ALL", permitted_nationalities=["ALL"]),
                                           deny("ALL", permitted_nationalities=["DEU"], entity=["SVC"]),
                                           deny("TENOT", permitted_nationalities=["ALL"]))),
    "pd_permit": Acs("permit", "deny"),
    "pd_deny": Acs("deny", "permit", (permit("TENOT", permitted_nationalities=["ALL"]),)),
    "cs_entity": Acs("permit", "permit", control_set={"entity": ["GOV", "CTR"]}),
    "cs_le": Acs("permit", "permit", control_set={"shareability": ["LE"]}),
    "nf": Acs("permit", "permit", control_set={"formal_determination": ["NF"]}),
    "ais": Acs("permit", "permit", control_set={"formal_determination": ["AIS"]}),
    "fs_partner": Acs("permit", "deny", further=(share("permit", "GBR.PARTNER"),)),
    "fs_foreigngov": Acs("permit", "permit", further=(share("deny", "FOREIGNGOV"),)),
    "fs_sector_deny": Acs("permit", "permit", further=(share("deny", "SECTOR"),)),
    "fs_sector_permit": Acs("permit", "deny", further=(share("permit", "SECTOR"),)),
    # Every marking's custodian is USA.DHS, gov's organisation.
    "caveat_proprietary": Acs("permit", "permit", control_set={"caveat": ["CISAPROPRIETARY"]}),
    "no_reader_rule": Acs("permit", "permit", control_set={
        "sensitivity": ["PCII"], "formal_determination": ["FOUO"], "caveat": ["POSSIBLEPII"]}),
}


def acs_id(name: str) -> str:
    return f"marking-definition--{uuid.uuid5(_NS, 'acs:' + name)}"


def acs_definition(name: str, acs: Acs, identities: dict[str, str], *, custodian: str = "USA.DHS",
                   drop: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
                   control_set: dict[str, Any] | None = None) -> dict[str, Any]:
    """The marking-definition of an ACS 3.0 marking (``drop``: required fields left out, ``extra``:
    fields added to the extension, ``control_set``: replaces the control set's fields)."""
    def fill(values: Any) -> Any:
        if isinstance(values, list):
            return [identities[v[1:]] if isinstance(v, str) and v.startswith("@") else v for v in values]
        return values

    body: dict[str, Any] = {
        "extension_type": "property-extension",
        "identifier": f"isa:guide.19001.ACS3-{uuid.uuid5(_NS, 'acs-identifier:' + name)}",
        "create_date_time": "2026-01-15T00:00:00.000Z",
        "responsible_entity_custodian": custodian,
        "policy_reference": f"urn:isa:policy:acs:ns:v3.0?privdefault={acs.privdefault}&sharedefault={acs.sharedefault}",
        "control_set": control_set if control_set is not None else {"classification": "U", **acs.control_set},
    }
    if acs.rules:
        body["access_privilege"] = [{**r, "privilege_scope": {k: fill(v) for k, v in r["privilege_scope"].items()}}
                                    for r in acs.rules]
    if acs.further:
        body["further_sharing"] = [dict(r) for r in acs.further]
    for key in drop:
        body.pop(key, None)
    body.update(extra or {})
    return {"type": "marking-definition", "spec_version": "2.1", "id": acs_id(name),
            "created": "2026-01-15T00:00:00.000Z", "extensions": {ACS_EXTENSION_ID: body}}


# -- the objects and who may read them -----------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One object version: who submits it, its markings, and who may read it (by the decisions)."""

    name: str
    submitter: str
    sees: frozenset[str]
    tlp: tuple[str, ...] = ()
    acs: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()     # "@party" or an identity id a peer serves
    organisations: tuple[str, ...] = ()
    kind: str = "indicator"              # indicator | account | report | relationship
    refs: str = ""                       # report: the account it refers to; relationship: source
    version_of: str = ""                 # a later version of the row so named


AMBER_HERE = NON_PEERS | {"peer_home"}   # AMBER from alice: every non-peer, and her own organisation's hub

ROWS: tuple[Row, ...] = (
    # Audience 0: every reader of the collection, the peer that enforces nothing included.
    Row("unmarked", "alice", ALL),
    Row("clear", "alice", ALL, (CLEAR,)),
    Row("green", "alice", ALL, (GREEN,)),
    Row("white_tlp1", "alice", ALL, (WHITE1,)),
    # AMBER: every non-peer; a peer that enforces, of the submitter's or a named organisation.
    Row("amber", "alice", AMBER_HERE, (AMBER,)),
    Row("amber_named_org", "alice", AMBER_HERE | {"peer_partner"}, (AMBER,), organisations=("GBR.PARTNER",)),
    Row("amber_tlp1_bob", "bob", NON_PEERS, (AMBER1,)),
    # AMBER+STRICT: every non-peer; a peer that enforces, of the submitter's organisation only.
    Row("strict", "alice", AMBER_HERE, (STRICT,)),
    Row("strict_named_org", "alice", AMBER_HERE, (STRICT,), organisations=("GBR.PARTNER",)),
    Row("strict_bob", "bob", NON_PEERS, (STRICT,)),
    # RED: the submitter and the recipients; a peer that enforces and serves a recipient.
    Row("red", "alice", only("alice", "gov", "peer_partner"), (RED,), recipients=("@gov", PARTNER_ANALYST)),
    Row("red_to_bob", "gov", only("gov", "bob"), (RED,), recipients=("@bob",)),
    Row("green_and_red", "alice", only("alice", "cert"), (GREEN, RED), recipients=("@cert",)),
    Row("red_tlp1", "alice", only("alice", "alice2"), (RED1,), recipients=("@alice2",)),
    # ACS 3.0: rules, defaults, control set, further sharing (peers only), several markings.
    Row("acs_nationality", "gov", only("alice", "alice2", "gov", "ops", "peer_home"), acs=("nat_usa",)),
    Row("acs_organisation", "gov", only("gov", "cert", "bob"), acs=("orgs",)),
    Row("acs_entity", "alice", only("alice", "gov", "cert"), acs=("entity_gov",)),
    Row("acs_permit_every_list", "bob", only("bob", "gov"), acs=("usa_and_gov",)),
    Row("acs_shareability_scope", "gov", only("gov", "cert"), acs=("scope_ic",)),
    Row("acs_deny_any_list", "bob", ALL - {"ops", "peer_plain"}, acs=("deny_deu_svc",)),
    Row("acs_privdefault_permit", "gov", NON_PEERS, acs=("pd_permit",)),
    Row("acs_control_entity", "gov", ALL - {"ops", "peer_plain"}, acs=("cs_entity",)),
    Row("acs_control_shareability", "alice", only("alice", "gov"), acs=("cs_le",)),
    Row("acs_nf", "gov", only("alice", "alice2", "gov", "ops", "peer_home"), acs=("nf",)),
    Row("acs_ais", "gov", only("alice", "bob", "gov", "ops"), acs=("ais",)),
    Row("acs_further_partner", "gov", NON_PEERS | {"peer_partner"}, acs=("fs_partner",)),
    Row("acs_further_foreigngov", "gov", NON_PEERS | {"peer_home"}, acs=("fs_foreigngov",)),
    Row("acs_further_sector_deny", "gov", NON_PEERS, acs=("fs_sector_deny",)),
    Row("acs_further_sector_permit", "gov", NON_PEERS, acs=("fs_sector_permit",)),
    Row("acs_caveat_custodian", "alice", only("alice", "gov"), acs=("caveat_proprietary",)),
    Row("acs_no_reader_rule", "gov", ALL - {"peer_plain"}, acs=("no_reader_rule",)),
    Row("acs_two_markings", "alice2", only("alice2", "gov"), acs=("nat_usa", "entity_gov")),
    Row("amber_and_acs", "alice", only("alice", "alice2", "gov", "ops", "peer_home"), (AMBER,), acs=("nat_usa",)),
    # Correlation: a hidden account behind an open report, an open account behind a hidden report.
    Row("account_red", "alice", only("alice", "gov"), (RED,), recipients=("@gov",), kind="account"),
    Row("report_of_red_account", "alice", ALL, (GREEN,), kind="report", refs="account_red"),
    Row("account_green", "alice", ALL, (GREEN,), kind="account"),
    Row("report_red", "alice", only("alice", "bob"), (RED,), recipients=("@bob",), kind="report",
        refs="account_green"),
    # A relationship judged by its own markings, naming a hidden object.
    Row("relationship_to_red", "alice", ALL, (GREEN,), kind="relationship", refs="red"),
    # One object, two versions: the newest is RED for gov; nobody else gets v1 in its place.
    Row("versioned", "alice", ALL, (GREEN,)),
    Row("acs_privdefault_deny", "gov", only("gov"), acs=("pd_deny",)),
    Row("versioned_v2", "alice", only("alice", "gov"), (RED,), recipients=("@gov",), version_of="versioned"),
)
#: The ACS marking-definitions are objects of the collection too, open to every reader.
MARKING_DEFINITION_SEES = ALL


# -- building and submitting ---------------------------------------------------------------------

@dataclass
class Item:
    """One stored version, as the store holds it (ground truth for order and date_added)."""

    name: str
    stix_id: str
    version: str | None
    added_us: int
    sees: frozenset[str]
    type: str
    submitter: str
    latest: bool = False


@dataclass
class Matrix:
    hub: HubUnderTest
    col: str                             # the collection's id
    ids: dict[str, str]                  # row name: STIX id
    items: list[Item]                    # every stored version, in date_added order
    statuses: dict[str, str]             # status id: submitter (first of each submitter, and RED ones)
    pseudonyms: dict[str, str]           # account row name: its account pseudonym
    refused: dict[str, list[str]]        # row name: why the hub refused it (or its marking)
    names: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def name(self, stix_id: str, version: str | None) -> str:
        """The row name of a version read back (by id alone where the id has one version)."""
        if (stix_id, version) in self.names:
            return self.names[(stix_id, version)]
        mine = [i.name for i in self.items if i.stix_id == stix_id]
        return mine[0] if len(mine) == 1 else f"UNKNOWN {stix_id} version {version}"

    def sees(self, name: str) -> frozenset[str]:
        """Who may read the row so named (nobody when it was not stored)."""
        return next((i.sees for i in self.items if i.name == name), frozenset())

    def visible(self, reader: str, *, latest_only: bool = True, after_us: int = 0,
                types: tuple[str, ...] = (), stix_id: str = "") -> list[Item]:
        """The versions ``reader`` may see, in date_added order: the newest of each object only
        (``latest_only``), added after ``after_us``, of ``types``, of ``stix_id``."""
        return [i for i in self.items if reader in i.sees and (i.latest or not latest_only)
                and i.added_us > after_us and (not types or i.type in types) and (not stix_id or i.stix_id == stix_id)]


def _sharing(row: Row, identities: dict[str, str]) -> dict[str, Any] | None:
    body: dict[str, Any] = {"extension_type": "property-extension"}
    if row.recipients:
        body["recipients"] = [identities[r[1:]] if r.startswith("@") else r for r in row.recipients]
    if row.organisations:
        body["organisations"] = list(row.organisations)
    return body if len(body) > 1 else None


def _object(row: Row, ids: dict[str, str], h: HubUnderTest, accounts: dict[str, dict[str, Any]],
            pseudonyms: dict[str, str]) -> dict[str, Any]:
    me = h.identities[row.submitter]
    if row.kind == "account":
        facts = f.report_facts(me, f"acct-{row.name}", personal={"email": f"{row.name}@example.net"},
                               tlp="green")
        built = build_report(facts, h.hub.pseudonyms.keyring())
        obj = next(o for o in built if o["type"] == "user-account")
        accounts[row.name] = next(o for o in built if o["type"] == "report")
        pseudonyms[row.name] = obj["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["provider_account_pseudonym"]
    elif row.kind == "report":
        obj = dict(accounts[row.refs])
        obj["id"] = ids[row.name]
        obj["object_refs"] = [ids[row.refs]]
    elif row.kind == "relationship":
        obj = {"type": "relationship", "spec_version": "2.1", "id": ids[row.name], "created": f.ts(1),
               "modified": f.ts(1), "relationship_type": "related-to", "source_ref": ids[row.refs],
               "target_ref": ids["green"], "created_by_ref": me}
    else:
        base = row.version_of or row.name
        obj = f.indicator(id=ids[base], created_by_ref=me, name=f"matrix {row.name}",
                          modified=f.ts(2) if row.version_of else f.ts(1), created=f.ts(0))
    # The row's markings only (the builder's own TLP goes; an account keeps its IaaS extension).
    obj.pop("object_marking_refs", None)
    if row.kind != "account":
        obj.pop("extensions", None)
    refs = [*row.tlp, *(acs_id(a) for a in row.acs)]
    if refs:
        obj["object_marking_refs"] = refs
    sharing = _sharing(row, h.identities)
    if sharing:
        obj.setdefault("extensions", {})[SHARING_EXTENSION_ID] = sharing
    return obj


def post(h: HubUnderTest, alias_or_id: str, party: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    col = h.collections.get(alias_or_id, alias_or_id)
    r = h.http.post(f"{h.api}/collections/{col}/objects/", data=orjson.dumps({"objects": objects}),
                    headers={"Content-Type": TAXII, "Accept": TAXII, **h.auth(party)})
    assert r.status_code == 202, r.get_data(as_text=True)
    body: dict[str, Any] = r.json
    return body


def abusehub(h: HubUnderTest, *args: str) -> str:
    """``abusehub --home HOME ARGS`` run in this process on the hub's database, as an operator runs
    it beside the server (with services of its own, closed afterwards); returns what it printed."""
    with CliRunner().isolation(env={"HUB_DATABASE_URL": h.hub.store.url}) as (out, err, _both):
        ctx = main.make_context("abusehub", ["--home", str(h.home), *args])
        try:
            with ctx:
                main.invoke(ctx)
        except SystemExit as exc:
            raise AssertionError(f"abusehub {' '.join(args)} exited with {exc.code}: "
                                 f"{err.getvalue().decode(errors='replace').strip()}") from None
        finally:
            opened = getattr(ctx.obj, "_hub", None)
            if opened is not None:
                opened.close()
        return out.getvalue().decode(errors="replace")


def _add_collection(h: HubUnderTest, alias: str, grants: dict[str, tuple[bool, bool]]) -> str:
    col = h.hub.admin.add_collection(alias.title(), alias=alias, max_tlp="red")
    for party, (read, write) in grants.items():
        h.hub.admin.grant(party, col.id, read, write)
    h.collections[alias] = col.id
    return col.id


def build_matrix(h: HubUnderTest) -> Matrix:
    for name, (_kind, options) in PARTIES.items():
        abusehub(h, "party", "edit", name, *options)
    col = _add_collection(h, "matrix", {p: (True, p in WRITERS) for p in READERS})
    ids: dict[str, str] = {}
    for row in ROWS:
        if not row.version_of:
            prefix = {"account": "user-account", "report": "report", "relationship": "relationship"}.get(
                row.kind, "indicator")
            ids[row.name] = f"{prefix}--{uuid.uuid4()}" if row.kind != "account" else ""
    accounts: dict[str, dict[str, Any]] = {}
    pseudonyms: dict[str, str] = {}
    statuses: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    for row in ROWS:
        obj = _object(row, ids, h, accounts, pseudonyms)
        if row.kind == "account":
            ids[row.name] = obj["id"]
        definitions = [acs_definition(a, ACS[a], h.identities) for a in row.acs]
        status = post(h, "matrix", row.submitter, [*definitions, obj])
        if status["failure_count"]:
            refused[row.name] = [f"{x['id']}: {x['message']}" for x in status["failures"]]
        if row.submitter not in statuses.values() or RED in row.tlp:
            statuses[status["id"]] = row.submitter
    # What was refused is left out of the matrix (test_every_object_of_the_matrix_is_stored says why).
    by_id: dict[str, list[Row]] = {}
    for row in ROWS:
        if row.name not in refused:
            by_id.setdefault(ids[row.version_of or row.name], []).append(row)
    for a in ACS:
        if any(a in row.acs and row.name not in refused for row in ROWS):
            by_id.setdefault(acs_id(a), []).append(Row(f"md:{a}", "", MARKING_DEFINITION_SEES))
    with h.services() as hub:
        stored = hub.store.get_collection(col)
        assert stored is not None
        page = hub.store.query_objects(stored.pk, ObjectFilter(versions=("all",)), None, 100_000)
    items: list[Item] = []
    for v in page.items:
        rows = by_id.get(v.stix_id) or [Row(f"UNEXPECTED {v.stix_id}", "", frozenset())]
        row = rows.pop(0)  # versions of one id are stored in the order they were submitted
        items.append(Item(row.name, v.stix_id, v.version, v.date_added_us, row.sees, v.stix_id.split("--")[0],
                          row.submitter))
    assert not any(by_id.values()), f"not stored: {[r.name for rs in by_id.values() for r in rs]}"
    newest: dict[str, Item] = {}
    for i in items:
        newest[i.stix_id] = i  # added later = newer here
    for i in newest.values():
        i.latest = True
    m = Matrix(h, col, ids, items, statuses, pseudonyms, refused)
    m.names = {(i.stix_id, i.version): i.name for i in items}
    return m


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    parties = {name: kind for name, (kind, _options) in PARTIES.items()}
    with HubUnderTest.build(tmp_path_factory.mktemp("markings") / "home", backend=str(request.param),
                            toml=MATRIX_TOML,
                            parties=parties, grants={}, prepare=True) as h:
        yield build_matrix(h)


# -- reading -------------------------------------------------------------------------------------

def get(m: Matrix, reader: str, path: str, query: dict[str, Any] | None = None) -> TestResponse:
    return m.hub.http.get(f"{m.hub.api}/collections/{m.col}/{path}", query_string=query or {},
                          headers={"Accept": TAXII, **m.hub.auth(reader)})


def _names(m: Matrix, entries: list[tuple[str, str | None]]) -> list[str]:
    return [m.name(*e) for e in entries]


def body_of(r: TestResponse) -> dict[str, Any]:
    """The JSON body of a response ({} when it has none)."""
    body = r.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _entry(obj: dict[str, Any]) -> tuple[str, str | None]:
    """(id, version) of an object of an envelope or an entry of a manifest."""
    return obj["id"], obj.get("version", obj.get("modified"))


def walk(m: Matrix, reader: str, path: str, query: dict[str, Any], limit: int, expected: list[Item]) -> list[str]:
    """Every page of ``path`` with ``query`` at page size ``limit``, held to ``expected``: each page
    exactly its slice, ``more`` and ``next`` right, the date-added headers of its items only."""
    what = f"{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}&limit={limit}"
    problems: list[str] = []
    cursor: str | None = None
    for number in range(len(expected) // limit + 2):
        q = {**query, "limit": limit, **({"next": cursor} if cursor else {})}
        r = get(m, reader, path, q)
        if r.status_code != 200:
            return problems + [f"{what} page {number + 1}: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}"]
        body = body_of(r)
        want = expected[number * limit:(number + 1) * limit]
        more = (number + 1) * limit < len(expected)
        got = [_entry(o) for o in body.get("objects", [])]
        if _names(m, got) != [i.name for i in want]:
            problems.append(f"{what} page {number + 1}: {_difference(_names(m, got), [i.name for i in want])}")
        if body.get("more") is not more or ("next" in body) is not more:
            problems.append(f"{what} page {number + 1}: more={body.get('more')} next={'next' in body}, "
                            f"expected more={more} (after it: {[i.name for i in expected[(number + 1) * limit:]]})")
        first = format_timestamp_us(min(i.added_us for i in want)) if want else None
        last = format_timestamp_us(max(i.added_us for i in want)) if want else None
        headers = (r.headers.get("X-TAXII-Date-Added-First"), r.headers.get("X-TAXII-Date-Added-Last"))
        if headers != (first, last):
            problems.append(f"{what} page {number + 1}: date-added headers {headers}, expected {(first, last)}")
        if path == "manifest/":
            added = {(i.stix_id, i.version): format_timestamp_us(i.added_us) for i in want}
            wrong = [o["id"] for o in body.get("objects", []) if added.get(_entry(o)) not in (None, o["date_added"])]
            if wrong:
                problems.append(f"{what} page {number + 1}: date_added wrong for {wrong}")
        cursor = body.get("next")
        if problems or not body.get("more") or not cursor:
            break
    else:
        problems.append(f"{what}: more pages than {len(expected) // limit + 1}")
    return problems


def _object_ids(m: Matrix) -> list[str]:
    """Every object's id but those of audience 0 (open to every reader): of these one object and
    one marking-definition."""
    ids = [i.stix_id for i in m.items if i.sees != ALL or i.name in ("unmarked", "versioned")]
    ids += [i.stix_id for i in m.items if i.type == "marking-definition"][:1]
    return list(dict.fromkeys(ids))


def _difference(got: list[str], want: list[str]) -> str:
    """What is wrong with ``got``: what it shows that it should not, what it leaves out, or its order."""
    extra, missing = [g for g in got if g not in want], [w for w in want if w not in got]
    if extra or missing:
        return f"shows {extra} it should not, leaves out {missing}"
    return f"the order {got} instead of {want}"


def _shape(r: TestResponse, stix_id: str) -> tuple[int, str, str]:
    """What a 404 tells, with the id asked for taken out."""
    return r.status_code, r.headers.get("Content-Type", ""), r.get_data(as_text=True).replace(stix_id, "<id>")


# Each read path: (matrix, reader) -> the problems found.

def objects_paged(m: Matrix, reader: str) -> list[str]:
    expected = m.visible(reader)
    return [p for limit in (1, 2, 100) for p in walk(m, reader, "objects/", {}, limit, expected)]


def objects_versions(m: Matrix, reader: str) -> list[str]:
    every = m.visible(reader, latest_only=False)
    oldest: dict[str, Item] = {}
    for i in m.items:
        oldest.setdefault(i.stix_id, i)
    first = [i for i in oldest.values() if reader in i.sees]
    first.sort(key=lambda i: i.added_us)
    return (walk(m, reader, "objects/", {"match[version]": "all"}, 5, every)
            + walk(m, reader, "objects/", {"match[version]": "first"}, 100, first))


def manifest(m: Matrix, reader: str) -> list[str]:
    return walk(m, reader, "manifest/", {}, 3, m.visible(reader)) + walk(
        m, reader, "manifest/", {"match[version]": "all"}, 100, m.visible(reader, latest_only=False))


def added_after(m: Matrix, reader: str) -> list[str]:
    problems: list[str] = []
    for cut in m.items[::10]:
        expected = m.visible(reader, latest_only=False, after_us=cut.added_us)
        query = {"added_after": format_timestamp_us(cut.added_us), "match[version]": "all"}
        problems += walk(m, reader, "objects/", query, 100, expected)
    cut = m.items[len(m.items) // 3]
    query = {"added_after": format_timestamp_us(cut.added_us)}
    problems += walk(m, reader, "manifest/", {**query, "match[version]": "all"}, 7,
                     m.visible(reader, latest_only=False, after_us=cut.added_us))
    return problems


def match_type_and_id(m: Matrix, reader: str) -> list[str]:
    problems: list[str] = []
    for types in (("indicator",), ("report", "user-account", "relationship"), ("marking-definition",)):
        problems += walk(m, reader, "objects/", {"match[type]": ",".join(types)}, 5,
                         m.visible(reader, types=types))
    every_id = sorted({i.stix_id for i in m.items})
    problems += walk(m, reader, "objects/", {"match[id]": ",".join(every_id)}, 10, m.visible(reader))
    for name in ("red", "versioned"):
        oid = m.ids[name]
        problems += walk(m, reader, "objects/", {"match[id]": oid}, 5,
                         m.visible(reader, stix_id=oid))
        problems += walk(m, reader, "manifest/", {"match[id]": oid, "match[version]": "all"}, 5,
                         m.visible(reader, latest_only=False, stix_id=oid))
    return problems


def object_and_versions(m: Matrix, reader: str) -> list[str]:
    """GET object/{id} and its versions for every object hidden from the reader and every object of
    several versions, GET object/{id} for every third object of one version it may see (the
    match[id] walk reads all of them): the versions the reader may see, or a 404 that reads
    exactly like the one for an id the collection never held."""
    problems: list[str] = []
    missing = f"indicator--{uuid.uuid4()}"
    missing_object = _shape(get(m, reader, f"objects/{missing}/"), missing)
    missing_versions = _shape(get(m, reader, f"objects/{missing}/versions/"), missing)
    assert missing_object[0] == 404 and missing_versions[0] == 404
    plain_and_seen = 0
    for oid in _object_ids(m):
        name = next(i.name for i in m.items if i.stix_id == oid)
        mine = [i for i in m.items if i.stix_id == oid]
        newest = [i for i in mine if i.latest and reader in i.sees]
        seen = [i for i in mine if reader in i.sees]
        if seen and len(mine) == 1:
            plain_and_seen += 1
            if plain_and_seen % 3 != 1:
                continue
        for query, want in (({}, newest), ({"match[version]": "all"}, seen))[:1 if len(mine) == 1 else 2]:
            r = get(m, reader, f"objects/{oid}/", query)
            if want:
                got = [_entry(o) for o in body_of(r).get("objects", [])] if r.status_code == 200 else []
                if r.status_code != 200 or _names(m, got) != [i.name for i in want]:
                    problems.append(f"GET object {name} {query}: HTTP {r.status_code} {_names(m, got)}, "
                                    f"expected {[i.name for i in want]}")
            elif _shape(r, oid) != missing_object:
                problems.append(f"GET object {name} {query}: expected the 404 of a missing id, got HTTP "
                                f"{r.status_code} {r.get_data(as_text=True)[:300]}")
        if seen and len(mine) == 1:
            continue  # the versions of an object of one version the reader may see: its object says it
        r = get(m, reader, f"objects/{oid}/versions/")
        if seen:
            want_versions = [i.version for i in seen]
            got_versions = body_of(r).get("versions") if r.status_code == 200 else None
            if got_versions != want_versions:
                problems.append(f"GET versions of {name}: HTTP {r.status_code} {got_versions}, expected {want_versions}")
        elif _shape(r, oid) != missing_versions:
            problems.append(f"GET versions of {name}: expected the 404 of a missing id, got HTTP "
                            f"{r.status_code} {r.get_data(as_text=True)[:300]}")
    return problems


def correlations(m: Matrix, reader: str) -> list[str]:
    """A correlation names a report and an account the reader may both see, nothing else."""
    expected = set()
    for account, report in (("account_red", "report_of_red_account"), ("account_green", "report_red")):
        sees = m.sees(account) & m.sees(report)
        if reader in sees:
            expected.add((m.pseudonyms[account], m.ids[account], m.ids[report]))
    r = m.hub.http.get(f"{m.hub.api}/correlations/", headers=m.hub.auth(reader),
                       query_string=[("pseudonym", p) for p in m.pseudonyms.values()])
    if r.status_code != 200:
        return [f"correlations: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}"]
    got = {(c["pseudonym"], c["account"], c["report"]) for c in body_of(r).get("correlations", [])}
    names = {v: k for k, v in {**m.ids, **m.pseudonyms}.items()}
    if got != expected:
        show = lambda s: sorted(tuple(names.get(x, x) for x in t) for t in s)  # noqa: E731
        return [f"correlations: got {show(got)}, expected {show(expected)}"]
    return []


def statuses(m: Matrix, reader: str) -> list[str]:
    """Status resources stay the submitter's and the operators' (as before markings): the status
    of each submitter's first submission, and of the RED submissions."""
    problems = []
    for status_id, submitter in m.statuses.items():
        r = m.hub.http.get(f"{m.hub.api}/status/{status_id}/", headers={"Accept": TAXII, **m.hub.auth(reader)})
        want = 200 if reader in (submitter, *OPERATORS) else 404
        if r.status_code != want:
            problems.append(f"status {status_id} of {submitter}: HTTP {r.status_code}, expected {want}")
    return problems


def federation_outgoing(m: Matrix, reader: str) -> list[str]:
    """What a push link to this party would send (the store's outgoing feed read for it)."""
    with m.hub.services() as hub:
        party = hub.store.get_party(reader)
        stored = hub.store.get_collection(m.col)
        assert party is not None and stored is not None
        sent = hub.store.outgoing(stored.pk, 0, 1000, reader_pk=party.pk)
    got = [m.name(*_entry(orjson.loads(v.json_text))) for v in sent]
    want = [i.name for i in m.visible(reader, latest_only=False)]
    return [] if got == want else [f"outgoing: {_difference(got, want)}"]


def delete_says_nothing(m: Matrix, reader: str) -> list[str]:
    """DELETE of another party's object (which deletes nothing): 403 for one the reader may see
    (three of them), and for every one it may not the 404 of a missing id, not a 403 that says it
    exists."""
    if reader not in WRITERS:
        return []

    def delete(oid: str) -> TestResponse:
        return m.hub.http.delete(f"{m.hub.api}/collections/{m.col}/objects/{oid}/",
                                 headers={"Accept": TAXII, **m.hub.auth(reader)})

    problems = []
    missing = f"indicator--{uuid.uuid4()}"
    missing_shape = _shape(delete(missing), missing)
    seen = 0
    for oid in _object_ids(m):
        mine = [i for i in m.items if i.stix_id == oid]
        if any(i.submitter in (reader, "") for i in mine):
            continue  # its own (it would delete it), or a marking-definition
        if any(reader in i.sees for i in mine):
            seen += 1
            if seen > 3:
                continue  # every hidden one, three it may see
        r = delete(oid)
        if any(reader in i.sees for i in mine):
            if r.status_code != 403:
                problems.append(f"DELETE {mine[-1].name}: HTTP {r.status_code}, expected 403")
        elif _shape(r, oid) != missing_shape:
            problems.append(f"DELETE {mine[-1].name}: expected the 404 of a missing id, got HTTP "
                            f"{r.status_code} {r.get_data(as_text=True)[:300]}")
    return problems


READ_PATHS: dict[str, Callable[[Matrix, str], list[str]]] = {
    "objects": objects_paged,
    "objects_match_version": objects_versions,
    "manifest": manifest,
    "added_after": added_after,
    "match_type_and_id": match_type_and_id,
    "object_and_versions": object_and_versions,
    "correlations": correlations,
    "statuses": statuses,
    "federation_outgoing": federation_outgoing,
    "delete_says_nothing": delete_says_nothing,
}


def test_every_object_of_the_matrix_is_stored(matrix: Matrix) -> None:
    """Every row's object (and the ACS marking-definitions it uses) is valid and is stored; the
    read paths below hold the rows that were stored to their readers, whatever this says."""
    assert not matrix.refused, "refused:\n  " + "\n  ".join(
        f"{name}: {reason}" for name, reasons in matrix.refused.items() for reason in reasons)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("path", READ_PATHS)
def test_reader_sees_exactly_what_its_markings_admit(matrix: Matrix, path: str, reader: str) -> None:
    problems = READ_PATHS[path](matrix, reader)
    assert not problems, f"{reader} on {path}:\n  " + "\n  ".join(problems)


def test_the_matrix_is_not_trivial() -> None:
    """Every reader is refused something and admitted something beyond audience 0, and no two
    readers see the same set: the table tells the parties' attributes apart."""
    seen = {r: frozenset(row.name for row in ROWS if r in row.sees) for r in READERS}
    open_rows = frozenset(row.name for row in ROWS if row.sees == ALL)
    for reader, names in seen.items():
        assert names != frozenset(row.name for row in ROWS), reader
        assert names - open_rows or reader == "peer_plain", reader
    assert seen["peer_plain"] == open_rows
    assert len(set(seen.values())) == len(READERS)
    # The last rows are hidden from most readers: their last page must still say it is the last.
    assert ROWS[-1].sees | ROWS[-2].sees == {"alice", "gov"}


# -- the web pages -------------------------------------------------------------------------------

WEB = "https://hub.test"


class Browser:
    """A signed-in browser on the hub's web pages."""

    def __init__(self, h: HubUnderTest, party: str) -> None:
        self.client = h.app.test_client()
        page = self.client.get("/web/signin", base_url=WEB).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf, page[:500]
        r = self.client.post("/web/signin", base_url=WEB, data={"token": h.tokens[party], "csrf_token": csrf.group(1)})
        assert r.status_code == 302, r.get_data(as_text=True)

    def get(self, path: str) -> TestResponse:
        return self.client.get(path, base_url=WEB)


_STIX_ID_IN_HREF = re.compile(r'/objects/([a-z0-9-]+--[0-9a-f-]{36})"')


@pytest.mark.parametrize("reader,refused", [("gov", "bob"), ("bob", "gov")])
def test_web_pages(matrix: Matrix, reader: str, refused: str) -> None:
    """The collection's pages list what the reader may see; an object page it may not see is the
    404 of a missing id; a report's case file leaves out the objects it may not see."""
    m = matrix
    web = Browser(m.hub, reader)
    listed: list[str] = []
    path: str | None = f"/web/collections/{m.col}/objects"
    for _ in range(len(m.items)):
        if path is None:
            break
        r = web.get(path)
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        page = r.get_data(as_text=True)
        listed += _STIX_ID_IN_HREF.findall(page)
        nxt = re.search(r'rel="next" href="([^"]+)"', page)
        path = html.unescape(nxt.group(1)) if nxt else None
    names = {v: k for k, v in m.ids.items()} | {i.stix_id: i.name for i in m.items}
    assert [names.get(x, x) for x in listed] == [i.name for i in m.visible(reader)]

    missing = f"indicator--{uuid.uuid4()}"
    missing_page = web.get(f"/web/collections/{m.col}/objects/{missing}")
    assert missing_page.status_code == 404
    # The pages of the objects only one of the two may see.
    differ = [i for i in m.items if i.latest and i.type != "marking-definition"
              and (reader in i.sees) != (refused in i.sees)]
    assert any(reader in i.sees for i in differ) and any(refused in i.sees for i in differ)
    for item in differ:
        r = web.get(f"/web/collections/{m.col}/objects/{item.stix_id}")
        if reader in item.sees:
            assert r.status_code == 200, (item.name, r.get_data(as_text=True)[:500])
        else:
            assert (r.status_code, r.get_data(as_text=True).replace(item.stix_id, "<id>")) == (
                404, missing_page.get_data(as_text=True).replace(missing, "<id>")), item.name

    # The case file of the open report on the RED account: the account's facts only for its readers.
    r = web.get(f"/web/collections/{m.col}/objects/{m.ids['report_of_red_account']}")
    assert r.status_code == 200
    shown = m.pseudonyms["account_red"] in r.get_data(as_text=True)
    assert shown is (reader in m.sees("account_red")), reader


# -- attributes changed after the objects are in -------------------------------------------------

#: A provider added once the objects are stored, with no attributes yet (its organisation is its
#: own id): audience 0, AMBER and AMBER+STRICT (a non-peer reader of the collection), and the ACS
#: markings that ask nothing of its attributes.
LATE_BEFORE = frozenset({
    "unmarked", "clear", "green", "white_tlp1", "amber", "amber_named_org", "amber_tlp1_bob", "strict",
    "strict_named_org", "strict_bob", "acs_privdefault_permit", "acs_further_partner",
    "acs_further_foreigngov", "acs_further_sector_deny", "acs_further_sector_permit", "acs_no_reader_rule",
    "report_of_red_account", "account_green", "relationship_to_red",
}) | {f"md:{a}" for a in ACS}
#: ... then made a US government party that accepted the terms (party edit). A party with no
#: country or entity is under every deny list (it cannot be shown not to be DEU or SVC): it sees
#: acs_deny_any_list only once it has both.
LATE_AFTER = LATE_BEFORE | {
    "acs_deny_any_list",
    "acs_nationality", "acs_entity", "acs_permit_every_list", "acs_control_entity", "acs_nf", "acs_ais",
    "acs_two_markings", "amber_and_acs",
}


def test_party_add_and_edit_recompute_what_a_party_reads(matrix: Matrix) -> None:
    m = matrix
    name = f"late-{uuid.uuid4().hex[:6]}"
    m.hub.add_party(name, "provider")
    m.hub.hub.admin.grant(name, m.col, True, False)
    problems = []
    for wanted, edit in ((LATE_BEFORE, ()), (LATE_AFTER, ("--country", "USA", "--entity", "GOV", "--terms"))):
        if edit:
            abusehub(m.hub, "party", "edit", name, *edit)
        got = [m.name(*_entry(o)) for o in body_of(get(m, name, "objects/", {"limit": 100})).get("objects", [])]
        expected = [i.name for i in m.items if i.latest and i.name in wanted]
        if got != expected:
            problems.append(f"after {' '.join(edit) or 'party add'}: shown {sorted(set(got) - set(expected))}, "
                            f"hidden {sorted(set(expected) - set(got))}")
    assert not problems, "\n".join(problems)


# -- bad input: refused object by object, the rest of the envelope stored ------------------------

def test_bad_markings_are_refused_each_with_its_reason(matrix: Matrix) -> None:
    """One envelope of good and bad markings: each bad one refused for that object with a reason
    that names the problem, the rest stored and read as their markings say."""
    h = matrix.hub
    col = _add_collection(h, f"intake-{uuid.uuid4().hex[:6]}",
                          {"alice": (True, True), "bob": (True, False), "peer_partner": (True, True)})

    def ind(name: str, *refs: str, **extra: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"description": "the text", **extra}
        if refs:
            fields["object_marking_refs"] = list(refs)
        return f.indicator(created_by_ref=h.identities["alice"], name=name, **fields)

    def to(*recipients: str) -> dict[str, Any]:
        return {"extensions": {SHARING_EXTENSION_ID: {"extension_type": "property-extension",
                                                      "recipients": list(recipients)}}}

    def bad_acs(name: str, **change: Any) -> dict[str, Any]:
        md = acs_definition(name, ACS["pd_permit"], h.identities, **change)
        md["id"] = f"marking-definition--{uuid.uuid4()}"
        return md

    no_policy = bad_acs("bad-no-policy", drop=("policy_reference",))
    secret = bad_acs("bad-secret", control_set={"classification": "S"})
    odd_field = bad_acs("bad-field", extra={"colour": "blue"})
    odd_entity = bad_acs("bad-entity", control_set={"classification": "U", "entity": ["ABC"]})
    amber_md = acs_definition("amber-marked", ACS["pd_permit"], h.identities) | {"object_marking_refs": [AMBER]}
    amber_md["id"] = f"marking-definition--{uuid.uuid4()}"
    # ACS names organisations by their codes (the OASIS schema's pattern), not by identity ids.
    org_identity = acs_definition("org-identity", Acs("deny", "deny", (
        permit("ALL", permitted_organizations=["@alice2"]),)), h.identities)
    org_identity["id"] = f"marking-definition--{uuid.uuid4()}"
    stranger = f"identity--{uuid.uuid4()}"
    # (object, None when it is stored, else what its refusal must say)
    table: list[tuple[dict[str, Any], str | None]] = [
        (ind("good", GREEN), None),
        (ind("unknown marking", f"marking-definition--{uuid.uuid4()}"), r"unknown marking"),
        (no_policy, r"policy_reference"),
        (ind("uses the ACS marking without policy_reference", no_policy["id"]), r"marking"),  # unknown: refused
        (secret, r"classification"),
        (ind("uses the SECRET ACS marking", secret["id"]), r"marking"),
        (odd_field, r"colour|unknown|not allowed|additional"),
        (odd_entity, r"entity"),
        (org_identity, r"organisation code"),
        (amber_md, r"marking.definition.*restrict"),
        (ind("uses the AMBER-marked ACS marking", amber_md["id"]), r"marking"),
        (ind("red, no recipients", RED), r"recipient"),
        (ind("red, an empty list of recipients", RED, **to()), r"recipient"),
        (ind("red to an identity nobody here is or serves", RED, **to(stranger)), r"recipient"),
        (ind("granular red on a green object", GREEN,
             granular_markings=[{"marking_ref": RED, "selectors": ["description"]}]), r"granular"),
        (ind("granular amber on an object without TLP",
             granular_markings=[{"marking_ref": AMBER, "selectors": ["description"]}]), r"granular"),
        (ind("granular green on an amber object", AMBER,
             granular_markings=[{"marking_ref": GREEN, "selectors": ["description"]}]), None),
        (ind("granular lang only", granular_markings=[{"lang": "en", "selectors": ["description"]}]), None),
        (ind("last good", CLEAR), None),
    ]
    status = post(h, col, "alice", [obj for obj, _ in table])
    reasons = {x["id"]: x["message"] for x in status.get("failures", [])}
    stored = {x["id"] for x in status.get("successes", [])}
    problems = []
    for obj, reason in table:
        what = obj.get("name", obj["id"])
        if reason is None and obj["id"] not in stored:
            problems.append(f"{what}: refused ({reasons.get(obj['id'])}), expected stored")
        elif reason is not None and obj["id"] not in reasons:
            problems.append(f"{what}: stored, expected refused saying {reason!r}")
        elif reason is not None and not re.search(reason, reasons[obj["id"]], re.I):
            problems.append(f"{what}: refused with {reasons[obj['id']]!r}, which does not say {reason!r}")
    # A peer's objects are not checked for recipients (they may live at other hubs); its RED object
    # is then its own.
    from_peer = ind("red from a peer, for its own reader", RED, **to(stranger))
    peer_status = post(h, col, "peer_partner", [from_peer])
    if peer_status.get("failures"):
        problems.append(f"the peer's RED object: refused {peer_status['failures']}")
    for reader, wanted in (("bob", [o for o, reason in table if reason is None]),
                           ("peer_partner", [o for o, reason in table if reason is None and AMBER not in
                                             o.get("object_marking_refs", [])] + [from_peer])):
        r = h.http.get(f"{h.api}/collections/{col}/objects/", headers={"Accept": TAXII, **h.auth(reader)})
        got = [o.get("name") for o in body_of(r).get("objects", [])]
        if got != [o["name"] for o in wanted]:
            problems.append(f"{reader} reads {got}, expected {[o['name'] for o in wanted]}")
    assert not problems, "\n".join(problems)
