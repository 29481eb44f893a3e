"""Collections and what is in them: ``/web/collections``, a collection's objects
(``/web/collections/<id>/objects``, filtered and paged with the query service's keyset) and one
object's page (``/web/collections/<id>/objects/<stix id>``; a report read as its case file,
:mod:`hub.web.casefile`).

A party sees only the collections it may read or write, as on the TAXII side.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, render_template, request

from hub.common.errors import BadRequest, Forbidden, HubError, NotFound
from hub.common.ids import is_stix_id, is_stix_type
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us
from hub.services.access.auth import Principal
from hub.services.query import ObjectQuery
from hub.web.casefile import build_case_file, check_signatures, tlp_of
from hub.web.context import current_hub, current_principal, now_us
from hub.web.sessions import require_session

bp = Blueprint("collections", __name__)
bp.before_request(require_session)

#: How many pages of the collection a text filter looks through for one page of matches.
_TEXT_SCAN_PAGES = 10
_PAGE_SIZE = 25
#: Ids asked for per query when a report's objects are fetched.
_IDS_PER_QUERY = 40


@bp.get("/collections")
def collections() -> Any:
    infos = current_hub().access.collection_infos(current_principal())
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


def _row(stix_id: str, obj: dict[str, Any], version: str, added_us: int) -> dict[str, Any]:
    return {"id": stix_id, "type": obj.get("type", ""), "version": version,
            "name": obj.get("name") or obj.get("value") or "",
            "added": format_timestamp_us(added_us), "tlp": tlp_of(obj)}


@bp.get("/collections/<collection_id>/objects")
def objects(collection_id: str) -> Any:
    principal = current_principal()
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
            if not text or _matches(obj, text):
                rows.append(_row(item.stix_id, obj, item.version, item.date_added_us))
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
    query = current_hub().query
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        cursor = None
        while True:
            page = query.objects(principal, collection_id, ObjectQuery(
                ids=tuple(wanted[start:start + _IDS_PER_QUERY]), limit=query.max_page_size, next=cursor))
            for item in page.items:
                out[item.stix_id] = orjson.loads(item.json_text)
            if not page.more:
                break
            cursor = page.next
    return out


def _raw(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()


@bp.get("/collections/<collection_id>/objects/<stix_id>")
def object_page(collection_id: str, stix_id: str) -> Any:
    principal = current_principal()
    obj, added = _latest(principal, collection_id, stix_id)
    col = current_hub().access.collection_info(principal, collection_id)
    keys = current_hub().keys.keyset()
    if obj.get("type") == "report":
        refs = [r for r in obj.get("object_refs") or [] if isinstance(r, str)]
        case = build_case_file(obj, _fetch(principal, col.id, refs), keys, now_us())
        correlated = []
        if case.all_pseudonyms:
            found = current_hub().pseudonyms.correlate(principal, case.all_pseudonyms[:40])
            correlated = sorted({(c.collection, c.report) for c in found if c.report != obj.get("id")})
        return render_template("report.html", collection=col, case=case, added=added,
                               correlated=correlated, raw=_raw(obj))
    return render_template("object.html", collection=col, obj=obj, added=added, tlp=tlp_of(obj),
                           signatures=check_signatures(obj, keys, now_us()), raw=_raw(obj))
