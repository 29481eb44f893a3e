"""Filing anonymously with blind-signed submission tokens (the token mode), over the hub's HTTP API
in-process (SQLite and PostgreSQL): the key directory, issuance and its rate, redemption and every
refusal, key consistency, the client-sealed escrow record, and that nothing the hub holds ties an
issuance to a redemption.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select

from hub.anonymity import blindrsa
from hub.anonymity.escrow import EscrowRecord, OversightPrivateKey, open_sealed
from hub.anonymity.filing import ANONYMOUS_NAME, WITHDRAWAL_PROPERTY, commitment, new_secret
from hub.anonymity.tokens import Token, TokenChallenge, begin_issuance, token_key_id
from hub.client.anonymous import prepare_anonymous_report
from hub.client.errors import ClientError
from hub.client.http import HttpSession
from hub.client.tokens import (
    KeyInconsistent,
    StoredToken,
    TokenWallet,
    check_key_consistency,
    fetch_directory,
    fetch_tokens,
    filing_hash,
    read_directory,
    redeem_token,
    seal_submitter_record,
)
from hub.common.canonical import b64url_decode, b64url_encode
from hub.common.errors import Unavailable
from hub.signing import VerifyKey, unsigned_form
from tests.factories import report_facts
from tests.harness import TEST_TOML, FrozenClock, HubUnderTest

PER_EPOCH = 6
DAY_S = 86_400


class TokenHub:
    """A hub whose "reports" accepts anonymous filings, with a frozen clock, and sessions to it."""

    def __init__(self, hut: HubUnderTest, oversight: Any, clock: FrozenClock) -> None:
        self.hut, self.oversight, self.clock = hut, oversight, clock

    def session(self, party: str | None = None) -> HttpSession:
        return HttpSession(self.hut.url, self.hut.tokens[party] if party else None, transport=self.hut.transport())

    def key(self) -> Any:
        with self.session() as http:
            return read_directory(fetch_directory(http, f"{http.api}anonymity/token-keys/"))

    def tokens(self, party: str, count: int) -> list[StoredToken]:
        key = self.key()
        with self.session(party) as http:
            return fetch_tokens(http, key, count)

    def filing(self, party: str, **extra: Any) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
        """A report of ``party`` ready to file with a token: unsigned objects, a commitment, and
        the escrow record sealed by the client."""
        hut = self.hut
        facts = report_facts(hut.identities[party], **extra)
        prepared = prepare_anonymous_report(hut.client(party), facts, hut.keys[party], hut.identities[party])
        objects = [unsigned_form(o) for o in prepared.objects]
        committed = commitment(new_secret())
        sealed = seal_submitter_record(hut.keys[party], party, hut.identities[party], objects, committed,
                                       self.key().issuer, self.oversight.public_key)
        return objects, committed, sealed

    def redeem(self, token: StoredToken, party: str = "alice", **extra: Any) -> dict[str, Any]:
        objects, committed, sealed = self.filing(party, **extra)
        with self.session() as http:
            return redeem_token(http, self.hut.collections["reports"], objects, committed, sealed, token)

    def post_redeem(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.hut.http.post(f"{self.hut.api}/anonymous/redeem/", data=json.dumps(body),
                                  headers={"Content-Type": "application/json", **(headers or {})})

    def published(self) -> list[dict[str, Any]]:
        self.hut.hub.anonymous.flush_due()
        client = self.hut.client("gov")
        return [o.data for page in client.pages(self.hut.collections["reports"]) for o in page.objects]


@pytest.fixture
def th(backend: str, tmp_path: Path) -> Iterator[TokenHub]:
    home = tmp_path / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()  # its private half stays here, off the hub
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = (TEST_TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
            f"token_epoch_days = 1\ntokens_per_epoch = {PER_EPOCH}\n")
    clock = FrozenClock()
    with HubUnderTest.build(home, backend=backend, toml=toml, keys_for=("alice", "bob", "gov"), prepare=True,
                            clock=clock) as hut:
        hut.hub.anonymous.set_allowed(hut.collections["reports"], True)
        yield TokenHub(hut, oversight, clock)


def _names_no_one(th: TokenHub, text: str) -> None:
    """``text`` holds neither provider's name (as a word: base64 may spell anything) nor identity."""
    for party in ("alice", "bob"):
        assert re.search(rf"(?<![A-Za-z0-9_-]){party}(?![A-Za-z0-9_-])", text, re.IGNORECASE) is None, text
        assert th.hut.identities[party] not in text


# -- the key directory --------------------------------------------------------------------------

def test_the_directory_is_one_key_for_everyone_and_holds_no_private_part(th: TokenHub) -> None:
    answers = [th.hut.http.get(f"{th.hut.api}/anonymity/token-keys/", headers=h)
               for h in ({}, th.hut.auth("alice"), th.hut.auth("bob"), th.hut.auth("gov"))]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1
    doc = answers[0].get_json()
    key = read_directory(doc)
    assert key.issuer == doc["issuer"] and TokenChallenge.decode(key.challenge).issuer_name == key.issuer
    assert key.key_id == token_key_id(blindrsa.PublicKey.from_spki(b64url_decode(doc["keys"][0]["public_key"])))
    # The private key is in the database sealed, and in no answer, file or row in clear.
    private = th.hut.hub.tokens._issuer(key.epoch).private  # noqa: SLF001 - the secret, to look for it
    assert token_key_id(private.public_key) == key.key_id
    numbers = private._key.private_numbers()  # noqa: SLF001
    forms = []
    for secret in (numbers.d, numbers.p, numbers.q):
        raw = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
        forms += [b64url_encode(raw), format(secret, "x")]
    text = answers[0].get_data(as_text=True)
    stored = json.dumps({k: sorted(v) for k, v in _every_value(th).items()})
    home = "".join(p.read_text(errors="replace") for p in th.hut.home.rglob("*") if p.is_file()
                   and p.suffix in (".pem", ".json", ".toml", ".key"))
    for form in forms:
        assert form not in text and form not in stored and form not in home
    assert "PRIVATE" not in text and "PRIVATE KEY" not in stored


def test_a_new_epoch_has_a_new_key_and_old_private_keys_go(th: TokenHub) -> None:
    first = th.key()
    th.clock.advance(DAY_S)
    second = th.key()
    th.clock.advance(DAY_S)
    third = th.key()
    assert len({first.key_id, second.key_id, third.key_id}) == 3
    assert [first.epoch + 1, first.epoch + 2] == [second.epoch, third.epoch]
    rows = {e: th.hut.hub.store.token_key(e) for e in (first.epoch, second.epoch, third.epoch)}
    assert [bool(r and r.sealed_private) for r in rows.values()] == [False, True, True]
    assert th.hut.hub.store.token_key_ids_before(third.epoch) == {first.key_id.hex(), second.key_id.hex()}


def test_every_host_of_the_hub_uses_the_same_key(th: TokenHub, tmp_path: Path) -> None:
    """A second host (its own home with the hub's signing key copied, the same database) serves
    the key the first made; a host with another signing key cannot open it and says why."""
    from hub.config import load_config
    from hub.services.hub import Hub
    from hub.services.keys import HUB_KEY_FILE
    from hub.signing import SigningKey

    key = th.key()
    other_home = tmp_path / "second-host"
    other_home.mkdir()
    (other_home / "hub.toml").write_text((th.hut.home / "hub.toml").read_text())
    (other_home / "oversight.pub.pem").write_bytes((th.hut.home / "oversight.pub.pem").read_bytes())
    (other_home / HUB_KEY_FILE).write_bytes((th.hut.home / HUB_KEY_FILE).read_bytes())
    second = Hub(load_config(other_home, environ={}), th.hut.hub.store, th.clock)
    assert second.tokens.current().key_id == key.key_id
    (token,) = th.tokens("alice", 1)
    assert second.tokens.check_token(token.token).token_key_id == key.key_id  # issued on one, checked on the other
    (other_home / HUB_KEY_FILE).write_bytes(SigningKey.generate().to_pem())
    stranger = Hub(load_config(other_home, environ={}), th.hut.hub.store, th.clock)
    with pytest.raises(Unavailable, match="every host of a hub needs the same hub-signing-key.pem"):
        stranger.tokens.current()


# -- issuance and its rate ----------------------------------------------------------------------

def test_a_provider_is_issued_tokens_that_verify_and_counts_only_are_audited(th: TokenHub) -> None:
    tokens = th.tokens("alice", 3)
    key = th.key()
    assert len({t.token for t in tokens}) == 3
    for t in tokens:
        parsed = Token.decode(b64url_decode(t.token))
        assert parsed.token_key_id == key.key_id
    records = [r for r in th.hut.hub.store.iter_audit() if r.kind == "submission-token.issue"]
    assert [(r.party, r.data) for r in records] == [("alice", {"epoch": key.epoch, "count": 3})]


def test_issuance_is_for_providers_only(th: TokenHub) -> None:
    with pytest.raises(ClientError) as caught:
        th.tokens("gov", 1)
    assert "not issued submission tokens" in str(caught.value)


def test_the_rate_per_provider_per_epoch_is_counted_and_refused_beyond(th: TokenHub) -> None:
    th.tokens("alice", PER_EPOCH - 2)
    with pytest.raises(ClientError) as caught:
        th.tokens("alice", 3)
    assert f"this party's {PER_EPOCH} for epoch" in str(caught.value)
    key = th.key()
    over = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", headers=th.hut.auth("alice"),
                            content_type="application/json",
                            data=json.dumps({"token_key_id": b64url_encode(key.key_id),
                                             "requests": [b64url_encode(begin_issuance(key.public, key.challenge)[0]
                                                                        .encode())] * 3}))
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) == -(-((key.epoch + 1) * DAY_S * 1_000_000 - th.clock()) // 1_000_000)
    assert len(th.tokens("alice", 2)) == 2  # up to the limit exactly
    with pytest.raises(ClientError):
        th.tokens("alice", 1)
    assert th.hut.http.get(f"{th.hut.api}/anonymity/token-keys/").get_json()["holders_this_epoch"] == 1
    assert len(th.tokens("bob", PER_EPOCH)) == PER_EPOCH  # another provider's allowance is its own
    assert th.hut.http.get(f"{th.hut.api}/anonymity/token-keys/").get_json()["holders_this_epoch"] == 2
    th.clock.advance(DAY_S)
    assert len(th.tokens("alice", 1)) == 1  # a new epoch, a new allowance
    refused = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", headers=th.hut.auth("alice"),
                               data=json.dumps({"token_key_id": b64url_encode(th.key().key_id),
                                                "requests": ["AA"] * 1}), content_type="application/json")
    assert refused.status_code == 400


def test_token_requests_for_another_key_or_malformed_are_refused_and_not_counted(th: TokenHub) -> None:
    key = th.key()
    other = blindrsa.PrivateKey.generate(2048).public_key
    request, _ = begin_issuance(other, key.challenge)
    cases = [
        ({"token_key_id": b64url_encode(token_key_id(other)), "requests": [b64url_encode(request.encode())]}, 409),
        ({"token_key_id": b64url_encode(key.key_id), "requests": ["not base64!"]}, 400),
        ({"token_key_id": b64url_encode(key.key_id), "requests": []}, 400),
        ({"token_key_id": b64url_encode(key.key_id)}, 400),
    ]
    for body, status in cases:
        resp = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", headers=th.hut.auth("alice"),
                                data=json.dumps(body), content_type="application/json")
        assert resp.status_code == status, resp.get_data(as_text=True)
    no_auth = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", data="{}", content_type="application/json")
    assert no_auth.status_code == 401
    assert th.hut.hub.store.tokens_issued(th.hut.hub.store.get_party("alice").pk, key.epoch) == 0


# -- redemption ---------------------------------------------------------------------------------

def test_a_token_files_one_anonymous_report_and_the_client_made_record_opens(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    objects, committed, sealed = th.filing("alice")
    with th.session() as http:
        receipt = redeem_token(http, th.hut.collections["reports"], objects, committed, sealed, token)
    published = th.published()
    by_id = {o["id"]: o for o in published}
    assert set(receipt["object_ids"]) <= set(by_id)
    report = by_id[receipt["report_id"]]
    assert by_id[report["created_by_ref"]]["name"] == ANONYMOUS_NAME
    assert report[WITHDRAWAL_PROPERTY] == committed
    _names_no_one(th, json.dumps(published))
    # The escrow record the client sealed is kept beside the report as it came, and opens with
    # the oversight key: the submitter, its identity, the filing's hash, its signature.
    kept = th.hut.hub.anonymous.sealed_record(receipt["report_id"])
    assert kept == sealed
    record = open_sealed(kept, th.oversight)
    assert (record.submitter, record.identity_id) == ("alice", th.hut.identities["alice"])
    assert record.report_id == committed == report[WITHDRAWAL_PROPERTY]
    assert record.report_hash == filing_hash(objects, committed)
    registered = {k.key_id: k for k in th.hut.hub.keys.list("alice")}
    assert record.key_id in registered
    verify_key = VerifyKey.from_jwk(json.loads(registered[record.key_id].jwk_json))
    assert verify_key.verify(b64url_decode(record.signature), record.signing_input())


def test_the_token_may_come_in_the_body_instead_of_the_header(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    objects, committed, sealed = th.filing("alice")
    resp = th.post_redeem({"collection": th.hut.collections["reports"], "objects": objects,
                           "withdrawal_commitment": committed, "sealed_record": sealed, "token": token.token})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert isinstance(resp.get_json()["report_id"], str)


def _refused(th: TokenHub, token: str, expect: int, **extra: Any) -> str:
    objects, committed, sealed = th.filing("alice")
    body = {"collection": th.hut.collections["reports"], "objects": objects, "withdrawal_commitment": committed,
            "sealed_record": sealed, **extra}
    before = th.published()
    resp = th.post_redeem(body, {"Authorization": f'PrivateToken token="{token}"'})
    assert resp.status_code == expect, resp.get_data(as_text=True)
    assert th.published() == before
    assert th.hut.hub.anonymous.anon.next_anonymous_publication() is None
    message = resp.get_data(as_text=True)
    _names_no_one(th, message)
    return str(resp.get_json()["description"])


def test_a_token_spent_twice_is_refused(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    th.redeem(token)
    assert "spent before" in _refused(th, token.token, 409)


def test_a_token_of_a_past_epoch_is_refused(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    th.clock.advance(DAY_S)
    assert "past epoch" in _refused(th, token.token, 403)


def test_a_forged_token_is_refused(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    raw = bytearray(b64url_decode(token.token))
    raw[-1] ^= 1  # the authenticator
    assert "does not verify" in _refused(th, b64url_encode(bytes(raw)), 403)
    raw = bytearray(b64url_decode(token.token))
    raw[5] ^= 1  # the nonce: a token nobody was issued
    assert "does not verify" in _refused(th, b64url_encode(bytes(raw)), 403)
    # A token made with a key of its own, not the hub's.
    own = blindrsa.PrivateKey.generate(2048)
    fake = Token(b"\x01" * 32, b"\x02" * 32, token_key_id(own.public_key), b"\x03" * 256).encode()
    assert "not issued under this hub's current token key" in _refused(th, b64url_encode(fake), 403)
    assert "354 bytes" in _refused(th, b64url_encode(b"short"), 400)


def test_a_refused_filing_spends_no_token(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    message = _refused(th, token.token, 403, collection=th.hut.collections["private"])
    assert "does not accept anonymous reports" in message
    th.redeem(token)  # the same token still files
    assert th.published()


def test_a_redemption_carrying_a_partys_credentials_is_refused(th: TokenHub) -> None:
    (token,) = th.tokens("alice", 1)
    objects, committed, sealed = th.filing("alice")
    resp = th.post_redeem({"collection": th.hut.collections["reports"], "objects": objects,
                           "withdrawal_commitment": committed, "sealed_record": sealed, "token": token.token},
                          th.hut.auth("alice"))
    assert resp.status_code == 400
    assert "carries no credentials" in resp.get_json()["description"]
    twice = th.post_redeem({"collection": th.hut.collections["reports"], "objects": objects,
                            "withdrawal_commitment": committed, "sealed_record": sealed, "token": token.token},
                           {"Authorization": f'PrivateToken token="{token.token}"'})
    assert twice.status_code == 400 and "give the token once" in twice.get_json()["description"]
    th.redeem(token)


# -- key consistency ----------------------------------------------------------------------------

def test_the_client_refuses_a_key_a_second_source_does_not_show(th: TokenHub, hub_factory: Any) -> None:
    key = th.key()
    with th.session() as http:
        directory = fetch_directory(http, f"{http.api}anonymity/token-keys/")
    check_key_consistency(key, directory, "a second route")  # the same document: fine
    # A peer hub's copy, made with 'token copy-keys' and served to anyone.
    peer = hub_factory(toml='[hub]\ntitle = "peer hub"\n' + TEST_TOML)
    kept = peer.hub.tokens.copy_keys(directory, f"{th.hut.url}anonymity/token-keys/")
    assert kept == [(key.epoch, True)]
    copy = peer.http.get(f"{peer.api}/anonymity/token-keys/copies/?issuer={key.issuer}").get_json()
    check_key_consistency(key, copy, "the peer's copy")
    # A hub that shows one provider a key of its own is caught by the copy.
    other = blindrsa.PrivateKey.generate(2048).public_key
    tailored = {**directory, "keys": [{**directory["keys"][0],
                                       "public_key": b64url_encode(other.spki()),
                                       "token_key_id": b64url_encode(token_key_id(other))}]}
    tailored_key = read_directory(tailored)
    with pytest.raises(KeyInconsistent, match="shows another key"):
        check_key_consistency(tailored_key, copy, "the peer's copy")
    # A copy that does not know the epoch, or knows another issuer, is no confirmation.
    with pytest.raises(KeyInconsistent, match="does not show"):
        check_key_consistency(key, {**copy, "keys": []}, "the peer's copy")
    with pytest.raises(KeyInconsistent, match="another issuer"):
        check_key_consistency(key, {**copy, "issuer": "elsewhere"}, "the peer's copy")
    # The peer keeps its first copy of an epoch: a changed key is refused, not taken.
    assert peer.hub.tokens.copy_keys(tailored, "somewhere") == [(key.epoch, False)]
    check_key_consistency(key, peer.hub.tokens.copies(key.issuer), "the peer's copy")


def test_a_wallet_keeps_tokens_owner_only_and_gives_each_once(th: TokenHub, tmp_path: Path) -> None:
    wallet = TokenWallet(tmp_path / "tokens.json")
    assert wallet.add(th.tokens("alice", 2)) == 2
    assert os.stat(wallet.path).st_mode & 0o777 == 0o600
    key = th.key()
    first, second = wallet.take(key), wallet.take(key)
    assert first.token != second.token
    with pytest.raises(ClientError, match="no token"):
        wallet.take(key)
    assert "token=" not in repr(first) and first.token not in repr(first)


# -- unlinkability at the hub -------------------------------------------------------------------

def _every_value(th: TokenHub) -> dict[str, set[str]]:
    """Every value of every row of every table, as text, by table."""
    store = th.hut.hub.store
    found: dict[str, set[str]] = {}
    with store.engine.connect() as conn:
        from hub.store.schema import metadata

        names = inspect(conn).get_table_names()
        for name in names:
            table = metadata.tables.get(name)
            if table is None:
                continue
            found[name] = {str(v) for row in conn.execute(select(table)) for v in row if v is not None}
    return found


def test_nothing_the_hub_holds_ties_an_issuance_to_its_redemption(th: TokenHub) -> None:
    """Alice and bob are each issued tokens; alice redeems one. Every value the redemption left
    (the spent token row, the report's record, the published objects) is searched for in what the
    issuance left (the issuance counts, the audit records) and the other way round: nothing but
    the epoch (shared by every token of every provider) is common, and the redemption's rows name
    no party."""
    th.key()  # the epoch's key, made before (what every party's tokens share)
    before = _every_value(th)
    alice_tokens = th.tokens("alice", 3)
    th.tokens("bob", 3)
    after_issuance = _every_value(th)
    th.redeem(alice_tokens[1])
    th.published()
    after = _every_value(th)

    def new(a: dict[str, set[str]], b: dict[str, set[str]]) -> dict[str, set[str]]:
        return {t: b[t] - a.get(t, set()) for t in b if b[t] - a.get(t, set())}

    issued = new(before, after_issuance)
    redeemed = new(after_issuance, after)
    assert set(issued) <= {"token_issuance", "audit_log", "audit_head"}, issued.keys()
    assert "spent_tokens" in redeemed
    epoch = str(th.key().epoch)
    issued_values = set().union(*issued.values()) - {epoch}
    redeemed_values = set().union(*redeemed.values())
    # No value the issuance wrote (party keys, counts, audit text) appears in, or inside, what
    # the redemption wrote, nor the reverse; short numbers (counts, row keys) are compared whole.
    for value in issued_values:
        if len(value) >= 8:
            assert not any(value in other for other in redeemed_values), (value, "in a redemption row")
    for value in redeemed_values:
        if len(value) >= 8:
            assert not any(value in other for other in issued_values), (value, "in an issuance row")
    spent = redeemed["spent_tokens"]
    (nonce,) = {v for v in spent if v != th.key().key_id.hex()}
    assert nonce == Token.decode(b64url_decode(alice_tokens[1].token)).nonce.hex()
    # The redemption's rows name no party, by name, identity or number.
    party_pks = {str(th.hut.hub.store.get_party(p).pk) for p in ("alice", "bob")}
    for table, values in redeemed.items():
        if table in ("objects", "audit_log", "audit_head", "collections", "counters"):
            continue
        for value in values:
            assert value not in party_pks or table not in ("spent_tokens", "anonymous_reports"), (table, value)
            _names_no_one(th, value)


def test_the_issuance_audit_and_the_response_carry_no_blinded_message(th: TokenHub) -> None:
    key = th.key()
    request, _state = begin_issuance(key.public, key.challenge)
    encoded = b64url_encode(request.encode())
    resp = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", headers=th.hut.auth("alice"),
                            data=json.dumps({"token_key_id": b64url_encode(key.key_id), "requests": [encoded]}),
                            content_type="application/json")
    assert resp.status_code == 200
    (response,) = resp.get_json()["responses"]
    everything = json.dumps({k: sorted(v) for k, v in _every_value(th).items()})
    assert encoded not in everything and response not in everything
    assert encoded[:40] not in everything and response[:40] not in everything


def test_a_record_made_by_another_than_the_submitter_does_not_verify(th: TokenHub) -> None:
    """What the oversight sees when a client sealed a record that does not hold up: it opens, but
    its signature does not verify under the key it names (here: alice's record claimed by bob)."""
    (token,) = th.tokens("bob", 1)
    objects, committed, _ = th.filing("bob")
    sealed = seal_submitter_record(th.hut.keys["bob"], "alice", th.hut.identities["alice"], objects, committed,
                                   th.key().issuer, th.oversight.public_key)
    with th.session() as http:
        receipt = redeem_token(http, th.hut.collections["reports"], objects, committed, sealed, token)
    record = open_sealed(th.hut.hub.anonymous.sealed_record(receipt["report_id"]), th.oversight)
    assert record.identity_id == th.hut.identities["alice"]
    registered = {k.key_id: k for k in th.hut.hub.keys.list("alice")}
    assert record.key_id not in registered  # the key it names is not alice's: the record does not hold up
    claimed = EscrowRecord(record.submitter, record.identity_id, record.report_id, record.report_hash, record.time)
    assert claimed.signing_input() == record.signing_input()


def test_the_redemption_request_carries_nothing_of_the_party(th: TokenHub) -> None:
    """The client's redemption sends no credential, cookie or name: only the token header."""
    (token,) = th.tokens("alice", 1)
    objects, committed, sealed = th.filing("alice")
    seen: list[httpx.Request] = []
    inner = th.hut.transport()

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    with HttpSession(th.hut.url, th.hut.tokens["alice"], transport=Spy()) as http:
        redeem_token(http, th.hut.collections["reports"], objects, committed, sealed, token)
    (sent,) = seen
    assert sent.headers["authorization"] == f'PrivateToken token="{token.token}"'
    assert "cookie" not in sent.headers
    assert th.hut.tokens["alice"] not in str(sent.headers) and b"alice" not in sent.content.lower()


def _doc_checker() -> Any:
    """The oversight's check of a client-made record, as docs/ANONYMITY.md gives it."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "ANONYMITY.md").read_text(encoding="utf-8")
    section = text.split("### The escrow record the client makes", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the documented code, run as written
    return namespace


def test_the_documented_check_of_a_client_made_record(th: TokenHub) -> None:
    namespace = _doc_checker()

    class KeysOnly:
        @staticmethod
        def get(url: str) -> Any:
            answer = th.hut.http.get(url.replace(th.hut.url, f"{th.hut.api}/"))
            return type("Answer", (), {"json": staticmethod(answer.get_json)})

    namespace["httpx"] = KeysOnly
    check = namespace["check"]
    key_pem = th.oversight.to_pem()
    tokens = th.tokens("bob", 2)
    objects, committed, sealed = th.filing("bob")
    with th.session() as http:
        receipt = redeem_token(http, th.hut.collections["reports"], objects, committed, sealed, tokens[0])
    report = {o["id"]: o for o in th.published()}[receipt["report_id"]]
    kept = th.hut.hub.anonymous.sealed_record(receipt["report_id"])
    assert check(kept, key_pem, th.hut.url, report) == f"filed by {th.hut.identities['bob']}"
    assert "made for another report" in check(kept, key_pem, th.hut.url, {**report, WITHDRAWAL_PROPERTY: "x"})
    # Bob claims to be alice: the record opens, but does not hold up.
    objects, committed, _ = th.filing("bob")
    lying = seal_submitter_record(th.hut.keys["bob"], "alice", th.hut.identities["alice"], objects, committed,
                                  th.key().issuer, th.oversight.public_key)
    with th.session() as http:
        receipt = redeem_token(http, th.hut.collections["reports"], objects, committed, lying, tokens[1])
    report = {o["id"]: o for o in th.published()}[receipt["report_id"]]
    verdict = check(th.hut.hub.anonymous.sealed_record(receipt["report_id"]), key_pem, th.hut.url, report)
    assert verdict.startswith("does not hold up: the key it names is not registered")


def test_one_token_redeemed_twice_at_once_files_once(th: TokenHub) -> None:
    """Two redemptions of one token race: the spent-token row is written in each filing's
    transaction, so one filing is accepted and the other refused as spent, whichever commits
    first; the same for two different filings paid with it."""
    import threading

    (token,) = th.tokens("alice", 1)
    bodies = []
    for _ in range(2):
        objects, committed, sealed = th.filing("alice")
        bodies.append(json.dumps({"collection": th.hut.collections["reports"], "objects": objects,
                                  "withdrawal_commitment": committed, "sealed_record": sealed}))
    statuses: list[int] = []
    start = threading.Barrier(2)

    def post(body: str) -> None:
        client = th.hut.app.test_client()
        start.wait()
        resp = client.post(f"{th.hut.api}/anonymous/redeem/", data=body, content_type="application/json",
                           headers={"Authorization": f'PrivateToken token="{token.token}"'})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [202, 409]
    assert len([r for r in th.hut.hub.store.iter_audit() if r.kind == "submission-token.issue"]) == 1
    assert len({o["id"] for o in th.published() if o.get("type") == "report"}) == 1


def test_two_issuances_at_once_cannot_both_pass_the_rate(th: TokenHub) -> None:
    import threading

    key = th.key()
    bodies = []
    for _ in range(2):
        requests = [b64url_encode(begin_issuance(key.public, key.challenge)[0].encode()) for _ in range(PER_EPOCH - 2)]
        bodies.append(json.dumps({"token_key_id": b64url_encode(key.key_id), "requests": requests}))
    statuses: list[int] = []
    start = threading.Barrier(2)

    def post(body: str) -> None:
        client = th.hut.app.test_client()
        start.wait()
        statuses.append(client.post(f"{th.hut.api}/anonymity/tokens/", data=body, content_type="application/json",
                                    headers=th.hut.auth("alice")).status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(statuses) == [200, 429]
    party = th.hut.hub.store.get_party("alice")
    assert party is not None and th.hut.hub.store.tokens_issued(party.pk, key.epoch) == PER_EPOCH - 2


def test_a_token_made_for_another_challenge_is_refused(th: TokenHub) -> None:
    """The hub signs blind, so a client may have it sign a token made for another issuer's
    challenge; such a token is refused at redemption."""
    key = th.key()
    other = TokenChallenge(issuer_name="elsewhere.example").encode()
    request, state = begin_issuance(key.public, other)
    resp = th.hut.http.post(f"{th.hut.api}/anonymity/tokens/", headers=th.hut.auth("alice"),
                            content_type="application/json",
                            data=json.dumps({"token_key_id": b64url_encode(key.key_id),
                                             "requests": [b64url_encode(request.encode())]}))
    assert resp.status_code == 200
    from hub.anonymity.tokens import finalize_token

    token = finalize_token(state, b64url_decode(resp.get_json()["responses"][0]))
    assert "made for another challenge" in _refused(th, b64url_encode(token.encode()), 403)
