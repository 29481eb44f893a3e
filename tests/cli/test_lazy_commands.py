"""Each command's module is imported when that command is looked up, checked in fresh
interpreters: ``abusehub serve`` is the gunicorn master its workers are forked from, so every
module it imports and never runs (the other commands and the client library behind them) is
memory the master and every worker carry."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from typing import Any

import pytest

import hub.cli
from tests.harness import clean_environ

pytestmark = pytest.mark.slow  # each test runs a fresh interpreter

#: Resolve ``serve`` as ``abusehub serve --help`` does, and list the modules then imported.
_SERVE_LOOKUP = """
import contextlib, io, json, sys
from hub.cli import main
before = sorted(sys.modules)
shown = io.StringIO()
with contextlib.redirect_stdout(shown):
    main(["serve", "--help"], prog_name="abusehub", standalone_mode=False)
print(json.dumps({"before": before, "after": sorted(sys.modules), "help": shown.getvalue()}))
"""

#: What ``hub.cli.base`` stands on (the configuration and the hub's services) imports by itself:
#: the few client modules among it (errors, retry notices, exact objects) the server runs too.
_SERVICES = """
import json, sys
import hub.config, hub.services.hub
print(json.dumps({"after": sorted(sys.modules)}))
"""


def _run(script: str) -> dict[str, Any]:
    """What ``script`` printed last, as JSON, run in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=clean_environ(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(found, dict)
    return found


def test_looking_up_serve_imports_no_other_command_and_no_client() -> None:
    found = _run(_SERVE_LOOKUP)
    assert "Serve TAXII 2.1 with gunicorn" in str(found["help"])
    modules = set(found["after"])
    assert "hub.cli.server" in modules
    others = {f"hub.cli.{info.name}" for info in pkgutil.iter_modules(hub.cli.__path__)} - {"hub.cli.base",
                                                                                         "hub.cli.server"}
    assert sorted(modules & others) == []
    services = set(_run(_SERVICES)["after"])
    assert sorted(name for name in modules - services if name.startswith("hub.client")) == []


def test_importing_the_command_line_imports_no_command() -> None:
    found = _run(_SERVE_LOOKUP)
    before = set(found["before"])
    assert sorted(name for name in before if name.startswith("hub.cli.") and name != "hub.cli.base") == []
