"""The operator's side of the app, in-process on every store: /healthz and /readyz, /metrics
(who may read it, and what it counts), request ids and the request log line, and the limits
every worker shares (failed authentications, the pseudonym allowance)."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import psutil
import pytest
import requests
from flask.testing import FlaskClient

from hub.config import load_config
from hub.server import create_app
from hub.server.logs import JsonFormatter, TextFormatter
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests.conftest import HubFactory
from tests.factories import indicator
from tests.harness import TEST_TOML, FrozenClock, HubUnderTest, run_cli

TAXII = "application/taxii+json;version=2.1"


def metric_lines(client: FlaskClient, **kwargs: object) -> dict[str, float]:
    """The samples of GET /metrics, by name and labels."""
    r = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 200, r.data
    out = {}
    for line in r.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


# -- health and readiness -------------------------------------------------------------------

def test_healthz_and_readyz_answer_without_credentials(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json == {"status": "ready"}


def test_readyz_is_503_naming_an_old_schema(seeded: HubUnderTest) -> None:
    store = seeded.hub.store
    assert isinstance(store, SqlStore)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    r = seeded.http.get("/readyz")
    assert r.status_code == 503 and r.headers["Content-Type"] == TAXII
    assert r.json["http_status"] == "503" and "revision 0003" in r.json["description"]
    assert "abusehub migrate" in r.json["description"]
    assert seeded.http.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    hub = Hub(config, SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/x"))
    client = create_app(config, hub).test_client()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json["description"] == "the database does not answer"
    assert "127.0.0.1" not in r.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


# -- the SQLite file the hub opened ---------------------------------------------------------

def _post(h: HubUnderTest, *objects: dict[str, object]) -> tuple[int, dict[str, object]]:
    r = h.http.post(h.collection_url("reports", "objects"), data=orjson.dumps({"objects": list(objects)}),
                      headers={**h.auth("alice"), "Content-Type": TAXII})
    return r.status_code, r.json


def test_a_database_file_moved_or_replaced_under_the_hub_is_refused_and_never_made_anew(tmp_path: Path) -> None:
    with HubUnderTest.build(tmp_path) as h:
        db, away = tmp_path / "hub.db", tmp_path.parent / f"{tmp_path.name}-moved.db"
        first, second = indicator(), indicator()
        assert _post(h, first)[0] == 202
        os.rename(db, away)
        try:
            r = h.http.get("/readyz")
            assert r.status_code == 503 and r.headers["Content-Type"] == TAXII and r.headers["Retry-After"]
            assert "database file hub.db was moved or deleted" in r.json["description"]
            r = h.http.post(h.collection_url("reports", "objects"), data=orjson.dumps({"objects": [second]}),
                              headers={**h.auth("alice"), "Content-Type": TAXII})
            assert r.status_code == 503 and r.json["http_status"] == "503"
            assert r.headers["Retry-After"] == "5"  # when to try again, as for a 429
            assert "database file hub.db was moved or deleted" in str(r.json["description"])
            r = h.http.get(h.collection_url("reports", "objects"), headers=h.auth("alice"))
            assert r.status_code == 503 and r.headers["Retry-After"] == "5"
            h.hub.store.engine.dispose()  # fresh connections: they must not make an empty file
            assert h.http.get("/readyz").status_code == 503 and _post(h, second)[0] == 503
            assert not db.exists()
        finally:
            os.rename(away, db)
        # Back in place: the same file, ready again, nothing lost.
        assert h.http.get("/readyz").status_code == 200
        assert _post(h, second)[0] == 202
        r = h.http.get(h.collection_url("reports", "objects"), headers=h.auth("alice"))
        assert {o["id"] for o in r.json["objects"]} == {first["id"], second["id"]}
        # Another file at the same path (a restore, a copy) is not the one the hub opened.
        shutil.copy(db, away)
        os.replace(away, db)
        r = h.http.get("/readyz")
        assert r.status_code == 503 and "database file hub.db was replaced" in r.json["description"]
        assert _post(h, indicator())[0] == 503


def _worker_pids(server_pid: int) -> set[int]:
    return {p.pid for p in psutil.Process(server_pid).children()}


@pytest.mark.slow
def test_a_real_server_refuses_reads_and_writes_when_its_database_file_is_moved(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    run_cli(home, "init")
    h = HubUnderTest.existing(home)
    h.add_party("alice", "provider")
    h.add_collection("reports", {"alice": (True, True)})
    server = h.serve(workers=2).server
    db, away = home / "hub.db", tmp_path / "hub.db.moved"
    url = h.collection_url("reports", "objects")
    headers = {**h.auth("alice"), "Content-Type": TAXII, "Accept": TAXII}
    first, second = indicator(), indicator()

    def post(obj: dict[str, object]) -> requests.Response:
        return requests.post(url, data=orjson.dumps({"objects": [obj]}), headers=headers, timeout=30)

    def refused_everywhere() -> None:
        for _ in range(8):  # several requests: both workers answer some
            r = requests.get(server.base + "/readyz", timeout=30)
            assert r.status_code == 503 and "hub.db was moved or deleted" in r.json()["description"]
        r = post(second)
        assert r.status_code == 503 and r.headers["Content-Type"] == TAXII and r.headers["Retry-After"] == "5"
        assert r.json()["http_status"] == "503" and "hub.db was moved or deleted" in r.json()["description"]
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert not db.exists()

    try:
        assert post(first).status_code == 202
        os.rename(db, away)
        refused_everywhere()
        # A worker started after the move (gunicorn replaces one that dies) serves the file
        # serve checked, or nothing: it does not make a new one.
        before = _worker_pids(server.process.pid)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_worker_pids(server.process.pid) - before) < 1:
            time.sleep(0.2)
        assert victim not in _worker_pids(server.process.pid) and len(_worker_pids(server.process.pid)) == 2
        refused_everywhere()
        os.rename(away, db)
        assert requests.get(server.base + "/readyz", timeout=30).status_code == 200
        assert post(second).status_code == 202
    finally:
        if away.exists() and not db.exists():
            os.rename(away, db)
        h.close()
    with sqlite3.connect(db) as conn:  # everything accepted is in the hub's own file
        stored = {row[0] for row in conn.execute("SELECT stix_id FROM objects")}
    assert {first["id"], second["id"]} <= stored


# -- /metrics -------------------------------------------------------------------------------

def test_metrics_only_for_allowed_addresses(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 403 and r.json["http_status"] == "403"


def test_metrics_with_a_token_file(hub_factory: HubFactory, tmp_path: Path) -> None:
    secret = "metrics-secret-0123456789"
    (tmp_path / "metrics.token").write_text(secret + "\n")
    h = hub_factory(toml=TEST_TOML + f'[metrics]\nallow = []\ntoken_file = "{tmp_path / "metrics.token"}"\n')
    far = {"REMOTE_ADDR": "198.51.100.4"}
    assert h.http.get("/metrics", environ_base=far).status_code == 403
    assert h.http.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456"},
                        environ_base=far).status_code == 403
    assert h.http.get("/metrics", headers={"Authorization": f"Bearer {secret}"},
                        environ_base=far).status_code == 200


def test_metrics_can_be_switched_off(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=TEST_TOML + "[metrics]\nenabled = false\n")
    r = h.http.get("/metrics")
    assert r.status_code == 404 and r.json["http_status"] == "404"


def test_metrics_count_requests_by_endpoint_never_by_path(seeded: HubUnderTest) -> None:
    c = seeded.http
    c.get(seeded.collection_url("reports", "objects"), headers=seeded.auth("alice"))
    c.get(f"{seeded.api}/collections/no-such-thing/objects/", headers=seeded.auth("alice"))
    c.get("/some/unknown/path/alice@example.com")
    text = c.get("/metrics").get_data(as_text=True)
    m = metric_lines(c)
    assert m['abusehub_http_requests_total{endpoint="objects.get_objects",method="GET",status="200"}'] == 1
    assert m['abusehub_http_requests_total{endpoint="objects.get_objects",method="GET",status="404"}'] == 1
    assert m['abusehub_http_requests_total{endpoint="unknown",method="GET",status="404"}'] == 1
    assert m['abusehub_poll_duration_seconds_count{endpoint="objects.get_objects"}'] == 1
    assert "alice@example.com" not in text and "no-such-thing" not in text


def test_metrics_count_ingested_objects_by_outcome_and_code(seeded: HubUnderTest) -> None:
    good = indicator()
    bad = indicator()
    bad["pattern_type"] = "stix"
    bad["valid_from"] = "not a time"
    body = orjson.dumps({"objects": [good, good, bad]})
    r = seeded.http.post(seeded.collection_url("reports", "objects"), data=body,
                           headers={**seeded.auth("alice"), "Content-Type": TAXII})
    assert r.status_code == 202
    m = metric_lines(seeded.http)
    assert m['abusehub_ingest_objects_total{code="",outcome="stored"}'] == 1
    assert m['abusehub_ingest_objects_total{code="",outcome="already-stored"}'] == 1
    refused = {k: v for k, v in m.items() if k.startswith("abusehub_ingest_objects_total") and 'outcome="refused"' in k}
    assert sum(refused.values()) == 1
    code = next(iter(refused)).split('code="')[1].split('"')[0]
    assert code and " " not in code  # a problem code, not a message


def test_metrics_count_failed_authentications_and_pseudonyms_per_party(seeded: HubUnderTest) -> None:
    c = seeded.http
    c.get(f"{seeded.api}/collections/", headers={"Authorization": "Bearer ahub_nope"})
    c.get(f"{seeded.api}/collections/", headers={"Authorization": "Basic !!!"})
    r = c.post(f"{seeded.api}/pseudonyms/", json={"values": [{"kind": "email", "value": "a@example.com"},
                                                           {"kind": "email", "value": "b@example.com"}]},
               headers=seeded.auth("gov"))
    assert r.status_code == 200, r.json
    m = metric_lines(c)
    assert m['abusehub_auth_failures_total{reason="invalid"}'] == 1
    assert m['abusehub_auth_failures_total{reason="malformed"}'] == 1
    assert m['abusehub_pseudonym_evaluations_total{party="gov"}'] == 2


# -- request ids and the request's log line ---------------------------------------------------

def test_a_sane_request_id_is_echoed_and_any_other_replaced(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "req-42.a:b"}).headers["X-Request-Id"] == "req-42.a:b"
    for bad in ("has space", "x" * 200, "<script>", "a\tb"):
        rid = client.get("/healthz", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert rid != bad and len(rid) == 32
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32


def test_the_request_line_has_its_fields_and_no_secret(seeded: HubUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    token = seeded.tokens["alice"]
    basic = base64.b64encode(f"alice:{token}".encode()).decode()
    url = seeded.collection_url("reports", "objects")
    asked = f"indicator--{uuid.uuid4()}"
    with caplog.at_level(logging.INFO, logger="abusehub.access"):
        seeded.http.get(url, query_string={"match[id]": asked, "limit": "2"},
                          headers={"Authorization": f"Basic {basic}", "X-Request-Id": "rid-1"})
        seeded.http.get(url, headers={"Authorization": "Bearer ahub_badtoken_value"})
    records = [r for r in caplog.records if r.name == "abusehub.access"]
    assert len(records) == 2
    first = records[0]
    assert (first.request_id, first.method, first.endpoint, first.status) == ("rid-1", "GET", "objects.get_objects", 200)
    assert first.party == "alice" and first.collection == seeded.collections["reports"]
    assert first.params == ["limit", "match[id]"] and first.duration_ms >= 0
    assert records[1].status == 401 and records[1].party is None
    for fmt in (JsonFormatter(), TextFormatter()):
        text = "\n".join(fmt.format(r) for r in records)
        for secret in (token, basic, "ahub_badtoken_value", asked):
            assert secret not in text
    line = orjson.loads(JsonFormatter().format(first))
    assert {"time", "level", "request_id", "method", "endpoint", "status", "duration_ms", "party",
            "collection", "params"} <= set(line)


def test_a_collection_name_that_found_nothing_is_not_logged(seeded: HubUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="abusehub.access"):
        seeded.http.get(f"{seeded.api}/collections/jane.doe@example.com/objects/", headers=seeded.auth("alice"))
    (record,) = [r for r in caplog.records if r.name == "abusehub.access"]
    assert record.status == 404 and record.collection is None


# -- failed authentications, throttled across processes ---------------------------------------

THROTTLE_TOML = TEST_TOML + "[limits]\nauth_failures = 20\nauth_window_seconds = 300\n"


def test_bad_tokens_from_one_address_get_429_while_another_address_authenticates(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=THROTTLE_TOML, clock=FrozenClock())
    url = f"{h.api}/collections/"
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    statuses = [h.http.get(url, headers={"Authorization": f"Bearer ahub_guess{i}"}, environ_base=attacker).status_code
                for i in range(300)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    r = h.http.get(url, headers={"Authorization": "Bearer ahub_guess"}, environ_base=attacker)
    assert r.json["http_status"] == "429" and 1 <= int(r.headers["Retry-After"]) <= 300
    other = {"REMOTE_ADDR": "198.51.100.20"}
    assert h.http.get(url, headers=h.auth("alice"), environ_base=other).status_code == 200
    assert h.http.get(url, headers={"Authorization": "Bearer ahub_x"}, environ_base=other).status_code == 401
    m = metric_lines(h.http)
    assert m['abusehub_throttled_requests_total{limit="auth"}'] == 281
    assert m['abusehub_auth_failures_total{reason="throttled"}'] == 281


def test_the_throttle_is_shared_by_every_app_on_the_database_and_ends_with_its_window(
        hub_factory: HubFactory, tmp_path: Path) -> None:
    clock = FrozenClock()
    h = hub_factory(toml=THROTTLE_TOML, clock=clock)
    assert isinstance(h.hub.store, SqlStore)
    second = Hub(h.hub.config, SqlStore(h.hub.store.url), clock)  # another worker
    other = create_app(h.hub.config, second).test_client()
    url = f"{h.api}/collections/"
    addr = {"REMOTE_ADDR": "203.0.113.10"}
    for i in range(20):
        client = h.http if i % 2 else other
        assert client.get(url, headers={"Authorization": f"Bearer bad{i}"}, environ_base=addr).status_code == 401
    assert h.http.get(url, headers={"Authorization": "Bearer bad"}, environ_base=addr).status_code == 429
    assert other.get(url, headers={"Authorization": "Bearer bad"}, environ_base=addr).status_code == 429
    clock.advance(300)
    assert other.get(url, headers={"Authorization": "Bearer bad"}, environ_base=addr).status_code == 401
    second.close()


def test_basic_failures_count_against_the_claimed_party_but_never_lock_it_out(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=THROTTLE_TOML, clock=FrozenClock())
    url = f"{h.api}/collections/"

    def basic(user: str, token: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}

    # From many addresses, each failing once: the claimed name is what is counted.
    statuses = [h.http.get(url, headers=basic("alice", f"guess{i}"),
                             environ_base={"REMOTE_ADDR": f"10.0.{i // 250}.{i % 250}"}).status_code
                for i in range(25)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    # alice's own token still works, by Basic or Bearer, from anywhere.
    assert h.http.get(url, headers=basic("alice", h.tokens["alice"]),
                        environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    assert h.http.get(url, headers=h.auth("alice")).status_code == 200
    # Another claimed name is not affected.
    assert h.http.get(url, headers=basic("bob", "guess"), environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 401


def test_missing_credentials_are_not_counted_as_failures(hub_factory: HubFactory) -> None:
    h = hub_factory(toml=TEST_TOML + "[limits]\nauth_failures = 2\n", clock=FrozenClock())
    url = f"{h.api}/collections/"
    assert {h.http.get(url).status_code for _ in range(10)} == {401}


# -- the pseudonym allowance, shared across processes -----------------------------------------

def test_two_apps_on_one_database_share_the_pseudonym_allowance(hub_factory: HubFactory) -> None:
    clock = FrozenClock()
    h = hub_factory(toml=TEST_TOML + "[pseudonyms]\nper_minute = 12\n", clock=clock)
    assert isinstance(h.hub.store, SqlStore)
    second = Hub(h.hub.config, SqlStore(h.hub.store.url), clock)  # another worker process
    clients = [h.http, create_app(h.hub.config, second).test_client()]
    url = f"{h.api}/pseudonyms/"

    def ask(i: int) -> int:
        return clients[i % 2].post(url, json={"values": [{"kind": "email", "value": f"u{i}@example.com"}]},
                                   headers=h.auth("gov")).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(ask, range(40)))
    assert statuses.count(200) == 12 and statuses.count(429) == 28
    # Refused requests cost nothing: 5 s later (one value a 5 s) exactly one more is allowed.
    clock.advance(5)
    assert [ask(i) for i in range(2)] == [200, 429]
    # Another party has its own allowance.
    assert clients[1].post(url, json={"values": [{"kind": "email", "value": "x@example.com"}]},
                           headers=h.auth("alice")).status_code == 200
    second.close()
