"""Start, stop and watch the TAXII 2.1 servers the benchmark compares.

Each adapter starts one server on a free loopback port with a fresh, empty store, ``k``
collections to measure and one more, the probe collection (``Running.probe_collection``: where
the benchmark POSTs invalid objects to see whether the server validates), waits until its
discovery endpoint answers, and samples the resident memory of the whole process tree (gunicorn
master and workers) in a thread until it is stopped.

abusehub
    ``abusehub --home <tmp> init``, one provider party with read and write on each collection,
    ``abusehub serve --workers 1`` with ``HUB_TAXII_MAX_PAGE_SIZE=1000``. Bearer token. With
    ``signing_jwk`` (signed ingest): the public JWK is registered for the party with
    ``abusehub party key add`` (valid from an hour before, so that no signature made after start
    is "not yet valid") and the ``k`` collections are created with ``--require-signatures``; the
    probe collection never requires signatures. ``Running.identity`` is the party's STIX
    identity, the one signed objects must name in ``created_by_ref``.

medallion 3.0.0
    Memory backend loaded from a generated JSON data file (one API root ``api``, the
    collections, ``can_read``/``can_write`` true), one user, ``max_page_size`` 1000. Served by
    gunicorn with one sync worker (medallion's own ``medallion`` command runs Flask's development
    server; gunicorn is the like-for-like choice, and its ``next`` tokens live in the memory of
    that one worker). HTTP Basic.

opentaxii 0.9.3
    SQLite persistence, TAXII 1 disabled. 0.9.3 has no supported command to grant TAXII 2
    permissions (they are JSON in its accounts table), so the benchmark account is made an
    ADMIN through its Python API. Bearer JWT from its own ``authenticate`` (HTTP Basic would
    run scrypt on every request). Served by gunicorn with one sync worker.

Peers are installed by :func:`install_peers` into ``bench/.peers/<name>/venv`` (python3.11 -m venv,
pip from PyPI, plus gunicorn).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / ".peers"
#: The abusehub command the benchmark starts: this checkout's, unless BENCH_ABUSEHUB names another
#: (bench.compare measures two trees' hubs with the same benchmark code that way).
ABUSEHUB_BIN = Path(os.environ.get("BENCH_ABUSEHUB") or ROOT / ".venv" / "bin" / "abusehub")

PEER_PACKAGES = {"medallion": "medallion==3.0.0", "opentaxii": "opentaxii==0.9.3"}
TAXII_ACCEPT = "application/taxii+json;version=2.1"


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peer_python(name: str) -> Path:
    return PEERS_DIR / name / "venv" / "bin" / "python"


def peer_installed(name: str) -> bool:
    venv_bin = PEERS_DIR / name / "venv" / "bin"
    return (venv_bin / "python").exists() and (venv_bin / "gunicorn").exists() and subprocess.run(
        [str(venv_bin / "python"), "-c", f"import {name}"], capture_output=True).returncode == 0


def install_peers(names: list[str]) -> None:
    """Install the named peers (medallion, opentaxii) into bench/.peers/<name>/venv."""
    for name in names:
        if name not in PEER_PACKAGES:
            continue
        if peer_installed(name):
            log(f"{name}: already installed in {PEERS_DIR / name / 'venv'}")
            continue
        venv = PEERS_DIR / name / "venv"
        log(f"{name}: creating {venv} and installing {PEER_PACKAGES[name]} + gunicorn from PyPI")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                        PEER_PACKAGES[name], "gunicorn"], check=True)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class RssMonitor:
    """Samples the summed RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._thread.start()

    def sample(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval_s)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak


def write_results(out: Path, name: str, doc: Any, started: datetime) -> Path:
    """Write ``doc`` as ``<name>-<started, UTC>.json`` and ``<name>-latest.json`` into ``out``
    (made if missing); the timestamped file's path."""
    out.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(doc, indent=1) + "\n"
    stamped = out / f"{name}-{started.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    stamped.write_text(blob)
    (out / f"{name}-latest.json").write_text(blob)
    return stamped


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants: the live processes, and the
    children they have waited for."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class Running:
    """A started server: where it listens, how to authenticate, what it holds."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    api_root: str  # URL ending in "/"
    collections: list[str]
    auth: requests.auth.AuthBase
    workdir: Path
    log_path: Path
    notes: list[str] = field(default_factory=list)
    monitor: RssMonitor | None = None
    cleanup: Callable[[], None] | None = None
    probe_collection: str | None = None  # a plain collection for the validation probe
    identity: str | None = None  # the benchmark party's STIX identity, where the server has one

    @property
    def discovery(self) -> str:
        return f"http://127.0.0.1:{self.port}/taxii2/"

    def objects_url(self, collection: str) -> str:
        return f"{self.api_root}collections/{collection}/objects/"

    def status_url(self, status_id: str) -> str:
        return f"{self.api_root}status/{status_id}/"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def peak_rss(self) -> int:
        return self.monitor.peak if self.monitor else 0

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the server's process tree has used so far."""
        return tree_cpu(self.proc.pid)

    def stop(self) -> int:
        """SIGTERM the server (its process group), wait, and return the peak RSS in bytes."""
        peak = self.monitor.stop() if self.monitor else 0
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.cleanup:
            self.cleanup()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return peak


def _wait_ready(run: Running, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if not run.alive():
            raise RuntimeError(f"{run.name} exited with code {run.proc.returncode}:\n{run.log_tail()}")
        try:
            r = requests.get(run.discovery, headers={"Accept": TAXII_ACCEPT}, auth=run.auth, timeout=10)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{run.name} not ready after {timeout_s:.0f} s ({last}):\n{run.log_tail()}")


def _spawn(name: str, cmd: list[str], workdir: Path, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = workdir / "server.log"
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=full_env,
                                cwd=str(cwd or workdir), start_new_session=True)
    return proc, log_path


def _run_json(cmd: list[str], env: dict[str, str] | None = None, marker: str | None = None) -> Any:
    full_env = dict(os.environ)
    full_env.update(env or {})
    res = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed ({res.returncode}): {res.stderr.strip()[-800:]}")
    out = res.stdout
    if marker:
        lines = [ln for ln in out.splitlines() if ln.startswith(marker)]
        if not lines:
            raise RuntimeError(f"no {marker} line in output of {cmd[:3]}: {out[-500:]} {res.stderr[-500:]}")
        out = lines[-1][len(marker):]
    return json.loads(out)


# --------------------------------------------------------------------------------------------
# abusehub


def _check_run(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"{what} failed: {res.stderr.strip()[-800:]}")


def start_abusehub(n_collections: int, ready_timeout_s: float = 60, *,
                   signing_jwk: dict[str, Any] | None = None) -> Running:
    if not ABUSEHUB_BIN.exists():
        raise RuntimeError(f"{ABUSEHUB_BIN} not found (make .venv/.deps-hub in its checkout)")
    workdir = Path(tempfile.mkdtemp(prefix="bench-abusehub-"))
    home = workdir / "home"
    hub = [str(ABUSEHUB_BIN), "--home", str(home)]
    try:
        _check_run(hub + ["init"], "abusehub init")
        party = _run_json(hub + ["party", "add", "bench-provider", "--kind", "provider", "--json"])
        notes: list[str] = []
        if signing_jwk is not None:
            jwk_path = workdir / "provider-key.jwk.json"
            jwk_path.write_text(json.dumps(signing_jwk))
            not_before = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            _check_run(hub + ["party", "key", "add", party["name"], str(jwk_path), "--not-before", not_before],
                       "abusehub party key add")
            notes.append("signed: both measured collections created with --require-signatures; the "
                         f"provider's {signing_jwk.get('crv', signing_jwk.get('kty'))} public key "
                         "registered with 'abusehub party key add'")
        cols = []
        for i in range(n_collections + 1):
            probe = i == n_collections
            extra = ["--require-signatures"] if signing_jwk is not None and not probe else []
            col = _run_json(hub + ["collection", "add", "bench-probe" if probe else f"bench-{i}",
                                   *extra, "--json"])
            cols.append(col["id"])
            _check_run(hub + ["grant", party["name"], col["id"], "--read", "--write"], "abusehub grant")
    except Exception:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    port = free_port()
    proc, log_path = _spawn("abusehub", hub + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                               "--workers", "1"],
                            workdir, env={"HUB_TAXII_MAX_PAGE_SIZE": "1000"})
    run = Running("abusehub", proc, port, f"http://127.0.0.1:{port}/api/", cols[:n_collections],
                  BearerAuth(party["token"]), workdir, log_path, notes=notes,
                  probe_collection=cols[n_collections], identity=party["identity"])
    run.monitor = RssMonitor(proc.pid)
    try:
        _wait_ready(run, ready_timeout_s)
    except Exception:
        run.stop()
        raise
    return run


# --------------------------------------------------------------------------------------------
# medallion


def start_medallion(n_collections: int, ready_timeout_s: float = 60) -> Running:
    py = peer_python("medallion")
    if not peer_installed("medallion"):
        raise RuntimeError("medallion is not installed: run with --install-peers")
    workdir = Path(tempfile.mkdtemp(prefix="bench-medallion-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cols = [str(uuid.uuid4()) for _ in range(n_collections + 1)]  # the last: probe collection
    data = {
        "/discovery": {
            "title": "medallion (benchmark)",
            "description": "benchmark peer",
            "default": f"{base}/api/",
            "api_roots": [f"{base}/api/"],
        },
        "api": {
            "information": {
                "title": "benchmark api root",
                "description": "benchmark",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 104857600,
            },
            "status": [],
            "collections": [
                {
                    "id": c,
                    "title": f"bench-{i}",
                    "description": "benchmark collection",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
                for i, c in enumerate(cols)
            ],
        },
    }
    data_path = workdir / "data.json"
    data_path.write_text(json.dumps(data, indent=1))
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(data_path)},
        "users": {"bench": "bench-password"},
        "taxii": {"max_page_size": 1000},
    }
    cfg_path = workdir / "config.json"
    cfg_path.write_text(json.dumps(config, indent=1))
    gunicorn = py.parent / "gunicorn"
    proc, log_path = _spawn("medallion", [
        str(gunicorn), "--no-control-socket", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "3600",
        f"medallion:load_app({json.dumps(str(cfg_path))})"], workdir)
    run = Running("medallion", proc, port, f"{base}/api/", cols[:n_collections],
                  requests.auth.HTTPBasicAuth("bench", "bench-password"), workdir, log_path,
                  probe_collection=cols[n_collections])
    run.notes.append("medallion 3.0.0, memory backend, gunicorn 1 sync worker, max_page_size 1000, "
                     "HTTP Basic")
    run.monitor = RssMonitor(proc.pid)
    try:
        _wait_ready(run, ready_timeout_s)
    except Exception:
        run.stop()
        raise
    return run


# --------------------------------------------------------------------------------------------
# opentaxii

_OPENTAXII_SETUP = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from opentaxii.cli import app
api = app.taxii_server.servers.taxii2.persistence.api
auth = app.taxii_server.auth
with app.app_context():
    auth.api.create_account(username="bench", password="bench-password")
    # 0.9.3 has no command that grants TAXII 2 permissions: make the account an admin.
    for acc in auth.get_accounts():
        if acc.username == "bench":
            acc.is_admin = True
            auth.update_account(acc, None)
    root = api.add_api_root(title="bench", description="benchmark", default=True)
    cols = [str(api.add_collection(api_root_id=str(root.id), title=f"bench-{i}", description=None,
                                   alias=None, is_public=False, is_public_write=False).id)
            for i in range(int(sys.argv[1]))]
    token = auth.authenticate("bench", "bench-password")
print("BENCH-JSON " + json.dumps({"api_root": str(root.id), "collections": cols, "token": token}))
"""


def start_opentaxii(n_collections: int, ready_timeout_s: float = 60) -> Running:
    py = peer_python("opentaxii")
    if not peer_installed("opentaxii"):
        raise RuntimeError("opentaxii is not installed: run with --install-peers")
    workdir = Path(tempfile.mkdtemp(prefix="bench-opentaxii-"))
    port = free_port()
    cfg = f"""---
domain: "127.0.0.1:{port}"
support_basic_auth: yes
return_server_error_details: yes
auth_api:
  class: opentaxii.auth.sqldb.SQLDatabaseAPI
  parameters:
    db_connection: sqlite:///{workdir}/auth.db
    create_tables: yes
    secret: benchmark-secret-benchmark-secret-0123456789
    token_ttl_secs: 86400
taxii1:
taxii2:
  title: opentaxii (benchmark)
  max_content_length: 104857600
  public_discovery: yes
  allow_custom_properties: yes
  persistence_api:
    class: opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI
    parameters:
      db_connection: sqlite:///{workdir}/data.db
      create_tables: yes
logging:
  opentaxii: warning
  root: warning
"""
    cfg_path = workdir / "opentaxii.yml"
    cfg_path.write_text(cfg)
    env = {"OPENTAXII_CONFIG": str(cfg_path), "PYTHONWARNINGS": "ignore"}
    setup = workdir / "setup.py"
    setup.write_text(_OPENTAXII_SETUP)
    info = _run_json([str(py), str(setup), str(n_collections + 1)], env=env, marker="BENCH-JSON ")
    gunicorn = py.parent / "gunicorn"
    proc, log_path = _spawn("opentaxii", [
        str(gunicorn), "--no-control-socket", "--config", "python:opentaxii.http", "-w", "1",
        "-b", f"127.0.0.1:{port}", "--timeout", "3600", "opentaxii.http:app"], workdir, env=env)
    run = Running("opentaxii", proc, port,
                  f"http://127.0.0.1:{port}/taxii2/{info['api_root']}/", info["collections"][:n_collections],
                  BearerAuth(info["token"]), workdir, log_path,
                  probe_collection=info["collections"][n_collections])
    run.notes.append("opentaxii 0.9.3, SQLite, gunicorn 1 sync worker, no page-size maximum; "
                     "benchmark account is an ADMIN (0.9.3 has no supported command to grant "
                     "TAXII 2 collection permissions); Bearer JWT (Basic auth would run scrypt "
                     "per request)")
    run.monitor = RssMonitor(proc.pid)
    try:
        _wait_ready(run, ready_timeout_s)
    except Exception:
        run.stop()
        raise
    return run


STARTERS: dict[str, Callable[..., Running]] = {
    "abusehub": start_abusehub,
    "medallion": start_medallion,
    "opentaxii": start_opentaxii,
}


def start(name: str, n_collections: int, **options: Any) -> Running:
    """Start server ``name`` with ``n_collections`` empty collections (plus the probe
    collection) and wait until it is ready; ``options`` go to its starter (abusehub:
    ``signing_jwk``)."""
    if name not in STARTERS:
        raise ValueError(f"unknown server {name!r} (known: {', '.join(STARTERS)})")
    return STARTERS[name](n_collections, **options)
