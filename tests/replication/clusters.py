"""Real PostgreSQL clusters for the standby tests: a primary of their own and streaming standbys.

:func:`replication_set` makes, in a folder the ``postgres`` user owns (pytest's own temporary
folder is not readable by it), a primary with ``initdb`` and one or more standbys with
``pg_basebackup -R`` (streaming replication, hot standby), each started with ``pg_ctl`` on a free
loopback port; and removes all of it afterwards. The binaries are found on PATH or in
``/usr/lib/postgresql/*/bin``; when run as root, every one of them runs as the ``postgres`` user.
:func:`missing_reason` says why the tier cannot run here (None when it can).

A postmaster killed with SIGKILL (:meth:`Cluster.kill`) is reaped here (the test process is the
subreaper of everything it starts, :mod:`tests.leftover_processes`) and its stale
``postmaster.pid`` removed, so the cluster can be started again.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from tests.harness import free_port

_TOOLS = ("initdb", "pg_ctl", "pg_basebackup")
#: Seconds pg_ctl waits for a start, stop or promotion.
_WAIT_S = 60


def _bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl and pg_basebackup (on PATH, else the newest
    /usr/lib/postgresql/<version>/bin)."""
    found = [shutil.which(t) for t in _TOOLS]
    if all(found):
        return Path(os.path.realpath(found[0] or "")).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                        if Path(p).parent.name.isdigit() else 0)
    for folder in reversed(candidates):
        if all((Path(folder) / t).exists() for t in _TOOLS):
            return Path(folder)
    return None


def _run_as() -> str | None:
    """The user the clusters run as: ``postgres`` when this process is root, else this user."""
    return "postgres" if os.geteuid() == 0 else None


def missing_reason() -> str | None:
    """Why real clusters cannot be made here, or None."""
    if _bin_dir() is None:
        return "the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not on PATH or in /usr/lib/postgresql/*/bin"
    user = _run_as()
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return "running as root and there is no 'postgres' user to run the clusters as"
    return None


def _tool(name: str) -> str:
    folder = _bin_dir()
    assert folder is not None, missing_reason()
    return str(folder / name)


def _run(*args: str, log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True, user=_run_as(), timeout=_WAIT_S + 30,
                          cwd="/")
    if check and proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
        raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr or proc.stdout}\n{tail}")
    return proc


class Cluster:
    """One PostgreSQL cluster (its data folder, port and log), started by pg_ctl."""

    def __init__(self, name: str, data: Path, port: int, sockets: Path) -> None:
        self.name = name
        self.data = data
        self.port = port
        self.sockets = sockets
        self.log = data.parent / f"{name}.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database (trust authentication, loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._clear_stale_pid()
        _run(_tool("pg_ctl"), "start", "-w", "-t", str(_WAIT_S), "-D", str(self.data), "-l", str(self.log),
             "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", log=self.log)

    def stop(self, mode: str = "fast") -> None:
        pid = self.pid()  # read first: a clean stop removes postmaster.pid
        if pid is not None:
            _run(_tool("pg_ctl"), "stop", "-w", "-t", str(_WAIT_S), "-m", mode, "-D", str(self.data), check=False)
        self._reap(pid)  # the test process is its subreaper: collect it
        self._clear_stale_pid()

    def promote(self) -> None:
        _run(_tool("pg_ctl"), "promote", "-w", "-t", str(_WAIT_S), "-D", str(self.data), log=self.log)

    def pid(self) -> int | None:
        """The postmaster's process id from postmaster.pid (None when there is none)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster (its backends end as they notice), reap it, clear its pid file."""
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap(pid)
        self._clear_stale_pid()

    def _reap(self, pid: int | None) -> None:
        """Wait for ``pid`` and its children to end (collecting a killed postmaster, which would
        otherwise linger as a zombie of the test process)."""
        if pid is None:
            return
        try:
            proc = psutil.Process(pid)
            children = proc.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        deadline = time.monotonic() + _WAIT_S
        for p in [proc, *children]:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except (psutil.NoSuchProcess, psutil.TimeoutExpired, ChildProcessError):
                pass

    def _clear_stale_pid(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        try:
            alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False
        if not alive:
            (self.data / "postmaster.pid").unlink(missing_ok=True)

    def sql(self, statement: str, *params: Any) -> Any:
        """Run one statement on this cluster (autocommit); its first value, if it returns rows."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(statement, params or None)
            row = cur.fetchone() if cur.description else None
            return row[0] if row else None


_PRIMARY_CONF = """
wal_level = replica
max_wal_senders = 10
hot_standby = on
hot_standby_feedback = on
fsync = off
synchronous_commit = on
full_page_writes = off
shared_buffers = 16MB
max_connections = 100
wal_receiver_status_interval = 1s
"""


@contextmanager
def replication_set(standbys: int = 1) -> Iterator[tuple[Cluster, list[Cluster]]]:
    """A started primary and ``standbys`` streaming hot standbys of it; all stopped and removed
    when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="abusehub-replication-"))
    user = _run_as()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o755)
    made: list[Cluster] = []
    try:
        primary = Cluster("primary", root / "primary", free_port(), root)
        _run(_tool("initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--locale=C", "--no-sync")
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(_PRIMARY_CONF)
        made.append(primary)
        primary.start()
        followers = []
        for i in range(standbys):
            standby = Cluster(f"standby{i + 1}", root / f"standby{i + 1}", free_port(), root)
            _run(_tool("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                 "-D", str(standby.data), "-R", "-X", "stream", "--no-sync")
            made.append(standby)
            standby.start()
            followers.append(standby)
        for standby in followers:
            wait_streaming(primary, standby)
        yield primary, followers
    finally:
        for cluster in reversed(made):
            try:
                cluster.stop("immediate")
            except Exception:  # a cluster that will not stop is killed
                cluster.kill()
        shutil.rmtree(root, ignore_errors=True)


def wait_streaming(primary: Cluster, standby: Cluster, timeout_s: float = 60) -> None:
    """Wait until ``standby`` has replayed everything ``primary`` has written so far."""
    target = primary.sql("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout_s
    while True:
        done = standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)
        if done:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{standby.name} did not replay up to {target} in {timeout_s:.0f} s")
        time.sleep(0.1)
