"""Rotating one party's API token without downtime: issue a second token, move to it, revoke the
first by its id, while the other stays valid.

The rotation itself runs as an operator runs it (the ``abusehub`` command in real processes, a
real hub home) against a real server on loopback. The service rules run over the ``hub`` fixture
(SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from hub.common.errors import BadRequest, NotFound, Unauthorized
from hub.services.access.auth import hash_token
from hub.services.hub import Hub
from tests.harness import run_cli as run
from tests.harness import start_server, stop_server


def _no_secret(text: str, *tokens: str) -> None:
    for token in tokens:
        assert token not in text and hash_token(token) not in text


@pytest.mark.slow
def test_rotate_one_token_while_the_server_runs(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run(home, "init")
    first = json.loads(run(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)
    old_token, old_id = first["token"], first["token_id"]
    assert isinstance(old_id, int)
    col = json.loads(run(home, "collection", "add", "Reports", "--json").stdout)
    run(home, "grant", "acme", col["id"], "--read")

    running = start_server(home, workers=2)  # two workers: neither may keep accepting the old token
    try:
        url = f"{running.api}/collections/"

        def status(token: str) -> set[int]:
            return {requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
                    for _ in range(6)}

        assert status(old_token) == {200}

        # Issue the second token: the token alone on stdout (easy to capture), its id on stderr.
        issued = run(home, "party", "token", "acme", "--label", "rotated-2026")
        new_token = issued.stdout.strip()
        assert issued.stdout == new_token + "\n" and new_token.startswith("ahub_")
        assert "token id" in issued.stderr
        new_id = int(issued.stderr.split("token id ", 1)[1].split()[0])
        assert new_id != old_id
        _no_secret(issued.stderr, new_token)
        assert status(new_token) == {200} and status(old_token) == {200}  # both valid meanwhile

        # Both are listed as active, by id, with no secret in the listing.
        listing = run(home, "party", "tokens", "acme", "--json")
        tokens = json.loads(listing.stdout)
        assert [(t["id"], t["label"], t["active"], t["revoked"]) for t in tokens] == [
            (old_id, "initial", True, None), (new_id, "rotated-2026", True, None)]
        table = run(home, "party", "tokens", "acme")
        lines = table.stdout.splitlines()
        assert lines[0].split() == ["ID", "STATUS", "CREATED", "REVOKED", "LABEL"]
        assert [line.split()[:2] for line in lines[1:]] == [[str(old_id), "active"], [str(new_id), "active"]]
        for out in (listing, table):
            _no_secret(out.stdout + out.stderr, old_token, new_token)

        # Revoke the first by id: the old token is refused at once, the new one still works.
        revoked = run(home, "party", "token", "acme", "--revoke", str(old_id))
        assert revoked.stdout.startswith(f"revoked token {old_id} of acme")
        assert status(old_token) == {401}
        assert status(new_token) == {200}

        after = {t["id"]: t for t in json.loads(run(home, "party", "tokens", "acme", "--json").stdout)}
        assert after[old_id]["active"] is False and after[old_id]["revoked"].endswith("Z")
        assert after[new_id]["active"] is True and after[new_id]["revoked"] is None

        _no_secret(running.read_log(), old_token, new_token)
    finally:
        stop_server(running)

    # The audit trail names the revoked token by id, never by the token or its hash.
    audit = run(home, "audit", "export").stdout
    records = [json.loads(line) for line in audit.splitlines()]
    revokes = [r for r in records if r["kind"] == "token.revoke"]
    assert [r["data"] for r in revokes] == [{"token_id": old_id, "label": "initial"}]
    assert [r["data"]["token_id"] for r in records if r["kind"] == "token.issue"] == [old_id, new_id]
    _no_secret(audit, old_token, new_token)


@pytest.mark.slow
def test_revoke_by_id_errors_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run(home, "init")
    acme = json.loads(run(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)
    other = json.loads(run(home, "party", "add", "other", "--kind", "provider", "--json").stdout)

    # An unknown id.
    proc = run(home, "party", "token", "acme", "--revoke", "9999", check=False)
    assert proc.returncode == 1 and "no token with id 9999" in proc.stderr and "Traceback" not in proc.stderr

    # Another party's id: refused, and that party's token stays active.
    proc = run(home, "party", "token", "acme", "--revoke", str(other["token_id"]), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"token {other['token_id']} is not a token of party 'acme'" in proc.stderr
    assert json.loads(run(home, "party", "tokens", "other", "--json").stdout)[0]["active"] is True

    # Revoking twice: the second time says so and changes nothing.
    run(home, "party", "token", "acme", "--revoke", str(acme["token_id"]))
    listed = json.loads(run(home, "party", "tokens", "acme", "--json").stdout)
    again = run(home, "party", "token", "acme", "--revoke", str(acme["token_id"]))
    assert f"token {acme['token_id']} of acme was already revoked at {listed[0]['revoked']}" in again.stdout
    assert "nothing changed" in again.stdout
    as_json = json.loads(run(home, "party", "token", "acme", "--revoke", str(acme["token_id"]), "--json").stdout)
    assert as_json["revoked_now"] is False and as_json["revoked"] == listed[0]["revoked"]
    assert json.loads(run(home, "party", "tokens", "acme", "--json").stdout) == listed

    # An unknown party, and options that do not go together.
    proc = run(home, "party", "token", "nobody", "--revoke", "1", check=False)
    assert proc.returncode == 1 and "no party named 'nobody'" in proc.stderr
    proc = run(home, "party", "tokens", "nobody", check=False)
    assert proc.returncode == 1 and "no party named 'nobody'" in proc.stderr
    for args in (("--revoke", "1", "--revoke-all"), ("--revoke", "1", "--label", "x")):
        proc = run(home, "party", "token", "acme", *args, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run(home, "party", "token", "acme", "--revoke", "abc", check=False)
    assert proc.returncode == 2 and "not a valid integer" in proc.stderr

    # --revoke-all still revokes whatever is left, and issuing with --json gives id and token.
    issued = json.loads(run(home, "party", "token", "acme", "--label", "ci", "--json").stdout)
    assert issued["party"] == "acme" and issued["label"] == "ci" and issued["token"].startswith("ahub_")
    assert json.loads(run(home, "party", "token", "acme", "--revoke-all", "--json").stdout) == {
        "party": "acme", "revoked": 1}
    assert not any(t["active"] for t in json.loads(run(home, "party", "tokens", "acme", "--json").stdout))
    assert run(home, "party", "tokens", "other").stdout.count("active") == 1


def test_revoke_token_service(hub: Hub) -> None:
    _party, first = hub.admin.add_party_with_token("acme", "provider")
    _other, others = hub.admin.add_party_with_token("other", "agency")
    second = hub.admin.issue("acme", "rotated")
    assert "ahub_" not in repr(second)  # the token stays out of reprs, so out of logs
    assert [(t.id, t.label, t.active) for t in hub.admin.list_tokens("acme")] == [
        (first.id, "initial", True), (second.id, "rotated", True)]

    outcome = hub.admin.revoke_token("acme", first.id)
    assert outcome.revoked_now and outcome.record.revoked_us is not None
    with pytest.raises(Unauthorized):
        hub.access.authenticate(first.token)
    assert hub.access.authenticate(second.token).party.name == "acme"

    again = hub.admin.revoke_token("acme", first.id)
    assert not again.revoked_now and again.record.revoked_us == outcome.record.revoked_us

    with pytest.raises(NotFound, match="no token with id"):
        hub.admin.revoke_token("acme", max(first.id, second.id, others.id) + 100)
    for unknown in (0, -1, 2**31, 10**30):
        with pytest.raises(NotFound, match="no token with id"):
            hub.admin.revoke_token("acme", unknown)
    with pytest.raises(BadRequest, match="not a token of party 'acme'"):
        hub.admin.revoke_token("acme", others.id)
    with pytest.raises(NotFound, match="no party"):
        hub.admin.revoke_token("nobody", first.id)
    assert hub.access.authenticate(others.token).party.name == "other"
    assert [t.active for t in hub.admin.list_tokens("acme")] == [False, True]

    kinds = [(r.kind, r.data) for r in hub.store.iter_audit() if r.kind.startswith("token.")]
    assert ("token.revoke", {"token_id": first.id, "label": "initial"}) in kinds
    assert sum(1 for k, _ in kinds if k == "token.revoke") == 1  # the repeat recorded nothing


def test_a_label_no_database_would_store_alike_is_refused(hub: Hub) -> None:
    hub.admin.add_party("acme", "provider")
    with pytest.raises(BadRequest, match="label is 201 characters long: at most 200"):
        hub.admin.issue("acme", "x" * 201)
    with pytest.raises(BadRequest, match="U\\+0000"):
        hub.admin.issue("acme", "ci\x00")
    assert [t.label for t in hub.admin.list_tokens("acme")] == ["initial"]
    assert hub.admin.issue("acme", "y" * 200).label == "y" * 200
