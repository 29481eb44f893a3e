"""The filing form's markings in a real browser (Debian's Chromium through Selenium, as in
tests/web/test_browser.py, whose hub and browser this module uses): the fields drawn from the
table of the facts, a draft that keeps every check box (the entity types, further sharing) and
the preview that names the recipients and the ACS marking."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.chromium import MISSING, fill, have_chromium, navigation, open_without_draft, sign_in
from tests.web.forms import report_form

pytestmark = pytest.mark.slow

if not have_chromium():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.web import test_browser  # noqa: E402
from tests.web.test_browser import LiveHub  # noqa: E402

# The hub and the browser of tests/web/test_browser.py (one of each for this module).
live = test_browser.live
driver = test_browser.driver


def _markings(live: LiveHub) -> dict[str, Any]:
    return {"tlp": "red", "recipients": live.seeded.identities["gov"], "acs_countries": "USA",
            "acs_custodian": "USA.EXAMPLECLOUD"}


def _tick(driver: Any) -> None:
    for value in ("GOV", "CTR"):
        driver.find_element(By.CSS_SELECTOR, f'input[name=acs_entities][value="{value}"]').click()
    driver.find_element(By.ID, "f-acs_further_sharing").click()


def test_a_draft_keeps_the_markings_check_boxes(live: LiveHub, driver: Any) -> None:
    col = live.seeded.collections["reports"]
    sign_in(driver, live.base, live.seeded.tokens, "alice")
    page = f"{live.base}/web/collections/{col}/file"
    open_without_draft(driver, page)
    form = {k: v for k, v in report_form(**_markings(live)).items()
            if k != "abuse_types" and k != "provider_account_id" and not k.startswith("personal.")}
    fill(driver, form)
    _tick(driver)
    with navigation(driver):  # no value to pseudonymise: the form is posted at once
        driver.find_element(By.ID, "preview-button").click()
    # Without the account id the facts are refused; the page sent back keeps what was ticked.
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "err-provider_account_id")))
    assert driver.find_element(By.ID, "f-acs_further_sharing").is_selected()
    # A fresh page restores the draft, check boxes and all.
    driver.get(page)
    WebDriverWait(driver, 60).until(ec.text_to_be_present_in_element((By.ID, "pseudonym-state"), "draft was restored"))
    ticked = [b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "input[name=acs_entities]:checked")]
    assert ticked == ["GOV", "CTR"]
    assert driver.find_element(By.ID, "f-acs_further_sharing").is_selected()
    assert Select(driver.find_element(By.ID, "f-tlp")).first_selected_option.get_attribute("value") == "red"
    assert driver.find_element(By.ID, "f-recipients").get_attribute("value") == live.seeded.identities["gov"]
    driver.execute_script("sessionStorage.clear()")


def test_the_preview_names_the_recipients_and_the_acs_marking(live: LiveHub, driver: Any) -> None:
    col = live.seeded.collections["reports"]
    sign_in(driver, live.base, live.seeded.tokens, "alice")
    open_without_draft(driver, f"{live.base}/web/collections/{col}/file")
    fill(driver, report_form(**_markings(live)))
    _tick(driver)
    with navigation(driver, timeout=90):  # the page pseudonymises, then posts the form
        driver.find_element(By.ID, "preview-button").click()
    preview = WebDriverWait(driver, 90).until(ec.presence_of_element_located((By.ID, "preview")))
    assert live.seeded.identities["gov"] in preview.text
    assert "ACS marking" in preview.text and "USA.EXAMPLECLOUD" in preview.text
    objects = json.loads(driver.find_element(By.ID, "objects-json").get_attribute("textContent"))
    assert objects[0]["type"] == "marking-definition"
    driver.execute_script("sessionStorage.clear()")
