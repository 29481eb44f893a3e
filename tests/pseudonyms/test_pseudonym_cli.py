"""The operator's commands for oblivious pseudonyms, in-process (click's runner over a real hub
home made by ``abusehub init``): the published keys, pseudonyms made with the hub's key, and the
raw-value endpoint written off into a new hub's configuration."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner, Result

from hub.cli import main
from hub.client.reports import pseudonym_values
from hub.common.canonical import b64url_decode
from hub.config import load_config
from hub.pseudonyms import HMAC_PSEUDONYM_RE, POPRF_PSEUDONYM_RE
from hub.services.hub import open_hub
from hub.stix.report import ReportFacts
from tests.client.report_kit import example_table


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


def _fails(home: Path, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], input=stdin, env={"HUB_DATABASE_URL": ""})
    assert result.exit_code != 0 and result.exception is not None and "Traceback" not in result.output
    return result


def test_make_reads_phone_numbers_in_national_form_in_the_region_given(tmp_path: Path) -> None:
    """An operator looks up a number a report gave in national form: with --region (as the
    facts' phone_region), the pseudonym is the one report new made for that number."""
    home = tmp_path / "hub"
    _cli(home, "init")  # default_region is empty: national numbers need a region
    (international,) = _cli(home, "pseudonym", "make", "--kind", "phone", stdin="+1 415 555 2671\n").output.split()
    national = _cli(home, "pseudonym", "make", "--kind", "phone", "--region", "US",
                    stdin="(415) 555-2671\n415.555.2671\n").output.split()
    assert national == [international, international]
    # Lower case and spaces are read as report new reads phone_region.
    assert _cli(home, "pseudonym", "make", "--kind", "phone", "--region", " us ",
                stdin="(415) 555-2671\n").output.split() == [international]
    # What report new sends for facts with phone_region = "US" and the national number.
    facts = ReportFacts.from_mapping({**example_table(), "phone_region": "US",
                                      "personal": {"phone": "(415) 555-2671"}})
    (value,) = [v for k, v in pseudonym_values(facts) if k == "phone"]
    (made,) = _cli(home, "pseudonym", "make", "--kind", "phone", stdin=value + "\n").output.split()
    assert made == international
    # Another region reads the same digits as another number (or none).
    other = CliRunner().invoke(main, ["--home", str(home), "pseudonym", "make", "--kind", "phone",
                                      "--region", "GB"], input="(415) 555-2671\n", env={"HUB_DATABASE_URL": ""})
    assert other.exit_code != 0 or other.output.split() != [international]

    # Without a region, a national number is a one-line problem naming the line, not the value.
    out = _fails(home, "pseudonym", "make", "--kind", "phone", stdin="(415) 555-2671\n").output
    assert "line 1" in out and "region" in out and "555" not in out
    bad = _fails(home, "pseudonym", "make", "--kind", "phone", "--region", "ZZ", stdin="(415) 555-2671\n").output
    assert "ISO 3166-1 alpha-2" in bad and "555" not in bad
    wrong = _fails(home, "pseudonym", "make", "--kind", "email", "--region", "US", stdin="a@example.com\n").output
    assert "only for the kind phone" in wrong
