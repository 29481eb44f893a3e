"""The browser's submission tokens (hub/web/static/js/tokens.js over the vendored blindrsa.js) under
node: every RFC 9578 Appendix A.2 vector, and tokens made with a real hub and redeemed there.

- Vectors: each of the five token type 2 vectors (tests/anonymity/data/rfc9578_appendix_a2.json),
  with the vector's nonce, salt and blind r as the only randomness: the TokenRequest and the
  finalised Token byte for byte, the key read out of the RSASSA-PSS SPKI as the hub publishes it.
- Interop: tokens.js makes token requests for the hub's published directory, the hub signs them
  for a provider (``POST anonymity/tokens/`` of the real application, in process), tokens.js
  finalises them (checking each signature), and the hub redeems them (``POST
  anonymous/redeem/``, no credentials): published, then refused as spent. A response from another
  key does not finalise; a second source showing another key is refused.

Starts node: slow.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity import blindrsa
from hub.anonymity.escrow import OversightPrivateKey
from hub.anonymity.filing import commitment, new_secret
from hub.anonymity.tokens import TokenChallenge, TokenIssuer, token_key_id, verify_token
from hub.client.anonymous import prepare_anonymous_report
from hub.client.tokens import seal_submitter_record
from hub.common.canonical import b64url_decode, b64url_encode
from hub.signing import unsigned_form
from tests.factories import report_facts
from tests.harness import TEST_TOML, HubUnderTest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")]

HERE = Path(__file__).resolve().parent
VECTORS = json.loads((HERE.parent / "anonymity" / "data" / "rfc9578_appendix_a2.json").read_text())["vectors"]


def node(op: str, **payload: Any) -> Any:
    done = subprocess.run(["node", str(HERE / "tokens_node.js")], input=json.dumps({"op": op, **payload}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def directory_of(spki: bytes, challenge: bytes, epoch: int = 0) -> dict[str, Any]:
    """A token key directory in the hub's shape for a key and a challenge."""
    return {"issuer": TokenChallenge.decode(challenge).issuer_name, "challenge": b64url_encode(challenge),
            "keys": [{"epoch": epoch, "token_type": 2, "token_key_id": b64url_encode(hashlib.sha256(spki).digest()),
                      "public_key": b64url_encode(spki)}]}


def test_rfc9578_vectors_under_node() -> None:
    wanted = []
    for v in VECTORS:
        spki, challenge = bytes.fromhex(v["pkS"]), bytes.fromhex(v["token_challenge"])
        wanted.append({"directory": directory_of(spki, challenge), "nonce": v["nonce"], "salt": v["salt"],
                       "r": v["blind"].rjust(512, "0"), "token_response": v["token_response"]})
    got = node("vectors", vectors=wanted)
    assert len(got) == len(VECTORS) == 5
    for v, g in zip(VECTORS, got, strict=True):
        assert g["token_request"] == v["token_request"]
        assert g["token"] == v["token"]


@pytest.fixture(scope="module")
def hut(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubUnderTest, OversightPrivateKey]]:
    home = tmp_path_factory.mktemp("tokens-js") / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = TEST_TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
    with HubUnderTest.build(home, toml=toml, keys_for=("alice",), prepare=True) as built:
        built.hub.anonymous.set_allowed(built.collections["reports"], True)
        yield built, oversight


def test_tokens_made_in_javascript_are_issued_and_redeemed_by_the_hub(
        hut: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    h, oversight = hut
    directory = h.http.get(f"{h.api}/anonymity/token-keys/").get_json()
    begun = node("begin", directory=directory, count=2)
    issued = h.http.post(f"{h.api}/anonymity/tokens/", headers=h.auth("alice"), content_type="application/json",
                         data=json.dumps({"token_key_id": directory["keys"][0]["token_key_id"],
                                          "requests": begun["requests"]}))
    assert issued.status_code == 200, issued.get_data(as_text=True)
    made = node("finalize", directory=directory, states=begun["states"], responses=issued.get_json()["responses"])
    tokens = made["tokens"]
    assert all(isinstance(t, str) for t in tokens), tokens
    public = blindrsa.PublicKey.from_spki(b64url_decode(directory["keys"][0]["public_key"]))
    for token in tokens:
        verify_token(public, b64url_decode(token), b64url_decode(directory["challenge"]))

    prepared = prepare_anonymous_report(h.client("alice"), report_facts(h.identities["alice"]), h.keys["alice"],
                                        h.identities["alice"])
    objects = [unsigned_form(o) for o in prepared.objects]
    committed = commitment(new_secret())
    sealed = seal_submitter_record(h.keys["alice"], "alice", h.identities["alice"], objects, committed,
                                   directory["issuer"], oversight.public_key)
    body = json.dumps({"collection": h.collections["reports"], "objects": objects,
                       "withdrawal_commitment": committed, "sealed_record": sealed})
    headers = {"Authorization": f'PrivateToken token="{tokens[0]}"'}
    first = h.http.post(f"{h.api}/anonymous/redeem/", headers=headers, content_type="application/json", data=body)
    assert first.status_code == 202, first.get_data(as_text=True)
    again = h.http.post(f"{h.api}/anonymous/redeem/", headers=headers, content_type="application/json", data=body)
    assert again.status_code == 409


def test_a_response_of_another_key_does_not_finalise(hut: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    h, _ = hut
    directory = h.http.get(f"{h.api}/anonymity/token-keys/").get_json()
    begun = node("begin", directory=directory, count=1)
    other = TokenIssuer(blindrsa.PrivateKey.generate(2048))
    # The other issuer signs the blinded message as it is (its own key id's byte set so it accepts it).
    request = bytearray(b64url_decode(begun["requests"][0]))
    request[2] = other.key_id[-1]
    response = b64url_encode(other.issue(bytes(request)))
    made = node("finalize", directory=directory, states=begun["states"], responses=[response])
    assert "error" in made["tokens"][0]


def test_a_second_source_showing_another_key_is_refused(hut: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    h, _ = hut
    directory = h.http.get(f"{h.api}/anonymity/token-keys/").get_json()
    assert node("consistency", directory=directory, second=directory) == {"ok": True}
    other = blindrsa.PrivateKey.generate(2048).public_key
    tailored = {**directory, "keys": [{**directory["keys"][0], "token_key_id": b64url_encode(token_key_id(other))}]}
    refused = node("consistency", directory=directory, second=tailored)
    assert refused["ok"] is False and "another key" in refused["error"]
    missing = node("consistency", directory=directory, second={**directory, "keys": []})
    assert missing["ok"] is False and "does not show" in missing["error"]
