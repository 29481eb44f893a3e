"""STIX object factories for tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

_counter = itertools.count(1)


def ts(second: int = 0, day: int = 1, month: int = 1) -> str:
    return f"2026-{month:02d}-{day:02d}T00:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def indicator(*, id: str | None = None, modified: str | None = None, created: str | None = None,
              created_by_ref: str | None = None, **extra: Any) -> dict[str, Any]:
    n = next(_counter)
    created = created or ts(0)
    obj = {
        "type": "indicator", "spec_version": "2.1", "id": id or f"indicator--{uuid.uuid4()}",
        "created": created, "modified": modified or created,
        "name": f"abused instance {n}", "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']", "pattern_type": "stix",
        "valid_from": created,
    }
    if created_by_ref:
        obj["created_by_ref"] = created_by_ref
    obj.update(extra)
    return obj


def ipv4(value: str) -> dict[str, Any]:
    return {"type": "ipv4-addr", "spec_version": "2.1",
            "id": f"ipv4-addr--{uuid.uuid5(uuid.UUID('00abedb4-aa42-466c-9c01-fed23315a9b7'), value)}",
            "value": value}


def identity(name: str, id: str | None = None) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": id or f"identity--{uuid.uuid4()}",
            "created": ts(0), "modified": ts(0), "name": name, "identity_class": "organization"}


def marking_definition(statement: str = "Share with named incident responders only.",
                       id: str | None = None) -> dict[str, Any]:
    """A non-TLP (statement) marking definition."""
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": id or f"marking-definition--{uuid.uuid4()}", "created": ts(0),
            "definition_type": "statement", "definition": {"statement": statement}}


def report_facts(provider_identity_id: str, account_id: str = "acct-0042", *,
                 personal: dict[str, str] | None = None, **extra: Any) -> Any:
    """Facts of one abused IaaS account, for :func:`hub.stix.report.build_report`."""
    from hub.stix.report import ReportFacts

    n = next(_counter)
    facts: dict[str, Any] = dict(
        provider_identity_id=provider_identity_id, provider_name=f"Provider {n}",
        provider_account_id=account_id, account_created="2026-01-02T00:00:00Z",
        first_abuse_seen="2026-01-03T00:00:00Z", last_seen="2026-01-04T00:00:00Z",
        resources=[f"203.0.113.{n % 250}"], abuse_types=["command-and-control"],
        summary="Command-and-control server on a trial account.", acquisition="direct-signup",
        kyc_status="unverified", personal=personal or {})
    facts.update(extra)
    return ReportFacts(**facts)
