"""The web pages in-process (Flask's test client over the real app and services): sign-in and
sessions, CSRF, CSP, the object browser, the report case file, filing, correlation, statistics,
and escaping of every text the pages show."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from hub.common.timestamps import format_timestamp_us
from hub.services.access.auth import hash_token
from hub.signing import SigningKey
from hub.web import CSP
from tests.harness import HubUnderTest
from tests.web.conftest import BASE, WebClient, browser
from tests.web.forms import preview_objects, pseudonymised, report_form, sign_as

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def file_report(web: HubUnderTest, c: WebClient, key: SigningKey, party: str = "alice",
                collection: str = "reports", **overrides: object) -> tuple[list[dict], dict]:
    """File a report through the form and the page's submit endpoint; the signed objects and
    the status."""
    col = web.collections[collection]
    c.get(f"/web/collections/{col}/file")
    resp = c.post(f"/web/collections/{col}/file", pseudonymised(c, report_form(**overrides), web.identities[party]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    signed = sign_as(preview_objects(resp.get_data(as_text=True)), key, web.identities[party])
    resp = c.client.post(f"/web/collections/{col}/submit", base_url=BASE, json={"objects": signed},
                         headers={"X-CSRF-Token": c.csrf})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return signed, resp.get_json()


# -- sessions ------------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_session_cookie_without_the_token(web: HubUnderTest) -> None:
    c = WebClient(web.app.test_client())
    c.get("/web/signin")
    resp = c.post("/web/signin", {"token": web.tokens["alice"]})
    assert resp.status_code == 302
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("abusehub_web="))
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/web"):
        assert flag in cookie
    # The cookie carries a random session id, nothing else: not the token, not its hash.
    value = cookie.split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    assert web.tokens["alice"] not in value and hash_token(web.tokens["alice"]) not in value
    page = c.get("/web/collections").get_data(as_text=True)
    assert "Signed in as <strong>alice</strong>" in page


def test_a_wrong_token_is_refused_and_pages_need_a_session(web: HubUnderTest) -> None:
    c = WebClient(web.app.test_client())
    assert c.get("/web/collections").status_code == 302
    c.get("/web/signin")
    resp = c.post("/web/signin", {"token": "ahub_not-a-token"})
    assert resp.status_code == 401
    assert "not valid" in resp.get_data(as_text=True)
    assert c.get("/web/collections").headers["Location"].startswith("/web/signin")


def test_every_post_needs_the_session_csrf_token(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    assert c.post("/web/signout", csrf=False).status_code == 403
    assert c.post("/web/signout", {"csrf_token": "forged"}, csrf=False).status_code == 403
    col = web.collections["reports"]
    resp = c.client.post(f"/web/collections/{col}/submit", base_url=BASE, json={"objects": []})
    assert resp.status_code == 403
    # Still signed in; with the token, sign-out ends the session.
    assert c.get("/web/collections").status_code == 200
    assert c.post("/web/signout").status_code == 302
    assert c.get("/web/collections").status_code == 302


def test_a_token_revoked_on_the_cli_ends_the_session_at_the_next_request(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    assert c.get("/web/collections").status_code == 200
    web.hub.admin.revoke_tokens("alice")
    resp = c.get("/web/collections")
    assert resp.status_code == 302
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "no longer valid" in page


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    _, status = file_report(web, c, alice_key)
    report_id = next(s["id"] for s in status["successes"] if s["id"].startswith("report--"))
    pages = ["/web/signin", "/web/collections", f"/web/collections/{col}/objects",
             f"/web/collections/{col}/file", f"/web/collections/{col}/objects/{report_id}",
             "/web/correlations", "/web/stats"]
    for path in pages:
        resp = c.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Security-Policy"] == CSP
        assert "default-src 'self'" in CSP and "unsafe-inline" not in CSP
        html = resp.get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert "https://" not in re.sub(r'(value|placeholder)="[^"]*"', "", html.split("<main")[0]), path


# -- collections and the object browser ----------------------------------------------------------


def test_collections_lists_only_what_the_party_may_see(web: HubUnderTest) -> None:
    page = browser(web, "alice").get("/web/collections").get_data(as_text=True)
    assert "Reports" in page and "Advisories" in page and "Private" in page
    assert "Dropbox" not in page
    gov = browser(web, "gov").get(f"/web/collections/{web.collections['private']}/objects")
    assert gov.status_code == 404


def test_object_browser_filters_pages_and_shows_raw_json(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    file_report(web, c, alice_key)
    file_report(web, c, alice_key, resources="198.51.100.7\n198.51.100.8\nbad-actor.example",
                summary="Cryptomining on a reseller account", provider_account_id="acct-2")
    page1 = c.get(f"/web/collections/{col}/objects").get_data(as_text=True)
    ids1 = set(re.findall(r"/objects/([a-z0-9-]+--[0-9a-f-]{36})", page1))
    assert len(ids1) == 25 and 'rel="next"' in page1
    next_url = re.search(r'rel="next" href="([^"]+)"', page1).group(1).replace("&amp;", "&")
    page2 = c.get(next_url).get_data(as_text=True)
    ids2 = set(re.findall(r"/objects/([a-z0-9-]+--[0-9a-f-]{36})", page2))
    assert ids2 and not ids1 & ids2
    reports = c.get(f"/web/collections/{col}/objects?type=report").get_data(as_text=True)
    assert len(set(re.findall(r"/objects/(report--[0-9a-f-]{36})", reports))) == 2
    found = c.get(f"/web/collections/{col}/objects?type=report&text=CRYPTOMINING").get_data(as_text=True)
    assert len(set(re.findall(r"/objects/(report--[0-9a-f-]{36})", found))) == 1
    future = format_timestamp_us(web.hub.clock() + 3_600_000_000)[:16]
    none = c.get(f"/web/collections/{col}/objects?since={future}").get_data(as_text=True)
    assert "No objects match." in none
    bad = c.get(f"/web/collections/{col}/objects?since=yesterday")
    assert bad.status_code == 400 and "added since" in bad.get_data(as_text=True)
    indicator = re.search(r"/objects/(indicator--[0-9a-f-]{36})", page1 + page2).group(1)
    raw = c.get(f"/web/collections/{col}/objects/{indicator}").get_data(as_text=True)
    assert "[ipv4-addr:value = &#39;" in raw or "[domain-name:value = &#39;" in raw or "[url:value = &#39;" in raw or "ipv6-addr" in raw
    assert "The object as stored" in raw


# -- filing --------------------------------------------------------------------------------------


def test_filing_maps_every_problem_to_its_field_and_keeps_what_was_typed(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    c.get(f"/web/collections/{col}/file")
    form = report_form(summary="", resources="203.0.113.45\nnot a resource!", last_seen="2020-01-01T00:00:00Z",
                       confidence="high")
    sent = pseudonymised(c, form, web.identities["alice"])
    sent["pseudonym.name"] = "not a pseudonym"
    resp = c.post(f"/web/collections/{col}/file", sent)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("summary", "resources", "last_seen", "confidence", "personal-name"):
        assert f'id="err-{field}"' in html, field
    assert 'aria-describedby="hint-summary err-summary"' in html
    # What was typed stays in the form, pseudonyms included (so the values need not be typed
    # again); the values themselves never reached the hub.
    assert "Example Cloud" in html and "203.0.113.45" in html
    assert sent["pseudonym.email"] in html and sent["pseudonym.provider_account"] in html
    assert "holder@example.com" not in html and "acct-0042-9917" not in html


def test_the_preview_is_a_readable_summary_beside_the_form_with_the_json_behind_details(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    c.get(f"/web/collections/{col}/file")
    sent = pseudonymised(c, report_form(summary="Kit " + XSS, provider_name="Cloud " + XSS), web.identities["alice"])
    html = c.post(f"/web/collections/{col}/file", sent).get_data(as_text=True)
    objects = preview_objects(html)
    # The form posts back to the preview; the preview and signing are the form's neighbours.
    assert f'action="/web/collections/{col}/file#preview"' in html
    layout = html[html.index('<div class="file-layout">'):]
    form_end, side = layout.index("</form>"), layout.index('<div class="file-side">')
    assert form_end < side < layout.index('id="preview"') < layout.index('id="signing"')
    preview = html[html.index('id="preview"'):html.index('id="signing"')]
    summary, raw = preview.split("<details>", 1)
    # A summary to read: the report's facts, its pseudonyms each as one value, the objects counted.
    report = objects[-1]
    assert str(escape(report["name"])) in summary and "Kit &lt;script&gt;" in summary and "<script>alert" not in summary
    assert "phishing, scanning" in summary and "suspended" in summary and "TLP:AMBER" in summary
    assert "203.0.113.45" in summary and "login-update.example" in summary
    for kind in ("email", "phone", "provider_account"):
        p = sent[f"pseudonym.{kind}"]
        assert f'<code class="pv" title="{p}">{p}</code>' in summary, kind
    assert f"{len(objects)} objects" in summary and "1 report" in summary
    assert "{" not in summary  # no JSON outside the <details>
    assert raw.startswith("<summary>") and '"type": "report"' in raw


def test_pseudonyms_are_shown_as_single_values_and_the_placeholder_names_their_form(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    signed, _ = file_report(web, c, alice_key)
    account = next(o for o in signed if o["type"] == "user-account")
    pseudonyms = next(iter(account["extensions"].values()))["pseudonyms"]
    page = c.get(f"/web/collections/{col}/objects/{signed[-1]['id']}").get_data(as_text=True)
    for p in pseudonyms.values():
        assert f'title="{p}"><code class="pv">{p}</code></a>' in page
    correlations = c.get("/web/correlations", query_string={"pseudonym": pseudonyms["email"]}).get_data(as_text=True)
    caption = correlations[correlations.index("<caption>"):correlations.index("</caption>")]
    assert f'<code class="pv" title="{pseudonyms["email"]}">' in caption
    version = c.get("/web/pseudonyms/key").get_json()["current"]
    for html in (correlations, c.get("/web/correlations").get_data(as_text=True)):
        assert f'placeholder="poprf-r255:{version}:…"' in html and "hmac-sha256" not in html


def test_values_sent_in_clear_are_refused_by_field_and_never_shown(web: HubUnderTest) -> None:
    """A form posted without the page's script (values in clear) files nothing; each value's
    field says why, and no value is put back into the page."""
    c = browser(web, "alice")
    col = web.collections["reports"]
    c.get(f"/web/collections/{col}/file")
    resp = c.post(f"/web/collections/{col}/file", report_form())
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("provider_account_id", "personal-email", "personal-phone"):
        assert f'id="err-{field}"' in html, field
    assert "sent in clear and not used" in html and 'id="objects-json"' not in html
    assert "holder@example.com" not in html and "acct-0042-9917" not in html and "555 2671" not in html


def test_the_form_pseudonym_routes_are_those_of_taxii_under_the_session(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    assert c.get("/web/pseudonyms/key").get_json() == web.http.get(
        "/api/pseudonyms/key", headers={"Authorization": f"Bearer {web.tokens['alice']}"}).get_json()
    # Without the CSRF header, without a session, or with a bad element: refused, by name.
    body = {"key_version": "k1", "groups": [{"kind": "email", "blinded": ["AA"]}]}
    assert c.client.post("/web/pseudonyms/evaluate", base_url=BASE, json=body).status_code == 403
    resp = c.client.post("/web/pseudonyms/evaluate", base_url=BASE, json=body, headers={"X-CSRF-Token": c.csrf})
    assert resp.status_code == 400 and "groups[0]" in resp.get_json()["description"]
    too_many = {"groups": [{"kind": "email", "blinded": ["AA"] * 2001}]}
    resp = c.client.post("/web/pseudonyms/evaluate", base_url=BASE, json=too_many, headers={"X-CSRF-Token": c.csrf})
    assert resp.status_code == 400 and "at most 2000" in resp.get_json()["description"]
    anonymous = browser(web)
    assert anonymous.get("/web/pseudonyms/key").status_code == 302


def test_filing_pseudonymises_builds_and_the_signed_report_is_stored(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    c.get(f"/web/collections/{col}/file")
    resp = c.post(f"/web/collections/{col}/file", pseudonymised(c, report_form(), web.identities["alice"]))
    html = resp.get_data(as_text=True)
    assert "holder@example.com" not in html and "acct-0042-9917" not in html
    objects = preview_objects(html)
    assert objects[-1]["type"] == "report"
    assert "poprf-r255:" in json.dumps(objects)
    signed = sign_as(objects, alice_key, web.identities["alice"])
    post = lambda: c.client.post(f"/web/collections/{col}/submit", base_url=BASE,  # noqa: E731
                                 json={"objects": signed}, headers={"X-CSRF-Token": c.csrf})
    first = post()
    assert first.status_code == 202
    status = first.get_json()
    assert status["status"] == "complete" and not status["failures"]
    assert {s["message"] for s in status["successes"]} == {"stored"}
    # A second submit of the same page files nothing twice.
    again = post().get_json()
    assert {s["message"] for s in again["successes"]} == {"already stored: not added again"}
    followed = c.get(status["url"]).get_json()
    assert followed["id"] == status["id"] and followed["status"] == "complete"


def test_a_refused_submission_names_each_object_and_reason(web: HubUnderTest) -> None:
    web.hub.admin.add_collection("Signed", alias="signed", require_signatures=True)
    signed_col = web.hub.admin.collection("signed").id
    web.hub.admin.grant("alice", signed_col, True, True)
    c = browser(web, "alice")
    c.get(f"/web/collections/{signed_col}/file")
    objects = preview_objects(c.post(f"/web/collections/{signed_col}/file",
                                     pseudonymised(c, report_form(), web.identities["alice"])).get_data(as_text=True))
    unknown = SigningKey.generate()  # not registered
    signed = sign_as(objects, unknown, web.identities["alice"])
    status = c.client.post(f"/web/collections/{signed_col}/submit", base_url=BASE, json={"objects": signed},
                           headers={"X-CSRF-Token": c.csrf}).get_json()
    assert len(status["failures"]) == len(objects)
    assert all("unknown" in f["message"] for f in status["failures"])


def test_a_party_cannot_file_where_it_may_not_write(web: HubUnderTest) -> None:
    c = browser(web, "gov")
    assert c.get(f"/web/collections/{web.collections['reports']}/file").status_code == 403


# -- the report page, correlations, escaping -----------------------------------------------------


def test_report_page_reads_as_a_case_file_with_checked_signatures(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    signed, status = file_report(web, c, alice_key, tlp="green")
    report = signed[-1]
    page = browser(web, "gov").get(f"/web/collections/{col}/objects/{report['id']}").get_data(as_text=True)
    assert 'class="tlp-banner tlp-green">TLP:GREEN' in page
    assert "Example Cloud" in page and "phishing, scanning" in page and "suspended" in page
    assert "203.0.113.45" in page and "[ipv4-addr:value = &#39;203.0.113.45&#39;]" in page
    account = next(o for o in signed if o["type"] == "user-account")
    ext = next(iter(account["extensions"].values()))
    assert ext["provider_account_pseudonym"] in page and ext["pseudonyms"]["email"] in page
    assert "holder@example.com" not in page
    assert page.count('class="sig sig-verified"') == len(signed)
    assert "sig-failed" not in page and "sig-unknown-key" not in page
    # The signer by its name in the key registry.
    assert page.count('<td>alice<div class="hint">key') == len(signed)


def test_signatures_that_fail_or_name_unknown_keys_are_shown_so(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["private"]
    c.get(f"/web/collections/{col}/file")
    objects = preview_objects(c.post(f"/web/collections/{col}/file",
                                     pseudonymised(c, report_form(), web.identities["alice"])).get_data(as_text=True))
    signed = sign_as(objects, alice_key, web.identities["alice"])
    tampered = json.loads(json.dumps(signed[-1]))
    tampered["description"] = "changed after signing"
    # Another build (new ids), signed with a key the hub does not know.
    again = preview_objects(c.post(f"/web/collections/{col}/file",
                                     pseudonymised(c, report_form(), web.identities["alice"])).get_data(as_text=True))
    stranger = sign_as(again, SigningKey.generate(), web.identities["alice"])[-1]
    envelope = {"objects": [*signed[:-1], tampered, stranger]}
    status = c.client.post(f"/web/collections/{col}/submit", base_url=BASE, json=envelope,
                           headers={"X-CSRF-Token": c.csrf}).get_json()
    assert not status["failures"]
    page = c.get(f"/web/collections/{col}/objects/{tampered['id']}").get_data(as_text=True)
    assert "sig-failed" in page and "does not verify" in page
    other = c.get(f"/web/collections/{col}/objects/{stranger['id']}").get_data(as_text=True)
    assert "sig-unknown-key" in other


def test_correlation_links_reports_of_two_providers_and_not_for_an_outsider(web: HubUnderTest, alice_key: SigningKey) -> None:
    bob_key = SigningKey.generate()
    web.hub.keys.add("bob", bob_key.public_key.to_jwk())
    a = browser(web, "alice")
    b = browser(web, "bob")
    col = web.collections["reports"]
    alice_signed, _ = file_report(web, a, alice_key)
    bob_signed, _ = file_report(web, b, bob_key, party="bob", provider_name="Bob Hosting",
                                provider_account_id="b-77", resources="192.0.2.9")
    alice_report, bob_report = alice_signed[-1]["id"], bob_signed[-1]["id"]
    page = a.get(f"/web/collections/{col}/objects/{alice_report}").get_data(as_text=True)
    assert bob_report in page
    email = next(iter(o for o in bob_signed if o["type"] == "user-account"))
    pseudonym = next(iter(email["extensions"].values()))["pseudonyms"]["email"]
    listed = b.get(f"/web/correlations?pseudonym={pseudonym}").get_data(as_text=True)
    assert alice_report in listed and bob_report in listed
    # An outsider party that may read no collection with these reports sees none.
    _, outsider_token = web.hub.admin.add_party("outsider", "agency")
    o = browser(web)
    o.sign_in(outsider_token)
    none = o.get(f"/web/correlations?pseudonym={pseudonym}").get_data(as_text=True)
    assert alice_report not in none and "No report you may read carries it." in none


def test_every_text_field_is_escaped_in_every_view(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    signed, status = file_report(web, c, alice_key, summary="Kit " + XSS, report_name="R " + XSS,
                                 provider_name="Cloud " + XSS)
    assert not status["failures"], status
    report_id = signed[-1]["id"]
    for viewer in ("alice", "gov"):
        v = browser(web, viewer)
        for path in (f"/web/collections/{col}/objects/{report_id}", f"/web/collections/{col}/objects",
                     f"/web/collections/{col}/objects?text=Kit"):
            html = v.get(path).get_data(as_text=True)
            assert "<script>alert" not in html and "<img src=x" not in html, (viewer, path)
            assert "&lt;script&gt;alert" in html or "&lt;img src=x" in html, (viewer, path)
    # The form gives back what it was sent, escaped, when the facts are refused.
    c.get(f"/web/collections/{col}/file")
    html = c.post(f"/web/collections/{col}/file", pseudonymised(c, report_form(summary=XSS, resources=""),
                                                                  web.identities["alice"])).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_statistics_count_reports_refusals_and_reads(web: HubUnderTest, alice_key: SigningKey) -> None:
    c = browser(web, "alice")
    col = web.collections["reports"]
    file_report(web, c, alice_key)
    browser(web, "gov").get(f"/web/collections/{col}/objects")
    page = browser(web, "gov").get("/web/stats").get_data(as_text=True)
    assert page.count("<svg") >= 2 and "<title>Reports and objects stored per week</title>" in page
    assert re.search(r'<th scope="row">alice</th><td>\d{4}-', page)
    assert re.search(r'<th scope="row">gov</th><td>Reports</td><td>\d+</td>', page)


# -- operators -----------------------------------------------------------------------------------


def test_operator_pages_show_no_secret_and_are_hidden_from_others(web: HubUnderTest, alice_key: SigningKey) -> None:
    assert browser(web, "alice").get("/web/operators").status_code == 404
    page = browser(web, "ops").get("/web/operators").get_data(as_text=True)
    assert "alice" in page and alice_key.key_id in page and "Audit chain:" in page and "intact" in page
    for token in web.tokens.values():
        assert token not in page


def test_operators_see_federation_links_and_the_quarantine_escaped(web: HubUnderTest) -> None:
    from hub.services.federation.peers import Credentials

    fed = web.hub.federation
    peer = fed.peers.add("hub-b", "https://hub-b.example/api/", Credentials(token="ahub_x"), check=False)
    link = fed.peers.add_link("hub-b", "pull", "remote-col", web.collections["reports"], check=False)
    col_pk = link.collection_pk
    web.hub.store.quarantine(link.pk, peer.pk, col_pk, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                             "2026-11-30T00:00:00.000Z", "d" * 64, "signature by unknown key <b>k</b>",
                             '{"secret": "text of the object"}', web.hub.clock())
    assert browser(web, "alice").get("/web/operators").status_code == 404
    page = browser(web, "ops").get("/web/operators").get_data(as_text=True)
    body = page[page.index("<main"):]  # the tables of the page, not anything in its head
    links = body[body.index('id="federation-links"'):body.index('id="quarantine"')]
    assert "hub-b" in links and "pull" in links and "never" in links
    held = body[body.index('id="quarantine"'):]
    assert "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" in held
    assert "signature by unknown key &lt;b&gt;k&lt;/b&gt;" in held and "<b>k</b>" not in held
    assert "text of the object" not in page and "ahub_x" not in page


def test_the_operators_page_title_is_a_title_and_each_table_is_there_once(web: HubUnderTest) -> None:
    page = browser(web, "ops").get("/web/operators").get_data(as_text=True)
    assert re.search(r"<title>([^<]*)</title>", page).group(1) == "Operators · abusehub"  # type: ignore[union-attr]
    head = page[:page.index("<body")]
    assert "<table" not in head and "Federation links" not in head
    for table in ('id="federation-links"', 'id="quarantine"'):
        assert page.count(table) == 1, table


def test_the_hubs_own_party_and_countersigning_key_are_neither_offered_nor_done(web: HubUnderTest, alice_key: SigningKey) -> None:
    from hub.common.errors import BadRequest

    hub_key = web.hub.signer.prepare()
    ops = browser(web, "ops")
    page = ops.get("/web/operators").get_data(as_text=True)
    assert "target=abusehub" not in page and f"target={hub_key}" not in page
    assert "target=alice" in page and f"target={alice_key.key_id}" in page  # the others still are
    assert "the hub itself" in page and "the hub's countersigning key" in page
    # Asked for anyway (a crafted address, the confirmation posted): refused, saying why; nothing done.
    for form in ({"action": "disable-party", "target": "abusehub"}, {"action": "revoke-key", "target": hub_key}):
        asked = ops.get("/web/operators/confirm", query_string=form)
        assert asked.status_code == 400 and asked.mimetype == "text/html"
        done = ops.post("/web/operators/confirm", form)
        assert done.status_code == 400
        text = done.get_data(as_text=True)
        assert ("is the hub itself" in text) if form["action"] == "disable-party" else ("countersigning key" in text)
    assert web.hub.admin.state(web.hub.admin.party("abusehub")).active
    assert next(k for k in web.hub.keys.list() if k.key_id == hub_key).revoked_us is None
    # The service refuses them for every caller, in one line that names the reason.
    with pytest.raises(BadRequest, match="is the hub itself .* cannot be disabled"):
        web.hub.admin.disable_party("abusehub")
    with pytest.raises(BadRequest, match="countersigning key"):
        web.hub.admin.check_key_revocable(hub_key)
    web.hub.admin.check_key_revocable(alice_key.key_id)  # any other key may be revoked


def test_an_operator_disables_a_party_after_confirming_and_its_session_ends(web: HubUnderTest) -> None:
    alice = browser(web, "alice")
    ops = browser(web, "ops")
    confirm = ops.get("/web/operators/confirm?action=disable-party&target=alice")
    assert "Disable party alice?" in confirm.get_data(as_text=True)
    assert alice.get("/web/collections").status_code == 200  # nothing happened on the GET
    done = ops.post("/web/operators/confirm", {"action": "disable-party", "target": "alice"})
    assert done.status_code == 302
    assert alice.get("/web/collections").status_code == 302
    actions = [r for r in web.hub.audit.export() if r.kind == "web.operator"]
    assert actions and actions[-1].party == "ops" and actions[-1].data["target"] == "alice"


def test_an_operator_revokes_a_token_and_a_key(web: HubUnderTest, alice_key: SigningKey) -> None:
    alice = browser(web, "alice")
    ops = browser(web, "ops")
    token_id = web.hub.admin.list_tokens("alice")[0].id
    ops.get(f"/web/operators/confirm?action=revoke-token&target=alice&token_id={token_id}")
    assert ops.post("/web/operators/confirm", {"action": "revoke-token", "target": "alice",
                                               "token_id": str(token_id)}).status_code == 302
    assert alice.get("/web/collections").status_code == 302
    ops.get(f"/web/operators/confirm?action=revoke-key&target={alice_key.key_id}")
    ops.post("/web/operators/confirm", {"action": "revoke-key", "target": alice_key.key_id})
    assert next(k for k in web.hub.keys.list("alice")).revoked_us is not None


def test_the_hubs_countersignature_is_shown_verified(web: HubUnderTest, alice_key: SigningKey) -> None:
    col = web.hub.admin.add_collection("Countersigned", alias="cs", countersign=True)
    web.hub.admin.grant("alice", col.id, True, True)
    web.collections["cs"] = col.id
    c = browser(web, "alice")
    signed, status = file_report(web, c, alice_key, collection="cs")
    assert not status["failures"]
    page = c.get(f"/web/collections/{col.id}/objects/{signed[-1]['id']}").get_data(as_text=True)
    assert page.count("(hub countersignature)") == len(signed)
    assert page.count('class="sig sig-verified"') == 2 * len(signed)
    assert f"{2 * len(signed)} signature(s): {2 * len(signed)} verified, 0 failed" in page


def test_web_pseudonyms_are_those_report_new_makes_obliviously(web: HubUnderTest, alice_key: SigningKey) -> None:
    """A report filed on the page and one made by ``report new`` carry the same pseudonyms."""
    import httpx

    from hub.client.reports import pseudonym_values
    from hub.client.taxii import TaxiiClient
    from hub.stix.report import ReportFacts

    overrides = {"personal.phone": "+1 415 555 2671", "personal.name": "Jane Example"}
    signed, _ = file_report(web, browser(web, "alice"), alice_key, **overrides)
    account = next(o for o in signed if o["type"] == "user-account")
    on_the_page = next(iter(account["extensions"].values()))["pseudonyms"]
    form = report_form(**overrides)
    facts = {k: v for k, v in form.items() if not k.startswith("personal.")}
    facts.update(provider_identity_id=web.identities["alice"], resources=form["resources"].split("\n"),
                 confidence=80, indicator_validity_days=90,
                 personal={k.removeprefix("personal."): v for k, v in form.items() if k.startswith("personal.")})
    values = pseudonym_values(ReportFacts.from_mapping(facts))
    client = TaxiiClient("http://hub.test/api/", web.tokens["alice"], unsafe_plain_http=True,
                         transport=httpx.WSGITransport(app=web.app))
    try:
        blind = dict(zip([k for k, _ in values], client.pseudonymise(values), strict=True))
    finally:
        client.close()
    assert account["user_id"] == blind.pop("provider_account")
    assert on_the_page == blind and set(blind) == {"email", "phone", "name"}
