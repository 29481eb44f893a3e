"""The pure parts of the web pages: the filing form made from the table of the facts and its
problems placed by their property, statistics' grouping of refusal reasons, charts escaping
their labels, and every form field labelled."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

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
from hub.web import filing
from hub.web.charts import bar_chart
from hub.web.filing import clear_value_problems, field_of, read_form
from tests.harness import HubUnderTest
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


def _problems(**overrides: object) -> list[Problem]:
    form = _as_browser_sends(report_form(**overrides))
    data = read_form({k: v for k, v in form.items() if k != "abuse_types"}, list(form.get("abuse_types", [])),  # type: ignore[arg-type]
                     IDENTITY)
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


def _then(names: Iterable[str]) -> list[str]:
    return [n for n in names if n.split(".", 1)[0] in _FACTS_THEN]


def test_the_form_is_made_from_the_table_of_the_facts() -> None:
    """The form's fields, vocabularies and required fields come from ReportFacts; the table
    gives the form as it was written out by hand (nothing changed for the analyst)."""
    assert filing.TLPS == ("clear", "green", "amber", "amber+strict", "red")
    assert filing.ABUSE_TYPES == tuple(ABUSE_TYPE_INFRASTRUCTURE)  # in this order on the page
    assert {k: v for k, v in filing.CHOICES.items() if k in _FACTS_THEN} == {
        "acquisition": ACQUISITIONS, "kyc_status": KYC_STATUSES, "action_taken": ACTIONS, "tlp": filing.TLPS}
    assert _then(filing.CHOICES) == ["acquisition", "kyc_status", "action_taken", "tlp"]
    assert set(_then(filing._INT_FIELDS)) == {"confidence", "indicator_validity_days"}
    assert set(_then(filing._REQUIRED_TIMES)) == {"account_created", "first_abuse_seen", "last_seen"}
    assert set(_then(filing._REQUIRED_TEXT)) == {"provider_name", "summary", "acquisition", "kyc_status"}
    assert _then(filing._REQUIRED_LISTS) == _then(filing._LIST_FIELDS) == ["resources"]
    assert set(_then(filing.TEXT_FIELDS)) == {
        "provider_name", "acquisition", "reseller_identity_id", "reseller_name", "kyc_status",
        "declared_country", "account_created", "first_abuse_seen", "last_seen", "resources", "summary",
        "action_taken", "action_taken_at", "confidence", "tlp", "indicator_validity_days", "report_name",
        "phone_region"}
    assert _then(filing.SECRET_FIELDS) == ["provider_account_id", *(f"personal.{k}" for k in PERSONAL_KINDS)]
    assert {filing.secret_field(k) for k in PSEUDONYM_KINDS} == set(_then(filing.SECRET_FIELDS))


def test_every_field_of_the_form_is_on_the_page(web: HubUnderTest) -> None:
    """A fact the form takes is one the page shows: a new fact of the table is read from the
    form at once, and needs its line in file.html (this test says which)."""
    html = browser(web, "alice").get(f"/web/collections/{web.collections['reports']}/file").get_data(as_text=True)
    named = set(re.findall(r'name="([^"]+)"', html))
    assert set(filing.TEXT_FIELDS) - named == set()
    assert {f'value="{t}"' for t in filing.ABUSE_TYPES} <= set(re.findall(r'value="[^"]+"', html))
    assert {f"pseudonym.{k}" for k in PSEUDONYM_KINDS} <= named
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {"f-" + name.replace(".", "-") for name in filing.SECRET_FIELDS} <= ids


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
])
def test_each_problem_of_the_facts_names_its_field(overrides: dict[str, object], field: str) -> None:
    problems = _problems(**overrides)
    assert field in {field_of(p) for p in problems}, [(p.property, p.message) for p in problems]


def test_values_sent_in_clear_are_refused_by_field_and_not_used() -> None:
    form = report_form()
    data = read_form({k: v for k, v in form.items() if k != "abuse_types"}, list(form["abuse_types"]), IDENTITY)
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
