"""Streaming standbys serve polls: on real clusters (a primary of the test's own and its hot
standbys) under a real server.

- A standby whose replay is paused keeps answering polls (which then show what it had replayed:
  the proof that it serves them), while the party that wrote since reads its own writes (its
  read mark sends it to the primary) and a cursor from a newer view is never served behind it.
- A standby killed with SIGKILL while polls run: every poll is answered, by the other standby or
  the primary, and paging through the collection still yields every object once.
- The primary stopped: reads keep answering from the standby, writes get a clear 503, a failed
  authentication is still a 401, the reads'
  audit records wait in the spool on disk until it is full, and then reads get a clear 503 too;
  after the standby is promoted, ``database_url`` changed in hub.toml and the server sent SIGHUP,
  writes are accepted again and every spooled record reaches the audit trail, which verifies.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from tests.factories import indicator
from tests.harness import HubUnderTest
from tests.replication.clusters import Cluster, wait_streaming
from tests.replication.conftest import hub_toml

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TAXII = "application/taxii+json;version=2.1"


def _post(hub: HubUnderTest, party: str, count: int) -> Any:
    """Submit ``count`` indicators as ``party``; the HTTP answer."""
    return hub.http.post(hub.collection_url("reports", "objects"), json={"objects": [indicator() for _ in range(count)]},
                         headers={**hub.auth(party), "Content-Type": TAXII, "Accept": TAXII}, timeout=30)


def _submit(hub: HubUnderTest, party: str, count: int) -> str:
    """Submit and wait until the status (read as ``party``) is complete; the status id."""
    r = _post(hub, party, count)
    assert r.status_code == 202, r.text
    status_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        s = hub.http.get(f"{hub.api}/status/{status_id}/", headers={**hub.auth(party), "Accept": TAXII}, timeout=30)
        assert s.status_code == 200, s.text  # found even before any standby has replayed it
        if s.json()["status"] == "complete":
            assert s.json()["success_count"] == count
            return status_id
        assert time.monotonic() < deadline, s.text
        time.sleep(0.1)


def _poll(hub: HubUnderTest, party: str, **params: Any) -> Any:
    r = hub.http.get(hub.collection_url("reports", "objects"), params=params,
                     headers={**hub.auth(party), "Accept": TAXII}, timeout=30)
    assert r.status_code == 200, r.text
    return r


def _ids(r: Any) -> list[str]:
    return [o["id"] for o in r.json().get("objects", [])]


def _all_ids(hub: HubUnderTest, party: str, limit: int = 5) -> list[str]:
    """Every object id, paging with ``next`` (each page its own request)."""
    out: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        body = _poll(hub, party, **params).json()
        out += [o["id"] for o in body.get("objects", [])]
        if not body.get("more"):
            return out
        params = {"limit": limit, "next": body["next"]}


def _standbys(hub: HubUnderTest) -> dict[str, dict[str, Any]]:
    r = hub.http.get(hub.base + "/readyz", timeout=30)
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()["standbys"]}


def test_a_paused_standby_serves_polls_and_a_writer_reads_its_writes(
        served: HubUnderTest, clusters: tuple[Cluster, list[Cluster]]) -> None:
    primary, (standby,) = clusters
    _submit(served, "alice", 3)
    wait_streaming(primary, standby)
    assert len(_ids(_poll(served, "bob"))) == 3
    # Each process says what it sees: "serving" once it read there, "ready" before.
    assert _standbys(served)["standby 1"]["state"] in ("serving", "ready")
    scraped = served.http.get(served.base + "/metrics", timeout=30).text
    assert ('abusehub_standby_state{standby="standby 1",state="serving"} 1' in scraped
            or 'abusehub_standby_state{standby="standby 1",state="ready"} 1' in scraped), scraped[-500:]
    assert 'abusehub_standby_lag_seconds{standby="standby 1"} ' in scraped

    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        status_id = _submit(served, "alice", 2)  # its status is read although the standby lacks it
        # bob wrote nothing: his polls are the paused standby's, which has the first three only.
        assert len(_ids(_poll(served, "bob"))) == 3
        # alice wrote since: her reads go where her writes are.
        mine = _poll(served, "alice")
        assert len(_ids(mine)) == 5
        # A cursor from alice's newer view is never served behind it: past her fourth object,
        # bob is given the fifth, not the standby's empty page.
        four = _poll(served, "alice", limit=4)
        fifth = _poll(served, "bob", added_after=four.headers["X-TAXII-Date-Added-Last"])
        assert _ids(fifth) == _ids(mine)[4:]
        assert _ids(_poll(served, "bob", limit=4, next=four.json()["next"])) == _ids(mine)[4:]
        s = served.http.get(f"{served.api}/status/{status_id}/", headers={**served.auth("alice"), "Accept": TAXII},
                            timeout=30)
        assert s.status_code == 200 and s.json()["status"] == "complete"
        # A collection made while the standby is paused is found (on the primary), not a 404.
        served.add_collection("fresh", {"bob": (True, False)})
        r = served.http.get(served.collection_url("fresh", "objects"), headers={**served.auth("bob"), "Accept": TAXII},
                            timeout=30)
        assert r.status_code == 200 and _ids(r) == [], r.text
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    wait_streaming(primary, standby)
    assert len(_ids(_poll(served, "bob"))) == 5


@pytest.mark.parametrize("clusters", [2], indirect=True)
def test_a_standby_killed_mid_poll_costs_no_answer(served: HubUnderTest,
                                                   clusters: tuple[Cluster, list[Cluster]]) -> None:
    primary, (first, second) = clusters
    _submit(served, "alice", 30)
    for s in (first, second):
        wait_streaming(primary, s)
    expected = _all_ids(served, "bob")
    assert len(expected) == 30 and _standbys(served)["standby 1"]["state"] in ("serving", "ready")

    failures: list[str] = []
    passes: list[int] = []
    stop = threading.Event()

    def poll_on() -> None:
        while not stop.is_set():
            try:
                got = _all_ids(served, "gov", limit=3)
            except AssertionError as exc:
                failures.append(str(exc)[:300])
                return
            if got != expected:
                failures.append(f"a pass read {len(got)} objects, not the 30 stored")
            passes.append(len(got))

    pollers = [threading.Thread(target=poll_on) for _ in range(3)]
    for t in pollers:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while len(passes) < 3 and not failures and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # SIGKILL while the pollers page through the collection
        killed_at = len(passes)
        while len(passes) < killed_at + 6 and not failures and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in pollers:
            t.join(60)
    assert not failures, failures
    assert len(passes) >= killed_at + 6
    states = _standbys(served)
    assert states["standby 1"]["state"] == "down"
    assert states["standby 2"]["state"] in ("serving", "ready")


@pytest.mark.parametrize("spool", [100])
def test_promotion_keeps_reads_and_sighup_takes_the_new_primary(
        served: HubUnderTest, clusters: tuple[Cluster, list[Cluster]], spool: int) -> None:
    primary, (standby,) = clusters
    _submit(served, "alice", 4)
    wait_streaming(primary, standby)
    time.sleep(1.5)  # the reads so far are appended to the chain (READ_FLUSH_S)
    reads_before = primary.sql("SELECT count(*) FROM audit_log WHERE kind = 'read'")
    primary.stop("fast")

    assert len(_ids(_poll(served, "bob"))) == 4  # read from the standby
    refused = _post(served, "alice", 1)
    assert refused.status_code == 503, refused.text
    assert "primary database does not answer" in refused.json()["description"]
    ready = served.http.get(served.base + "/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["status"] == "reads only", ready.text
    # A failed authentication is still a 401: its count is held until the primary answers.
    stranger = served.http.get(served.collection_url("reports", "objects"),
                               headers={"Authorization": "Bearer not-a-token", "Accept": TAXII}, timeout=30)
    assert stranger.status_code == 401, stranger.text
    held = [line for f in (served.home / "auth-spool").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert len(held) == 1, held  # on disk: a worker restarted meanwhile does not forget it

    standby.promote()
    assert len(_ids(_poll(served, "bob"))) == 4  # the promoted standby still answers
    assert _post(served, "alice", 1).status_code == 503  # the configured primary is still the old one
    served_while_down = 2
    while True:  # two workers, a spool of ``spool`` records each: reads are refused when it is full
        r = served.http.get(served.collection_url("reports", "objects"), headers={**served.auth("bob"), "Accept": TAXII},
                            timeout=30)
        if r.status_code == 503:
            assert "spool of read records is full" in r.json()["description"], r.text
            break
        assert r.status_code == 200 and served_while_down < 4 * spool, r.text
        served_while_down += 1
    assert served_while_down >= spool

    # A hub.toml that does not load is logged, and the running configuration kept.
    (served.home / "hub.toml").write_text(hub_toml(standby, []).replace("database_read_max_lag = 300",
                                                                        "database_read_max_lag = 0"))
    served.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while "configuration was not read again" not in served.read_log():
        assert time.monotonic() < deadline, served.read_log()[-2000:]
        time.sleep(0.2)
    assert "database_read_max_lag" in served.read_log()

    (served.home / "hub.toml").write_text(hub_toml(standby, []))
    served.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 90
    while True:
        r = _post(served, "alice", 1)
        if r.status_code == 202:
            break
        assert r.status_code == 503 and time.monotonic() < deadline, r.text
        time.sleep(0.5)
    _submit(served, "alice", 2)
    assert len(_ids(_poll(served, "bob", limit=50))) == 7
    # The failure held by a worker SIGHUP replaced is written with the next one counted.
    stranger = served.http.get(served.collection_url("reports", "objects"),
                               headers={"Authorization": "Bearer not-a-token", "Accept": TAXII}, timeout=30)
    assert stranger.status_code == 401, stranger.text
    assert standby.sql("SELECT coalesce(sum(count), 0) FROM auth_failures") == 2
    assert not list((served.home / "auth-spool").glob("*.jsonl"))
    assert "configuration was read again" in served.read_log()
    # Every read served while the primary was down reaches the chain from the spool.
    deadline = time.monotonic() + 60
    spool_files = served.home / "read-spool"
    while (list(spool_files.glob("*.jsonl"))
           or standby.sql("SELECT count(*) FROM audit_log WHERE kind = 'read'") < reads_before + served_while_down):
        assert time.monotonic() < deadline, "the spooled read records did not reach the audit trail"
        _poll(served, "gov")  # each server process appends (and drains) within a second of a read
        time.sleep(0.5)
    verified = served.cli("audit", "verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
