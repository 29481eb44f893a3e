"""A run that leaves a process behind fails, names the process and stops it: small test files run
by pytest in a process of their own with :mod:`tests.leftover_processes`, plainly and under
pytest-xdist (where the worker that started it reports it through the controller)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psutil
import pytest

from tests.leftover_processes import LEFTOVER_NODEID

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(folder: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Write ``files`` to ``folder`` and run pytest on them with the plugin; the finished run."""
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HUB_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.leftover_processes",
                           "--rootdir", str(folder), *args, *files],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def running_with(marker: str) -> list[psutil.Process]:
    """Processes still running whose command line holds ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if marker in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def marker() -> str:
    """A sleep duration no other process uses: how the test finds its own leftover."""
    return f"60.{uuid.uuid4().int % 10**9:09d}"


def leaking(seconds: str) -> str:
    return f"""
        import subprocess

        def test_starts_a_process_and_leaves_it():
            subprocess.Popen(["sleep", "{seconds}"])
        """


CLEAN = """
    import multiprocessing

    def _nothing():
        pass

    def test_uses_a_spawned_process_and_waits_for_it():
        # spawn starts multiprocessing's resource tracker, which lives as long as the runner
        proc = multiprocessing.get_context("spawn").Process(target=_nothing)
        proc.start()
        proc.join()
    """


def daemonising(seconds: str) -> str:
    return f"""
        import subprocess

        def test_starts_a_shell_that_leaves_a_process_in_the_background():
            subprocess.run(["sh", "-c", "sleep {seconds} >/dev/null 2>&1 &"], check=True)
        """


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_process_left_running_fails_the_run_names_it_and_is_stopped(tmp_path: Path, workers: str) -> None:
    """One test leaves its child running, another a process whose parent has gone (re-parented
    to the test process, which is a subreaper); a third uses multiprocessing, whose helper
    process is the runner's and is not named."""
    left, orphaned = marker(), marker()
    run = run_pytest(tmp_path, {"test_leaks.py": leaking(left), "test_daemon.py": daemonising(orphaned),
                                "test_clean.py": CLEAN}, "-n", workers)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    # One report per process that found some (the plain run; each xdist worker).
    assert f"ERROR {LEFTOVER_NODEID}" in out and re.search(r"\b3 passed, [12] errors?\b", out), out
    # Each is named in the error and again in the short summary, which pytest shows whole (not
    # cut to the terminal's width) where CI is set.
    named = {ln for ln in out.splitlines() if ln.startswith(("pid ", "[gw"))}
    assert len(named) == 2 and any(f"sleep {left}" in ln for ln in named) \
        and any(f"sleep {orphaned}" in ln for ln in named), out
    assert all(ln.startswith("[gw" if workers == "2" else "pid ") for ln in named), named
    assert running_with(left) == running_with(orphaned) == []


def test_a_run_that_stops_what_it_starts_passes(tmp_path: Path) -> None:
    """Under xdist: neither the workers nor multiprocessing's helper count as left behind."""
    stopping = """
        import subprocess

        def test_starts_a_process_and_stops_it():
            proc = subprocess.Popen(["sleep", "60"])
            proc.terminate()
            proc.wait()
        """
    run = run_pytest(tmp_path, {"test_clean.py": CLEAN, "test_stops.py": stopping}, "-n", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert LEFTOVER_NODEID not in run.stdout
