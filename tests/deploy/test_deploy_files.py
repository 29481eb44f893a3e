"""The deploy files hold up when read by the tools that use them: the example hub.toml by the
hub's configuration loader, the systemd units by ``systemd-analyze verify``, the compose file by
``docker compose config`` (when installed), and the image's HEALTHCHECK command against a real
server. Containers do not run here: the container's life (first start, an admin command,
restart, upgrade) is run as the image and compose.yaml spell it, command by command, against a
real home and database."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.config import DEFAULT_CONFIG_TEXT, FederationConfig, load_config
from tests.conftest import alembic_step
from tests.harness import POSTGRES_URL, _postgres_available, free_port, run_cli, start_server, stop_server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ["abusehub.service", "abusehub-retention.service", "abusehub-retention.timer",
         "abusehub-backup.service", "abusehub-backup.timer"]


def test_the_example_configuration_loads_as_a_production_hub(tmp_path: Path) -> None:
    shutil.copy(DEPLOY / "hub.toml.example", tmp_path / "hub.toml")
    cfg = load_config(tmp_path, environ={})
    assert cfg.database_url.startswith("postgresql+psycopg://")
    assert cfg.server.host == "127.0.0.1" and cfg.server.trusted_proxies == ("127.0.0.1",)
    assert cfg.public_url.startswith("https://") and cfg.taxii.public_discovery is False


def test_the_example_configuration_shows_every_table_as_init_writes_it() -> None:
    """deploy/hub.toml.example has every table of the hub.toml that init writes ([federation]
    included), and says what the code does: the pseudonym allowance is shared by every process."""
    example_text = (DEPLOY / "hub.toml.example").read_text()
    example, written = tomllib.loads(example_text), tomllib.loads(DEFAULT_CONFIG_TEXT)
    assert set(example) == set(written)
    assert set(example["federation"]) == {f.name for f in fields(FederationConfig)}

    def comment_above(text: str, key: str) -> list[str]:
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
        above = []
        for line in reversed(lines[:at]):
            if not line.startswith("#"):
                break
            above.insert(0, line)
        return above

    assert comment_above(example_text, "per_minute") == comment_above(DEFAULT_CONFIG_TEXT, "per_minute")
    assert "every server process draws on the same allowance" in " ".join(comment_above(example_text, "per_minute"))


@pytest.mark.slow  # systemd-analyze: a process
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


@pytest.mark.slow  # the compose tool: a process
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


# -- the container's life, command by command -------------------------------------------------

def _dockerfile() -> tuple[list[str], dict[str, str], list[str]]:
    """The image's ENTRYPOINT and CMD (exec form) and its HUB_* environment."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.*)$", text, re.M):
        for item in shlex.split(line):
            name, _, value = item.partition("=")
            if name.startswith("HUB_"):
                env[name] = value
    return entrypoint, env, cmd


def _healthcheck(port: int) -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text()
    command = json.loads(re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", text).group(1))  # type: ignore[union-attr]
    return [sys.executable, *(a.replace("127.0.0.1:6100", f"127.0.0.1:{port}") for a in command[1:])]


def _documented_steps() -> list[list[str]]:
    """The docker compose commands at the top of compose.yaml, in order, without the project
    option and any remark in parentheses."""
    steps = []
    for line in (DEPLOY / "compose.yaml").read_text().splitlines():
        if not line.startswith("#"):
            break
        found = re.match(r"#\s+docker compose -p abusehub (.+)$", line)
        if found:
            steps.append(found.group(1).split("  (")[0].split())
    return steps


class Container:
    """The hub's container as compose runs it, with processes instead: 'up', 'stop' and
    'restart' run the image's command (ENTRYPOINT + CMD, or compose's command) in its
    environment; 'exec' and 'run --rm' run a command there; 'build' makes the next container a
    newer image, whose code is one schema revision ahead of the database (what an upgrade is)."""

    def __init__(self, home: Path, env: dict[str, str], command: list[str], database_url: str) -> None:
        self.home, self.env, self.command, self.database_url = home, env, command, database_url
        self.port = int(env["HUB_SERVER_PORT"])
        self.server: subprocess.Popen[bytes] | None = None
        self.log = home.parent / "container.log"
        self.builds = 0
        self.newer_image = False

    def abusehub(self, *args: str) -> subprocess.CompletedProcess[str]:
        self._image()
        return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True,
                              env=self.env, timeout=120)

    def _image(self) -> None:
        """The first container of a newer image: the database is now one revision behind."""
        if self.newer_image:
            from hub.store.sql import SqlStore

            store = SqlStore(self.database_url)
            alembic_step(store, "-1", down=True)
            store.close()
            self.newer_image = False

    def start(self) -> None:
        assert self.server is None
        self._image()
        self.server = subprocess.Popen([sys.executable, "-m", "hub", *self.command], env=self.env,
                                       stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def healthy(self) -> bool:
        """What compose waits for before nginx starts: the image's HEALTHCHECK passes."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.server is not None
            if self.server.poll() is not None:
                return False
            if subprocess.run(_healthcheck(self.port), capture_output=True, timeout=30).returncode == 0:
                return True
            time.sleep(0.3)
        return False

    def stop(self) -> None:
        if self.server is not None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
            self.server = None

    def step(self, args: list[str]) -> subprocess.CompletedProcess[str] | None:
        match args:
            case ["up", "-d", *rest]:
                if "--build" in rest:
                    self.build()
                if self.server is None:
                    self.start()
                    assert self.healthy(), self.log.read_text()[-3000:]
            case ["build", "hub"]:
                self.build()
            case ["restart", "hub"]:
                self.stop()
                self.start()
                assert self.healthy(), self.log.read_text()[-3000:]
            case ["stop", "hub"]:
                self.stop()
            case ["exec", "hub", "abusehub", *cli]:
                assert self.server is not None and self.server.poll() is None, "exec needs a running container"
                return self.abusehub(*cli)
            case ["run", "--rm", "hub", *cli]:
                return self.abusehub(*cli)
            case _:
                pytest.fail(f"compose.yaml documents a command this test does not know: {args}")
        return None

    def build(self) -> None:
        self.builds += 1
        self.newer_image = self.builds > 1


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _keys(home: Path) -> tuple[bytes, bytes]:
    return (home / "hub-signing-key.pem").read_bytes(), (home / "pseudonym-keys.json").read_bytes()


def _live(container: Container, folder: Path, steps: list[list[str]]) -> None:
    """Run the documented steps; check each stage (first start, admin command, restart,
    upgrade) as an operator would see it."""
    token = ""
    keys: tuple[bytes, bytes] | None = None
    base = f"http://127.0.0.1:{container.port}"
    for args in steps:
        if args[:3] == ["run", "--rm", "hub"] and args[3:] == ["migrate"]:
            # The new image before its migration: nothing starts and nothing migrates by itself.
            container.start()
            assert container.server is not None
            try:
                assert container.server.wait(timeout=90) == 2
            except subprocess.TimeoutExpired:
                pytest.fail("the new image served a database whose schema is behind its code")
            container.server = None
            log = container.log.read_text().strip().splitlines()
            assert "run 'abusehub migrate'" in log[-1] and "Traceback" not in container.log.read_text()
            listed = container.abusehub("party", "list")
            assert listed.returncode == 2 and "run 'abusehub migrate'" in _last_line(listed)
            added = container.abusehub("party", "add", "other", "--kind", "provider")
            assert added.returncode == 2 and "run 'abusehub migrate'" in _last_line(added)
            assert "schema is at revision" in _last_line(container.abusehub("party", "list"))  # still behind
        done = container.step(args)
        if done is not None:
            assert done.returncode == 0, done.stderr
        if args[:4] == ["exec", "hub", "abusehub", "party"]:
            assert done is not None
            token = done.stdout.strip().splitlines()[-1].split()[-1]
            assert token.startswith("ahub_"), done.stdout
        if args[0] == "up" and keys is None:  # the first start made the schema and keys
            assert requests.get(base + "/readyz", timeout=30).status_code == 200
            keys = _keys(container.home)
        if args[0] == "run" and args[3:] == ["migrate"]:
            assert done is not None and "schema revision" in done.stdout and "(was " in done.stdout
    assert token and keys is not None
    # After the upgrade: serving, the same keys, the party's token still works.
    assert container.server is not None
    assert requests.get(base + "/readyz", timeout=30).status_code == 200
    r = requests.get(base + "/api/collections/", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert _keys(container.home) == keys


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (no tables at all), dropped afterwards."""
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
    import psycopg

    schema = f"abusehub_compose_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.slow
@pytest.mark.postgres
def test_the_compose_hub_starts_first_time_takes_commands_restarts_and_upgrades(
        tmp_path: Path, postgres_schema: str) -> None:
    entrypoint, image_env, cmd = _dockerfile()
    assert entrypoint == ["abusehub"]
    hub = _compose_config({"PATH": "/usr/bin:/bin", "POSTGRES_PASSWORD": "secret",
                           "ABUSEHUB_SERVER_NAME": "hub.example.org"})["services"]["hub"]
    command = hub.get("command") or cmd
    assert command == cmd == ["serve", "--init-if-empty"]
    home = tmp_path / "var-lib-abusehub"
    home.mkdir(mode=0o700)  # the image's empty volume
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(image_env)
    env.update({k: str(v) for k, v in hub["environment"].items()})
    assert env["HUB_DATABASE_URL"].startswith("postgresql+psycopg://abusehub:secret@postgres:5432/")
    # Here: this machine's loopback, a free port, the test's database, two workers.
    env.update({"HUB_HOME": str(home), "HUB_SERVER_HOST": "127.0.0.1", "HUB_SERVER_PORT": str(free_port()),
                "HUB_DATABASE_URL": postgres_schema, "HUB_SERVER_WORKERS": "2"})
    steps = _documented_steps()
    assert [s[0] for s in steps] == ["up", "exec", "restart", "build", "stop", "run", "up"], steps
    container = Container(home, env, command, postgres_schema)
    try:
        _live(container, tmp_path, steps)
    finally:
        container.stop()


@pytest.mark.slow
def test_the_image_alone_starts_first_time_on_an_empty_volume_with_sqlite(tmp_path: Path) -> None:
    """'docker run -v hub:/var/lib/abusehub abusehub': no compose, no hub.toml, no database."""
    entrypoint, image_env, cmd = _dockerfile()
    home = tmp_path / "var-lib-abusehub"
    home.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(image_env)
    env.update({"HUB_HOME": str(home), "HUB_SERVER_HOST": "127.0.0.1", "HUB_SERVER_PORT": str(free_port()),
                "HUB_SERVER_WORKERS": "1"})
    container = Container(home, env, cmd, f"sqlite:///{home / 'hub.db'}")
    steps = [["up", "-d", "--build"], ["exec", "hub", *entrypoint, "party", "add", "acme", "--kind", "provider"],
             ["restart", "hub"], ["build", "hub"], ["stop", "hub"], ["run", "--rm", "hub", "migrate"], ["up", "-d"]]
    try:
        _live(container, tmp_path, steps)
    finally:
        container.stop()
    assert (home / "hub.toml").exists() and load_config(home, environ={}).pseudonyms.accept_raw_values is False
