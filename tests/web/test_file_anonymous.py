"""Filing anonymously from the report page, in-process (Flask's test client over the real app
and services): the option is offered only where the collection takes anonymous reports and the
hub has an oversight key; the report is built in the anonymous scope, signed as the party,
filed through ``/web/anonymous/file`` and published under the hub's attestation naming no one;
an account pseudonym made in the other scope, or the option ticked where it is not offered, is
refused at its field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.escrow import OversightPrivateKey, open_sealed
from hub.anonymity.filing import ANONYMOUS_NAME, ANONYMOUS_SCOPE, commitment, new_secret
from hub.signing import SIGNATURE_EXTENSION_ID, sign_object
from tests.harness import TEST_TOML, HubUnderTest
from tests.web.conftest import BASE, WebClient, browser
from tests.web.forms import preview_objects, pseudonymised, report_form

OPTION = 'id="f-file_anonymously"'


@pytest.fixture
def anon_web(tmp_path: Path) -> Iterator[tuple[HubUnderTest, OversightPrivateKey]]:
    """A hub with an oversight key whose collection ``reports`` takes anonymous reports
    (published at once); alice has a registered key."""
    home = tmp_path / "home"
    home.mkdir()
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = TEST_TOML + '[anonymity]\noversight_public_key_file = "oversight.pub.pem"\npublish_window_seconds = 0\n'
    with HubUnderTest.build(home, toml=toml, prepare=True, keys_for=("alice",)) as hut:
        hut.hub.anonymous.set_allowed(hut.collections["reports"], True)
        yield hut, oversight


def _page(c: WebClient, col: str) -> str:
    resp = c.get(f"/web/collections/{col}/file")
    assert resp.status_code == 200
    html: str = resp.get_data(as_text=True)
    return html


def _anonymous_form(c: WebClient, hut: HubUnderTest, **overrides: Any) -> dict[str, Any]:
    """The report form as the page sends it with "file anonymously" ticked: the account id
    pseudonymised in the anonymous scope."""
    form = pseudonymised(c, report_form(provider_name="Example Cloud", **overrides), ANONYMOUS_SCOPE)
    return form | {"file_anonymously": "yes", "pseudonym_scope": ANONYMOUS_SCOPE}


def _published(hut: HubUnderTest) -> list[dict[str, Any]]:
    client = hut.client("gov")
    return [o.data for page in client.pages(hut.collections["reports"]) for o in page.objects]


def test_the_option_is_offered_only_where_anonymous_reports_are_taken(
        anon_web: tuple[HubUnderTest, OversightPrivateKey], tmp_path: Path) -> None:
    hut, _ = anon_web
    c = browser(hut, "alice")
    assert OPTION in _page(c, hut.collections["reports"])
    assert OPTION not in _page(c, hut.collections["private"])  # does not take them
    # A hub without an oversight key offers it nowhere, whatever its collections allow.
    with HubUnderTest.build(tmp_path / "plain", prepare=True) as plain:
        plain.hub.anonymous.set_allowed(plain.collections["reports"], True)
        assert OPTION not in _page(browser(plain, "alice"), plain.collections["reports"])


def test_a_report_filed_anonymously_from_the_page_is_published_attested_naming_no_one(
        anon_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, oversight = anon_web
    alice = hut.identities["alice"]
    c = browser(hut, "alice")
    col = hut.collections["reports"]
    _page(c, col)
    resp = c.post(f"/web/collections/{col}/file", _anonymous_form(c, hut, tlp="green"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert 'id="sign-submit" data-anonymous-url="/web/anonymous/file"' in html
    objects = preview_objects(html)
    assert alice not in json.dumps(objects)
    report = objects[-1]
    assert report["created_by_ref"] == ANONYMOUS_SCOPE
    assert next(o for o in objects if o["id"] == ANONYMOUS_SCOPE)["name"] == ANONYMOUS_NAME

    secret = new_secret()
    # Signed as the page's script signs (every object but a definition, whoever it names as creator).
    signed = [o if o["type"] == "marking-definition" else sign_object(o, hut.keys["alice"], alice) for o in objects]
    resp = c.client.post("/web/anonymous/file", base_url=BASE, headers={"X-CSRF-Token": c.csrf},
                         json={"collection": col, "objects": signed, "withdrawal_commitment": commitment(secret)})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    receipt = resp.get_json()
    published = {o["id"]: o for o in _published(hut)}
    mine = [published[i] for i in receipt["object_ids"]]
    hub_identity = hut.hub.signer.ensure()[1]
    for obj in mine:
        if obj["type"] != "marking-definition":
            entries = obj["extensions"][SIGNATURE_EXTENSION_ID]["signatures"]
            assert [(e["type"], e["signer"]) for e in entries] == [("attestation", hub_identity)]
    report = published[receipt["report_id"]]
    assert published[report["created_by_ref"]]["name"] == ANONYMOUS_NAME
    assert report["x_abusehub_attests"] == "registered-provider"
    text = json.dumps(mine).casefold()
    assert alice not in text and "alice" not in text and hut.keys["alice"].key_id.casefold() not in text
    record = open_sealed(hut.hub.anonymous.sealed_record(receipt["report_id"]), oversight)
    assert (record.submitter, record.identity_id) == ("alice", alice)
    assert hut.hub.anonymous.withdraw(col, receipt["report_id"], secret) > 0


def test_an_account_pseudonym_of_the_other_scope_is_refused_at_its_field(
        anon_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = anon_web
    alice = hut.identities["alice"]
    c = browser(hut, "alice")
    col = hut.collections["reports"]
    _page(c, col)
    # Made for a named report (the party's scope), sent with "file anonymously" ticked.
    named = pseudonymised(c, report_form(), alice) | {"file_anonymously": "yes", "pseudonym_scope": alice}
    resp = c.post(f"/web/collections/{col}/file", named)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="err-provider_account_id"' in html and "would tie this anonymous report" in html
    assert 'id="objects-json"' not in html
    # Made for an anonymous report, sent for a named one.
    anonymous = _anonymous_form(c, hut)
    del anonymous["file_anonymously"]
    resp = c.post(f"/web/collections/{col}/file", anonymous)
    assert resp.status_code == 422
    assert "it was made for an anonymous report" in resp.get_data(as_text=True)


def test_the_option_ticked_where_it_is_not_offered_is_refused(
        anon_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = anon_web
    c = browser(hut, "alice")
    col = hut.collections["private"]
    _page(c, col)
    resp = c.post(f"/web/collections/{col}/file", _anonymous_form(c, hut))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f"collection {col} does not accept anonymous reports" in html
    assert 'id="objects-json"' not in html


def test_the_anonymous_route_checks_csrf_and_the_body_and_files_nothing_on_refusal(
        anon_web: tuple[HubUnderTest, OversightPrivateKey]) -> None:
    hut, _ = anon_web
    c = browser(hut, "alice")
    col = hut.collections["reports"]
    _page(c, col)
    body = {"collection": col, "objects": [], "withdrawal_commitment": commitment(new_secret())}
    assert c.client.post("/web/anonymous/file", base_url=BASE, json=body).status_code == 403  # no CSRF header
    bad = c.client.post("/web/anonymous/file", base_url=BASE, headers={"X-CSRF-Token": c.csrf,
                                                                        "Accept": "application/json"},
                        json={"objects": []})
    assert bad.status_code == 400 and "names its collection" in bad.get_json()["description"]
    empty = c.client.post("/web/anonymous/file", base_url=BASE, headers={"X-CSRF-Token": c.csrf,
                                                                          "Accept": "application/json"}, json=body)
    assert empty.status_code == 400 and "non-empty list" in empty.get_json()["description"]
    assert hut.hub.anonymous.anon.next_anonymous_publication() is None
    assert _published(hut) == []
