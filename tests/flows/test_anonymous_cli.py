"""The README's anonymous filing, with the real CLI against a real hub on loopback.

The oversight body makes its key pair off the hub (``abusehub escrow keygen``); the operator
puts the public half in the hub's configuration, adds a provider with a registered key and a
collection with ``--anonymous-submissions``. The provider files the example facts with ``report
new --anonymous --secret-file``; a reader polls the report under its anonymous identity; the
operator hands the sealed record to the oversight (``escrow sealed``), which opens it (``escrow
open``) and has the opening registered (``escrow register``: an audit record); the provider
withdraws the report with its secret alone (``report withdraw --anonymous``). A collection
without the option refuses the filing, naming nobody.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.client.report_kit import example_facts, set_up_hub, write
from tests.harness import HubUnderTest, clean_environ, run_cli

pytestmark = pytest.mark.slow  # real server and CLI processes


def _tool(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``abusehub ARGS`` as a provider or the oversight runs it: no hub home."""
    import sys
    proc = subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True, text=True,
                          env=clean_environ(), timeout=180)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_file_poll_open_register_and_withdraw_an_anonymous_report(tmp_path: Path) -> None:
    home, work, oversight = tmp_path / "home", tmp_path / "analyst", tmp_path / "oversight"
    for folder in (home, work, oversight):
        folder.mkdir()
    _tool(oversight, "escrow", "keygen", "--private", str(oversight / "o.pem"), "--public", str(oversight / "o.pub.pem"))
    tokens, ids, signed_col = set_up_hub(home, work)
    (home / "oversight.pub.pem").write_bytes((oversight / "o.pub.pem").read_bytes())
    toml = (home / "hub.toml").read_text()  # as the operator edits the [anonymity] table init wrote
    toml = toml.replace('oversight_public_key_file = ""', 'oversight_public_key_file = "oversight.pub.pem"')
    toml = toml.replace("publish_window_seconds = 3600", "publish_window_seconds = 0")
    assert "oversight.pub.pem" in toml and "publish_window_seconds = 0" in toml
    (home / "hub.toml").write_text(toml)
    col = json.loads(run_cli(home, "collection", "add", "Anonymous", "--require-signatures",
                             "--anonymous-submissions", "--json").stdout)
    assert col["anonymous_submissions"] is True
    run_cli(home, "grant", "acme", col["id"], "--read", "--write")
    run_cli(home, "grant", "nosy", col["id"], "--read")
    assert "anonymous submissions" in run_cli(home, "collection", "list").stdout
    write(work / "facts.toml", example_facts(ids["acme"]))

    server = HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"anon": col["id"]}).serve()
    with server:
        common = ["--url", server.url, "--token-file", str(work / "acme.token"), "--key", str(work / "analyst.pem"),
                  "--as", ids["acme"]]
        refused = _tool(work, "report", "new", "facts.toml", "--collection", signed_col, "--anonymous",
                        "--secret-file", "refused.secret", *common, check=False)
        assert refused.returncode == 1 and "does not accept anonymous reports" in refused.stderr
        assert "acme" not in refused.stderr and ids["acme"] not in refused.stderr
        assert not (work / "refused.secret").exists()

        filed = _tool(work, "report", "new", "facts.toml", "--collection", col["id"], "--anonymous",
                      "--secret-file", "report.secret", *common)
        kept = json.loads((work / "report.secret").read_text())
        assert (work / "report.secret").stat().st_mode & 0o777 == 0o600
        assert kept["report_id"] in filed.stdout

        with server.client("nosy") as client:
            objects = [o.data for page in client.pages(col["id"]) for o in page.objects]
        report = next(o for o in objects if o["id"] == kept["report_id"])
        creator = next(o for o in objects if o["id"] == report["created_by_ref"])
        assert creator["name"] == "a registered IaaS provider"
        assert ids["acme"] not in json.dumps(objects) and "Example Cloud" not in json.dumps(objects)

        sealed = run_cli(home, "escrow", "sealed", kept["report_id"], env_extra=server._env).stdout
        write(oversight / "sealed.json", sealed)
        opened = _tool(oversight, "escrow", "open", "--key", str(oversight / "o.pem"), "sealed.json").stdout
        record = json.loads(opened)
        assert (record["submitter"], record["identity_id"], record["report_id"]) == ("acme", ids["acme"], kept["report_id"])
        write(oversight / "opened.json", opened)
        run_cli(home, "escrow", "register", str(oversight / "opened.json"), "--reference", "case 2026-17")
        trail = run_cli(home, "audit", "export").stdout
        assert "anonymous.opened" in trail and "case 2026-17" in trail

        withdrawn = _tool(work, "report", "withdraw", "--anonymous", "--secret-file", "report.secret",
                          "--url", server.url)
        assert f"withdrew {kept['report_id']}" in withdrawn.stdout
        with server.client("nosy") as client:
            left = {o.data["id"] for page in client.pages(col["id"]) for o in page.objects}
        assert kept["report_id"] not in left
        again = _tool(work, "report", "withdraw", "--anonymous", "--secret-file", "report.secret",
                      "--url", server.url, check=False)
        assert again.returncode == 1
