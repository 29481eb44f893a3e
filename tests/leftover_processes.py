"""A test run leaves no process behind: a pytest plugin that, when the session ends, finds every
process the test process started that is still running, stops it, and fails the run naming it.

It runs in every pytest process: a plain run, each pytest-xdist worker (which checks what its
own tests started) and the xdist controller (which starts only the workers; they are not
counted). On Linux each of them is made a "child subreaper" at start-up, so that a process
whose parent went away (a gunicorn worker whose master was killed, a browser's helper, anything
that daemonises) is re-parented to the test process rather than to init, and is found too.

The check runs after the session's fixtures are torn down and before the summary is written.
A leftover process is reported as a failing teardown of ``LEFTOVER_NODEID`` (one ``ERROR`` line
in the summary, the processes in its text) and the run's exit status is non-zero; under xdist
the worker's report reaches the controller like any test's. Processes that belong to the
runner itself (the workers, Python's multiprocessing helper processes) are left alone.

:mod:`tests.conftest` installs the hooks; ``pytest -p tests.leftover_processes`` installs them
in a run of other test files.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Generator
from typing import Any

import psutil
import pytest

#: The node id of the report that names leftover processes.
LEFTOVER_NODEID = "<session end>::processes left running"
#: Processes a runner keeps for its whole life (Python's multiprocessing helpers).
RUNNER_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
#: How long a process found at the end may take to end by itself before it counts as left behind.
ENDING_GRACE_S = 2.0
_PR_SET_CHILD_SUBREAPER = 36
#: xdist workers known to the controller (their pids); never reported.
_worker_pids: set[int] = set()


def _become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (Linux); elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: orphans go to init, as without this plugin
        pass


def describe(proc: psutil.Process) -> str:
    """``pid N: command line`` (shortened), or the name when the command line cannot be read."""
    try:
        cmd = " ".join(proc.cmdline()) or proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        cmd = "?"
    return f"pid {proc.pid}: {cmd[:300]}"


def _is_runner_helper(proc: psutil.Process) -> bool:
    try:
        cmd = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(helper in cmd for helper in RUNNER_HELPERS)


def leftover_processes() -> list[psutil.Process]:
    """The running descendants of this process other than the runner's own (xdist workers and
    what is below them, multiprocessing's helpers); zombies are reaped, not counted."""
    me = psutil.Process()
    try:
        children = me.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    excluded: set[int] = set()
    for child in children:
        if child.pid in _worker_pids or _is_runner_helper(child):
            excluded.add(child.pid)
            try:
                excluded.update(p.pid for p in child.children(recursive=True))
            except psutil.NoSuchProcess:
                pass
    found = []
    for child in children:
        if child.pid in excluded:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                _reap(child)
                continue
        except psutil.NoSuchProcess:
            continue
        found.append(child)
    return found


def _reap(proc: psutil.Process) -> None:
    """Collect the exit status of a direct child that has ended (a no-op for others)."""
    try:
        os.waitpid(proc.pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_processes(procs: list[psutil.Process], grace_s: float = 5.0) -> list[psutil.Process]:
    """SIGTERM ``procs``, SIGKILL what is left after ``grace_s``; the ones still alive after
    that (none, normally)."""
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(alive, timeout=grace_s)
    for proc in procs:
        _reap(proc)
    return alive


def _leftover_report(lines: list[str]) -> pytest.TestReport:
    text = (f"{len(lines)} process(es) started during the test run were still running at its end "
            "(stopped now); each test or fixture must stop what it starts:\n" + "\n".join(lines))
    return pytest.TestReport(nodeid=LEFTOVER_NODEID, location=("<session end>", None, "processes left running"),
                             keywords={}, outcome="failed", longrepr=text, when="teardown")


def pytest_configure(config: pytest.Config) -> None:
    _become_subreaper()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """(xdist controller) A worker ended: remember its pid, so that it is never reported, and
    report what it found left running (a worker cannot send a report of its own that is not a
    test's)."""
    output = getattr(node, "workeroutput", None) or {}
    if isinstance(output.get("pid"), int):
        _worker_pids.add(output["pid"])
    lines = output.get("leftover_processes")
    if lines:
        node.config.hook.pytest_runtest_logreport(report=_leftover_report(list(lines)))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    # Inside every other wrapper: after the session's fixtures are torn down (and, in the xdist
    # controller, after the workers are stopped), before the summary and before a worker tells
    # the controller it has finished.
    result = yield
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pid"] = os.getpid()
    # A process that is ending by itself (a runner's helper whose parent just went) is not
    # left behind: a moment to finish.
    _ended, leftovers = psutil.wait_procs(leftover_processes(), timeout=ENDING_GRACE_S)
    if not leftovers:
        return result
    lines = [describe(p) for p in leftovers]
    survivors = stop_processes(leftovers)
    lines += [f"could not be stopped: {describe(p)}" for p in survivors]
    if workeroutput is not None:  # an xdist worker: the controller reports it
        worker = os.environ.get("PYTEST_XDIST_WORKER", "worker")
        workeroutput["leftover_processes"] = [f"[{worker}] {line}" for line in lines]
    else:
        session.config.hook.pytest_runtest_logreport(report=_leftover_report(lines))
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result
