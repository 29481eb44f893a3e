"""Benchmark of a notice's status: ``GET {api_root}/collections/{id}/notices/{notice}/status/``
over 1,000 addressees, through HTTP to a served hub.

Usage (from /work/main)::

    .venv/bin/python -m bench.notices                          # 1,000 providers, SQLite
    .venv/bin/python -m bench.notices --store postgres         # HUB_TEST_POSTGRES_URL (or the local one)
    .venv/bin/python -m bench.notices --providers 200 --reps 20   # a quick look

Set-up (untimed): a hub with an agency and ``--providers`` provider parties that read one
collection; the agency issues a special measure for every provider (signed), and ``--acks`` of
the providers (with registered keys) acknowledge it (signed, TLP:RED for the agency, through
ingest as each provider); the rest, made in bulk through the store, are overdue. The hub is then served by
``abusehub serve --workers 1`` and the agency asks for the status ``--reps`` times (after one
untimed request) with the client ``abusehub notice status --url`` uses
(:func:`hub.client.notices.fetch_status`), each answer checked to hold every addressee with its
state.

Printed: the median and the 95th percentile latency of one status request, and the target (under
100 ms for 1,000 addressees); beside it, by turns, a small TAXII request (``GET collections/{id}/``:
what any request costs on this machine at this moment), the service alone in-process, and the
load average (the figures are only comparable on a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.client.notices import fetch_status
from hub.services.access.auth import Principal
from hub.signing.documents import sign_objects
from hub.stix.notice import build_ack, build_notice
from hub.stix.notice_facts import AckFacts, NoticeFacts
from tests.harness import HubUnderTest

TARGET_MS = 100.0


def _build(folder: Path, providers: int, acks: int, store: str) -> tuple[HubUnderTest, str]:
    names = [f"p{i:05d}" for i in range(providers)]
    answering = {"gov": "agency", **{n: "provider" for n in names[:acks]}}
    made = HubUnderTest.build(folder / "hub", backend=store, parties=answering, keys_for=answering,
                              grants={"notices": {n: (True, True) for n in answering}}, prepare=True)
    col = made.collections["notices"]
    with made.services() as hub:
        hub.admin.edit_collection(col, max_tlp="red")
        collection = hub.store.get_collection(col)
        assert collection is not None
        # The providers that stay silent never connect: parties with a read grant, made in bulk
        # through the store (no token, no key).
        for name in names[acks:]:
            party = hub.store.create_party(name, "provider", f"identity--{uuid.uuid4()}", False, hub.clock())
            hub.store.set_grant(party.pk, collection.pk, True, False)
            made.identities[name] = party.identity_id
        facts = NoticeFacts.from_mapping({
            "issuer_identity_id": made.identities["gov"], "notice_kind": "special-measure",
            "title": "Special measure for the benchmark", "legal_reference": "Order 1", "measures": ["restrict"],
            "jurisdictions": ["KP"], "effective_from": datetime.now(UTC) - timedelta(days=1)})
        notice = sign_objects([build_notice(facts)], made.keys["gov"], made.identities["gov"])[0]

        def submit(party: str, obj: dict[str, Any]) -> None:
            p = hub.store.get_party(party)
            assert p is not None
            status = hub.ingest.submit(Principal(p, hub.store.grants_for(p.pk)), collection, {"objects": [obj]})
            assert not status.failures, status.failures

        submit("gov", notice)
        for name in names[:acks]:
            ack = build_ack(AckFacts(notice_ref=notice["id"], notice_modified=notice["modified"], status="applied",
                                     accounts_affected=1), provider=made.identities[name], agency=made.identities["gov"])
            submit(name, sign_objects([ack], made.keys[name], made.identities[name])[0])
    made.serve(workers=1)
    return made, str(notice["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--acks", type=int, default=200, help="how many providers acknowledge (set-up time "
                        "grows with them: each is a submission with an audience of its own)")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-notices-") as tmp:
        started = time.perf_counter()
        acks = min(args.acks, args.providers)
        made, notice_id = _build(Path(tmp), args.providers, acks, args.store)
        print(f"set-up: {args.providers} providers, {acks} acknowledgements, "
              f"{time.perf_counter() - started:.1f} s ({args.store})")
        try:
            col = made.collections["notices"]
            with made.client("gov") as client:
                first = fetch_status(client, col, notice_id)
                assert len(first["addressees"]) == args.providers, len(first["addressees"])
                expected = {"applied": acks, "overdue": args.providers - acks}
                assert first["counts"] == {k: v for k, v in expected.items() if v}, first["counts"]
                times, baseline = [], []
                for _ in range(args.reps):  # by turns: the status, then a small TAXII request
                    t0 = time.perf_counter()
                    got = fetch_status(client, col, notice_id)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert len(got["addressees"]) == args.providers
                    t0 = time.perf_counter()
                    client.collection(col)
                    baseline.append((time.perf_counter() - t0) * 1000)
            with made.services() as hub:  # the service alone, in this process
                gov = hub.store.get_party("gov")
                assert gov is not None
                principal = Principal(gov, hub.store.grants_for(gov.pk))
                service = []
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    hub.notices.status_for(principal, col, notice_id).to_json()
                    service.append((time.perf_counter() - t0) * 1000)
        finally:
            made.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    median, p95 = _median_p95(times)
    print(f"notice status over HTTP, {args.providers} addressees: median {median:.1f} ms, p95 {p95:.1f} ms "
          f"({args.reps} requests; target under {TARGET_MS:.0f} ms: {'met' if median < TARGET_MS else 'NOT met'})")
    for what, values in (("GET collections/{id}/ by turns (the cost of any request here)", baseline),
                         ("the service alone, in-process (NoticeService.status_for and to_json)", service)):
        m, p = _median_p95(values)
        print(f"  {what}: median {m:.1f} ms, p95 {p:.1f} ms")
    print(f"  load average {load:.1f} on {os.cpu_count()} CPU(s)")
    return 0


def _median_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


if __name__ == "__main__":
    sys.exit(main())
