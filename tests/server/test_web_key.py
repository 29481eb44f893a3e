"""The web pages' key ([web] secret_key_file) reaches every app through the one function serve
checks it with (:func:`hub.services.operations.runtime.web_secret_key`): an existing key is only read,
never rewritten (nothing is written in its folder), a missing one is made once (0600), and an
empty one stops the app instead of signing with an empty key."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.common.errors import ConfigError
from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub
from hub.services.operations.runtime import web_secret_key
from hub.store.sql import SqlStore
from tests.harness import TEST_TOML, open_test_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    with open_test_store("sqlite", tmp_path / "db") as store:
        yield store


def _app_key(store: SqlStore, home: Path) -> bytes:
    hub = Hub(load_config(home, environ={}), store)
    try:
        key = create_app(hub.config, hub).secret_key
    finally:
        hub.audit.close()
    assert isinstance(key, bytes)
    return key


def _home(tmp_path: Path, key: bytes | None) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "hub.toml").write_text(TEST_TOML)
    if key is not None:
        (home / "web-secret.key").write_bytes(key)
    return home


def test_an_existing_key_is_read_and_nothing_is_written_beside_it(sqlite_store: SqlStore, tmp_path: Path) -> None:
    home = _home(tmp_path, b"k" * 64 + b"\n")
    time.sleep(0.05)  # a file made or removed in the folder from now on moves its modification time
    before = home.stat().st_mtime_ns
    assert _app_key(sqlite_store, home) == b"k" * 64 == web_secret_key(load_config(home, environ={}))
    assert home.stat().st_mtime_ns == before
    assert sorted(p.name for p in home.iterdir()) == ["hub.toml", "web-secret.key"]


def test_a_missing_key_is_made_private_once(sqlite_store: SqlStore, tmp_path: Path) -> None:
    home = _home(tmp_path, None)
    key = _app_key(sqlite_store, home)
    assert len(key) == 64 and (home / "web-secret.key").read_bytes() == key
    assert stat.S_IMODE((home / "web-secret.key").stat().st_mode) == 0o600
    assert _app_key(sqlite_store, home) == key


def test_an_empty_key_stops_the_app_in_one_line(sqlite_store: SqlStore, tmp_path: Path) -> None:
    home = _home(tmp_path, b"\n")
    with pytest.raises(ConfigError) as err:
        _app_key(sqlite_store, home)
    assert err.value.description == (f"web.secret_key_file: {home / 'web-secret.key'} is empty "
                                     "(delete it and a new key is made)")
