"""Server time of the analysts' web pages over a large collection.

Loads ``--n`` objects (``bench.data`` reports: 9 objects per report) into one collection of an
in-process hub on SQLite (through the ingest service, in envelopes of 1,000), then times, with
Flask's test client signed in (no network: the server's own time), the median of ``--repeat``
requests of:

- the report page (case file, signatures checked, correlations) of a report in the middle;
- the object browser's first page, a page in the middle (its ``next`` token), and the first page
  filtered by type and by text.

Run::

    .venv/bin/python -m bench.web --n 100000
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.data import objects
from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub
from hub.store.sql import SqlStore

_BASE = "https://bench.hub"


def _median_ms(client, path: str, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(path, base_url=_BASE)
        times.append((time.perf_counter() - start) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: {resp.status_code}")
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="objects to load")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = SqlStore(f"sqlite:///{home / 'hub.db'}")
        store.migrate()
        hub = Hub(load_config(home, environ={}), store)
        _, token = hub.admin.add_party("bench", "provider")
        col = hub.admin.add_collection("Bench", alias="bench")
        hub.admin.grant("bench", col.id, True, True)
        principal = hub.access.authenticate(token)
        data = objects("reports", args.n)
        started = time.perf_counter()
        for i in range(0, len(data), 1000):
            status = hub.ingest.submit(principal, col, {"objects": data[i:i + 1000]})
            if status.failures:
                raise SystemExit(f"refused: {status.failures[0]}")
        print(f"loaded {len(data)} objects in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        app = create_app(hub.config, hub)
        client = app.test_client()
        page = client.get("/web/signin", base_url=_BASE).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf
        client.post("/web/signin", base_url=_BASE, data={"token": token, "csrf_token": csrf.group(1)})
        reports = [o["id"] for o in data if o["type"] == "report"]
        middle = reports[len(reports) // 2]
        base = f"/web/collections/{col.id}/objects"
        # A page in the middle: follow "next" links half way (cheap: 25 objects per page).
        path = base
        for _ in range(min(200, len(data) // 50)):
            html = client.get(path, base_url=_BASE).get_data(as_text=True)
            found = re.search(r'rel="next" href="([^"]+)"', html)
            if not found:
                break
            path = found.group(1).replace("&amp;", "&")
        rows = [
            ("report page (case file)", f"{base}/{middle}"),
            ("object browser, first page", base),
            ("object browser, a later page", path),
            ("object browser, type=report", f"{base}?type=report"),
            ("object browser, text filter", f"{base}?type=report&text=abused"),
        ]
        print(f"| page ({len(data)} objects) | median of {args.repeat} (ms) |")
        print("|---|---|")
        for name, p in rows:
            print(f"| {name} | {_median_ms(client, p, args.repeat):.1f} |")
        hub.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
