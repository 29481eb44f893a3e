"""The "file a report" form: its fields (the facts of :class:`~hub.stix.report_facts.ReportFacts`),
the mapping from a submitted form to report facts, and the facts' problems placed by field.

The form's fields come from the table of the facts: which facts it shows, in which section
and order, with which label and hint (each fact's :class:`~hub.stix.facts.Form`), what kind of
field each is (from the fact's type: a list of choices is a drop-down, a list of values of a
closed vocabulary check boxes, a yes-or-no fact one check box, another list a text area of one
item per line), their choices and which are required. :func:`form_sections` makes them and the
page draws whatever it is given, so a fact added to the table is on the page with no edit of
the template. The facts are checked by :meth:`~hub.stix.facts.Facts.from_mapping`, exactly as
``abusehub report new`` checks them; no rule is repeated here. A problem is placed by its
``property`` (the fact's path), never by its message. Personal values and the account id never
reach the hub: the page's script normalises and blinds them in the browser (RFC 9497 POPRF
through ``/web/pseudonyms/evaluate``) and sends only their pseudonyms, as ``pseudonym.<kind>``
fields. A form that carries a value in clear anyway (no script, or a crafted request) has that
value refused by name and not used.

Where the collection takes anonymous reports, the form has one more check box,
:data:`ANONYMOUS_FIELD` ("file anonymously"). An account id's pseudonym depends on its scope:
the party's identity for a named report, :data:`~hub.anonymity.filing.ANONYMOUS_SCOPE` for an
anonymous one. The page's script says in :data:`SCOPE_FIELD` which scope it made the account's
pseudonym in, and a pseudonym made for the other kind of report is refused at the account id's
field (:func:`scope_problems`): it would tie the anonymous report to the party's named ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.anonymity.filing import ANONYMOUS_SCOPE
from hub.common.problems import Code, Problem
from hub.pseudonyms import PSEUDONYM_KINDS
from hub.stix.facts import Boolean, Choice, Fact, Form, Integer, ListOf, Model, Table, Text, Timestamp
from hub.stix.markings import TLP_NAMES
from hub.stix.report import ReportFacts
from hub.stix.report_facts import FORM_SECTIONS, PERSONAL, SHARING

#: The table of the facts the form is made of.
FACTS = ReportFacts.model()
#: The fact the page fills in itself: the party's own identity, from the session.
_SIGNED_AS = "provider_identity_id"

#: What a section says before its fields, by heading.
_INTROS = {
    SHARING: "Every reader of this collection at this hub may read the report, within its TLP "
             "level: TLP:RED only the recipients you name. Recipients and organisations are written "
             "into every object of the report, under your signature.",
    PERSONAL: "Normalised and blinded in your browser (RFC 9497): the hub evaluates the blinded "
              "values and proves it used its published key, and never sees a value. Only the "
              "pseudonyms leave this page.",
}


@dataclass(frozen=True)
class Field:
    """One field the page draws. ``widget`` is its kind: ``signed`` (the party's identity,
    shown, not typed), ``text``, ``number``, ``textarea`` (a list: one item per line),
    ``select``, ``checks`` (one check box per choice), ``checkbox`` (yes or no) or ``secret``
    (a personal value, pseudonymised in the browser as ``kind``)."""

    name: str
    label: str
    widget: str
    hint: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    #: A drop-down that may be left at "(not given)".
    optional: bool = False
    rows: int = 0
    kind: str = ""

    @property
    def dom_id(self) -> str:
        """The id part of the field's elements (``f-<id>``, ``hint-<id>``, ``err-<id>``)."""
        return self.name.replace(".", "-")


@dataclass(frozen=True)
class Section:
    """A group of fields under a heading, with what it says first (``intro``)."""

    heading: str
    fields: tuple[Field, ...]
    intro: str = ""

    @property
    def dom_id(self) -> str:
        """The id of the section's introduction."""
        return "intro-" + "".join(c if c.isalnum() else "-" for c in self.heading.lower())


def _widget(f: Fact, form: Form) -> str:
    t = f.type
    if f.name == _SIGNED_AS:
        return "signed"
    if f.secret:
        return "secret"
    if isinstance(t, Boolean):
        return "checkbox"
    if isinstance(t, ListOf):
        return "checks" if isinstance(t.item, Choice) else "textarea"
    if isinstance(t, Choice):
        return "select"
    if isinstance(t, Integer):
        return "number"
    return "textarea" if form.rows else "text"


def _fields(f: Fact, default: Any) -> list[Field]:
    """The page's fields of one fact (a table of personal values is one field per kind)."""
    form = f.form or Form(f.name.replace("_", " ").capitalize())
    hint = f.help if form.hint is None else form.hint
    if f.secret and isinstance(f.type, Table):  # kind by kind, given instead as pseudonyms
        return [Field(f"{f.name}.{kind}", kind.replace("_", " ").capitalize(), "secret", kind=kind)
                for kind in f.type.kinds]
    widget = _widget(f, form)
    kind = (f.alternative or f.name).partition(".")[2] if widget == "secret" else ""
    choices = f.type.choices if widget in ("select", "checks") else ()
    optional = widget == "select" and f.required is not True and default is None
    return [Field(f.name, form.label, widget, hint, f.required is True, choices, optional,
                  max(form.rows, 2) if widget == "textarea" else 0, kind)]


def form_sections(model: Model) -> tuple[Section, ...]:
    """The page's sections of the facts ``model``: those of :data:`FORM_SECTIONS` in its order,
    then any other a fact names; in each, the facts' fields in the order of the table. A table
    of pseudonyms is not typed (their hidden fields come with the personal values)."""
    defaults = {f.name: f.default for f in dataclasses.fields(model.cls)}
    by_section: dict[str, list[Field]] = {heading: [] for heading in FORM_SECTIONS}
    for f in model.facts:
        if isinstance(f.type, Table) and not f.secret:
            continue
        heading = f.form.section if f.form is not None and f.form.section else "More"
        by_section.setdefault(heading, []).extend(_fields(f, defaults.get(f.name)))
    return tuple(Section(heading, tuple(fields), _INTROS.get(heading, ""))
                 for heading, fields in by_section.items() if fields)


#: The page's sections, made from the table of the facts.
SECTIONS = form_sections(FACTS)
_ALL = tuple(field for section in SECTIONS for field in section.fields)
_FACT_OF = {f.name: f for f in FACTS.facts}
_TYPED = ("text", "number", "textarea", "select")

#: The fields typed or picked from a list, one value each (a list typed one item per line is
#: one too), in the order of the page.
TEXT_FIELDS = tuple(f.name for f in _ALL if f.widget in _TYPED)
#: The fields of check boxes, one per choice (their values come as a list).
CHECKED = tuple(f.name for f in _ALL if f.widget == "checks")
#: The yes-or-no fields (one check box).
FLAGS = tuple(f.name for f in _ALL if f.widget == "checkbox")
#: The pseudonym kind of each field whose value is personal, and that field.
_SECRET_FIELD_OF = {f.kind: f.name for f in _ALL if f.widget == "secret"}
#: Fields whose values are personal: pseudonymised in the browser, never sent to the hub.
SECRET_FIELDS = tuple(_SECRET_FIELD_OF.values())
#: The hidden fields that carry their pseudonyms, by kind.
PSEUDONYM_FIELDS = {kind: f"pseudonym.{kind}" for kind in PSEUDONYM_KINDS}
#: Required fields with no alternative, checked as empty when left empty.
_REQUIRED_TEXT = tuple(f.name for f in FACTS.facts if f.required is True and not f.alternative
                       and isinstance(f.type, Text | Choice))
_REQUIRED_TIMES = tuple(f.name for f in FACTS.facts if f.required is True and isinstance(f.type, Timestamp))
_REQUIRED_LISTS = tuple(f.name for f in FACTS.facts if f.required is True and f.name in (*TEXT_FIELDS, *CHECKED)
                        and isinstance(f.type, ListOf))
_INT_FIELDS = tuple(n for n in TEXT_FIELDS if isinstance(_FACT_OF[n].type, Integer))
_LIST_FIELDS = tuple(n for n in TEXT_FIELDS if isinstance(_FACT_OF[n].type, ListOf))
ABUSE_TYPES = FACTS.by_name["abuse_types"].type.choices
TLPS = TLP_NAMES
#: The values of each field picked from a list (a closed vocabulary, the TLP names).
CHOICES = {f.name: f.choices for f in _ALL if f.widget in ("select", "checks")}

#: The check box "file anonymously" (not a fact: it decides where and how the report is filed).
ANONYMOUS_FIELD = "file_anonymously"
#: How an anonymous report is filed (radio buttons, where the token mode is offered):
#: :data:`ATTESTED` (the hub checks the signed-in party, then seals who it was) or :data:`TOKEN`
#: (paid with a submission token, sent with no credential: the hub never learns who files).
MODE_FIELD = "anonymous_mode"
ATTESTED, TOKEN = "attested", "token"
#: The hidden field where the page's script says which scope the account id's pseudonym was
#: made in: the party's identity id, or the anonymous scope.
SCOPE_FIELD = "pseudonym_scope"

_FIELD_NAMES = frozenset((*TEXT_FIELDS, *CHECKED, *FLAGS, _SIGNED_AS, *SECRET_FIELDS, ANONYMOUS_FIELD, MODE_FIELD))


@dataclass
class FormData:
    """A submitted form: the facts mapping to check, and what may be shown again."""

    facts: dict[str, Any]
    shown: dict[str, Any]
    sent_in_clear: list[str]
    #: "File anonymously" is ticked.
    anonymous: bool = False
    #: The scope the page made the account id's pseudonym in ("" when it did not say).
    account_scope: str = ""
    #: How an anonymous report is filed: :data:`ATTESTED` (also when the form did not say) or
    #: :data:`TOKEN`; anything else as sent, refused by :func:`mode_problems`.
    mode: str = ATTESTED


def read_form(form: Mapping[str, str], checked: Mapping[str, Sequence[str]], identity_id: str) -> FormData:
    """The facts mapping of a submitted form (empty optional fields left out, numbers as
    numbers where they parse, lists one item per line, a ticked yes-or-no box as true), for the
    party's own identity. ``checked`` holds the values of each field of check boxes
    (:data:`CHECKED`) by name."""
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
    for name in CHECKED:
        values = list(checked.get(name, ()))
        shown[name] = values
        if values:
            facts[name] = values
    for name in FLAGS:
        shown[name] = bool((form.get(name) or "").strip())
        if shown[name]:
            facts[name] = True
    # A required field left empty is checked as empty (its own problem, next to the other
    # fields' problems), not reported alone as missing: the analyst sees every problem at once.
    for name in _REQUIRED_TEXT:
        facts.setdefault(name, "")
    for name in _REQUIRED_TIMES:
        facts.setdefault(name, None)
    for name in _REQUIRED_LISTS:
        facts.setdefault(name, [])
    # Pseudonyms made in the browser: kept in the page (they are not personal data), so that a
    # form sent back with problems does not need the values typed again.
    pseudonyms = {kind: (form.get(name) or "").strip() for kind, name in PSEUDONYM_FIELDS.items()}
    pseudonyms = {k: v for k, v in pseudonyms.items() if v}
    if pseudonyms:
        facts["pseudonyms"] = pseudonyms
    shown["pseudonyms"] = pseudonyms
    # A value in clear is not used, not kept and not shown: only its field is named.
    sent_in_clear = [name for name in SECRET_FIELDS if (form.get(name) or "").strip()]
    anonymous, scope, mode = _how_filed(form, shown)
    return FormData(facts, shown, sent_in_clear, anonymous, scope, mode)


def _how_filed(form: Mapping[str, str], shown: dict[str, Any]) -> tuple[bool, str, str]:
    """Whether "file anonymously" is ticked, the scope the account's pseudonym was made in, and
    the anonymous mode (all kept in ``shown`` for the page sent back)."""
    anonymous = bool((form.get(ANONYMOUS_FIELD) or "").strip())
    scope = (form.get(SCOPE_FIELD) or "").strip()
    mode = (form.get(MODE_FIELD) or "").strip() or ATTESTED
    shown[ANONYMOUS_FIELD], shown[SCOPE_FIELD], shown[MODE_FIELD] = anonymous, scope, mode
    return anonymous, scope, mode


def mode_problems(data: FormData, token_offered: bool) -> list[Problem]:
    """The problem of an anonymous mode the page does not offer here (placed at its field)."""
    if not data.anonymous or data.mode == ATTESTED or (data.mode == TOKEN and token_offered):
        return []
    if data.mode == TOKEN:
        why = "submission tokens are issued to providers only, in collections that take anonymous reports"
    else:
        why = f"choose {ATTESTED!r} or {TOKEN!r}"
    return [Problem(Code.INVALID_VALUE, f"this anonymous mode is not offered here: {why}", MODE_FIELD)]


def scope_problems(data: FormData, identity_id: str) -> list[Problem]:
    """The problem of an account pseudonym made in the other scope than the report's kind
    (module text): placed at the account id's field, to be typed again."""
    if "provider_account" not in data.facts.get("pseudonyms", {}):
        return []
    wanted = ANONYMOUS_SCOPE if data.anonymous else identity_id
    made = data.account_scope or identity_id  # a page that did not say made it for a named report
    if made == wanted:
        return []
    why = ("it was made for a report that names your organisation, and would tie this anonymous report to "
           "them" if data.anonymous else "it was made for an anonymous report")
    return [Problem(Code.NOT_A_PSEUDONYM, f"the account id's pseudonym does not fit this report: {why}; "
                    "type the account id again", "pseudonyms.provider_account")]


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
