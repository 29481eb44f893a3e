"""The pure parts of the web pages: the filing form made from the table of the facts (a fact
added to the table is on the page with no edit of the template) and its problems placed by
their property, statistics' grouping of refusal reasons, charts escaping their labels, and every
form field labelled."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

import pytest
from flask import g, render_template

from hub.common.problems import Code, Problem
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_KINDS
from hub.services.operations.stats import reason_group, week_of
from hub.stix.report import (
    ABUSE_TYPE_INFRASTRUCTURE,
    ACQUISITIONS,
    ACTIONS,
    KYC_STATUSES,
    InvalidReportFacts,
    ReportFacts,
)
from hub.stix.report_facts import ACTION, PROVIDER, SHARING
from hub.web import filing
from hub.web.charts import bar_chart
from hub.web.filing import clear_value_problems, field_of, form_sections, read_form
from tests.harness import HubUnderTest
from tests.stix.test_facts import WithHostingRegion
from tests.web.conftest import browser
from tests.web.forms import report_form

IDENTITY = "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60"


PSEUDONYM = "poprf-r255:k1:" + "ab" * 64


def _as_browser_sends(form: dict[str, object]) -> dict[str, object]:
    """The form as the page's script posts it: each typed personal value (and the account id)
    replaced by a pseudonym field; the values themselves are not sent."""
    out = {k: v for k, v in form.items() if k != "provider_account_id" and not k.startswith("personal.")}
    if form.get("provider_account_id"):
        out.setdefault("pseudonym.provider_account", PSEUDONYM)
    for k in form:
        if k.startswith("personal.") and form[k]:
            out.setdefault("pseudonym." + k.removeprefix("personal."), PSEUDONYM)
    return out


def _read(form: dict[str, object]) -> filing.FormData:
    """The form as the page posts it: the check boxes' values as lists, the rest as text."""
    fields = {k: str(v) for k, v in form.items() if k not in filing.CHECKED}
    checked = {k: list(v) for k, v in form.items() if k in filing.CHECKED and isinstance(v, list)}
    return read_form(fields, checked, IDENTITY)


def _problems(**overrides: object) -> list[Problem]:
    data = _read(_as_browser_sends(report_form(**overrides)))
    assert not data.sent_in_clear
    with pytest.raises(InvalidReportFacts) as exc:
        ReportFacts.from_mapping(data.facts)
    return exc.value.found


#: The facts of the table when the form was written out by hand (a fact added since is the
#: form's too, and changes nothing below).
_FACTS_THEN = frozenset({
    "provider_identity_id", "provider_name", "provider_account_id", "account_created",
    "first_abuse_seen", "last_seen", "acquisition", "reseller_identity_id", "reseller_name",
    "kyc_status", "declared_country", "personal", "resources", "abuse_types", "action_taken",
    "action_taken_at", "confidence", "summary", "pseudonyms", "phone_region", "tlp",
    "indicator_validity_days", "report_name"})
#: The facts of the markings.
_MARKINGS = ("recipients", "share_with", "acs_countries", "acs_organisations", "acs_entities",
             "acs_further_sharing", "acs_custodian")


def _then(names: Iterable[str]) -> list[str]:
    return [n for n in names if n.split(".", 1)[0] in _FACTS_THEN]


def test_the_form_is_made_from_the_table_of_the_facts() -> None:
    """The form's fields, vocabularies and required fields come from ReportFacts; the table
    gives the form as it was written out by hand (nothing changed for the analyst)."""
    assert filing.TLPS == ("clear", "green", "amber", "amber+strict", "red")
    assert filing.ABUSE_TYPES == tuple(ABUSE_TYPE_INFRASTRUCTURE)  # in this order on the page
    assert {k: v for k, v in filing.CHOICES.items() if k in _FACTS_THEN} == {
        "acquisition": ACQUISITIONS, "kyc_status": KYC_STATUSES, "abuse_types": filing.ABUSE_TYPES,
        "action_taken": ACTIONS, "tlp": filing.TLPS}
    assert _then(filing.CHOICES) == ["acquisition", "kyc_status", "abuse_types", "action_taken", "tlp"]
    assert set(_then(filing._INT_FIELDS)) == {"confidence", "indicator_validity_days"}
    assert set(_then(filing._REQUIRED_TIMES)) == {"account_created", "first_abuse_seen", "last_seen"}
    assert set(_then(filing._REQUIRED_TEXT)) == {"provider_name", "summary", "acquisition", "kyc_status"}
    assert _then(filing._REQUIRED_LISTS) == ["resources", "abuse_types"]
    assert _then(filing._LIST_FIELDS) == ["resources"]
    assert set(_then(filing.TEXT_FIELDS)) == {
        "provider_name", "acquisition", "reseller_identity_id", "reseller_name", "kyc_status",
        "declared_country", "account_created", "first_abuse_seen", "last_seen", "resources", "summary",
        "action_taken", "action_taken_at", "confidence", "tlp", "indicator_validity_days", "report_name",
        "phone_region"}
    assert _then(filing.SECRET_FIELDS) == ["provider_account_id", *(f"personal.{k}" for k in PERSONAL_KINDS)]
    assert {filing.secret_field(k) for k in PSEUDONYM_KINDS} == set(_then(filing.SECRET_FIELDS))
    assert filing.CHECKED == ("abuse_types", "acs_entities")
    assert filing.FLAGS == ("acs_further_sharing",)


def _fields(sections: tuple[filing.Section, ...]) -> dict[str, tuple[str, filing.Field]]:
    return {f.name: (s.heading, f) for s in sections for f in s.fields}


def test_the_page_has_a_field_for_every_fact_from_its_declaration() -> None:
    """Every fact of the table is a field of the page (the identity signed in and the table of
    pseudonyms excepted), in the section its declaration names, in the order of the table."""
    fields = _fields(filing.SECTIONS)
    personal = {f"personal.{k}" for k in PERSONAL_KINDS}
    assert set(fields) == ({f.name for f in ReportFacts.model().facts} - {"personal", "pseudonyms"}) | personal
    assert [s.heading for s in filing.SECTIONS] == list(filing.FORM_SECTIONS)
    assert [name for name, (heading, _f) in fields.items() if heading == SHARING] == ["tlp", *_MARKINGS]
    kinds = {name: f.widget for name, (_h, f) in fields.items()}
    assert [kinds[n] for n in ("tlp", *_MARKINGS)] == [
        "select", "textarea", "textarea", "textarea", "textarea", "checks", "checkbox", "text"]
    assert kinds["provider_identity_id"] == "signed" and kinds["abuse_types"] == "checks"
    assert kinds["confidence"] == kinds["indicator_validity_days"] == "number"
    assert kinds["summary"] == kinds["resources"] == "textarea" and fields["resources"][1].rows == 5
    assert fields["acs_entities"][1].choices == ("MIL", "GOV", "CTR", "SVR", "SVC", "DEV", "NET")
    assert fields["summary"][1].required and not fields["recipients"][1].required


def test_every_field_of_the_form_is_on_the_page(web: HubUnderTest) -> None:
    """A fact the form takes is one the page shows, labelled, with its hint and choices."""
    html = browser(web, "alice").get(f"/web/collections/{web.collections['reports']}/file").get_data(as_text=True)
    named = set(re.findall(r'name="([^"]+)"', html))
    assert set(filing.TEXT_FIELDS) | set(filing.CHECKED) | set(filing.FLAGS) <= named
    values = set(re.findall(r'value="[^"]+"', html))
    assert {f'value="{t}"' for name in filing.CHECKED for t in filing.CHOICES[name]} <= values
    assert {f"pseudonym.{k}" for k in PSEUDONYM_KINDS} <= named
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {"f-" + name.replace(".", "-") for name in filing.SECRET_FIELDS} <= ids
    text = unescape(html)
    labels = dict(re.findall(r'<label for="f-([^"]+)">([^<*]+)', text))
    for section in filing.SECTIONS:
        assert f"<legend>{section.heading}</legend>" in text
        for f in section.fields:
            if f.widget in ("text", "number", "textarea", "select", "secret"):
                assert labels[f.dom_id].strip() == f.label, f.name
            if f.hint and f.widget != "signed":
                assert f'id="hint-{f.dom_id}">{f.hint}' in text, f.name
    assert f"Signed as your organisation, <code>{web.identities['alice']}</code>" in html


def test_a_fact_added_to_the_table_is_on_the_page_with_no_edit_of_the_template(web: HubUnderTest) -> None:
    """The worked example of docs/CONTRIBUTING.md (tests/stix/test_facts.py declares it): the
    page drawn from its table shows the field, in the section its declaration names, after the
    facts before it in the table."""
    sections = form_sections(WithHostingRegion.model())
    heading, f = _fields(sections)["hosting_region"]
    assert heading == PROVIDER and f.widget == "text" and f.label == "Hosting region"
    col = web.collections["reports"]
    with web.app.test_request_context(f"/web/collections/{col}/file"):
        g.principal = web.hub.access.authenticate(web.tokens["alice"])
        html = render_template("file.html", collection=web.hub.access.collection_info(g.principal, col),
                               sections=sections, keys=[], identity=web.identities["alice"], problems={},
                               objects=None, fresh=True, shown={"hosting_region": "DE"})
    assert '<label for="f-hosting_region">Hosting region</label>' in html
    assert '<input id="f-hosting_region" name="hosting_region" type="text" value="DE"' in html
    assert f'id="hint-hosting_region">{f.hint}' in html
    provider = html[html.index(f"<legend>{PROVIDER}</legend>"):html.index("<legend>When</legend>")]
    assert provider.index('name="declared_country"') < provider.index('name="hosting_region"')
    # The page drawn from the table as it is has no such field.
    assert "hosting_region" not in browser(web, "alice").get(f"/web/collections/{col}/file").get_data(as_text=True)
    assert ACTION in {s.heading for s in sections}


@pytest.mark.parametrize(("prop", "field"), [
    ("summary", "summary"),
    ("resources[2]", "resources"),
    ("abuse_types[0]", "abuse_types"),
    ("personal.email", "personal.email"),
    ("pseudonyms.email", "personal.email"),
    ("pseudonyms.provider_account", "provider_account_id"),
    ("provider_account_id", "provider_account_id"),
    ("pseudonyms.shoe_size", ""),
    ("pseudonyms", ""),
    ("personal", ""),
    ("confidense", ""),
    ("", ""),
])
def test_a_problem_is_placed_by_its_property_not_its_message(prop: str, field: str) -> None:
    # The message names another field on purpose: only the property counts.
    assert field_of(Problem(Code.INVALID_VALUE, "last_seen: timestamps out of order", prop)) == field


@pytest.mark.parametrize(("overrides", "field"), [
    ({"provider_name": ""}, "provider_name"),
    ({"provider_account_id": ""}, "provider_account_id"),
    ({"summary": "mail me at someone@example.org"}, "summary"),
    ({"account_created": "yesterday"}, "account_created"),
    ({"first_abuse_seen": ""}, "first_abuse_seen"),
    ({"last_seen": "2000-01-01T00:00:00Z"}, "last_seen"),
    ({"resources": "999.1.1.1"}, "resources"),
    ({"resources": ""}, "resources"),
    ({"abuse_types": []}, "abuse_types"),
    ({"abuse_types": ["typo"]}, "abuse_types"),
    ({"acquisition": "stolen"}, "acquisition"),
    ({"acquisition": "reseller"}, "reseller_identity_id"),
    ({"kyc_status": "x"}, "kyc_status"),
    ({"declared_country": "Atlantis"}, "declared_country"),
    ({"action_taken_at": None}, "action_taken_at"),
    ({"confidence": "101"}, "confidence"),
    ({"confidence": "high"}, "confidence"),
    ({"tlp": "purple"}, "tlp"),
    ({"indicator_validity_days": "0"}, "indicator_validity_days"),
    ({"pseudonym.email": "hmac-sha256:k1:nothex"}, "personal.email"),
    ({"pseudonym.provider_account": "a-raw-account-id"}, "provider_account_id"),
    ({"tlp": "red"}, "recipients"),
    ({"recipients": "identity--00000000-0000-4000-8000-000000000001"}, "recipients"),
    ({"tlp": "red", "recipients": "identity--1"}, "recipients"),
    ({"tlp": "green", "share_with": "USA.EXAMPLECLOUD"}, "share_with"),
    ({"acs_countries": "US", "acs_custodian": "USA.EXAMPLECLOUD"}, "acs_countries"),
    ({"acs_organisations": "DHS", "acs_custodian": "USA.EXAMPLECLOUD"}, "acs_organisations"),
    ({"acs_entities": ["GOV", "ISP"], "acs_custodian": "USA.EXAMPLECLOUD"}, "acs_entities"),
    ({"acs_further_sharing": "yes"}, "acs_custodian"),
    ({"acs_custodian": "USA.EXAMPLECLOUD"}, "acs_custodian"),
])
def test_each_problem_of_the_facts_names_its_field(overrides: dict[str, object], field: str) -> None:
    problems = _problems(**overrides)
    assert field in {field_of(p) for p in problems}, [(p.property, p.message) for p in problems]


def test_the_markings_are_read_from_the_form() -> None:
    """Lists one item per line, entity types ticked, further sharing a ticked box."""
    data = _read(_as_browser_sends(report_form(
        tlp="red", recipients=" identity--00000000-0000-4000-8000-000000000001 \n\n",
        acs_countries="usa\nDEU", acs_entities=["GOV", "CTR"], acs_further_sharing="yes",
        acs_custodian="USA.EXAMPLECLOUD")))
    facts = ReportFacts.from_mapping(data.facts)
    assert facts.tlp == "red" and facts.recipients == ("identity--00000000-0000-4000-8000-000000000001",)
    assert facts.acs_countries == ("USA", "DEU") and facts.acs_entities == ("GOV", "CTR")
    assert facts.acs_further_sharing is True and facts.acs_custodian == "USA.EXAMPLECLOUD"
    assert data.shown["acs_entities"] == ["GOV", "CTR"] and data.shown["acs_further_sharing"] is True
    # Left alone: not given (and no ACS marking).
    plain = ReportFacts.from_mapping(_read(_as_browser_sends(report_form())).facts)
    assert plain.acs_further_sharing is False and plain.acs_entities is None and plain.recipients is None


def test_values_sent_in_clear_are_refused_by_field_and_not_used() -> None:
    form = report_form()
    data = _read(form)
    assert data.sent_in_clear == ["provider_account_id", "personal.email", "personal.phone"]
    assert "personal" not in data.facts and "provider_account_id" not in data.facts
    assert "holder@example.com" not in repr(data) and "acct-0042-9917" not in repr(data)
    refused = clear_value_problems(data.sent_in_clear)
    assert [field_of(p) for p in refused] == data.sent_in_clear
    assert {p.code for p in refused} == {Code.PERSONAL_DATA}
    assert refused[1].message == ("personal.email: sent in clear and not used: the page pseudonymises "
                                  "personal values in your browser, which needs JavaScript; type it "
                                  "again with scripts enabled")


def test_refusal_reasons_group_without_ids_keys_or_times() -> None:
    a = reason_group("key kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k was revoked on 2026-11-22T10:00:00Z")
    b = reason_group("key 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo was revoked on 2026-11-23T11:00:00.5Z")
    assert a == b == "key <key> was revoked on <time>"
    assert reason_group("created_by_ref identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60 is not") == \
        "created_by_ref <id> is not"
    assert week_of(1_795_000_000_000_000) == "2026-W47"


def test_charts_escape_labels_and_scale_bars() -> None:
    svg = str(bar_chart("T <b>", [("<script>x</script>", [10, 5]), ("b", [0, 20])], ("r", "o")))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<title>T &lt;b&gt;</title>" in svg
    widths = [int(w) for w in re.findall(r'<rect class="bar2?" x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths == [180, 90, 0, 360]


def test_every_form_field_has_a_label(web: HubUnderTest) -> None:
    c = browser(web, "alice")
    pages = [c.get(f"/web/collections/{web.collections['reports']}/file").get_data(as_text=True),
             c.get(f"/web/collections/{web.collections['reports']}/objects").get_data(as_text=True),
             c.get("/web/correlations").get_data(as_text=True),
             browser(web).get("/web/signin").get_data(as_text=True)]
    for html in pages:
        labels = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag or 'type="checkbox"' in tag:
                continue
            ident = re.search(r'id="([^"]+)"', tag)
            assert ident and ident.group(1) in labels, tag
        # Checkboxes are wrapped in their label.
        for tag in re.findall(r'(.{21})<input type="checkbox"', html):
            assert tag.endswith('<label class="check">'), tag
