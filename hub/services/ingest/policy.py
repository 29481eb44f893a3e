"""The collection policies every submitted object meets, besides signatures.

- Full STIX 2.1 validity, including the IaaS-account extension (:mod:`hub.stix.validator`),
  in every collection.
- Markings: nothing above the collection's TLP ceiling, and no marking definition the hub does
  not know (fail closed). A non-TLP marking definition is known when it is stored in the same
  collection, or when the same envelope carries it and the hub accepts it: the ingest pipeline
  judges an envelope's marking definitions before its other objects, so the order inside the
  envelope does not matter, and a definition that is itself refused makes its users refused
  too. Only objects that reference a non-TLP marking pay for this: one indexed lookup per
  submission and unknown id, remembered for the rest of the submission. A definition stored in
  another collection does not count: what a collection's readers may see must be defined in it.
- Personal data: in collections that do not allow it, raw personal values are refused, in the
  extension's pseudonym fields and in free text alike.

Reasons never quote a submitted value that may be personal data: they go to the submitter's
status resource and to the audit trail. The checks return :class:`~hub.common.problems.Problem`
values; a problem that quotes a submitted value (the validator quotes some bad values back: a
malformed URL, a language tag) is told without it (``problem.without_value()``: the value
described by its type and length). Decisions read ``problem.code``, never the message.
"""

from __future__ import annotations

from typing import Any

import orjson

from hub.common.ids import is_stix_id
from hub.common.problems import Code, Problem
from hub.services.ingest.checks import CheckContext, ObjectCheck
from hub.stix.markings import TLP_LEVEL_BY_ID, check_markings, tlp_level
from hub.stix.pii import scan_object
from hub.stix.validator import validate
from hub.store.base import Store
from hub.store.records import ObjectFilter

_SHOWN_ERRORS = 3


def _summary(code: str, lead: str, problems: list[Problem], tail: str = "") -> Problem:
    """One refusal telling the first problems (each without a submitted value) and how many
    more; its property is the first problem's."""
    shown = [p.without_value() for p in problems[:_SHOWN_ERRORS]]
    more = f" (and {len(problems) - _SHOWN_ERRORS} more)" if len(problems) > _SHOWN_ERRORS else ""
    return Problem(code, lead + "; ".join(p.message for p in shown) + more + tail, shown[0].property)


def check_valid_stix(obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
    """Every problem of the object as STIX 2.1 (the first three, and how many more)."""
    problems = validate(obj)
    if not problems:
        return None
    return _summary(Code.INVALID_STIX, "invalid STIX 2.1: ", problems)


def check_personal_data(obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
    """Raw personal values, unless the collection allows them."""
    if ctx.collection.allow_personal_data:
        return None
    problems = scan_object(obj)
    if not problems:
        return None
    return _summary(Code.PERSONAL_DATA, "personal data in clear is refused here: ", problems,
                    " (send keyed pseudonyms instead: POST pseudonyms/ under the API root makes them)")


def _marking_refs(obj: dict[str, Any]) -> set[str]:
    """Every non-TLP marking-definition id the object references (well-formed ones only)."""
    refs = obj.get("object_marking_refs")
    found = set(refs) if isinstance(refs, list) and all(isinstance(r, str) for r in refs) else set()
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        found.update(gm["marking_ref"] for gm in granular
                     if isinstance(gm, dict) and isinstance(gm.get("marking_ref"), str))
    return {r for r in found if r not in TLP_LEVEL_BY_ID and is_stix_id(r, "marking-definition")}


def marking_definitions(store: Store, obj: dict[str, Any], ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """The non-TLP marking definitions ``obj`` references that the hub knows, by id: those of
    the same envelope the hub accepted, and those stored in the collection. A stored one is
    looked up once per submission (one indexed query for the ids not seen yet)."""
    refs = _marking_refs(obj)
    if not refs:
        return {}
    stored: dict[str, dict[str, Any]] = ctx.cache.setdefault("stored_definitions", {})
    looked_up: set[str] = ctx.cache.setdefault("looked_up_markings", set())
    missing = refs - looked_up - ctx.accepted_definitions.keys()
    if missing:
        looked_up.update(missing)
        page = store.query_objects(
            ctx.collection.pk,
            ObjectFilter(ids=tuple(sorted(missing)), types=("marking-definition",)),
            None, len(missing))
        for item in page.items:
            definition = orjson.loads(item.json_text)
            if isinstance(definition, dict):
                stored[item.stix_id] = definition
    found: dict[str, dict[str, Any]] = {}
    for ref in refs:
        definition = ctx.accepted_definitions.get(ref) or stored.get(ref)
        if definition is not None:
            found[ref] = definition
    return found


def make_marking_check(store: Store) -> ObjectCheck:
    """The markings check: TLP ceiling, and unknown marking definitions refused."""

    def check(obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
        level = ctx.cache.get("max_tlp_level")
        if level is None:
            level = ctx.cache["max_tlp_level"] = tlp_level(ctx.collection.max_tlp)
        problem = check_markings(obj, level)
        if problem is None or problem.code != Code.UNKNOWN_MARKING:
            return problem
        # Rare path: the object uses a marking definition that is not TLP.
        known = marking_definitions(store, obj, ctx).keys() | ctx.accepted_markings
        return check_markings(obj, level, known)

    return check


def policy_checks(store: Store) -> tuple[ObjectCheck, ...]:
    """The policy checks in order: cheap and common failures first (signatures come after)."""
    return (check_valid_stix, make_marking_check(store), check_personal_data)
