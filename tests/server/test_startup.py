"""What `abusehub serve` checks before gunicorn starts, in-process: each problem is one
HubError line (the CLI prints it and exits non-zero), and the home's files are kept private.
The real command is run in tests/ops/test_live_server.py."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from hub.common.errors import ConfigError, HubError
from hub.config import load_config
from hub.server.gunicorn import check_port, metrics_dir
from hub.services.hub import open_hub
from hub.services.runtime import check_database, secure_home
from hub.store.sql import SqlStore


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
