"""The real `abusehub serve` (gunicorn, two workers) as an operator runs it: health and
readiness, metrics summed over the workers, one JSON object per log line with no secret in
any of them, failed authentications throttled across workers, private files, and start-up
failures that are one line and a non-zero exit."""

from __future__ import annotations

import base64
import http.client
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import requests

from hub.config import load_config
from hub.services.hub import open_hub
from hub.store.sql import SqlStore
from tests.harness import TEST_TOML, HubUnderTest, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.served(tmp_path_factory.mktemp("ops-hub"), toml=TEST_TOML + "[limits]\nauth_failures = 20\n",
                             workers=2) as running:
        yield running


def get_from(server: HubUnderTest, source: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """GET ``path`` over a fresh connection from the loopback address ``source``."""
    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def samples(server: HubUnderTest) -> dict[str, float]:
    r = requests.get(server.base + "/metrics", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    out = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_health_and_readiness(server: HubUnderTest) -> None:
    r = requests.get(server.base + "/healthz", timeout=30)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = requests.get(server.base + "/readyz", timeout=30)
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_metrics_are_summed_over_the_workers(server: HubUnderTest) -> None:
    url = server.api + "/collections/"
    key = 'abusehub_http_requests_total{endpoint="collections.get_collections",method="GET",status="200"}'
    before = samples(server).get(key, 0)
    sent = 0
    files: list[Path] = []
    # Concurrent fresh connections until both workers have answered some (which worker accepts
    # a connection is the kernel's choice; the loop is bounded).
    with ThreadPoolExecutor(max_workers=8) as pool:
        while sent < 800 and len(files) < 2:
            codes = list(pool.map(lambda _: requests.get(url, headers=server.auth("gov"), timeout=30).status_code,
                                  range(16)))
            assert codes == [200] * 16
            sent += 16
            files = list((server.home / "metrics").glob("counter_*.db"))
    assert len(files) >= 2, files  # both workers counted requests...
    assert samples(server)[key] == before + sent  # ...and one answer holds them all


def test_a_worker_that_dies_leaves_the_totals_and_is_replaced(server: HubUnderTest) -> None:
    import signal
    import time

    import psutil

    key = 'abusehub_http_requests_total{endpoint="healthz",method="GET",status="200"}'
    for _ in range(10):
        requests.get(server.base + "/healthz", timeout=30)
    before = samples(server)[key]
    workers = psutil.Process(server.process.pid).children()
    assert len(workers) == 2
    os.kill(workers[0].pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = {p.pid for p in psutil.Process(server.process.pid).children()}
        if len(now) == 2 and workers[0].pid not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail("gunicorn did not replace the killed worker")
    for _ in range(10):
        assert requests.get(server.base + "/healthz", timeout=30).status_code == 200
    # What the dead worker counted is still in the total, and the new requests are added to it.
    assert samples(server)[key] == before + 10


def test_every_log_line_is_json_and_no_secret_is_in_any(server: HubUnderTest) -> None:
    bad = f"ahub_{uuid.uuid4().hex}"
    rid = f"ops-{uuid.uuid4().hex[:8]}"
    alice = server.tokens["alice"]
    basic = base64.b64encode(f"alice:{alice}".encode()).decode()
    objects = f"{server.api}/collections/{server.collections['reports']}/objects/"
    email = "jane.doe@example.com"
    requests.get(objects, params={"match[id]": f"indicator--{uuid.uuid4()}", "added_after": "2020-01-01T00:00:00Z"},
                 headers={"Authorization": f"Basic {basic}", "X-Request-Id": rid}, timeout=30)
    requests.get(objects, headers={"Authorization": f"Bearer {bad}"}, timeout=30)
    requests.post(server.api + "/pseudonyms/", json={"values": [{"kind": "email", "value": email}]},
                  headers=server.auth("gov"), timeout=30)
    server.stop()  # every line written and flushed
    try:
        lines = server.read_log().splitlines()
        assert lines
        entries = [orjson.loads(line) for line in lines]  # each line is one JSON object
        assert all({"time", "level", "message"} <= set(e) for e in entries)
        (mine,) = [e for e in entries if e.get("request_id") == rid]
        assert mine["endpoint"] == "objects.get_objects" and mine["status"] == 200 and mine["party"] == "alice"
        assert mine["collection"] == server.collections["reports"] and mine["params"] == ["added_after", "match[id]"]
        assert any(e.get("status") == 401 and e.get("endpoint") == "objects.get_objects" for e in entries)
        text = "\n".join(lines)
        for secret in [*server.tokens.values(), bad, basic, email]:
            assert secret not in text
        assert "Authorization" not in text and "Bearer" not in text
    finally:
        server.restart()


def test_300_bad_tokens_from_one_address_are_throttled_across_workers(server: HubUnderTest) -> None:
    path = "/api/collections/"
    statuses = [get_from(server, "127.0.0.3", path, {"Authorization": f"Bearer ahub_guess_{i}"}).status
                for i in range(300)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    resp = get_from(server, "127.0.0.3", path, {"Authorization": "Bearer ahub_guess"})
    assert resp.status == 429 and 1 <= int(resp.headers["Retry-After"]) <= 300
    assert get_from(server, "127.0.0.4", path, server.auth("alice")).status == 200
    assert samples(server)['abusehub_throttled_requests_total{limit="auth"}'] >= 281


def test_the_home_database_and_keys_are_private(server: HubUnderTest) -> None:
    assert stat.S_IMODE(server.home.stat().st_mode) == 0o700
    for name in ("hub.db", "hub.db-wal", "hub.db-shm", "hub-signing-key.pem", "pseudonym-keys.json"):
        assert stat.S_IMODE((server.home / name).stat().st_mode) == 0o600, name


def serve(home: Path, port: int, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "hub", "--home", str(home), "serve", "--host", "127.0.0.1",
                           "--port", str(port), "--workers", "1"], capture_output=True, text=True, env=env,
                          timeout=120)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_busy_port_is_one_line_and_a_failed_exit(server: HubUnderTest) -> None:
    port = int(server.base.rsplit(":", 1)[1])
    assert "the port is in use" in one_line(serve(server.home, port))




def test_an_unreachable_database_is_one_line_and_a_failed_exit(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text("")
    proc = serve(tmp_path, free_port(), {"HUB_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"})
    assert one_line(proc).startswith("abusehub: cannot reach the database")


def test_an_old_schema_is_one_line_and_a_failed_exit(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    (tmp_path / "hub.toml").write_text("")
    open_hub(config, migrate=True).close()
    store = SqlStore(config.effective_database_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    store.close()
    assert "run 'abusehub migrate'" in one_line(serve(tmp_path, free_port()))
