"""Who filed it? Every observer guesses, and does no better than chance (attested mode).

Two providers, ``alice`` and ``bob``, file comparable reports into one collection of a real hub
(a server process, two workers): in each round one of them, in a random order balanced between
the two, files a named report and then, at once, an anonymous one. The hub publishes anonymous
reports in batches, at random moments in the publication window after the one they were filed
in. Then each observer plays with everything it holds and guesses, per anonymous report, which
provider filed it:

- another party (``gov``, a reader of the collection) and a peer hub (``peerhub``, pulling it):
  the published objects in ``date_added`` order, names, creators, timestamps, ids and order.
  Guess: the provider of the named report nearest in ``date_added`` (adjacency), and the
  provider whose named reports share the anonymous report's fine timestamp digits (precision);
- the operator, with the home directory, the whole database and the server log, but not the
  oversight key: every row, file and log line that holds the report's id or one of its objects'
  ids is searched for each provider's party name, identity id, key id and token hash; and the
  timing attack: the log tells which party made the request just before each anonymous filing
  (its pseudonym evaluation), so the operator knows who filed, in what order; it maps the
  filings onto the published reports in ``date_added`` order.

**The bound.** Under the hypothesis that an observer learns nothing, each of its n guesses is
right with probability 1/2 independently (the providers' order is a fair random draw and a
guess made without information is a coin), so its number of right guesses is Binomial(n, 1/2).
The test fails if an observer is right at least k times, k the smallest count with
P(X >= k) <= 0.001: a false alarm one run in a thousand, while an observer that really tells
the providers apart (the controls below: the same guesses on what the hub received, or with
filings mapped in filing order) is right every time and fails it by far. For n = 32, k = 26.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.client.anonymous import AnonymousResult, file_anonymous_report, prepare_anonymous_report
from hub.client.reports import prepare_report, submit_report
from hub.signing import SIGNATURE_EXTENSION_ID
from tests.factories import report_facts
from tests.harness import PARTIES
from tests.services.anonymity.conftest import build_anon_hub

pytestmark = pytest.mark.slow  # a real server process

ROUNDS = 32
WINDOW = 6  # seconds: [anonymity] publish_window_seconds
PROVIDERS = ("alice", "bob")
FALSE_ALARM = 0.001


def threshold(n: int) -> int:
    """The smallest k with P(Binomial(n, 1/2) >= k) <= FALSE_ALARM."""
    tail = 0.0
    for k in range(n, -1, -1):
        tail += math.comb(n, k) / 2**n
        if tail > FALSE_ALARM:
            return k + 1
    return 0


def accuracy(guesses: dict[str, str], truth: dict[str, str]) -> int:
    return sum(1 for rid, who in truth.items() if guesses.get(rid) == who)


def _facts(identity: str, provider: str, rng: random.Random) -> Any:
    n = rng.randrange(1, 250)
    return report_facts(identity, account_id=f"acct-{rng.randrange(10**6):06d}", provider_name=f"{provider.title()} Cloud",
                        resources=[f"198.51.100.{n}"], tlp="green", abuse_types=["scanning"])


def _file_rounds(hut: Any, order: list[str]) -> tuple[dict[str, str], list[str], list[AnonymousResult]]:
    """Each round: the provider files a named report, then an anonymous one. The truth (report
    id: provider), the named reports' ids, the anonymous filings in the order made."""
    rng = random.Random(7)
    truth: dict[str, str] = {}
    named: list[str] = []
    filed: list[AnonymousResult] = []
    collection = hut.collections["reports"]
    for provider in order:
        identity, key = hut.identities[provider], hut.keys[provider]
        with hut.client(provider) as client:
            prepared = prepare_report(client, _facts(identity, provider, rng), key, identity)
            submit_report(client, collection, prepared, wait=30)
            named.append(prepared.report_id)
            anonymous = prepare_anonymous_report(client, _facts(identity, provider, rng), key, identity)
            result = file_anonymous_report(client, collection, anonymous)
        truth[result.report_id] = provider
        filed.append(result)
    return truth, named, filed


def _read(hut: Any, party: str) -> list[dict[str, Any]]:
    with hut.client(party) as client:
        return [o.data for page in client.pages(hut.collections["reports"]) for o in page.objects]


def _wait_published(hut: Any, report_ids: Iterable[str]) -> None:
    wanted = set(report_ids)
    deadline = time.monotonic() + 4 * WINDOW + 60
    while time.monotonic() < deadline:
        if wanted <= {o["id"] for o in _read(hut, "gov")}:
            return
        time.sleep(1)
    pytest.fail("the anonymous reports were not all published within two windows")


# -- what a reader (another party, a peer hub) can try -----------------------------------------

def _creator_party(objects: list[dict[str, Any]], hut: Any) -> dict[str, str]:
    by_identity = {hut.identities[p]: p for p in PROVIDERS}
    return {o["id"]: by_identity[o["created_by_ref"]] for o in objects
            if o.get("type") == "report" and o.get("created_by_ref") in by_identity}


def reader_guesses(objects: list[dict[str, Any]], hut: Any, anonymous: set[str], rng: random.Random) -> dict[str, dict[str, str]]:
    """Each strategy's guess per anonymous report, from the objects in date_added order."""
    named = _creator_party(objects, hut)
    positions = {o["id"]: i for i, o in enumerate(objects)}
    named_at = sorted((positions[rid], who) for rid, who in named.items())
    adjacency: dict[str, str] = {}
    for rid in anonymous:
        at = positions[rid]
        adjacency[rid] = min(named_at, key=lambda item: (abs(item[0] - at), rng.random()))[1]
    # Precision: the provider whose named reports' created timestamps share the anonymous one's
    # sub-second digits and second (a tool's clock, a fixed offset); a coin where none does.
    reports = {o["id"]: o for o in objects if o.get("type") == "report"}
    precision: dict[str, str] = {}
    for rid in anonymous:
        mine = reports[rid]["created"][17:]
        matches = [who for nid, who in named.items() if reports[nid]["created"][17:] == mine]
        precision[rid] = max(PROVIDERS, key=lambda p: (matches.count(p), rng.random()))
    return {"adjacency": adjacency, "precision": precision}


# -- what the operator can try -----------------------------------------------------------------

def _database_rows(url: str) -> list[str]:
    engine = sa.create_engine(url)
    rows: list[str] = []
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    rows.append(f"{table}: " + json.dumps([str(v) for v in row]))
    finally:
        engine.dispose()
    return rows


_PRINTABLE = re.compile(rb"[\x20-\x7e]{8,}")


def _home_records(home: Path) -> list[str]:
    """Every file of the home directory as records: lines of a text file; of a binary file
    (the SQLite database, its WAL, free pages with deleted rows included), every run of
    printable bytes, as ``strings`` finds them (a stored value is one run; the bytes between
    two columns or rows are not printable)."""
    out: list[str] = []
    for path in sorted(home.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if b"\0" not in data:
                out += data.decode("utf-8", "replace").splitlines()
            else:
                out += [m.group().decode("ascii") for m in _PRINTABLE.finditer(data)]
    return out


def _names(word: str, record: str) -> bool:
    """Whether ``record`` holds ``word`` as a word of its own (a party name, an id, a key id or
    a hash), not as letters inside another word or a base64 value."""
    return re.search(r"(?<![0-9A-Za-z_-])" + re.escape(word) + r"(?![0-9A-Za-z_-])", record, re.IGNORECASE) is not None


def operator_search(records: list[str], reports: dict[str, list[str]], markers: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each report (its id: its objects' ids), the providers whose markers share a record
    with one of the ids that belong to it alone (not an observable's, which any report about the
    same resource carries)."""
    found: dict[str, list[str]] = {}
    for report_id, ids in reports.items():
        own = [i for i in {report_id, *ids} if not i.startswith(("ipv4-addr", "user-account"))]
        hits = [r for r in records if any(i in r for i in own)]
        found[report_id] = sorted({p for p, words in markers.items() for r in hits
                                   if any(_names(w, r) for w in words)})
    return found


def operator_timing(log: str, objects_by_added: list[str], anonymous: set[str]) -> tuple[list[str], list[str]]:
    """From the log: the party of the request just before each anonymous filing, in order;
    and the anonymous reports in date_added order (what the operator maps them onto)."""
    last_party: str | None = None
    filers: list[str] = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("party") in PROVIDERS:
            last_party = entry["party"]
        if entry.get("endpoint") == "anonymous.file_anonymously" and entry.get("status") == 202:
            assert entry.get("party") is None and entry.get("collection") is None
            filers.append(last_party or "?")
    published = [rid for rid in objects_by_added if rid in anonymous]
    return filers, published


def test_no_observer_guesses_the_provider_of_an_anonymous_report_better_than_chance(backend: str, tmp_path: Path) -> None:
    parties = {**PARTIES, "peerhub": "peer"}
    grants = {"reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False),
                          "peerhub": (True, False)}}
    hut, _oversight = build_anon_hub(tmp_path / "home", backend, window=WINDOW, parties=parties,
                                     grants=grants, signed={"reports": False})
    with hut:
        markers = {p: [p, hut.identities[p], hut.keys[p].key_id, hashlib.sha256(hut.tokens[p].encode()).hexdigest()]
                   for p in PROVIDERS}
        hut.serve(workers=2)
        order = [p for p in PROVIDERS for _ in range(ROUNDS // 2)]
        random.SystemRandom().shuffle(order)
        truth, named, filed = _file_rounds(hut, order)
        _wait_published(hut, truth)
        anonymous = set(truth)
        n, k = len(truth), threshold(len(truth))
        rng = random.Random(uuid.uuid4().int)

        for reader in ("gov", "peerhub"):
            objects = _read(hut, reader)
            for strategy, guesses in reader_guesses(objects, hut, anonymous, rng).items():
                right = accuracy(guesses, truth)
                assert right < k, f"{reader} by {strategy}: {right} of {n} right (chance: under {k})"

        # Control: what the hub received (each object signed by its provider) names the filer.
        signer = {hut.identities[p]: p for p in PROVIDERS}
        received = {r.report_id: signer[r.prepared.objects[-1]["extensions"][SIGNATURE_EXTENSION_ID]
                                        ["signatures"][0]["signer"]] for r in filed}
        assert accuracy(received, truth) == n

        hut.stop()
        records = _database_rows(hut.config.effective_database_url) + _home_records(hut.home) + hut.read_log().splitlines()
        found = operator_search(records, {r.report_id: (r.receipt or {})["object_ids"] for r in filed}, markers)
        assert not any(found.values()), {rid: who for rid, who in found.items() if who}
        # Control: the same search names the provider of every named report (its audit record).
        named_found = operator_search(records, {rid: [] for rid in named}, markers)
        assert [who for who in named_found.values()] == [[p] for p in order]

        by_added = [o["id"] for o in _read_rows_in_added_order(hut)]
        filers, published = operator_timing(hut.read_log(), by_added, anonymous)
        assert filers == order  # the log does tell who filed, and when...
        guesses = dict(zip(published, filers, strict=True))
        right = accuracy(guesses, truth)
        assert right < k, f"operator by timing: {right} of {n} right (chance: under {k})"
        # ...and mapped in filing order (what a hub publishing at once would allow) it is exact.
        assert accuracy(dict(zip([r.report_id for r in filed], filers, strict=True)), truth) == n


def _read_rows_in_added_order(hut: Any) -> list[dict[str, Any]]:
    """The collection's object versions as the operator reads them from the database, oldest
    date_added first."""
    engine = sa.create_engine(hut.config.effective_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT json_text FROM objects ORDER BY date_added_us")).all()
    finally:
        engine.dispose()
    return [json.loads(r[0]) for r in rows]


def test_the_threshold_is_the_binomial_tail() -> None:
    assert threshold(32) == 26
    assert sum(math.comb(32, j) for j in range(26, 33)) / 2**32 <= FALSE_ALARM
    assert sum(math.comb(32, j) for j in range(25, 33)) / 2**32 > FALSE_ALARM
