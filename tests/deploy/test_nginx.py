"""A real hub behind a real nginx, configured from the deploy template, with client certificates.

The CA, the server's and the clients' certificates are made here with ``cryptography``. The hub
trusts the proxy's headers from 127.0.0.1 only ([server] trusted_proxies); a request sent
straight to the hub from another loopback address (127.0.0.2) plays a client that reaches the
hub without the proxy.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.deploy.nginx import Nginx, check_config, nginx_binary, start_nginx, write_config
from tests.factories import indicator
from tests.harness import RunningHub, free_port, run_cli, start_server, stop_server
from tests.lifecycle.pki import Issued, issue, make_ca

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"


@dataclass
class Setup:
    hub: RunningHub
    proxy: Nginx
    ca: Path
    client: tuple[Path, Path]  # registered to acme
    client_pem: bytes
    stranger: tuple[Path, Path]  # issued by the same CA, registered to nobody
    foreign: tuple[Path, Path]  # issued by another CA
    token: str
    collection: str
    object_id: str  # submitted by acme with its token

    def objects(self, **kwargs: object) -> requests.Response:
        return requests.get(f"{self.proxy.base}/api/collections/{self.collection}/objects/",
                            verify=str(self.ca), timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    nginx_binary()  # skips here, before anything is started, when nginx is not installed
    tmp = tmp_path_factory.mktemp("nginx")
    pki = tmp / "pki"
    pki.mkdir()
    ca = make_ca()
    ca_crt, _ = ca.write(pki, "ca")
    server_crt, server_key = issue(ca, "localhost", server=True).write(pki, "server")
    client: Issued = issue(ca, "acme abuse desk")
    client_files = client.write(pki, "client")
    stranger = issue(ca, "someone else").write(pki, "stranger")
    foreign = issue(make_ca("another CA"), "acme elsewhere").write(pki, "foreign")

    home = tmp / "hub"
    run_cli(home, "init")
    token = json.loads(run_cli(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)["token"]
    col = json.loads(run_cli(home, "collection", "add", "Reports", "--json").stdout)["id"]
    run_cli(home, "grant", "acme", col)
    added = run_cli(home, "party", "cert", "add", "acme", str(client_files[0]))
    assert client.fingerprint in added.stdout

    with ExitStack() as started:  # whatever was started is stopped, however the set-up ends
        hub = start_server(home, env_extra={"HUB_SERVER_TRUSTED_PROXIES": "127.0.0.1"})
        started.callback(stop_server, hub)
        sent = indicator()
        r = requests.post(f"{hub.api}/collections/{col}/objects/", data=json.dumps({"objects": [sent]}),
                          headers={"Content-Type": TAXII, "Authorization": f"Bearer {token}"}, timeout=30)
        assert r.json()["success_count"] == 1
        port = free_port()
        main = write_config(tmp / "nginx", {
            "ABUSEHUB_LISTEN": f"127.0.0.1:{port}", "ABUSEHUB_SERVER_NAME": "localhost",
            "ABUSEHUB_UPSTREAM": hub.base.removeprefix("http://"),
            "ABUSEHUB_TLS_CERT": str(server_crt), "ABUSEHUB_TLS_KEY": str(server_key),
            "ABUSEHUB_CLIENT_CA": str(ca_crt)})
        checked = check_config(main)
        assert checked.returncode == 0, checked.stderr
        proxy = start_nginx(main, port)
        started.callback(proxy.stop)
        yield Setup(hub, proxy, ca_crt, client_files, client.cert_pem, stranger, foreign, token, col,
                    sent["id"])


def test_a_registered_client_certificate_authenticates_its_party(setup: Setup) -> None:
    r = setup.objects(cert=tuple(map(str, setup.client)))
    assert r.status_code == 200, (r.status_code, r.text, setup.hub.read_log()[-2000:])
    assert [o["id"] for o in r.json()["objects"]] == [setup.object_id]
    listed = requests.get(f"{setup.proxy.base}/api/collections/", cert=tuple(map(str, setup.client)),
                          verify=str(setup.ca), timeout=30)
    assert [c["id"] for c in listed.json()["collections"]] == [setup.collection]
    assert listed.json()["collections"][0]["can_read"] is True


def test_without_a_certificate_there_is_no_party_unless_a_token_is_sent(setup: Setup) -> None:
    assert setup.objects().status_code == 401
    assert setup.objects(headers={"Authorization": f"Bearer {setup.token}"}).status_code == 200


def test_a_certificate_header_sent_by_the_client_is_cleared_by_the_proxy(setup: Setup) -> None:
    spoofed = {"X-SSL-Client-Cert": quote(setup.client_pem.decode())}
    assert setup.objects(headers=spoofed).status_code == 401
    # With an unregistered certificate, the header the client adds does not win either.
    assert setup.objects(headers=spoofed, cert=tuple(map(str, setup.stranger))).status_code == 401


def test_a_certificate_of_another_ca_is_refused_by_the_proxy(setup: Setup) -> None:
    assert setup.objects(cert=tuple(map(str, setup.foreign))).status_code == 400


def test_a_spoofed_certificate_header_sent_straight_to_the_hub_is_ignored(setup: Setup) -> None:
    host, port = setup.hub.base.removeprefix("http://").split(":")
    path = f"/api/collections/{setup.collection}/objects/"
    header = quote(setup.client_pem.decode())

    def status(source: str) -> int:
        conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
        try:
            conn.request("GET", path, headers={"X-SSL-Client-Cert": header,
                                               "Accept": "application/taxii+json;version=2.1"})
            return conn.getresponse().status
        finally:
            conn.close()

    assert status("127.0.0.2") == 401  # not a trusted proxy: the header is dropped
    assert status("127.0.0.1") == 200  # the trusted proxy's address: believed (what nginx relies on)


def test_disabling_the_party_refuses_its_certificate_at_once(setup: Setup) -> None:
    cert = tuple(map(str, setup.client))
    assert setup.objects(cert=cert).status_code == 200
    run_cli(setup.hub.home, "party", "disable", "acme")
    try:
        # Two workers, several requests: none of them accepts the certificate any more.
        assert {setup.objects(cert=cert).status_code for _ in range(6)} == {401}
        assert setup.objects(headers={"Authorization": f"Bearer {setup.token}"}).status_code == 401
    finally:
        run_cli(setup.hub.home, "party", "enable", "acme")
    assert setup.objects(cert=cert).status_code == 200
