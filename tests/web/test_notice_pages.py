"""The notice pages against a real ``abusehub serve`` (tests/harness.py), read and posted as a
browser does (a requests session with the pages' cookie and CSRF token): the list by state, a
page per notice with its versions and who acted, the agency's form (drawn from the notice facts,
each problem next to its field), withdrawal and acknowledgement built by the hub and signed here
as the page's script signs them, and the provider's matching page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from hub.client.notices import acknowledge, issue_notice
from hub.signing import KeySet
from hub.signing.documents import sign_objects, verify_objects
from hub.stix.notice_facts import NoticeFacts
from hub.web.notices import SECTIONS
from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow  # a real server process

PARTIES = {"gov": "agency", "alice": "provider", "bob": "provider", "carol": "provider", "ops": "operator"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_OBJECTS = re.compile(r'<script type="application/json" id="objects-json">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    made = HubUnderTest.build(tmp_path_factory.mktemp("notice-pages") / "hub", parties=PARTIES, keys_for=PARTIES,
                              grants={"notices": {name: (True, name != "ops") for name in PARTIES}},
                              toml="[web]\nsecure_cookies = false\n")
    try:
        with made.services() as services:  # acknowledgements are TLP:RED
            services.admin.edit_collection(made.collections["notices"], max_tlp="red")
        made.serve()
        yield made
    finally:
        made.close()


class Browser:
    """A requests session signed in to the pages as one party, posting with its CSRF token."""

    def __init__(self, hub: HubUnderTest, party: str) -> None:
        self.hub, self.s, self.csrf = hub, requests.Session(), ""
        self.get("/web/signin")
        resp = self.post("/web/signin", {"token": hub.tokens[party]}, allow_redirects=False)
        assert resp.status_code == 302, resp.text
        self.get("/web/collections")  # the new session's CSRF token

    def get(self, path: str, **kw: Any) -> requests.Response:
        resp = self.s.get(self.hub.base + path, timeout=30, **kw)
        m = _CSRF.search(resp.text)
        if m:
            self.csrf = m.group(1)
        return resp

    def post(self, path: str, data: Any, **kw: Any) -> requests.Response:
        form = list(data.items()) if isinstance(data, dict) else list(data)
        return self.s.post(self.hub.base + path, data=[*form, ("csrf_token", self.csrf)], timeout=30, **kw)

    def submit(self, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """Post signed objects as the signing page's script does; the final status."""
        col = self.hub.collections["notices"]
        resp = self.s.post(f"{self.hub.base}/web/collections/{col}/submit", json={"objects": objects},
                           headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"}, timeout=30)
        assert resp.status_code == 202, resp.text
        status = resp.json()
        while status["status"] != "complete":
            status = self.s.get(self.hub.base + status["url"] if status["url"].startswith("/") else status["url"],
                                headers={"Accept": "application/json"}, timeout=30).json()
        return status


def _objects(page: str) -> list[dict[str, Any]]:
    m = _OBJECTS.search(page)
    assert m, "the page has nothing to sign"
    objects: list[dict[str, Any]] = json.loads(m.group(1))
    return objects


def _signed(hub: HubUnderTest, party: str, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sign_objects(objects, hub.keys[party], hub.identities[party])


def _issue(hub: HubUnderTest, **over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "issuer_identity_id": hub.identities["gov"], "notice_kind": "special-measure",
        "title": "Special measure 7", "legal_reference": "Order 2026-7", "measures": ["prohibit-new-accounts"],
        "jurisdictions": ["KP"], "effective_from": datetime.now(UTC) - timedelta(days=1)}
    facts.update(over)
    with hub.client("gov") as client:
        notice, outcome = issue_notice(client, hub.collections["notices"], NoticeFacts.from_mapping(facts),
                                       hub.keys["gov"], hub.identities["gov"])
    assert outcome.stored == [notice["id"]], outcome.refused
    return notice


def _errors(page: str, field: str) -> str:
    m = re.search(rf'<ul class="field-error" id="err-{re.escape(field)}">(.*?)</ul>', page, re.S)
    assert m, f"no problem shown at {field}"
    return html.unescape(m.group(1))


def _form_problems(page: str) -> str:
    m = re.search(r'<div class="error" role="alert" id="form-problems">(.*?)</div>', page, re.S)
    assert m, "no problem shown about the form as a whole"
    return html.unescape(m.group(1))


def _verified(hub: HubUnderTest, objects: list[dict[str, Any]], signer: str) -> None:
    keys = KeySet.from_jwks(requests.get(hub.api + "/keys/", timeout=10).json())
    verdicts = verify_objects(objects, keys, int(datetime.now(UTC).timestamp() * 1_000_000))
    assert verdicts and all(v.ok and hub.identities[signer] in v.signers for v in verdicts), verdicts


def _url(hub: HubUnderTest, *rest: str) -> str:
    return "/".join([f"/web/collections/{hub.collections['notices']}/notices", *rest])


# -- reading -------------------------------------------------------------------------------------------


def test_the_list_groups_notices_by_state(hub: HubUnderTest) -> None:
    old = _issue(hub, title="Old measure")
    _issue(hub, title="New measure", supersedes_ref=old["id"])
    gone = _issue(hub, title="Gone measure")
    gov = Browser(hub, "gov")
    page = gov.post(_url(hub, gone["id"], "withdraw"), {}).text
    gov.submit(_signed(hub, "gov", _objects(page)))

    listed = gov.get(_url(hub)).text
    sections = {state: listed.split(f'id="notices-{state}"')[1].split("</table>")[0]
                for state in ("in-force", "superseded", "withdrawn")}
    assert "New measure" in sections["in-force"] and "Old measure" not in sections["in-force"]
    assert "Old measure" in sections["superseded"]
    assert "Gone measure" in sections["withdrawn"]
    assert 'id="new-notice"' in listed and 'id="match-accounts"' not in listed
    # The nav link leads to the notices of the one collection alice reads.
    alice = Browser(hub, "alice")
    first = alice.get("/web/notices")
    assert first.url.endswith(_url(hub)) and 'id="match-accounts"' in first.text


def test_the_agency_sees_who_acted_and_the_versions(hub: HubUnderTest) -> None:
    notice = _issue(hub, title="Who acted", addressee_refs=[hub.identities[p] for p in ("alice", "bob", "carol")],
                    acknowledge_by=datetime.now(UTC) + timedelta(days=5))
    for party, status, count in (("alice", "applied", 2), ("bob", "not-applicable", 0)):
        with hub.client(party) as client:
            acknowledge(client, hub.collections["notices"], notice["id"], status, hub.keys[party],
                        hub.identities[party], accounts_affected=count)
    page = Browser(hub, "gov").get(_url(hub, notice["id"])).text
    rows = dict(re.findall(r'<tr data-identity="(identity--[0-9a-f-]+)" data-state="([a-z-]+)">', page))
    assert rows == {hub.identities["alice"]: "applied", hub.identities["bob"]: "not-applicable",
                    hub.identities["carol"]: "pending"}
    assert re.search(r'data-state="applied">applied: 1<', page) and re.search(r'data-state="pending">pending: 1<', page)
    assert page.count('<li data-modified=') == 1
    # A provider reads the notice, not who acted; it gets the form to answer.
    alice = Browser(hub, "alice").get(_url(hub, notice["id"])).text
    assert 'id="addressees"' not in alice and 'id="ack-form"' in alice and "Your newest answer: <strong>applied" in alice
    # One the notice does not address gets no form.
    other = _issue(hub, title="Bob only", addressee_refs=[hub.identities["bob"]])
    carol = Browser(hub, "carol")
    assert 'id="ack-form"' not in carol.get(_url(hub, other["id"])).text
    # Posted anyway, it is refused with its reason and nothing is built.
    refused = carol.post(_url(hub, other["id"], "ack"), {"status": "received"})
    assert refused.status_code == 422 and "does not address" in _form_problems(refused.text)
    assert 'id="objects-json"' not in refused.text


def test_an_operator_sees_who_acted_as_the_agency_does(hub: HubUnderTest) -> None:
    notice = _issue(hub, title="For the operator", addressee_refs=[hub.identities["bob"]])
    with hub.client("bob") as client:
        acknowledge(client, hub.collections["notices"], notice["id"], "objection", hub.keys["bob"],
                    hub.identities["bob"], note="Not in our jurisdiction.")
    ops = Browser(hub, "ops")
    number = re.search(rf'<tr data-notice="{notice["id"]}">\s*<td>(\d+)</td>', ops.get(_url(hub)).text)
    assert number, "the list numbers every notice"
    page = ops.get(_url(hub, number.group(1))).text  # by the number the list shows
    assert "For the operator" in page
    assert f'<tr data-identity="{hub.identities["bob"]}" data-state="objection">' in page
    assert "Not in our jurisdiction." in page
    assert 'id="withdraw-form"' not in page and 'id="ack-form"' not in page
    assert ops.get(_url(hub, "new")).status_code == 403


def test_overdue_is_shown_by_the_hubs_clock(hub: HubUnderTest) -> None:
    notice = _issue(hub, title="Late", addressee_refs=[hub.identities["carol"]],
                    acknowledge_by=datetime.now(UTC) - timedelta(hours=1))
    page = Browser(hub, "gov").get(_url(hub, notice["id"])).text
    assert f'<tr data-identity="{hub.identities["carol"]}" data-state="overdue">' in page


# -- the agency's form ------------------------------------------------------------------------------------


def test_the_form_is_drawn_from_the_notice_facts(hub: HubUnderTest) -> None:
    page = Browser(hub, "gov").get(_url(hub, "new")).text
    for f in NoticeFacts.model().facts:
        if f.name in ("issuer_identity_id", "withdrawn", "account_pseudonyms"):
            continue
        assert f'name="{f.name}"' in page, f.name
    for kind in ("provider_account", "email", "phone", "payment_instrument"):
        assert f'name="account_pseudonyms.{kind}"' in page
    # Personal values have no name: the browser never sends them; their pseudonyms it does.
    assert re.search(r'<input id="f-personal-email" data-kind="email" class="secret"', page)
    assert 'name="pseudonym.email"' in page
    assert [s.heading for s in SECTIONS] == ["The notice", "Accounts and personal values"]


def _form(**over: Any) -> list[tuple[str, str]]:
    form = {"notice_kind": "special-measure", "title": "Filed on the page", "legal_reference": "Order 9",
            "jurisdictions": "KP\nIR", "resellers": "Resell Co., Ltd.; CN; 91110000X",
            "effective_from": "2026-01-01T00:00:00Z", "tlp": "amber", "ip_ranges": "203.0.113.0/24"}
    form.update(over)
    pairs = [(k, v) for k, v in form.items() if v is not None]
    return [*pairs, ("measures", "prohibit-new-accounts"), ("measures", "terminate")]


def test_a_notice_filed_on_the_page_is_signed_and_verifies(hub: HubUnderTest) -> None:
    gov = Browser(hub, "gov")
    gov.get(_url(hub, "new"))
    page = gov.post(_url(hub, "new"), _form())
    assert page.status_code == 200, page.text
    [notice] = _objects(page.text)
    assert notice["resellers"] == [{"name": "resell co ltd", "country": "CN", "registration_number": "91110000X"}]
    assert notice["measures"] == ["prohibit-new-accounts", "terminate"] and "id=\"sign-submit\"" in page.text
    signed = _signed(hub, "gov", [notice])
    status = gov.submit(signed)
    assert [s["id"] for s in status["successes"]] == [notice["id"]], status
    _verified(hub, signed, "gov")
    shown = gov.get(_url(hub, notice["id"])).text
    assert "Filed on the page" in shown and 'data-state="in force"' in shown


def test_bad_input_on_the_form_is_named_next_to_its_field(hub: HubUnderTest) -> None:
    gov = Browser(hub, "gov")
    gov.get(_url(hub, "new"))
    resp = gov.post(_url(hub, "new"), _form(effective_until="2025-01-01T00:00:00Z", jurisdictions="Atlantis",
                                            resellers="no country here", title="",
                                            **{"personal.email": "holder@example.com"}))
    assert resp.status_code == 422
    page = resp.text
    assert "earlier than" in _errors(page, "effective_until")
    assert "ISO 3166" in _errors(page, "jurisdictions")
    assert "legal name; country" in _errors(page, "resellers")
    assert _errors(page, "title")
    assert "sent in clear" in _errors(page, "personal-email")
    assert "holder@example.com" not in page
    # What was typed is kept.
    assert 'value="Order 9"' in page


# -- withdrawal and acknowledgement ------------------------------------------------------------------------


def test_withdrawal_and_an_acknowledgement_built_on_the_page(hub: HubUnderTest) -> None:
    notice = _issue(hub, title="To answer")
    alice = Browser(hub, "alice")
    form = alice.get(_url(hub, notice["id"]) + "?status=applied&accounts=3").text
    assert '<option value="applied" selected>' in form and 'value="3"' in form
    bad = alice.post(_url(hub, notice["id"], "ack"), {"status": "maybe", "accounts_affected": "many", "note": ""})
    assert bad.status_code == 422
    assert "whole number" in _errors(bad.text, "accounts_affected") and _errors(bad.text, "status")
    built = alice.post(_url(hub, notice["id"], "ack"), {"status": "applied", "accounts_affected": "3",
                                                         "note": "Two suspended."})
    [ack] = _objects(built.text)
    assert ack["status"] == "applied" and ack["accounts_affected"] == 3 and ack["notice_ref"] == notice["id"]
    signed = _signed(hub, "alice", [ack])
    assert alice.submit(signed)["successes"]
    _verified(hub, signed, "alice")

    gov = Browser(hub, "gov")
    gone = _objects(gov.post(_url(hub, notice["id"], "withdraw"), {}).text)
    assert gone[0]["withdrawn"] is True and gone[0]["id"] == notice["id"]
    assert gov.submit(_signed(hub, "gov", gone))["successes"]
    page = gov.get(_url(hub, notice["id"])).text
    assert 'data-state="withdrawn"' in page and page.count("<li data-modified=") == 2
    assert 'id="withdraw-form"' not in page
    again = gov.post(_url(hub, notice["id"], "withdraw"), {})
    assert again.status_code == 422 and "is withdrawn already" in _form_problems(again.text)
    assert f'<tr data-identity="{hub.identities["alice"]}" data-state="applied">' in page
    # A withdrawn notice takes no acknowledgement: said on the form, nothing built.
    late = alice.post(_url(hub, notice["id"], "ack"), {"status": "received"})
    assert late.status_code == 422 and "was withdrawn: it takes no acknowledgement" in _form_problems(late.text)
    assert 'id="objects-json"' not in late.text


def test_who_may_do_what(hub: HubUnderTest) -> None:
    notice = _issue(hub, title="Rights")
    alice, gov = Browser(hub, "alice"), Browser(hub, "gov")
    assert alice.get(_url(hub, "new")).status_code == 403
    assert alice.post(_url(hub, notice["id"], "withdraw"), {}).status_code == 403
    assert gov.get(_url(hub, "match")).status_code == 403
    assert gov.post(_url(hub, notice["id"], "ack"), {"status": "received"}).status_code == 403
    assert gov.get(_url(hub, "abusehub-notice--00000000-0000-4000-8000-000000000000")).status_code == 404


def test_the_match_page_carries_the_notices_in_force_that_address_the_provider(hub: HubUnderTest) -> None:
    mine = _issue(hub, title="For alice", addressee_refs=[hub.identities["alice"]])
    other = _issue(hub, title="For bob", addressee_refs=[hub.identities["bob"]])
    later = _issue(hub, title="Not yet", effective_from=datetime.now(UTC) + timedelta(days=3))
    page = Browser(hub, "alice").get(_url(hub, "match")).text
    carried = json.loads(html.unescape(page.split('<script type="application/json" id="notices-json">')[1]
                                       .split("</script>")[0]))
    ids = {n["id"] for n in carried}
    assert mine["id"] in ids and other["id"] not in ids and later["id"] not in ids
    # The file input has no name and no form: it is never posted.
    assert re.search(r'<input type="file" id="accounts-file" accept="[^"]*">', page)


def test_the_notices_index_lists_each_collection_read(hub: HubUnderTest) -> None:
    # Last in this module: a second collection for alice (the list above expects one).
    hub.add_collection("more-notices", {"alice": (True, False), "gov": (True, True)}, title="More notices")
    page = Browser(hub, "alice").get("/web/notices")
    assert page.url.endswith("/web/notices")
    for alias in ("notices", "more-notices"):
        assert f'href="/web/collections/{hub.collections[alias]}/notices"' in page.text
    assert "in force" in page.text
    # bob reads one of them only: straight to its notices.
    assert Browser(hub, "bob").get("/web/notices").url.endswith(_url(hub))
