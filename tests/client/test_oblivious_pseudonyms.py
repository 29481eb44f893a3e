"""The provider's side of oblivious pseudonyms, against hubs in-process (httpx.WSGITransport):
blind, evaluate, verify the proof against the published (or a pinned) key, finalize.

Two providers that saw the same card correlate; an answer proved with another key than the one
checked against is refused and nothing is submitted; a rotation keeps correlation across key
versions; a hub without pseudonyms/key gets no value, unless the caller allows values in clear
(and never with a pinned key).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from hub.client.errors import ClientError
from hub.client.oprf import NoObliviousPseudonyms, UnverifiableAnswer
from hub.client.reports import file_report, pseudonym_values
from hub.client.taxii import TaxiiClient
from hub.config import DEFAULT_CONFIG_TEXT
from hub.pseudonyms import POPRF_PSEUDONYM_RE, PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import ReportFacts
from tests.client.conftest import MakeHubs
from tests.client.report_kit import RAW, example_table, raw_in
from tests.harness import HubUnderTest

PARTIES = {"acme": "provider", "zenith": "provider", "gov": "agency"}
GRANTS = {"reports": {"acme": (True, True), "zenith": (True, True), "gov": (True, False)}}
CARD = RAW["payment_instrument"]


def _hub(make_hubs: MakeHubs, name: str = "hub") -> HubUnderTest:
    # The configuration `abusehub init` writes: the raw-value endpoint is off.
    return make_hubs(name, PARTIES, GRANTS, signed={"reports": False}, keys_for=("acme", "zenith"),
                     toml=DEFAULT_CONFIG_TEXT)


def _facts(h: HubUnderTest, party: str, **changes: Any) -> dict[str, Any]:
    return {**example_table(), "provider_identity_id": h.identities[party], **changes}


def _file(h: HubUnderTest, party: str, client: TaxiiClient | None = None, **kwargs: Any) -> Any:
    with client or h.client(party) as c:
        return file_report(c, h.collections["reports"], _facts(h, party), h.keys[party], h.identities[party],
                           **kwargs)


def _ext(result: Any) -> dict[str, Any]:
    (account,) = [o for o in result.objects if o["type"] == "user-account"]
    ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    assert isinstance(ext, dict)
    return ext


class Swapping:
    """Middleware: the hub's app, except that ``GET pseudonyms/key`` answers ``key_body``
    (a hub showing one key while evaluating with another)."""

    def __init__(self, app: Any, key_body: bytes) -> None:
        self.app, self.key_body = app, key_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].endswith("/pseudonyms/key"):
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(self.key_body)))])
            return [self.key_body]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


def test_two_providers_that_saw_the_same_card_correlate(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    first = _file(h, "acme")
    second = _file(h, "zenith")
    assert first.state == second.state == "stored"
    a, z = _ext(first), _ext(second)
    assert POPRF_PSEUDONYM_RE.match(a["pseudonyms"]["payment_instrument"])
    assert a["pseudonyms"] == z["pseudonyms"]  # the same holder data, the same pseudonyms
    # The account ids are scoped by the provider: "acct-0042-9917" at two providers differs.
    assert a["provider_account_pseudonym"] != z["provider_account_pseudonym"]
    with h.client("gov") as gov:
        found = gov.correlations([a["pseudonyms"]["payment_instrument"]])
    assert {c["report"] for c in found} == {first.report_id, second.report_id}


def test_the_provider_account_is_scoped_before_blinding(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    result = _file(h, "acme")
    made = h.hub.pseudonyms.make("provider_account", [example_table()["provider_account_id"]], ["line 1"],
                                 "acme", scheme="poprf")
    assert _ext(result)["provider_account_pseudonym"] == made[0]["pseudonym"]


def test_a_proof_made_with_another_key_is_refused_and_nothing_is_submitted(make_hubs: MakeHubs) -> None:
    h, other = _hub(make_hubs, "hub"), _hub(make_hubs, "other")
    other_keys = other.hub.pseudonyms.poprf_keyring().public_keys()
    # Pinned: the key the provider was given out of band is not the key this hub evaluates with.
    with pytest.raises(UnverifiableAnswer, match="^the hub's answer could not be verified: "):
        _file(h, "acme", pinned=other_keys)
    # Shown: the hub publishes one key and evaluates with another.
    shown = json.dumps(other.hub.pseudonyms.public_keys()).encode()
    lying = TaxiiClient(h.url, h.tokens["acme"], transport=httpx.WSGITransport(app=Swapping(h.app, shown)))
    with pytest.raises(UnverifiableAnswer) as err:
        _file(h, "acme", client=lying)
    assert raw_in(str(err.value)) == []
    assert h.stored("reports") == []
    # The key it does publish verifies: the same report is accepted.
    assert _file(h, "acme", pinned=h.hub.pseudonyms.poprf_keyring().public_keys()).state == "stored"


def test_a_pinned_key_must_cover_the_current_version(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    pinned = h.hub.pseudonyms.poprf_keyring().public_keys()
    h.hub.pseudonyms.rotate()
    with h.client("acme") as c, pytest.raises(UnverifiableAnswer, match="key version k2 is not among the pinned"):
        c.pseudonymise([("email", "a@example.com")], pinned=pinned)


def test_a_rotation_keeps_correlation_across_versions(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    before = _file(h, "acme")
    old = _ext(before)["pseudonyms"]["payment_instrument"]
    assert old.startswith("poprf-r255:k1:")
    version, _ = h.hub.pseudonyms.rotate()
    assert version == "k2"
    after = _file(h, "zenith")
    new = _ext(after)["pseudonyms"]["payment_instrument"]
    assert new.startswith("poprf-r255:k2:") and new != old
    # Asked for every version, a provider gets the card's pseudonym under k2 and k1...
    with h.client("zenith") as c:
        (every,) = c.oblivious_pseudonyms([("payment_instrument", CARD)], all_versions=True)
        assert every == [new, old]
        # ...and finds both reports, across the rotation.
        found = c.correlations(every)
    assert {x["report"] for x in found} == {before.report_id, after.report_id}


def test_many_values_of_many_kinds_in_order(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    facts = ReportFacts.from_mapping(_facts(h, "acme"))
    values = pseudonym_values(facts) * 30  # 180 values: two requests of at most 100
    with h.client("acme") as c:
        made = c.pseudonymise(values)
    assert len(made) == len(values) and all(POPRF_PSEUDONYM_RE.match(p) for p in made)
    assert made[:6] == made[6:12]
    # As the operator makes them with the hub's key, value by value.
    for (kind, value), p in zip(values[:6], made[:6], strict=True):
        assert h.hub.pseudonyms.make(kind, [value], ["v"], scheme="poprf")[0]["pseudonym"] == p


def test_a_value_that_cannot_be_normalised_names_its_kind_only(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    with h.client("acme") as c, pytest.raises(ClientError) as err:
        c.pseudonymise([("phone", "call me 555-26")])
    assert "phone" in str(err.value) and "555" not in str(err.value)


def test_a_hub_without_a_pseudonym_key_gets_no_value_unless_clear_values_are_allowed(make_hubs: MakeHubs) -> None:
    # A hub whose operator keeps the raw-value endpoint on, and that has no pseudonyms/key (an
    # older hub, or a proxy hiding it): a value sent in clear would be pseudonymised.
    h = make_hubs("old", PARTIES, GRANTS, signed={"reports": False}, keys_for=("acme",),
                  toml="[pseudonyms]\naccept_raw_values = true\n")
    bodies: list[bytes] = []

    def without_key(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        bodies.append(body)
        environ["wsgi.input"] = io.BytesIO(body)
        if "/pseudonyms/key" in environ["PATH_INFO"] or "/pseudonyms/evaluate" in environ["PATH_INFO"]:
            environ["PATH_INFO"] = environ["PATH_INFO"].replace("/pseudonyms/", "/nothing-here/")
        result: Iterable[bytes] = h.app(environ, start_response)
        return result

    values = [("payment_instrument", CARD), ("email", RAW["email"])]
    pinned = h.hub.pseudonyms.poprf_keyring().public_keys()
    with TaxiiClient(h.url, h.tokens["acme"], transport=httpx.WSGITransport(app=without_key)) as c:
        # By default nothing is sent, and the error says why and what would send the values.
        with pytest.raises(NoObliviousPseudonyms) as err:
            c.pseudonymise(values)
        assert str(err.value).startswith(f"the hub at {h.url}")
        assert "offers no oblivious pseudonym evaluation (GET pseudonyms/key answered 404): no value was sent" \
            in str(err.value) and "allow_clear_values" in str(err.value) and "\n" not in str(err.value)
        assert err.value.clear_refused and not err.value.pinned and isinstance(err.value, ClientError)
        # A pinned key never lets a value go in clear, even when clear values are allowed.
        with pytest.raises(NoObliviousPseudonyms, match="never sent in clear to a hub whose pseudonym key is pinned"):
            c.pseudonymise(values, pinned=pinned, allow_clear_values=True)
        # Nor does a report filed through the library.
        with pytest.raises(NoObliviousPseudonyms):
            file_report(c, h.collections["reports"], _facts(h, "acme"), h.keys["acme"], h.identities["acme"])
        assert raw_in(b"".join(bodies).decode("utf-8", "replace")) == []
        assert h.stored("reports") == []
        # Allowed explicitly, for a hub known to be older: the values go in clear, one request.
        before = len(bodies)
        made = c.pseudonymise(values, allow_clear_values=True)
        assert all(p.startswith("hmac-sha256:") and PSEUDONYM_RE.match(p) for p in made)
        assert len(bodies) == before + 2 and raw_in(bodies[-1].decode()) != []  # the key, then the values
        result = file_report(c, h.collections["reports"], _facts(h, "acme"), h.keys["acme"], h.identities["acme"],
                             allow_clear_values=True)
        assert result.state == "stored" and result.prepared.sent_in_clear == 6


def test_a_poprf_pseudonym_under_a_key_version_that_never_existed_is_refused(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    good = _file(h, "acme", dry_run=True)
    (account,) = [o for o in good.objects if o["type"] == "user-account"]
    ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    bad = json.loads(json.dumps(account))
    bad_ext = bad["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    bad_ext["pseudonyms"]["email"] = "poprf-r255:k9:" + ext["pseudonyms"]["email"].split(":")[2]
    problem = h.hub.pseudonyms.check_key_versions(bad, None)  # type: ignore[arg-type]
    assert problem is not None and "pseudonyms.email" in str(problem) and "'k9'" in str(problem)
    assert "never had" in str(problem)
    assert h.hub.pseudonyms.check_key_versions(account, None) is None  # type: ignore[arg-type]
    # An hmac-sha256 pseudonym under an unknown version likewise.
    bad_ext["pseudonyms"]["email"] = "hmac-sha256:k7:" + "0" * 64
    assert "'k7'" in str(h.hub.pseudonyms.check_key_versions(bad, None))  # type: ignore[arg-type]


def test_ingest_refuses_a_pseudonym_under_a_key_version_that_never_existed(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    h.add_collection("open", {"acme": (True, True)})  # no signatures: the object as written
    good = _file(h, "acme", dry_run=True)
    (account,) = [o for o in good.objects if o["type"] == "user-account"]
    bad = json.loads(json.dumps(account))
    bad.pop("extensions")
    bad["extensions"] = {IAAS_ACCOUNT_EXTENSION_ID: dict(account["extensions"][IAAS_ACCOUNT_EXTENSION_ID])}
    email = bad["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["email"]
    bad["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"] = {
        **bad["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"], "email": "poprf-r255:k9:" + email.split(":")[2]}
    with h.client("acme") as c:
        status = c.submit(h.collections["open"], [bad])
    assert status.failures and "'k9'" in status.failures[0]["message"]



def test_more_pseudonyms_than_one_query_takes_are_asked_in_several(make_hubs: MakeHubs) -> None:
    h = _hub(make_hubs)
    filed = _file(h, "acme")
    card = _ext(filed)["pseudonyms"]["payment_instrument"]
    others = [f"poprf-r255:k1:{i:0128x}" for i in range(30)]
    with h.client("gov") as gov:
        found = gov.correlations([*others, card, card])
    assert [(c["pseudonym"], c["report"]) for c in found] == [(card, filed.report_id)]
