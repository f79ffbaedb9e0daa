"""The Airflow UI as a person uses it: headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium) signs in, opens news_daily, starts a backfill in the Trigger dialog, and sees its
runs in the Runs tab. The last page is saved as test-artifacts/ui-backfill.png.

Selenium rather than Playwright: Debian's chromedriver comes from the same source package as its
chromium, so the two always match, and the selenium wheel is pure Python; Playwright pins browser
builds of its own and ships a Node.js driver. With both paths given, Selenium downloads nothing.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from helpers import CHROMEDRIVER, CHROMIUM, headless_chromium
from news_etl import PROJECT_DIR

_missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
pytestmark = [
    pytest.mark.e2e,
    # Decided before the session's Airflow starts, so a machine without a browser wastes no time.
    pytest.mark.skipif(bool(_missing), reason=f"{' and '.join(_missing)} not installed "
                                              "(apt-get install chromium chromium-driver)"),
]
ARTIFACTS = PROJECT_DIR / "test-artifacts"
FROM, TO = date(2024, 2, 20), date(2024, 2, 21)  # other days than the API test's
WAIT = 90  # seconds for any one thing to show; the UI is slow while runs execute on 2 CPUs
DIALOG = "//*[@role='dialog' and .//*[normalize-space(text())='Date Range']]"  # not the date pickers'


@pytest.fixture
def browser(tmp_path):
    driver = headless_chromium(tmp_path / "chromium")
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def test_backfill_from_the_ui_dialog(airflow, browser):
    from selenium.common.exceptions import (
        ElementClickInterceptedException, ElementNotInteractableException, StaleElementReferenceException)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    # A wait asks again when React replaced the element it found before it could look at it.
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    # An element can be shown and enabled yet not take a click or keys for a moment (the dialog
    # and the date pickers animate in; React re-renders replace nodes): each action is retried
    # until it is taken, within WAIT.
    patient = WebDriverWait(browser, WAIT, ignored_exceptions=(
        ElementNotInteractableException, ElementClickInterceptedException, StaleElementReferenceException,
        IndexError))

    def act(find, action) -> None:
        patient.until(lambda b: action(find(b)) or True)

    def click(xpath: str):
        wait.until(shown.element_to_be_clickable((By.XPATH, xpath)))
        act(lambda b: b.find_element(By.XPATH, xpath), lambda e: e.click())

    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})  # queued runs start
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        # Signing in: the UI sends us to the SimpleAuthManager's login page and back.
        browser.get(f"{airflow.url}/dags/news_daily")
        wait.until(shown.visibility_of_element_located((By.NAME, "username"))).send_keys(airflow.user)
        browser.find_element(By.NAME, "password").send_keys(airflow.password)
        click("//button[@type='submit']")
        wait.until(shown.url_contains("/dags/news_daily"))

        # Trigger -> Backfill, a two-day range, the default "Missing Runs", Run Backfill.
        earlier = {b["id"] for b in airflow.request("GET", "/api/v2/backfills?dag_id=news_daily")["backfills"]}
        click("//button[@aria-label='Trigger Dag']")
        click("//*[@role='dialog']//*[normalize-space(text())='Backfill']")
        wait.until(shown.visibility_of_element_located((By.XPATH, DIALOG)))
        for index, day in enumerate((FROM, TO)):
            wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-testid=datetime-input]")) == 2)
            act(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid=datetime-input]")[index],
                lambda e: e.click())
            wait.until(shown.element_to_be_clickable((By.CSS_SELECTOR, "input[placeholder='YYYY/MM/DD']")))
            act(lambda b: b.find_element(By.CSS_SELECTOR, "input[placeholder='YYYY/MM/DD']"),
                lambda e: e.send_keys(day.strftime("%Y/%m/%d")))
            click(f"{DIALOG}//*[normalize-space(text())='Date Range']")  # closes the picker
        wait.until(shown.text_to_be_present_in_element(
            (By.XPATH, DIALOG), "2 runs will be triggered."))
        click(f"{DIALOG}//button[normalize-space(.)='Run Backfill']")
        wait.until(shown.invisibility_of_element_located((By.XPATH, DIALOG)))

        # The backfill exists in Airflow, and its runs show in the Runs tab.
        backfills = airflow.request("GET", "/api/v2/backfills?dag_id=news_daily")["backfills"]
        ours = [b for b in backfills if b["from_date"].startswith(FROM.isoformat()) and b["id"] not in earlier]
        assert len(ours) == 1, backfills
        runs = airflow.wait_for("the backfill's runs", lambda: _runs_of(airflow, ours[0]["id"]), WAIT)
        click("//a[normalize-space(.)='Runs']")
        for run in runs:
            wait.until(shown.text_to_be_present_in_element((By.TAG_NAME, "body"), run["dag_run_id"]))
        assert browser.find_element(By.TAG_NAME, "body").text.count("Backfill") >= len(runs)
    finally:
        browser.save_screenshot(str(ARTIFACTS / "ui-backfill.png"))
        # Its runs need not finish: the backfill is cancelled (a DAG may have one active backfill
        # only, so another test can make its own) and its runs ended and deleted, so the test
        # can run again in the same Airflow (`pytest --keep-duplicates` it 20 times).
        for backfill in airflow.request("GET", "/api/v2/backfills?dag_id=news_daily")["backfills"]:
            if backfill["completed_at"] is None:
                airflow.request("PUT", f"/api/v2/backfills/{backfill['id']}/cancel")
        for run in _runs_in_range(airflow):
            if run["state"] in ("queued", "running"):
                airflow.request("PATCH", f"/api/v2/dags/news_daily/dagRuns/{run['dag_run_id']}", {"state": "failed"})
            airflow.request("DELETE", f"/api/v2/dags/news_daily/dagRuns/{run['dag_run_id']}")


def _runs_of(airflow, backfill_id: int) -> list[dict]:
    runs = _runs_in_range(airflow)
    return runs if len(runs) == 2 else []


def _runs_in_range(airflow) -> list[dict]:
    return airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?run_type=backfill"
                                  f"&logical_date_gte={FROM}T00:00:00Z&logical_date_lte={TO}T00:00:00Z")["dag_runs"]
