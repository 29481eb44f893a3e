"""Federation benchmark: two hubs on loopback, hub B pulling N signed objects from hub A.

Hub A and hub B are real ``abusehub serve`` processes (two workers each) with homes of their
own. A's collection requires signatures (the benchmark provider's Ed25519 key, registered) and
countersigns; B's requires signatures and countersigns too, so every object is checked at A,
checked again at B (the provider's signature, with the key B imported from A, pinned) and
countersigned twice. B runs ``abusehub federate --interval 0.2`` while the provider posts the
N objects to A in envelopes of 1,000.

Reported: the end-to-end rate (N / seconds from the first post until B holds all N), the rate of
posting alone, the lag (seconds from the end of the last post until B holds everything), and the
catch-up rate: a third hub C, added afterwards (B's ``federate`` stopped), pulling all N with one
``federate --once``.

Wall-clock rates depend on what else the machine runs, so the CPU time of each process per 1,000
objects is reported beside them (``cpu_ms_per_1000``): hub A (its master and workers, from the
first post until B holds everything: its signed ingest and the pages it serves B), B's
``federate`` process, this process (the provider posting, and watching B's count), then A again
while C catches up (the pages it serves) and C's ``federate --once`` process (its start included),
with the load average and the cores the run had.

    .venv/bin/python -m bench.federation -n 100000
    .venv/bin/python -m bench.federation -n 30000 --out bench/figures   # federation-latest.json too
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from bench.data import bench_key, objects
from bench.servers import free_port, write_results
from hub.client.taxii import TaxiiClient, read_outcome
from hub.config import load_config
from hub.services.hub import open_hub

ROOT = Path(__file__).resolve().parent.parent
#: The rate to reach, end to end and catching up (objects/s).
TARGET = 2000
TOML = ("[taxii]\nmax_content_length = 67108864\ndefault_page_size = 1000\nmax_page_size = 1000\n"
        "[federation]\npage_size = 1000\n")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}


def _cli(home: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args], capture_output=True,
                          text=True, env=_env(), timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(f"abusehub {' '.join(args[:2])}: {proc.stderr.strip()}")
    return proc.stdout


def _home(folder: Path, name: str, parties: dict[str, str], provider_key: Any = None) -> dict[str, Any]:
    home = folder / name
    home.mkdir(parents=True)
    (home / "hub.toml").write_text(TOML)
    hub = open_hub(load_config(home, environ={}), migrate=True)
    hub.prepare()
    tokens, identities = {}, {}
    for party, kind in parties.items():
        p, token = hub.admin.add_party(party, kind)
        tokens[party], identities[party] = token, p.identity_id
    col = hub.admin.add_collection("Shared", alias="shared", require_signatures=True, countersign=True)
    for party in parties:
        hub.admin.grant(party, col.id, True, True)
    if provider_key is not None:
        hub.keys.add("provider", provider_key.public_key.to_jwk(),
                     not_before_us=int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1e6))
    hub.close()
    return {"home": home, "tokens": tokens, "identities": identities, "collection": col.id}


def _serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "2"], env=_env(),
                            stdout=(home / "server.log").open("wb"), stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with TaxiiClient(api) as c:
                c.discovery()
            return proc, api
        except Exception:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    tail = "\n".join((home / "server.log").read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"hub at {home} did not start (exit status {proc.returncode}):\n{tail}")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) of a process and its living descendants."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _per_1000(seconds: float, n: int) -> float:
    return round(seconds * 1e6 / n, 1)


def run(n: int, keep: bool = False, measure_catch_up: bool = True) -> dict[str, Any]:
    """Run the benchmark with ``n`` objects; the figures as a dict."""
    folder = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    procs: list[subprocess.Popen[bytes]] = []
    key = bench_key()
    try:
        a = _home(folder, "a", {"provider": "provider", "hub-b": "peer", "hub-c": "peer"}, key)
        b = _home(folder, "b", {"hub-a": "peer"})
        proc_a, api_a = _serve(a["home"])
        procs.append(proc_a)
        token_file = folder / "b-to-a.token"
        token_file.write_text(a["tokens"]["hub-b"] + "\n")
        _cli(b["home"], "peer", "add", "hub-a", "--url", api_a, "--token-file", str(token_file))
        _cli(b["home"], "link", "add", "hub-a", "--pull", a["collection"], "--into", b["collection"])
        _cli(b["home"], "peer", "map-identity", "hub-a", a["identities"]["provider"])
        _cli(b["home"], "peer", "import-keys", "hub-a")
        print(f"signing {n} objects ...", file=sys.stderr)
        objs = objects("indicators", n)
        from hub.signing.documents import sign_objects

        signed = sign_objects(objs, key, a["identities"]["provider"])
        fed = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(b["home"]), "federate",
                                "--interval", "0.2"], env=_env(), stdout=subprocess.DEVNULL,
                               stderr=(folder / "federate.log").open("wb"))
        procs.append(fed)
        hub_b = open_hub(load_config(b["home"], environ={}))
        col_b = hub_b.store.get_collection(b["collection"])
        assert col_b is not None
        print(f"posting {n} signed objects to A while B pulls ...", file=sys.stderr)
        cpu = {"a": _cpu_s(proc_a.pid), "b": _cpu_s(fed.pid), "self": time.process_time()}
        t0 = time.monotonic()
        with TaxiiClient(api_a, a["tokens"]["provider"], timeout=600) as c:
            for i in range(0, n, 1000):
                outcome = read_outcome(c.submit(a["collection"], signed[i:i + 1000]))
                if outcome.refused:
                    raise RuntimeError(f"A refused objects: {outcome.refused[:2]}")
        t_posted = time.monotonic()
        at_last_post = hub_b.store.count_objects(col_b.pk)
        while (held := hub_b.store.count_objects(col_b.pk)) < n:
            if fed.poll() is not None:
                raise RuntimeError(f"federate exited: {(folder / 'federate.log').read_text()[-2000:]}")
            if time.monotonic() - t_posted > 3600:
                raise RuntimeError(f"B holds {held} of {n} after an hour")
            time.sleep(0.05)
        t_done = time.monotonic()
        cpu_ms = {"a_end_to_end": _per_1000(_cpu_s(proc_a.pid) - cpu["a"], n),
                  "b_federate": _per_1000(_cpu_s(fed.pid) - cpu["b"], n),
                  "poster_and_watch": _per_1000(time.process_time() - cpu["self"], n)}
        hub_b.close()
        # B's federate stops: its turns (every 0.2 s, each a few requests to A) are not part of
        # the catch-up, and they would take A's CPU from it.
        fed.terminate()
        fed.wait(timeout=30)
        catch_up = None
        if measure_catch_up:
            # Hub C pulls the whole collection at once (a new peer catching up): the pull alone.
            c = _home(folder, "c", {"hub-a": "peer"})
            token_c = folder / "c-to-a.token"
            token_c.write_text(a["tokens"]["hub-c"] + "\n")
            _cli(c["home"], "peer", "add", "hub-a", "--url", api_a, "--token-file", str(token_c))
            _cli(c["home"], "link", "add", "hub-a", "--pull", a["collection"], "--into", c["collection"])
            _cli(c["home"], "peer", "map-identity", "hub-a", a["identities"]["provider"])
            _cli(c["home"], "peer", "import-keys", "hub-a")
            a1, c1 = _cpu_s(proc_a.pid), _children_cpu_s()
            t1 = time.monotonic()
            _cli(c["home"], "federate", "--once")
            catch_up = round(n / (time.monotonic() - t1), 1)
            cpu_ms["a_serving_catch_up"] = _per_1000(_cpu_s(proc_a.pid) - a1, n)
            cpu_ms["c_federate_once"] = _per_1000(_children_cpu_s() - c1, n)
        return {
            "objects": n,
            "end_to_end_objects_per_s": round(n / (t_done - t0), 1),
            "posting_objects_per_s": round(n / (t_posted - t0), 1),
            "seconds_total": round(t_done - t0, 2),
            "held_at_b_when_posting_ended": at_last_post,
            "lag_after_last_post_s": round(t_done - t_posted, 2),
            "catch_up_pull_objects_per_s": catch_up,
            "cpu_ms_per_1000": cpu_ms,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "cores": os.cpu_count(),
            "setup": "hub A served by abusehub serve (2 workers, SQLite); B and C federate from it "
                     "(SQLite); every collection requires signatures and countersigns; B runs "
                     "federate --interval 0.2 while the objects are posted, C one federate --once "
                     "afterwards; pages of 1000",
        }
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run as ``bench/figures/federation-*.json`` holds them."""
    catch_up = result["catch_up_pull_objects_per_s"]
    summary = {
        "end_to_end_objects_per_s": result["end_to_end_objects_per_s"],
        "catch_up_objects_per_s": catch_up,
        "posting_objects_per_s": result["posting_objects_per_s"],
        "cpu_ms_per_1000": result["cpu_ms_per_1000"],
    }
    met = result["end_to_end_objects_per_s"] >= TARGET and (catch_up is None or catch_up >= TARGET)
    return {"what": "bench.federation", "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "target_objects_per_s": TARGET, "summary": summary, "target_met": met, "run": result}


def write(figures: dict[str, Any], folder: Path) -> Path:
    """Write ``federation-latest.json`` and a timestamped copy into ``folder``; the latest's path."""
    write_results(folder, "federation", figures, datetime.now(UTC))
    return folder / "federation-latest.json"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``-n N`` objects (default 100,000); prints the figures as JSON, and with
    ``--out DIR`` writes them to ``DIR/federation-latest.json`` and a timestamped copy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=100_000, help="objects to move (default 100000)")
    parser.add_argument("--keep", action="store_true", help="keep the hub homes")
    parser.add_argument("--no-catch-up", action="store_true",
                        help="skip the second measure (a third hub pulling everything at once)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="also write federation-latest.json and a timestamped copy into DIR")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("-n must be at least 1")
    figures = summarise(run(args.n, args.keep, not args.no_catch_up))
    print(json.dumps(figures, indent=2))
    if args.out is not None:
        print(f"wrote {write(figures, args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
