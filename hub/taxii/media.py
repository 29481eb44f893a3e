"""TAXII 2.1 media types and content negotiation (TAXII 2.1 section 1.6.8)."""

from __future__ import annotations

from hub.common.errors import NotAcceptable, UnsupportedMediaType

TAXII_TYPE = "application/taxii+json"
TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"


def _parse(media_range: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in media_range.split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def check_accept(accept: str | None) -> None:
    """Accept any header under which a TAXII 2.1 answer is acceptable.

    A missing header, ``*/*``, ``application/*`` and ``application/taxii+json`` without a version
    all get 2.1 (some clients send no version). 406 only when every listed type is one we cannot
    produce, e.g. ``application/taxii+json;version=2.0``.
    """
    if not accept or not accept.strip():
        return
    for media_range in accept.split(","):
        mtype, params = _parse(media_range)
        if params.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if mtype in {"*/*", "application/*"}:
            return
        if mtype == TAXII_TYPE and params.get("version", "2.1") == "2.1":
            return
    raise NotAcceptable(f"this server answers only with {TAXII_21}; the Accept header asked for {accept!r}")


def check_content_type(content_type: str | None) -> None:
    """A POST body must be a TAXII 2.1 envelope (section 5.4)."""
    if not content_type:
        raise UnsupportedMediaType(f"a Content-Type header is needed: {TAXII_21}")
    mtype, params = _parse(content_type)
    if mtype != TAXII_TYPE:
        raise UnsupportedMediaType(f"Content-Type {content_type!r} is not supported: send {TAXII_21}")
    if params.get("version", "2.1") != "2.1":
        raise UnsupportedMediaType(f"TAXII version {params['version']!r} is not supported: send {TAXII_21}")
