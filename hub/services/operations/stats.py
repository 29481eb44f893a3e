"""Sharing statistics from the audit trail: what was filed, refused and read, by whom and when.

Counts only: no object content, no query text. Everything comes from the hash-chained audit
records the hub writes anyway (``submission`` records list each object's outcome, ``read``
records each read and its count), restricted to the collections the asking party may see.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection as Coll
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.common.ids import STIX_ID_IN_TEXT_RE
from hub.services.audit import AuditService

# Ids and key ids in refusal reasons differ from object to object; grouped without them.
_KEY_RE = re.compile(r"\b[A-Za-z0-9_-]{43}\b")
_TS_RE = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z")
_MAX_REASON = 160


def week_of(at_us: int) -> str:
    """The ISO week of a time, ``2026-W48``."""
    year, week, _ = datetime.fromtimestamp(at_us / 1_000_000, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def reason_group(reason: str) -> str:
    """A refusal reason with ids, key ids and times replaced, so alike reasons count together."""
    text = _TS_RE.sub("<time>", _KEY_RE.sub("<key>", STIX_ID_IN_TEXT_RE.sub("<id>", str(reason))))
    return text[:_MAX_REASON]


@dataclass
class SharingStats:
    """Counts over the audit trail (see the module)."""

    reports: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    objects: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    newest_report_us: dict[str, int] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    reads: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def weeks(self) -> list[str]:
        """Every week with a submission, in order."""
        return sorted({w for c in (*self.reports.values(), *self.objects.values()) for w in c})

    @property
    def parties(self) -> list[str]:
        """Every party that submitted, by name."""
        return sorted(set(self.reports) | set(self.objects))


def sharing_stats(audit: AuditService, collections: Coll[str] | None, since_us: int | None = None) -> SharingStats:
    """The statistics of the collections with these ids (None: every collection)."""
    audit.flush()  # buffered reads count too
    out = SharingStats()
    for rec in audit.export(since_us):
        if collections is not None and rec.collection not in collections:
            continue
        if rec.kind == "submission":
            week = week_of(rec.at_us)
            for item in rec.data.get("objects") or []:
                if not isinstance(item, list) or len(item) < 3:
                    continue
                oid, outcome = str(item[0]), item[2]
                if outcome == "stored":
                    out.objects[rec.party][week] += 1
                    if oid.startswith("report--"):
                        out.reports[rec.party][week] += 1
                        out.newest_report_us[rec.party] = max(out.newest_report_us.get(rec.party, 0), rec.at_us)
                elif outcome == "refused" and len(item) > 3:
                    out.refusals[reason_group(str(item[3]))] += 1
        elif rec.kind == "read" and rec.collection:
            count = rec.data.get("count")
            out.reads[(rec.party, rec.collection)] += count if isinstance(count, int) else 0
    return out
