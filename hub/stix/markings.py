"""Traffic Light Protocol markings: ids, order, and the collection check on ingest.

Two generations of TLP marking-definitions are accepted:

- TLP 1.0, predefined by STIX 2.1 section 7.2.1.4 (white, green, amber, red);
- TLP 2.0, published by OASIS in cti-stix-common-objects as marking-definitions carrying the
  property-extension ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``
  (clear, green, amber, amber+strict, red).

Both map onto one order, from least to most restrictive::

    CLEAR = WHITE (0) < GREEN (1) < AMBER (2, TLP 1.0 amber too) < AMBER+STRICT (3) < RED (4)

A collection allows a maximum level; :func:`check_markings` refuses an object above it, and
refuses any marking-definition id that is neither TLP nor known to the hub (fail closed: a
marking we do not understand may forbid what we are about to do with the object). Its refusals
are :class:`~hub.common.problems.Problem` values with the codes ``tlp-above-ceiling``,
``unknown-marking``, ``tlp-definition-mismatch`` and ``invalid-marking-ref``; they quote only
well-formed marking-definition ids, never a submitted value of another kind.
"""

from __future__ import annotations

from typing import Any, Final

from hub.common.ids import is_stix_id
from hub.common.problems import Code, Problem

__all__ = [
    "CLEAR",
    "GREEN",
    "AMBER",
    "AMBER_STRICT",
    "RED",
    "TLP1_IDS",
    "TLP2_IDS",
    "TLP_NAMES",
    "TLP2_EXTENSION_ID",
    "TLP_LEVEL_BY_ID",
    "TLP_MARKING_OBJECTS",
    "check_markings",
    "level_name",
    "object_tlp",
    "tlp_level",
    "tlp_marking_id",
]

CLEAR: Final = 0
GREEN: Final = 1
AMBER: Final = 2
AMBER_STRICT: Final = 3
RED: Final = 4

#: The TLP 2.0 names, from least to most restrictive (their index is their level): the names a
#: report's ``tlp`` takes, and the only place they are written out.
TLP_NAMES: Final = ("clear", "green", "amber", "amber+strict", "red")

_LEVEL_NAMES = tuple(name.upper() for name in TLP_NAMES)

#: The extension-definition that TLP 2.0 marking-definitions carry.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: TLP 2.0 marking-definition ids (oasis-open/cti-stix-common-objects, tlp-2.0).
TLP2_IDS: Final[dict[str, str]] = dict(zip(TLP_NAMES, (
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
), strict=True))

#: The ``created`` of the four TLP 1.0 marking-definitions.
TLP1_CREATED: Final = "2017-01-20T00:00:00.000Z"

#: TLP 1.0 marking-definition ids predefined by STIX 2.1 section 7.2.1.4.
TLP1_IDS: Final[dict[str, str]] = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

# TLP 1.0's WHITE is TLP 2.0's CLEAR.
_LEVEL_BY_NAME: Final[dict[str, int]] = {
    **{name: level for level, name in enumerate(TLP_NAMES)},
    "white": CLEAR,
}

#: Level of every TLP marking-definition id, both generations.
TLP_LEVEL_BY_ID: Final[dict[str, int]] = {
    **{mid: _LEVEL_BY_NAME[name] for name, mid in TLP1_IDS.items()},
    **{mid: _LEVEL_BY_NAME[name] for name, mid in TLP2_IDS.items()},
}


def _tlp1(name: str) -> dict[str, Any]:
    # As in STIX 2.1 section 7.2.1.4 (and the OASIS python-stix2 library's TLP_* constants).
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP1_IDS[name],
        "created": TLP1_CREATED,
        "definition_type": "tlp",
        "name": f"TLP:{name.upper()}",
        "definition": {"tlp": name},
    }


def _tlp2(name: str) -> dict[str, Any]:
    # As published in oasis-open/cti-stix-common-objects
    # (objects/marking-definition/ and extension-definition-specifications/tlp-2.0/examples/).
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[name],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{name.upper()}",
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": name}
        },
    }


#: The nine TLP marking-definition objects (TLP 1.0 then TLP 2.0), to seed a hub or a bundle.
#: Treat as read-only.
TLP_MARKING_OBJECTS: Final[tuple[dict[str, Any], ...]] = tuple(
    [_tlp1(n) for n in TLP1_IDS] + [_tlp2(n) for n in TLP2_IDS]
)

_CANONICAL_TLP_NAME: Final[dict[str, str]] = {
    **{mid: name for name, mid in TLP1_IDS.items()},
    **{mid: name for name, mid in TLP2_IDS.items()},
}


def tlp_level(name: str) -> int:
    """The level (0-4) of a TLP name: clear, white, green, amber, amber+strict, red.

    Case-insensitive; a ``TLP:`` prefix is allowed. Raises ``ValueError`` for anything else.
    """
    if isinstance(name, str):
        key = name.strip().lower()
        if key.startswith("tlp:"):
            key = key[4:]
        level = _LEVEL_BY_NAME.get(key)
        if level is not None:
            return level
    raise ValueError(
        f"unknown TLP level {name!r}: expected clear, white, green, amber, amber+strict or red"
    )


def level_name(level: int) -> str:
    """``TLP:<NAME>`` of a level, e.g. ``level_name(2) == "TLP:AMBER"`` (level 0 is CLEAR)."""
    return f"TLP:{_LEVEL_NAMES[level]}"


def tlp_marking_id(name: str) -> str:
    """The TLP 2.0 marking-definition id for a TLP name (``white`` gives TLP:CLEAR's id)."""
    return TLP2_IDS[_LEVEL_NAMES[tlp_level(name)].lower()]


def object_tlp(obj: dict[str, Any]) -> int | None:
    """The most restrictive TLP level in ``object_marking_refs``, or None if it has none.

    Only object-level markings count here; :func:`check_markings` also looks at granular ones.
    """
    refs = obj.get("object_marking_refs")
    if not isinstance(refs, list):
        return None
    levels = [TLP_LEVEL_BY_ID[r] for r in refs if isinstance(r, str) and r in TLP_LEVEL_BY_ID]
    return max(levels) if levels else None


def _tlp_definition_is_faithful(obj: dict[str, Any]) -> bool:
    """A marking-definition with a TLP id must state that same TLP level."""
    name = _CANONICAL_TLP_NAME[obj["id"]]
    if obj["id"] in TLP1_IDS.values():
        definition = obj.get("definition")
        return obj.get("definition_type") == "tlp" and definition == {"tlp": name}
    ext = (obj.get("extensions") or {}).get(TLP2_EXTENSION_ID)
    return isinstance(ext, dict) and ext.get("tlp_2_0") == name


def check_markings(
    obj: dict[str, Any],
    max_level: int,
    known_marking_ids: frozenset[str] | set[str] = frozenset(),
) -> Problem | None:
    """Why ``obj`` may not enter a collection allowing at most TLP ``max_level``; None if it may.

    Looks at ``object_marking_refs`` and ``granular_markings[*].marking_ref``. Refused:

    - a TLP marking above ``max_level`` (``tlp-above-ceiling``);
    - a marking-definition id that is neither TLP nor in ``known_marking_ids`` (fail closed,
      ``unknown-marking``);
    - a marking-definition object reusing a TLP id with a different TLP level
      (``tlp-definition-mismatch``);
    - a reference that is not a marking-definition id (``invalid-marking-ref``).

    A TLP marking-definition object itself passes whatever the maximum: defining TLP:RED is
    not TLP:RED content. An object without markings passes (whether unmarked objects are
    allowed is the collection policy's business).
    """
    if obj.get("type") == "marking-definition" and obj.get("id") in TLP_LEVEL_BY_ID:
        if not _tlp_definition_is_faithful(obj):
            return Problem(Code.TLP_DEFINITION_MISMATCH,
                           f"{obj['id']} is a TLP marking definition id with a different definition: "
                           "refused", "id")
        return None

    refs: list[tuple[str, str, Any]] = []  # (what holds it, its path, the reference)
    object_refs = obj.get("object_marking_refs")
    if object_refs is not None:
        if not isinstance(object_refs, list):
            return Problem(Code.INVALID_MARKING_REF,
                           "object_marking_refs must be a list of marking-definition ids",
                           "object_marking_refs")
        refs.extend(("object_marking_refs", f"object_marking_refs[{i}]", r)
                    for i, r in enumerate(object_refs))
    granular = obj.get("granular_markings")
    if granular is not None:
        if not isinstance(granular, list):
            return Problem(Code.INVALID_MARKING_REF, "granular_markings must be a list",
                           "granular_markings")
        for i, gm in enumerate(granular):
            if not isinstance(gm, dict):
                return Problem(Code.INVALID_MARKING_REF, f"granular_markings[{i}] must be an object",
                               f"granular_markings[{i}]")
            if "marking_ref" in gm:
                where = f"granular_markings[{i}].marking_ref"
                refs.append((where, where, gm["marking_ref"]))
            # A granular marking with "lang" only carries no marking-definition.

    highest = -1
    highest_where = ""
    for holder, where, ref in refs:
        if not is_stix_id(ref, "marking-definition"):
            # Named by where it is, not by its value: it may be anything.
            return Problem(Code.INVALID_MARKING_REF, f"{holder} must hold marking-definition ids",
                           where)
        level = TLP_LEVEL_BY_ID.get(ref)
        if level is None:
            if ref not in known_marking_ids:
                # A well-formed id: quoting it repeats nothing personal.
                return Problem(Code.UNKNOWN_MARKING,
                               f"unknown marking definition {ref}: refused (fail closed)", where)
            continue
        if level > highest:
            highest, highest_where = level, where
    if highest > max_level:
        return Problem(Code.TLP_ABOVE_CEILING,
                       f"object is {level_name(highest)}, collection allows at most {level_name(max_level)}",
                       highest_where)
    return None
