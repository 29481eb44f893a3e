"""Config: defaults, then the file, then HUB_* variables; every bad value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.common.errors import ConfigError
from hub.config import load_config


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text('[taxii]\nmax_page_size = 500\n[server]\nport = 7000\n')
    cfg = load_config(tmp_path, environ={"HUB_SERVER_PORT": "7100", "HUB_TITLE": "x"})
    assert cfg.taxii.max_page_size == 500  # file over default
    assert cfg.server.port == 7100  # environment over file
    assert cfg.title == "x"
    assert cfg.effective_database_url.startswith("sqlite:///") and cfg.effective_database_url.endswith("hub.db")


@pytest.mark.parametrize("toml,env,fragments", [
    ("", {"HUB_SERVER_PORT": "eighty"}, ["HUB_SERVER_PORT: expected a whole number"]),
    ("[taxii]\nmax_page_size = 0\n", {}, ["taxii.max_page_size"]),
    ("[taxii]\nstatus_retention_hours = 1\n", {}, ["status_retention_hours: must be at least 24"]),
    ("[taxii]\nbogus = 1\n", {"HUB_NOPE": "1"}, ["taxii.bogus: unknown setting", "HUB_NOPE: unknown setting"]),
    ("[nonsense]\n", {}, ["nonsense: unknown table"]),
    ("", {"HUB_DATABASE_URL": "mysql://x"}, ["database_url"]),
    ("", {"HUB_TAXII_PUBLIC_DISCOVERY": "maybe"}, ["expected true or false"]),
    ("[taxii\n", {}, ["not valid TOML"]),
])
def test_every_bad_value_is_named(tmp_path: Path, toml: str, env: dict, fragments: list[str]) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ=env)
    for fragment in fragments:
        assert fragment in err.value.description
