"""Who filed it? Every observer guesses, and does no better than chance (token mode).

The observer test of tests/flows/test_anonymous_observers.py, for reports filed with submission
tokens. Two providers, ``alice`` and ``bob``, each fetch their tokens first (the issuance: each
authenticated, its count audited); then, in rounds in a random order balanced between the two,
one of them files a named report and, at once, an anonymous one paid with a token and sent with
no credential (``POST anonymous/redeem/``), its escrow record sealed by its own tool. The hub
publishes anonymous reports in batches at random moments of the publication window. Each
observer then guesses, per anonymous report, which provider filed it, with everything it holds:

- another party (``gov``) and a peer hub (``peerhub``): the published objects in ``date_added``
  order, by adjacency to named reports and by timestamp precision;
- the operator, with the home directory (the token keys included), the whole database and the
  server log, not the oversight key: every row, file and log line holding one of a report's own
  ids is searched for each provider's name, identity, key id and token hash; the spent tokens
  (key id and nonce) are searched for in everything the issuance left; and the timing attack:
  the party of the request just before each redemption (the tool's pseudonym request), mapped
  onto the published reports in ``date_added`` order.

The same binomial bound (a false alarm one run in a thousand); the controls show each strategy
naming the provider where a link exists: the tokens each provider holds name their spent rows,
and the redemptions mapped in filing order name every filer.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.filing import commitment, new_secret
from hub.anonymity.tokens import Token
from hub.client.anonymous import prepare_anonymous_report
from hub.client.http import HttpSession
from hub.client.reports import prepare_report, submit_report
from hub.client.tokens import (
    StoredToken,
    fetch_directory,
    fetch_tokens,
    read_directory,
    redeem_token,
    seal_submitter_record,
)
from hub.common.canonical import b64url_decode
from hub.signing import unsigned_form
from tests.flows.test_anonymous_observers import (
    PROVIDERS,
    ROUNDS,
    WINDOW,
    _database_rows,
    _facts,
    _home_records,
    _names,
    _read,
    _read_rows_in_added_order,
    _wait_published,
    accuracy,
    operator_search,
    reader_guesses,
    threshold,
)
from tests.harness import PARTIES
from tests.services.anonymity.conftest import build_anon_hub

pytestmark = pytest.mark.slow  # a real server process


def _fetch(hut: Any, provider: str, count: int) -> list[StoredToken]:
    with HttpSession(hut.url) as anonymous:
        key = read_directory(fetch_directory(anonymous, f"{anonymous.api}anonymity/token-keys/"))
    with HttpSession(hut.url, hut.tokens[provider]) as http:
        return fetch_tokens(http, key, count)


def _file_rounds(hut: Any, order: list[str], oversight: Any, tokens: dict[str, list[StoredToken]],
                 ) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    """Each round: the provider files a named report, then an anonymous one with a token. The
    truth (report id: provider), the named reports' ids, the receipts in the order filed."""
    rng = random.Random(11)
    truth: dict[str, str] = {}
    named: list[str] = []
    receipts: list[dict[str, Any]] = []
    collection = hut.collections["reports"]
    with HttpSession(hut.url) as anonymous:
        key = read_directory(fetch_directory(anonymous, f"{anonymous.api}anonymity/token-keys/"))
        for provider in order:
            identity, signing = hut.identities[provider], hut.keys[provider]
            with hut.client(provider) as client:
                prepared = prepare_report(client, _facts(identity, provider, rng), signing, identity)
                submit_report(client, collection, prepared, wait=30)
                named.append(prepared.report_id)
                built = prepare_anonymous_report(client, _facts(identity, provider, rng), signing, identity)
            objects = [unsigned_form(o) for o in built.objects]
            committed = commitment(new_secret())
            sealed = seal_submitter_record(signing, provider, identity, objects, committed, key.issuer,
                                           oversight.public_key)
            receipt = redeem_token(anonymous, collection, objects, committed, sealed, tokens[provider].pop())
            truth[receipt["report_id"]] = provider
            receipts.append(receipt)
    return truth, named, receipts


def test_no_observer_guesses_the_provider_of_a_token_filed_report_better_than_chance(backend: str,
                                                                                      tmp_path: Path) -> None:
    parties = {**PARTIES, "peerhub": "peer"}
    grants = {"reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False),
                          "peerhub": (True, False)}}
    hut, oversight = build_anon_hub(tmp_path / "home", backend, window=WINDOW, parties=parties,
                                    grants=grants, signed={"reports": False})
    with hut:
        markers = {p: [p, hut.identities[p], hut.keys[p].key_id, hashlib.sha256(hut.tokens[p].encode()).hexdigest()]
                   for p in PROVIDERS}
        hut.serve(workers=2)
        held = {p: _fetch(hut, p, ROUNDS // 2) for p in PROVIDERS}
        nonces = {p: {Token.decode(b64url_decode(t.token)).nonce.hex() for t in held[p]} for p in PROVIDERS}
        order = [p for p in PROVIDERS for _ in range(ROUNDS // 2)]
        random.SystemRandom().shuffle(order)
        truth, named, receipts = _file_rounds(hut, order, oversight, {p: list(ts) for p, ts in held.items()})
        _wait_published(hut, truth)
        anonymous = set(truth)
        n, k = len(truth), threshold(len(truth))
        rng = random.Random(uuid.uuid4().int)

        for reader in ("gov", "peerhub"):
            objects = _read(hut, reader)
            for strategy, guesses in reader_guesses(objects, hut, anonymous, rng).items():
                right = accuracy(guesses, truth)
                assert right < k, f"{reader} by {strategy}: {right} of {n} right (chance: under {k})"

        hut.stop()
        records = _database_rows(hut.config.effective_database_url) + _home_records(hut.home) + hut.read_log().splitlines()
        found = operator_search(records, {r["report_id"]: r["object_ids"] for r in receipts}, markers)
        assert not any(found.values()), {rid: who for rid, who in found.items() if who}
        # Control: the same search names the provider of every named report (its audit record).
        named_found = operator_search(records, {rid: [] for rid in named}, markers)
        assert [who for who in named_found.values()] == [[p] for p in order]

        # The spent tokens: no record of the hub (a row, a page of the database file, a log
        # line) puts a token's nonce beside anything that names a provider...
        spent = [r for r in records if r.startswith("spent_tokens: ")]
        assert len(spent) == n
        for record in records:
            if any(nonce in record for p in PROVIDERS for nonce in nonces[p]):
                for provider in PROVIDERS:
                    assert not any(_names(w, record) for w in markers[provider]), record
        # ...while the tokens each provider holds (what a hub seeing unblinded tokens at issuance
        # would have) name each spent row's provider exactly.
        holder = {nonce: p for p in PROVIDERS for nonce in nonces[p]}
        assert sorted(holder[next(x for x in holder if x in r)] for r in spent) == sorted(order)

        # Timing: the log tells who redeemed when (the tool's pseudonym request just before)...
        filers: list[str] = []
        last: str | None = None
        for line in hut.read_log().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("party") in PROVIDERS:
                last = entry["party"]
            if entry.get("endpoint") == "tokens.redeem_token" and entry.get("status") == 202:
                assert entry.get("party") is None and entry.get("collection") is None
                filers.append(last or "?")
        assert filers == order
        published = [o["id"] for o in _read_rows_in_added_order(hut) if o["id"] in anonymous]
        right = accuracy(dict(zip(published, filers, strict=True)), truth)
        assert right < k, f"operator by timing: {right} of {n} right (chance: under {k})"
        # ...and mapped in filing order (a hub publishing at once) it is exact.
        assert accuracy(dict(zip([r["report_id"] for r in receipts], filers, strict=True)), truth) == n
