"""The "file a report" form: its fields (those of ``abusehub report template``), the mapping
from a submitted form to report facts, and the facts' problems mapped back to fields.

The facts are checked by :meth:`hub.stix.report.ReportFacts.from_mapping` (through
:func:`hub.client.reports.load_facts`), exactly as ``abusehub report new`` checks them; no rule
is repeated here. Personal values and the account id never reach the hub: the page's script
normalises and blinds them in the browser (RFC 9497 POPRF through ``/web/pseudonyms/evaluate``)
and sends only their pseudonyms, as ``pseudonym.<kind>`` fields. A form that carries a value in
clear anyway (no script, or a crafted request) has that value refused by name and not used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_KINDS
from hub.stix.report import ABUSE_TYPE_INFRASTRUCTURE, ACQUISITIONS, ACTIONS, KYC_STATUSES

#: The text fields of the form, in the order of the report template (personal ones apart).
TEXT_FIELDS = (
    "provider_name", "acquisition", "reseller_identity_id",
    "reseller_name", "kyc_status", "declared_country", "account_created", "first_abuse_seen",
    "last_seen", "resources", "summary", "action_taken", "action_taken_at", "confidence", "tlp",
    "indicator_validity_days", "report_name", "phone_region",
)
#: Fields whose values are personal: pseudonymised in the browser, never sent to the hub.
SECRET_FIELDS = ("provider_account_id", *(f"personal.{k}" for k in PERSONAL_KINDS))
#: The hidden fields that carry their pseudonyms, by kind.
PSEUDONYM_FIELDS = {kind: f"pseudonym.{kind}" for kind in PSEUDONYM_KINDS}
_SECRET_FIELD_OF = {"provider_account": "provider_account_id", **{k: f"personal.{k}" for k in PERSONAL_KINDS}}
_REQUIRED_TEXT = ("provider_name", "summary", "acquisition", "kyc_status")
_REQUIRED_TIMES = ("account_created", "first_abuse_seen", "last_seen")
_INT_FIELDS = ("confidence", "indicator_validity_days")
_LIST_FIELDS = ("resources",)
ABUSE_TYPES = tuple(ABUSE_TYPE_INFRASTRUCTURE)
TLPS = ("clear", "green", "amber", "amber+strict", "red")
CHOICES = {"acquisition": ACQUISITIONS, "kyc_status": KYC_STATUSES, "action_taken": ACTIONS, "tlp": TLPS}

_FIELD_NAMES = (*TEXT_FIELDS, "abuse_types", "provider_identity_id", "provider_account_id",
                *(f"personal.{k}" for k in PERSONAL_KINDS))
_QUOTED_RE = re.compile(r"'([a-z_.]+)'")


@dataclass
class FormData:
    """A submitted form: the facts mapping to check, and what may be shown again."""

    facts: dict[str, Any]
    shown: dict[str, Any]
    sent_in_clear: list[str]


def read_form(form: Mapping[str, str], abuse_types: list[str], identity_id: str) -> FormData:
    """The facts mapping of a submitted form (empty optional fields left out, numbers as
    numbers where they parse, resources one per line), for the party's own identity."""
    facts: dict[str, Any] = {"provider_identity_id": identity_id}
    shown: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        raw = (form.get(name) or "").strip()
        if name not in SECRET_FIELDS:
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
    facts.setdefault("resources", [])
    facts["abuse_types"] = list(abuse_types)
    shown["abuse_types"] = list(abuse_types)
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


def clear_value_problems(sent_in_clear: list[str]) -> list[str]:
    """The problem of each personal value that reached the hub in clear (named by field)."""
    return [f"{name}: sent in clear and not used: the page pseudonymises personal values in "
            "your browser, which needs JavaScript; type it again with scripts enabled"
            for name in sent_in_clear]


def secret_field(kind: str) -> str:
    """The form field a kind's value is typed into (its problems are shown there)."""
    return _SECRET_FIELD_OF[kind]


def field_of(problem: str) -> str:
    """The form field a problem of the facts is about ("" when it is about the whole form)."""
    quoted = _QUOTED_RE.search(problem)
    if problem.startswith(("missing required field", "unknown field")) and quoted:
        return quoted.group(1)
    if problem.startswith("timestamps out of order"):
        return "last_seen"
    for kind, name in _SECRET_FIELD_OF.items():
        if problem.startswith((f"pseudonyms.{kind} ", f"pseudonyms.{kind}:")):
            return name
    best = ""
    for name in _FIELD_NAMES:
        if problem.startswith(name) and len(name) > len(best):
            rest = problem[len(name):len(name) + 1]
            if rest in ("", " ", ":", "[", "."):
                best = name
    return best


def problems_by_field(problems: list[str]) -> dict[str, list[str]]:
    """Problems grouped by field; "" holds those about the whole form."""
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(field_of(p), []).append(p)
    return out
