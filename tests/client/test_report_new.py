"""``abusehub report new``: the analyst files a report of an abused account, with the tool.

The tool runs as a subprocess the way an analyst runs it: first against nothing (problems found
before any request), then end to end against a real hub on loopback set up with the CLI as an
operator would; the tests then look for the raw personal values in everything the tool and the
hub wrote or answered. The report service the tool calls is tested in-process in
``test_reports.py``, the client library in ``test_taxii_client.py`` and ``test_retry.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.client.reports import REPORT_TEMPLATE
from hub.client.taxii import TaxiiClient
from hub.pseudonyms import PSEUDONYM_RE
from hub.signing import SIGNATURE_EXTENSION_ID, KeySet, SigningKey
from hub.signing.documents import verify_objects
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from tests.client.report_kit import (
    RAW,
    TEMPLATE_IDENTITY,
    facts_toml,
    raw_in,
    raw_in_bytes,
    set_up_hub,
)
from tests.client.report_kit import write as _write
from tests.harness import HubUnderTest, free_port
from tests.harness import run_cli as run

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"
PROVIDER = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


# -- the tool, before it reaches a hub ----------------------------------------------------------


def test_template_command_prints_the_template(tmp_path: Path) -> None:
    proc = run(tmp_path, "report", "template")
    assert proc.stdout == REPORT_TEMPLATE
    tomllib.loads(proc.stdout)


def _tool(cwd: Path, *args: str, env_extra: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HUB_") and k != "ABUSEHUB_TOKEN"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "hub", "report", "new", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture()
def offline(tmp_path: Path) -> dict[str, Any]:
    """A key, a token file and an API root where nothing listens."""
    run(tmp_path, "key", "generate", "--out", str(tmp_path / "k.pem"))
    _write(tmp_path / "token", "ahub_not_a_real_token\n")
    return {"dir": tmp_path, "api": f"http://127.0.0.1:{free_port()}/api/",
            "common": ["--collection", "c1", "--token-file", str(tmp_path / "token"),
                       "--key", str(tmp_path / "k.pem")]}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"summary": None}, "missing required field 'summary'"),
    ({"summary": "The holder wrote from holder@example.com about it."},
     "summary contains an e-mail address"),
    ({"abuse_types": ["phishing", "phising"]}, "abuse_types[1]: unknown abuse type 'phising'"),
])
def test_facts_problems_stop_before_the_hub(offline: dict[str, Any], changes: dict[str, Any],
                                            expected: str) -> None:
    facts = _write(offline["dir"] / "f.toml", facts_toml(PROVIDER, **changes))
    proc = _tool(offline["dir"], str(facts), "--url", offline["api"], *offline["common"],
                 "--as", PROVIDER)
    assert proc.returncode == 2, proc.stderr
    assert any(line.startswith(f"abusehub: {facts}: {expected}")
               for line in proc.stderr.splitlines()), proc.stderr
    assert "Traceback" not in proc.stderr and raw_in(proc.stdout + proc.stderr) == []


def test_identity_key_token_and_transport_problems_are_one_line(offline: dict[str, Any]) -> None:
    d, api, common = offline["dir"], offline["api"], offline["common"]
    facts = str(_write(d / "f.toml", facts_toml(PROVIDER)))
    other = "identity--0c4f2a1e-5b3d-4e6f-9a8b-7c6d5e4f3a2b"
    cases = [
        ((facts, "--url", api, *common, "--as", other), None, 2,
         f"--as {other} is not the provider the facts name (provider_identity_id {PROVIDER})"),
        ((facts, "--url", api, *common, "--as", "acme"), None, 2,
         "--as takes your organisation's identity id (identity--…), not 'acme'"),
        ((facts, "--url", api, *common[:-1], str(d / "absent.pem"), "--as", PROVIDER), None, 2,
         "cannot read key"),
        ((facts, "--url", api, *common[:-1], str(d / "token"), "--as", PROVIDER), None, 2,
         f"key {d / 'token'}:"),
        ((facts, "--url", api, "--collection", "c1", "--key", str(d / "k.pem"), "--as", PROVIDER),
         None, 2, "no token"),
        ((facts, "--url", "http://hub.example/api/", *common, "--as", PROVIDER), None, 2,
         "plain http to another machine"),
        ((facts, "--url", api, *common, "--as", PROVIDER), None, 1, "cannot reach the hub at"),
        ((facts, "--url", api, "--collection", "c1", "--key", str(d / "k.pem"), "--as", PROVIDER),
         {"ABUSEHUB_TOKEN": "ahub_from_env"}, 1, "cannot reach the hub at"),
    ]
    for args, env, code, fragment in cases:
        proc = _tool(d, *args, env_extra=env)
        assert proc.returncode == code, (fragment, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], (fragment, proc.stderr)
        assert "ahub_" not in proc.stdout + proc.stderr


# -- end to end, against a real hub ---------------------------------------------------------------


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubUnderTest, Path]]:
    """A real hub set up by :func:`_set_up_hub`; the analyst's files in a separate directory."""
    home = tmp_path_factory.mktemp("hub")
    work = tmp_path_factory.mktemp("analyst")
    tokens, ids, col = set_up_hub(home, work)
    with HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"reports": col}).serve() as running:
        yield running, work


class Seen:
    """Everything the hub answered and the tool printed during the end-to-end tests."""

    texts: list[str] = []


def _file(server: HubUnderTest, work: Path, facts: Path, *extra: str, party: str = "acme",
          collection: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = _tool(work, str(facts), "--url", server.api + "/",
                 "--collection", collection or server.collections["reports"],
                 "--token-file", str(work / f"{party}.token"), "--key", str(work / "analyst.pem"),
                 "--as", server.identities["acme"], *extra)
    Seen.texts += [proc.stdout, proc.stderr]
    return proc


def _poll_all(server: HubUnderTest, party: str = "nosy") -> list[dict[str, Any]]:
    url = f"{server.api}/collections/{server.collections['reports']}/objects/"
    objects: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "7"}
    while True:
        r = requests.get(url, params=params, headers={"Accept": TAXII, **server.auth(party)},
                         timeout=30)
        Seen.texts.append(r.text)
        assert r.status_code == 200, r.text
        page = r.json()
        objects += page.get("objects", [])
        if not page.get("more"):
            return objects
        params["next"] = page["next"]


def _submitted(stdout: str) -> tuple[int, str]:
    m = re.search(r"^submitted (\d+) objects of (report--[0-9a-f-]+) to collection", stdout, re.M)
    assert m, stdout
    return int(m.group(1)), m.group(2)


def test_a_new_hub_takes_no_raw_values(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, _ = hub_env
    r = requests.post(f"{server.api}/pseudonyms/", json={"values": [{"kind": "name", "value": "x y"}]},
                      headers=server.auth("acme"), timeout=30)
    Seen.texts.append(r.text)
    assert r.status_code == 403 and "pseudonyms/evaluate" in r.json()["description"], r.text


def test_file_a_report_and_poll_it_back_signed_and_pseudonymised(
        hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    acme = server.identities["acme"]
    # The example file as an analyst fills it in: their identity instead of the placeholder.
    facts = _write(work / "report.toml", REPORT_TEMPLATE.replace(TEMPLATE_IDENTITY, acme))
    proc = _file(server, work, facts, "--out", str(work / "filed.json"))
    print(proc.stdout, proc.stderr)  # shown with -s: the README's example output
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count, report_id = _submitted(proc.stdout)
    assert f"{count} stored, 0 already stored, 0 refused" in proc.stdout.splitlines()

    filed = json.loads((work / "filed.json").read_text())["objects"]
    assert len(filed) == count and filed[-1]["id"] == report_id
    polled = {o["id"]: o for o in _poll_all(server)}
    assert {o["id"] for o in filed} <= set(polled)
    report = polled[report_id]
    assert set(report["object_refs"]) | {report_id} == {o["id"] for o in filed}

    # Signed by the analyst's key, as the provider; anyone can check with the published keys.
    key_id = SigningKey.from_pem((work / "analyst.pem").read_bytes()).key_id
    keys = requests.get(f"{server.api}/keys/", timeout=30).json()
    mine = [polled[o["id"]] for o in filed]
    for obj in mine:
        (sig,) = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
        assert (sig["signer"], sig["key_id"]) == (acme, key_id)
    verdicts = verify_objects(mine, KeySet.from_jwks(keys), time.time_ns() // 1000)
    assert [v for v in verdicts if not v.ok] == []

    # The account carries hub-made pseudonyms of every personal value, and no raw value.
    (account,) = [o for o in mine if o["type"] == "user-account"]
    ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    assert set(ext["pseudonyms"]) == set(RAW)
    assert all(PSEUDONYM_RE.match(p) for p in [*ext["pseudonyms"].values(),
                                               ext["provider_account_pseudonym"]])
    # Oblivious, under the hub's key: another party blinding the same value gets the same one.
    with TaxiiClient(server.api + "/", token=server.tokens["nosy"]) as nosy:
        assert nosy.pseudonymise([("email", RAW["email"])]) == [ext["pseudonyms"]["email"]]
    assert ext["pseudonyms"]["email"].startswith("poprf-r255:")


def test_the_same_facts_filed_twice(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    facts = _write(work / "twice.toml", facts_toml(server.identities["acme"],
                                                   resources=["198.51.100.23", "c2.example"]))
    first = _file(server, work, facts)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _file(server, work, facts, "--out", str(work / "twice.json"))
    assert second.returncode == 0, second.stdout + second.stderr
    count, _ = _submitted(second.stdout)
    objects = json.loads((work / "twice.json").read_text())["objects"]
    # The provider's identity and the SCOs (deterministic ids) were there already; the SDOs
    # and SROs of the second report are new.
    again = [o["id"] for o in objects if o["type"] in
             ("identity", "user-account", "ipv4-addr", "domain-name")]
    assert len(again) == 4
    assert f"{count - 4} stored, 4 already stored, 0 refused" in second.stdout.splitlines()
    for oid in again:
        assert f"already stored  {oid}" in second.stdout.splitlines()


def test_dry_run_submits_nothing(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    before = len(_poll_all(server))
    facts = _write(work / "dry.toml", facts_toml(server.identities["acme"],
                                                 resources=["192.0.2.99"]))
    proc = _file(server, work, facts, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    bundle = json.loads(proc.stdout)
    assert bundle["type"] == "bundle" and bundle["objects"][-1]["type"] == "report"
    assert all(SIGNATURE_EXTENSION_ID in o["extensions"] for o in bundle["objects"])
    assert "nothing submitted" in proc.stderr
    assert len(_poll_all(server)) == before


def test_the_hub_refusing_is_one_line_with_its_description(hub_env: tuple[HubUnderTest, Path]) -> None:
    server, work = hub_env
    facts = _write(work / "f.toml", facts_toml(server.identities["acme"]))
    _write(work / "bad.token", "ahub_wrong\n")
    cases = [
        (dict(party="bad"), "did not accept the token (401)"),
        (dict(party="nosy"), "(403)"),  # nosy may read the collection, not write it
        (dict(collection="9b3a4c2e-0000-4000-8000-000000000000"), "(404)"),
    ]
    for kwargs, fragment in cases:
        proc = _file(server, work, facts, **kwargs)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], proc.stderr
    # Refused objects are listed with their reasons, and the exit is non-zero: a key the hub
    # does not know for acme.
    run(work, "key", "generate", "--out", str(work / "stray.pem"))
    proc = _tool(work, str(facts), "--url", server.api + "/", "--collection",
                 server.collections["reports"], "--token-file", str(work / "acme.token"),
                 "--key", str(work / "stray.pem"), "--as", server.identities["acme"])
    Seen.texts += [proc.stdout, proc.stderr]
    assert proc.returncode == 1
    assert re.search(r"^0 stored, \d+ already stored, \d+ refused$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^refused  report--\S+: .*unknown", proc.stdout, re.M), proc.stdout


def test_new_facts_about_an_account_already_reported_are_kept(hub_env: tuple[HubUnderTest, Path]) -> None:
    """A user-account is a STIX cyber-observable: no ``modified``, no versions. A later report
    about the same account with new facts (later last_seen, terminated) must not be answered
    "already stored" and lose them: it carries a new account object, linked by the pseudonym."""
    server, work = hub_env
    acme = server.identities["acme"]
    first = _write(work / "first.toml", facts_toml(acme))
    proc = _file(server, work, first, "--out", str(work / "first.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    later = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    second = _write(work / "second.toml", facts_toml(
        acme, last_seen=later, action_taken="terminated",
        action_taken_at=datetime(2025, 3, 1, 1, 0, tzinfo=UTC)))
    proc = _file(server, work, second, "--out", str(work / "second.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def account_of(path: Path) -> dict[str, Any]:
        (account,) = [o for o in json.loads(path.read_text())["objects"] if o["type"] == "user-account"]
        return account

    old, new = account_of(work / "first.json"), account_of(work / "second.json")
    assert new["id"] != old["id"] and new["user_id"] == old["user_id"]
    assert f"already stored  {new['id']}" not in proc.stdout.splitlines()
    polled = {o["id"]: o for o in _poll_all(server)}
    for sent, facts in ((old, ("2025-02-14T02:40:00.000Z", "suspended")),
                        (new, ("2025-03-01T00:00:00.000Z", "terminated"))):
        ext = polled[sent["id"]]["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
        assert (ext["last_seen"], ext["action_taken"]) == facts
    # Both reports are found from the account's pseudonym.
    reports = {o["id"] for o in polled.values()
               if o["type"] == "report" and {old["id"], new["id"]} & set(o["object_refs"])}
    found = requests.get(f"{server.api}/correlations/", params={"pseudonym": new["user_id"]},
                         headers=server.auth("acme"), timeout=30).json()["correlations"]
    assert reports <= {c["report"] for c in found} and len(reports) >= 2
    # Filing the same facts again changes nothing.
    again = _file(server, work, second)
    assert again.returncode == 0 and f"already stored  {new['id']}" in again.stdout.splitlines()


def test_rate_limited_pseudonyms_are_asked_again_once(tmp_path: Path) -> None:
    # A hub allowing 60 values a minute and party (counted in the database): after the test
    # spends them, the tool's 6 values must wait for the bucket to refill, then go through.
    home, work = tmp_path / "hub", tmp_path / "analyst"
    work.mkdir()
    tokens, ids, col = set_up_hub(home, work)
    # The raw-value endpoint is turned on only to spend the allowance quickly: the tool's own
    # request goes to pseudonyms/evaluate, which counts against the same allowance.
    server = HubUnderTest.existing(home, tokens=tokens, identities=ids, collections={"reports": col}).serve(
        env={"HUB_PSEUDONYMS_PER_MINUTE": "60", "HUB_PSEUDONYMS_ACCEPT_RAW_VALUES": "true"}, workers=1)
    try:
        spend = {"values": [{"kind": "name", "value": f"n{i}"} for i in range(60)]}
        assert requests.post(f"{server.api}/pseudonyms/", json=spend, headers=server.auth("acme"),
                             timeout=30).status_code == 200
        facts = _write(work / "f.toml", facts_toml(ids["acme"]))
        proc = _file(server, work, facts, "--dry-run")
        assert proc.returncode == 0, proc.stderr
        assert "rate-limiting pseudonym requests: asking again in" in proc.stderr
        assert json.loads(proc.stdout)["objects"][-1]["type"] == "report"
        assert raw_in(server.read_log() + proc.stdout + proc.stderr) == []
    finally:
        server.close()


def test_no_raw_value_anywhere(hub_env: tuple[HubUnderTest, Path]) -> None:
    """Runs last in this module: every answer, every output, the log and every hub file."""
    server, work = hub_env
    assert len(Seen.texts) > 10
    for text in Seen.texts:
        assert raw_in(text) == []
    assert raw_in(server.read_log()) == []
    for path in server.home.rglob("*"):
        if path.is_file():
            assert raw_in_bytes(path.read_bytes()) == [], path
    for path in work.iterdir():
        if path.suffix != ".toml":  # the analyst's own facts files hold the raw values
            assert raw_in(path.read_text(errors="replace")) == [], path
    for name in ("acme", "nosy"):
        assert server.tokens[name] not in "".join(Seen.texts) + server.read_log()
