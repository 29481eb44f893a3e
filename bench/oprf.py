"""Benchmark of oblivious pseudonyms (RFC 9497 POPRF, ristretto255-SHA512, :mod:`hub.pseudonyms.oprf`).

Usage (from /work/main)::

    .venv/bin/python -m bench.oprf               # about 10 s
    .venv/bin/python -m bench.oprf --seconds 2   # a quick look

Figures, each the median over timed rounds on one core (the process is pinned to one CPU where
the platform allows it):

server: batch of B
    the hub's side of ``POST pseudonyms/evaluate``: :meth:`PoprfServer.evaluate_batch` of B
    blinded elements (default MAX_BATCH_SIZE, 2,000) under one ``info`` with ONE batched DLEQ proof, as values/s
    (B / time per batch). Validating each blinded element is included; HTTP and JSON are not.
    Target: at least 5,000 values/s on one core.
server: OPRF mode, no proof
    the same batch in RFC 9497's base mode (:class:`OprfServer`, one scalar multiplication per
    element, no proof), to show what the batched proof costs (about one more multiplication per
    element).
client: V values
    a provider's side for one report's values (default 6): blind each value, verify the
    hub's proof, finalize each output, in ms per report and values/s. The hub's evaluation
    is done once, outside the timing.
report new: end to end
    what a person filing a report waits for, in-process: :func:`hub.client.reports.file_report`
    (the service behind ``abusehub report new``) with the README's example facts, 6 values (the
    account id and five personal values), against a hub served by its real WSGI application
    through ``httpx.WSGITransport`` on SQLite: fetch the published key, blind, evaluate, verify,
    finalize, build, sign, validate, submit, status. Each round files a new report (another
    account id). Target: under 0.5 s, the time a person starts to notice.

Before timing, the benchmark checks that its answers verify and give the same outputs as the
server's evaluation in clear, so it never measures broken work.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from hub.pseudonyms.oprf import (
    MAX_BATCH_SIZE,
    OprfServer,
    PoprfServer,
    blind,
    finalize,
    finalize_batch,
    pseudonym_info,
    verify_batch,
)

TARGET_SERVER_VALUES_PER_S = 5_000
TARGET_REPORT_NEW_S = 0.5


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this platform)"


def _rounds(work: Callable[[], object], seconds: float, min_rounds: int = 5) -> list[float]:
    """Run ``work`` repeatedly for about ``seconds`` (at least ``min_rounds``); the durations."""
    work()  # warm-up
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < min_rounds or time.perf_counter() < deadline:
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def _values(n: int) -> list[bytes]:
    return [f"user{i}@example.org".encode() for i in range(n)]


def measure(batch: int = MAX_BATCH_SIZE, client_values: int = 6, seconds: float = 3.0) -> dict[str, float]:
    """The figures, as a dict: server and client values/s and times per call."""
    server = PoprfServer.generate()
    info = pseudonym_info("email", "k1")

    values = _values(batch)
    pairs = [blind(v) for v in values]
    blinds, blinded = [r for r, _ in pairs], [b for _, b in pairs]
    evaluated, proof = server.evaluate_batch(blinded, info)
    outputs = finalize_batch(server.public_key, values, blinds, blinded, evaluated, proof, info)
    if outputs != [server.evaluate_unblinded(v, info) for v in values]:
        raise SystemExit("the benchmark's evaluations do not match the server's own: not measuring")

    with_proof = statistics.median(_rounds(lambda: server.evaluate_batch(blinded, info), seconds))
    base_mode = OprfServer.generate()
    bare = statistics.median(_rounds(lambda: base_mode.blind_evaluate(blinded), seconds / 2))

    # The provider: blinding is timed on its own, then verify + finalize of the hub's answer to
    # one fixed request (the hub's evaluation stays outside the timing); the figure is the sum.
    client_in = _values(client_values)
    c_pairs = [blind(v) for v in client_in]
    c_blinds, c_blinded = [r for r, _ in c_pairs], [b for _, b in c_pairs]
    c_evaluated, c_proof = server.evaluate_batch(c_blinded, info)

    def unblind() -> None:
        verify_batch(server.public_key, c_blinded, c_evaluated, c_proof, info)
        for v, r, e in zip(client_in, c_blinds, c_evaluated, strict=True):
            finalize(v, r, e, info)

    blinding = statistics.median(_rounds(lambda: [blind(v) for v in client_in], seconds / 2))
    unblinding = statistics.median(_rounds(unblind, seconds / 2))
    client_time = blinding + unblinding
    return {
        "batch": batch,
        "server_batch_s": with_proof,
        "server_values_per_s": batch / with_proof,
        "server_bare_values_per_s": batch / bare,
        "client_values": client_values,
        "client_report_s": client_time,
        "client_blind_s": blinding,
        "client_verify_finalize_s": unblinding,
        "client_values_per_s": client_values / client_time,
    }


def measure_report_new(rounds: int = 10) -> dict[str, float]:
    """``report new`` end to end, in-process, over a fresh hub in a temporary folder: the median
    and the slowest of ``rounds`` reports, each with 6 oblivious pseudonyms. Refuses to report a
    figure unless every report was stored with ``poprf-r255:`` pseudonyms."""
    import tempfile
    import tomllib
    from pathlib import Path

    import httpx

    from hub.client.reports import REPORT_TEMPLATE, file_report, pseudonym_values
    from hub.client.taxii import TaxiiClient
    from hub.config import DEFAULT_CONFIG_TEXT, load_config
    from hub.pseudonyms import POPRF_PSEUDONYM_RE
    from hub.server import create_app
    from hub.services.hub import open_hub
    from hub.signing import SigningKey
    from hub.stix.report import ReportFacts

    with tempfile.TemporaryDirectory(prefix="abusehub-bench-") as tmp:
        home = Path(tmp)
        (home / "hub.toml").write_text(DEFAULT_CONFIG_TEXT)
        config = load_config(home, environ={})
        hub = open_hub(config, migrate=True)
        try:
            hub.prepare()
            party, token = hub.admin.add_party("acme", "provider")
            collection = hub.admin.add_collection("Reports", alias="reports", require_signatures=True)
            hub.admin.grant("acme", collection.id, True, True)
            key = SigningKey.generate()
            hub.keys.add("acme", key.public_key.to_jwk())
            app = create_app(config, hub)
            facts = tomllib.loads(REPORT_TEMPLATE)
            facts["provider_identity_id"] = party.identity_id
            values = len(pseudonym_values(ReportFacts.from_mapping(facts)))
            times: list[float] = []
            with TaxiiClient("http://127.0.0.1/api/", token, transport=httpx.WSGITransport(app=app)) as client:
                for n in range(rounds + 1):
                    facts["provider_account_id"] = f"acct-bench-{n}"
                    start = time.perf_counter()
                    result = file_report(client, collection.id, facts, key, party.identity_id)
                    elapsed = time.perf_counter() - start
                    (account,) = [o for o in result.objects if o["type"] == "user-account"]
                    ext = next(iter(account["extensions"].values()), {})
                    if result.state != "stored" or not all(
                            POPRF_PSEUDONYM_RE.match(p) for p in ext.get("pseudonyms", {}).values()):
                        raise SystemExit("report new did not store a report with oblivious pseudonyms: "
                                         "not measuring")
                    if n:  # the first round warms up (imports, caches)
                        times.append(elapsed)
        finally:
            hub.close()
    return {"report_values": values, "report_rounds": rounds,
            "report_new_s": statistics.median(times), "report_new_max_s": max(times)}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; exit 0 whether or not the target is met (the verdict is printed)."""
    parser = argparse.ArgumentParser(prog="python -m bench.oprf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=MAX_BATCH_SIZE, help="blinded elements per evaluation (default: the most the hub takes)")
    parser.add_argument("--client-values", type=int, default=6, help="values per provider report (6)")
    parser.add_argument("--seconds", type=float, default=4.0, help="timing per server figure, in seconds (4)")
    parser.add_argument("--reports", type=int, default=10, help="reports filed for the report new figure (10)")
    args = parser.parse_args(argv)

    pinned = _pin_to_one_core()
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(f"abusehub oblivious pseudonyms: RFC 9497 POPRF ristretto255-SHA512 over libsodium (rbcl); "
          f"Python {platform.python_version()}, {platform.machine()}, {pinned}{load}")
    f = measure(args.batch, args.client_values, args.seconds)
    met = "met" if f["server_values_per_s"] >= TARGET_SERVER_VALUES_PER_S else "NOT met"
    print(f"server, POPRF batch of {f['batch']} with one proof: {f['server_values_per_s']:,.0f} values/s "
          f"({f['server_batch_s'] * 1000:.1f} ms per batch); target {TARGET_SERVER_VALUES_PER_S:,} values/s: {met}")
    print(f"server, OPRF batch of {f['batch']}, no proof:      {f['server_bare_values_per_s']:,.0f} values/s "
          f"(for comparison)")
    print(f"client, {f['client_values']} values (blind + verify + finalize): "
          f"{f['client_report_s'] * 1000:.2f} ms per report  ({f['client_values_per_s']:,.0f} values/s; "
          f"blind {f['client_blind_s'] * 1000:.2f} ms, verify + finalize {f['client_verify_finalize_s'] * 1000:.2f} ms)")
    sys.stdout.flush()
    r = measure_report_new(args.reports)
    met = "met" if r["report_new_s"] < TARGET_REPORT_NEW_S else "NOT met"
    print(f"report new, {r['report_values']:.0f} values end to end in-process: {r['report_new_s'] * 1000:.0f} ms "
          f"median, {r['report_new_max_s'] * 1000:.0f} ms slowest of {r['report_rounds']:.0f}; "
          f"target under {TARGET_REPORT_NEW_S * 1000:.0f} ms: {met}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
