"""Content negotiation: the media types the hub answers with and accepts.

TAXII resources are ``application/taxii+json;version=2.1`` (TAXII 2.1 section 1.6.8). The hub's
own endpoints answer plain JSON (``pseudonyms/``, ``correlations/``) or a JWK set (``keys/``):
they negotiate on their own types with :func:`answer_json`, and accept TAXII JSON in Accept too,
since a TAXII client may send its Accept header with every request.

Each blueprint states its negotiation once, as a ``before_request`` hook: :func:`taxii_accept`
or :func:`answer_json`. It runs before authentication, so a 406 does not depend on credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import g, request

from hub.common.errors import BadRequest, NotAcceptable, UnsupportedMediaType

TAXII_TYPE = "application/taxii+json"
TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"
JSON = "application/json"
#: RFC 7517 section 8.5: the media type of a JWK set (what ``keys/`` answers).
JWK_SET = "application/jwk-set+json"

_REFUSED_Q = {"0", "0.0", "0.00", "0.000"}


def parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """A media type (or range) and its parameters; type and parameter names in lower case."""
    parts = [p.strip() for p in header.split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def _is_taxii_21(mtype: str, params: dict[str, str]) -> bool:
    # Some clients send no version: the type without one means the newest, 2.1 (section 1.6.8.2).
    return mtype == TAXII_TYPE and params.get("version", "2.1") == "2.1"


def check_accept(accept: str | None) -> None:
    """Accept any header under which a TAXII 2.1 answer is acceptable (section 1.6.8).

    A missing header, ``*/*``, ``application/*`` and ``application/taxii+json`` without a version
    all get 2.1. 406 only when every listed type is one we cannot produce, e.g.
    ``application/taxii+json;version=2.0`` or ``application/json``.
    """
    if not accept or not accept.strip():
        return
    for media_range in accept.split(","):
        mtype, params = parse_media_type(media_range)
        if params.get("q") in _REFUSED_Q:
            continue
        if mtype in {"*/*", "application/*"} or _is_taxii_21(mtype, params):
            return
    raise NotAcceptable(f"this server answers only with {TAXII_21}; the Accept header asked for {accept!r}")


def check_content_type(content_type: str | None) -> None:
    """A POST body must be a TAXII 2.1 envelope (section 5.5)."""
    if not content_type:
        raise UnsupportedMediaType(f"a Content-Type header is needed: {TAXII_21}")
    mtype, params = parse_media_type(content_type)
    if mtype != TAXII_TYPE:
        raise UnsupportedMediaType(f"Content-Type {content_type!r} is not supported: send {TAXII_21}")
    if params.get("version", "2.1") != "2.1":
        raise UnsupportedMediaType(f"TAXII version {params['version']!r} is not supported: send {TAXII_21}")


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
        mtype, params = parse_media_type(media_range)
        if params.get("q") in _REFUSED_Q:
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


def taxii_accept() -> None:
    """``before_request`` hook of the TAXII blueprints: 406 unless TAXII 2.1 is acceptable."""
    check_accept(request.headers.get("Accept"))


def answer_json(*produces: str) -> Callable[[], None]:
    """A ``before_request`` hook for an endpoint answering one of ``produces`` (preferred first):
    it stores the negotiated type in ``g.answer_type`` or answers 406."""

    def negotiate() -> None:
        g.answer_type = negotiate_json(request.headers.get("Accept"), produces)

    return negotiate


def answer_type(default: str = JSON) -> str:
    """The type :func:`answer_json` chose for this request."""
    return str(g.get("answer_type", default))


def json_body() -> Any:
    """A request body sent as ``application/json`` or as TAXII 2.1 JSON, parsed."""
    content_type = request.headers.get("Content-Type")
    mtype, params = parse_media_type(content_type or "")
    if mtype != JSON and not _is_taxii_21(mtype, params):
        raise UnsupportedMediaType(f"send the body as {JSON} (or {TAXII_21}); "
                                   f"got Content-Type {content_type!r}")
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        # Position only: the body may hold personal values, and they are never echoed.
        raise BadRequest(f"the request body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None


def taxii_body() -> Any:
    """A TAXII 2.1 envelope sent in the request body, parsed (section 5.5)."""
    check_content_type(request.headers.get("Content-Type"))
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
