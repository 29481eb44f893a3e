"""The operator's commands for oblivious pseudonyms, in-process (click's runner over a real hub
home made by ``abusehub init``): the published keys, pseudonyms made with the hub's key, and the
raw-value endpoint written off into a new hub's configuration."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner, Result

from hub.cli import main
from hub.common.canonical import b64url_decode
from hub.config import load_config
from hub.pseudonyms import HMAC_PSEUDONYM_RE, POPRF_PSEUDONYM_RE
from hub.services.hub import open_hub


def _cli(home: Path, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], input=stdin, env={"HUB_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    return result


def test_a_new_hub_turns_raw_values_off_and_publishes_its_keys(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    _cli(home, "init")
    settings = tomllib.loads((home / "hub.toml").read_text())
    assert settings["pseudonyms"]["accept_raw_values"] is False
    assert load_config(home, environ={}).pseudonyms.accept_raw_values is False
    keyring = json.loads((home / "pseudonym-keys.json").read_text())
    assert set(keyring["keys"]) == set(keyring["poprf"]) == {"k1"}

    shown = json.loads(_cli(home, "pseudonym", "key", "--json").output)
    hub = open_hub(load_config(home, environ={}))
    try:
        assert {k["key_version"]: b64url_decode(k["public_key"]) for k in shown["keys"]} == \
            hub.pseudonyms.poprf_keyring().public_keys()
    finally:
        hub.close()
    assert _cli(home, "pseudonym", "key").output.strip() == f"k1={shown['keys'][0]['public_key']}  (current)"


def test_make_prints_oblivious_pseudonyms_and_every_version_after_a_rotation(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    _cli(home, "init")
    card = "4111 1111 1111 1111\n4111-1111-1111-1111\n"
    first = _cli(home, "pseudonym", "make", "--kind", "payment_instrument", stdin=card).output.split()
    assert len(first) == 2 and first[0] == first[1] and POPRF_PSEUDONYM_RE.match(first[0])
    assert first[0].startswith("poprf-r255:k1:") and not any(c in "".join(first) for c in ("4111 1111", "4111-1111", "4111111111111111"))
    (old_hmac,) = _cli(home, "pseudonym", "make", "--kind", "payment_instrument", "--scheme", "hmac",
                       stdin=card[:20]).output.split()
    assert HMAC_PSEUDONYM_RE.match(old_hmac)

    _cli(home, "pseudonym", "rotate")
    every = _cli(home, "pseudonym", "make", "--kind", "payment_instrument", "--all-versions",
                 stdin=card[:20]).output.split()
    assert [p.split(":")[:2] for p in every] == [["poprf-r255", "k2"], ["poprf-r255", "k1"],
                                                  ["hmac-sha256", "k2"], ["hmac-sha256", "k1"]]
    assert every[1] == first[0] and every[3] == old_hmac  # the older versions still give the same
    shown = _cli(home, "pseudonym", "key").output.splitlines()
    assert [line.split("=")[0] for line in shown] == ["k2", "k1"] and shown[0].endswith("(current)")
