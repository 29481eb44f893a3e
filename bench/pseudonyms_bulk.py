"""Benchmark of a provider's first bulk pseudonymisation: ``abusehub notice match`` over 100,000
accounts x 4 personal values against a real served hub, with the party's allowance raised.

Usage (from /work/main)::

    .venv/bin/python -m bench.pseudonyms_bulk                      # 100,000 accounts, a few minutes
    .venv/bin/python -m bench.pseudonyms_bulk --accounts 5000      # a quick look
    make bench-pseudonyms

What it does, with the real commands:

1. ``abusehub init`` in a temporary home (SQLite, or ``--database URL``), a provider party, and
   ``abusehub party edit NAME --pseudonyms-per-minute N`` (default 1,000,000: the allowance an
   operator gives a provider for its first run); ``abusehub serve --workers W`` on a free
   loopback port.
2. An account file of ``--accounts`` rows (CSV), each with an account id, an e-mail address, a
   phone number and a card number: 4 values an account, all distinct.
3. ``abusehub notice match --accounts FILE --notices EMPTY --as IDENTITY --url API`` as a
   separate process, timed: every value is normalised and blinded there, evaluated by the hub
   (``POST pseudonyms/evaluate``, up to 2,000 elements a request, two in flight), each batch's
   proof verified, the pseudonyms cached next to the file.
4. The same command again: the cache answers, the hub evaluates nothing.
5. 1% of the accounts get a new e-mail address, and the command runs again: only those values
   are evaluated.

Each run prints the wall time, the values the command reports pseudonymised, values/s, and the
CPU seconds of the hub (its whole process tree) and of the command. The figure to compare with:
at the hub's default allowance (``[pseudonyms] per_minute = 600``) the first run would take
``values / 600`` minutes (100,000 x 4 values: about 11 hours). Target: the first run under 10
minutes here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import servers as srv

ROOT = Path(__file__).resolve().parent.parent
ABUSEHUB = Path(os.environ.get("BENCH_ABUSEHUB", ROOT / ".venv" / "bin" / "abusehub"))
TARGET_FIRST_RUN_S = 600.0
DEFAULT_PER_MINUTE = 600
VALUES_PER_ACCOUNT = 4
_EVALUATED = re.compile(r"(\d+) value\(s\) pseudonymised now")


def _luhn(digits: str) -> str:
    """``digits`` with its Luhn check digit appended."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def write_accounts(path: Path, n: int, changed_every: int | None = None) -> None:
    """``n`` accounts, 4 distinct values each (account id, e-mail, phone, card); with
    ``changed_every``, every such account has another e-mail address."""
    with path.open("w", encoding="utf-8") as f:
        f.write("account_id,country,email,phone,payment_instrument\n")
        for i in range(n):
            mail = f"user{i}@bulk.example" if not changed_every or i % changed_every else f"moved{i}@bulk.example"
            f.write(f"acct-{i:07d},DE,{mail},+49 30 2{i:07d},{_luhn(f'4{i:014d}')}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(home: Path, *args: str, env: dict[str, str]) -> str:
    res = subprocess.run([str(ABUSEHUB), "--home", str(home), *args], capture_output=True, text=True,
                         env=env, timeout=300)
    if res.returncode != 0:
        raise SystemExit(f"abusehub {' '.join(args[:3])} failed: {res.stderr.strip()[-600:]}")
    return res.stdout




@dataclass
class Served:
    """A hub served from a temporary home, with one provider party."""

    workdir: Path
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    api: str
    token_file: Path
    identity: str
    party: str

    def cpu(self) -> float:
        return srv.tree_cpu(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def serve(per_minute: int, workers: int, database: str | None) -> Served:
    workdir = Path(tempfile.mkdtemp(prefix="bench-pseudonyms-"))
    home = workdir / "home"
    env = dict(os.environ)
    env["HUB_DATABASE_URL"] = database or ""
    _cli(home, "init", env=env)
    party = json.loads(_cli(home, "party", "add", "bulk-provider", "--kind", "provider", "--json", env=env))
    _cli(home, "party", "edit", "bulk-provider", "--pseudonyms-per-minute", str(per_minute), env=env)
    token_file = workdir / "provider.token"
    token_file.write_text(party["token"] + "\n")
    token_file.chmod(0o600)
    port = _free_port()
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen([str(ABUSEHUB), "--home", str(home), "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", str(workers)], stdout=log, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    served = Served(workdir, home, env, proc, f"http://127.0.0.1:{port}/api/", token_file, party["identity"],
                    party["name"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the hub exited ({proc.returncode}): {(workdir / 'server.log').read_text()[-600:]}")
        try:
            if requests.get(served.api + "pseudonyms/key", timeout=5).status_code == 200:
                return served
        except requests.RequestException:
            pass
        time.sleep(0.2)
    served.stop()
    raise SystemExit("the hub did not answer within 60 s")


@dataclass
class Run:
    label: str
    wall_s: float
    evaluated: int
    hub_cpu_s: float
    command_cpu_s: float
    #: The 1-minute load average when the run ended: other work on the machine slows every figure.
    load_after: float = 0.0

    def line(self) -> str:
        rate = f"{self.evaluated / self.wall_s:,.0f} values/s" if self.evaluated else "-"
        return (f"{self.label:34} {self.wall_s:8.1f} s  {self.evaluated:>9,} evaluated  {rate:>15}  "
                f"hub CPU {self.hub_cpu_s:7.1f} s  command CPU {self.command_cpu_s:7.1f} s  "
                f"(load average after: {self.load_after:.1f})")

    def as_json(self) -> dict[str, Any]:
        return {"run": self.label, "wall_s": round(self.wall_s, 2), "evaluated": self.evaluated,
                "values_per_s": round(self.evaluated / self.wall_s) if self.evaluated else 0,
                "hub_cpu_s": round(self.hub_cpu_s, 2), "command_cpu_s": round(self.command_cpu_s, 2),
                "load_after": round(self.load_after, 2)}


def match(hub: Served, label: str, accounts: Path, notices: Path, cache: Path) -> Run:
    """``abusehub notice match`` once, timed, with the hub's and the command's CPU."""
    cmd = [str(ABUSEHUB), "notice", "match", "--accounts", str(accounts), "--notices", str(notices),
           "--as", hub.identity, "--cache", str(cache), "--url", hub.api, "--token-file", str(hub.token_file)]
    hub_before = hub.cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=hub.env, timeout=3600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"notice match failed ({res.returncode}): {res.stderr.strip()[-800:]}")
    found = _EVALUATED.search(res.stderr)
    if found is None:
        raise SystemExit(f"notice match did not say how many values it pseudonymised: {res.stderr[-400:]}")
    command_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return Run(label, wall, int(found.group(1)), hub.cpu() - hub_before, command_cpu, os.getloadavg()[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=100_000, help="accounts in the file (4 values each)")
    ap.add_argument("--per-minute", type=int, default=1_000_000,
                    help="the provider party's raised allowance (party edit --pseudonyms-per-minute)")
    ap.add_argument("--workers", type=int, default=2, help="abusehub serve --workers")
    ap.add_argument("--database", default=None, help="a PostgreSQL URL (default: the home's SQLite)")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not ABUSEHUB.exists():
        raise SystemExit(f"{ABUSEHUB} not found (make .venv/.deps-hub)")
    values = args.accounts * VALUES_PER_ACCOUNT
    print(f"abusehub bulk pseudonymisation: {args.accounts:,} accounts x {VALUES_PER_ACCOUNT} values = "
          f"{values:,} values; allowance {args.per_minute:,}/min; serve --workers {args.workers}; "
          f"{'PostgreSQL' if args.database else 'SQLite'}; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}", flush=True)
    hub = serve(args.per_minute, args.workers, args.database)
    try:
        accounts, notices, cache = hub.workdir / "accounts.csv", hub.workdir / "notices.jsonl", hub.workdir / "cache.json"
        write_accounts(accounts, args.accounts)
        notices.write_text("")
        runs = [match(hub, "first run (empty cache)", accounts, notices, cache)]
        print(runs[-1].line(), flush=True)
        runs.append(match(hub, "second run (all cached)", accounts, notices, cache))
        print(runs[-1].line(), flush=True)
        write_accounts(accounts, args.accounts, changed_every=100)
        runs.append(match(hub, "1% of e-mail addresses changed", accounts, notices, cache))
        print(runs[-1].line(), flush=True)
    finally:
        hub.stop()
        shutil.rmtree(hub.workdir, ignore_errors=True)
    first = runs[0]
    hours = values / DEFAULT_PER_MINUTE / 60
    print(f"at the default allowance ({DEFAULT_PER_MINUTE}/min) the first run would take {hours:.1f} h; "
          f"measured {first.wall_s / 60:.1f} min ({first.evaluated / first.wall_s:,.0f} values/s); "
          f"target under {TARGET_FIRST_RUN_S / 60:.0f} min: {'met' if first.wall_s < TARGET_FIRST_RUN_S else 'NOT met'}")
    ok = first.evaluated == values and runs[1].evaluated == 0 and runs[2].evaluated == args.accounts // 100
    if not ok:
        print("UNEXPECTED: the runs did not evaluate all values, then none, then only the changed ones",
              file=sys.stderr)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"accounts": args.accounts, "values": values,
                                                   "per_minute": args.per_minute, "workers": args.workers,
                                                   "runs": [r.as_json() for r in runs]}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
