"""Two hub hosts on one PostgreSQL database, behind one nginx: they behave as one hub.

Two real ``abusehub serve`` processes (two workers each) with homes of their own and one
database: the first home is made with ``abusehub init``, the second by copying the files
docs/OPERATIONS.md ("Several hub hosts on one database") names, nothing else. The nginx of
``deploy/nginx/abusehub.conf.template`` has both as upstreams (round-robin). Requests go through
the proxy where it does not matter which host answers, and straight to one host (from 127.0.0.1,
the proxy's address, which both trust) where it does: what one host made is used on the other.

A revocation is timed by the hub's own clock, never by this test's: a token's revocation time is
what ``party token --revoke`` reports (the database's row), a key's is the ``revoked`` time the
registry publishes, a refused submission's is its status' ``request_timestamp``, a refused API
request's is the time of its line in the server's log (found by its ``X-Request-Id``) less its
``duration_ms``. The hosts run on one machine and so one clock; hosts on several machines need
their clocks kept in step (NTP) for the same measure.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from hub.common.canonical import b64url_decode, b64url_encode
from hub.pseudonyms.oprf import PseudonymBatch
from hub.signing import SigningKey, sign_object
from tests.deploy.nginx import Nginx, check_config, nginx_binary, start_nginx, write_config
from tests.factories import indicator
from tests.harness import (
    POSTGRES_URL,
    HubUnderTest,
    RunningHub,
    _postgres_available,
    free_port,
    run_cli,
    start_server,
    stop_server,
)
from tests.lifecycle.pki import issue, make_ca

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TAXII = "application/taxii+json;version=2.1"
OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
#: What a second host's home gets from the first (docs/OPERATIONS.md, "Several hub hosts on one
#: database"): the settings (naming the database) and the secrets; nothing else.
COPIED = ("hub.toml", "hub-signing-key.pem", "pseudonym-keys.json", "web-secret.key")
#: Failed authentications a source address may have in the window (small, to reach it; the
#: window, fixed, is a day, so that a test does not straddle two of them but at midnight UTC).
AUTH_FAILURES = 6
#: How long a revocation may take to reach the other host, by the hub's clock.
WITHIN_US = 1_000_000


@dataclass
class Pair:
    a: RunningHub
    b: RunningHub
    proxy: Nginx
    ca: Path
    tokens: dict[str, str]
    collections: dict[str, str]
    key: SigningKey  # alice's registered signing key
    identities: dict[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> tuple[RunningHub, RunningHub]:
        return self.a, self.b

    def auth(self, party: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[party]}"}


def _postgres_schema(stack: ExitStack) -> str:
    """A new, empty schema of the test database (dropped when ``stack`` closes): its URL."""
    if not _postgres_available():  # fails instead with HUB_TEST_REQUIRE_POSTGRES=1
        pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}: two hosts need one shared database")
    import psycopg

    schema = f"abusehub_hosts_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    stack.callback(drop)
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def _second_home(first: Path, second: Path) -> None:
    """The second host's home, as docs/OPERATIONS.md says to make it: a private folder and a
    private copy of each file of COPIED."""
    second.mkdir(mode=0o700)
    for name in COPIED:
        shutil.copy2(first / name, second / name)
        (second / name).chmod(0o600)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nginx_binary()  # skips here, before anything is started, when nginx is not installed
    tmp = tmp_path_factory.mktemp("two-hosts")
    with ExitStack() as stack:
        url = _postgres_schema(stack)
        pki = tmp / "pki"
        pki.mkdir()
        ca = make_ca()
        ca_crt, _ = ca.write(pki, "ca")
        server_crt, server_key = issue(ca, "localhost", server=True).write(pki, "server")

        home_a = tmp / "host-a"
        home_a.mkdir(mode=0o700)
        (home_a / "hub.toml").write_text(
            f'[hub]\ndatabase_url = "{url}"\n'
            "[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n"
            '[server]\ntrusted_proxies = ["127.0.0.1"]\n'
            f"[limits]\nauth_failures = {AUTH_FAILURES}\nauth_window_seconds = 86400\n")
        run_cli(home_a, "init")
        seeded = HubUnderTest.existing(home_a)
        seeded.add_party("alice", "provider")
        seeded.add_party("bob", "provider")
        seeded.add_party("gov", "agency")
        seeded.add_collection("reports", {"alice": (True, True), "bob": (True, True), "gov": (True, False)})
        seeded.add_collection("paging", {"alice": (True, True), "gov": (True, False)})
        seeded.add_collection("signed", {"alice": (True, True)}, signed=False)
        key = seeded.add_key("alice")

        a = start_server(home_a)
        stack.callback(stop_server, a)
        # The second host joins a running hub: the first has made its web pages' key by now.
        home_b = tmp / "host-b"
        _second_home(home_a, home_b)
        b = start_server(home_b)
        stack.callback(stop_server, b)

        port = free_port()
        upstream_a, upstream_b = a.base.removeprefix("http://"), b.base.removeprefix("http://")
        main = write_config(tmp / "nginx", {
            "ABUSEHUB_LISTEN": f"127.0.0.1:{port}", "ABUSEHUB_SERVER_NAME": "localhost",
            "ABUSEHUB_UPSTREAM": upstream_a, "ABUSEHUB_TLS_CERT": str(server_crt),
            "ABUSEHUB_TLS_KEY": str(server_key), "ABUSEHUB_CLIENT_CA": str(ca_crt)})
        # The one edit of the template for several hosts: a server line per host in the upstream.
        conf = main.parent / "abusehub.conf"
        text = conf.read_text()
        assert text.count(f"server {upstream_a};") == 1
        conf.write_text(text.replace(f"server {upstream_a};", f"server {upstream_a};\n    server {upstream_b};"))
        checked = check_config(main)
        assert checked.returncode == 0, checked.stderr
        proxy = start_nginx(main, port)
        stack.callback(proxy.stop)
        yield Pair(a, b, proxy, ca_crt, dict(seeded.tokens), dict(seeded.collections), key,
                   dict(seeded.identities))


# -- helpers -------------------------------------------------------------------------------------

def _post_objects(base: str, pair: Pair, collection: str, objects: list[dict[str, Any]],
                  party: str = "alice") -> requests.Response:
    return requests.post(f"{base}/api/collections/{pair.collections[collection]}/objects/",
                         data=orjson.dumps({"objects": objects}), timeout=60,
                         headers={"Content-Type": TAXII, "Accept": TAXII, **pair.auth(party)})


def _get(base: str, path: str, pair: Pair, party: str = "gov", **kwargs: Any) -> requests.Response:
    headers = {"Accept": TAXII, **pair.auth(party), **kwargs.pop("headers", {})}
    if base.startswith("https://"):
        kwargs.setdefault("verify", str(pair.ca))
    return requests.get(f"{base}{path}", headers=headers, timeout=60, **kwargs)


def _log_lines(host: RunningHub) -> list[dict[str, Any]]:
    """The server's JSON log lines (other lines skipped)."""
    out = []
    for line in host.read_log().splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _served_by(pair: Pair, request_ids: list[str]) -> dict[str, str]:
    """Which host ("a" or "b") logged the request of each id (ids not found are left out)."""
    found: dict[str, str] = {}
    for name, host in (("a", pair.a), ("b", pair.b)):
        for entry in _log_lines(host):
            if entry.get("logger") == "abusehub.access" and entry.get("request_id") in request_ids:
                found[entry["request_id"]] = name
    return found


def _us(timestamp: str) -> int:
    """Microseconds since the epoch of a timestamp the hub wrote (RFC 3339, Z)."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1_000_000)


def _wait_for_log(host: RunningHub, request_ids: set[str], deadline_s: float = 30) -> dict[str, dict[str, Any]]:
    """The access-log line of each request id, waiting a little for the last ones to be written."""
    stop = time.monotonic() + deadline_s
    while True:
        lines = {e["request_id"]: e for e in _log_lines(host)
                 if e.get("logger") == "abusehub.access" and e.get("request_id") in request_ids}
        if len(lines) == len(request_ids) or time.monotonic() > stop:
            return lines
        time.sleep(0.2)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Repeating:
    """Runs ``attempt`` again and again in a thread (a pause of ``pause_s`` between), keeping
    what each returned, until stopped."""

    def __init__(self, attempt: Callable[[], Any], pause_s: float = 0.05) -> None:
        self.attempt, self.pause_s = attempt, pause_s
        self.results: list[Any] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.results.append(self.attempt())
            except BaseException as exc:  # reported by the test, not lost in the thread
                self.errors.append(exc)
                return
            self._stop.wait(self.pause_s)

    def __enter__(self) -> Repeating:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def wait_for(self, done: Callable[[list[Any]], bool], deadline_s: float) -> None:
        stop = time.monotonic() + deadline_s
        while not done(list(self.results)) and not self.errors and time.monotonic() < stop:
            time.sleep(0.05)


# -- the tests -----------------------------------------------------------------------------------

def test_the_docs_name_every_file_the_second_home_was_given() -> None:
    text = OPERATIONS.read_text()
    start = text.index("## Several hub hosts on one database")
    section = text[start:text.index("\n## ", start + 1)]
    for name in COPIED:
        assert f"`{name}`" in section, name


def test_a_status_and_next_cursors_from_one_host_are_valid_on_the_other(pair: Pair) -> None:
    sent = [indicator() for _ in range(12)]
    r = _post_objects(pair.a.base, pair, "paging", sent)
    assert r.status_code == 202 and r.json()["success_count"] == 12, r.text
    status_id = r.json()["id"]
    # The status made on A, read on B.
    on_b = requests.get(f"{pair.b.api}/status/{status_id}/", headers={"Accept": TAXII, **pair.auth("alice")},
                        timeout=60)
    assert on_b.status_code == 200, on_b.text
    assert on_b.json()["id"] == status_id and on_b.json()["success_count"] == 12
    # Pages of 5: the first on A, its next on B, B's next on A.
    path = f"/api/collections/{pair.collections['paging']}/objects/"
    ids: list[str] = []
    page_next: str | None = None
    for host in (pair.a, pair.b, pair.a):
        params = {"limit": "5", **({"next": page_next} if page_next else {})}
        page = _get(host.base, path, pair, params=params)
        assert page.status_code == 200, page.text
        ids += [o["id"] for o in page.json().get("objects", [])]
        page_next = page.json().get("next")
    assert ids == [o["id"] for o in sent] and page_next is None
    # X-TAXII-Date-Added-Last of a page of A, as B's added_after: the rest, exactly.
    first = _get(pair.a.base, path, pair, params={"limit": "4"})
    rest = _get(pair.b.base, path, pair, params={"added_after": first.headers["X-TAXII-Date-Added-Last"],
                                                        "limit": "50"})
    assert [o["id"] for o in rest.json()["objects"]] == [o["id"] for o in sent[4:]]


def test_paging_through_the_proxy_is_exact_whichever_host_serves_each_page(pair: Pair) -> None:
    path = f"/api/collections/{pair.collections['paging']}/objects/"
    whole = [o["id"] for o in _get(pair.a.base, path, pair, params={"limit": "50"}).json()["objects"]]
    assert len(whole) >= 12
    ids, request_ids = [], []
    page_next: str | None = None
    while True:
        rid = f"two-hosts-{uuid.uuid4().hex}"
        request_ids.append(rid)
        params = {"limit": "2", **({"next": page_next} if page_next else {})}
        page = _get(pair.proxy.base, path, pair, params=params, headers={"X-Request-Id": rid})
        assert page.status_code == 200, page.text
        ids += [o["id"] for o in page.json().get("objects", [])]
        page_next = page.json().get("next")
        if not page_next:
            break
    assert ids == whole
    # Round-robin: both hosts served pages of this one walk.
    deadline = time.monotonic() + 30
    while len(served := _served_by(pair, request_ids)) < len(request_ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(served.values()) == {"a", "b"}, served


def test_the_failed_authentication_throttle_is_shared_by_the_hosts(pair: Pair) -> None:
    # Sent straight to each host by its trusted proxy's address, for one client address.
    client = {"X-Forwarded-For": "198.51.100.23"}
    path = f"/api/collections/{pair.collections['reports']}/objects/"

    def attempt(host: RunningHub, token: str) -> int:
        return requests.get(f"{host.base}{path}", timeout=60,
                            headers={"Accept": TAXII, "Authorization": f"Bearer {token}", **client}).status_code

    bad = "ahub_" + "x" * 43
    # Failures alternate between the hosts: each host alone has seen half of them.
    assert [attempt(pair.hosts[i % 2], bad) for i in range(AUTH_FAILURES)] == [401] * AUTH_FAILURES
    assert [attempt(host, bad) for host in pair.hosts] == [429, 429]
    # A valid token from the same address is still accepted by both.
    assert [attempt(host, pair.tokens["gov"]) for host in pair.hosts] == [200, 200]


def test_through_the_proxy_failures_of_one_client_add_up_on_both_hosts(pair: Pair) -> None:
    # A client of its own address (127.0.0.3): the proxy tells each host so in X-Forwarded-For.
    context = ssl.create_default_context(cafile=str(pair.ca))
    path = f"/api/collections/{pair.collections['reports']}/objects/"

    def attempt(token: str) -> tuple[str, int]:
        rid = f"proxy-auth-{uuid.uuid4().hex}"
        conn = http.client.HTTPSConnection("localhost", pair.proxy.port, timeout=60, context=context,
                                           source_address=("127.0.0.3", 0))
        try:
            conn.request("GET", path, headers={"Accept": TAXII, "Authorization": f"Bearer {token}",
                                               "X-Request-Id": rid})
            return rid, conn.getresponse().status
        finally:
            conn.close()

    failed = [attempt("ahub_" + "y" * 43) for _ in range(AUTH_FAILURES + 2)]
    assert [s for _, s in failed] == [401] * AUTH_FAILURES + [429, 429]
    deadline = time.monotonic() + 30
    while len(served := _served_by(pair, [r for r, _ in failed])) < len(failed) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(served.values()) == {"a", "b"}, served  # each host saw some of them
    assert attempt(pair.tokens["gov"])[1] == 200


def test_a_browser_signed_in_through_the_proxy_stays_signed_in_on_both_hosts(pair: Pair) -> None:
    browser = requests.Session()
    browser.verify = str(pair.ca)
    browser.trust_env = False  # else a REQUESTS_CA_BUNDLE of the environment wins over verify
    form = browser.get(f"{pair.proxy.base}/web/signin", timeout=60)
    signed_in = browser.post(f"{pair.proxy.base}/web/signin", timeout=60,
                             data={"csrf_token": _csrf(form.text), "token": pair.tokens["alice"]})
    assert signed_in.status_code == 200 and signed_in.url.endswith("/web/collections"), signed_in.url
    request_ids = []
    for _ in range(6):
        rid = f"proxy-web-{uuid.uuid4().hex}"
        request_ids.append(rid)
        page = browser.get(f"{pair.proxy.base}/web/collections", headers={"X-Request-Id": rid},
                           allow_redirects=False, timeout=60)
        assert page.status_code == 200, page.status_code
    deadline = time.monotonic() + 30
    while len(served := _served_by(pair, request_ids)) < len(request_ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(served.values()) == {"a", "b"}, served
    # A form of whichever host served the page, posted to whichever host the proxy picks.
    page = browser.get(f"{pair.proxy.base}/web/collections", timeout=60)
    out = browser.post(f"{pair.proxy.base}/web/signout", data={"csrf_token": _csrf(page.text)},
                       allow_redirects=False, timeout=60)
    assert out.status_code in (302, 303), out.status_code
    assert browser.get(f"{pair.proxy.base}/web/collections", allow_redirects=False,
                       timeout=60).status_code in (302, 303)


def _evaluate(host: RunningHub, pair: Pair, values: list[str]) -> tuple[requests.Response, PseudonymBatch, bytes]:
    """``POST pseudonyms/evaluate`` of ``values`` (emails) by bob on ``host``: the answer, the
    batch and the public key ``host`` publishes for the current version."""
    keys = requests.get(f"{host.api}/pseudonyms/key", headers=pair.auth("bob"), timeout=60).json()
    current = next(k for k in keys["keys"] if k["current"])
    batch = PseudonymBatch("email", current["key_version"], values)
    body = {"key_version": current["key_version"],
            "groups": [{"kind": "email", "blinded": [b64url_encode(e) for e in batch.blinded]}]}
    r = requests.post(f"{host.api}/pseudonyms/evaluate", data=orjson.dumps(body), timeout=60,
                      headers={"Content-Type": "application/json", "Accept": "application/json",
                               **pair.auth("bob")})
    return r, batch, b64url_decode(current["public_key"])


def _finish(r: requests.Response, batch: PseudonymBatch, public_key: bytes) -> list[str]:
    group = r.json()["groups"][0]
    return batch.finish(public_key, [b64url_decode(e) for e in group["evaluated"]], b64url_decode(group["proof"]))


def test_the_pseudonym_allowance_is_shared_and_the_pseudonyms_are_the_same(pair: Pair) -> None:
    # Set on A's command line: B applies it from bob's next request.
    run_cli(pair.a.home, "party", "edit", "bob", "--pseudonyms-per-minute", "10")
    values = [f"holder{i}@example.org" for i in range(8)]
    on_a, batch_a, key_a = _evaluate(pair.a, pair, values)
    assert on_a.status_code == 200, on_a.text
    assert on_a.json()["allowance_per_minute"] == 10
    # 2 of 10 left (and one more each 6 s since): 6 more are refused on B.
    refused, _, _ = _evaluate(pair.b, pair, [f"other{i}@example.org" for i in range(6)])
    assert refused.status_code == 429, refused.text
    # One value is still allowed on B, and B's pseudonym of it is A's: one keyring.
    on_b, batch_b, key_b = _evaluate(pair.b, pair, values[:1])
    assert on_b.status_code == 200, on_b.text
    assert key_b == key_a
    assert _finish(on_b, batch_b, key_b)[0] == _finish(on_a, batch_a, key_a)[0]


def test_a_web_session_made_on_one_host_is_valid_on_the_other(pair: Pair) -> None:
    # Each request names its host; the cookie is sent by hand (it is Secure, these hosts are
    # reached over plain HTTP from the proxy's address).
    def web(host: RunningHub, method: str, path: str, cookie: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{host.base}/web/{path}", headers={"Cookie": f"abusehub_web={cookie}"},
                                allow_redirects=False, timeout=60, **kwargs)

    form = requests.get(f"{pair.a.base}/web/signin", timeout=60)
    before = form.cookies["abusehub_web"]
    signed_in = web(pair.a, "POST", "signin", before,
                    data={"csrf_token": _csrf(form.text), "token": pair.tokens["gov"]})
    assert signed_in.status_code in (302, 303), signed_in.text[:500]
    session = signed_in.cookies["abusehub_web"]
    assert session != before
    # The session made on A opens B's pages...
    page_b = web(pair.b, "GET", "collections", session)
    assert page_b.status_code == 200 and "gov" in page_b.text, page_b.text[:500]
    # ...and a form of A's page is accepted by B (one key for the CSRF tokens): sign out on B.
    page_a = web(pair.a, "GET", "collections", session)
    assert page_a.status_code == 200
    out = web(pair.b, "POST", "signout", session, data={"csrf_token": _csrf(page_a.text)})
    assert out.status_code in (302, 303), out.text[:500]
    # Signed out on B: A no longer knows the session either.
    again = web(pair.a, "GET", "collections", session)
    assert again.status_code in (302, 303) and "/web/signin" in again.headers["Location"]


def test_both_hosts_publish_one_submission_token_key(pair: Pair) -> None:
    # B asks first this time: whichever host makes the epoch's key, the other reads it.
    on_b = requests.get(f"{pair.b.api}/anonymity/token-keys/", timeout=60)
    on_a = requests.get(f"{pair.a.api}/anonymity/token-keys/", timeout=60)
    assert on_a.status_code == on_b.status_code == 200, (on_a.text, on_b.text)
    assert on_a.json()["keys"] == on_b.json()["keys"]


def test_a_token_revoked_on_one_host_is_refused_by_the_other_within_a_second(pair: Pair) -> None:
    issued = json.loads(run_cli(pair.a.home, "party", "token", "gov", "--label", "to revoke", "--json").stdout)
    token = issued["token"]
    path = f"/api/collections/{pair.collections['reports']}/objects/"

    def attempt() -> tuple[str, int]:
        rid = f"revoke-{uuid.uuid4().hex}"
        r = requests.get(f"{pair.b.base}{path}", timeout=60,
                         headers={"Accept": TAXII, "Authorization": f"Bearer {token}", "X-Request-Id": rid,
                                  # a client address of its own: its refusals count toward no other test's limit
                                  "X-Forwarded-For": "198.51.100.77"})
        return rid, r.status_code

    with Repeating(attempt) as polling:
        polling.wait_for(lambda done: len(done) >= 3, 60)
        assert {s for _, s in polling.results} == {200}, polling.results
        revoked = json.loads(run_cli(pair.a.home, "party", "token", "gov", "--revoke", str(issued["id"]),
                                     "--json").stdout)
        polling.wait_for(lambda done: sum(s == 401 for _, s in done) >= 3, 10)
    assert not polling.errors, polling.errors
    results = polling.results
    assert revoked["revoked_now"] and sum(s == 401 for _, s in results) >= 3, results[-5:]
    revoked_us = _us(revoked["revoked"])
    lines = _wait_for_log(pair.b, {rid for rid, _ in results})
    # When B began each request, by its log: the line's time less the request's duration.
    began = [(_us(lines[rid]["time"]) - round(lines[rid]["duration_ms"] * 1000), status)
             for rid, status in results if rid in lines]
    first_refused = min(t for t, s in began if s == 401)
    accepted_after = [t - revoked_us for t, s in began if s == 200 and t >= revoked_us]
    print(f"token revoked on A at {revoked['revoked']}; B's first refusal began "
          f"{(first_refused - revoked_us) / 1000:.0f} ms after; requests B began after the revocation "
          f"and still accepted: {len(accepted_after)} (latest {max(accepted_after, default=0) / 1000:.0f} ms after)")
    assert all(t < revoked_us + WITHIN_US for t, s in began if s == 200), accepted_after
    # Once refused, always refused (no worker of B accepts it afterwards).
    statuses = [s for _, s in sorted(began)]
    assert 200 not in statuses[statuses.index(401):], statuses


def test_a_key_revoked_on_one_host_is_refused_by_the_other_within_a_second(pair: Pair) -> None:
    alice = pair.identities["alice"]

    def attempt() -> dict[str, Any]:
        signed = sign_object(indicator(created_by_ref=alice), pair.key, alice)
        r = _post_objects(pair.b.base, pair, "signed", [signed])
        assert r.status_code == 202, r.text
        return dict(r.json())

    with Repeating(attempt) as posting:
        posting.wait_for(lambda done: len(done) >= 3, 60)
        assert all(s["success_count"] == 1 for s in posting.results), posting.results
        run_cli(pair.a.home, "party", "key", "revoke", "--", pair.key.key_id)
        posting.wait_for(lambda done: sum(s["failure_count"] for s in done) >= 3, 10)
    assert not posting.errors, posting.errors
    statuses = posting.results
    refused = [s for s in statuses if s["failure_count"]]
    assert len(refused) >= 3, statuses[-5:]
    assert all("revoked on" in s["failures"][0]["message"] for s in refused), refused[0]
    # When the key was revoked, as B's registry publishes it.
    keys = requests.get(f"{pair.b.api}/keys/", timeout=60).json()["keys"]
    revoked_us = _us(next(k for k in keys if k["kid"] == pair.key.key_id)["revoked"])
    began = sorted((_us(s["request_timestamp"]), bool(s["success_count"])) for s in statuses)
    first_refused = min(t for t, ok in began if not ok)
    accepted_after = [t - revoked_us for t, ok in began if ok and t >= revoked_us]
    print(f"key revoked on A; B's first refused submission began {(first_refused - revoked_us) / 1000:.0f} ms "
          f"after; submissions B began after the revocation and still accepted: {len(accepted_after)}")
    assert all(t < revoked_us + WITHIN_US for t, ok in began if ok), accepted_after
    oks = [ok for _, ok in began]
    assert True not in oks[oks.index(False):], oks
