"""Filing a report: the form (``/web/collections/<id>/file``: check and preview) and the route
its script posts the signed objects to (``/web/collections/<id>/submit``).

The form's fields and their mapping to report facts are :mod:`hub.web.filing`'s; the facts are
checked and the objects built exactly as ``abusehub report new`` does
(:meth:`~hub.stix.facts.Facts.from_mapping`, :func:`hub.stix.report.build_report`), each
problem shown at the field its ``property`` names; the preview is read as the report page reads
a report (:mod:`hub.web.casefile`). The browser signs; the objects go in through the ingest service.

Where the collection takes anonymous reports (and the hub has an oversight key), the form offers
"file anonymously": the report is built in the anonymous scope
(:func:`hub.client.anonymous.anonymous_facts`, as ``report new --anonymous`` builds it), the page
signs it as usual and its script posts it, with the commitment to a withdrawal secret made and
kept in the browser, to ``/web/anonymous/file``, which files it through the same service as the
TAXII ``POST {api root}/anonymous/`` (:meth:`~hub.services.anonymity.AnonymousFilingService.file_attested`).
That route's path names no collection (the collection travels in the body), so the request's log
line names neither a party nor a collection.

For a provider, "file anonymously" also offers the token mode (``anonymous_mode=token``): the
page fetches blind-signed submission tokens while signed in (``/web/anonymity/tokens``, the
issuance of :meth:`~hub.services.anonymity.tokens.TokenService.issue`), keeps them in the
browser, and files with one by the API root's ``anonymous/redeem/`` with no credential, the
report unsigned and the escrow record sealed in the browser (``js/token-filing.js``); before it
fetches or redeems, it checks the hub's token key against the ``[web] token_key_sources``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from flask import Blueprint, jsonify, render_template, request, url_for

from hub.anonymity.filing import ANONYMOUS_SCOPE
from hub.client.anonymous import FIRST_BUCKET, PADDED_KINDS, anonymous_facts
from hub.client.reports import LocalProblems, MappedPseudonymiser, check_identity, local_problems
from hub.common.errors import BadRequest, Forbidden
from hub.common.problems import Code, Problem
from hub.services.access.auth import Principal
from hub.services.ingest.statuses import Status
from hub.signing import KeySet
from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.report import InvalidReportFacts, ReportFacts, build_report
from hub.stix.sharing import ACS_EXTENSION_ID
from hub.web.casefile import build_case_file
from hub.web.context import answers_json, current_hub, current_principal, now_us
from hub.web.filing import (
    ANONYMOUS_FIELD,
    CHECKED,
    SECTIONS,
    TOKEN,
    clear_value_problems,
    mode_problems,
    problems_by_field,
    read_form,
    scope_problems,
)
from hub.web.sessions import require_session
from hub.web.status import status_json

bp = Blueprint("file", __name__)
bp.before_request(require_session)


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any) -> str:
    """The objects of the preview as indented JSON (the page's "as STIX" view)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _registered_keys(principal: Principal) -> list[dict[str, str]]:
    """The party's keys a browser may sign with now: registered, not revoked, not expired."""
    now = now_us()
    return [{"kid": k.key_id, "alg": k.alg} for k in current_hub().keys.list(principal.party.name)
            if k.revoked_us is None and (k.not_after_us is None or k.not_after_us > now)
            and k.not_before_us <= now]


def _anonymous_allowed(collection_id: str) -> bool:
    """Whether the page offers "file anonymously" in the collection: it takes anonymous reports
    and the hub has an oversight key to seal their submitters to."""
    service = current_hub().anonymous
    return bool(service.config.oversight_public_key_file) and service.allowed(collection_id)


def _token_context(principal: Principal, anonymous_allowed: bool) -> dict[str, Any]:
    """What the page needs for the token mode: whether it is offered (a provider, where anonymous
    filing is), where the token key directory and the redemption are (the API root's, read and
    posted without credentials), and the second sources ``[web] token_key_sources`` names."""
    offered = anonymous_allowed and principal.party.kind == "provider"
    directory = url_for("tokens.get_token_keys")
    return {"token_offered": offered, "token_directory_url": directory,
            "token_api": directory.removesuffix("anonymity/token-keys/"),
            "token_sources": list(current_hub().config.web.token_key_sources)}


def _build(facts_mapping: dict[str, Any], identity_id: str, refused: list[Problem],
           anonymous: bool = False) -> tuple[list[dict[str, Any]], dict[str, list[Problem]]]:
    """The objects of the form's facts (in the anonymous scope when ``anonymous``), or its
    problems by field ("" for the whole form)."""
    try:
        facts = ReportFacts.from_mapping(facts_mapping)
        check_identity(identity_id, facts)
        if anonymous:
            facts = anonymous_facts(facts)
        # Every pseudonym came from the browser: the builder is asked for none.
        built = [] if refused else build_report(facts, MappedPseudonymiser([], []))
        problems = refused
    except InvalidReportFacts as exc:
        built, problems = [], [*exc.found, *refused]
    except LocalProblems as exc:  # the facts name another provider than the party signed in
        built, problems = [], [*(Problem(Code.NOT_THE_SUBMITTER, line) for line in exc.problems), *refused]
    if problems:
        return [], problems_by_field(problems)
    # The built objects as the hub will check them (the report as a whole: no field to show at).
    problems = [Problem(Code.INVALID_STIX, line) for line in local_problems(built)]
    return (built, {}) if not problems else ([], {"": problems})


@bp.route("/collections/<collection_id>/file", methods=["GET", "POST"])
def file_report(collection_id: str) -> Any:
    principal = current_principal()
    col = current_hub().access.collection_info(principal, collection_id)
    if not col.can_write:
        raise Forbidden(f"you may not write to collection {col.id}")
    context: dict[str, Any] = {"collection": col, "sections": SECTIONS, "keys": _registered_keys(principal),
                               "identity": principal.party.identity_id, "problems": {},
                               "objects": None, "fresh": request.method == "GET",
                               "anonymous_allowed": _anonymous_allowed(col.id), "anonymous_scope": ANONYMOUS_SCOPE,
                               "padded_kinds": list(PADDED_KINDS), "first_bucket": FIRST_BUCKET}
    context.update(_token_context(principal, context["anonymous_allowed"]))
    if request.method == "GET":
        context["shown"] = {"provider_name": principal.party.name, "acquisition": "direct-signup",
                            "kyc_status": "unverified", "action_taken": "suspended", "tlp": "amber",
                            "indicator_validity_days": "90", "abuse_types": []}
        return render_template("file.html", **context)
    data = read_form(request.form, {name: request.form.getlist(name) for name in CHECKED},
                     principal.party.identity_id)
    context["shown"] = data.shown
    refused = clear_value_problems(data.sent_in_clear)
    if data.anonymous and not context["anonymous_allowed"]:
        refused.append(Problem(Code.INVALID_VALUE, f"collection {col.id} does not accept anonymous reports: "
                                                   "untick \"file anonymously\"", ANONYMOUS_FIELD))
    refused += scope_problems(data, principal.party.identity_id)
    refused += mode_problems(data, context["token_offered"])
    built, problems = _build(data.facts, principal.party.identity_id, refused, data.anonymous)
    if problems:
        context["problems"] = problems
        return render_template("file.html", **context), 422
    context["objects"] = built
    context["report_id"] = built[-1]["id"]
    # The preview, read as the report page reads a report (nothing is signed yet).
    context["case"] = build_case_file(built[-1], {o["id"]: o for o in built}, KeySet({}), now_us())
    context["object_counts"] = Counter(str(o.get("type")) for o in built).most_common()
    context["sharing"] = built[-1].get("extensions", {}).get(SHARING_EXTENSION_ID, {})
    context["acs"] = [o["extensions"][ACS_EXTENSION_ID] for o in built if o["type"] == "marking-definition"]
    context["anonymous"] = data.anonymous
    context["token_mode"] = data.anonymous and data.mode == TOKEN
    return render_template("file.html", **context)


@bp.post("/collections/<collection_id>/submit")
@answers_json
def submit(collection_id: str) -> Any:
    """The page's signed objects into the collection through the ingest service, as a TAXII
    POST would put them; CSRF-checked like every POST of these pages."""
    principal = current_principal()
    col = current_hub().access.collection(principal, collection_id, "write")
    envelope = request.get_json(silent=True)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise BadRequest("the body must be a JSON envelope {\"objects\": [...]}")
    record = current_hub().ingest.submit(principal, col, envelope)
    return jsonify(status_json(Status.of(record))), 202


@bp.post("/anonymous/file")
@answers_json
def file_anonymously() -> Any:
    """The page's signed objects filed anonymously (``{"collection", "objects",
    "withdrawal_commitment"}``), checked as the signed-in party and published as nobody, by the
    anonymous filing service; 202 with the receipt. CSRF-checked like every POST of these pages."""
    principal = current_principal()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("collection"), str):
        raise BadRequest("the body names its collection: {\"collection\": \"<collection id>\", \"objects\": [...], "
                         "\"withdrawal_commitment\": \"sha256:...\"}")
    filing = {k: v for k, v in body.items() if k != "collection"}
    receipt = current_hub().anonymous.file_attested(principal, body["collection"], filing)
    return jsonify(receipt.to_json()), 202


@bp.post("/anonymity/tokens")
@answers_json
def issue_tokens() -> Any:
    """Blind signatures on the page's token requests (``{"token_key_id", "requests"}``) for the
    signed-in provider, by the same service and allowance as ``POST {api root}/anonymity/tokens/``.
    The requests were blinded in the browser: nothing here can tie a token to its redemption.
    CSRF-checked like every POST of these pages."""
    return jsonify(current_hub().tokens.issue(current_principal(), request.get_json(silent=True)))
