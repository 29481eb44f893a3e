"""The report service (:mod:`hub.client.reports`), in-process: its pieces without a hub, and the
whole path (facts -> pseudonyms through the hub -> build -> sign -> validate -> submit -> status
-> result) against a real hub app behind :class:`httpx.WSGITransport`.

``abusehub report new`` is this service plus printing; its subprocess tests are in
``test_report_new.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.client.errors import ClientError
from hub.client.reports import (
    REPORT_TEMPLATE,
    LocalProblems,
    MappedPseudonymiser,
    file_report,
    load_facts,
    load_signing_key,
    local_problems,
    prepare_report,
    pseudonym_values,
    read_facts,
    submit_report,
)
from hub.client.taxii import TAXII_21, TaxiiClient
from hub.pseudonyms import PSEUDONYM_RE, PseudonymKeyring
from hub.signing import KeySet, SigningKey
from hub.signing.documents import verify_objects
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.report import build_report
from tests.client.conftest import HubPerBackend, MakeHubs
from tests.client.report_kit import REPO, example_table, facts_toml, raw_in
from tests.client.report_kit import write as _write
from tests.client.wsgi_apps import Scripted
from tests.harness import BACKENDS, HubUnderTest

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROVIDER = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"




# -- the pieces ---------------------------------------------------------------------------------


def test_template_is_the_example_file_and_valid_facts() -> None:
    assert (REPO / "deploy" / "report-example.toml").read_text(encoding="utf-8") == REPORT_TEMPLATE
    facts = read_facts(str(REPO / "deploy" / "report-example.toml"))
    assert facts.provider_name == "Example Cloud" and set(facts.personal) == {
        "email", "phone", "payment_instrument", "name", "address"}


def test_facts_problems_are_all_listed_with_the_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.toml", facts_toml(PROVIDER, summary=None, confidense=80, tlp="purple"))
    with pytest.raises(LocalProblems) as info:
        read_facts(str(path))
    problems = info.value.problems
    assert f"{path}: unknown field 'confidense'" in problems
    assert f"{path}: missing required field 'summary'" in problems
    bad = _write(tmp_path / "bad.toml", "summary = \n")
    with pytest.raises(LocalProblems, match="is not valid TOML"):
        read_facts(str(bad))
    with pytest.raises(LocalProblems, match="cannot read"):
        read_facts(str(tmp_path / "absent.toml"))


def test_facts_from_a_mapping() -> None:
    table = {**example_table(), "provider_identity_id": PROVIDER}
    facts = load_facts(table, {"summary": "Scanning only.", "confidence": None})
    assert facts.summary == "Scanning only." and facts.confidence == 80
    with pytest.raises(LocalProblems) as info:
        load_facts({**table, "tlp": "purple", "confidense": 3})
    assert info.value.problems == ["unknown field 'confidense'"]
    with pytest.raises(LocalProblems) as info:
        load_facts({**table, "personal": {**table["personal"], "email": "not an address"}})
    assert all("not an address" not in p for p in info.value.problems)


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.toml", facts_toml(PROVIDER))
    facts = read_facts(str(path), {"summary": "Scanning only.", "resources": ["198.51.100.7"],
                                   "confidence": None})
    assert facts.summary == "Scanning only." and facts.resources == ("198.51.100.7",)
    assert facts.confidence == 80  # None means "not given"


def test_pseudonyms_from_one_batch_give_the_same_report_as_the_keyring(tmp_path: Path) -> None:
    facts = read_facts(str(_write(tmp_path / "f.toml", facts_toml(PROVIDER))))
    ring = PseudonymKeyring({"k1": bytes(range(32))}, "k1")
    values = pseudonym_values(facts)
    # One value per kind: the provider-scoped account id and each personal value, normalised.
    assert [k for k, _ in values] == ["provider_account", "email", "phone",
                                      "payment_instrument", "name", "address"]
    assert ("phone", "+14155552671") in values and ("payment_instrument", "4111111111111111") in values
    mapped = MappedPseudonymiser(values, [ring.pseudonym(k, v) for k, v in values])
    assert "holder" not in repr(mapped)
    via_batch = build_report(facts, mapped, now=NOW)
    direct = build_report(facts, ring, now=NOW)
    # Identical but for the random ids of SDOs and SROs (and the refs to them).
    same = ("identity", "user-account", "ipv4-addr", "ipv6-addr", "domain-name", "url")
    assert [o for o in via_batch if o["type"] in same] == [o for o in direct if o["type"] in same]
    assert [o["type"] for o in via_batch] == [o["type"] for o in direct]
    with pytest.raises(ClientError) as info:
        mapped.pseudonym("email", "someone.else@example.com")
    assert "someone" not in str(info.value) and "email" in str(info.value)


def test_local_problems_name_the_object_and_the_field(tmp_path: Path) -> None:
    facts = read_facts(str(_write(tmp_path / "f.toml", facts_toml(PROVIDER))))
    objects = build_report(facts, PseudonymKeyring({"k1": bytes(32)}, "k1"), now=NOW)
    assert local_problems(objects) == []
    report = dict(objects[-1], description="write to holder@example.com", confidence=101)
    problems = local_problems(objects[:-1] + [report])
    assert any(p.startswith(report["id"] + ": description") and "e-mail" in p for p in problems)
    assert any(p.startswith(report["id"] + ": confidence") for p in problems)
    assert not any("holder@" in p for p in problems)


def test_signing_key_problems(tmp_path: Path) -> None:
    with pytest.raises(LocalProblems, match="cannot read key"):
        load_signing_key(tmp_path / "absent.pem")
    with pytest.raises(LocalProblems, match=f"key {tmp_path / 'f.toml'}:"):
        load_signing_key(_write(tmp_path / "f.toml", "not a key"))


# -- the whole path, against a hub in-process -----------------------------------------------------


@pytest.fixture(scope="module")
def report_hubs(module_hubs: MakeHubs) -> HubPerBackend:
    return HubPerBackend(module_hubs, {"acme": "provider", "nosy": "provider"}, keys_for=("acme",))


def _desk(hub: HubUnderTest) -> HubUnderTest:
    hub.add_collection("reports", {"acme": (True, True), "nosy": (True, False)}, signed=False)
    return hub


@pytest.fixture()
def desk(report_hubs: HubPerBackend) -> HubUnderTest:
    """The module's SQLite hub with a new collection 'reports' that requires signatures: acme
    (its key registered) files reports, nosy only reads."""
    return _desk(report_hubs("sqlite"))


@pytest.fixture(params=BACKENDS)
def any_desk(request: pytest.FixtureRequest, report_hubs: HubPerBackend) -> HubUnderTest:
    """:func:`desk` on each store backend (PostgreSQL too, when it runs)."""
    return _desk(report_hubs(request.param))


def _facts(h: HubUnderTest, **changes: Any) -> dict[str, Any]:
    return {**example_table(), "provider_identity_id": h.identities["acme"], **changes}


def test_file_a_report_then_the_same_again(any_desk: HubUnderTest) -> None:
    acme, key, col = any_desk.identities["acme"], any_desk.keys["acme"], any_desk.collections["reports"]
    with any_desk.client("acme") as client:
        result = file_report(client, col, _facts(any_desk), key, acme)
        assert result.state == "stored" and result.submitted and not result.refused
        assert sorted(result.stored) == sorted(o["id"] for o in result.objects)
        assert result.status_url is not None and result.status_url.startswith(any_desk.url + "status/")
        again = submit_report(client, col, result.prepared)
        assert again.state == "already stored" and sorted(again.already_stored) == sorted(result.stored)
        # The account's pseudonym finds the report.
        (account,) = [o for o in result.objects if o["type"] == "user-account"]
        found = client.correlations([account["user_id"]])
    assert result.report_id in {c["report"] for c in found}

    # What was stored is what was signed, and it verifies with the hub's published keys.
    stored = {i: orjson.loads(t) for i, _, t in any_desk.stored("reports")}
    assert [stored[o["id"]] for o in result.objects] == result.objects
    keys = KeySet.from_jwks(any_desk.client().key_set())
    assert all(v.ok for v in verify_objects(result.objects, keys, any_desk.hub.clock()))
    ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    assert set(ext["pseudonyms"]) == {"email", "phone", "payment_instrument", "name", "address"}
    assert all(PSEUDONYM_RE.match(p) for p in ext["pseudonyms"].values())
    assert raw_in(json.dumps(result.objects)) == [] and raw_in(repr(result)) == []


def test_a_dry_run_submits_nothing(desk: HubUnderTest) -> None:
    with desk.client("acme") as client:
        result = file_report(client, desk.collections["reports"], _facts(desk), desk.keys["acme"],
                             desk.identities["acme"], dry_run=True)
    assert result.state == "dry run" and not result.submitted and result.objects[-1]["type"] == "report"
    bundle = orjson.loads(result.prepared.bundle())
    assert bundle["type"] == "bundle" and bundle["objects"] == result.objects
    assert raw_in(result.prepared.bundle().decode()) == []
    assert desk.stored("reports") == []


def test_the_hub_refusing_objects_gives_their_reasons(desk: HubUnderTest) -> None:
    stray = SigningKey.generate()  # a key the hub does not know for acme
    with desk.client("acme") as client:
        result = file_report(client, desk.collections["reports"], _facts(desk), stray, desk.identities["acme"])
    assert result.state == "refused" and not result.stored
    assert {oid for oid, _ in result.refused} == {o["id"] for o in result.objects}
    assert all("unknown" in reason for _, reason in result.refused)


def test_problems_before_anything_is_submitted(desk: HubUnderTest) -> None:
    acme, key, col = desk.identities["acme"], desk.keys["acme"], desk.collections["reports"]
    other = "identity--0c4f2a1e-5b3d-4e6f-9a8b-7c6d5e4f3a2b"
    with desk.client("acme") as client:
        with pytest.raises(LocalProblems, match=f"--as {other} is not the provider the facts name"):
            file_report(client, col, _facts(desk), key, other)
        with pytest.raises(LocalProblems, match="missing required field 'summary'"):
            file_report(client, col, {k: v for k, v in _facts(desk).items() if k != "summary"}, key, acme)
    assert desk.stored("reports") == []


def test_a_status_still_pending_is_pending(desk: HubUnderTest) -> None:
    """A hub that judges later: the result says pending and where to follow it."""
    with desk.client("acme") as client:
        prepared = prepare_report(client, load_facts(_facts(desk)), desk.keys["acme"], desk.identities["acme"])
    pending = orjson.dumps({"id": "s9", "status": "pending", "pendings": [{"id": o["id"]} for o in prepared.objects]})
    app = Scripted([(202, {"Content-Type": TAXII_21}, pending)])
    seen_ids: list[str] = []
    with TaxiiClient(desk.url, "ahub_x", transport=httpx.WSGITransport(app=app)) as later:
        result = submit_report(later, "c1", prepared, wait=None, on_submitted=lambda s: seen_ids.append(s.id))
    assert result.state == "pending" and seen_ids == ["s9"] and len(result.pending) == len(prepared.objects)
    assert result.status_url == desk.url + "status/s9/" and len(app.seen) == 1
