"""The TAXII 2.1 endpoints (section 4 and 5). HTTP only: parse, call a service, answer.

Pages of objects are built from the stored JSON texts by concatenation: nothing is parsed or
re-serialised on the poll path.

Besides TAXII, the API root carries two plain-JSON endpoints (``application/json``), with the
same authentication and error bodies: ``POST pseudonyms/`` (personal values in, keyed pseudonyms
out) and ``GET correlations/`` (the reports that share a pseudonym, in readable collections);
and the public ``GET keys/``, the JWK set of the registered signing keys
(``application/jwk-set+json``, or ``application/json`` to a client that asks for that only).
Their content negotiation is not TAXII's: see :func:`negotiate_json`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, g, request

from hub.common.errors import (
    BadRequest,
    HubError,
    NotAcceptable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from hub.common.timestamps import format_timestamp_us
from hub.services.auth import Principal
from hub.services.hub import Hub
from hub.services.query import PageResult
from hub.store.records import StatusRecord
from hub.taxii.media import (
    STIX_21,
    TAXII_21,
    TAXII_TYPE,
    check_accept,
    check_content_type,
)
from hub.taxii.params import parse_query


def _hub() -> Hub:
    return current_app.extensions["abusehub"]


def bearer_token(header: str | None) -> str | None:
    """The token in an Authorization header: HTTP Basic password, Bearer or Token scheme."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("bearer", "token"):
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Basic credentials are not valid base64 of 'name:token'") from None
        _user, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthorized("the Basic credentials must be 'name:token'")
        return password or None
    raise Unauthorized(f"authentication scheme {scheme!r} is not supported: use Basic or Bearer")


def _principal() -> Principal:
    return _hub().access.authenticate(bearer_token(request.headers.get("Authorization")))


def taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A TAXII response: the exact 2.1 content type, the body as JSON."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    resp = Response(data, status=status, content_type=TAXII_21)
    if headers:
        resp.headers.update(headers)
    return resp


JSON = "application/json"
#: RFC 7517 section 8.5: the media type of a JWK set (what ``keys/`` answers).
JWK_SET = "application/jwk-set+json"
#: Endpoints answering plain JSON rather than TAXII resources, and the media types each can
#: answer with, preferred first. TAXII JSON is accepted too (a TAXII client may send its Accept
#: with every request), and answered with the first type.
_JSON_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "taxii.pseudonyms": (JSON,),
    "taxii.correlations": (JSON,),
    "taxii.keys": (JWK_SET, JSON),
}


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in header.split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def negotiate_json(accept: str | None, produces: tuple[str, ...] = (JSON,)) -> str:
    """The media type a plain-JSON endpoint answers with under ``accept``.

    ``produces`` lists what the endpoint can answer with, preferred first. A missing header,
    ``*/*``, ``application/*`` or TAXII JSON gets the first; a type of ``produces`` named in the
    header gets that type (the first listed wins; ranges with ``q=0`` are refused types).
    Otherwise 406, naming the acceptable types.
    """
    if not accept or not accept.strip():
        return produces[0]
    wildcard = False
    for media_range in accept.split(","):
        mtype, params = _media_type(media_range)
        if params.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if mtype in produces:
            return mtype
        if mtype in {"*/*", "application/*", TAXII_TYPE}:
            wildcard = True
    if wildcard:
        return produces[0]
    acceptable = ", ".join([*produces, "*/*"])
    raise NotAcceptable(f"this endpoint answers with {' or '.join(produces)}; send Accept: "
                        f"{acceptable} (the Accept header asked for {accept!r})")


def check_json_accept(accept: str | None) -> None:
    """The JSON endpoints answer ``application/json``: fine for that, TAXII, or anything."""
    negotiate_json(accept)


def json_body() -> Any:
    """A request body sent as ``application/json`` or as TAXII 2.1 JSON, parsed."""
    content_type = request.headers.get("Content-Type")
    mtype, params = _media_type(content_type or "")
    if mtype != JSON and not (mtype == TAXII_TYPE and params.get("version", "2.1") == "2.1"):
        raise UnsupportedMediaType(f"send the body as {JSON} (or {TAXII_21}); "
                                   f"got Content-Type {content_type!r}")
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        # Position only: the body may hold personal values, and they are never echoed.
        raise BadRequest(f"the request body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None


def as_json(body: Any, status: int = 200) -> Response:
    """A plain JSON response."""
    return Response(orjson.dumps(body), status=status, content_type=JSON)


def _date_headers(page: PageResult) -> dict[str, str]:
    first, last = page.first_added_us, page.last_added_us
    if first is None or last is None:
        return {}
    return {"X-TAXII-Date-Added-First": format_timestamp_us(first),
            "X-TAXII-Date-Added-Last": format_timestamp_us(last)}


def _envelope(page: PageResult) -> bytes:
    head = b'{"more":true,"next":' + orjson.dumps(page.next) if page.more else b'{"more":false'
    if not page.items:
        return head + b"}"
    return head + b',"objects":[' + ",".join([i.json_text for i in page.items]).encode("utf-8") + b"]}"


def _status_body(status: StatusRecord) -> dict[str, Any]:
    return {
        "id": status.id,
        "status": status.status,
        "request_timestamp": format_timestamp_us(status.request_us),
        "total_count": status.total_count,
        "success_count": len(status.successes),
        "successes": status.successes,
        "failure_count": len(status.failures),
        "failures": status.failures,
        "pending_count": len(status.pendings),
        "pendings": status.pendings,
    }


def make_blueprint(api_root: str) -> Blueprint:
    """The discovery endpoint and one API root at ``/<api_root>/``."""
    bp = Blueprint("taxii", __name__)
    root = f"/{api_root.strip('/')}"

    @bp.before_request
    def _negotiate() -> None:
        produces = _JSON_ENDPOINTS.get(request.endpoint or "")
        if produces is not None:
            g.answer_type = negotiate_json(request.headers.get("Accept"), produces)
        else:
            check_accept(request.headers.get("Accept"))

    @bp.get("/taxii2/")
    def discovery() -> Response:
        hub = _hub()
        if not hub.config.taxii.public_discovery:
            _principal()
        url = request.host_url.rstrip("/") + root + "/"
        body = {"title": hub.config.title, "description": hub.config.description,
                "default": url, "api_roots": [url]}
        if hub.config.contact:
            body["contact"] = hub.config.contact
        return taxii(body)

    @bp.get(f"{root}/")
    def api_root_info() -> Response:
        _principal()
        cfg = _hub().config
        return taxii({"title": cfg.title, "description": cfg.description, "versions": [TAXII_21],
                      "max_content_length": cfg.taxii.max_content_length})

    @bp.get(f"{root}/keys/")
    def keys() -> Response:
        # Public on purpose: anyone holding a signed object can check it without an account.
        # application/jwk-set+json, or application/json to a client that accepts only that.
        return Response(orjson.dumps(_hub().keys.jwks()), content_type=g.get("answer_type", JWK_SET))

    @bp.get(f"{root}/status/<status_id>/")
    def status(status_id: str) -> Response:
        return taxii(_status_body(_hub().statuses.get(_principal(), status_id)))

    @bp.get(f"{root}/collections/")
    def collections() -> Response:
        principal = _principal()
        items = []
        for col in _hub().access.visible_collections(principal):
            entry: dict[str, Any] = {"id": col.id, "title": col.title, "can_read": principal.can_read(col),
                                     "can_write": principal.can_write(col), "media_types": [STIX_21]}
            if col.description:
                entry["description"] = col.description
            if col.alias:
                entry["alias"] = col.alias
            items.append(entry)
        return taxii({"collections": items})

    @bp.get(f"{root}/collections/<collection_id>/")
    def collection(collection_id: str) -> Response:
        principal = _principal()
        col = _hub().access.collection(principal, collection_id, "see")
        entry: dict[str, Any] = {"id": col.id, "title": col.title, "can_read": principal.can_read(col),
                                 "can_write": principal.can_write(col), "media_types": [STIX_21]}
        if col.description:
            entry["description"] = col.description
        if col.alias:
            entry["alias"] = col.alias
        return taxii(entry)

    @bp.get(f"{root}/collections/<collection_id>/objects/")
    def get_objects(collection_id: str) -> Response:
        page = _hub().query.objects(_principal(), collection_id, parse_query(request.args))
        return taxii(_envelope(page), headers=_date_headers(page))

    @bp.post(f"{root}/collections/<collection_id>/objects/")
    def add_objects(collection_id: str) -> Response:
        hub = _hub()
        principal = _principal()
        col = hub.access.collection(principal, collection_id, "write")
        check_content_type(request.headers.get("Content-Type"))
        raw = request.get_data(cache=False)
        try:
            envelope = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the request body is not valid JSON: {exc}") from None
        return taxii(_status_body(hub.ingest.submit(principal, col, envelope)), status=202)

    @bp.get(f"{root}/collections/<collection_id>/objects/<object_id>/")
    def get_object(collection_id: str, object_id: str) -> Response:
        page = _hub().query.object(_principal(), collection_id, object_id, parse_query(request.args))
        return taxii(_envelope(page), headers=_date_headers(page))

    @bp.delete(f"{root}/collections/<collection_id>/objects/<object_id>/")
    def delete_object(collection_id: str, object_id: str) -> Response:
        q = parse_query(request.args, default_version="all")
        _hub().query.delete(_principal(), collection_id, object_id, q.flt)
        return Response(status=200, content_type=TAXII_21)

    @bp.get(f"{root}/collections/<collection_id>/objects/<object_id>/versions/")
    def versions(collection_id: str, object_id: str) -> Response:
        q = parse_query(request.args, allow_version=False)
        page = _hub().query.versions(_principal(), collection_id, object_id, q)
        body: dict[str, Any] = {"more": page.more}
        if page.next:
            body["next"] = page.next
        if page.items:
            body["versions"] = [i.version for i in page.items]
        return taxii(body, headers=_date_headers(page))

    @bp.get(f"{root}/collections/<collection_id>/manifest/")
    def manifest(collection_id: str) -> Response:
        page = _hub().query.manifest(_principal(), collection_id, parse_query(request.args))
        body: dict[str, Any] = {"more": page.more}
        if page.next:
            body["next"] = page.next
        if page.items:
            body["objects"] = [{"id": i.stix_id, "date_added": format_timestamp_us(i.date_added_us),
                                "version": i.version, "media_type": STIX_21} for i in page.items]
        return taxii(body, headers=_date_headers(page))

    @bp.post(f"{root}/pseudonyms/")
    def pseudonyms() -> Response:
        hub = _hub()
        principal = _principal()
        body = json_body()
        if not isinstance(body, dict) or set(body) != {"values"}:
            raise BadRequest('the body must be {"values": [{"kind": ..., "value": ...}, ...]}')
        return as_json(hub.pseudonyms.pseudonymise(principal, body["values"]))

    @bp.get(f"{root}/correlations/")
    def correlations() -> Response:
        hub = _hub()
        principal = _principal()
        unknown = sorted(set(request.args) - {"pseudonym"})
        if unknown:
            raise BadRequest(f"unknown query parameter {unknown[0]!r}: use pseudonym=")
        wanted = [p.strip() for arg in request.args.getlist("pseudonym") for p in arg.split(",") if p.strip()]
        found = hub.pseudonyms.correlate(principal, wanted)
        return as_json({"correlations": [c.as_json() for c in found]})

    return bp


def error_body(status: int, title: str, description: str, details: dict | None = None) -> dict[str, Any]:
    """A TAXII error message (section 3.6.1)."""
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = details
    return body


def register_error_handlers(app: Flask) -> None:
    """Every error becomes a TAXII error body with its status; nothing leaks as an HTML page."""
    from werkzeug.exceptions import HTTPException

    challenge = 'Basic realm="abusehub", Bearer realm="abusehub"'

    @app.errorhandler(HubError)
    def _hub_error(exc: HubError) -> Response:
        headers = {"WWW-Authenticate": challenge} if exc.http_status == 401 else None
        if isinstance(exc, TooManyRequests) and exc.details and "retry_after" in exc.details:
            headers = {"Retry-After": str(exc.details["retry_after"])}
        return taxii(error_body(exc.http_status, exc.title, exc.description, exc.details),
                     exc.http_status, headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        description = exc.description or exc.name
        if code == 413:
            description = (f"the request body is larger than this server's max_content_length "
                           f"({app.config['MAX_CONTENT_LENGTH']} bytes)")
        return taxii(error_body(code, exc.name, description), code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return taxii(error_body(500, "Internal error", "the server failed to answer; the error was logged"), 500)
