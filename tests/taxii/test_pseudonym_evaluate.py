"""POST pseudonyms/evaluate and GET pseudonyms/key (RFC 9497 POPRF), in-process on every store;
and POST pseudonyms/ turned off, as ``abusehub init`` writes the configuration.

The provider's side is the core's :class:`~hub.pseudonyms.PseudonymBatch`: what it sends is what
the hub evaluates, and the hub's answer verifies against the key the hub publishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import TestResponse

from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms import POPRF_PSEUDONYM_RE, PoprfKeyring, PseudonymBatch, VerifyError
from tests.harness import BACKENDS, HubUnderTest

PER_MINUTE = 60
PARTIES = {"alice": "provider", "bob": "provider", "flood": "provider", "gov": "agency"}
GRANTS = {"reports": {"alice": (True, True), "bob": (True, True)}}
# As a new hub's hub.toml says it (DEFAULT_CONFIG_TEXT): the raw-value endpoint is off.
TOML = f"[pseudonyms]\nper_minute = {PER_MINUTE}\naccept_raw_values = false\n"
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module", params=BACKENDS)
def h(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.build(tmp_path_factory.mktemp("evaluate"), backend=str(request.param), toml=TOML,
                            parties=PARTIES, grants=GRANTS) as built:
        yield built


def _evaluate(h: HubUnderTest, party: str | None, body: Any) -> TestResponse:
    hdrs = dict(h.auth(party)) if party else {}
    hdrs["Content-Type"] = "application/json"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return h.http.post(f"{h.api}/pseudonyms/evaluate", data=data, headers=hdrs)


def _key(h: HubUnderTest) -> dict[str, Any]:
    resp = h.http.get(f"{h.api}/pseudonyms/key")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body, dict)
    return body


def _public_key(h: HubUnderTest, version: str) -> bytes:
    (entry,) = [k for k in _key(h)["keys"] if k["key_version"] == version]
    return b64url_decode(entry["public_key"])


def _batches_body(version: str, *batches: PseudonymBatch) -> dict[str, Any]:
    return {"key_version": version,
            "groups": [{"kind": b.kind, "blinded": [b64url_encode(e) for e in b.blinded]} for b in batches]}


def _finish(h: HubUnderTest, party: str, version: str, *batches: PseudonymBatch) -> list[list[str]]:
    resp = _evaluate(h, party, _batches_body(version, *batches))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["key_version"] == version and [g["kind"] for g in body["groups"]] == [b.kind for b in batches]
    pk = _public_key(h, version)
    return [b.finish(pk, [b64url_decode(e) for e in g["evaluated"]], b64url_decode(g["proof"]))
            for b, g in zip(batches, body["groups"], strict=True)]


def test_the_key_is_published_without_a_token(h: HubUnderTest) -> None:
    body = _key(h)
    ring = h.hub.pseudonyms.poprf_keyring()
    assert body["suite"] == "ristretto255-SHA512" and body["mode"] == "POPRF"
    assert body["current"] == ring.current_version
    assert [(k["key_version"], b64url_decode(k["public_key"]), k["current"]) for k in body["keys"]] == \
        [(v, pk, v == ring.current_version) for v, pk in ring.public_keys().items()]
    assert set(body["kinds"]) >= {"email", "phone", "payment_instrument", "provider_account"}
    # The seeds stay in the keyring file: nothing secret is published.
    seeds = json.loads(h.hub.pseudonyms.path.read_text())["poprf"].values()
    assert not any(seed in json.dumps(body) for seed in seeds)


def test_two_providers_with_the_same_card_get_the_same_pseudonym(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    (alice,), = [_finish(h, "alice", version, PseudonymBatch("payment_instrument", version, [CARD]))]
    (bob,), = [_finish(h, "bob", version, PseudonymBatch("payment_instrument", version, ["4111-1111-1111-1111"]))]
    assert alice == bob and POPRF_PSEUDONYM_RE.match(alice[0])
    # The same as the hub computes from the value in clear (RFC 9497 Evaluate).
    made = h.hub.pseudonyms.make("payment_instrument", [CARD], ["line 1"], scheme="poprf")
    assert made[0]["pseudonym"] == alice[0]


def test_one_request_one_proof_per_kind_and_kinds_do_not_mix(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    emails = PseudonymBatch("email", version, ["a@example.com", " a@EXAMPLE.com "])
    names = PseudonymBatch("name", version, ["a@example.com"])
    got_emails, got_names = _finish(h, "alice", version, emails, names)
    assert got_emails[0] == got_emails[1]  # normalised alike
    assert got_names[0] != got_emails[0]  # the kind is in the key (info)


def test_a_proof_does_not_verify_against_another_key(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    batch = PseudonymBatch("email", version, ["a@example.com"])
    body = _evaluate(h, "alice", _batches_body(version, batch)).get_json()
    (group,) = body["groups"]
    other = PoprfKeyring({version: PoprfKeyring.generate_seed()}, version).public_keys()[version]
    with pytest.raises(VerifyError, match="the hub's answer could not be verified"):
        batch.finish(other, [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"]))


def _identity() -> str:
    return b64url_encode(bytes(32))


@pytest.mark.parametrize(("body", "fragment"), [
    ({"groups": [{"kind": "iban", "blinded": [_identity()]}]}, "groups[0].kind must be one of"),
    ({"key_version": "k99", "groups": [{"kind": "email", "blinded": ["AA"]}]}, "key_version must be one of"),
    ({"groups": [{"kind": "email", "blinded": ["not base64!"]}]}, "groups[0].blinded[0] is not base64url"),
    ({"groups": [{"kind": "email", "blinded": [_identity()]}]}, "groups[0]: blinded element 0 is the identity"),
    ({"groups": [{"kind": "email", "blinded": [b64url_encode(b"\x01" * 31)]}]}, "must be 32 bytes"),
    ({"groups": [{"kind": "email", "blinded": [b64url_encode(b"\xff" * 32)]}]},
     "not a valid ristretto255 encoding"),
    ({"groups": [{"kind": "email", "blinded": ["AA"] * 1000}, {"kind": "name", "blinded": ["AA"] * 1001}]},
     "at most 2000 blinded elements per request, got 2001"),
    ({"groups": [{"kind": "email", "blinded": []}]}, "groups[0].blinded is empty"),
    ({"groups": [{"kind": "email", "blinded": ["AA"]}, {"kind": "email", "blinded": ["AA"]}]},
     "one group per kind"),
    ({"groups": []}, "'groups' must be a non-empty list"),
    ({"values": [{"kind": "email", "value": "x@example.com"}]}, "the body must be"),
    ([1, 2], "the body must be"),
])
def test_bad_requests_are_refused_with_the_reason(h: HubUnderTest, body: Any, fragment: str) -> None:
    resp = _evaluate(h, "gov", body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert fragment in resp.get_json()["description"]


def test_evaluation_needs_a_token(h: HubUnderTest) -> None:
    assert _evaluate(h, None, {"groups": [{"kind": "email", "blinded": [_identity()]}]}).status_code == 401


def test_every_element_counts_against_the_allowance(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    batch = PseudonymBatch("email", version, [f"user{i}@example.org" for i in range(40)])
    assert _evaluate(h, "flood", _batches_body(version, batch)).status_code == 200
    again = _evaluate(h, "flood", _batches_body(version, batch))
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    # Another party's allowance is its own.
    assert _evaluate(h, "bob", _batches_body(version, PseudonymBatch("email", version, ["x@example.org"]))) \
        .status_code == 200


def test_the_audit_trail_has_counts_per_kind_and_no_element(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    batch = PseudonymBatch("phone", version, ["+1 415 555 2671", "+44 20 7946 0958"])
    body = _batches_body(version, batch)
    assert _evaluate(h, "alice", body).status_code == 200
    h.hub.audit.flush()
    rows = [r for r in h.hub.store.iter_audit() if r.data.get("endpoint") == "pseudonyms/evaluate"]
    assert rows and rows[-1].data["kinds"] == {"phone": 2} and rows[-1].data["count"] == 2
    dump = json.dumps([r.data for r in rows])
    assert not any(e in dump for e in body["groups"][0]["blinded"])
    assert not any(v in dump for v in ("415 555 2671", "4155552671", "7946 0958", "2079460958"))


def test_the_raw_value_endpoint_is_off_and_says_where_to_go(h: HubUnderTest) -> None:
    resp = h.http.post(f"{h.api}/pseudonyms/", data=json.dumps({"values": [{"kind": "payment_instrument",
                                                                            "value": CARD}]}),
                         headers={**h.auth("alice"), "Content-Type": "application/json"})
    assert resp.status_code == 403
    text = resp.get_data(as_text=True)
    assert "pseudonyms/evaluate" in text and "accept_raw_values" in text and "4111" not in text
