"""Markings benchmark: what deciding each object's readers costs a reader, a page and an upgrade.

Usage (from /work/main)::

    .venv/bin/python -m bench.markings                                 # 100k poll, 10k vs 1M pages
    .venv/bin/python -m bench.markings --big 20000 --poll 4000 --small 2000 --polls 1   # a smoke run
    .venv/bin/python -m bench.markings --store postgres

One hub home (SQLite in the home, or a fresh schema of ``HUB_TEST_POSTGRES_URL``) with a
provider party (the submitter) and two readers with read on every collection: ``all``, named as
the recipient of every TLP:RED object, and ``half``, named on none. Three collections are
loaded **through the store's transaction API** in bulk (``add_versions``, not HTTP, the ingest
checks skipped): ``poll`` (``--poll`` objects), ``small`` (``--small``) and ``big`` (``--big``),
each of indicators where every other one is TLP:RED for ``all`` (the hub's sharing extension
names it) and the others TLP:GREEN, padded to the same size. ``half`` may therefore read half of
every collection, ``all`` all of it.

upgrade
    The objects are stored as a hub before markings stored them (every version readable by every
    reader of its collection), the schema is taken back to revision 0009 (untimed), and then
    ``abusehub migrate`` is timed: the schema upgrade to 0010 and the back-fill that classifies
    every stored object into its audience. RED objects wait for ``abusehub markings apply --yes``,
    timed too; ``markings status`` must count every RED object before, none after.
poll
    ``abusehub serve --workers 1``; full polls of ``poll`` by ``next`` at ``--page`` objects a page,
    by ``all`` and by ``half`` in turns (``--polls`` each, after one untimed poll): the median time, microseconds per
    object received, and the server's CPU per 1,000 objects received. Each poll must receive
    exactly what its reader may read (every object; every GREEN one).
page
    The median latency of one page of 100 (``--reps`` GETs): the first page, and a middle one
    (``added_after`` half way through the collection), on ``small`` and on ``big``, by each
    reader; every page must hold 100 objects.

Printed: the figures, the ratios that the targets are about (per object seen, ``half`` against
``all``: at most 1.1; a page at ``--big`` against one at ``--small``: at most 1.5) and the
back-fill's objects per second; ``bench/results/markings-<stamp>.json`` and
``markings-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import requests

from bench import ops
from bench import servers as srv
from bench.servers import TAXII_ACCEPT, log

TARGET_SEEN_RATIO = 1.1  # per object seen, a reader of half against a reader of all
TARGET_PAGE_RATIO = 1.5  # a page at --big against a page at --small
PRE_MARKINGS_REVISION = "0009"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
SHARING_EXTENSION = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"
TOML = "[taxii]\nmax_content_length = 8388608\nmax_page_size = 1000\n"


@dataclass
class Home:
    """The seeded hub: its home and store, the readers' tokens, the collections (alias -> id, pk)."""

    home: Path
    store: ops.Store
    provider_pk: int
    tokens: dict[str, str]
    collections: dict[str, tuple[str, int]]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(self.store.env())
        return env


def seed(workdir: Path, store: ops.Store, sizes: dict[str, int]) -> tuple[Home, str]:
    """A home with the provider, the two readers and the collections; and ``all``'s identity id."""
    from hub.config import load_config
    from hub.services.hub import open_hub

    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(TOML)
    hub = open_hub(load_config(home, environ=store.env()), migrate=True)
    try:
        hub.prepare()
        provider, _ = hub.admin.add_party("provider", "provider")
        tokens = {}
        identities = {}
        for name in ("all", "half"):
            party, tokens[name] = hub.admin.add_party(name, "agency")
            identities[name] = party.identity_id
        cols = {}
        for alias in sizes:
            col = hub.admin.add_collection(alias, alias=alias, max_tlp="red")
            hub.admin.grant("provider", col.id, True, True)
            for name in tokens:
                hub.admin.grant(name, col.id, True, False)
            cols[alias] = (col.id, col.pk)
    finally:
        hub.close()
    return Home(home, store, provider.pk, tokens, cols), identities["all"]


def marked_versions(start: int, count: int, recipient: str) -> list[Any]:
    """Indicators ``start`` .. ``start + count - 1``: odd ones TLP:RED for ``recipient`` (the hub's
    sharing extension), even ones TLP:GREEN padded to the same size."""
    from hub.store.records import NewVersion

    created = "2026-01-01T00:00:00.000Z"
    version_us = 1_767_225_600_000_000
    extension = {SHARING_EXTENSION: {"extension_type": "property-extension", "recipients": [recipient]}}
    pad = len(orjson.dumps({"extensions": extension})) - len(orjson.dumps({"description": ""}))
    out = []
    for i in range(start, start + count):
        sid = f"indicator--{uuid.uuid4()}"
        obj: dict[str, Any] = {
            "type": "indicator", "spec_version": "2.1", "id": sid, "created": created, "modified": created,
            "name": f"C2 on abused IaaS instance {i:08d}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
            "pattern_type": "stix", "valid_from": created,
        }
        if i % 2:
            obj["object_marking_refs"] = [RED]
            obj["extensions"] = extension
        else:
            obj["object_marking_refs"] = [GREEN]
            obj["description"] = "x" * pad
        out.append(NewVersion(sid, "indicator", version_us, created, "2.1", orjson.dumps(obj).decode()))
    return out


def load(sql_store: Any, collection_pk: int, party_pk: int, count: int, recipient: str) -> float:
    """Store ``count`` objects as a hub before markings did (audience 0 each); returns objects/s."""
    t0 = time.perf_counter()
    done = 0
    while done < count:
        k = min(ops.BULK_TX, count - done)
        with sql_store.transaction() as tx:
            tx.add_versions(collection_pk, party_pk, marked_versions(done, k, recipient), time.time_ns() // 1000)
        done += k
        if sql_store.dialect == "postgresql" and (done == k or done % 200_000 == 0):
            with sql_store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        if done % 200_000 == 0 or done == count:
            log(f"  loaded {done:,} / {count:,} ({done / (time.perf_counter() - t0):,.0f} obj/s)")
    return count / (time.perf_counter() - t0)


def to_revision(sql_store: Any, revision: str) -> None:
    """Take the schema back to ``revision`` (alembic's downgrade, as the store migrates)."""
    from alembic import command
    from alembic.config import Config

    import hub.store.sql

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(hub.store.sql.__file__).parent / "migrations"))
    with sql_store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def abusehub(home: Home, *args: str) -> tuple[float, str]:
    """Run ``abusehub --home HOME ARGS``; its wall time and output (raises when it fails)."""
    t0 = time.perf_counter()
    proc = subprocess.run([str(srv.ABUSEHUB_BIN), "--home", str(home.home), *args], capture_output=True,
                          text=True, env=home.env(), timeout=7200)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"abusehub {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return secs, proc.stdout.strip()


def upgrade(home: Home, total: int, red: int) -> dict[str, Any]:
    """Time ``abusehub migrate`` from revision 0009 and ``markings apply``; check what they did."""
    out: dict[str, Any] = {"objects": total}
    log(f"upgrade: abusehub migrate over {total:,} objects")
    out["migrate_s"], text = abusehub(home, "migrate")
    out["migrate_output"] = text
    found = re.search(r"classified (\d+)", text)
    out["classified"] = int(found.group(1)) if found else None
    _, status = abusehub(home, "markings", "status", "--json")
    out["pending_before_apply"] = json.loads(status)["pending"]
    out["apply_s"], _ = abusehub(home, "markings", "apply", "--yes", "--json")
    _, status = abusehub(home, "markings", "status", "--json")
    out["pending_after_apply"] = json.loads(status)["pending"]
    problems = []
    if out["classified"] != total:
        problems.append(f"migrate classified {out['classified']} of {total:,} marked objects")
    if out["pending_before_apply"] != red or out["pending_after_apply"] != 0:
        problems.append(f"{out['pending_before_apply']} pending before apply (expected the {red:,} RED ones), "
                        f"{out['pending_after_apply']} after (expected 0)")
    if problems:
        out["error"] = "; ".join(problems)
    log(f"  migrate {out['migrate_s']:.1f} s ({total / out['migrate_s']:,.0f} obj/s), "
        f"apply {out['apply_s']:.1f} s" + (f"; MISMATCH: {out['error']}" if problems else ""))
    return out


def full_poll(url: str, token: str, page: int) -> tuple[int, float]:
    """A full poll by ``next``: objects received (each once) and seconds."""
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_ACCEPT}
    seen: set[str] = set()
    received = 0
    params = {"limit": str(page)}
    with requests.Session() as http:
        t0 = time.perf_counter()
        while True:
            resp = http.get(url, params=params, headers=headers, timeout=120)
            if resp.status_code != 200:
                raise RuntimeError(f"poll answered HTTP {resp.status_code}: {resp.text[:200]}")
            body = orjson.loads(resp.content)
            objs = body.get("objects", [])
            received += len(objs)
            seen.update(o["id"] for o in objs)
            if not body.get("more"):
                break
            params = {"limit": str(page), "next": body["next"]}
        secs = time.perf_counter() - t0
    if received != len(seen):
        raise RuntimeError(f"a poll received {received:,} objects, {len(seen):,} of them distinct")
    return received, secs


def polls(run: srv.Running, home: Home, n: int, page: int, reps: int) -> dict[str, Any]:
    """Full polls of ``poll`` by ``all`` and ``half`` in turns: per reader, medians and per object."""
    url = run.objects_url(home.collections["poll"][0])
    expect = {"all": n, "half": (n + 1) // 2}
    times: dict[str, list[float]] = {"all": [], "half": []}
    cpu: dict[str, list[float]] = {"all": [], "half": []}
    full_poll(url, home.tokens["all"], page)  # untimed: the database's pages into memory
    for i in range(reps):
        for reader in ("all", "half") if i % 2 == 0 else ("half", "all"):
            cpu0 = run.cpu_seconds()
            got, secs = full_poll(url, home.tokens[reader], page)
            cpu[reader].append(run.cpu_seconds() - cpu0)
            if got != expect[reader]:
                raise RuntimeError(f"{reader} received {got:,} objects, may read {expect[reader]:,}")
            times[reader].append(secs)
            log(f"  poll by {reader}: {got:,} objects in {secs:.2f} s")
    out: dict[str, Any] = {"page": page, "polls": reps}
    for reader in ("all", "half"):
        secs = statistics.median(times[reader])
        out[reader] = {"objects": expect[reader], "seconds": secs, "runs": times[reader],
                       "us_per_object": secs / expect[reader] * 1e6,
                       "cpu_ms_per_1000": statistics.median(cpu[reader]) / expect[reader] * 1e6}
    out["seen_ratio"] = out["half"]["us_per_object"] / out["all"]["us_per_object"]
    out["cpu_ratio"] = out["half"]["cpu_ms_per_1000"] / out["all"]["cpu_ms_per_1000"]
    return out


def pages(run: srv.Running, home: Home, sql_store: Any, sizes: dict[str, int], reps: int) -> dict[str, Any]:
    """Page latency (first, middle) on ``small`` and ``big`` by each reader."""
    out: dict[str, Any] = {}
    for alias in ("small", "big"):
        col_id, col_pk = home.collections[alias]
        mark = ops._middle_mark(sql_store, col_pk, sizes[alias])
        url = run.objects_url(col_id)
        for reader in ("all", "half"):
            token = home.tokens[reader]
            out[f"{alias}_{reader}_first_ms"] = ops._page_ms(url, token, {"limit": "100"}, reps)
            out[f"{alias}_{reader}_middle_ms"] = ops._page_ms(url, token, {"limit": "100", "added_after": mark}, reps)
    for reader in ("all", "half"):
        for what in ("first", "middle"):
            out[f"{reader}_{what}_ratio"] = out[f"big_{reader}_{what}_ms"] / out[f"small_{reader}_{what}_ms"]
    return out


def run(kind: str, sizes: dict[str, int], page: int, n_polls: int, reps: int) -> dict[str, Any]:
    from hub.store.sql import SqlStore

    out: dict[str, Any] = {"store": kind, "sizes": sizes}
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-markings-{kind}-"))
    store = ops.new_store(kind)
    server = None
    sql_store = None
    try:
        home, recipient = seed(workdir, store, sizes)
        sql_store = SqlStore(store.url or f"sqlite:///{(home.home / 'hub.db').resolve()}")
        log(f"{kind}: loading {sum(sizes.values()):,} objects through the store, half of them TLP:RED")
        out["load_objs_per_s"] = {a: load(sql_store, home.collections[a][1], home.provider_pk, n, recipient)
                                  for a, n in sizes.items()}
        to_revision(sql_store, PRE_MARKINGS_REVISION)
        sql_store.close()
        total = sum(sizes.values())
        out["upgrade"] = upgrade(home, total, sum(n // 2 for n in sizes.values()))
        sql_store = SqlStore(store.url or f"sqlite:///{(home.home / 'hub.db').resolve()}")
        if kind == "postgres":
            with sql_store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        hub_view = ops.Hub(home.home, store, home.tokens["all"], home.provider_pk, home.collections)
        server = ops.serve(hub_view, 1, workdir)
        log(f"{kind}: full polls of {sizes['poll']:,} objects at page {page}")
        out["poll"] = polls(server, home, sizes["poll"], page, n_polls)
        log(f"{kind}: one page of 100 at {sizes['small']:,} and at {sizes['big']:,}")
        out["page"] = pages(server, home, sql_store, sizes, reps)
    except Exception as exc:
        out["error"] = f"failed: {exc}"[:500]
        log(f"{kind}: {out['error']}")
    finally:
        if server is not None:
            ops.stop(server)
        if sql_store is not None:
            sql_store.close()
        store.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x (target <= {target}x): {'met' if ratio <= target else 'NOT met'}"


def render(result: dict[str, Any]) -> str:
    """The figures of one store's run, with the ratios and targets."""
    kind, sizes = result["store"], result["sizes"]
    lines = [f"{kind}: {sizes['poll']:,} objects to poll, pages at {sizes['small']:,} and {sizes['big']:,}"]
    if "upgrade" in result:
        u = result["upgrade"]
        lines.append(f"  upgrade, abusehub migrate from revision {PRE_MARKINGS_REVISION} over {u['objects']:,} "
                     f"marked objects: {u['migrate_s']:.1f} s ({u['objects'] / u['migrate_s']:,.0f} obj/s; "
                     f"{u['migrate_s'] / u['objects'] * 1e6:,.0f} s per million), then markings apply "
                     f"{u['apply_s']:.1f} s" + (f"  MISMATCH: {u['error']}" if u.get("error") else ""))
    if "poll" in result:
        p = result["poll"]
        lines.append(f"  full poll at page {p['page']} (median of {p['polls']}):")
        for reader, what in (("all", "reads all"), ("half", "reads half")):
            r = p[reader]
            lines.append(f"    {reader:4} ({what}): {r['objects']:>9,} objects in {r['seconds']:6.2f} s, "
                         f"{r['us_per_object']:6.1f} us per object seen, server CPU "
                         f"{r['cpu_ms_per_1000']:6.1f} ms per 1,000 seen")
        lines.append(f"    per object seen, half / all: time {_verdict(p['seen_ratio'], TARGET_SEEN_RATIO)}; "
                     f"CPU {p['cpu_ratio']:.2f}x")
    if "page" in result:
        g = result["page"]
        lines.append("  one page of 100, median (ms):  " + "  ".join(
            f"{a} {r} {w} {g[f'{a}_{r}_{w}_ms']:.1f}" for a in ("small", "big") for r in ("all", "half")
            for w in ("first", "middle")))
        for reader in ("all", "half"):
            for what in ("first", "middle"):
                lines.append(f"    {reader:4} {what:6} page at {sizes['big']:,} / at {sizes['small']:,}: "
                             + _verdict(g[f"{reader}_{what}_ratio"], TARGET_PAGE_RATIO))
    if result.get("error"):
        lines.append(f"  {result['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.markings", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--stores", default="sqlite", help="sqlite,postgres (default: %(default)s)")
    ap.add_argument("--poll", type=int, default=100_000, help="objects in the polled collection (default: %(default)s)")
    ap.add_argument("--small", type=int, default=10_000, help="the small collection (default: %(default)s)")
    ap.add_argument("--big", type=int, default=1_000_000, help="the large collection (default: %(default)s)")
    ap.add_argument("--page", type=int, default=1000, help="page size of the full polls (default: %(default)s)")
    ap.add_argument("--polls", type=int, default=3, help="full polls by each reader (default: %(default)s)")
    ap.add_argument("--reps", type=int, default=20, help="GETs per page latency (default: %(default)s)")
    ap.add_argument("--out", default=str(srv.BENCH_DIR / "results"), help="results folder")
    args = ap.parse_args(argv)
    started = datetime.now(UTC)
    t0 = time.monotonic()
    sizes = {"poll": args.poll, "small": args.small, "big": args.big}
    results = []
    for kind in (k.strip() for k in args.stores.split(",") if k.strip()):
        problem = ops.postgres_problem() if kind == "postgres" else None
        if problem:
            results.append({"store": kind, "sizes": sizes, "error": f"skipped: no PostgreSQL ({problem})"})
            continue
        load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
        log(f"{kind}: load average {load_avg}")
        result = run(kind, sizes, args.page, args.polls, args.reps)
        result["load_before"] = load_avg
        results.append(result)
    elapsed = time.monotonic() - t0
    print()
    for result in results:
        print(render(result))
        print()
    print(f"{os.cpu_count()} CPUs, load average before each store: "
          + ", ".join(f"{r['store']} {r.get('load_before', '-')}" for r in results)
          + f". The objects were loaded through the store's transaction API, {ops.BULK_TX:,} per transaction.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"started": started.isoformat(), "elapsed_s": round(elapsed, 1),
           "argv": sys.argv[1:] if argv is None else argv,
           "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                       "python": platform.python_version(), "platform": platform.platform()},
           "results": results, "text": [render(r) for r in results]}
    written = srv.write_results(out, "markings", doc, started)
    print(f"Results: {written} (and markings-latest.json); elapsed {elapsed / 60:.1f} min")
    return 1 if any(r.get("error") or r.get("upgrade", {}).get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
