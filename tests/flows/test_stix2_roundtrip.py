"""Signatures survive a consumer reading the collection with stix2, the most used STIX library.

stix2 parses each object into Python values and writes it back; a timestamp without a precision
constraint comes back in its shortest form (``2025-03-01T09:30:00.000Z`` as
``2025-03-01T09:30:00Z``). Signatures of version 2 (docs/SIGNING.md, "The timestamp rule") cover a
form that does not see the difference; signatures of version 1 do, and fail.

A real hub on loopback, set up by the CLI as an operator would (tests/client/report_kit.py): a
collection that requires signatures, provider acme with a registered key, reader nosy. acme files
the README's example report twice: with ``abusehub report new`` as the README shows, and once more
with every timestamp on a whole second, built, signed and posted the way ``report new`` does it
(the same builder with the hub's pseudonyms, ``sign_objects``, a TAXII POST), since ``report new``
takes the current time. nosy reads the collection through stix2's ``TAXIICollectionSource``
(taxii2-client underneath), writes what stix2 serialises, and ``abusehub verify --keys
<hub>/api/keys/`` checks every signature of that file. The same objects signed with version 1 fail
exactly where stix2 respelled a timestamp.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import stix2
from taxii2client.v21 import Collection

from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey, signatures_of, unsigned_form
from hub.signing.documents import sign_objects
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import ReportFacts, build_report
from tests.client.report_kit import example_facts, example_table, set_up_hub, write
from tests.harness import HubUnderTest
from tests.signing.vectors import sign_v1

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"
# Every property of the example report that holds a timestamp and that stix2 reads as one.
TIMESTAMPS = ("created", "modified", "valid_from", "valid_until", "published", "first_seen", "last_seen")


class BearerAuth(requests.auth.AuthBase):
    """The hub's bearer token, for taxii2-client (which speaks HTTP through requests)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass
class RoundTrip:
    server: HubUnderTest
    a_dir: Path
    b_dir: Path
    collection: str
    stored: list[dict[str, Any]] = field(default_factory=list)  # as the hub serves them
    whole_second: list[dict[str, Any]] = field(default_factory=list)  # the second filing
    through_stix2: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> stix2's JSON
    outputs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)


def abusehub(cwd: Path, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
    """``abusehub ARGS`` as a user runs it, in ``cwd``, with no hub home of its own; its exit
    status must be ``code`` (None: the caller checks it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ABUSEHUB_"))}
    proc = subprocess.run([sys.executable, "-m", "hub", "--home", str(cwd / "no-hub"), *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=180)
    assert code is None or proc.returncode == code, f"abusehub {args[0]}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def stored_objects(server: HubUnderTest, collection: str, token: str) -> list[dict[str, Any]]:
    """Every object of the collection, page by page, as the hub serves it (plain TAXII 2.1)."""
    out: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "50"}
    while True:
        r = requests.get(f"{server.api}/collections/{collection}/objects/", params=params, timeout=30,
                         headers={"Authorization": f"Bearer {token}", "Accept": TAXII})
        assert r.status_code == 200, r.text
        page = r.json()
        out += page.get("objects", [])
        if not page.get("more"):
            return out
        params["next"] = page["next"]


def post_and_wait(server: HubUnderTest, collection: str, token: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """POST an envelope and follow the status resource until the hub has judged every object."""
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII}
    r = requests.post(f"{server.api}/collections/{collection}/objects/", data=json.dumps({"objects": objects}),
                      headers=headers, timeout=60)
    assert r.status_code == 202, r.text
    status = r.json()
    deadline = time.monotonic() + 120
    while status["status"] != "complete" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = requests.get(f"{server.api}/status/{status['id']}/", headers=headers, timeout=30).json()
    return status


class HubPseudonyms:
    """The pseudonyms the hub made for the first filing, handed to the builder again by kind."""

    def __init__(self, account: dict[str, Any]) -> None:
        ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
        self.by_kind = {"provider_account": ext["provider_account_pseudonym"], **ext.get("pseudonyms", {})}

    def pseudonym(self, kind: str, value: str) -> str:
        return str(self.by_kind[kind])


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundTrip]:
    home = tmp_path_factory.mktemp("hub")
    a_dir = tmp_path_factory.mktemp("provider-a")
    b_dir = tmp_path_factory.mktemp("party-b")
    tokens, ids, col = set_up_hub(home, a_dir)
    server = HubUnderTest.existing(home, tokens=tokens, identities=ids).serve()
    t = RoundTrip(server, a_dir, b_dir, col)
    try:
        acme = ids["acme"]
        # 1. The README's way: `abusehub report new` with the example facts.
        write(a_dir / "report.toml", example_facts(acme))
        t.outputs["report new"] = abusehub(
            a_dir, "report", "new", "report.toml", "--url", server.api + "/", "--collection", col,
            "--token-file", "acme.token", "--key", "analyst.pem", "--as", acme)

        # 2. The same report with every timestamp on a whole second: the facts' own are already
        # (first_seen, last_seen, ...); created, modified, valid_from, valid_until, published and
        # the signature's time are set here.
        [account] = [o for o in stored_objects(server, col, tokens["acme"]) if o["type"] == "user-account"]
        facts = ReportFacts.from_mapping({**example_table(), "provider_identity_id": acme})
        now = datetime.now(UTC).replace(microsecond=0)
        objects = build_report(facts, HubPseudonyms(account), now=now)
        key = SigningKey.from_pem((a_dir / "analyst.pem").read_bytes())
        # One second ahead: after the key's registration, well inside the hub's allowance.
        t.whole_second = sign_objects(objects, key, acme, signed=now + timedelta(seconds=1))
        status = post_and_wait(server, col, tokens["acme"], t.whole_second)
        assert (status["status"], status["failure_count"]) == ("complete", 0), status
        assert status["success_count"] == len(t.whole_second)

        t.stored = stored_objects(server, col, tokens["nosy"])

        # 3. nosy reads the collection with stix2 and writes what stix2 serialises.
        collection = Collection(f"{server.api}/collections/{col}/", auth=BearerAuth(tokens["nosy"]))
        source = stix2.TAXIICollectionSource(collection, allow_custom=True)
        lines = []
        for obj in source.query():
            text = obj.serialize()
            t.through_stix2[obj["id"]] = json.loads(text)
            lines.append(text + "\n")
        write(b_dir / "stix2.jsonl", "".join(lines))
        keys = server.api + "/keys/"
        t.outputs["verify"] = abusehub(b_dir, "verify", "stix2.jsonl", "--keys", keys, code=None)

        # 4. The old scheme: the same stored objects signed with version 1 instead, before and
        # after the same stix2 round trip.
        old, old_after = [], []
        for obj in t.stored:
            [entry] = signatures_of(obj)
            v1 = sign_v1(unsigned_form(obj), key, entry.signer, entry.signed)
            old.append(json.dumps(v1) + "\n")
            old_after.append(stix2.parse(v1, allow_custom=True).serialize() + "\n")
        write(b_dir / "v1.jsonl", "".join(old))
        write(b_dir / "v1-stix2.jsonl", "".join(old_after))
        t.outputs["verify v1"] = abusehub(b_dir, "verify", "v1.jsonl", "--keys", keys, code=None)
        t.outputs["verify v1 after stix2"] = abusehub(b_dir, "verify", "v1-stix2.jsonl", "--keys", keys,
                                                      code=None)
        yield t
    finally:
        server.close()


def _verdicts(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """object id -> "OK" or "FAILED", from `abusehub verify`'s lines."""
    out = {}
    for line in proc.stdout.splitlines():
        word, oid = line.split()[:2]
        out[oid] = word
    return out


def test_both_filings_are_stored_and_signed_with_version_2(trip: RoundTrip) -> None:
    assert "0 refused" in trip.outputs["report new"].stdout
    ids = {o["id"] for o in trip.stored}
    assert {o["id"] for o in trip.whole_second} <= ids
    assert len(ids) == len(trip.stored)
    for obj in trip.stored:
        [entry] = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
        assert (entry["version"], entry["signer"]) == ("2", trip.server.identities["acme"])


def test_the_second_filing_has_every_timestamp_on_a_whole_second(trip: RoundTrip) -> None:
    seen = set()
    for obj in trip.whole_second:
        for name in TIMESTAMPS:
            if name in obj:
                assert obj[name].endswith(".000Z"), (obj["type"], name, obj[name])
                seen.add((obj["type"], name))
        assert obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]["signed"].endswith(".000Z")
    assert seen >= {("indicator", "valid_from"), ("indicator", "valid_until"), ("report", "published"),
                    ("infrastructure", "first_seen"), ("infrastructure", "last_seen"),
                    ("relationship", "created"), ("report", "modified")}


def test_stix2_read_every_object_and_respelled_the_timestamps(trip: RoundTrip) -> None:
    """The round trip is real: stix2 changed what a version 1 signature covers."""
    assert set(trip.through_stix2) == {o["id"] for o in trip.stored}
    changed = {o["id"] for o in trip.stored if trip.through_stix2[o["id"]] != o}
    by_type = {o["id"]: o["type"] for o in trip.whole_second}
    respelled = {oid for oid, kind in by_type.items() if kind in ("infrastructure", "indicator", "report")}
    assert len(respelled) == 6 and respelled <= changed
    indicator = next(o for o in trip.whole_second if o["type"] == "indicator")
    for name in ("valid_from", "valid_until"):  # filed as "…:SS.000Z", read as "…:SSZ"
        assert trip.through_stix2[indicator["id"]][name] == indicator[name].replace(".000Z", "Z")
    infrastructure = next(o for o in trip.stored if o["type"] == "infrastructure")
    assert trip.through_stix2[infrastructure["id"]]["first_seen"] == "2025-02-12T21:14:00Z"
    assert infrastructure["first_seen"] == "2025-02-12T21:14:00.000Z"


def test_every_signature_verifies_after_stix2(trip: RoundTrip) -> None:
    verify = trip.outputs["verify"]
    n = len(trip.stored)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{n} OK, 0 FAILED" in verify.stderr
    assert set(_verdicts(verify).values()) == {"OK"} and len(_verdicts(verify)) == n


def test_the_old_scheme_fails_the_same_round_trip(trip: RoundTrip) -> None:
    before, after = trip.outputs["verify v1"], trip.outputs["verify v1 after stix2"]
    n = len(trip.stored)
    # The control: version 1 verifies untouched; after stix2, `verify` fails (exit 1).
    assert (before.returncode, after.returncode) == (0, 1), before.stdout + after.stdout
    assert f"{n} OK, 0 FAILED" in before.stderr
    changed = {o["id"] for o in trip.stored if trip.through_stix2[o["id"]] != o}
    failed = {oid for oid, word in _verdicts(after).items() if word == "FAILED"}
    assert failed == changed and len(failed) >= 7  # the first filing's infrastructure, at least
    assert f"{n - len(failed)} OK, {len(failed)} FAILED" in after.stderr
    assert "signature does not verify: object changed after signing" in after.stdout
