"""Batched oblivious evaluation and each party's allowance, on a real server (``abusehub serve``
through tests/harness.py, two workers sharing one allowance per party):

- ``POST pseudonyms/evaluate`` takes up to ``max_elements`` (2,000) blinded elements, published
  at ``GET pseudonyms/key``; one more is refused with 400 naming the cap;
- a party the operator gave a raised allowance (``abusehub party edit NAME
  --pseudonyms-per-minute N``, run beside the server) gets a large batch evaluated, with its
  one proof per kind, where a party on the hub's default is refused: 400 naming its allowance
  for more than the whole of it in one request, 429 with Retry-After once the minute's is used;
- cleared again (``--clear pseudonyms_per_minute``), the party is back on the default at its
  next request; the audit trail counts what each party had evaluated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms import POPRF_PSEUDONYM_RE, PseudonymBatch
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow

DEFAULT_PER_MINUTE = 100
RAISED = 5000
TOML = f"[pseudonyms]\nper_minute = {DEFAULT_PER_MINUTE}\naccept_raw_values = false\n"
PARTIES = {"bulk": "provider", "plain": "provider"}


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.served(tmp_path_factory.mktemp("allowance") / "hub", toml=TOML, parties=PARTIES,
                             grants={}) as served:
        yield served


def _key(h: HubUnderTest) -> dict[str, Any]:
    resp = h.http.get(f"{h.api}/pseudonyms/key", timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _evaluate(h: HubUnderTest, party: str, groups: list[dict[str, Any]], version: str) -> requests.Response:
    return h.http.post(f"{h.api}/pseudonyms/evaluate", json={"key_version": version, "groups": groups},
                       headers=h.auth(party), timeout=120)


def _batch(version: str, n: int, tag: str) -> PseudonymBatch:
    return PseudonymBatch("email", version, [f"{tag}{i}@bulk.example" for i in range(n)])


def _group(batch: PseudonymBatch) -> dict[str, Any]:
    return {"kind": batch.kind, "blinded": [b64url_encode(e) for e in batch.blinded]}


def _evaluated_counts(h: HubUnderTest) -> dict[str, int]:
    """The elements each party had evaluated, as the audit trail counts them."""
    with h.services() as hub:
        rows = [r for r in hub.store.iter_audit() if r.data.get("endpoint") == "pseudonyms/evaluate"]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.party] = counts.get(r.party, 0) + int(r.data["count"])
    return counts


def _counts_once_written(h: HubUnderTest, expected: dict[str, int]) -> dict[str, int]:
    """The counts, once the workers have written their read records (they do within a second or
    so), or whatever they are after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        counts = _evaluated_counts(h)
        if all(counts.get(p, 0) >= n for p, n in expected.items()) or time.monotonic() > deadline:
            return counts
        time.sleep(0.3)


def test_the_batch_cap_is_published_and_one_more_is_refused_by_name(h: HubUnderTest) -> None:
    key = _key(h)
    assert key["max_elements"] == 2000
    too_many = [{"kind": "email", "blinded": ["AA"] * 1500}, {"kind": "name", "blinded": ["AA"] * 501}]
    resp = _evaluate(h, "bulk", too_many, key["current"])
    assert resp.status_code == 400, resp.text
    assert "at most 2000 blinded elements per request, got 2001" in resp.json()["description"]


def test_a_raised_allowance_lets_a_large_batch_through_where_the_default_refuses_it(h: HubUnderTest) -> None:
    version = _key(h)["current"]
    public_key = b64url_decode(next(k["public_key"] for k in _key(h)["keys"] if k["key_version"] == version))
    before = _evaluated_counts(h)
    h.cli("party", "edit", "bulk", "--pseudonyms-per-minute", str(RAISED))
    large = _batch(version, 1500, "large")

    # The default party: more than its whole allowance in one request can never pass; 400 names it.
    refused = _evaluate(h, "plain", [_group(large)], version)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert f"more than party 'plain' may have a minute ({DEFAULT_PER_MINUTE}" in body["description"]
    assert "--pseudonyms-per-minute" in body["description"]
    assert body["details"] == {"allowance_per_minute": DEFAULT_PER_MINUTE, "requested": 1500}

    # The raised party: evaluated, with one proof for the kind that verifies, and its allowance said.
    resp = _evaluate(h, "bulk", [_group(large)], version)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["allowance_per_minute"] == RAISED
    (group,) = answer["groups"]
    made = large.finish(public_key, [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"]))
    assert len(made) == 1500 and all(POPRF_PSEUDONYM_RE.match(p) for p in made)

    # A whole default minute twice: the default party is told to wait (429), the raised one is not.
    minute = _batch(version, DEFAULT_PER_MINUTE, "minute")
    assert _evaluate(h, "plain", [_group(minute)], version).status_code == 200
    again = _evaluate(h, "plain", [_group(minute)], version)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    assert [_evaluate(h, "bulk", [_group(minute)], version).status_code for _ in range(2)] == [200, 200]

    # Cleared, the raised party is on the default again from its next request.
    h.cli("party", "edit", "bulk", "--clear", "pseudonyms_per_minute")
    back = _evaluate(h, "bulk", [_group(large)], version)
    assert back.status_code == 400 and back.json()["details"]["allowance_per_minute"] == DEFAULT_PER_MINUTE

    # The audit trail counts what each party had evaluated (refused requests count nothing).
    expected = {"bulk": before.get("bulk", 0) + 1500 + 2 * DEFAULT_PER_MINUTE,
                "plain": before.get("plain", 0) + DEFAULT_PER_MINUTE}
    assert _counts_once_written(h, expected) == expected
