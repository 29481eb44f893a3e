"""Sharing statistics: ``/web/stats``, counts over the audit trail of the collections the party
may see (every collection for an operator), drawn as server-side SVG (:mod:`hub.web.charts`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from hub.common.timestamps import format_timestamp_us
from hub.services.operations.stats import SharingStats, sharing_stats
from hub.web.charts import bar_chart
from hub.web.context import current_hub, current_principal, now_us
from hub.web.sessions import require_session

bp = Blueprint("stats", __name__)
bp.before_request(require_session)

_DAY_US = 86_400_000_000


def _freshness(st: SharingStats) -> list[tuple[str, str, int]]:
    """Each party's newest report: when, and how many days ago on the hub's clock."""
    now = now_us()
    return sorted(((p, format_timestamp_us(t), (now - t) // _DAY_US) for p, t in st.newest_report_us.items()),
                  key=lambda r: r[2])


@bp.get("/stats")
def stats() -> Any:
    principal = current_principal()
    hub = current_hub()
    operator = principal.party.operator
    listed = hub.admin.list_collections() if operator else hub.access.visible_collections(principal)
    st = sharing_stats(hub.audit, None if operator else {c.id for c in listed})
    per_week = [(w, [sum(c[w] for c in st.reports.values()), sum(c[w] for c in st.objects.values())])
                for w in st.weeks[-12:]]
    per_party = [(p, [sum(st.reports[p].values()), sum(st.objects[p].values())]) for p in st.parties]
    titles = {c.id: c.title for c in listed}
    reads = sorted(((p, titles.get(c, c), n) for (p, c), n in st.reads.items()), key=lambda r: -r[2])
    return render_template(
        "stats.html",
        week_chart=bar_chart("Reports and objects stored per week", per_week, ("reports", "objects")),
        party_chart=bar_chart("Reports and objects stored per party", per_party, ("reports", "objects")),
        refusal_chart=bar_chart("Refusals by reason", [(r[:40], [n]) for r, n in st.refusals.most_common(10)]),
        per_week=per_week, per_party=per_party, freshness=_freshness(st),
        refusals=st.refusals.most_common(10), reads=reads[:50])
