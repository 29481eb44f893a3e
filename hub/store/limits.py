"""What a stored object version may hold, so that every database stores the same things.

SQLite stores a string of any length in a ``VARCHAR(40)`` column; PostgreSQL refuses it, and
with it the whole transaction. PostgreSQL's ``text`` cannot hold U+0000 at all; SQLite's can.
Left to the databases, the same submission would be accepted by one and refused by the other.
So the limits are stated here, next to the columns they come from (:mod:`hub.store.schema` uses
these constants), and checked before anything is written: ingest asks :func:`unstorable_reason`
for each object and refuses that object alone with the reason; the store asks again and raises
:class:`UnstorableError` rather than let a database decide.
"""

from __future__ import annotations

import re

from hub.store.records import NewVersion

__all__ = ["AUDIT_KIND_MAX", "COLLECTION_ID_MAX", "LABEL_MAX", "ORGANISATION_MAX", "PARTY_CODE_MAX", "PARTY_NAME_MAX", "TITLE_MAX", "SPEC_VERSION_MAX", "STIX_ID_MAX",
           "TERM_KIND_MAX", "TERM_MAX", "TYPE_MAX", "VERSION_MAX", "UnstorableError", "has_nul",
           "matchable", "unstorable_audit_reason", "unstorable_reason"]

#: Column widths, in characters (PostgreSQL counts characters, not bytes, as Python's len does).
STIX_ID_MAX = 300
TYPE_MAX = 250
VERSION_MAX = 40
SPEC_VERSION_MAX = 10
TERM_KIND_MAX = 20
TERM_MAX = 300
PARTY_NAME_MAX = 200
LABEL_MAX = 200  # a token's label
TITLE_MAX = 200  # a collection's title, and its alias
AUDIT_KIND_MAX = 40
COLLECTION_ID_MAX = 36
ORGANISATION_MAX = 200  # a party's organisation (revision 0010)
PARTY_CODE_MAX = 20  # a party's country and ACS entity type (revision 0010)

# A JSON text's escape for U+0000, not itself escaped: preceded by an even number of
# backslashes (a string holding a backslash followed by "u0000" is written "\\u0000").
_ESCAPED_NUL_RE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class UnstorableError(ValueError):
    """A value would be stored differently, or refused, by one of the databases."""


def matchable(value: str) -> bool:
    """False for a lookup key that can match nothing stored: one holding U+0000.

    PostgreSQL refuses such a parameter outright, SQLite looks it up and finds nothing; the
    store answers "nothing" on both without asking.
    """
    return "\x00" not in value


def has_nul(json_text: str) -> bool:
    """True if the JSON text holds U+0000: raw, or as the escape ``\\u0000`` in a string."""
    if "\x00" in json_text:
        return True
    return "\\u0000" in json_text and _ESCAPED_NUL_RE.search(json_text) is not None


def unstorable_reason(version: NewVersion) -> str | None:
    """Why ``version`` cannot be stored alike on every database, or None if it can.

    The reason is written for the submitter and quotes no value of the object (only lengths).
    """
    for name, value, limit in (("id", version.stix_id, STIX_ID_MAX), ("type", version.type, TYPE_MAX),
                               ("spec_version", version.spec_version, SPEC_VERSION_MAX)):
        if len(value) > limit:
            return f"{name} is {len(value)} characters long: the hub stores at most {limit}"
        if _CONTROL_RE.search(value):
            return f"{name} contains a control character (U+0000 to U+001F or U+007F)"
    if version.version is not None:
        if len(version.version) > VERSION_MAX:
            return (f"its version (modified, or created) is {len(version.version)} characters long: "
                    f"the hub stores versions of at most {VERSION_MAX} characters, a STIX timestamp "
                    f"with at most {VERSION_MAX - 21} fraction digits")
        if _CONTROL_RE.search(version.version):
            return "its version (modified, or created) contains a control character"
    if has_nul(version.json_text):
        return "it contains the character U+0000 (NUL), which the hub does not store"
    for kind, term in version.terms:
        if len(kind) > TERM_KIND_MAX or len(term) > TERM_MAX:
            return (f"a value it can be found by (a pseudonym or an object_refs entry) is {len(term)} "
                    f"characters long: the hub indexes values of at most {TERM_MAX}")
        if _CONTROL_RE.search(term) or _CONTROL_RE.search(kind):
            return ("a value it can be found by (a pseudonym or an object_refs entry) contains a "
                    "control character")
    return None


def unstorable_audit_reason(kind: str, party: str, collection: str) -> str | None:
    """Why an audit record's kind, party or collection cannot be stored alike, or None."""
    for name, value, limit in (("kind", kind, AUDIT_KIND_MAX), ("party", party, PARTY_NAME_MAX),
                               ("collection", collection, COLLECTION_ID_MAX)):
        if len(value) > limit:
            return f"its {name} is {len(value)} characters long: at most {limit} are stored"
        if "\x00" in value:
            return f"its {name} contains U+0000"
    return None
