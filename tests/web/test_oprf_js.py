"""The browser's oblivious pseudonyms (hub/web/static/js/oprf.js over the vendored noble-curves
bundle) under node: every RFC 9497 ristretto255-SHA512 vector, and the hub's real evaluation.

- Vectors: each vector of RFC 9497 Appendix A.1 (the data of tests/pseudonyms/test_oprf_vectors.py)
  with its blinds and proof randomness fixed: key pairs, blinded and evaluated elements, proofs
  and outputs byte for byte, in the three modes (POPRF's client side through oprf.js), and a
  tampered proof refused.
- Interop: oprf.js blinds, the hub evaluates (``POST pseudonyms/evaluate`` of the real
  application, in process), oprf.js checks each proof against ``GET pseudonyms/key`` and
  unblinds; the pseudonyms equal those of the Python client's :class:`PseudonymBatch` and the
  key holder's direct evaluation. oprf.js runs in one node process driven over a pipe
  (tests/web/oprf_pipe.js): each request it makes is answered here.
- Refusals: a proof made with another key than the published (or pinned) one, and answers
  with the wrong version, kinds, counts, encodings or elements.

Starts node: slow.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms import POPRF_PSEUDONYM_RE, PoprfKeyring, PseudonymBatch, normalise, pseudonym_info
from hub.pseudonyms.oprf import Mode, tweaked_key
from tests.harness import HubUnderTest
from tests.pseudonyms.test_oprf_vectors import KEY_INFO, KEYS, SEED, VECTORS, Vector

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
UNVERIFIABLE = "the hub's answer could not be verified: "
TOML = "[pseudonyms]\nper_minute = 100000\naccept_raw_values = false\n"
PARTIES = {"alice": "provider"}
GRANTS = {"reports": {"alice": (True, True)}}
ACCOUNT = "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60/acct-1"

# Raw values of each kind; oprf.js is given their normalised form, as the page's normaliser makes it.
RAW = [
    ("email", "Holder.Name+tag@Example.COM"),
    ("phone", "+41 44 668 18 00"),
    ("email", "x@例え.jp"),
    ("payment_instrument", "4111 1111 1111 1111"),
    ("name", "  Zoë  Müller-Łukasz "),
    ("provider_account", ACCOUNT),
    ("address", "Bahnhofstrasse 1, 8001 Zürich"),
    ("name", "東京 太郎"),
    ("phone", "+1 (202) 555-0143"),
]


# --- RFC 9497 vectors ---------------------------------------------------------------------------


def vector_input() -> dict[str, Any]:
    """The RFC vectors as oprf_vectors_lib.js reads them (hex)."""
    out = []
    for param in VECTORS:
        (v,) = param.values
        assert isinstance(v, Vector)
        out.append({"id": param.id, "mode": v.mode.name, "inputs": v.inputs, "blinds": v.blinds,
                    "info": v.info, "proof_random": v.proof_random})
    return {"seed": SEED.hex(), "key_info": KEY_INFO.hex(), "vectors": out}


def check_vector_result(v: Vector, got: dict[str, Any]) -> None:
    """What oprf_vectors_lib.js computed for ``v`` is the RFC's data, byte for byte."""
    assert "error" not in got, got.get("error")
    sk_hex, pk_hex = KEYS[v.mode]
    assert got["sk"] == sk_hex
    if pk_hex is not None:
        assert got["pk"] == pk_hex
    assert got["blinds"] == v.blinds
    assert got["blinded"] == v.blinded
    assert got["evaluated"] == v.evaluated
    assert got["proof"] == v.proof
    assert got["outputs"] == v.outputs
    assert got["noble_outputs"] == v.outputs
    assert got["direct"] == v.outputs
    if v.mode == Mode.OPRF:
        assert got["refused"] is None  # no proof in the base mode
    else:
        assert got["refused"], "a tampered proof was accepted"
    if v.mode == Mode.POPRF:
        want = tweaked_key(bytes.fromhex(got["pk"]), bytes.fromhex(v.info)).hex()
        assert got["tweaked"] == want and got["tweaked_again"] == want
        assert got["refused"] == UNVERIFIABLE + "the proof does not hold for the published key"


@pytest.fixture(scope="module")
def vector_results() -> dict[str, dict[str, Any]]:
    proc = subprocess.run(["node", str(HERE / "oprf_vectors.js"), str(ROOT)],
                          input=json.dumps(vector_input()), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {r["id"]: r for r in json.loads(proc.stdout)}


@pytest.mark.parametrize("v", VECTORS)
def test_rfc9497_vector_under_node(v: Vector, vector_results: dict[str, dict[str, Any]],
                                   request: pytest.FixtureRequest) -> None:
    vector_id = request.node.callspec.id
    assert vector_id in vector_results
    check_vector_result(v, vector_results[vector_id])


def test_every_vector_ran(vector_results: dict[str, dict[str, Any]]) -> None:
    assert sorted(vector_results) == sorted(str(p.id) for p in VECTORS)
    assert {r["id"].split()[1] for r in vector_results.values()} == {"OPRF", "VOPRF", "POPRF"}


# --- oprf.js over a pipe ------------------------------------------------------------------------


Answer = Callable[[dict[str, Any]], dict[str, Any]]


class JsOprf:
    """oprf.js in a node process: each command is one JSON line; the requests it makes to the hub
    come back here and are answered by the test's function."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["node", str(HERE / "oprf_pipe.js"), str(ROOT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _send(self, obj: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        line = self.lines.get(timeout=120)
        if line is None:
            assert self.proc.stderr is not None
            raise AssertionError(f"node stopped: {self.proc.stderr.read()}")
        reply = json.loads(line)
        assert isinstance(reply, dict)
        return reply

    def call(self, cmd: dict[str, Any], answer: Answer | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run ``cmd``; returns oprf.js's reply and the request bodies it sent to the hub."""
        self._send(cmd)
        requests: list[dict[str, Any]] = []
        while True:
            reply = self._receive()
            if "evaluate" not in reply:
                return reply, requests
            requests.append(reply["evaluate"])
            assert answer is not None, "oprf.js sent a request where none was expected"
            self._send(answer(reply["evaluate"]))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if node hangs
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def js() -> Iterator[JsOprf]:
    client = JsOprf()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path_factory.mktemp("oprf-js"), toml=TOML, parties=PARTIES,
                            grants=GRANTS) as built:
        yield built


def key_doc(h: HubUnderTest) -> dict[str, Any]:
    resp = h.http.get(f"{h.api}/pseudonyms/key")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body, dict)
    return body


def hub_answer(h: HubUnderTest) -> Answer:
    """Answers each request with the hub's real ``POST pseudonyms/evaluate``, as alice."""
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        resp = h.http.post(f"{h.api}/pseudonyms/evaluate", data=json.dumps(body),
                             headers={**h.auth("alice"), "Content-Type": "application/json"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return {"answer": resp.get_json()}
    return answer


def items_of(raw: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"kind": k, "input": normalise(k, v)} for k, v in raw]


def python_pseudonyms(h: HubUnderTest, raw: list[tuple[str, str]]) -> list[str]:
    """The Python client's pseudonyms of ``raw``: PseudonymBatch per kind, the hub's endpoint."""
    version = key_doc(h)["current"]
    (entry,) = [k for k in key_doc(h)["keys"] if k["key_version"] == version]
    public_key = b64url_decode(entry["public_key"])
    by_kind: dict[str, list[int]] = {}
    for i, (kind, _) in enumerate(raw):
        by_kind.setdefault(kind, []).append(i)
    out = [""] * len(raw)
    for kind, indexes in by_kind.items():
        batch = PseudonymBatch(kind, version, [raw[i][1] for i in indexes])
        body = {"key_version": version, "groups": [{"kind": kind, "blinded": [b64url_encode(e) for e in batch.blinded]}]}
        (group,) = hub_answer(h)(body)["answer"]["groups"]
        made = batch.finish(public_key, [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"]))
        for i, p in zip(indexes, made, strict=True):
            out[i] = p
    return out


def direct_pseudonyms(h: HubUnderTest, items: list[dict[str, str]], version: str | None = None) -> list[str]:
    """What the key holder computes from the inputs in clear (RFC 9497 Evaluate)."""
    ring = h.hub.pseudonyms.poprf_keyring()
    v = version or ring.current_version
    return [f"poprf-r255:{v}:" + ring.server(v).evaluate_unblinded(
        it["input"].encode("utf-8"), pseudonym_info(it["kind"], v)).hex() for it in items]


def pseudonymise(js: JsOprf, items: list[dict[str, str]], key: dict[str, Any], answer: Answer | None,
                 **options: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return js.call({"op": "pseudonymise", "items": items, "key": key, "options": options}, answer)


def test_js_pseudonyms_equal_the_python_clients(js: JsOprf, h: HubUnderTest) -> None:
    items = items_of(RAW)
    reply, requests = pseudonymise(js, items, key_doc(h), hub_answer(h))
    assert "error" not in reply, reply
    got = reply["result"]
    assert all(POPRF_PSEUDONYM_RE.match(p) for p in got)
    assert got == python_pseudonyms(h, RAW)
    assert got == direct_pseudonyms(h, items)
    # One request, one group per kind in the order the kinds first appear, each value once.
    (body,) = requests
    assert body["key_version"] == key_doc(h)["current"]
    assert [g["kind"] for g in body["groups"]] == list(dict.fromkeys(k for k, _ in RAW))
    assert [len(g["blinded"]) for g in body["groups"]] == [sum(1 for k, _ in RAW if k == g["kind"]) for g in body["groups"]]
    # The hub sees blinded elements only: no value, raw or normalised, is in what was sent.
    sent = json.dumps(requests, ensure_ascii=False)
    for (_, value), item in zip(RAW, items, strict=True):
        assert value not in sent and item["input"] not in sent


def test_the_same_value_gives_the_same_pseudonym_and_kinds_stay_apart(js: JsOprf, h: HubUnderTest) -> None:
    items = [{"kind": "name", "input": "ada lovelace"}, {"kind": "address", "input": "ada lovelace"},
             {"kind": "name", "input": "ada lovelace"}, {"kind": "name", "input": "ǅ 𝄞 x"}]
    reply, requests = pseudonymise(js, items, key_doc(h), hub_answer(h))
    got = reply["result"]
    assert got[0] == got[2] and got[0] != got[1]
    assert got == direct_pseudonyms(h, items)  # a character outside the BMP: UTF-8 as Python encodes it
    # Blinding is randomised: the two blinded elements of one value differ.
    (body,) = requests
    assert body["groups"][0]["blinded"][0] != body["groups"][0]["blinded"][1]


def test_many_values_go_in_requests_of_at_most_max_elements(js: JsOprf, h: HubUnderTest) -> None:
    kinds = ["email", "phone", "name"]
    items = [{"kind": kinds[i % 3] if i < 150 else "address", "input": f"value {i} éè"} for i in range(230)]
    reply, requests = pseudonymise(js, items, key_doc(h), hub_answer(h))
    assert "error" not in reply, reply
    assert reply["result"] == direct_pseudonyms(h, items)
    assert [sum(len(g["blinded"]) for g in r["groups"]) for r in requests] == [100, 100, 30]
    assert [[g["kind"] for g in r["groups"]] for r in requests] == [
        ["email", "phone", "name"], ["phone", "name", "email", "address"], ["address"]]
    # A hub that takes fewer elements per request says so in its key document.
    small = {**key_doc(h), "max_elements": 7}
    reply, requests = pseudonymise(js, items[:20], small, hub_answer(h))
    assert reply["result"] == direct_pseudonyms(h, items[:20])
    assert [sum(len(g["blinded"]) for g in r["groups"]) for r in requests] == [7, 7, 6]
    # ... and never more than 100, the most one evaluation takes.
    large = {**key_doc(h), "max_elements": 1000}
    reply, requests = pseudonymise(js, items[:150], large, hub_answer(h))
    assert reply["result"] == direct_pseudonyms(h, items[:150])
    assert [sum(len(g["blinded"]) for g in r["groups"]) for r in requests] == [100, 50]


def test_no_values_make_no_request(js: JsOprf, h: HubUnderTest) -> None:
    reply, requests = pseudonymise(js, [], key_doc(h), None)
    assert reply == {"result": []} and requests == []


def test_after_a_rotation_the_current_version_is_used(js: JsOprf, tmp_path: Path) -> None:
    with HubUnderTest.build(tmp_path, toml=TOML, parties=PARTIES, grants=GRANTS) as hub:
        items = items_of(RAW[:3])
        before = pseudonymise(js, items, key_doc(hub), hub_answer(hub))[0]["result"]
        version, _ = hub.hub.pseudonyms.rotate()
        doc = key_doc(hub)
        assert doc["current"] == version != "k1"
        reply, requests = pseudonymise(js, items, doc, hub_answer(hub))
        after = reply["result"]
        assert all(p.startswith(f"poprf-r255:{version}:") for p in after)
        assert after == direct_pseudonyms(hub, items, version)
        assert before == direct_pseudonyms(hub, items, "k1") and set(before).isdisjoint(after)
        assert requests[0]["key_version"] == version


# --- refusals -------------------------------------------------------------------------------------


def other_key_answer(h: HubUnderTest) -> tuple[Answer, bytes]:
    """An evaluator with another key under the same version (hub.pseudonyms' own PoprfServer),
    answering in the endpoint's form; and that key's public key."""
    version = key_doc(h)["current"]
    other = PoprfKeyring.from_secrets({version: os.urandom(32).hex()})
    server = other.server(version)

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        groups = []
        for g in body["groups"]:
            evaluated, proof = server.evaluate_batch([b64url_decode(e) for e in g["blinded"]],
                                                     pseudonym_info(g["kind"], body["key_version"]))
            groups.append({"kind": g["kind"], "evaluated": [b64url_encode(e) for e in evaluated],
                           "proof": b64url_encode(proof)})
        return {"answer": {"key_version": body["key_version"], "groups": groups}}
    return answer, server.public_key


def test_a_proof_made_with_another_key_is_refused(js: JsOprf, h: HubUnderTest) -> None:
    answer, _ = other_key_answer(h)
    reply, requests = pseudonymise(js, items_of(RAW), key_doc(h), answer)
    assert reply == {"error": UNVERIFIABLE + "the proof does not hold for the published key",
                     "name": "UnverifiableAnswer"}
    assert len(requests) == 1


def test_pinned_keys_are_checked_instead_of_the_published_ones(js: JsOprf, h: HubUnderTest) -> None:
    doc = key_doc(h)
    version = doc["current"]
    (entry,) = [k for k in doc["keys"] if k["key_version"] == version]
    items = items_of(RAW[:4])
    # The right key, pinned: the pseudonyms are made.
    reply, _ = pseudonymise(js, items, doc, hub_answer(h), pinned={version: entry["public_key"]})
    assert reply["result"] == direct_pseudonyms(h, items)
    reply, _ = pseudonymise(js, items, doc, hub_answer(h),
                            pinned_hex={version: b64url_decode(entry["public_key"]).hex()})
    assert reply["result"] == direct_pseudonyms(h, items)
    # A hub whose published key is not the pinned one: its (valid) answers do not verify.
    other_answer, other_pk = other_key_answer(h)
    reply, _ = pseudonymise(js, items, doc, hub_answer(h), pinned={version: b64url_encode(other_pk)})
    assert reply["error"] == UNVERIFIABLE + "the proof does not hold for the published key"
    # ... while a key document showing the impostor's key is refused in favour of the pin.
    forged = {**doc, "keys": [{**entry, "public_key": b64url_encode(other_pk)}]}
    reply, _ = pseudonymise(js, items, forged, other_answer, pinned={version: entry["public_key"]})
    assert reply["error"] == UNVERIFIABLE + "the proof does not hold for the published key"
    # A version that was not pinned: nothing is sent.
    reply, requests = pseudonymise(js, items, doc, None, pinned={"k99": entry["public_key"]})
    assert reply["error"] == UNVERIFIABLE + f"its key version {version} is not among the pinned ones"
    assert requests == []


def _tamper(change: Callable[[dict[str, Any]], Any]) -> Callable[[HubUnderTest], Answer]:
    def make(h: HubUnderTest) -> Answer:
        real = hub_answer(h)

        def answer(body: dict[str, Any]) -> dict[str, Any]:
            got = real(body)["answer"]
            changed = change(got)
            return {"answer": got if changed is None else changed}
        return answer
    return make


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(answer: dict[str, Any]) -> None:
        target: Any = answer
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return change


IDENTITY = b64url_encode(bytes(32))
NOT_AN_ELEMENT = b64url_encode(b"\xff" * 32)
GROUP = "the group of kind email"

TAMPERED = [
    pytest.param(_set(("key_version",), "k99"),
                 "it does not answer each group of the request under the key version asked for", id="other version"),
    pytest.param(lambda a: [a], "it does not answer each group of the request under the key version asked for",
                 id="not an object"),
    pytest.param(_set(("groups",), lambda g: g[:1]),
                 "it does not answer each group of the request under the key version asked for", id="a group missing"),
    pytest.param(_set(("groups",), lambda g: g + g[:1]),
                 "it does not answer each group of the request under the key version asked for", id="a group more"),
    pytest.param(_set(("groups",), lambda g: g[::-1]),
                 "the group of kind email is not evaluated elements and a proof", id="groups swapped"),
    pytest.param(_set(("groups", 0, "kind"), "phone"),
                 "the group of kind email is not evaluated elements and a proof", id="other kind"),
    pytest.param(_set(("groups", 0, "proof"), None),
                 "the group of kind email is not evaluated elements and a proof", id="no proof"),
    pytest.param(_set(("groups", 0, "evaluated"), lambda e: e[:-1]),
                 "1 evaluated elements for 2 blinded elements", id="an element missing"),
    pytest.param(_set(("groups", 0, "evaluated"), lambda e: e + e[:1]),
                 "3 evaluated elements for 2 blinded elements", id="an element more"),
    pytest.param(_set(("groups", 0, "evaluated", 0), lambda e: e + "="),
                 f"{GROUP} is not base64url", id="padded element"),
    pytest.param(_set(("groups", 0, "proof"), lambda p: p.replace("-", "+").replace("_", "/") + "+"),
                 f"{GROUP} is not base64url", id="plain base64 proof"),
    pytest.param(_set(("groups", 0, "evaluated", 1), IDENTITY),
                 "evaluated element 1 is the identity element", id="identity element"),
    pytest.param(_set(("groups", 0, "evaluated", 0), NOT_AN_ELEMENT),
                 "evaluated element 0 is not a valid ristretto255 encoding", id="not an element"),
    pytest.param(_set(("groups", 0, "evaluated", 0), b64url_encode(b"\x01" * 31)),
                 "evaluated element 0 must be 32 bytes, got 31", id="short element"),
    pytest.param(_set(("groups", 0, "proof"), lambda p: b64url_encode(b64url_decode(p)[:63])),
                 "the proof must be 64 bytes", id="short proof"),
    pytest.param(_set(("groups", 0, "proof"), b64url_encode(b"\xff" * 64)),
                 "the proof does not hold for the published key", id="proof scalars not canonical"),
    pytest.param(_set(("groups", 0, "evaluated"), lambda e: e[::-1]),
                 "the proof does not hold for the published key", id="elements swapped"),
    pytest.param(lambda a: _set(("groups", 0, "proof"), a["groups"][1]["proof"])(a),
                 "the proof does not hold for the published key", id="another group's proof"),
    pytest.param(lambda a: _set(("groups", 1, "evaluated", 0), a["groups"][0]["evaluated"][0])(a),
                 "the proof does not hold for the published key", id="another group's element"),
]


@pytest.mark.parametrize("change, reason", TAMPERED)
def test_a_wrong_answer_is_refused(js: JsOprf, h: HubUnderTest, change: Callable[[dict[str, Any]], Any],
                                   reason: str) -> None:
    # Two kinds of two values each: email first.
    items = items_of([("email", "a@example.com"), ("phone", "+41 44 668 18 00"),
                      ("email", "b@example.com"), ("phone", "+41 44 668 18 01")])
    reply, requests = pseudonymise(js, items, key_doc(h), _tamper(change)(h))
    assert reply == {"error": UNVERIFIABLE + reason, "name": "UnverifiableAnswer"}
    assert len(requests) == 1
    for item in items:
        assert item["input"] not in reply["error"]


def test_a_wrong_answer_to_a_later_request_returns_nothing(js: JsOprf, h: HubUnderTest) -> None:
    items = [{"kind": "email", "input": f"user{i}@example.com"} for i in range(150)]
    real = hub_answer(h)
    calls: list[int] = []

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        reply = real(body)
        if len(calls) == 2:
            reply["answer"]["groups"][0]["evaluated"].reverse()
        return reply
    reply, requests = pseudonymise(js, items, key_doc(h), answer)
    assert reply["error"] == UNVERIFIABLE + "the proof does not hold for the published key"
    assert len(requests) == 2


def test_a_failed_request_is_passed_on(js: JsOprf, h: HubUnderTest) -> None:
    reply, _ = pseudonymise(js, items_of(RAW[:2]), key_doc(h), lambda body: {"fail": "the hub answered 429"})
    assert reply == {"error": "the hub answered 429", "name": "Error"}


@pytest.mark.parametrize("items, reason", [
    pytest.param([{"kind": "shoe_size", "input": "42"}],
                 "items[0].kind is not one of the hub's pseudonym kinds (email, phone, payment_instrument, "
                 "name, address, provider_account)", id="unknown kind"),
    pytest.param([{"kind": "email", "input": "a@example.com"}, {"kind": "Email:k1", "input": "x"}],
                 "items[1].kind is not one of the hub's pseudonym kinds (email, phone, payment_instrument, "
                 "name, address, provider_account)", id="kind with a colon"),
    pytest.param([{"kind": "email", "input": ""}], "items[0].input is empty: give the normalised value", id="empty"),
    pytest.param([{"kind": "email", "input": 5}], "items[0] must be an object with the string members kind and input",
                 id="not a string"),
    pytest.param([{"kind": "name", "input": "a\ud800b"}], "items[0].input is not valid Unicode (a lone surrogate)",
                 id="lone surrogate"),
    pytest.param([{"kind": "name", "input": "x" * 65535}],
                 "items[0].input is 65535 bytes in UTF-8; RFC 9497 allows at most 65534", id="too long"),
])
def test_bad_items_are_refused_before_any_request(js: JsOprf, h: HubUnderTest, items: list[dict[str, Any]],
                                                  reason: str) -> None:
    reply, requests = pseudonymise(js, items, key_doc(h), None)
    assert reply["error"] == reason and requests == []


@pytest.mark.parametrize("change, reason", [
    pytest.param(lambda d: {**d, "keys": "none"}, "the hub's pseudonym key could not be read: it is not a list "
                 "of key versions and public keys", id="no keys"),
    pytest.param(lambda d: {**d, "current": "k99"}, "the hub's pseudonym key could not be read: it is not a list "
                 "of key versions and public keys", id="current without a key"),
    pytest.param(lambda d: {**d, "keys": [{**d["keys"][0], "public_key": "a+b"}]}, "the hub's pseudonym key could "
                 "not be read: it is not a list of key versions and public keys", id="key not base64url"),
    pytest.param(lambda d: {**d, "suite": "P256-SHA256"},
                 "the hub's pseudonyms use the suite P256-SHA256; this page makes ristretto255-SHA512 ones",
                 id="other suite"),
    pytest.param(lambda d: {**d, "keys": [{**d["keys"][0], "public_key": IDENTITY}]},
                 UNVERIFIABLE + "the public key is the identity element", id="identity key"),
    pytest.param(lambda d: {**d, "keys": [{**d["keys"][0], "public_key": NOT_AN_ELEMENT}]},
                 UNVERIFIABLE + "the public key is not a valid ristretto255 encoding", id="not a key"),
])
def test_a_bad_key_document_is_refused_before_any_request(js: JsOprf, h: HubUnderTest,
                                                          change: Callable[[dict[str, Any]], dict[str, Any]],
                                                          reason: str) -> None:
    reply, requests = pseudonymise(js, items_of(RAW[:2]), change(key_doc(h)), None)
    assert reply["error"] == reason and requests == []


# --- encodings ------------------------------------------------------------------------------------


def test_base64url_is_read_as_strictly_as_the_hub_reads_it(js: JsOprf) -> None:
    texts = ["", "AA", "AAE", "AAEC", "_-_-", "AB", "AAF", "AA==", "A", "AAAAA", "a+b/", "a b", "Zm9v", "Zm9vYg",
             b64url_encode(bytes(range(256)))]
    reply, _ = js.call({"op": "b64", "texts": texts})
    want: list[str | None] = []
    for t in texts:
        try:
            want.append(b64url_decode(t).hex())
        except ValueError:
            want.append(None)
    assert reply["result"] == want
    assert want.count(None) >= 6  # the refusals are exercised: padding, alphabet, length, trailing bits
    data = [os.urandom(n).hex() for n in range(0, 70)]
    reply, _ = js.call({"op": "b64encode", "hex": data})
    assert reply["result"] == [b64url_encode(bytes.fromhex(d)) for d in data]


@pytest.mark.parametrize("kind, version", [("email", "k1"), ("provider_account", "2026-01_a.b")])
def test_info_is_the_hubs(js: JsOprf, kind: str, version: str) -> None:
    reply, _ = js.call({"op": "info", "kind": kind, "version": version})
    assert bytes.fromhex(reply["result"]) == pseudonym_info(kind, version)


@pytest.mark.parametrize("kind, version", [("email", "k:1"), ("email", ""), ("email", "k" * 33), ("Email", "k1"),
                                           ("email:x", "k1")])
def test_info_refuses_what_would_not_parse_one_way(js: JsOprf, kind: str, version: str) -> None:
    reply, _ = js.call({"op": "info", "kind": kind, "version": version})
    assert "result" not in reply and reply["error"]
