"""The [pseudonyms] settings: defaults, file, HUB_PSEUDONYMS_* overrides, start-up checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.common.errors import BadRequest, ConfigError
from hub.config import DEFAULT_CONFIG_TEXT, load_config
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests.harness import FrozenClock

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(DEFAULT_CONFIG_TEXT)
    cfg = load_config(tmp_path, environ={})
    assert (cfg.pseudonyms.per_minute, cfg.pseudonyms.default_region) == (600, "")
    (tmp_path / "hub.toml").write_text('[pseudonyms]\nper_minute = 30\ndefault_region = "DE"\n')
    cfg = load_config(tmp_path, environ={"HUB_PSEUDONYMS_PER_MINUTE": "12"})
    assert (cfg.pseudonyms.per_minute, cfg.pseudonyms.default_region) == (12, "DE")


def test_the_deploy_example_is_a_valid_config(tmp_path: Path) -> None:
    shutil.copy(ROOT / "deploy" / "hub.toml.example", tmp_path / "hub.toml")
    assert load_config(tmp_path, environ={}).pseudonyms.per_minute == 600


@pytest.mark.parametrize("toml,env,fragment", [
    ("[pseudonyms]\nper_minute = 0\n", {}, "pseudonyms.per_minute: must be between"),
    ("", {"HUB_PSEUDONYMS_PER_MINUTE": "lots"}, "HUB_PSEUDONYMS_PER_MINUTE: expected a whole number"),
    ('[pseudonyms]\ndefault_region = "de"\n', {}, "pseudonyms.default_region"),
    ('[pseudonyms]\ndefault_region = "XX"\n', {}, "pseudonyms.default_region"),
    ("[pseudonyms]\nsecret = 'x'\n", {}, "pseudonyms.secret: unknown setting"),
])
def test_bad_values_are_named(tmp_path: Path, toml: str, env: dict[str, str], fragment: str) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, environ=env)
    assert fragment in err.value.description


def test_default_region_reads_national_numbers(tmp_path: Path, store: SqlStore) -> None:
    (tmp_path / "hub.toml").write_text('[pseudonyms]\ndefault_region = "US"\n')
    hub = Hub(load_config(tmp_path, environ={}), store, FrozenClock())
    national, international = hub.pseudonyms.make("phone", ["(415) 555-2671", "+14155552671"], ["a", "b"])
    assert national["pseudonym"] == international["pseudonym"]
    hub.audit.close()


def test_without_a_default_region_national_numbers_are_refused(tmp_path: Path, store: SqlStore) -> None:
    hub = Hub(load_config(tmp_path, environ={}), store, FrozenClock())
    with pytest.raises(BadRequest) as err:
        hub.pseudonyms.make("phone", ["(415) 555-2671"], ["line 1"])
    assert err.value.description.startswith("line 1: phone:") and "555" not in err.value.description
    hub.audit.close()
