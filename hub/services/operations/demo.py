"""The demo hub: example parties, collections and objects, and examples that work as printed."""

from __future__ import annotations

import shlex
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.services.hub import Hub

DEMO_PARTIES = (("cloudco", "provider"), ("nimbus", "provider"), ("cert-gov", "agency"),
                ("peer-hub", "peer"))
# alias, title, {party: (read, write)}
DEMO_COLLECTIONS = (
    ("abuse-reports", "Abused IaaS accounts",
     {"cloudco": (True, True), "nimbus": (True, True), "cert-gov": (True, False), "peer-hub": (True, True)}),
    ("agency-advisories", "Agency advisories",
     {"cert-gov": (True, True), "cloudco": (True, False), "nimbus": (True, False)}),
    ("cloudco-internal", "cloudco internal triage", {"cloudco": (True, True)}),
)


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def example_objects(identity_id: str, name: str, count: int = 3) -> list[dict[str, Any]]:
    """A provider identity and indicators of abused resources, valid STIX 2.1."""
    now = datetime.now(UTC)
    created = _ts(now)
    objects: list[dict[str, Any]] = [{
        "type": "identity", "spec_version": "2.1", "id": identity_id, "created": created,
        "modified": created, "name": name, "identity_class": "organization",
    }]
    for i in range(count):
        ip = f"203.0.113.{10 + i}"
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": created, "modified": created, "created_by_ref": identity_id,
            "name": f"C2 on abused IaaS instance {ip}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix",
            "valid_from": created, "valid_until": _ts(now + timedelta(days=90)),
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        })
    return objects


def prepare_demo(hub: Hub, host: str, port: int) -> str:
    """Seed the demo once, issue fresh tokens for the demo parties, and return the examples."""
    admin = hub.admin
    hub.prepare()
    existing = {p.name for p in admin.list_parties()}
    for name, kind in DEMO_PARTIES:
        if name not in existing:
            admin.add_party(name, kind)
    cols = {}
    for alias, title, grants in DEMO_COLLECTIONS:
        col = hub.store.get_collection(alias) or admin.add_collection(title, alias=alias)
        cols[alias] = col
        for party_name, (read, write) in grants.items():
            admin.grant(party_name, col.id, read, write)
    tokens = {name: admin.issue_token(name, label="demo") for name, _ in DEMO_PARTIES}
    reports = cols["abuse-reports"]
    if hub.store.count_objects(reports.pk) == 0:
        for name in ("cloudco", "nimbus"):
            principal = hub.access.authenticate(tokens[name])
            hub.ingest.submit(principal, reports, {"objects": example_objects(principal.party.identity_id, name)})
        gov = hub.access.authenticate(tokens["cert-gov"])
        hub.ingest.submit(gov, cols["agency-advisories"],
                          {"objects": example_objects(gov.party.identity_id, "cert-gov", 1)})

    base = f"http://{host}:{port}"
    coll_url = f"{base}/api/collections/{reports.id}/"
    lines = [
        f"abusehub demo hub at {base}/taxii2/  (home {hub.config.home})",
        "",
        "Parties and fresh tokens (each run of the demo issues new ones):",
    ]
    for name, kind in DEMO_PARTIES:
        lines.append(f"  {name:10} {kind:9} {tokens[name]}")
    lines += ["", "Collections:"]
    for alias, _title, grants in DEMO_COLLECTIONS:
        who = ", ".join(f"{p} ({'rw' if w else 'r'})" for p, (r, w) in grants.items())
        lines.append(f"  {cols[alias].id}  {alias:18} {who}")
    token = tokens["cert-gov"]
    python_code = (
        "from taxii2client.v21 import Collection, as_pages; "
        f"c = Collection({coll_url!r}, user='cert-gov', password={token!r}); "
        "print(sum(len(p.get('objects', [])) for p in as_pages(c.get_objects, per_request=2)), 'objects')"
    )
    lines += [
        "",
        "Try (as the agency cert-gov, which may read abuse-reports):",
        f"  curl -s -H 'Authorization: Bearer {token}' {base}/api/collections/",
        f"  curl -s -g -u cert-gov:{token} '{coll_url}objects/?limit=2&match[type]=indicator'",
        f"  .venv/bin/python -c {shlex.quote(python_code)}",
        "",
        f"The analysts' web pages: {base}/web/  (sign in with a token above, e.g. cloudco's)",
    ]
    return "\n".join(lines)
