"""``abusehub poll``: incremental, resumable, verified pulls from a real hub on loopback.

The tool runs as a subprocess, as a SOC's cron job runs it; interruptions are real (``kill -9``
while a page is held by a gate in front of the hub) or exact reconstructions of the state a
crash leaves (lines on disk past the cursor, half a line). Every check compares the output with
what the hub stored: the same object versions, in the same order, byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hub.client import poll as poll_module
from hub.client.errors import ConnectionFailed
from hub.client.poll import Poller, poll_collection
from hub.client.taxii import TaxiiClient
from hub.client.verify import KeySource, ObjectVerifier, read_failures
from hub.signing import sign_object
from hub.stix.basics import SCO_TYPES
from tests.client.polling_hub import (
    TAXII,
    GateProxy,
    clean_env,
    hub_cmd,
    id_versions,
    lines_of,
    new_collection,
    poll_args,
    post,
    run_hub,
    run_poll,
    serve_static,
    start_poll_hub,
    stored,
)
from tests.factories import identity, indicator, ipv4, ts
from tests.harness import HubUnderTest, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with start_poll_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def indicators(env: HubUnderTest, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [indicator(created_by_ref=env.identities["alice"], **extra) for _ in range(n)]


def cursor_of(out: Path) -> dict[str, Any]:
    return json.loads(out.with_name(out.name + ".cursor").read_text())


def assert_mirror(env: HubUnderTest, collection: str, out: Path) -> None:
    """The file holds every version the hub stored, once, in date_added order, byte for byte."""
    expected = stored(env, collection)
    got = id_versions(out)
    # No gap, same order. (An observable has no timestamps: its one version is its date_added.)
    assert got == [(i, None if i.split("--")[0] in SCO_TYPES else v) for i, v, _ in expected]
    assert len(set(got)) == len(got)  # no duplicate
    assert lines_of(out) == [text for _, _, text in expected]  # the stored JSON, as served
    cursor = cursor_of(out)
    assert cursor["count"] == len(expected) and cursor["offset"] == out.stat().st_size


def one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str, code: int = 1) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("abusehub: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# -- pulling ---------------------------------------------------------------------------------


def test_full_pull_then_only_new_objects(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Full pull")
    first = indicators(env, 7)
    post(env, col, first[:4])
    post(env, col, first[4:] + [ipv4("198.51.100.200"), identity("Alice Cloud", env.identities["alice"])])
    out = tmp_path / "feed.jsonl"

    proc = run_poll(env, col, out, "--limit", "4")
    assert "9 new objects in 3 pages" in proc.stdout and "(9 in all" in proc.stdout
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    assert_mirror(env, col, out)
    before = out.read_bytes()

    # New objects, and a new version of one already pulled: only those come the second time.
    newer = dict(first[0], modified=ts(30), confidence=90)
    post(env, col, indicators(env, 3) + [newer])
    proc = run_poll(env, col, out, "--limit", "4")
    assert "4 new objects in 1 page " in proc.stdout and "(13 in all" in proc.stdout
    assert out.read_bytes().startswith(before)
    assert_mirror(env, col, out)
    assert id_versions(out).count((first[0]["id"], first[0]["modified"])) == 1
    assert (first[0]["id"], ts(30)) in id_versions(out)

    # Nothing new: nothing written, success.
    proc = run_poll(env, col, out, "--json")
    summary = json.loads(proc.stdout)
    assert summary["fetched"] == 0 and summary["total"] == 13 and summary["complete"] is True
    assert_mirror(env, col, out)


def test_objects_posted_together_with_identical_timestamps_all_arrive(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Same instant")
    same = indicators(env, 12, created=ts(5), modified=ts(5))
    assert len({(o["created"], o["modified"]) for o in same}) == 1
    post(env, col, same)
    out = tmp_path / "same.jsonl"
    run_poll(env, col, out, "--limit", "5")
    assert_mirror(env, col, out)
    assert {i for i, _ in id_versions(out)} == {o["id"] for o in same}


def test_since_counts_on_the_first_run_only_and_types_filter(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Since")
    for obj in indicators(env, 3) + [ipv4("198.51.100.201")] + indicators(env, 2):
        post(env, col, [obj])
    r = requests.get(f"{env.url}collections/{col}/manifest/", params={"match[version]": "all"},
                     headers={"Accept": TAXII, **env.auth("soc")}, timeout=30)
    added = [m["date_added"] for m in r.json()["objects"]]
    out = tmp_path / "since.jsonl"
    run_poll(env, col, out, "--since", added[2], "--limit", "2")
    assert lines_of(out) == [text for _, _, text in stored(env, col)[3:]]

    post(env, col, indicators(env, 1))
    proc = run_poll(env, col, out, "--since", added[0])
    assert "--since ignored" in proc.stdout and "1 new object " in proc.stdout
    assert lines_of(out) == [text for _, _, text in stored(env, col)[3:]]

    only = tmp_path / "indicators.jsonl"
    run_poll(env, col, only, "--type", "indicator", "--limit", "2")
    assert [text for text in lines_of(only)] == [t for i, _, t in stored(env, col) if i.startswith("indicator--")]
    proc = run_poll(env, col, only, "--type", "indicator", "--type", "ipv4-addr", check=False)
    one_line_error(proc, f"cursor {only}.cursor belongs to another poll", "indicator")


# -- interruptions -----------------------------------------------------------------------------


def test_killed_after_the_first_page_resumes_without_gaps_or_duplicates(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Killed")
    post(env, col, indicators(env, 17))
    out = tmp_path / "killed.jsonl"
    gate = GateProxy(env.base)
    url = gate.url + "/api/"
    try:
        gate.hold(after=1)  # the second page waits at the gate until released
        proc = subprocess.Popen(hub_cmd(*poll_args(env, col, out, "--limit", "5", url=url)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env())
        cursor_path = out.with_name(out.name + ".cursor")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if cursor_path.exists() and json.loads(cursor_path.read_text())["count"] == 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the poll should be waiting at the gate"
        proc.kill()  # SIGKILL: no clean-up of any kind
        proc.wait(30)
        assert len(lines_of(out)) == 5 and cursor_of(out)["count"] == 5
        # What a crash in the middle of writing the next page leaves: half a line.
        with out.open("ab") as f:
            f.write(b'{"type":"indicator","spec_version":"2.1","id":"indicator--')
        gate.release()
        resumed = run_poll(env, col, out, "--limit", "5", url=url)
    finally:
        gate.close()
    assert "dropped 58 bytes" in resumed.stdout and "12 new objects" in resumed.stdout
    assert_mirror(env, col, out)


def test_lines_written_but_cursor_not_saved_are_fetched_again_once(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Crash before cursor")
    post(env, col, indicators(env, 12))
    out = tmp_path / "crash.jsonl"
    run_poll(env, col, out, "--limit", "5")
    assert_mirror(env, col, out)
    # Put back the cursor as it stood after the first page, as if the process died after
    # writing (and fsyncing) the lines of pages 2 and 3 but before recording them.
    r = requests.get(f"{env.url}collections/{col}/objects/",
                     params={"limit": "5", "match[version]": "all"},
                     headers={"Accept": TAXII, **env.auth("soc")}, timeout=30)
    first_page = lines_of(out)[:5]
    cursor = cursor_of(out)
    cursor.update(added_after=r.headers["X-TAXII-Date-Added-Last"], count=5,
                  offset=sum(len(line.encode()) + 1 for line in first_page))
    out.with_name(out.name + ".cursor").write_text(json.dumps(cursor))

    proc = run_poll(env, col, out, "--limit", "5")
    assert "7 new objects" in proc.stdout and "dropped" in proc.stdout
    assert_mirror(env, col, out)


class FailingTransport(httpx.HTTPTransport):
    """The network, except that the ``fail_on``-th GET of objects fails as a dropped network would."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.gets = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/objects/"):
            self.gets += 1
            if self.gets == self.fail_on:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return super().handle_request(request)


def test_network_error_mid_pull_keeps_what_was_written(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Network error")
    post(env, col, indicators(env, 14))
    out = tmp_path / "net.jsonl"
    failing = TaxiiClient(env.url, env.tokens["soc"], transport=FailingTransport(fail_on=3))
    poller = Poller(failing, col, out, limit=5)
    with failing, pytest.raises(ConnectionFailed, match="connection refused"):
        poller.run()
    assert poller.result.fetched == 10 and not poller.result.complete
    assert lines_of(out) == [t for _, _, t in stored(env, col)[:10]]
    assert cursor_of(out)["count"] == 10

    with TaxiiClient(env.url, env.tokens["soc"]) as client:
        result = poll_collection(client, col, out, limit=5)
    assert result.fetched == 4 and result.complete and result.resumed
    assert_mirror(env, col, out)


def test_interrupted_in_the_middle_of_writing_a_page(env: HubUnderTest, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    col = new_collection(env, "Ctrl-C")
    post(env, col, indicators(env, 11))
    out = tmp_path / "ctrlc.jsonl"
    real_append = poll_module._Output.append
    calls = []

    def append_then_interrupt(self: Any, data: bytes) -> None:
        calls.append(len(data))
        if len(calls) == 2:  # half of the second page reaches the disk, then Ctrl-C
            os.pwrite(self.fd, data[: len(data) // 2], self.size)
            raise KeyboardInterrupt
        real_append(self, data)

    monkeypatch.setattr(poll_module._Output, "append", append_then_interrupt)
    with TaxiiClient(env.url, env.tokens["soc"]) as client:
        poller = Poller(client, col, out, limit=5)
        with pytest.raises(KeyboardInterrupt):
            poller.run()
    assert poller.result.fetched == 5 and cursor_of(out)["count"] == 5
    assert out.stat().st_size > cursor_of(out)["offset"]
    monkeypatch.setattr(poll_module._Output, "append", real_append)

    with TaxiiClient(env.url, env.tokens["soc"]) as client:
        result = poll_collection(client, col, out, limit=5)
    assert result.discarded_bytes > 0 and result.fetched == 6
    assert_mirror(env, col, out)


# -- signatures ------------------------------------------------------------------------------


def test_signed_collection_verifies(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Signed", signed=True)
    alice = env.identities["alice"]
    post(env, col, [sign_object(o, env.keys["alice"], alice) for o in indicators(env, 4)])
    out = tmp_path / "signed.jsonl"
    proc = run_poll(env, col, out, "--verify", "--limit", "3")
    assert "signatures: 4 verified, 0 unsigned, 0 FAILED" in proc.stdout
    assert_mirror(env, col, out)
    assert not out.with_name(out.name + ".failed").exists()


def test_a_tampered_signature_fails_and_exits_non_zero(env: HubUnderTest, tmp_path: Path) -> None:
    # The collection does not require signatures, so the hub stores what it is given: the
    # poller is where a changed object is caught.
    col = new_collection(env, "Tampered")
    alice = env.identities["alice"]
    good, bad, plain = indicators(env, 3)
    good = sign_object(good, env.keys["alice"], alice)
    bad = sign_object(bad, env.keys["alice"], alice)
    bad["pattern"] = "[ipv4-addr:value = '192.0.2.66']"
    post(env, col, [good, bad, plain])
    out = tmp_path / "tampered.jsonl"

    proc = run_poll(env, col, out, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "signatures: 1 verified, 1 unsigned, 1 FAILED" in proc.stdout
    assert f"FAILED  {bad['id']} (version {bad['modified']}):" in proc.stdout
    assert "signature does not verify" in proc.stdout
    assert "1 object FAILED the signature check" in proc.stderr and "Traceback" not in proc.stderr
    assert_mirror(env, col, out)  # written all the same: the file mirrors the collection
    assert read_failures(out.with_name(out.name + ".failed")) == {(bad["id"], bad["modified"])}

    # The blocklist leaves the failed version out.
    blk = run_hub("export", "blocklist", "--in", str(out), "--at", ts(0, day=2), "--format", "csv")
    assert "192.0.2.66" not in blk.stdout and good["id"] in blk.stdout and plain["id"] in blk.stdout
    assert "1 failed the signature check" in blk.stderr

    # --verify: the unsigned object fails too; --no-verify: nothing is checked.
    strict = run_poll(env, col, tmp_path / "strict.jsonl", "--verify", check=False)
    assert strict.returncode == 3 and "1 verified, 0 unsigned, 2 FAILED" in strict.stdout
    assert f"FAILED  {plain['id']} (version {plain['modified']}): not signed" in strict.stdout
    lax = run_poll(env, col, tmp_path / "lax.jsonl", "--no-verify")
    assert "signatures: not checked" in lax.stdout

    # A key set given as a file verifies the same way.
    keys = tmp_path / "keys.json"
    keys.write_bytes(requests.get(env.url + "keys/", timeout=30).content)
    again = run_poll(env, col, tmp_path / "again.jsonl", "--keys", str(keys), check=False)
    assert again.returncode == 3 and "1 verified, 1 unsigned, 1 FAILED" in again.stdout


def test_a_key_registered_during_the_run_is_fetched_again(env: HubUnderTest, tmp_path: Path) -> None:
    from hub.signing import SigningKey

    col = new_collection(env, "New key")
    alice = env.identities["alice"]
    out = tmp_path / "newkey.jsonl"
    with TaxiiClient(env.url, env.tokens["soc"]) as client:
        keys = KeySource(env.url + "keys/", client)
        keys.get()  # the set as it was before the new key
        fresh = SigningKey.generate()
        with env.services() as hub:
            hub.keys.add("alice", fresh.public_key.to_jwk())
        post(env, col, [sign_object(o, fresh, alice) for o in indicators(env, 2)])
        result = poll_collection(client, col, out, verifier=ObjectVerifier("auto", keys))
    assert result.signatures.verified == 2 and not result.signatures.failed


# -- errors ----------------------------------------------------------------------------------


def test_hub_errors_are_one_line_naming_the_collection(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Errors")
    post(env, col, indicators(env, 2))
    out = tmp_path / "e.jsonl"
    wrong = tmp_path / "wrong.token"
    wrong.write_text("ahub_this-is-not-a-valid-token-0123456789\n")
    proc = run_hub("poll", "--url", env.url, "--collection", col, "--out", str(out),
                   "--token-file", str(wrong), check=False)
    one_line_error(proc, "did not accept the token", col, "(401)")
    assert "this-is-not-a-valid-token" not in proc.stdout + proc.stderr
    assert not out.with_name(out.name + ".cursor").exists()

    one_line_error(run_poll(env, col, out, party="eve", check=False), f"no read access to collection {col}", "(403)")
    missing = "7d1b3a8e-2b43-4d59-9a4c-0e6f0c9d8a11"
    one_line_error(run_poll(env, missing, out, check=False), f"no collection {missing}", "(404)")
    dead = f"http://127.0.0.1:{free_port()}/api/"
    one_line_error(run_poll(env, col, out, url=dead, check=False), "cannot reach the hub", "connection refused")
    for static in serve_static(200, b"<html><body>Welcome</body></html>", "text/html"):
        one_line_error(run_poll(env, col, out, url=static + "/api/", check=False),
                       "did not answer as a TAXII 2.1 server", "text/html")
    for static in serve_static(404, b"<html>Not Found</html>", "text/html"):
        one_line_error(run_poll(env, col, out, url=static + "/", check=False),
                       f"no collection {col}", "is --url the API root")
    token = env.tokens["soc"]
    for proc in (run_hub("poll", "--url", env.url, "--collection", col, "--out", str(out), check=False),
                 run_poll(env, col, out, "--since", "yesterday", check=False),
                 run_poll(env, col, out, "--type", "Not A Type", check=False),
                 run_hub("poll", "--url", "ftp://hub.example/api/", "--collection", col,
                         "--out", str(out), "--token", token, check=False),
                 run_hub("poll", "--url", "http://hub.example/api/", "--collection", col,
                         "--out", str(out), "--token", token, check=False)):
        one_line_error(proc)
        assert token not in proc.stdout + proc.stderr
    assert not out.exists() or out.stat().st_size == 0


def test_local_state_errors_lose_nothing(env: HubUnderTest, tmp_path: Path) -> None:
    col = new_collection(env, "Local state")
    other = new_collection(env, "Other")
    post(env, col, indicators(env, 3))
    out = tmp_path / "state.jsonl"
    run_poll(env, col, out)
    kept = out.read_bytes()
    cursor_path = out.with_name(out.name + ".cursor")

    one_line_error(run_poll(env, other, out, check=False), f"cursor {cursor_path} belongs to another poll", col)
    good_cursor = cursor_path.read_text()
    cursor_path.write_text('{"url": "' + env.url + '", "collection": ')
    one_line_error(run_poll(env, col, out, check=False), f"cursor {cursor_path} is corrupt")
    cursor_path.write_text(json.dumps({**json.loads(good_cursor), "offset": len(kept) + 10}))
    one_line_error(run_poll(env, col, out, check=False), "shorter", "than its cursor")
    assert out.read_bytes() == kept

    cursor_path.write_text(good_cursor)
    held = poll_module._Output(out)  # another run holds the file
    try:
        one_line_error(run_poll(env, col, out, check=False), f"another poll is writing {out}")
    finally:
        held.close()
    run_poll(env, col, out)

    cursor_path.unlink()
    one_line_error(run_poll(env, col, out, check=False), "already holds data but has no cursor")
    assert out.read_bytes() == kept
