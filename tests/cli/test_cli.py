"""The command line, run as a user runs it: real processes, a real hub home."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.harness import free_port, start_server, stop_server
from tests.harness import run_cli as run

pytestmark = pytest.mark.slow  # every test here runs the CLI, and some the server, as processes


def test_admin_commands_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    assert "schema revision" in run(home, "init").stdout
    party = json.loads(run(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)
    assert party["token"].startswith("ahub_") and party["identity"].startswith("identity--")
    col = json.loads(run(home, "collection", "add", "Reports", "--max-tlp", "green", "--json").stdout)
    run(home, "grant", "acme", col["id"], "--read")
    listed = run(home, "party", "list", "--json").stdout
    assert party["token"] not in listed  # tokens are shown once only
    assert json.loads(run(home, "collection", "list", "--json").stdout)[0]["max_tlp"] == "green"

    running = start_server(home, workers=1)
    try:
        url = f"{running.base}/api/collections/{col['id']}/"
        h = {"Authorization": f"Bearer {party['token']}"}
        assert requests.get(url, headers=h).json()["can_write"] is False
        run(home, "grant", "acme", col["id"], "--write")
        assert requests.get(url, headers=h).json()["can_write"] is True
        second = run(home, "party", "token", "acme", "--label", "soc").stdout.strip()
        assert requests.get(url, headers={"Authorization": f"Bearer {second}"}).ok
        run(home, "party", "token", "acme", "--revoke-all")
        assert requests.get(url, headers=h).status_code == 401
        assert party["token"] not in running.read_log() and second not in running.read_log()
    finally:
        stop_server(running)


def test_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    proc = run(home, "party", "list", check=False)
    assert proc.returncode == 2 and "not a hub home" in proc.stderr
    run(home, "init")
    for args, fragment in [
        (("party", "add", "acme", "--kind", "provider"), None),
        (("party", "add", "acme", "--kind", "provider"), "already exists"),
        (("party", "add", "bad name!", "--kind", "provider"), "party name"),
        (("grant", "nobody", "00000000-0000-4000-8000-000000000000"), "no party"),
        (("collection", "add", "x", "--id", "not-a-uuid"), "not a UUID"),
    ]:
        proc = run(home, *args, check=fragment is None)
        if fragment:
            assert proc.returncode == 1 and fragment in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "hub.toml").write_text("[server]\nport = 'x'\n")
    proc = run(bad, "serve", check=False)
    assert proc.returncode == 2 and "server.port" in proc.stderr


def test_demo_examples_work_as_printed(tmp_path: Path) -> None:
    """`make demo` prints tokens and commands; each printed command works against the hub."""
    home = tmp_path / "var" / "hub"
    first = run(home, "demo", "--port", str(free_port()), "--no-serve").stdout
    running = start_server(home, workers=1)
    try:
        # Prepare the demo again for the port the server listens on: the examples name it.
        second = run(home, "demo", "--port", running.base.rsplit(":", 1)[1], "--no-serve").stdout
        tokens_first = set(re.findall(r"ahub_[\w-]+", first))
        tokens_second = set(re.findall(r"ahub_[\w-]+", second))
        assert tokens_first and tokens_first.isdisjoint(tokens_second)  # fresh tokens each run
        commands = [line.strip() for line in second.splitlines()
                    if line.strip().startswith(("curl ", ".venv/bin/python "))]
        assert len(commands) == 3
        root = Path(__file__).resolve().parents[2]
        outputs = []
        for command in commands:
            command = command.replace(".venv/bin/python", sys.executable, 1)
            proc = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=root, timeout=60)
            assert proc.returncode == 0, (command, proc.stderr)
            outputs.append(proc.stdout)
        assert json.loads(outputs[0])["collections"]
        page = json.loads(outputs[1])
        assert len(page["objects"]) == 2 and all(o["type"] == "indicator" for o in page["objects"])
        assert re.match(r"^\d+ objects$", outputs[2].strip()) and int(outputs[2].split()[0]) >= 8
    finally:
        stop_server(running)


def test_init_makes_and_publishes_the_hub_key_before_serving(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    out = run(home, "init").stdout
    key_id = re.search(r"hub signing key (\S+) registered", out)
    assert key_id, out
    keys = json.loads(run(home, "party", "key", "list", "--json").stdout)
    assert [k["kid"] for k in keys if k["party"] == "abusehub"] == [key_id.group(1)]
    assert (home / "hub-signing-key.pem").stat().st_mode & 0o777 == 0o600
    # A second init changes nothing: the same key, registered once.
    assert key_id.group(1) in run(home, "init").stdout
    assert len(json.loads(run(home, "party", "key", "list", "--json").stdout)) == 1
    running = start_server(home, workers=2)
    try:
        published = requests.get(f"{running.base}/api/keys/").json()["keys"]
        assert [k["kid"] for k in published] == [key_id.group(1)]
    finally:
        stop_server(running)


def test_every_command_is_registered_in_one_place() -> None:
    """Commands are plain click commands in their modules, registered on ``main`` by the table
    in ``hub/cli/__init__.py`` alone: no module attaches itself with ``@main.command``, every
    top-level command or group a module defines is in the table, and each name in the table
    is the command ``main`` runs under that name."""
    import importlib
    import pkgutil
    from pathlib import Path

    import click

    import hub.cli
    from hub.cli import COMMANDS
    from hub.cli import main as cli_main

    registered: set[click.Command] = set()
    with click.Context(cli_main) as ctx:
        assert cli_main.list_commands(ctx) == sorted(COMMANDS)
        for command_name, (module_name, attribute) in COMMANDS.items():
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command) and command.name == command_name, command_name
            assert cli_main.get_command(ctx, command_name) is command
            registered.add(command)
    subcommands: set[click.Command] = set()
    groups = [cmd for cmd in registered if isinstance(cmd, click.Group)]
    while groups:
        for sub in groups.pop().commands.values():
            subcommands.add(sub)
            if isinstance(sub, click.Group):
                groups.append(sub)
    for info in pkgutil.iter_modules(hub.cli.__path__):
        source = (Path(hub.cli.__path__[0]) / f"{info.name}.py").read_text()
        assert "@main.command" not in source and "@main.group" not in source, info.name
        module = importlib.import_module(f"hub.cli.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, click.Command) and value is not cli_main and value not in subcommands:
                assert value in registered, f"hub.cli.{info.name}.{name} is not registered on main"
