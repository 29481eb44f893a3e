"""Notices and acknowledgements as STIX 2.1 objects: their check, their schema, their builder.

A notice is a new SDO, ``abusehub-notice``, defined by the hub's extension-definition
:data:`~hub.stix.extensions.NOTICE_EXTENSION_ID` (shipped in ``schemas/notice/``); a provider's
answer is a new SDO ``abusehub-notice-ack`` (:data:`~hub.stix.extensions.NOTICE_ACK_EXTENSION_ID`).
Their own properties are the STIX properties of the tables in :mod:`hub.stix.notice_facts`
(each fact's ``stix=``): :func:`check_notice_object` checks an object by that table on every
submission (the validator calls it), :func:`notice_schema` and :func:`ack_schema` write the same
rules as the JSON Schemas shipped beside the definitions (``tools/gen_notice_schema.py``).

A notice is signed by its agency and versioned like any SDO: withdrawing it is a new version
with ``withdrawn: true`` (:func:`withdrawn_version`); a notice that replaces another names it in
``supersedes_ref``. An acknowledgement has one id per notice and provider
(:func:`ack_id`), so a later answer (received, then applied) is a new version of it; it is
marked TLP:RED with the hub's sharing extension naming the issuing agency and the provider as
its recipients, so that the markings decide who reads it (only those two).

A hub that carries a notice issued at another hub reports, for the issuing agency, the
providers it serves that the notice addresses and where each stands, in a roster
(``abusehub-notice-roster``, :data:`ROSTER_EXTENSION_ID`): one id per notice and hub
(:func:`roster_id`), each report a new version, made and signed by that hub with its own key,
TLP:RED for the agency (:func:`build_roster`); it travels back over the ordinary links.

Messages name the property at fault and describe a bad value by its JSON type, never quote it.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.common.ids import is_stix_id
from hub.common.problems import Code, Problem
from hub.common.timestamps import InvalidTimestamp, format_timestamp_ms, parse_timestamp_us
from hub.signing import SIGNATURE_EXTENSION_ID
from hub.stix.extensions import NOTICE_ACK_EXTENSION_ID, NOTICE_EXTENSION_ID, SHARING_EXTENSION_ID
from hub.stix.facts import SCHEMA_DEFS, Found, Stix, StixId, StixShape, Type, got, stix_schema
from hub.stix.markings import tlp_marking_id
from hub.stix.notice_facts import (
    ACK_TYPE,
    NOTICE_TYPE,
    REQUEST_KINDS,
    ROSTER_TYPE,
    SCOPE_FACTS,
    AckFacts,
    NoticeFacts,
    RosterFacts,
)

__all__ = [
    "ACK_PROPERTIES",
    "NOTICE_PROPERTIES",
    "ROSTER_EXTENSION_ID",
    "ROSTER_PROPERTIES",
    "ack_id",
    "ack_schema",
    "addressed_to",
    "build_ack",
    "build_notice",
    "build_roster",
    "check_notice_object",
    "due_us",
    "in_force",
    "notice_schema",
    "roster_id",
    "roster_schema",
    "withdrawn_version",
]

#: The namespace of acknowledgement ids (UUIDv5 of the notice id and the provider's identity).
ACK_NAMESPACE = uuid.UUID("14adfb0f-66cc-4287-b1cd-6cdabdad8bd3")
#: The namespace of roster ids (UUIDv5 of the notice id and the hub's identity).
ROSTER_NAMESPACE = uuid.UUID("66788233-e06a-480f-b299-f4d1922ee061")
#: New SDO ``abusehub-notice-roster``: a hub's signed roster of a notice it carries from another
#: hub (shipped in ``schemas/notice/roster-extension-definition.json``).
ROSTER_EXTENSION_ID = "extension-definition--f0bda107-a1ed-4eb0-8c28-8cbebf090e8e"

#: A notice's own properties (besides the common ones), in the order of the schema.
NOTICE_PROPERTIES: tuple[tuple[Stix, Type], ...] = NoticeFacts.model().stix_properties()
#: An acknowledgement's own properties.
ACK_PROPERTIES: tuple[tuple[Stix, Type], ...] = AckFacts.model().stix_properties()
#: A roster's own properties.
ROSTER_PROPERTIES: tuple[tuple[Stix, Type], ...] = RosterFacts.model().stix_properties()

# The common properties an object of either type may carry (the validator checks them).
_COMMON = frozenset({"type", "spec_version", "id", "created", "modified", "created_by_ref",
                     "extensions", "object_marking_refs", "granular_markings", "labels",
                     "external_references", "lang", "confidence", "revoked"})
_SHAPES = {NOTICE_TYPE: StixShape(NOTICE_PROPERTIES), ACK_TYPE: StixShape(ACK_PROPERTIES),
           ROSTER_TYPE: StixShape(ROSTER_PROPERTIES)}
_EXTENSION = {NOTICE_TYPE: NOTICE_EXTENSION_ID, ACK_TYPE: NOTICE_ACK_EXTENSION_ID, ROSTER_TYPE: ROSTER_EXTENSION_ID}
_TYPE_OF = {ext: obj_type for obj_type, ext in _EXTENSION.items()}
_WHAT = {NOTICE_TYPE: "notice", ACK_TYPE: "notice acknowledgement", ROSTER_TYPE: "notice roster"}


# -- the check on ingest -----------------------------------------------------------------------------


def check_notice_object(obj: dict[str, Any], obj_type: str) -> list[Problem]:
    """Every way ``obj`` breaks the notice or acknowledgement definition (empty: none, and for
    any object of another type that does not carry either extension)."""
    exts = obj.get("extensions")
    ext_keys = set(exts) & set(_TYPE_OF) if isinstance(exts, dict) else set()
    if obj_type not in _SHAPES:
        return [Problem(Code.INVALID_EXTENSION, f"extensions[{key!r}]: this extension defines the type "
                        f"{_type_of(key)!r}, not {obj_type!r}", f"extensions[{key!r}]")
                for key in sorted(ext_keys)]
    found = Found(f"{_WHAT[obj_type]}: ")
    ext_id = _EXTENSION[obj_type]
    if not isinstance(exts, dict) or ext_id not in exts:
        found.add(Code.MISSING_PROPERTY, "extensions",
                  f"an {obj_type} must carry its extension {ext_id} (extension_type 'new-sdo')")
    elif exts[ext_id] != {"extension_type": "new-sdo"}:
        found.add(Code.INVALID_EXTENSION, f"extensions[{ext_id!r}]",
                  f"extensions[{ext_id!r}] must be exactly {{\"extension_type\": \"new-sdo\"}}")
    for key in ext_keys - {ext_id}:
        found.add(Code.INVALID_EXTENSION, f"extensions[{key!r}]",
                  f"extensions[{key!r}] defines another type, {_type_of(key)!r}")
    if not is_stix_id(obj.get("created_by_ref"), "identity"):
        found.add(Code.MISSING_PROPERTY, "created_by_ref",
                  f"created_by_ref must name the identity that issued it; {got(obj.get('created_by_ref'))}")
    body = {k: v for k, v in obj.items() if k not in _COMMON}
    _SHAPES[obj_type].check(body, found)
    if obj_type == NOTICE_TYPE:
        _notice_rules(body, found)
    return found.problems


def _type_of(ext_id: str) -> str:
    return _TYPE_OF[ext_id]


def _us(value: Any) -> int | None:
    try:
        return parse_timestamp_us(value)
    except InvalidTimestamp:
        return None


def _notice_rules(body: Mapping[str, Any], found: Found) -> None:
    """The rules over several properties (the facts' rules, on the STIX values)."""
    start, end = _us(body.get("effective_from")), _us(body.get("effective_until"))
    if start is not None and end is not None and end < start:
        found.add(Code.TIMESTAMP_ORDER, "effective_until", "effective_until is earlier than effective_from")
    kind = body.get("notice_kind")
    if kind == "special-measure" and not any(name in body for name in SCOPE_FACTS):
        found.add(Code.MISSING_PROPERTY, "", f"a special-measure names at least one of {', '.join(SCOPE_FACTS)}")
    if kind in REQUEST_KINDS and "account_pseudonyms" not in body and "report_ref" not in body:
        found.add(Code.MISSING_PROPERTY, "", f"a {kind} names account_pseudonyms or report_ref")


# -- the schemas ---------------------------------------------------------------------------------------


def _object_schema(obj_type: str, props: tuple[tuple[Stix, Type], ...], title: str) -> dict[str, Any]:
    ext_id = _EXTENSION[obj_type]
    own = stix_schema(props)
    properties = {
        "type": {"const": obj_type},
        "spec_version": {"const": "2.1"},
        "id": {"type": "string", "pattern": f"^{obj_type}--[0-9a-f]{{8}}-[0-9a-f]{{4}}-[1-5][0-9a-f]{{3}}-"
                                            "[89ab][0-9a-f]{3}-[0-9a-f]{12}$"},
        "created": {"$ref": "#/$defs/timestamp"},
        "modified": {"$ref": "#/$defs/timestamp"},
        "created_by_ref": StixId("identity").schema(),
        "extensions": {"type": "object",
                       "properties": {ext_id: {"type": "object",
                                               "properties": {"extension_type": {"const": "new-sdo"}},
                                               "required": ["extension_type"],
                                               "additionalProperties": False}},
                       "required": [ext_id]},
        **{name: {} for name in sorted(_COMMON - {"type", "spec_version", "id", "created", "modified",
                                                  "created_by_ref", "extensions"})},
        **own["properties"],
    }
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{title} ({ext_id})",
        "description": f"A STIX 2.1 {obj_type} object, the new SDO of the abusehub extension {ext_id}.",
        "type": "object",
        "properties": properties,
        "required": ["type", "spec_version", "id", "created", "modified", "created_by_ref", "extensions",
                     *own["required"]],
        "additionalProperties": False,
        "$defs": dict(SCHEMA_DEFS),
    }
    if "allOf" in own:
        schema["allOf"] = own["allOf"]
    return schema


def notice_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a notice, as shipped in ``schemas/notice/notice.schema.json``."""
    return _object_schema(NOTICE_TYPE, NOTICE_PROPERTIES, "abusehub notice")


def ack_schema() -> dict[str, Any]:
    """The JSON Schema of an acknowledgement (``schemas/notice/notice-ack.schema.json``)."""
    return _object_schema(ACK_TYPE, ACK_PROPERTIES, "abusehub notice acknowledgement")


def roster_schema() -> dict[str, Any]:
    """The JSON Schema of a hub's roster (``schemas/notice/notice-roster.schema.json``)."""
    return _object_schema(ROSTER_TYPE, ROSTER_PROPERTIES, "abusehub notice roster")


# -- building ----------------------------------------------------------------------------------------


def _ms(now: datetime | None) -> datetime:
    dt = (now or datetime.now(UTC)).astimezone(UTC)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def build_notice(facts: NoticeFacts, *, now: datetime | None = None, notice_id: str | None = None) -> dict[str, Any]:
    """The notice ``facts`` describe, unsigned (sign it as the issuing agency). TLP:RED notices
    name their addressees as the sharing extension's recipients."""
    ts = format_timestamp_ms(_ms(now))
    exts: dict[str, Any] = {NOTICE_EXTENSION_ID: {"extension_type": "new-sdo"}}
    if facts.tlp == "red" and facts.addressee_refs:
        exts[SHARING_EXTENSION_ID] = {"extension_type": "property-extension",
                                      "recipients": sorted(facts.addressee_refs)}
    return {
        "type": NOTICE_TYPE, "spec_version": "2.1", "id": notice_id or f"{NOTICE_TYPE}--{uuid.uuid4()}",
        "created": ts, "modified": ts, "created_by_ref": facts.issuer_identity_id,
        **NoticeFacts.model().stix_values(facts),
        "object_marking_refs": [tlp_marking_id(facts.tlp)],
        "extensions": exts,
    }


def withdrawn_version(notice: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """The next version of ``notice`` saying it is withdrawn, unsigned (its signatures are of the
    previous version); ``modified`` is now, or a millisecond after the previous one."""
    obj = {k: v for k, v in notice.items()}
    exts = {k: v for k, v in obj.get("extensions", {}).items() if k != SIGNATURE_EXTENSION_ID}
    obj["extensions"] = exts
    previous = parse_timestamp_us(notice["modified"])
    stamp = max(int(_ms(now).timestamp() * 1_000_000), previous + 1000)
    obj["modified"] = format_timestamp_ms(datetime.fromtimestamp(stamp / 1_000_000, UTC))
    obj["withdrawn"] = True
    return obj


@functools.lru_cache(maxsize=65536)  # a status asks it for every addressee, again and again
def ack_id(notice_ref: str, provider: str) -> str:
    """The one id of ``provider``'s acknowledgements of ``notice_ref`` (each answer a version)."""
    return f"{ACK_TYPE}--{uuid.uuid5(ACK_NAMESPACE, notice_ref + '|' + provider)}"


def build_ack(facts: AckFacts, *, provider: str, agency: str, now: datetime | None = None) -> dict[str, Any]:
    """``provider``'s acknowledgement, unsigned: TLP:RED, readable by ``agency`` (the notice's
    issuer) and the provider only."""
    ts = format_timestamp_ms(_ms(now))
    return {
        "type": ACK_TYPE, "spec_version": "2.1", "id": ack_id(facts.notice_ref, provider),
        "created": ts, "modified": ts, "created_by_ref": provider,
        **AckFacts.model().stix_values(facts),
        "object_marking_refs": [tlp_marking_id("red")],
        "extensions": {NOTICE_ACK_EXTENSION_ID: {"extension_type": "new-sdo"},
                       SHARING_EXTENSION_ID: {"extension_type": "property-extension",
                                              "recipients": sorted({agency, provider})}},
    }


def roster_id(notice_ref: str, hub: str) -> str:
    """The one id of ``hub``'s rosters of ``notice_ref`` (each a version)."""
    return f"{ROSTER_TYPE}--{uuid.uuid5(ROSTER_NAMESPACE, notice_ref + '|' + hub)}"


def build_roster(facts: RosterFacts, *, hub: str, agency: str, now: datetime | None = None,
                 previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``hub``'s roster of a notice, unsigned (sign it with the hub's key): TLP:RED, readable by
    ``agency`` (the notice's issuer) and the hub. ``previous``: the roster's version before,
    whose ``created`` it keeps and whose ``modified`` it passes by at least a millisecond."""
    stamp = _ms(now)
    modified = format_timestamp_ms(stamp)
    created = modified
    if previous is not None:
        created = str(previous.get("created", modified))
        before = parse_timestamp_us(str(previous["modified"]))
        after = max(int(stamp.timestamp() * 1_000_000), before + 1000)
        modified = format_timestamp_ms(datetime.fromtimestamp(after / 1_000_000, UTC))
    return {
        "type": ROSTER_TYPE, "spec_version": "2.1", "id": roster_id(facts.notice_ref, hub),
        "created": created, "modified": modified, "created_by_ref": hub,
        **RosterFacts.model().stix_values(facts),
        "object_marking_refs": [tlp_marking_id("red")],
        "extensions": {ROSTER_EXTENSION_ID: {"extension_type": "new-sdo"},
                       SHARING_EXTENSION_ID: {"extension_type": "property-extension", "recipients": [agency]}},
    }


# -- reading -----------------------------------------------------------------------------------------


def addressed_to(notice: Mapping[str, Any], identity: str) -> bool:
    """Whether ``notice`` addresses ``identity`` (named, or every provider when none is named)."""
    named = notice.get("addressee_refs")
    return not named or identity in named


def due_us(notice: Mapping[str, Any]) -> int | None:
    """When the addressees must have answered: ``acknowledge_by``, else ``respond_by``, else
    ``effective_from``; None for a notice with none (an advisory)."""
    for prop in ("acknowledge_by", "respond_by", "effective_from"):
        if prop in notice:
            return _us(notice[prop])
    return None


def in_force(notice: Mapping[str, Any], now_us: int) -> bool:
    """Whether ``notice`` (its newest version) applies at ``now_us``: not withdrawn, started (or
    with no start) and not ended."""
    if notice.get("withdrawn") is True:
        return False
    start, end = _us(notice.get("effective_from")), _us(notice.get("effective_until"))
    return (start is None or start <= now_us) and (end is None or now_us < end)
