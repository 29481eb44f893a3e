"""Oblivious pseudonyms against the real server (gunicorn, two workers) on loopback: the client's
whole path over the network, the raw-value endpoint off as ``abusehub init`` writes it, and the
longest correlation query through gunicorn's request-line limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from hub.client.errors import AccessDenied
from hub.client.taxii import MAX_CORRELATION_PSEUDONYMS, TaxiiClient
from hub.config import DEFAULT_CONFIG_TEXT
from hub.pseudonyms import POPRF_PSEUDONYM_RE
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow  # a real server process

PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency"}
GRANTS = {"reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False)}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.served(tmp_path_factory.mktemp("hub"), parties=PARTIES, grants=GRANTS, toml=DEFAULT_CONFIG_TEXT) as running:
        yield running


def _client(server: HubUnderTest, party: str) -> TaxiiClient:
    return TaxiiClient(server.api + "/", server.tokens[party])


def test_two_providers_get_the_same_verified_pseudonyms_over_the_network(server: HubUnderTest) -> None:
    values = [("payment_instrument", "4111 1111 1111 1111"), ("phone", "+1 415 555 2671"),
              ("email", "holder@example.com")]
    with _client(server, "alice") as alice, _client(server, "bob") as bob:
        a = alice.pseudonymise(values)
        b = bob.pseudonymise([("payment_instrument", "4111-1111-1111-1111"), ("phone", "+14155552671"),
                              ("email", "holder@EXAMPLE.com")])
        pinned = alice.pseudonym_key().keys
        assert bob.pseudonymise(values, pinned=pinned) == a
    assert a == b and all(POPRF_PSEUDONYM_RE.match(p) for p in a)
    # No written form of a value in the server's log (whole forms: a short digit run such as
    # "555" also occurs in worker process ids and durations).
    log = server.read_log()
    for form in ("4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "+1 415 555 2671",
                 "+14155552671", "415 555 2671", "4155552671", "holder@example.com", "holder@EXAMPLE.com"):
        assert form not in log, form


def test_the_raw_value_endpoint_is_off(server: HubUnderTest) -> None:
    r = requests.post(f"{server.api}/pseudonyms/", headers=server.auth("alice"), timeout=30,
                      json={"values": [{"kind": "email", "value": "holder@example.com"}]})
    assert r.status_code == 403 and "pseudonyms/evaluate" in r.json()["description"]
    with _client(server, "alice") as alice:
        with pytest.raises(AccessDenied, match="accept_raw_values"):
            alice.pseudonymise_in_clear([("email", "holder@example.com")])


def test_the_largest_correlation_query_fits_in_a_request_line(server: HubUnderTest) -> None:
    many = [("pseudonym", f"poprf-r255:k12345:{i:0128x}") for i in range(MAX_CORRELATION_PSEUDONYMS)]
    r = requests.get(f"{server.api}/correlations/", params=many, headers=server.auth("gov"), timeout=30)
    assert r.status_code == 200 and r.json() == {"correlations": []}
