"""Correlations: ``/web/correlations?pseudonym=...``, the reports of the collections the party
may read that carry any of the given pseudonyms, through the same service as the TAXII side's
``GET {api-root}/correlations/``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from hub.web.context import current_hub, current_principal
from hub.web.sessions import require_session

bp = Blueprint("correlations", __name__)
bp.before_request(require_session)


@bp.get("/correlations")
def correlations() -> Any:
    wanted = [p.strip() for p in request.args.getlist("pseudonym") if p.strip()]
    found = current_hub().pseudonyms.correlate(current_principal(), wanted) if wanted else []
    return render_template("correlations.html", wanted=wanted, found=found,
                           key_version=current_hub().pseudonyms.public_keys()["current"])
