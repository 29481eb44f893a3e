"""A real nginx on loopback, configured from ``deploy/nginx/abusehub.conf.template``.

The template is filled as the nginx image fills it (only the ``ABUSEHUB_*`` placeholders) and
included in a small main configuration of the test's own: non-default ports, its own pid, log
and temp paths in a temporary folder, in the foreground, as the current user.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import READY_DEADLINE_S, READY_REQUEST_TIMEOUT_S, log_tail, stop_process

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "abusehub.conf.template"


def nginx_binary() -> str:
    """The nginx executable (HUB_TEST_NGINX when set, else the one on PATH or in an sbin); the
    test is skipped (naming how to install it) when there is none."""
    chosen = os.environ.get("HUB_TEST_NGINX")
    if chosen is not None:
        found = chosen if os.access(chosen, os.X_OK) else None
    else:
        found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                               if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.skip(f"nginx is not installed{f' at HUB_TEST_NGINX={chosen}' if chosen else ''} "
                    "(apt-get install nginx-light; .ci/run installs it)")
    return found


def render(values: dict[str, str]) -> str:
    """The template with the ``ABUSEHUB_*`` placeholders filled and nginx's own variables kept,
    as the nginx image's envsubst with ``NGINX_ENVSUBST_FILTER=^ABUSEHUB_`` does."""
    text = TEMPLATE.read_text()
    rendered = string.Template(text).safe_substitute(values)
    missing = [v for v in ("ABUSEHUB_LISTEN", "ABUSEHUB_UPSTREAM") if "${" + v + "}" in rendered]
    assert not missing, f"placeholders left unfilled: {missing}"
    return rendered


@dataclass
class Nginx:
    """A running nginx and where it answers."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)


def write_config(folder: Path, values: dict[str, str]) -> Path:
    """The main configuration including the rendered template; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    (folder / "abusehub.conf").write_text(render(values))
    # As root, nginx's workers would switch to 'nobody'; keep them the current user.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {folder}/access.log;\n"
        f"    client_body_temp_path {folder}/body;\n    proxy_temp_path {folder}/proxy;\n"
        f"    fastcgi_temp_path {folder}/fastcgi;\n    uwsgi_temp_path {folder}/uwsgi;\n"
        f"    scgi_temp_path {folder}/scgi;\n"
        f"    include {folder}/abusehub.conf;\n"
        "}\n")
    return main


def check_config(main: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on the configuration."""
    folder = main.parent
    return subprocess.run([nginx_binary(), "-t", "-p", str(folder), "-c", str(main), "-e",
                           str(folder / "error.log")], capture_output=True, text=True, timeout=30)


def start_nginx(main: Path, port: int) -> Nginx:
    """Start nginx on ``main`` and wait until ``port`` accepts connections (READY_DEADLINE_S at
    most; an error naming the cause, with nginx's logs, otherwise)."""
    folder = main.parent
    with (folder / "stderr.log").open("wb") as err:
        proc = subprocess.Popen([nginx_binary(), "-p", str(folder), "-c", str(main), "-e",
                                 str(folder / "error.log")], stdout=subprocess.DEVNULL, stderr=err)
    running = Nginx(proc, port, folder)
    deadline = time.monotonic() + READY_DEADLINE_S
    last = "no connection yet"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with status {proc.returncode} before it listened on {port}: "
                               f"{(folder / 'stderr.log').read_text()} {log_tail(folder / 'error.log')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=READY_REQUEST_TIMEOUT_S):
                return running
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            running.stop()
            raise RuntimeError(f"nginx did not listen on {port} within {READY_DEADLINE_S:.0f} s ({last}); "
                               f"its error log ends:\n{log_tail(folder / 'error.log')}")
        time.sleep(0.1)
