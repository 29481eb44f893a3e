"""The "file a report" form: its fields (the facts of :class:`~hub.stix.report_facts.ReportFacts`),
the mapping from a submitted form to report facts, and the facts' problems placed by field.

The form's fields, their vocabularies and which of them are required come from the table of the
facts; the facts are checked by :meth:`~hub.stix.facts.Facts.from_mapping`, exactly as
``abusehub report new`` checks them; no rule is repeated here. A problem is placed by its
``property`` (the fact's path), never by its message. Personal values and the account id never
reach the hub: the page's script normalises and blinds them in the browser (RFC 9497 POPRF
through ``/web/pseudonyms/evaluate``) and sends only their pseudonyms, as ``pseudonym.<kind>``
fields. A form that carries a value in clear anyway (no script, or a crafted request) has that
value refused by name and not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.common.problems import Code, Problem
from hub.pseudonyms import PSEUDONYM_KINDS
from hub.stix.facts import Choice, Fact, Integer, ListOf, Table, Text, Timestamp
from hub.stix.markings import TLP_NAMES
from hub.stix.report import ReportFacts

#: The table of the facts the form is made of.
FACTS = ReportFacts.model()
#: The fact the page fills in itself: the party's own identity, from the session.
_SIGNED_AS = "provider_identity_id"
#: The fact offered as check boxes, one per value of its vocabulary.
_CHECKED = "abuse_types"


def _typed(f: Fact) -> bool:
    """Whether the form has a field of its own for ``f`` (typed, or picked from a list)."""
    return not (f.name in (_SIGNED_AS, _CHECKED) or f.secret or isinstance(f.type, Table))


def _secret_fields(f: Fact) -> dict[str, str]:
    """The pseudonym kinds of a personal fact and the form field each value is typed into."""
    if isinstance(f.type, Table):  # kind by kind, given instead as the table of pseudonyms
        return {kind: f"{f.name}.{kind}" for kind in f.type.kinds}
    return {(f.alternative or f.name).partition(".")[2]: f.name}


#: The text fields of the form (a list of choices is one too), in the order of the table.
TEXT_FIELDS = tuple(f.name for f in FACTS.facts if _typed(f))
#: The pseudonym kind of each field whose value is personal, and that field.
_SECRET_FIELD_OF = {kind: name for f in FACTS.facts if f.secret for kind, name in _secret_fields(f).items()}
#: Fields whose values are personal: pseudonymised in the browser, never sent to the hub.
SECRET_FIELDS = tuple(_SECRET_FIELD_OF.values())
#: The hidden fields that carry their pseudonyms, by kind.
PSEUDONYM_FIELDS = {kind: f"pseudonym.{kind}" for kind in PSEUDONYM_KINDS}
#: Required fields with no alternative, checked as empty when left empty.
_REQUIRED_TEXT = tuple(f.name for f in FACTS.facts if f.required is True and not f.alternative
                       and isinstance(f.type, Text | Choice))
_REQUIRED_TIMES = tuple(f.name for f in FACTS.facts if f.required is True and isinstance(f.type, Timestamp))
_REQUIRED_LISTS = tuple(f.name for f in FACTS.facts if f.required is True and _typed(f)
                        and isinstance(f.type, ListOf))
_INT_FIELDS = tuple(f.name for f in FACTS.facts if isinstance(f.type, Integer))
_LIST_FIELDS = tuple(f.name for f in FACTS.facts if _typed(f) and isinstance(f.type, ListOf))
ABUSE_TYPES = FACTS.by_name[_CHECKED].type.choices
TLPS = TLP_NAMES
#: The values of each field picked from a list (a closed vocabulary, the TLP names).
CHOICES = {f.name: f.type.choices for f in FACTS.facts if _typed(f) and isinstance(f.type, Choice)}

_FIELD_NAMES = frozenset((*TEXT_FIELDS, _CHECKED, _SIGNED_AS, *SECRET_FIELDS))


@dataclass
class FormData:
    """A submitted form: the facts mapping to check, and what may be shown again."""

    facts: dict[str, Any]
    shown: dict[str, Any]
    sent_in_clear: list[str]


def read_form(form: Mapping[str, str], abuse_types: list[str], identity_id: str) -> FormData:
    """The facts mapping of a submitted form (empty optional fields left out, numbers as
    numbers where they parse, lists one item per line), for the party's own identity."""
    facts: dict[str, Any] = {_SIGNED_AS: identity_id}
    shown: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        raw = (form.get(name) or "").strip()
        shown[name] = raw
        if not raw:
            continue
        value: Any = raw
        if name in _INT_FIELDS:
            try:
                value = int(raw)
            except ValueError:
                value = raw  # the facts' own check names the field
        elif name in _LIST_FIELDS:
            value = [line.strip() for line in raw.splitlines() if line.strip()]
        facts[name] = value
    # A required field left empty is checked as empty (its own problem, next to the other
    # fields' problems), not reported alone as missing: the analyst sees every problem at once.
    for name in _REQUIRED_TEXT:
        facts.setdefault(name, "")
    for name in _REQUIRED_TIMES:
        facts.setdefault(name, None)
    for name in _REQUIRED_LISTS:
        facts.setdefault(name, [])
    facts[_CHECKED] = list(abuse_types)
    shown[_CHECKED] = list(abuse_types)
    # Pseudonyms made in the browser: kept in the page (they are not personal data), so that a
    # form sent back with problems does not need the values typed again.
    pseudonyms = {kind: (form.get(name) or "").strip() for kind, name in PSEUDONYM_FIELDS.items()}
    pseudonyms = {k: v for k, v in pseudonyms.items() if v}
    if pseudonyms:
        facts["pseudonyms"] = pseudonyms
    shown["pseudonyms"] = pseudonyms
    # A value in clear is not used, not kept and not shown: only its field is named.
    sent_in_clear = [name for name in SECRET_FIELDS if (form.get(name) or "").strip()]
    return FormData(facts, shown, sent_in_clear)


def clear_value_problems(sent_in_clear: list[str]) -> list[Problem]:
    """The problem of each personal value that reached the hub in clear (placed at its field)."""
    return [Problem(Code.PERSONAL_DATA,
                    f"{name}: sent in clear and not used: the page pseudonymises personal values in "
                    "your browser, which needs JavaScript; type it again with scripts enabled", name)
            for name in sent_in_clear]


def secret_field(kind: str) -> str:
    """The form field a kind's value is typed into (its problems are shown there)."""
    return _SECRET_FIELD_OF[kind]


def field_of(problem: Problem) -> str:
    """The form field a problem of the facts is about, by its property ("" when it is about the
    whole form): a pseudonym's problem is shown at the field its value is typed into, an
    item's (``resources[2]``) at its list's."""
    head, _, member = problem.property.partition(".")
    if head == "pseudonyms":
        return _SECRET_FIELD_OF.get(member, "")
    name = problem.property.split("[", 1)[0]
    return name if name in _FIELD_NAMES else ""


def problems_by_field(problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by field; "" holds those about the whole form."""
    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(field_of(p), []).append(p)
    return out
