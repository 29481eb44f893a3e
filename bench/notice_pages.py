"""Server time of the notice pages: many notices in force, many addressees, many answers.

An in-process hub on SQLite: an agency, ``--providers`` provider parties (each with a key), one
collection all of them read; the agency issues ``--notices`` special measures (signed, through
the ingest service, 100 a submission), and ``--answers`` providers acknowledge the newest one
(signed). Then, with Flask's test client signed in (no network: the server's own time), the
median of ``--repeat`` requests of:

- the list of the collection's notices (as the agency);
- the newest notice's page as the agency: its facts, versions, and who acted over every
  addressee (every provider of the collection);
- the same notice's page as a provider (no status), and the provider's matching page (the
  notices in force that address it, carried to the browser).

Run::

    .venv/bin/python -m bench.notice_pages --notices 1000 --providers 1000 --answers 500
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from hub.stix.notice import build_ack, build_notice
from hub.stix.notice_facts import AckFacts, NoticeFacts
from hub.store.sql import SqlStore

_BASE = "https://bench.hub"


def _median_ms(client: Any, path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(path, base_url=_BASE)
        times.append((time.perf_counter() - start) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: {resp.status_code}")
    return statistics.median(times)


def _signed_in(app: Any, token: str) -> Any:
    client = app.test_client()
    page = client.get("/web/signin", base_url=_BASE).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    client.post("/web/signin", base_url=_BASE, data={"token": token, "csrf_token": csrf.group(1)})
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000, help="special measures in force")
    parser.add_argument("--providers", type=int, default=1000, help="provider parties (the addressees)")
    parser.add_argument("--answers", type=int, default=500, help="providers that acknowledge the newest notice")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = SqlStore(f"sqlite:///{home / 'hub.db'}")
        store.migrate()
        hub = Hub(load_config(home, environ={}), store)
        col = hub.admin.add_collection("Notices", alias="notices")
        hub.admin.edit_collection(col.id, max_tlp="red")  # acknowledgements are TLP:RED
        edited = hub.store.get_collection(col.id)
        assert edited is not None
        col = edited
        gov, gov_token = hub.admin.add_party("gov", "agency")
        hub.admin.grant("gov", col.id, True, True)
        gov_key = SigningKey.generate()
        hub.keys.add("gov", gov_key.public_key.to_jwk())
        providers = []
        started = time.perf_counter()
        for i in range(args.providers):
            party, token = hub.admin.add_party(f"p{i:05d}", "provider")
            hub.admin.grant(party.name, col.id, True, True)
            key = SigningKey.generate() if i < args.answers else None
            if key is not None:
                hub.keys.add(party.name, key.public_key.to_jwk())
            providers.append((party, token, key))
        print(f"{args.providers} providers in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        principal = hub.access.authenticate(gov_token)
        now = datetime.now(UTC)
        notices = [build_notice(NoticeFacts.from_mapping({
            "issuer_identity_id": gov.identity_id, "notice_kind": "special-measure", "title": f"Measure {i}",
            "legal_reference": f"Order {i}", "measures": ["restrict"], "jurisdictions": ["KP"],
            "ip_ranges": [f"198.51.{i % 256}.0/24"], "domains": [f"host{i}.example.net"],
            "effective_from": now - timedelta(days=1)}), now=now) for i in range(args.notices)]
        notices = sign_objects(notices, gov_key, gov.identity_id)
        started = time.perf_counter()
        for i in range(0, len(notices), 100):
            status = hub.ingest.submit(principal, col, {"objects": notices[i:i + 100]})
            if status.failures:
                raise SystemExit(f"refused: {status.failures[0]}")
        print(f"{len(notices)} notices in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        newest = notices[-1]
        started = time.perf_counter()
        for party, token, key in providers[:args.answers]:
            assert key is not None
            facts = AckFacts(notice_ref=newest["id"], notice_modified=newest["modified"], status="applied",
                             accounts_affected=1)
            [ack] = sign_objects([build_ack(facts, provider=party.identity_id, agency=gov.identity_id)], key,
                                 party.identity_id)
            status = hub.ingest.submit(hub.access.authenticate(token), col,
                                       {"objects": [ack]})
            if status.failures:
                raise SystemExit(f"refused: {status.failures[0]}")
        print(f"{args.answers} acknowledgements in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        app = create_app(hub.config, hub)
        agency = _signed_in(app, gov_token)
        provider = _signed_in(app, providers[-1][1])
        base = f"/web/collections/{col.id}/notices"
        rows = [
            ("notice list (agency)", agency, base),
            (f"a notice's page with who acted over {args.providers} addressees (agency)", agency,
             f"{base}/{newest['id']}"),
            ("a notice's page (provider)", provider, f"{base}/{newest['id']}"),
            ("matching page: the notices in force carried to the browser (provider)", provider, f"{base}/match"),
        ]
        print(f"| page ({args.notices} notices, {args.providers} providers, {args.answers} answers) "
              f"| median of {args.repeat} (ms) |")
        print("|---|---|")
        for name, client, path in rows:
            print(f"| {name} | {_median_ms(client, path, args.repeat):.1f} |")
        hub.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
