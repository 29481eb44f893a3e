"""The report builder: facts about one abused IaaS account in, STIX 2.1 objects out.

Used by the analyst CLI and the web page. The analyst writes the facts in a TOML file
(:meth:`ReportFacts.from_mapping` reads the parsed table; the facts and their checks are the
table of :mod:`hub.stix.report_facts`); :func:`build_report` turns them into plain-dict STIX 2.1
objects with every personal value replaced by its keyed pseudonym. One :class:`ObjectBuilder`
makes the objects of a report and of a sighting (:func:`build_sighting`): the common properties
of every object, and the properties the table says each fact becomes.

What comes out, all ``spec_version`` "2.1"::

    identity            the provider (and the reseller, if the account came through one)
    user-account        account_type "cloud-iaas", the IaaS-account extension with pseudonyms
    ipv4-addr, ipv6-addr, domain-name, url
                        one per abused resource, deterministic UUIDv5 ids (STIX 2.1 2.9)
    infrastructure      the abused resources as one piece of infrastructure
    indicator           one per resource, STIX pattern, valid for ``indicator_validity_days``
    relationship        indicator indicates infrastructure;
                        infrastructure consists-of each resource and the user-account
    report              everything above in ``object_refs``

Relationship types come from the STIX 2.1 relationship summary: ``indicates`` (indicator ->
infrastructure, 4.7.1) and ``consists-of`` (infrastructure -> infrastructure, observed-data or
any SCO, user-account included, 4.8.1), so no ``related-to`` is needed.

SDOs and SROs carry ``created_by_ref`` = the provider and ``object_marking_refs`` = the TLP 2.0
marking of the report; SCOs carry the marking too. The identity objects are the exception:
they are marked TLP:CLEAR and get a fixed ``created``/``modified``, so the same identity object
comes out of every report (an identity is not secret, and a new version per report with a
changing marking would conflict with the stored one).

Who may read the report, beyond its TLP level (every object but the identities):

- ``recipients`` (TLP:RED) and ``share_with`` (TLP:AMBER: the organisations whose hubs may
  receive it) are written in the hub's sharing extension (:data:`SHARING_EXTENSION_ID`) on every
  object, where the object's signature covers them;
- the ACS choices (``acs_countries``, ``acs_organisations``, ``acs_entities``,
  ``acs_further_sharing``) become one ACS 3.0 marking-definition (:func:`acs_marking`, first in
  the list), which every object references in ``object_marking_refs`` after its TLP marking.

Raw personal values never reach the output: the builder checks the serialised objects for them
and runs :func:`hub.stix.pii.scan_object` on every object before returning (fail closed).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hub.common.problems import Code, Problem
from hub.common.timestamps import format_timestamp_ms
from hub.pseudonyms import PERSONAL_KINDS, Pseudonymiser, normalise, provider_account_value
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.markings import TLP2_IDS, tlp_marking_id
from hub.stix.pii import scan_object
from hub.stix.report_facts import (
    ABUSE_TYPE_INFRASTRUCTURE,
    ACS_CHOICES,
    InvalidReportFacts,
    ReportFacts,
    SightingFacts,
    classify_resource,
)
from hub.stix.sharing import ACS_EXTENSION_ID
from hub.stix.vocab import ACQUISITION_ENUM, ACTION_TAKEN_ENUM, KYC_STATUS_ENUM

__all__ = [
    "ABUSE_TYPE_INFRASTRUCTURE",
    "ACQUISITIONS",
    "ACS_NAMESPACE",
    "ACTIONS",
    "KYC_STATUSES",
    "SCO_NAMESPACE",
    "InvalidReportFacts",
    "ObjectBuilder",
    "ReportFacts",
    "SightingFacts",
    "acs_marking",
    "build_report",
    "build_sighting",
    "classify_resource",
    "deterministic_sco_id",
    "format_timestamp",
]

#: STIX 2.1 section 2.9: the namespace of deterministic SCO ids.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: The namespace of the UUIDv5 (of the report's id) in the ACS identifier of a report's ACS
#: marking.
ACS_NAMESPACE = uuid.UUID("b91a7c97-aa81-4979-9993-05ba5a5daeaa")

# The extension's enumerations (schemas/iaas-account, hub.stix.vocab), re-exported for the CLI.
#: How the account was obtained.
ACQUISITIONS = ACQUISITION_ENUM
#: How far the provider verified the holder's identity.
KYC_STATUSES = KYC_STATUS_ENUM
#: What the provider did about the account.
ACTIONS = ACTION_TAKEN_ENUM

# A fixed created/modified for identity objects (see the module docstring).
_IDENTITY_TIMESTAMP = "2020-01-01T00:00:00.000Z"
# Raw values shorter than this are not searched for in the output: a short name such as "Li"
# would be "found" inside ordinary words.
_MIN_LEAK_CHECK_LEN = 6


def format_timestamp(dt: datetime) -> str:
    """A STIX timestamp with millisecond precision: ``2024-05-01T12:00:00.000Z``."""
    return format_timestamp_ms(dt)


def deterministic_sco_id(sco_type: str, contributing: Mapping[str, Any]) -> str:
    """A STIX 2.1 SCO id: UUIDv5 in :data:`SCO_NAMESPACE` of the canonical JSON of the
    object's id-contributing properties (section 2.9; e.g. ``value`` for ipv4-addr)."""
    name = json.dumps(dict(contributing), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, name)}"


def _pattern(sco_type: str, value: str) -> str:
    # STIX patterning (part 5): string literals in single quotes, with \ and ' escaped.
    literal = value.replace("\\", "\\\\").replace("'", "\\'")
    if sco_type in ("ipv4-addr", "ipv6-addr") and "/" in value:
        return f"[{sco_type}:value ISSUBSET '{literal}']"
    return f"[{sco_type}:value = '{literal}']"


class ObjectBuilder:
    """Makes the STIX objects one party submits at one time: ``created_by`` (an identity id) is
    their ``created_by_ref``, ``tlp`` their marking (``markings`` lists the ids their
    ``object_marking_refs`` get: add to it before making them), and ``now`` (default: the
    current time, to the millisecond) their ``created``/``modified``. ``sharing``
    (``recipients`` and/or ``organisations``; an empty list is left out) is written in the
    hub's sharing extension on each of them."""

    def __init__(self, created_by: str, tlp: str, now: datetime | None = None, *,
                 sharing: Mapping[str, Sequence[str]] | None = None) -> None:
        now_dt = (now or datetime.now(UTC)).astimezone(UTC)
        self.now = now_dt.replace(microsecond=now_dt.microsecond // 1000 * 1000)
        self.ts = format_timestamp(self.now)
        self.created_by = created_by
        self.markings = [tlp_marking_id(tlp)]
        self.sharing = {k: list(v) for k, v in (sharing or {}).items() if v}

    def extensions(self) -> dict[str, Any]:
        """The extensions every object gets (a new dict each time): the sharing extension, if
        the report names anyone."""
        if not self.sharing:
            return {}
        body = {"extension_type": "property-extension", **{k: list(v) for k, v in self.sharing.items()}}
        return {SHARING_EXTENSION_ID: body}

    def _shared(self) -> dict[str, Any]:
        exts = self.extensions()
        return {"extensions": exts} if exts else {}

    def sdo(self, obj_type: str, *, stix_id: str | None = None, **props: Any) -> dict[str, Any]:
        """An SDO or SRO with a new id (or ``stix_id``), then ``props``."""
        return {
            "type": obj_type,
            "spec_version": "2.1",
            "id": stix_id or f"{obj_type}--{uuid.uuid4()}",
            "created_by_ref": self.created_by,
            "created": self.ts,
            "modified": self.ts,
            "object_marking_refs": list(self.markings),
            **self._shared(),
            **props,
        }

    def relationship(self, rel_type: str, source: str, target: str) -> dict[str, Any]:
        return self.sdo("relationship", relationship_type=rel_type, source_ref=source,
                        target_ref=target)

    def sco(self, sco_type: str, value: str) -> dict[str, Any]:
        """An SCO whose id follows its ``value`` (section 2.9)."""
        return {
            "type": sco_type,
            "spec_version": "2.1",
            "id": deterministic_sco_id(sco_type, {"value": value}),
            "value": value,
            "object_marking_refs": list(self.markings),
            **self._shared(),
        }

    def identity(self, identity_id: str, name: str) -> dict[str, Any]:
        """An organisation's identity: TLP:CLEAR and a fixed ``created``/``modified``, so that
        every report carries the same object."""
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created_by_ref": self.created_by,
            "created": _IDENTITY_TIMESTAMP,
            "modified": _IDENTITY_TIMESTAMP,
            "name": name,
            "identity_class": "organization",
            "object_marking_refs": [TLP2_IDS["clear"]],
        }


def _leak_check(objects: list[dict[str, Any]], facts: ReportFacts) -> None:
    text = orjson.dumps(objects).decode("utf-8").casefold()
    region = facts.personal_region
    candidates: list[tuple[str, str | None, str]] = []
    if facts.provider_account_id is not None:
        candidates.append(("provider_account_id", None, facts.provider_account_id))
    candidates += [(f"personal.{k}", k, v) for k, v in facts.personal.items()]
    found: list[Problem] = []
    for label, kind, raw in candidates:
        forms = {raw.strip().casefold()}
        if kind:
            forms.add(normalise(kind, raw, default_region=region).casefold())
        if any(len(f) >= _MIN_LEAK_CHECK_LEN and f in text for f in forms):
            # The fault is in the free text or the resources, which of them is not said.
            found.append(Problem(Code.PERSONAL_DATA,
                                 f"the raw value of {label} appears in the report: remove it "
                                 "from the summary, names and resources"))
    found += [Problem(reason.code, f"{obj['type']} {reason}")
              for obj in objects for reason in scan_object(obj)]
    if found:
        raise InvalidReportFacts(found)


def _pseudonyms(facts: ReportFacts, pseudonymiser: Pseudonymiser) -> tuple[str, dict[str, str]]:
    """The account's pseudonym and the holder's, by kind. Pseudonyms made where the values are
    (``facts.pseudonyms``) are used as they are. The account id is scoped by the provider, so
    that account "12345" at two providers gives two pseudonyms."""
    account = facts.pseudonyms.get("provider_account") or pseudonymiser.pseudonym(
        "provider_account",
        provider_account_value(facts.provider_identity_id, facts.provider_account_id or ""))
    region = facts.personal_region
    personal = {
        kind: facts.pseudonyms.get(kind) or pseudonymiser.pseudonym(
            kind, normalise(kind, facts.personal[kind], default_region=region))
        for kind in PERSONAL_KINDS
        if kind in facts.personal or kind in facts.pseudonyms
    }
    return account, personal


def _account(facts: ReportFacts, pseudonymiser: Pseudonymiser, scos: list[dict[str, Any]],
             b: ObjectBuilder) -> dict[str, Any]:
    """The user-account with the IaaS-account extension: the properties the table of the facts
    says (hub.stix.report_facts), the pseudonyms and the resources' ids among them."""
    account_pseudonym, pseudonyms = _pseudonyms(facts, pseudonymiser)
    ext = {"extension_type": "property-extension", **type(facts).model().stix_values(facts, {
        "provider_account_pseudonym": account_pseudonym,
        "pseudonyms": pseudonyms,  # the schema wants a non-empty object, or none
        "abused_resource_refs": [s["id"] for s in scos],
    })}
    account: dict[str, Any] = {
        "type": "user-account",
        "spec_version": "2.1",
        "account_type": "cloud-iaas",
        "user_id": account_pseudonym,
        "object_marking_refs": list(b.markings),
        "extensions": {IAAS_ACCOUNT_EXTENSION_ID: ext, **b.extensions()},
    }
    # STIX 2.1 names account_type, user_id and account_login as the id-contributing properties
    # of a user-account. Here every property contributes, the extension's facts included: an
    # observable has no versions, so a later report with new facts about the same account (a
    # later last_seen, "terminated") must be a new object, or the hub would answer "already
    # stored" and keep the old facts. The same facts give the same id (a resubmission stays
    # idempotent); reports about one account are linked by its pseudonym (correlations/).
    return {"type": "user-account", "spec_version": "2.1",
            "id": deterministic_sco_id("user-account", account), **account}


def _confidence(facts: ReportFacts) -> dict[str, Any]:
    return {} if facts.confidence is None else {"confidence": facts.confidence}


def _indicators(b: ObjectBuilder, facts: ReportFacts, scos: list[dict[str, Any]],
                infrastructure_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An indicator per resource, and the relationships: each indicator indicates the
    infrastructure, which consists of each resource."""
    valid_until = format_timestamp(b.now + timedelta(days=facts.indicator_validity_days))
    indicators = [b.sdo(
        "indicator",
        # The value is in the pattern; keeping it out of the name keeps free text clean.
        name=f"Abused IaaS resource ({sco['type']})",
        description=(f"A resource ({sco['type']}) of an IaaS account at {facts.provider_name}, "
                     f"abused for {', '.join(facts.abuse_types)}."),
        indicator_types=["malicious-activity"],
        pattern=_pattern(sco["type"], sco["value"]),
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=b.ts,
        valid_until=valid_until,
        **_confidence(facts),
    ) for sco in scos]
    relationships = [b.relationship("indicates", i["id"], infrastructure_id) for i in indicators]
    relationships += [b.relationship("consists-of", infrastructure_id, s["id"]) for s in scos]
    return indicators, relationships


def acs_marking(facts: ReportFacts, report_id: str, b: ObjectBuilder) -> dict[str, Any] | None:
    """The ACS 3.0 marking-definition of the report ``report_id`` made from the facts' ACS
    choices (None when there are none), as AIS 2.0 marks what it shares.

    Its ``identifier`` is ``isa:guide.19001.ACS3-<uuid>``, the UUIDv5 of the report's id in
    :data:`ACS_NAMESPACE` (its STIX id is a UUIDv4, as STIX 2.1 asks of every id but an SCO's);
    ``responsible_entity_custodian`` is ``acs_custodian``;
    ``control_set`` is unclassified (``U``) with the formal determination ``AIS`` (readers must
    have accepted the programme's terms); one ``access_privilege`` rule permits ``ALL`` actions
    to readers in the chosen countries, organisations and entity types (``["ALL"]`` for a list
    not chosen), and nobody else (``privdefault=deny``); ``sharedefault`` is ``permit`` only
    with ``acs_further_sharing``. No ``name``: a consumer such as misp-stix would read a name
    instead of the marking's fields.
    """
    if not any(getattr(facts, choice) for choice in ACS_CHOICES):
        return None
    assert facts.acs_custodian is not None  # ReportFacts requires it with any ACS choice
    u = uuid.uuid5(ACS_NAMESPACE, report_id)
    share = "permit" if facts.acs_further_sharing else "deny"
    scope = {
        "permitted_nationalities": list(facts.acs_countries or ["ALL"]),
        "permitted_organizations": list(facts.acs_organisations or ["ALL"]),
        "shareability": ["ALL"],
        "entity": list(facts.acs_entities or ["ALL"]),
    }
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created_by_ref": b.created_by,
        "created": b.ts,
        "extensions": {ACS_EXTENSION_ID: {
            "extension_type": "property-extension",
            "identifier": f"isa:guide.19001.ACS3-{u}",
            "create_date_time": b.ts,
            "responsible_entity_custodian": facts.acs_custodian,
            "policy_reference": f"urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault={share}",
            "control_set": {"classification": "U", "formal_determination": ["AIS"]},
            "access_privilege": [{"privilege_action": "ALL", "privilege_scope": scope,
                                  "rule_effect": "permit"}],
        }},
    }


def _sharing(facts: ReportFacts) -> dict[str, Sequence[str]]:
    """The sharing extension's lists the facts give (none: no extension)."""
    return {"recipients": facts.recipients or (), "organisations": facts.share_with or ()}


def build_report(
    facts: ReportFacts,
    pseudonymiser: Pseudonymiser,
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """STIX 2.1 objects (plain dicts) reporting one abused IaaS account; the report is last,
    the ACS marking-definition (if the facts make one) first.

    ``pseudonymiser`` is usually the hub's :class:`~hub.pseudonyms.PseudonymKeyring`. ``now``
    (default: the current time) sets ``created``/``modified``, ``published`` and the indicators'
    ``valid_from``; ``valid_until`` is ``indicator_validity_days`` later. Raises
    :class:`InvalidReportFacts` if a raw personal value would reach the output.
    """
    report_id = f"report--{uuid.uuid4()}"
    b = ObjectBuilder(facts.provider_identity_id, facts.tlp, now, sharing=_sharing(facts))
    marking = acs_marking(facts, report_id, b)
    if marking is not None:
        b.markings.append(marking["id"])
    definitions = [] if marking is None else [marking]
    objects: list[dict[str, Any]] = [b.identity(facts.provider_identity_id, facts.provider_name)]
    if facts.reseller_identity_id is not None:
        assert facts.reseller_name
        objects.append(b.identity(facts.reseller_identity_id, facts.reseller_name))
    # Resources: SCOs with deterministic ids, in the order given.
    scos = [b.sco(*classify_resource(resource)) for resource in facts.resources]
    account = _account(facts, pseudonymiser, scos, b)
    objects.append(account)
    objects.extend(scos)

    infra_types = sorted({ABUSE_TYPE_INFRASTRUCTURE[t] for t in facts.abuse_types} - {"unknown"})
    infrastructure = b.sdo(
        "infrastructure",
        name=f"Abused IaaS account resources at {facts.provider_name}",
        infrastructure_types=infra_types or ["unknown"],
        first_seen=format_timestamp(facts.first_abuse_seen),
        last_seen=format_timestamp(facts.last_seen),
        **_confidence(facts),
    )
    objects.append(infrastructure)
    indicators, relationships = _indicators(b, facts, scos, infrastructure["id"])
    objects.extend(indicators)
    relationships.append(b.relationship("consists-of", infrastructure["id"], account["id"]))
    objects.extend(relationships)

    objects.append(b.sdo(
        "report",
        stix_id=report_id,
        name=facts.report_name or f"Abused IaaS account reported by {facts.provider_name}",
        description=facts.summary,
        # report-type-ov has no "infrastructure": the report characterises indicators of an
        # abused account seen from several facets.
        report_types=["threat-report", "indicator"],
        published=b.ts,
        object_refs=[o["id"] for o in objects],
        **_confidence(facts),
    ))
    objects = definitions + objects
    _leak_check(objects, facts)
    return objects


def build_sighting(
    indicator_id: str,
    sighted_by_ref: str,
    *,
    where_sighted_refs: Sequence[str] | None = None,
    count: int = 1,
    first_seen: datetime | str | None = None,
    last_seen: datetime | str | None = None,
    tlp: str = "amber",
    description: str | None = None,
    confidence: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A ``sighting`` of an indicator by another party: "seen here too".

    ``sighted_by_ref`` (an identity id) is the ``created_by_ref``; ``where_sighted_refs``
    (identity or location ids) defaults to it. The facts are :class:`SightingFacts`; raises
    :class:`InvalidReportFacts`.
    """
    facts = SightingFacts(
        sighting_of_ref=indicator_id, sighted_by_ref=sighted_by_ref,
        where_sighted_refs=where_sighted_refs if where_sighted_refs is not None else [sighted_by_ref],  # type: ignore[arg-type]
        count=count, first_seen=first_seen, last_seen=last_seen, tlp=tlp,  # type: ignore[arg-type]
        description=description, confidence=confidence)
    b = ObjectBuilder(facts.sighted_by_ref, facts.tlp, now)
    return b.sdo("sighting", **SightingFacts.model().stix_values(facts))
