"""Token keys reach a peer hub by themselves, on real processes: hub B pulls from hub A over an
ordinary link, and the link's turn (``abusehub federate --once``) copies A's token key directory
without any ``token copy-keys``; a provider of A fetches tokens and files anonymously with B's copy
as its second source. Then A changes the key it serves for the epoch (a hub tailoring keys): B's
next turn refuses it, logs and audits it, serves it as refused and shows it in ``token keys``,
and the provider's client refuses A's key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete

from hub.anonymity.escrow import OversightPrivateKey
from hub.store.submission_tokens import token_keys
from tests.client.report_kit import facts_toml
from tests.federation.procs import TOML, FedHub, make_fed_hub, peer
from tests.harness import run_cli

pytestmark = pytest.mark.slow  # two served hubs, federate and CLI processes

ANONYMITY = '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[FedHub, FedHub, OversightPrivateKey]]:
    oversight = OversightPrivateKey.generate()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    a = make_fed_hub(tmp_path, "a", ["b"], alice=True, toml='[hub]\ntitle = "hub-alpha"\n' + TOML + ANONYMITY)
    try:
        b = make_fed_hub(tmp_path, "b", ["a"], toml='[hub]\ntitle = "hub-beta"\n' + TOML)
    except BaseException:
        a.close()
        raise
    try:
        a.cli("collection", "edit", a.collection, "--anonymous-submissions")
        _link(b, a, tmp_path)
        yield a, b, oversight
    finally:
        b.close()
        a.close()


def _link(b: FedHub, a: FedHub, tmp_path: Path) -> None:
    """B's peer A (at A's current address) and B's link pulling A's collection."""
    peer(b, a, tmp_path)
    b.cli("link", "add", "hub-a", "--pull", a.collection, "--into", b.collection)


def _copies_url(b: FedHub, issuer: str) -> str:
    return f"{b.url}anonymity/token-keys/copies/?issuer={issuer}"


def test_a_link_copies_the_peers_token_keys_and_refuses_a_changed_one(
        hubs: tuple[FedHub, FedHub, OversightPrivateKey], tmp_path: Path) -> None:
    a, b, oversight = hubs
    directory = requests.get(f"{a.url}anonymity/token-keys/", timeout=30).json()
    assert directory["issuer"] == "hub-alpha"
    [key] = directory["keys"]
    assert requests.get(_copies_url(b, "hub-alpha"), timeout=30).json()["keys"] == []

    b.cli("federate", "--once")  # one turn of B's link: no copy-keys anywhere
    copies = requests.get(_copies_url(b, "hub-alpha"), timeout=30).json()
    assert [(c["epoch"], c["token_key_id"]) for c in copies["keys"]] == [(key["epoch"], key["token_key_id"])]
    assert copies["refused"] == []
    shown = json.loads(b.cli("token", "keys").stdout)
    assert [(c["issuer"], c["token_key_id"]) for c in shown["copies"]] == [("hub-alpha", key["token_key_id"])]

    # Alice, a provider of A, checks A's key against B's copy, fetches tokens and files with one.
    work = tmp_path / "work"
    work.mkdir()
    (work / "alice.pem").write_bytes(a.keys["alice"].to_pem())
    (work / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    (work / "facts.toml").write_text(facts_toml(a.identities["alice"]), encoding="utf-8")
    tokens = work / "tokens.json"
    second = _copies_url(b, "hub-alpha")
    fetched = run_cli(work, "token", "fetch", "--url", a.url, "--token-file", str(a.token_file("alice")),
                      "--count", "2", "--tokens", str(tokens), "--check-with", second, "--json")
    assert json.loads(fetched.stdout)["fetched"] == 2
    filed = run_cli(work, "report", "new", str(work / "facts.toml"), "--url", a.url, "--collection", a.collection,
                    "--token-file", str(a.token_file("alice")), "--key", str(work / "alice.pem"),
                    "--as", a.identities["alice"], "--anonymous", "--secret-file", str(work / "secret.json"),
                    "--tokens", str(tokens), "--check-with", second,
                    "--oversight-key", str(work / "oversight.pub.pem"))
    assert "filed anonymously with a token" in filed.stdout

    # A serves another key for the same epoch (its key dropped, another made on the next request).
    a.stop()
    with a.services() as hub:
        with hub.store.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(delete(token_keys).where(token_keys.c.epoch == key["epoch"]))
    a.restart()
    tailored = requests.get(f"{a.url}anonymity/token-keys/", timeout=30).json()["keys"][0]
    assert tailored["epoch"] == key["epoch"] and tailored["token_key_id"] != key["token_key_id"]
    b.cli("peer", "remove", "hub-a")  # A's new address (its server was restarted on another port)
    _link(b, a, tmp_path)

    turn = b.cli("federate", "--once")
    assert "not the one copied before" in turn.stdout + turn.stderr
    copies = requests.get(_copies_url(b, "hub-alpha"), timeout=30).json()
    assert [c["token_key_id"] for c in copies["keys"]] == [key["token_key_id"]]  # the first copy stays
    assert [(r["epoch"], r["token_key_id"]) for r in copies["refused"]] == [(key["epoch"], tailored["token_key_id"])]
    shown = json.loads(b.cli("token", "keys").stdout)
    assert shown["refused"] == copies["refused"]
    with b.services() as hub:
        hub.audit.flush()
        conflicts = [r.data for r in hub.audit.export() if r.kind == "submission-token.keys.conflict"]
    assert conflicts == [{"issuer": "hub-alpha", "epoch": key["epoch"], "offered": tailored["token_key_id"],
                          "source": f"{a.url}anonymity/token-keys/"}]
    # The provider's client, checking against B's copy, refuses A's new key.
    refused = run_cli(work, "token", "fetch", "--url", a.url, "--token-file", str(a.token_file("alice")),
                      "--count", "1", "--tokens", str(work / "more.json"), "--check-with", second, check=False)
    assert refused.returncode == 1 and "shows another key" in refused.stderr
    assert not (work / "more.json").exists()
