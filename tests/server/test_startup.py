"""What `abusehub serve` checks before gunicorn starts: in-process, each problem is one
ConfigError line, and the home's files are kept private; then the real command, for every
file a worker reads when it boots and every other start-up problem: one line on stderr, exit
status 2, and no worker started. More of the real command is run in
tests/ops/test_live_server.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.common.errors import ConfigError, HubError
from hub.config import load_config
from hub.server.gunicorn import check_port, metrics_dir
from hub.services.hub import open_hub
from hub.services.operations.runtime import check_database, secure_home
from hub.store.sql import SqlStore
from tests.harness import free_port, run_cli, start_server, stop_server


def test_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HubError) as err:
            check_port("127.0.0.1", port)
    assert str(err.value) == f"cannot listen on 127.0.0.1:{port}: the port is in use by another process"
    check_port("127.0.0.1", port)  # free again


def test_an_address_not_of_this_machine_is_one_clear_error() -> None:
    with pytest.raises(HubError) as err:
        check_port("192.0.2.1", 6100)
    assert "cannot listen on 192.0.2.1:6100" in str(err.value) and "\n" not in str(err.value)


def test_an_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={"HUB_DATABASE_URL": "postgresql+psycopg://postgres:s3cretpw@127.0.0.1:1/x"})
    with pytest.raises(HubError) as err:
        check_database(config)
    message = str(err.value)
    assert message.startswith("cannot reach the database postgresql+psycopg://postgres:***@127.0.0.1:1/x: ")
    assert "\n" not in message and "s3cretpw" not in message


def test_a_missing_sqlite_database_says_to_init(tmp_path: Path) -> None:
    with pytest.raises(HubError, match="no database in .*: run 'abusehub --home .* init' first"):
        check_database(load_config(tmp_path, environ={}))
    assert not (tmp_path / "hub.db").exists()


def test_an_old_schema_says_to_migrate(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    open_hub(config, migrate=True).close()
    check_database(config)  # at head: no error
    store = SqlStore(config.effective_database_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002'")
    store.close()
    with pytest.raises(HubError) as err:
        check_database(config)
    assert "schema is at revision 0002" in str(err.value) and "run 'abusehub migrate'" in str(err.value)


def test_the_home_and_its_secrets_are_made_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    for name in ("hub.db", "hub.db-wal", "hub.db-shm", "hub-signing-key.pem", "pseudonym-keys.json"):
        (home / name).write_text("x")
        os.chmod(home / name, 0o644)
    (home / "hub.toml").write_text("")
    os.chmod(home / "hub.toml", 0o644)
    secure_home(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("hub.db", "hub.db-wal", "hub.db-shm", "hub-signing-key.pem", "pseudonym-keys.json"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name


def test_operations_settings(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, environ={})
    assert cfg.log_format == "json" and cfg.metrics.allow == ("127.0.0.1/32", "::1/128")
    assert (cfg.limits.auth_failures, cfg.limits.auth_window_seconds) == (20, 300)
    assert metrics_dir(cfg) == tmp_path / "metrics"
    (tmp_path / "hub.toml").write_text('[hub]\nlog_format = "text"\n[metrics]\nallow = ["10.0.0.0/8"]\n'
                                       'multiproc_dir = "/run/abusehub-metrics"\n[limits]\nauth_failures = 5\n')
    cfg = load_config(tmp_path, environ={"HUB_LIMITS_AUTH_WINDOW_SECONDS": "60"})
    assert cfg.log_format == "text" and cfg.metrics.allow == ("10.0.0.0/8",)
    assert (cfg.limits.auth_failures, cfg.limits.auth_window_seconds) == (5, 60)
    assert metrics_dir(cfg) == Path("/run/abusehub-metrics")
    (tmp_path / "hub.toml").write_text('[hub]\nlog_format = "xml"\n[metrics]\nallow = ["nowhere"]\n'
                                       '[limits]\nauth_failures = 0\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ={})
    for expected in ("log_format: must be one of json, text", "metrics.allow: 'nowhere'",
                     "limits.auth_failures: must be between"):
        assert expected in err.value.description


# -- the real command: every start-up problem is one line and exit status 2 -------------------

@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made by 'abusehub init', copied by each test below."""
    home = tmp_path_factory.mktemp("template") / "hub"
    run_cli(home, "init")
    return home


def serve_once(home: Path, port: int | None = None) -> tuple[int, str, str]:
    """Run 'abusehub serve' on ``home``; its exit status, stderr and stdout. A server that
    starts (a problem not found at start-up) is stopped, with its workers, and fails the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
                             "--port", str(port or free_port()), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"serve started although its home is broken: {err[-2000:]}")
    return proc.returncode, err, out


def _token(name: str, content: str) -> Callable[[Path], None]:
    def apply(home: Path) -> None:
        text = (home / "hub.toml").read_text().replace('token_file = ""', f'token_file = "{name}"')
        (home / "hub.toml").write_text(text)
        if content:
            (home / name).write_text(content)
    return apply


def _setting(line: str, replacement: str) -> Callable[[Path], None]:
    """Replace ``line`` of the hub.toml that init wrote."""
    def apply(home: Path) -> None:
        text = (home / "hub.toml").read_text()
        assert line in text
        (home / "hub.toml").write_text(text.replace(line, replacement))
    return apply


def _write(name: str, content: str) -> Callable[[Path], None]:
    def apply(home: Path) -> None:
        (home / name).write_text(content)
    return apply


def _old_schema(home: Path) -> None:
    store = SqlStore(f"sqlite:///{home / 'hub.db'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    store.close()


def _no_database(home: Path) -> None:
    for name in ("hub.db", "hub.db-wal", "hub.db-shm"):
        (home / name).unlink(missing_ok=True)


def _gone(name: str) -> Callable[[Path], None]:
    def apply(home: Path) -> None:
        (home / name).unlink()
    return apply


def _key_folder(home: Path) -> None:
    (home / "keys.d").mkdir()
    _setting('secret_key_file = "web-secret.key"', 'secret_key_file = "keys.d"')(home)


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "metrics token file missing": (_token("metrics.token", ""), "metrics.token_file: cannot read "),
    "metrics token too short": (_token("metrics.token", "short\n"),
                                "metrics.token_file: {home}/metrics.token must hold a token of at least 16"),
    "web key file is a folder": (_key_folder, "web.secret_key_file: cannot make or read {home}/keys.d"),
    "web key file empty": (_write("web-secret.key", "\n"), "web.secret_key_file: {home}/web-secret.key is empty"),
    "pseudonym keyring unreadable": (_write("pseudonym-keys.json", "{not json"), "pseudonym keyring {home}/"),
    "hub signing key unreadable": (_write("hub-signing-key.pem", "not a key"), "the hub's signing key {home}/"),
    "metrics folder cannot be made": (_setting('token_file = ""', 'token_file = ""\nmultiproc_dir = "/proc/abusehub-metrics"'),
                                      "metrics.multiproc_dir: cannot empty or make /proc/abusehub-metrics"),
    "old schema": (_old_schema, "the database schema is at revision 0003 but this abusehub needs"),
    "hub signing key missing": (_gone("hub-signing-key.pem"),
                                "the hub's signing key {home}/hub-signing-key.pem is missing although the "
                                "database is initialised: restore it from the hub's backup"),
    "pseudonym keyring missing": (_gone("pseudonym-keys.json"),
                                  "the pseudonym keyring {home}/pseudonym-keys.json is missing although the "
                                  "database is initialised: restore it from the hub's backup"),
    "no database": (_no_database, "there is no database in {home}: run 'abusehub --home {home} init' first"),
    "bad setting": (_setting("auth_failures = 20", "auth_failures = 0"), "limits.auth_failures: must be between"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BROKEN))
def test_every_start_up_problem_is_one_line_and_exit_status_2(case: str, initialised: Path, tmp_path: Path) -> None:
    home = tmp_path / "hub"
    shutil.copytree(initialised, home)
    breaks, expected = BROKEN[case]
    breaks(home)
    status, err, out = serve_once(home)
    assert "Traceback" not in err + out and "Booting worker" not in err + out, err
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (status, err)
    assert lines[0].startswith("abusehub: ") and expected.format(home=home) in lines[0], lines[0]
    # Nothing the check reads is left half made: the database is not created either, nor a
    # missing key.
    if case == "no database":
        assert not (home / "hub.db").exists()
    for name in ("hub-signing-key.pem", "pseudonym-keys.json"):
        if case.endswith("missing") and name in expected:
            assert not (home / name).exists()


@pytest.mark.slow
def test_a_busy_port_is_exit_status_2_too(initialised: Path, tmp_path: Path) -> None:
    home = tmp_path / "hub"
    shutil.copytree(initialised, home)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        status, err, _out = serve_once(home, taken.getsockname()[1])
    assert status == 2 and err.strip().count("\n") == 0 and "the port is in use" in err


# -- a lost key is restored, or made anew on purpose: never made by serve ---------------------

@pytest.mark.slow
def test_lost_keys_are_refused_until_restored_or_made_anew_on_purpose(initialised: Path, tmp_path: Path) -> None:
    home = tmp_path / "hub"
    shutil.copytree(initialised, home)
    kept = {name: (home / name).read_bytes() for name in ("hub-signing-key.pem", "pseudonym-keys.json")}
    for name in kept:
        (home / name).unlink()
    expected = (f"abusehub: the hub's signing key {home}/hub-signing-key.pem and the pseudonym keyring "
                f"{home}/pseudonym-keys.json are missing although the database is initialised: restore them "
                "from the hub's backup; to start with new keys on purpose (a new countersigning key; new "
                "reports no longer match old pseudonyms), run "
                f"'abusehub --home {home} init --new-keys'")
    status, err, _out = serve_once(home)
    assert (status, err.strip()) == (2, expected)
    # Nor does init, or the container's serve --init-if-empty: the database is not empty.
    for args in (("init",), ("serve", "--init-if-empty", "--port", str(free_port()))):
        proc = run_cli(home, *args, check=False)
        assert (proc.returncode, proc.stderr.strip()) == (2, expected), args
    assert not any((home / name).exists() for name in kept)

    # Restored from the backup: served as before.
    for name, data in kept.items():
        (home / name).write_bytes(data)
        os.chmod(home / name, 0o600)
    assert "NEW" not in run_cli(home, "init").stdout  # nothing to make
    # Made anew on purpose: said so, and new.
    (home / "pseudonym-keys.json").unlink()
    out = run_cli(home, "init", "--new-keys").stdout
    assert "the pseudonym key is NEW" in out and "NEW hub signing key" not in out
    assert (home / "pseudonym-keys.json").read_bytes() != kept["pseudonym-keys.json"]
    (home / "hub-signing-key.pem").unlink()
    out = run_cli(home, "init", "--new-keys").stdout
    assert "made a NEW hub signing key" in out and "pseudonym key is NEW" not in out
    assert (home / "hub-signing-key.pem").read_bytes() != kept["hub-signing-key.pem"]
    running = start_server(home, workers=1)
    stop_server(running)
