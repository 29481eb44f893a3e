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


#: Every check of a loaded configuration failing at once: the values, and the line each gives.
EVERY_CHECK = """\
[hub]
log_level = "loud"
log_format = "xml"
public_url = "ftp://hub.example"
database_url = "mysql://x"
[taxii]
default_page_size = 0
max_page_size = -1
max_content_length = 10
status_retention_hours = 1
api_root = "a/b"
[server]
port = 70000
workers = 0
trusted_proxies = ["proxy.internal"]
[pseudonyms]
per_minute = 0
default_region = "de"
[web]
session_idle_minutes = 0
secret_key_file = " "
[metrics]
allow = ["nowhere"]
[limits]
auth_failures = 0
auth_window_seconds = 0
[federation]
page_size = 0
"""
EVERY_PROBLEM = [
    "taxii.default_page_size: must be at least 1",
    "taxii.max_page_size: must be at least taxii.default_page_size",
    "taxii.max_content_length: must be at least 1024 bytes",
    "taxii.status_retention_hours: must be at least 24 (TAXII interoperability asks for 24 h)",
    "taxii.api_root: must be one path segment other than the hub's own (taxii2, web, healthz, readyz, metrics)",
    "server.port: must be between 0 and 65535",
    "server.workers and server.threads: must be at least 1",
    "log_level: must be one of debug, error, info, warning",
    "pseudonyms.per_minute: must be between 1 and 1000000",
    "pseudonyms.default_region: must be empty or an ISO 3166-1 alpha-2 region code in upper case, such as 'DE'",
    "web.session_idle_minutes: must be between 1 and 1440",
    "web.secret_key_file: must name a file",
    "public_url: must be an http:// or https:// URL with a host name, e.g. 'https://hub.example'",
    "server.trusted_proxies: 'proxy.internal' is not an IP address or network",
    "log_format: must be one of json, text",
    "metrics.allow: 'nowhere' is not an IP address or network",
    "limits.auth_failures: must be between 1 and 1000000",
    "limits.auth_window_seconds: must be between 1 and 86400",
    "federation: page_size must be 1 to 100000, timeout and max_backoff at least 1, status_wait and "
    "max_retries not negative, max_response_bytes at least 1024",
    "database_url: only sqlite:/// and postgresql+psycopg:// URLs are supported",
]


def test_every_check_names_its_problem_once(tmp_path: Path) -> None:
    """Each check of the loaded values gives its own line, all of them at once."""
    (tmp_path / "hub.toml").write_text(EVERY_CHECK)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ={})
    lines = err.value.description.splitlines()
    assert lines[0] == f"bad configuration ({len(EVERY_PROBLEM)} problems):"
    assert sorted(line.strip() for line in lines[1:]) == sorted(EVERY_PROBLEM)


@pytest.mark.parametrize("toml,env", [
    ("[server]\nthreads = 0\n", {}),
    ("[federation]\ntimeout = 0\n", {}),
    ("[federation]\nstatus_wait = -1\n", {}),
    ("[federation]\nmax_retries = -1\n", {}),
    ("[federation]\nmax_backoff = 0\n", {}),
    ("[federation]\nmax_response_bytes = 1000\n", {}),
    ("[federation]\npage_size = 100001\n", {}),
    ("", {"HUB_TAXII_API_ROOT": ""}),
    ("", {"HUB_PSEUDONYMS_PER_MINUTE": "1000001"}),
    ("", {"HUB_WEB_SESSION_IDLE_MINUTES": "1441"}),
    ("", {"HUB_LIMITS_AUTH_WINDOW_SECONDS": "86401"}),
    ("", {"HUB_SERVER_PORT": "-1"}),
])
def test_each_bound_is_checked(tmp_path: Path, toml: str, env: dict[str, str]) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ=env)
    assert err.value.description.startswith("bad configuration: ") and "\n" not in err.value.description


@pytest.mark.parametrize("toml", [
    "[server]\nport = 0\n", "[server]\nport = 65535\n", '[pseudonyms]\ndefault_region = "DE"\n',
    '[hub]\ndatabase_url = "postgresql+psycopg://u@h/d"\n', '[taxii]\napi_root = "/api2/"\n',
    '[metrics]\nallow = ["10.0.0.0/8", "::1"]\n',
    "[federation]\nstatus_wait = 0\nmax_retries = 0\nmax_response_bytes = 1024\npage_size = 100000\n",
])
def test_values_at_the_bounds_are_accepted(tmp_path: Path, toml: str) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    load_config(tmp_path, environ={})


def test_no_check_is_above_the_complexity_make_lint_allows() -> None:
    """hub/config.py's checks, as radon counts them: none above 25 (tools/check_complexity.py)."""
    radon_complexity = pytest.importorskip("radon.complexity", reason="radon comes with the lint extra")
    import hub.config

    source = Path(hub.config.__file__).read_text(encoding="utf-8")
    blocks = radon_complexity.cc_visit(source)
    functions = [b for b in blocks if not hasattr(b, "methods")]
    functions += [m for b in blocks for m in getattr(b, "methods", [])]
    assert functions and [(f.name, f.complexity) for f in functions if f.complexity > 25] == []
