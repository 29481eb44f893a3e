"""Notices on the pages: the list of a collection's notices, a page per notice (its facts, its
versions, who acted), an agency's form to file one, its withdrawal, a provider's matching of
its own accounts (in the browser) and its acknowledgement.

Every object is built here exactly as the command line builds it (:class:`NoticeFacts`,
:func:`~hub.stix.notice.build_notice`, :func:`~hub.stix.notice.withdrawn_version`,
:class:`AckFacts`, :func:`~hub.stix.notice.build_ack`), each problem shown next to the field its
``property`` names, and signed **in the browser** by the same script that signs reports
(``js/file.js`` over ``js/signing.js``), then posted to the same route as a report
(:func:`hub.web.file.submit`, the ingest service, whose notice rules judge it). The notice form's
fields are drawn from the table of the facts (:func:`hub.web.filing.form_sections`), as the
report form is; personal values of a scope are pseudonymised in the browser
(``js/file-form.js``, the report form's script) and only their pseudonyms reach the hub. The
matching page gets the notices in force that address the provider; the account file dropped
into it is read, normalised, pseudonymised (through ``/web/pseudonyms/evaluate``, cached in the
browser per key version) and matched by ``js/notice-match.js``, and is never sent.

What a page reads comes from :class:`hub.services.notices.pages.NoticePages`, over the
:class:`~hub.services.notices.NoticeService` the CLI's ``notice list`` and ``notice status`` use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from hub.client.reports import local_problems
from hub.common.errors import Forbidden, NotFound
from hub.common.problems import Code, Problem
from hub.services.notices.pages import NoticePages, NoticeRow
from hub.stix.facts import Country, ListOf, Timestamp
from hub.stix.notice import addressed_to, build_ack, build_notice, withdrawn_version
from hub.stix.notice_facts import (
    ACK_STATUSES,
    SCOPE_PSEUDONYM_KINDS,
    AckFacts,
    InvalidAckFacts,
    InvalidNoticeFacts,
    NoticeFacts,
)
from hub.web.context import current_hub, current_principal, now_us
from hub.web.file import _registered_keys
from hub.web.filing import Field, Section, clear_value_problems, form_sections
from hub.web.sessions import require_session

bp = Blueprint("notices", __name__)
bp.before_request(require_session)

#: The fact the page fills in itself: the agency's own identity, from the session.
_SIGNED_AS = "issuer_identity_id"
#: Facts the form does not offer: the issuer (the session's) and withdrawal (its own button).
_NOT_TYPED = (_SIGNED_AS, "withdrawn")
#: Personal values an agency may name a scope by, typed here and pseudonymised in the browser.
_PERSONAL_KINDS = tuple(k for k in SCOPE_PSEUDONYM_KINDS if k != "provider_account")
#: Labels where the fact's name does not read well as one.
_LABELS = {"addressee_refs": "Addressees", "ip_ranges": "IP ranges", "supersedes_ref": "Supersedes",
           "report_ref": "Report", "indicator_patterns": "Indicators", "tlp": "TLP"}
_RESELLER_HINT = ("Designated resellers (businesses, in clear), one per line: legal name; country "
                  "(ISO 3166 alpha-2); registration number (optional).")


def _sections() -> tuple[Section, ...]:
    """The notice form's sections: the facts of :class:`NoticeFacts` in the order of its table,
    as the report form draws its own; then the scope's pseudonyms, pasted or pseudonymised here."""
    drawn: list[Field] = [Field(_SIGNED_AS, "Issued by", "signed")]
    for section in form_sections(NoticeFacts.model()):
        for f in section.fields:
            if f.name in _NOT_TYPED:
                continue
            stix = NoticeFacts.model().by_name[f.name].stix
            f = dataclasses.replace(f, label=_LABELS.get(f.name, f.label),
                                    hint=_RESELLER_HINT if f.name == "resellers" else
                                    f.hint or (stix.help if stix is not None else ""))
            kind = NoticeFacts.model().by_name[f.name].type
            if f.widget == "textarea" and isinstance(kind, ListOf):
                f = dataclasses.replace(f, hint=f.hint + " One per line.")
            elif isinstance(kind, Timestamp):
                f = dataclasses.replace(f, hint=f.hint + " A time with its zone, e.g. 2026-12-01T00:00:00Z.")
            drawn.append(f)
    pasted = tuple(Field(f"account_pseudonyms.{kind}", f"Pseudonyms: {kind.replace('_', ' ')}", "textarea",
                         f"{kind.replace('_', ' ').capitalize()} pseudonyms (poprf-r255:...), one per line, "
                         "as reports carry them.", rows=2)
                   for kind in SCOPE_PSEUDONYM_KINDS)
    typed = tuple(Field(f"personal.{kind}", f"{kind.replace('_', ' ').capitalize()}, typed here", "secret", kind=kind)
                  for kind in _PERSONAL_KINDS)
    return (Section("The notice", tuple(drawn)),
            Section("Accounts and personal values", pasted + typed,
                    "A special measure or a request may name accounts and personal values by their "
                    "pseudonyms: paste them, or type a value to have it normalised and blinded in your "
                    "browser (RFC 9497); the hub never sees a value."))


SECTIONS = _sections()
_FIELDS = {f.name: f for s in SECTIONS for f in s.fields}
_MODEL = NoticeFacts.model()
_LISTS = tuple(n for n, f in _FIELDS.items() if f.widget == "textarea" and n in _MODEL.by_name
               and isinstance(_MODEL.by_name[n].type, ListOf) and n != "resellers")
_TEXTS = tuple(n for n, f in _FIELDS.items() if f.widget in ("text", "textarea", "select", "number")
               and n in _MODEL.by_name and n not in _LISTS and n != "resellers")
_CHECKED = tuple(n for n, f in _FIELDS.items() if f.widget == "checks")


def _kinds_of(name: str) -> str:
    """The notice kinds a field applies to, as the facts' ``only_when`` says (space-separated;
    "" for every kind): the page shows the field for those kinds only."""
    # A typed personal value becomes one of the scope's pseudonyms.
    fact = _MODEL.by_name.get("account_pseudonyms" if name.startswith("personal.") else name.partition(".")[0])
    when = fact.only_when if fact is not None else None
    if when is None or when.name != "notice_kind" or when.equals is None:
        return ""
    return " ".join(when.equals if isinstance(when.equals, tuple) else (when.equals,))


#: The notice kinds each field applies to (fields of every kind are left out).
FIELD_KINDS = {n: k for n in _FIELDS if (k := _kinds_of(n))}


def _pages() -> NoticePages:
    return NoticePages(current_hub().notices)


def _now() -> datetime:
    return datetime.fromtimestamp(now_us() / 1_000_000, UTC)


def _field_of(problem: Problem) -> str:
    """The field a problem of the facts is shown at ("" for the whole form)."""
    prop = problem.property
    if prop in _FIELDS:
        return prop
    if prop.startswith("account_pseudonyms"):
        kind = prop.partition(".")[2].split("[", 1)[0]
        return f"account_pseudonyms.{kind}" if kind in SCOPE_PSEUDONYM_KINDS else ""
    name = prop.split("[", 1)[0].split(".", 1)[0]
    return name if name in _FIELDS else ""


def _by_field(problems: list[Problem]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(_field_of(p), []).append(p)
    return out


def _resellers(text: str) -> tuple[list[Any], list[Problem]]:
    """The resellers typed one per line as ``name; country; registration``."""
    out: list[Any] = []
    problems = []
    for i, line in enumerate(ln for ln in text.splitlines() if ln.strip()):
        parts = [p.strip() for p in line.split(";")]
        if len(parts) not in (2, 3) or not all(parts[:2]):
            problems.append(Problem(Code.INVALID_VALUE, f"resellers[{i}]: line {i + 1} must be "
                                    "'legal name; country' or 'legal name; country; registration number'",
                                    f"resellers[{i}]"))
            continue
        item = {"name": parts[0], "country": parts[1]}
        if len(parts) == 3 and parts[2]:
            item["registration_number"] = parts[2]
        out.append(item)
    return out, problems


def read_notice_form(form: Mapping[str, str], checked: Mapping[str, list[str]],
                     identity_id: str) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """The facts mapping of a posted notice form, what the form shows again, and the problems
    found before the facts' own check (a reseller line that does not split, a value in clear)."""
    facts: dict[str, Any] = {_SIGNED_AS: identity_id}
    shown: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in (*_TEXTS, *_LISTS, "resellers", *(f"account_pseudonyms.{k}" for k in SCOPE_PSEUDONYM_KINDS)):
        shown[name] = raw = (form.get(name) or "").strip()
        if not raw:
            continue
        if name == "resellers":
            facts[name], bad = _resellers(raw)
            problems += bad
        elif name in _LISTS:
            facts[name] = [ln.strip() for ln in raw.splitlines() if ln.strip()]
        elif name.startswith("account_pseudonyms."):
            items = [ln.strip() for ln in raw.splitlines() if ln.strip()]
            facts.setdefault("account_pseudonyms", {})[name.partition(".")[2]] = items
        else:
            facts[name] = raw
    for name in _CHECKED:
        shown[name] = values = list(checked.get(name, ()))
        if values:
            facts[name] = values
    # The pseudonyms the browser made of typed values join those pasted.
    made = {kind: (form.get(f"pseudonym.{kind}") or "").strip() for kind in _PERSONAL_KINDS}
    shown["pseudonyms"] = {k: v for k, v in made.items() if v}
    for kind, pseudonym in shown["pseudonyms"].items():
        have = facts.setdefault("account_pseudonyms", {}).setdefault(kind, [])
        if pseudonym not in have:
            have.append(pseudonym)
    for name in ("notice_kind", "title"):
        facts.setdefault(name, "")
    sent_in_clear = [f"personal.{k}" for k in _PERSONAL_KINDS if (form.get(f"personal.{k}") or "").strip()]
    problems += clear_value_problems(sent_in_clear)
    return facts, shown, problems


def _row_context(collection_id: str, notice_id: str) -> dict[str, Any]:
    principal = current_principal()
    col = current_hub().access.collection_info(principal, collection_id)
    page = _pages().page(principal.party.name, col.id, notice_id, operator=principal.party.operator)
    party = principal.party
    notice = page.row.notice
    return {"collection": col, "page": page, "row": page.row, "notice": notice,
            "is_issuer": notice.get("created_by_ref") == party.identity_id,
            "addressed": party.kind == "provider" and addressed_to(notice, party.identity_id),
            "statuses": ACK_STATUSES, "problems": {}, "shown": {}}


# -- reading -------------------------------------------------------------------------------------------


@bp.get("/notices")
def index() -> Any:
    """The collections the party reads, each with its notices by state."""
    principal = current_principal()
    pages = _pages()
    listed = []
    for col in current_hub().access.collection_infos(principal):
        if not col.can_read:
            continue
        try:
            rows = pages.rows(principal.party.name, col.id)
        except NotFound:  # an operator without a grant there reads no notices there
            continue
        listed.append((col, rows))
    if len(listed) == 1:
        return redirect(url_for("web.notices.notice_list", collection_id=listed[0][0].id))
    return render_template("notices.html", listed=listed)


def _grouped(rows: list[NoticeRow]) -> list[tuple[str, list[NoticeRow]]]:
    order = ("in force", "not yet in force", "superseded", "ended", "withdrawn")
    return [(state, [r for r in rows if r.state == state]) for state in order]


@bp.get("/collections/<collection_id>/notices")
def notice_list(collection_id: str) -> Any:
    principal = current_principal()
    col = current_hub().access.collection_info(principal, collection_id)
    rows = _pages().rows(principal.party.name, col.id)
    party = principal.party
    return render_template("notice_list.html", collection=col, groups=_grouped(rows), count=len(rows),
                           can_issue=party.kind == "agency" and col.can_write,
                           is_provider=party.kind == "provider")


@bp.get("/collections/<collection_id>/notices/<notice_id>")
def notice_page(collection_id: str, notice_id: str) -> Any:
    context = _row_context(collection_id, notice_id)
    shown = {"status": request.args.get("status", "received"),
             "accounts_affected": request.args.get("accounts", "")}
    context["shown"] = shown
    return render_template("notice.html", **context)


# -- filing, withdrawing, acknowledging: built here, signed in the browser ------------------------------


def _signing(col: Any, objects: list[dict[str, Any]], what: str, back: str) -> Any:
    principal = current_principal()
    return render_template("notice_sign.html", collection=col, objects=objects, what=what, back_url=back,
                           keys=_registered_keys(principal), identity=principal.party.identity_id)


def _writable(collection_id: str, kind: str) -> Any:
    principal = current_principal()
    col = current_hub().access.collection_info(principal, collection_id)
    if principal.party.kind != kind:
        raise Forbidden(f"only an {kind} party may do this; {principal.party.name} is a {principal.party.kind}")
    if not col.can_write:
        raise Forbidden(f"you may not write to collection {col.id}")
    return col


@bp.route("/collections/<collection_id>/notices/new", methods=["GET", "POST"])
def new_notice(collection_id: str) -> Any:
    col = _writable(collection_id, "agency")
    principal = current_principal()
    context: dict[str, Any] = {"collection": col, "sections": SECTIONS, "problems": {}, "field_kinds": FIELD_KINDS,
                               "identity": principal.party.identity_id, "fresh": request.method == "GET"}
    if request.method == "GET":
        context["shown"] = {"notice_kind": "special-measure", "tlp": "amber", "measures": []}
        return render_template("notice_new.html", **context)
    facts_map, shown, problems = read_notice_form(
        request.form, {n: request.form.getlist(n) for n in _CHECKED}, principal.party.identity_id)
    context["shown"] = shown
    try:
        facts = NoticeFacts.from_mapping(facts_map)
    except InvalidNoticeFacts as exc:
        problems = [*exc.found, *problems]
    if problems:
        context["problems"] = _by_field(problems)
        return render_template("notice_new.html", **context), 422
    built = build_notice(facts, now=_now())
    wrong = local_problems([built])
    if wrong:
        context["problems"] = {"": [Problem(Code.INVALID_STIX, line) for line in wrong]}
        return render_template("notice_new.html", **context), 422
    return _signing(col, [built], "the notice", url_for("web.notices.notice_page", collection_id=col.id,
                                                        notice_id=built["id"]))


@bp.post("/collections/<collection_id>/notices/<notice_id>/withdraw")
def withdraw(collection_id: str, notice_id: str) -> Any:
    col = _writable(collection_id, "agency")
    context = _row_context(col.id, notice_id)
    notice = context["notice"]
    if not context["is_issuer"]:
        raise Forbidden(f"{notice['id']} was issued by {notice.get('created_by_ref')}: only its issuer withdraws it")
    if notice.get("withdrawn") is True:
        context["problems"] = {"": [Problem(Code.INVALID_VALUE, f"{notice['id']} is withdrawn already")]}
        context["about"] = "The withdrawal"
        return render_template("notice.html", **context), 422
    gone = withdrawn_version(notice, now=_now())
    return _signing(col, [gone], "the withdrawal", url_for("web.notices.notice_page", collection_id=col.id,
                                                           notice_id=notice["id"]))


@bp.post("/collections/<collection_id>/notices/<notice_id>/ack")
def acknowledge(collection_id: str, notice_id: str) -> Any:
    col = _writable(collection_id, "provider")
    context = _row_context(col.id, notice_id)
    notice = context["notice"]
    identity = current_principal().party.identity_id
    form = request.form
    shown = {k: (form.get(k) or "").strip() for k in ("status", "accounts_affected", "note")}
    context["shown"] = shown
    problems: list[Problem] = []
    if notice.get("withdrawn") is True:
        problems.append(Problem(Code.INVALID_VALUE, f"{notice['id']} was withdrawn: it takes no acknowledgement"))
    elif not addressed_to(notice, identity):
        problems.append(Problem(Code.INVALID_VALUE, f"{notice['id']} does not address {identity}"))
    count: Any = shown["accounts_affected"] or None
    if count is not None:
        try:
            count = int(count)
        except ValueError:
            problems.append(Problem(Code.INVALID_VALUE, "accounts_affected must be a whole number",
                                    "accounts_affected"))
    facts = None
    try:
        facts = AckFacts(notice_ref=str(notice["id"]), notice_modified=notice["modified"], status=shown["status"],
                         accounts_affected=count if not problems else None, note=shown["note"] or None)
    except InvalidAckFacts as exc:
        problems += exc.found
    if problems or facts is None:
        context["problems"], context["about"] = {}, "Your acknowledgement"
        for p in problems:
            name = p.property if p.property in shown else ""
            context["problems"].setdefault(name, []).append(p)
        return render_template("notice.html", **context), 422
    ack = build_ack(facts, provider=identity, agency=str(notice["created_by_ref"]), now=_now())
    return _signing(col, [ack], "your acknowledgement",
                    url_for("web.notices.notice_page", collection_id=col.id, notice_id=notice["id"]))


# -- matching the provider's accounts, in the browser ----------------------------------------------------


@bp.get("/collections/<collection_id>/notices/match")
def match(collection_id: str) -> Any:
    principal = current_principal()
    col = current_hub().access.collection_info(principal, collection_id)
    if principal.party.kind != "provider":
        raise Forbidden(f"a provider matches its accounts; {principal.party.name} is a {principal.party.kind}")
    # What `abusehub notice match` matches: special measures and requests (an advisory has no scope).
    rows = [r for r in _pages().addressing(principal.party.name, col.id) if r.notice.get("notice_kind") != "advisory"]
    notices = [{**r.notice, "_number": r.number,
                "_url": url_for("web.notices.notice_page", collection_id=col.id, notice_id=r.id)} for r in rows]
    return render_template("notice_match.html", collection=col, rows=rows, notices=notices,
                           identity=principal.party.identity_id, countries=Country.choices)
