"""The web pages: sign-in, collections, the object browser, the report case file, filing a
report, correlations and sharing statistics.

Every page calls the hub's services (:class:`hub.services.hub.Hub`) with the principal of the
session, exactly as the TAXII views do with the principal of a token; nothing here reads the
store.

Sessions live in the database (:mod:`hub.services.websessions`): the browser's cookie carries
only a random session id. The session keeps the SHA-256 hash of the token the analyst signed in
with, never the token, and the party is looked up from it on every request, so a token revoked
on the command line ends the session at once. A session signed in with a client certificate
keeps the certificate's SHA-256 fingerprint and party instead, checked on every request against
the trusted proxy's ``X-SSL-Client-Cert``. Signing out ends the session on the server: a copy of
the cookie opens nothing afterwards. Every POST carries the CSRF token derived from the
browser's session id (a form field, or the ``X-CSRF-Token`` header for the page's own JSON
requests) and is refused without it.

Every answer under ``/web/`` carries the pages' headers (CSP and the rest), errors included:
an address no page has is an HTML 404 page, not the TAXII API's JSON.
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

import orjson
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from hub.client.reports import (
    LocalProblems,
    MappedPseudonymiser,
    check_identity,
    load_facts,
    local_problems,
)
from hub.common.errors import BadRequest, Forbidden, HubError, NotFound, TooManyRequests
from hub.common.ids import is_stix_id, is_stix_type
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.pseudonyms import PERSONAL_KINDS
from hub.services.auth import Principal, hash_token
from hub.services.certificates import CLIENT_CERT_HEADER
from hub.services.hub import Hub
from hub.services.query import ObjectQuery
from hub.services.statuses import Status
from hub.services.websessions import (
    CERTIFICATE,
    EXPIRED,
    IDLE,
    MAX_AGE_US,
    REVOKED,
    SIGNED_OUT,
    certificate_sign_in,
    csrf_token,
    end_session,
    is_session_id,
    new_session_id,
    resume_session,
    sign_in_with_certificate,
    start_session,
)
from hub.signing import SIGNATURE_EXTENSION_ID, KeySet
from hub.stix.report import InvalidReportFacts, build_report
from hub.web import CSP
from hub.web.casefile import build_case_file, check_signatures, tlp_of
from hub.web.filing import ABUSE_TYPES, CHOICES, clear_value_problems, problems_by_field, read_form

blueprint = Blueprint("web", __name__, url_prefix="/web", template_folder="templates",
                      static_folder="static", static_url_path="/static")

F = TypeVar("F", bound=Callable[..., Any])
#: How many pages of the collection a text filter looks through for one page of matches.
_TEXT_SCAN_PAGES = 10
_PAGE_SIZE = 25


#: Where :func:`hub.server.create_app` puts the hub's services (as hub.taxii.context reads them).
_EXTENSION = "abusehub"


def current_hub() -> Hub:
    """The hub whose services these pages call (one per app)."""
    hub: Hub = current_app.extensions[_EXTENSION]
    return hub


# -- sessions, CSRF and headers ------------------------------------------------------------------

#: The cookie that carries a browser's session id (nothing else) on the paths of these pages.
COOKIE = "abusehub_web"


def _secret() -> bytes:
    key = current_app.secret_key
    return key.encode() if isinstance(key, str) else bytes(key or b"")


def _csrf_token() -> str:
    """The CSRF token of this browser's forms. A browser without a session id (not signed in)
    is given a random one in the cookie first: the id stands for no session until sign-in
    replaces it with the id of a new one."""
    if g.get("session_id") is None:
        g.session_id = g.set_cookie = new_session_id()
    return csrf_token(_secret(), g.session_id)


@blueprint.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": _csrf_token, "principal": g.get("principal")}


@blueprint.before_request
def _load_session() -> Response | None:
    """Find the request's session (:func:`hub.services.websessions.resume_session` ends it if it
    is idle, too old or revoked); load the principal; check CSRF on every POST."""
    g.principal = g.ended = None
    g.session_id = g.set_cookie = None
    if request.endpoint == "web.static":
        return None
    sent = request.cookies.get(COOKIE)
    if is_session_id(sent):
        g.session_id = sent
        state = resume_session(current_hub(), sent, _forwarded_certificate())
        g.principal, g.ended = state.principal, state.ended
    if request.method == "POST":
        given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = csrf_token(_secret(), g.session_id) if g.session_id else ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return _error_page(403, "this form has expired or did not come from this page: "
                                    "reload the page and try again (CSRF check)")
    return None


def _set_cookie(response: Response) -> None:
    """Send the cookie when this request made a session id (sign-in, or a first form), or
    remove it at sign-out; otherwise send none (a session is never renewed by a cookie)."""
    if g.get("set_cookie"):
        response.set_cookie(COOKIE, g.set_cookie, path="/web", secure=current_hub().config.web.secure_cookies,
                            httponly=True, samesite="Strict")
    elif g.get("clear_cookie"):
        response.delete_cookie(COOKIE, path="/web", secure=current_hub().config.web.secure_cookies,
                               httponly=True, samesite="Strict")


def under_web(path: str) -> bool:
    """Whether ``path`` is one of these pages' addresses."""
    return path == "/web" or path.startswith("/web/")


def headers(response: Response) -> Response:
    """The headers of every answer under ``/web/``, page, JSON or error alike (registered on
    the app by :func:`hub.web.register_web`, so that errors the blueprint never sees get them)."""
    if not under_web(request.path):
        return response
    _set_cookie(response)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "web.static" or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    return response


#: The routes the pages' scripts call: they answer JSON, errors too, to a caller that asks for
#: JSON; every other address under /web/ answers pages, errors as pages.
JSON_ROUTES = frozenset({"web.pseudonym_key", "web.evaluate", "web.submit", "web.status"})


def _wants_json() -> bool:
    return request.endpoint in JSON_ROUTES and (
        request.accept_mimetypes.best == "application/json" or request.is_json)


def _error_page(status: int, message: str, *, html: bool = False) -> Response:
    """An error as a page (the JSON routes' callers, which ask for JSON, get it as JSON)."""
    if not html and _wants_json():
        resp = jsonify({"title": "refused", "description": message})
    else:
        resp = Response(render_template("error.html", status=status, message=message))
    resp.status_code = status
    return resp


@blueprint.errorhandler(HubError)
def _hub_error(exc: HubError) -> Response:
    resp = _error_page(exc.http_status if exc.http_status < 500 else 500, exc.description)
    retry_after = (exc.details or {}).get("retry_after")
    if isinstance(retry_after, int):
        resp.headers["Retry-After"] = str(retry_after)
    return resp


_HTTP_MESSAGES = {
    404: "there is no page at this address",
    405: "this page does not answer that kind of request",
    413: "what was sent is larger than this hub accepts",
}


def _http_error_page(exc: HTTPException, *, html: bool = False) -> Response:
    code = exc.code or 500
    resp = _error_page(code, _HTTP_MESSAGES.get(code, exc.description or exc.name), html=html)
    for name, value in exc.get_headers():
        if name.lower() == "allow":
            resp.headers[name] = value
    return resp


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return _http_error_page(exc)


@blueprint.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    # The endpoint's name, not the path: a path may carry what a browser typed.
    current_app.logger.exception("unexpected error on %s %s", request.method, request.endpoint or "unknown")
    return _error_page(500, "the hub failed to answer; the error was logged")


def routing_error() -> Response | None:
    """An address under ``/web/`` that no page has (or a method it does not take): an HTML
    error page, not the TAXII API's JSON (registered on the app by :func:`hub.web.register_web`,
    as routing errors reach no blueprint)."""
    exc = request.routing_exception
    if exc is None or not under_web(request.path) or not isinstance(exc, HTTPException):
        return None
    if exc.code is not None and 300 <= exc.code < 400:
        return None  # a redirect werkzeug's routing asks for
    return _http_error_page(exc, html=True)


def signed_in(view: F) -> F:
    """Pages for a signed-in party; others are sent to the sign-in page."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.principal is None:
            if request.method == "POST" or _wants_json():
                return _error_page(401, "your session has ended: sign in again")
            return redirect(url_for("web.signin", next=request.full_path))
        return view(*args, **kwargs)
    return cast(F, wrapper)


def _principal() -> Principal:
    principal: Principal = g.principal
    return principal


def _local_next(target: str | None) -> str:
    """Only a path of these pages: an open redirect would let another site use the sign-in."""
    if target and target.startswith("/web/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.collections")


@blueprint.route("/", methods=["GET"])
def index() -> Any:
    return redirect(url_for("web.collections" if g.principal else "web.signin"))


_ENDED = {
    SIGNED_OUT: "You signed out.",
    IDLE: "Your session ended after a time without activity: sign in again.",
    EXPIRED: f"Your session ended after {MAX_AGE_US // 3_600_000_000} hours: sign in again.",
    REVOKED: "Your session ended: its token is no longer valid.",
    CERTIFICATE: "Your session ended: your browser no longer presented the certificate it was signed "
                 "in with, or that certificate is no longer registered to an active party.",
}


def _forwarded_certificate() -> str | None:
    """The client certificate the TLS-terminating proxy forwarded with this request, or None;
    the server drops the header from anyone but the configured ``[server] trusted_proxies``."""
    return request.headers.get(CLIENT_CERT_HEADER) or None


def _signin_page(status: int = 200, **context: Any) -> Response:
    """The sign-in page: the token form, and the certificate sign-in when the request carries
    a certificate registered to an active party. Nothing typed is ever put back into it."""
    context.setdefault("next", request.form.get("next", "") if request.method == "POST" else
                       request.args.get("next", ""))
    offer = certificate_sign_in(current_hub(), _forwarded_certificate())
    resp = Response(render_template("signin.html", certificate=offer, **context))
    resp.status_code = status
    return resp


def _start_session(principal: Principal, *, token_hash: str | None = None, fingerprint: str | None = None) -> Any:
    """A new session for ``principal`` in the database, with a new id (hence a new CSRF token):
    nothing from before sign-in carries over."""
    g.session_id = g.set_cookie = start_session(current_hub(), principal, token_hash=token_hash,
                                                fingerprint=fingerprint)
    g.principal = principal
    return redirect(_local_next(request.form.get("next")))


def _retry_text(seconds: int) -> str:
    """When a throttled address may try again: in how many seconds, and at what time (UTC)."""
    at = datetime.fromtimestamp(current_hub().clock() // 1_000_000 + seconds, UTC)
    return f"{seconds} seconds (at {at:%H:%M:%S} UTC)"


def _sign_in_with_token() -> Any:
    """A token sign-in, through the TAXII API's authentication: a failure is counted against the
    request's address in the same shared throttle, and once the address has failed too often the
    answer is 429 with ``Retry-After``. A valid token is accepted even then (as on the TAXII
    side), so that parties sharing an address are not locked out by someone else's guesses."""
    token = (request.form.get("token") or "").strip()
    if not token:
        return _signin_page(401, error="Enter your party's API token.")
    try:
        principal = current_hub().access.authenticate(token, address=request.remote_addr)
    except TooManyRequests as exc:
        retry = (exc.details or {}).get("retry_after")
        seconds = retry if isinstance(retry, int) and retry > 0 else 60
        resp = _signin_page(429, error=f"Too many failed sign-ins from your address: try again in "
                                       f"{_retry_text(seconds)}. A valid token is still accepted.")
        resp.headers["Retry-After"] = str(seconds)
        return resp
    except HubError:
        return _signin_page(401, error="That token is not valid (unknown or revoked).")
    return _start_session(principal, token_hash=hash_token(token))


def _sign_in_with_certificate() -> Any:
    """A certificate sign-in, authenticated as the TAXII API authenticates a certificate; the
    session keeps the certificate's fingerprint and party, never the certificate."""
    try:
        principal, fingerprint = sign_in_with_certificate(current_hub(), _forwarded_certificate())
    except HubError:
        return _signin_page(401, error="This request carries no client certificate registered to an "
                                       "active party: sign in with your token.")
    return _start_session(principal, fingerprint=fingerprint)


@blueprint.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    if request.method == "POST":
        if request.form.get("method") == "certificate":
            return _sign_in_with_certificate()
        return _sign_in_with_token()
    ended = g.get("ended")
    return _signin_page(message=_ENDED.get(ended) if isinstance(ended, str) else None)


@blueprint.route("/signout", methods=["POST"])
def signout() -> Any:
    """End the session in the database (a copy of the cookie opens nothing afterwards, on any
    host of the hub) and remove the cookie."""
    if g.session_id is not None:
        end_session(current_hub(), g.session_id)
    g.principal = None
    g.clear_cookie = True
    return redirect(url_for("web.signin"))


# -- collections and objects ---------------------------------------------------------------------


@blueprint.route("/collections", methods=["GET"])
@signed_in
def collections() -> Any:
    infos = current_hub().access.collection_infos(_principal())
    return render_template("collections.html", collections=infos)


def _parse_since(text: str) -> int | None:
    if not text:
        return None
    candidate = text.strip()
    if len(candidate) == 10:
        candidate += "T00:00:00Z"
    elif len(candidate) == 16:
        candidate += ":00Z"
    elif not candidate.endswith("Z"):
        candidate += "Z"
    try:
        return parse_timestamp_us(candidate)
    except HubError:
        raise BadRequest("'added since' must be a date or a UTC time, e.g. 2026-11-01 or "
                         "2026-11-01T09:30") from None


def _matches(obj: dict[str, Any], text: str) -> bool:
    needle = text.casefold()
    return any(isinstance(obj.get(k), str) and needle in obj[k].casefold() for k in ("name", "description"))


@blueprint.route("/collections/<collection_id>/objects", methods=["GET"])
@signed_in
def objects(collection_id: str) -> Any:
    principal = _principal()
    info = current_hub().access.collection_info(principal, collection_id)
    if not info.can_read:
        raise Forbidden(f"you may not read collection {info.id}")
    obj_type = (request.args.get("type") or "").strip()
    if obj_type and not is_stix_type(obj_type):
        raise BadRequest("'type' must be a STIX type such as report or indicator")
    since_text = (request.args.get("since") or "").strip()
    since = _parse_since(since_text)
    text = (request.args.get("text") or "").strip()
    cursor = request.args.get("next") or None
    rows: list[dict[str, Any]] = []
    more, next_token = False, None
    # Paged with the query service's keyset (the same "next" as TAXII); a text filter reads on
    # through a bounded number of pages to fill one page of matches.
    for _ in range(_TEXT_SCAN_PAGES if text else 1):
        page = current_hub().query.objects(principal, info.id, ObjectQuery(
            added_after_us=since, types=(obj_type,) if obj_type else (), limit=_PAGE_SIZE, next=cursor))
        for item in page.items:
            obj = orjson.loads(item.json_text)
            if text and not _matches(obj, text):
                continue
            rows.append({"id": item.stix_id, "type": obj.get("type", ""), "version": item.version,
                         "name": obj.get("name") or obj.get("value") or "",
                         "added": format_timestamp_us(item.date_added_us), "tlp": tlp_of(obj)})
        more, next_token = page.more, page.next
        cursor = page.next
        if not page.more or len(rows) >= _PAGE_SIZE:
            break
    return render_template("objects.html", collection=info, rows=rows, more=more, next_token=next_token,
                           filters={"type": obj_type, "since": since_text, "text": text})


def _latest(principal: Principal, collection_id: str, stix_id: str) -> tuple[dict[str, Any], str]:
    if not is_stix_id(stix_id):
        raise NotFound("an object id is a STIX identifier (type--UUID)")
    page = current_hub().query.object(principal, collection_id, stix_id, ObjectQuery())
    if not page.items:
        raise NotFound(f"no object {stix_id} in collection {page.collection.id}")
    item = page.items[-1]
    return orjson.loads(item.json_text), format_timestamp_us(item.date_added_us)


def _fetch(principal: Principal, collection_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest versions of ``ids`` the principal may read in the collection."""
    out: dict[str, dict[str, Any]] = {}
    wanted = [i for i in dict.fromkeys(ids) if is_stix_id(i)]
    for start in range(0, len(wanted), 40):
        cursor = None
        while True:
            page = current_hub().query.objects(principal, collection_id, ObjectQuery(
                ids=tuple(wanted[start:start + 40]), limit=current_hub().query.max_page_size, next=cursor))
            for item in page.items:
                out[item.stix_id] = orjson.loads(item.json_text)
            if not page.more:
                break
            cursor = page.next
    return out


@blueprint.route("/collections/<collection_id>/objects/<stix_id>", methods=["GET"])
@signed_in
def object_page(collection_id: str, stix_id: str) -> Any:
    principal = _principal()
    obj, added = _latest(principal, collection_id, stix_id)
    col = current_hub().access.collection_info(principal, collection_id)
    now_us = current_hub().clock()
    keys = current_hub().keys.keyset()
    if obj.get("type") == "report":
        refs = [r for r in obj.get("object_refs") or [] if isinstance(r, str)]
        case = build_case_file(obj, _fetch(principal, col.id, refs), keys, now_us)
        correlated = []
        if case.all_pseudonyms:
            found = current_hub().pseudonyms.correlate(principal, case.all_pseudonyms[:40])
            correlated = sorted({(c.collection, c.report) for c in found if c.report != obj.get("id")})
        return render_template("report.html", collection=col, case=case, added=added,
                               correlated=correlated, raw=orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode())
    return render_template("object.html", collection=col, obj=obj, added=added, tlp=tlp_of(obj),
                           signatures=check_signatures(obj, keys, now_us),
                           raw=orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode())


# -- correlations --------------------------------------------------------------------------------


@blueprint.route("/correlations", methods=["GET"])
@signed_in
def correlations() -> Any:
    wanted = [p.strip() for p in request.args.getlist("pseudonym") if p.strip()]
    found = current_hub().pseudonyms.correlate(_principal(), wanted) if wanted else []
    return render_template("correlations.html", wanted=wanted, found=found,
                           key_version=current_hub().pseudonyms.public_keys()["current"])


# -- filing a report -----------------------------------------------------------------------------


def _registered_keys(principal: Principal) -> list[dict[str, str]]:
    """The party's keys a browser may sign with now: registered, not revoked, not expired."""
    now = current_hub().clock()
    return [{"kid": k.key_id, "alg": k.alg} for k in current_hub().keys.list(principal.party.name)
            if k.revoked_us is None and (k.not_after_us is None or k.not_after_us > now)
            and k.not_before_us <= now]


@blueprint.route("/collections/<collection_id>/file", methods=["GET", "POST"])
@signed_in
def file_report(collection_id: str) -> Any:
    principal = _principal()
    col = current_hub().access.collection_info(principal, collection_id)
    if not col.can_write:
        raise Forbidden(f"you may not write to collection {col.id}")
    context: dict[str, Any] = {"collection": col, "choices": CHOICES, "abuse_types": ABUSE_TYPES,
                               "personal_kinds": PERSONAL_KINDS, "keys": _registered_keys(principal),
                               "identity": principal.party.identity_id, "problems": {},
                               "objects": None, "fresh": request.method == "GET"}
    if request.method == "GET":
        context["shown"] = {"provider_name": principal.party.name, "acquisition": "direct-signup",
                            "kyc_status": "unverified", "action_taken": "suspended", "tlp": "amber",
                            "indicator_validity_days": "90", "abuse_types": []}
        return render_template("file.html", **context)
    data = read_form(request.form, request.form.getlist("abuse_types"), principal.party.identity_id)
    context["shown"] = data.shown
    refused = clear_value_problems(data.sent_in_clear)
    try:
        facts = load_facts(data.facts)
        check_identity(principal.party.identity_id, facts)
        # Every pseudonym came from the browser: the builder is asked for none.
        built = [] if refused else build_report(facts, MappedPseudonymiser([], []))
        problems = refused
    except (LocalProblems, InvalidReportFacts) as exc:
        problems = [*exc.problems, *refused]
    if problems:
        context["problems"] = problems_by_field(problems)
        return render_template("file.html", **context), 422
    problems = local_problems(built)
    if problems:
        context["problems"] = {"": problems}
        return render_template("file.html", **context), 422
    context["objects"] = built
    context["report_id"] = built[-1]["id"]
    # The preview, read as the report page reads a report (nothing is signed yet).
    context["case"] = build_case_file(built[-1], {o["id"]: o for o in built}, KeySet({}), current_hub().clock())
    context["object_counts"] = Counter(str(o.get("type")) for o in built).most_common()
    return render_template("file.html", **context)


@blueprint.route("/collections/<collection_id>/submit", methods=["POST"])
@signed_in
def submit(collection_id: str) -> Any:
    """The page's signed objects into the collection through the ingest service, as a TAXII
    POST would put them; CSRF-checked like every POST of these pages."""
    principal = _principal()
    col = current_hub().access.collection(principal, collection_id, "write")
    envelope = request.get_json(silent=True)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise BadRequest("the body must be a JSON envelope {\"objects\": [...]}")
    record = current_hub().ingest.submit(principal, col, envelope)
    return jsonify(_status_json(Status.of(record))), 202


def _status_json(status: Status) -> dict[str, Any]:
    return {"id": status.id, "status": status.status, "successes": status.successes,
            "failures": status.failures, "pendings": status.pendings,
            "url": url_for("web.status", status_id=status.id)}


@blueprint.route("/status/<status_id>", methods=["GET"])
@signed_in
def status(status_id: str) -> Any:
    return jsonify(_status_json(current_hub().statuses.get(_principal(), status_id)))


# -- small helpers for the templates -------------------------------------------------------------


@blueprint.app_template_filter("pretty_json")
def _pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


@blueprint.app_template_global("signature_extension")
def _signature_extension() -> str:
    return SIGNATURE_EXTENSION_ID


@blueprint.app_template_global("now_text")
def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- sharing statistics --------------------------------------------------------------------------


@blueprint.route("/stats", methods=["GET"])
@signed_in
def stats() -> Any:
    """Counts over the audit trail of the collections the party may see (every collection for
    an operator), drawn as server-side SVG."""
    from hub.services.stats import sharing_stats
    from hub.web.charts import bar_chart

    principal = _principal()
    visible = None if principal.party.operator else {
        c.id for c in current_hub().access.visible_collections(principal)}
    st = sharing_stats(current_hub().audit, visible)
    weeks = st.weeks[-12:]
    per_week = [(w, [sum(c[w] for c in st.reports.values()), sum(c[w] for c in st.objects.values())])
                for w in weeks]
    per_party = [(p, [sum(st.reports[p].values()), sum(st.objects[p].values())]) for p in st.parties]
    now = current_hub().clock()
    freshness = sorted(((p, format_timestamp_us(t), (now - t) // 86_400_000_000)
                        for p, t in st.newest_report_us.items()), key=lambda r: r[2])
    listed = current_hub().admin.list_collections() if principal.party.operator else \
        current_hub().access.visible_collections(principal)
    titles = {c.id: c.title for c in listed}
    reads = sorted(((p, titles.get(c, c), n) for (p, c), n in st.reads.items()), key=lambda r: -r[2])
    return render_template(
        "stats.html",
        week_chart=bar_chart("Reports and objects stored per week", per_week, ("reports", "objects")),
        party_chart=bar_chart("Reports and objects stored per party", per_party, ("reports", "objects")),
        refusal_chart=bar_chart("Refusals by reason", [(r[:40], [n]) for r, n in st.refusals.most_common(10)]),
        per_week=per_week, per_party=per_party, freshness=freshness,
        refusals=st.refusals.most_common(10), reads=reads[:50])
