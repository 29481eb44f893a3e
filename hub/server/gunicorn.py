"""Production serving: gunicorn with threaded workers, each building its own app and store.

:func:`serve` checks what would otherwise fail in every worker, or after gunicorn's retries,
before gunicorn starts: the port can be bound, every file a worker reads when it boots can be
read (the ``/metrics`` token, the web pages' key), the database exists and answers, its schema
is at this code's head revision, the hub's keys are there and can be read (a missing one is
refused: only ``init`` on an empty database, or ``init --new-keys``, makes them), and the
metrics folder can be made, and every configured standby (``database_read_urls``) that answers is a
hot standby of the database (one that does not answer is said in ``/readyz``, not here). Each failure is one :class:`~hub.common.errors.ConfigError` (one
line on standard error from the CLI, exit status 2). It then keeps the home private (umask 077: the SQLite database,
its WAL and SHM files and the key files are created 0600; the home is 0700), and empties the
folder where the workers keep their metrics (prometheus-client's multiprocess mode; a worker
that exits is marked dead there). The workers serve the SQLite file that was checked, and no
other (:meth:`hub.store.base.Store.database_file`).

The master builds the application (the hub's services and the Flask app) once, before it forks
the workers, and each worker serves that copy: what the build allocates is shared by every
process instead of held by each (measured, 6 MiB PSS less per worker), and a worker starts
without building anything. Then the master gives back the pages of the shared libraries it read
only to start (:func:`release_library_pages`). Building opens no database connection (the pools connect on first
use, in the workers), so no connection or thread crosses a fork; the tests check that the master
holds no database file open.

SIGHUP reads ``hub.toml`` (and the ``HUB_*`` variables) again and builds the application anew in
the master before gunicorn replaces its workers, so a changed ``database_url`` (a standby promoted
to primary) or ``database_read_urls`` is served by the new workers; a configuration that no
longer loads, or an application that cannot be built from it, is logged and the one running is
kept.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import importlib
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from hub.common.errors import ConfigError, HubError
from hub.config import HubConfig
from hub.server.logs import gunicorn_logconfig

__all__ = ["WORKER_MODULES", "HubServer", "IdleTrim", "check_port", "metrics_dir", "release_library_pages", "serve",
           "share_worker_modules"]

log = logging.getLogger("abusehub.server")


#: What a worker imports to build its app (:func:`hub.server.create_app`) beyond what the master
#: has imported by then: imported once in the master before the workers are forked, so that
#: every worker shares these modules' pages instead of holding a copy of its own.
WORKER_MODULES = (
    "hub.server", "hub.server.logs", "hub.server.ops", "hub.services.metrics.prometheus",
    "hub.services.operations.runtime", "hub.services.operations.stats", "hub.services.access.websessions",
    "hub.services.notices.pages", "hub.store.sql", "hub.store.replicas", "hub.store.websessions", "hub.taxii",
    "hub.web", "stix2patterns.v21.pattern", "gzip",
)


def share_worker_modules(config: HubConfig) -> None:
    """In the master, before any worker is forked: import what every worker imports to build its
    app (:data:`WORKER_MODULES`, and the TAXII and web modules under them), and prometheus-client
    when the metrics are on (after :func:`prepare` set its multiprocess folder, which it reads at
    import). Nothing is opened or built: each worker still makes its own app and connections."""
    import pkgutil

    names = list(WORKER_MODULES)
    for package in ("hub.taxii", "hub.web"):
        module = importlib.import_module(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
    if config.metrics.enabled:
        names += ["prometheus_client", "prometheus_client.multiprocess"]
    for name in names:
        importlib.import_module(name)


def _pre_fork(_server: Any, _worker: Any) -> None:
    """gunicorn's ``pre_fork`` hook, in the master: move every object it holds to the collector's
    permanent generation, so that a worker's garbage collections never write to (and so copy)
    the pages it shares with the master (:func:`gc.freeze`). No collection runs first: the
    holes it would leave in those pages would be filled, and so copied, by the worker."""
    gc.freeze()


#: Linux's ``madvise`` advice that reclaims the given pages at once (Linux 5.4 and later).
_MADV_PAGEOUT = 21


def _library_mappings() -> list[tuple[int, int, str]]:
    """This process's read-only mappings of shared libraries (code and constant data): start,
    end and file, from ``/proc/self/maps``."""
    found = []
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or "w" in fields[1]:
                continue
            path = fields[5].strip()
            name = path.rsplit("/", 1)[-1]
            if path.startswith("/") and (name.endswith(".so") or ".so." in name or ".so " in name):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                found.append((start, end, path))
    return found


def release_library_pages() -> int:
    """Give back the pages of the shared libraries' code and constant data that this process
    alone holds, and return how many mappings were advised (0 where the system cannot).

    Called in the master before it forks its workers: importing an extension module runs its
    initialisation, which reads pages the workers never run again (measured: 6 to 9 MiB, most
    of it cryptography's Rust library, held by the master alone and counted in its PSS). A page
    a worker runs is read back from the file when it first does. Nothing is lost: the kernel
    reclaims only pages it can read back, those of the file itself (a library's relocated pages
    are the process's own and stay), and only pages no other process maps."""
    if sys.platform != "linux":
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (AttributeError, OSError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    advised = 0
    for start, end, _path in _library_mappings():
        if madvise(start, end - start, _MADV_PAGEOUT) == 0:
            advised += 1
        elif ctypes.get_errno() == errno.EINVAL and advised == 0:
            return 0  # a kernel older than 5.4: no such advice
    return advised


#: glibc's ``mallopt`` parameter for the size from which an allocation gets pages of its own.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 128 * 1024


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


class IdleTrim:
    """Give the C heap's free pages back to the system when a worker goes idle.

    A worker's threads each build a page of objects in glibc's arena of their own; what those
    requests free stays in the arena, in holes the next request may or may not fill (measured:
    a worker's arenas hold 4 to 6 MiB each after 200,000 objects were polled). When the last
    request in flight finishes, ``trim`` (glibc's ``malloc_trim(0)``) gives the free pages of
    every arena back, at most once per ``interval`` seconds: a request that ends sooner after
    the last trim schedules one for when the interval is over, which runs only if the worker
    is still idle then. A trim takes a few milliseconds of one core; requests keep being
    served meanwhile (an allocation waits for its arena's lock at most)."""

    def __init__(self, trim: Callable[[], object], interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._trim = trim
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._busy = 0
        self._last = float("-inf")
        self._timer: threading.Timer | None = None
        #: Trims run so far (read by the tests).
        self.count = 0

    def started(self) -> None:
        """A request starts (gunicorn's ``pre_request``)."""
        with self._lock:
            self._busy += 1

    def finished(self) -> None:
        """A request has been answered (gunicorn's ``post_request``): trim now or soon if it
        was the last one in flight."""
        with self._lock:
            self._busy -= 1
            if self._busy > 0:
                return
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._when_due)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._last = self._clock()
        self._run()

    def _when_due(self) -> None:
        with self._lock:
            self._timer = None
            if self._busy > 0:
                return  # the request that ends last trims (or schedules)
            self._last = self._clock()
        self._run()

    def _run(self) -> None:
        before = _rss_mib()
        self._trim()
        self.count += 1
        log.debug("idle: the C heap's free pages were given back (RSS %.1f to %.1f MiB)", before, _rss_mib())


#: The worker's idle trim (None where the C library has no malloc_trim: not glibc).
_idle_trim: IdleTrim | None = None


def _pre_request(_worker: Any, _req: Any) -> None:
    """gunicorn's ``pre_request`` hook, in the thread that serves the request."""
    if _idle_trim is not None:
        _idle_trim.started()


def _post_request(_worker: Any, _req: Any, _environ: Any = None, _resp: Any = None) -> None:
    """gunicorn's ``post_request`` hook, once the answer was written (or failed)."""
    if _idle_trim is not None:
        _idle_trim.finished()


def _post_fork(_server: Any, _worker: Any) -> None:
    """gunicorn's ``post_fork`` hook, in each new worker: with glibc, every allocation of 128 KiB
    or more (a page of 1,000 objects is some 600 KB of text, built a few at once by a worker's
    threads) gets pages of its own, given back to the system when freed. Left to itself glibc
    raises that size after the first such buffer is freed, and later ones come from the heap,
    which keeps what they leave: measured, 9 MiB PSS less in a worker after four clients polled
    200,000 objects at once. And the heap's free pages are given back when the worker goes idle
    (:class:`IdleTrim`). Elsewhere nothing changes."""
    global _idle_trim
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        malloc_trim = libc.malloc_trim
    except (AttributeError, OSError):
        return  # not glibc (musl has neither mallopt nor malloc_trim)
    _idle_trim = IdleTrim(lambda: malloc_trim(0))


def _child_exit(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: the worker's live gauges leave the metrics folder (its
    counters and histograms stay: the server's totals never go backwards)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # metrics are off
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class HubServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from the hub's config rather than from gunicorn's command line."""

    def __init__(self, config: HubConfig, host: str, port: int, workers: int, threads: int,
                 database_file: tuple[int, int] | None = None) -> None:
        self.hub_config = config
        self.database_file = database_file
        self._hub: Any = None  # the hub the master built the application on (load)
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": config.server.timeout,
            "graceful_timeout": 20,
            "keepalive": 5,
            # The app logs one line per request (hub.server.logs); gunicorn's own access line
            # would repeat the query string's values.
            "accesslog": None,
            "errorlog": "-",
            "loglevel": config.log_level,
            "logconfig_dict": gunicorn_logconfig(config.log_format, config.log_level),
            "proc_name": "abusehub",
            # Which forwarded headers to believe is decided by [server] trusted_proxies in the
            # app (hub.server.TrustedProxies); gunicorn's own default would let any client on
            # 127.0.0.1 switch the request scheme with X-Forwarded-Proto.
            "secure_scheme_headers": {},
            "forwarded_allow_ips": "",
            # The app is built in the master (load), its modules imported there first
            # (share_worker_modules), and its objects frozen before each fork (_pre_fork):
            # shared pages, not copies. Each worker opens its own database connections.
            "preload_app": True,
            "pre_fork": _pre_fork,
            "post_fork": _post_fork,
            "pre_request": _pre_request,
            "post_request": _post_request,
            "child_exit": _child_exit,
        }
        if "control_socket_disable" in self._known_settings():
            # gunicorn >= 23 opens a control socket at one shared path: several hubs on one
            # machine would collide on it, and the hub is managed by signals anyway.
            self.options["control_socket_disable"] = True
        super().__init__()

    @staticmethod
    def _known_settings() -> set[str]:
        from gunicorn.config import KNOWN_SETTINGS

        return {s.name for s in KNOWN_SETTINGS}

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def reload(self) -> None:
        """SIGHUP: read the configuration again and build the application the workers gunicorn
        starts next will serve (gunicorn's arbiter takes ``self.callable`` after this)."""
        from hub.config import load_config

        try:
            config = load_config(self.hub_config.home)
            app, hub = self._build(config)
        except Exception as exc:  # noqa: BLE001 - whatever fails, the master and its workers go on
            why = exc.description if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
            log.error("SIGHUP: the configuration was not read again, the running one is kept: %s", why)
        else:
            old, self.hub_config, self.callable, self._hub = self._hub, config, app, hub
            if old is not None:
                old.close()  # the master's copy only: the running workers keep theirs
            release_library_pages()  # what building it read (see load)
            log.info("SIGHUP: the configuration was read again; new workers serve it")
        super().reload()

    def _build(self, config: HubConfig) -> tuple[Any, Any]:
        from hub.server import create_app
        from hub.services.hub import open_hub

        # The database file serve checked, and no other (see hub.store.dialect).
        hub = open_hub(config, database_file=self.database_file)
        try:
            return create_app(config, hub), hub
        except BaseException:
            hub.close()
            raise

    def load(self) -> Any:
        """The application, built once in the master (``preload_app``) and served by every worker."""
        app, self._hub = self._build(self.hub_config)
        before = _rss_mib()
        advised = release_library_pages()
        log.debug("start-up: %d library mappings given back (RSS %.1f to %.1f MiB)", advised, before, _rss_mib())
        return app


def check_port(host: str, port: int) -> None:
    """Raise :class:`ConfigError` when ``host:port`` cannot be bound (taken, or not an address of
    this machine). Port 0 is left to gunicorn."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As gunicorn binds: a port left in TIME_WAIT is free, one being listened on is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"cannot listen on {host}:{port}: the port is in use by another process") from None
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def metrics_dir(config: HubConfig) -> Path:
    """The folder where the workers keep their metrics (``[metrics] multiproc_dir``)."""
    name = config.metrics.multiproc_dir or "metrics"
    return Path(name) if Path(name).is_absolute() else config.home / name


def _fresh_metrics_dir(folder: Path) -> None:
    """Empty ``folder`` (metrics of an earlier run would be added to this one's) and make it
    the folder of prometheus-client's multiprocess mode, for this process and its workers."""
    try:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise ConfigError(f"metrics.multiproc_dir: cannot empty or make {folder}: {exc.strerror}") from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def prepare(config: HubConfig, host: str, port: int) -> tuple[int, int] | None:
    """Everything :func:`serve` checks and prepares before gunicorn starts; raises
    :class:`ConfigError` (one line) for each problem. Returns the (device, inode) of the
    SQLite file the workers are to serve (None for PostgreSQL)."""
    from hub.services.operations.runtime import (
        check_keys,
        check_worker_files,
        database_file,
        open_current_hub,
        secure_home,
    )

    os.umask(0o077)  # every file the hub creates from here on is its owner's alone
    check_port(host, port)
    hub = open_current_hub(config)
    try:
        check_worker_files(config)
        check_keys(hub)  # a lost key file is restored or made anew on purpose, never here
        standby_problems = hub.check_standbys()
        if standby_problems:
            raise ConfigError("; ".join(standby_problems))
        secure_home(config.home)
        try:
            hub.signer.prepare()
        except HubError as exc:
            raise ConfigError(f"the hub's signing key {hub.signer.path}: {exc.description}") from None
        hub.pseudonyms.ensure_keyring()
        hub.pseudonyms.keyring()  # read now, as every worker will (ConfigError when it cannot)
        hub.pseudonyms.poprf_keyring()
        served = database_file(hub)
    finally:
        hub.close()
    secure_home(config.home)
    if config.metrics.enabled:
        _fresh_metrics_dir(metrics_dir(config))
    return served


def serve(config: HubConfig, host: str, port: int, workers: int, threads: int) -> None:
    """Check everything the workers need (:func:`prepare`), then run the hub in the foreground
    until SIGTERM or SIGINT."""
    served = prepare(config, host, port)
    share_worker_modules(config)
    HubServer(config, host, port, workers, threads, served).run()
