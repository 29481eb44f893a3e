"""The pure parts of the web pages: form problems mapped to fields, statistics' grouping of
refusal reasons, charts escaping their labels, and every form field labelled."""

from __future__ import annotations

import re

import pytest

from hub.client.reports import LocalProblems, load_facts
from hub.services.stats import reason_group, week_of
from hub.web.charts import bar_chart
from hub.web.filing import clear_value_problems, field_of, read_form
from tests.conftest import HubApp
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


def _problems(**overrides: object) -> list[str]:
    form = _as_browser_sends(report_form(**overrides))
    data = read_form({k: v for k, v in form.items() if k != "abuse_types"}, list(form.get("abuse_types", [])),  # type: ignore[arg-type]
                     IDENTITY)
    assert not data.sent_in_clear
    with pytest.raises(LocalProblems) as exc:
        load_facts(data.facts)
    return exc.value.problems


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
    assert field in {field_of(p) for p in problems}, problems


def test_values_sent_in_clear_are_refused_by_field_and_not_used() -> None:
    form = report_form()
    data = read_form({k: v for k, v in form.items() if k != "abuse_types"}, list(form["abuse_types"]), IDENTITY)
    assert data.sent_in_clear == ["provider_account_id", "personal.email", "personal.phone"]
    assert "personal" not in data.facts and "provider_account_id" not in data.facts
    assert "holder@example.com" not in repr(data) and "acct-0042-9917" not in repr(data)
    assert [field_of(p) for p in clear_value_problems(data.sent_in_clear)] == data.sent_in_clear


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


def test_every_form_field_has_a_label(web: HubApp) -> None:
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
