"""On a machine without nginx the proxy tests are skipped and start nothing: the nginx tests run
by pytest in a process of their own, with HUB_TEST_NGINX naming an nginx that is not there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.leftover_processes import LEFTOVER_NODEID

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_without_nginx_the_proxy_tests_are_skipped_and_leave_no_server(tmp_path: Path) -> None:
    base = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HUB_"))}
    env["HUB_TEST_NGINX"] = str(tmp_path / "no-nginx-here")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-rs",
                          "--basetemp", str(base), "tests/deploy/test_nginx.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "nginx is not installed" in out and " skipped" in out and " passed" not in out, out
    assert LEFTOVER_NODEID not in out, out
    started = [p.pid for p in psutil.process_iter(["cmdline"]) if str(base) in " ".join(p.info["cmdline"] or [])]
    assert started == [], started
    # Nothing was set up either: the skip comes first.
    assert not list(base.glob("**/hub.toml"))
