"""A submission's status, for the filing page's script to follow: ``/web/status/<id>`` answers
the status service's record as JSON (the TAXII status resource's counts, and this address)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, url_for

from hub.services.ingest.statuses import Status
from hub.web.context import answers_json, current_hub, current_principal
from hub.web.sessions import require_session

bp = Blueprint("status", __name__)
bp.before_request(require_session)


def status_json(status: Status) -> dict[str, Any]:
    """What the page's script reads of a status: its counts, and where to ask again."""
    return {"id": status.id, "status": status.status, "successes": status.successes,
            "failures": status.failures, "pendings": status.pendings,
            "url": url_for("web.status.status", status_id=status.id)}


@bp.get("/status/<status_id>")
@answers_json
def status(status_id: str) -> Any:
    return jsonify(status_json(current_hub().statuses.get(current_principal(), status_id)))
