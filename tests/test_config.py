"""Config: defaults, then the file, then HUB_* variables; every bad value named."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from hub.common.errors import ConfigError
from hub.config import DEFAULT_CONFIG_TEXT, FederationConfig, load_config


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
    ('[taxii]\napi_root = "web"\n', {}, ["taxii.api_root: must be one path segment other than the hub's own"]),
    ("", {"HUB_TAXII_API_ROOT": "/healthz/"}, ["taxii.api_root: must be one path segment"]),
    ("", {"HUB_DATABASE_URL": "mysql://x"}, ["database_url"]),
    ("", {"HUB_TAXII_PUBLIC_DISCOVERY": "maybe"}, ["expected true or false"]),
    ("[taxii\n", {}, ["not valid TOML"]),
    ('[hub]\npublic_url = "ftp://hub.example"\n', {}, ["public_url: must be an http:// or https:// URL"]),
    ("", {"HUB_PUBLIC_URL": "hub.example"}, ["public_url: must be an http:// or https:// URL"]),
    ("", {"HUB_PUBLIC_URL": "https://user:secret@hub.example"}, ["public_url: must not contain credentials"]),
    ("", {"HUB_PUBLIC_URL": "https://hub.example/?a=1"}, ["public_url: must not contain a query"]),
    ("", {"HUB_PUBLIC_URL": "https://hub.example/#top"}, ["public_url: must not contain a query or a fragment"]),
    ("", {"HUB_PUBLIC_URL": "https://hub.example:99999"}, ["public_url: is not a valid URL"]),
    ('[server]\ntrusted_proxies = ["127.0.0.1", "proxy.internal"]\n', {},
     ["server.trusted_proxies: 'proxy.internal' is not an IP address or network"]),
    ("[server]\ntrusted_proxies = [1]\n", {}, ["server.trusted_proxies: expected a list of strings"]),
])
def test_every_bad_value_is_named(tmp_path: Path, toml: str, env: dict, fragments: list[str]) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ=env)
    for fragment in fragments:
        assert fragment in err.value.description


def test_public_url_and_trusted_proxies(tmp_path: Path) -> None:
    assert load_config(tmp_path, environ={}).public_url == ""
    assert load_config(tmp_path, environ={}).server.trusted_proxies == ()
    (tmp_path / "hub.toml").write_text('[hub]\npublic_url = "https://hub.example"\n'
                                       '[server]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]\n')
    cfg = load_config(tmp_path, environ={})
    assert cfg.public_url == "https://hub.example"
    assert cfg.server.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    # From the environment: a comma-separated list.
    cfg = load_config(tmp_path, environ={"HUB_SERVER_TRUSTED_PROXIES": "192.0.2.1, 192.0.2.2",
                                         "HUB_PUBLIC_URL": "http://127.0.0.1:6100"})
    assert cfg.server.trusted_proxies == ("192.0.2.1", "192.0.2.2")
    assert cfg.public_url == "http://127.0.0.1:6100"


def test_the_default_config_file_loads(tmp_path: Path) -> None:
    """What `abusehub init` writes is a valid configuration with the defaults."""
    from hub.config import DEFAULT_CONFIG_TEXT

    (tmp_path / "hub.toml").write_text(DEFAULT_CONFIG_TEXT)
    cfg = load_config(tmp_path, environ={})
    assert cfg.public_url == "" and cfg.server.trusted_proxies == ()


def test_one_bad_value_is_one_line_and_several_a_line_each(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text("[limits]\nauth_failures = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ={})
    assert err.value.description == "bad configuration: limits.auth_failures: must be between 1 and 1000000"
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ={"HUB_SERVER_PORT": "eighty"})
    lines = err.value.description.splitlines()
    assert lines[0] == "bad configuration (2 problems):" and len(lines) == 3


def test_the_default_config_file_has_every_table_and_every_federation_setting() -> None:
    """What `abusehub init` writes shows every table an operator may set, [federation] included,
    with the defaults the code has."""
    from hub.config import _SECTIONS

    written = tomllib.loads(DEFAULT_CONFIG_TEXT)
    assert set(written) == {"hub", *_SECTIONS}
    defaults = FederationConfig()
    assert written["federation"] == {f.name: getattr(defaults, f.name) for f in fields(FederationConfig)}
