"""Provider-account pseudonyms: the operator's `pseudonym make`, the parties' POST pseudonyms/
and the report a provider files all give one pseudonym for one account of one provider."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.common.errors import BadRequest
from hub.config import load_config
from hub.services.access.auth import Principal
from hub.services.hub import Hub, open_hub
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import ReportFacts, build_report
from tests.harness import run_cli

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = "acct-0042-9917"


def _facts(provider_identity: str) -> ReportFacts:
    table: dict[str, Any] = tomllib.loads((ROOT / "deploy" / "report-example.toml").read_text())
    table["provider_identity_id"] = provider_identity
    table["provider_account_id"] = ACCOUNT
    return ReportFacts.from_mapping(table)


def _reported_pseudonym(hub: Hub, provider_identity: str) -> str:
    """The provider_account_pseudonym a report built with the hub's keyring carries."""
    objects = build_report(_facts(provider_identity), hub.pseudonyms.keyring())
    account = next(o for o in objects if o["type"] == "user-account")
    pseudonym = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["provider_account_pseudonym"]
    assert isinstance(pseudonym, str)
    return pseudonym


def test_every_way_of_asking_gives_what_the_report_carries(hub: Hub) -> None:
    party, _token = hub.admin.add_party("cloudco", "provider")
    expected = _reported_pseudonym(hub, party.identity_id)
    by_identity = hub.pseudonyms.make("provider_account", [ACCOUNT], ["line 1"], party.identity_id)
    by_name = hub.pseudonyms.make("provider_account", [ACCOUNT], ["line 1"], "cloudco")
    scoped = hub.pseudonyms.make("provider_account", [f"{party.identity_id}/{ACCOUNT}"], ["line 1"])
    principal = Principal(party, {})
    posted = hub.pseudonyms.pseudonymise(principal, [
        {"kind": "provider_account", "value": ACCOUNT, "provider": party.identity_id},
        {"kind": "provider_account", "value": f"{party.identity_id}/{ACCOUNT}"},
    ])
    got = {by_identity[0]["pseudonym"], by_name[0]["pseudonym"], scoped[0]["pseudonym"],
           *(p["pseudonym"] for p in posted["pseudonyms"])}
    assert got == {expected}


def test_the_same_account_id_at_two_providers_does_not_correlate(hub: Hub) -> None:
    a, _ = hub.admin.add_party("cloudco", "provider")
    b, _ = hub.admin.add_party("nimbus", "provider")
    assert _reported_pseudonym(hub, a.identity_id) != _reported_pseudonym(hub, b.identity_id)


@pytest.mark.parametrize("item,fragment", [
    pytest.param({"kind": "provider_account", "value": ACCOUNT}, "scoped by its provider", id="bare-id"),
    pytest.param({"kind": "provider_account", "value": ACCOUNT, "provider": "cloudco"},
                 "identity id", id="provider-not-an-identity"),
    pytest.param({"kind": "email", "value": "a@example.com", "provider": "identity--x"},
                 "only for the kind provider_account", id="provider-on-another-kind"),
    pytest.param({"kind": "provider_account", "value": ACCOUNT, "provider": 7},
                 "string members", id="provider-not-a-string"),
])
def test_a_bare_or_misscoped_account_id_is_refused_without_echo(hub: Hub, item: dict[str, Any],
                                                                 fragment: str) -> None:
    party, _token = hub.admin.add_party("cloudco", "provider")
    with pytest.raises(BadRequest) as err:
        hub.pseudonyms.pseudonymise(Principal(party, {}), [item])
    assert fragment in err.value.description
    assert ACCOUNT not in err.value.description and "a@example.com" not in err.value.description


def test_operator_make_refuses_a_provider_for_other_kinds_and_unknown_parties(hub: Hub) -> None:
    with pytest.raises(BadRequest, match="only for the kind provider_account"):
        hub.pseudonyms.make("email", ["a@example.com"], ["line 1"], "cloudco")
    with pytest.raises(Exception, match="no party named 'nobody'"):
        hub.pseudonyms.make("provider_account", [ACCOUNT], ["line 1"], "nobody")


@pytest.mark.slow
def test_the_cli_prints_the_reported_pseudonym(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    added = run_cli(home, "party", "add", "cloudco", "--kind", "provider", "--json")
    identity = json.loads(added.stdout)["identity"]
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), "pseudonym", "make",
                           "--kind", "provider_account", "--provider", "cloudco", "--scheme", "hmac"],
                          input=ACCOUNT + "\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    h = open_hub(load_config(home, environ={}))
    try:
        assert proc.stdout.strip() == _reported_pseudonym(h, identity)
    finally:
        h.close()
    bare = subprocess.run([sys.executable, "-m", "hub", "--home", str(home), "pseudonym", "make",
                           "--kind", "provider_account", "--scheme", "hmac"],
                          input=ACCOUNT + "\n", capture_output=True, text=True, timeout=60)
    assert bare.returncode != 0 and "scoped by its provider" in bare.stderr and ACCOUNT not in bare.stderr
