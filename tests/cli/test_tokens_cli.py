"""``abusehub token fetch`` and ``abusehub report new --anonymous --tokens``, run as a provider runs
them, against a real hub served on loopback (the token mode, docs/ANONYMITY.md).

The provider fetches tokens (its key checked against a second route to the same directory), files
a report with one of them (sent with no credential: the server's log shows no party for it), and
the oversight opens the record the tool sealed. A second source that shows another key makes both
commands refuse before anything is fetched or filed; a second token run for the same report spends
another token, and a file with no token left stops with one line. Starts servers: slow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.anonymity import blindrsa
from hub.anonymity.escrow import EscrowRecord, OversightPrivateKey, open_sealed, seal
from hub.anonymity.tokens import token_key_id
from hub.common.canonical import b64url_decode, b64url_encode
from tests.client.report_kit import facts_toml
from tests.harness import TEST_TOML, HubUnderTest, free_port, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubUnderTest, OversightPrivateKey, Path]]:
    home = tmp_path_factory.mktemp("token-cli") / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = (TEST_TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
            "tokens_per_epoch = 5\n")
    hut = HubUnderTest.build(home, toml=toml, keys_for=("alice",), prepare=True)
    hut.hub.anonymous.set_allowed(hut.collections["reports"], True)
    work = home.parent / "work"
    work.mkdir()
    (work / "alice.pem").write_bytes(hut.keys["alice"].to_pem())
    (work / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    (work / "facts.toml").write_text(facts_toml(hut.identities["alice"]), encoding="utf-8")
    with hut.serve(workers=1):
        yield hut, oversight, work


def _routes(hut: HubUnderTest) -> tuple[str, str]:
    """The API root, and the same directory by another route (localhost for 127.0.0.1)."""
    api = hut.url
    return api, api.replace("127.0.0.1", "localhost") + "anonymity/token-keys/"


class Tailored:
    """A second source that shows another key for the hub: what a hub tailoring keys is caught by."""

    def __init__(self, directory: dict[str, Any]) -> None:
        other = blindrsa.PrivateKey.generate(2048).public_key
        body = json.dumps({**directory, "keys": [{**directory["keys"][0], "public_key": b64url_encode(other.spki()),
                                                   "token_key_id": b64url_encode(token_key_id(other))}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/anonymity/token-keys/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _report_args(hut: HubUnderTest, work: Path, tokens: Path, check: str, secret: str) -> list[str]:
    api, _ = _routes(hut)
    return ["report", "new", str(work / "facts.toml"), "--url", api, "--collection", hut.collections["reports"],
            "--token-file", str(hut.token_file("alice")), "--key", str(work / "alice.pem"),
            "--as", hut.identities["alice"], "--anonymous", "--secret-file", str(work / secret),
            "--tokens", str(tokens), "--check-with", check, "--oversight-key", str(work / "oversight.pub.pem")]


def test_fetch_then_file_with_a_token(served: tuple[HubUnderTest, OversightPrivateKey, Path]) -> None:
    hut, oversight, work = served
    api, second = _routes(hut)
    tokens = work / "tokens.json"
    fetched = run_cli(work, "token", "fetch", "--url", api, "--token-file", str(hut.token_file("alice")),
                      "--count", "2", "--tokens", str(tokens), "--check-with", second, "--json")
    answer = json.loads(fetched.stdout)
    assert (answer["fetched"], answer["kept"], answer["holders_this_epoch"]) == (2, 2, 1)
    assert tokens.stat().st_mode & 0o777 == 0o600
    listed = run_cli(work, "token", "list", "--tokens", str(tokens), "--json")
    assert json.loads(listed.stdout)[0]["tokens"] == 2

    log_before = len(hut.read_log())
    filed = run_cli(work, *_report_args(hut, work, tokens, second, "secret-1.json"))
    assert "filed anonymously with a token" in filed.stdout
    assert "only 1 party holds tokens of this epoch" in filed.stderr  # the set it hides in, told
    kept = json.loads((work / "secret-1.json").read_text())
    assert len(json.loads(tokens.read_text())["tokens"]) == 1
    # The filing's log line names no party; the token is spent: published as anonymous.
    lines = [json.loads(line) for line in hut.read_log()[log_before:].splitlines() if line.startswith("{")]
    redeemed = [line for line in lines if line.get("endpoint") == "tokens.redeem_token"]
    assert redeemed and all(not line.get("party") for line in redeemed)
    with hut.services() as hub:
        hub.anonymous.flush_due()
        sealed = hub.anonymous.sealed_record(kept["report_id"])
    record = open_sealed(sealed, oversight)
    assert (record.submitter, record.identity_id) == (hut.identities["alice"], hut.identities["alice"])
    assert record.key_id == hut.keys["alice"].key_id
    with hut.client("gov") as gov:
        text = json.dumps([o.data for page in gov.pages(hut.collections["reports"]) for o in page.objects])
    assert kept["report_id"] in text and hut.identities["alice"] not in text

    # The same facts again: another token is spent; with none left, one line and nothing sent.
    run_cli(work, *_report_args(hut, work, tokens, second, "secret-2.json"))
    empty = run_cli(work, *_report_args(hut, work, tokens, second, "secret-3.json"), check=False)
    assert empty.returncode == 1 and "no token of" in empty.stderr
    assert not (work / "secret-3.json").exists()


def test_a_key_a_second_source_does_not_show_is_refused(served: tuple[HubUnderTest, OversightPrivateKey, Path]) -> None:
    hut, _oversight, work = served
    api, second = _routes(hut)
    directory = requests.get(second, timeout=30).json()
    tailored = Tailored(directory)
    try:
        tokens = work / "tokens-refused.json"
        fetched = run_cli(work, "token", "fetch", "--url", api, "--token-file", str(hut.token_file("alice")),
                          "--count", "1", "--tokens", str(tokens), "--check-with", tailored.url, check=False)
        assert fetched.returncode == 1 and "shows another key" in fetched.stderr
        assert not tokens.exists()
        # Tokens fetched with a good check are not redeemed when the check fails at filing time.
        run_cli(work, "token", "fetch", "--url", api, "--token-file", str(hut.token_file("alice")),
                "--count", "1", "--tokens", str(tokens), "--check-with", second)
        filed = run_cli(work, *_report_args(hut, work, tokens, tailored.url, "secret-refused.json"), check=False)
        assert filed.returncode == 1 and "shows another key" in filed.stderr
        assert len(json.loads(tokens.read_text())["tokens"]) == 1  # not taken: nothing was sent
    finally:
        tailored.close()


def test_token_options_need_each_other(served: tuple[HubUnderTest, OversightPrivateKey, Path]) -> None:
    hut, _oversight, work = served
    api, _ = _routes(hut)
    proc = run_cli(work, "report", "new", str(work / "facts.toml"), "--url", api, "--collection", "x",
                   "--token-file", str(hut.token_file("alice")), "--key", str(work / "alice.pem"),
                   "--as", hut.identities["alice"], "--tokens", str(work / "none.json"), check=False)
    assert proc.returncode == 2
    assert "--anonymous, --secret-file, --check-with, --oversight-key" in proc.stderr


def test_escrow_open_shows_the_submitters_key_and_signature(tmp_path: Path) -> None:
    """A record made by the submitter's client opens with 'escrow open', which prints the key it
    was signed with and the signature (a record the hub made prints neither)."""
    from hub.client.tokens import seal_submitter_record
    from hub.signing import SigningKey

    oversight = OversightPrivateKey.generate()
    (tmp_path / "oversight.pem").write_bytes(oversight.to_pem())
    key = SigningKey.generate()
    objects = [{"type": "note", "id": "note--6e1d5a2e-0a51-4e0a-9d3f-2a6b0f1c9d11"}]
    sealed = seal_submitter_record(key, "acme", "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", objects,
                                   "sha256:" + "ab" * 32, "hub.example", oversight.public_key)
    (tmp_path / "record.json").write_text(json.dumps(sealed))
    opened = json.loads(run_cli(tmp_path, "escrow", "open", "--key", str(tmp_path / "oversight.pem"),
                                str(tmp_path / "record.json")).stdout)
    assert opened["key_id"] == key.key_id
    record = open_sealed(sealed, oversight)
    assert opened["signature"] == record.signature
    assert key.public_key.verify(b64url_decode(record.signature), record.signing_input())
    assert opened["signature_check"] == "not checked: give --keys (the hub's key set)"

    def checked(identity: str, **validity: str) -> str:
        """What 'escrow open --keys' says of the record against a key set publishing ``key``
        for ``identity`` (as GET keys/ does)."""
        jwk = {**key.public_key.to_jwk(), "identity": identity, "party": "acme",
               "not_before": "2020-01-01T00:00:00Z", **validity}
        (tmp_path / "keys.json").write_text(json.dumps({"keys": [jwk]}))
        out = run_cli(tmp_path, "escrow", "open", "--key", str(tmp_path / "oversight.pem"),
                      "--keys", str(tmp_path / "keys.json"), str(tmp_path / "record.json")).stdout
        return str(json.loads(out)["signature_check"])

    assert checked(record.identity_id) == "holds up"
    assert checked("identity--00000000-0000-4000-8000-000000000000") == (
        f"does not hold up: the key it names ({key.key_id}) is registered to "
        f"identity--00000000-0000-4000-8000-000000000000, not to the identity it names ({record.identity_id})")
    assert checked(record.identity_id, revoked="2021-01-01T00:00:00Z").startswith(
        "does not hold up: the key it names was revoked on 2021-01-01T00:00:00")
    # A record whose signature was made by another key than the one it names.
    forged = seal(EscrowRecord(record.submitter, record.identity_id, record.report_id, record.report_hash,
                               record.time, key_id=key.key_id,
                               signature=b64url_encode(SigningKey.generate().sign(record.signing_input()))),
                  oversight.public_key, "hub.example")
    (tmp_path / "record.json").write_text(json.dumps(forged))
    assert checked(record.identity_id) == "does not hold up: its signature does not verify with the key it names"

    for text, says in (("[1, 2", "is not a key set (not JSON)"),
                       ('{"nope": 1}', 'is not a usable key set: a JWK set must be a JSON object with a "keys" list')):
        (tmp_path / "keys.json").write_text(text)
        refused = run_cli(tmp_path, "escrow", "open", "--key", str(tmp_path / "oversight.pem"),
                          "--keys", str(tmp_path / "keys.json"), str(tmp_path / "record.json"), check=False)
        assert refused.returncode != 0 and says in refused.stderr, refused.stderr


def test_an_operator_copies_a_peer_hubs_token_keys(served: tuple[HubUnderTest, OversightPrivateKey, Path],
                                                   tmp_path: Path) -> None:
    """'token keys' prints a hub's directory; 'token copy-keys URL' on another hub keeps it, and
    that hub serves the copy as a second source the client accepts."""
    from hub.client.tokens import check_key_consistency, read_directory

    hut, _oversight, _work = served
    api, _ = _routes(hut)
    own = json.loads(run_cli(hut.home, "token", "keys").stdout)
    assert own["keys"] == requests.get(api + "anonymity/token-keys/", timeout=30).json()["keys"]
    with HubUnderTest.build(tmp_path / "peer", toml='[hub]\ntitle = "peer hub"\n' + TEST_TOML) as peer:
        first = run_cli(peer.home, "token", "copy-keys", api + "anonymity/token-keys/")
        assert first.stdout.strip() == f"{own['issuer']} epoch {own['keys'][0]['epoch']}: kept"
        assert run_cli(peer.home, "token", "copy-keys", api + "anonymity/token-keys/").returncode == 0
        copy = peer.http.get(f"{peer.api}/anonymity/token-keys/copies/?issuer={own['issuer']}").get_json()
        check_key_consistency(read_directory(own), copy, "the peer's copy")
        # A directory that cannot be fetched: one line, nothing kept.
        unreachable = f"http://127.0.0.1:{free_port()}/api/anonymity/token-keys/"
        refused = run_cli(peer.home, "token", "copy-keys", unreachable, check=False)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "cannot reach" in refused.stderr
