"""The deploy files hold up when read by the tools that use them: the example hub.toml by the
hub's configuration loader, the systemd units by ``systemd-analyze verify``, the compose file by
``docker compose config`` (when installed), and the image's HEALTHCHECK command against a real
server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.config import load_config
from tests.conftest import run_cli, start_server, stop_server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ["abusehub.service", "abusehub-retention.service", "abusehub-retention.timer",
         "abusehub-backup.service", "abusehub-backup.timer"]


def test_the_example_configuration_loads_as_a_production_hub(tmp_path: Path) -> None:
    shutil.copy(DEPLOY / "hub.toml.example", tmp_path / "hub.toml")
    cfg = load_config(tmp_path, environ={})
    assert cfg.database_url.startswith("postgresql+psycopg://")
    assert cfg.server.host == "127.0.0.1" and cfg.server.trusted_proxies == ("127.0.0.1",)
    assert cfg.public_url.startswith("https://") and cfg.taxii.public_discovery is False


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    venv_bin = Path(sys.executable).parent
    for name in UNITS:
        # The units name the installed command; here it is this environment's.
        text = (DEPLOY / name).read_text().replace("/opt/abusehub/.venv/bin", str(venv_bin))
        (tmp_path / name).write_text(text)
    proc = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in proc.stderr.splitlines() if any(n in line for n in UNITS)]
    assert proc.returncode == 0 and not problems, proc.stderr


def _compose_config(env: dict[str, str]) -> dict[str, Any]:
    """The compose file as the compose tool resolves it: the docker CLI's compose plugin, or
    Debian's docker-compose (whose YAML output Debian's own python3-yaml reads)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0:
        proc = subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--format", "json"],
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout))
    legacy = shutil.which("docker-compose")
    if legacy is None:
        pytest.skip("neither the docker compose plugin nor docker-compose is installed")
    proc = subprocess.run([legacy, "-f", str(DEPLOY / "compose.yaml"), "config"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    as_json = subprocess.run(["/usr/bin/python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
                             input=proc.stdout, capture_output=True, text=True, timeout=60)
    assert as_json.returncode == 0, as_json.stderr
    return dict(json.loads(as_json.stdout))


def test_the_compose_file_is_valid(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "POSTGRES_PASSWORD": "secret", "ABUSEHUB_SERVER_NAME": "hub.example.org"}
    services = _compose_config(env)["services"]
    assert set(services) == {"hub", "postgres", "nginx"}
    assert "ports" not in services["hub"] and "ports" not in services["postgres"]
    assert services["nginx"].get("ports")


@pytest.mark.slow
def test_the_images_healthcheck_command_passes_against_a_running_hub(tmp_path: Path) -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    match = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", text)
    assert match, "the Dockerfile has no HEALTHCHECK in exec form"
    command = json.loads(match.group(1))
    assert command[0] == "python"
    home = tmp_path / "hub"
    run_cli(home, "init")
    running = start_server(home)
    try:
        port = running.base.rsplit(":", 1)[1]
        args = [sys.executable, *(a.replace("127.0.0.1:6100", f"127.0.0.1:{port}") for a in command[1:])]
        assert subprocess.run(args, capture_output=True, timeout=30).returncode == 0
    finally:
        stop_server(running)
    # And it fails when nothing serves there.
    assert subprocess.run(args, capture_output=True, timeout=30).returncode != 0
