"""The operator's lifecycle commands as an operator runs them: real processes, a real home.

Output is checked for what an operator reads: one line per refusal, exit status 1, and the
effect (a disabled party's token refused by the running server) right away.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import requests

from tests.factories import indicator
from tests.harness import run_cli, start_server, stop_server
from tests.lifecycle.pki import issue, make_ca

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"


def _refused(home: Path, *args: str) -> str:
    proc = run_cli(home, *args, check=False)
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("abusehub: ", "Error: ")), proc.stderr
    return lines[0]


def test_party_lifecycle_and_certificates_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    token = json.loads(run_cli(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)["token"]
    col = json.loads(run_cli(home, "collection", "add", "Reports", "--alias", "reports", "--json").stdout)["id"]
    run_cli(home, "grant", "acme", "reports")
    running = start_server(home)
    try:
        url = f"{running.api}/collections/{col}/objects/"
        auth = {"Authorization": f"Bearer {token}"}
        r = requests.post(url, data=orjson.dumps({"objects": [indicator()]}),
                          headers={"Content-Type": TAXII, **auth}, timeout=30)
        assert r.json()["success_count"] == 1

        assert "disabled acme" in run_cli(home, "party", "disable", "acme").stdout
        assert {requests.get(url, headers=auth, timeout=30).status_code for _ in range(6)} == {401}
        listed = json.loads(run_cli(home, "party", "list", "--json").stdout)
        assert {p["name"]: p["state"] for p in listed}["acme"] == "disabled"
        assert "already disabled" in run_cli(home, "party", "disable", "acme").stdout
        run_cli(home, "party", "enable", "acme")
        assert requests.get(url, headers=auth, timeout=30).status_code == 200

        # Certificates: a file that is not one is refused with one line naming it.
        bad = tmp_path / "not-a-cert.pem"
        bad.write_text("hello\n")
        assert "not-a-cert.pem is not a PEM X.509 certificate" in _refused(home, "party", "cert", "add", "acme", str(bad))
        client = issue(make_ca(), "acme desk")
        crt, _key = client.write(tmp_path, "client")
        added = json.loads(run_cli(home, "party", "cert", "add", "acme", str(crt), "--json").stdout)
        assert added["fingerprint"] == client.fingerprint and "CN=acme desk" in added["subject"]
        assert client.fingerprint in run_cli(home, "party", "cert", "list", "acme").stdout
        assert "already registered" in _refused(home, "party", "cert", "add", "acme", str(crt))
        run_cli(home, "party", "cert", "remove", "acme", client.fingerprint)
        assert run_cli(home, "party", "cert", "list", "acme").stdout.strip() == "no certificates for acme"

        # Removal: confirmation asked for unless --yes; objects stay; the name stays taken.
        assert run_cli(home, "party", "remove", "acme", check=False).returncode != 0
        removed = run_cli(home, "party", "remove", "acme", "--yes").stdout
        assert "1 object version(s) stay" in removed
        assert requests.get(url, headers=auth, timeout=30).status_code == 401
        assert "was removed" in _refused(home, "party", "add", "acme", "--kind", "provider")
        assert "was removed" in _refused(home, "party", "token", "acme")
        exported = run_cli(home, "audit", "export").stdout
        assert "party.remove" in exported and "party.disable" in exported and token not in exported
    finally:
        stop_server(running)


def test_collection_edit_remove_grants_and_retention_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    run_cli(home, "party", "add", "acme", "--kind", "provider")
    run_cli(home, "party", "add", "gov", "--kind", "agency")
    col = json.loads(run_cli(home, "collection", "add", "Reports", "--alias", "reports", "--json").stdout)["id"]
    run_cli(home, "grant", "acme", "reports")
    run_cli(home, "grant", "gov", "reports", "--read")

    edited = json.loads(run_cli(home, "collection", "edit", "reports", "--title", "Abuse reports",
                                "--require-signatures", "--max-age-days", "90", "--json").stdout)
    assert (edited["title"], edited["require_signatures"], edited["max_age_days"]) == ("Abuse reports", True, 90)
    edited = json.loads(run_cli(home, "collection", "edit", "reports", "--no-require-signatures", "--json").stdout)
    assert (edited["require_signatures"], edited["max_age_days"]) == (False, 90)
    assert "max age 0 days" in _refused(home, "collection", "edit", "reports", "--max-age-days", "0")

    grants = json.loads(run_cli(home, "grants", "list", "--collection", "reports", "--json").stdout)
    assert [(g["party"], g["read"], g["write"]) for g in grants] == [("acme", True, True), ("gov", True, False)]
    assert json.loads(run_cli(home, "grants", "list", "--party", "gov", "--json").stdout)[0]["collection"] == col

    runs = json.loads(run_cli(home, "retention", "run", "--json").stdout)
    assert [(r["collection"], r["max_age_days"], r["purged"]) for r in runs] == [(col, 90, 0)]

    assert "removed collection" in run_cli(home, "collection", "remove", "reports").stdout
    assert run_cli(home, "grants", "list").stdout.strip() == "no grants"
    assert "no collection" in _refused(home, "collection", "remove", "reports")


def test_the_hubs_own_party_and_countersigning_key_are_refused_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    keys = json.loads(run_cli(home, "party", "key", "list", "abusehub", "--json").stdout)
    assert keys, "init registers the hub's countersigning key"
    kid = keys[0]["kid"]
    assert "countersigning key" in _refused(home, "party", "key", "revoke", "--", kid)  # "--": a key id may begin with "-"
    assert "cannot be disabled" in _refused(home, "party", "disable", "abusehub")
    after = json.loads(run_cli(home, "party", "key", "list", "abusehub", "--json").stdout)
    assert [k["kid"] for k in after if "revoked" not in k] == [kid]
