"""The repository's web pages in a real headless Chromium against a real `app.py serve` over the demo portfolio:
the dashboard, a counterparty's page with its plots, flags and obligations, marking an obligation missed from two
browser sessions at once, plain-English search, and who may see the repository."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
from conftest import chrome, screenshot, serving
from test_review_cli import cli
from test_web_page import _gone, _log_in



@pytest.fixture(scope="module")
def portfolio_site(tmp_path_factory):
    data = tmp_path_factory.mktemp("portfolio-web")
    cli("demo", "--cuad", "3", "--workers", "2", data_dir=data)
    cli("user", "add", "pat", "--functions", "procurement", "finance", "--password-stdin", data_dir=data,
        stdin="procurement rules 123\n")
    cli("user", "add", "sam", "--functions", "security", "--password-stdin", data_dir=data, stdin="security first 123\n")
    with serving(data) as base:
        yield {"base": base, "data": data}


def test_the_dashboard_and_a_counterparty_page_show_the_portfolio_at_a_glance(portfolio_site, browser):
    from selenium.webdriver.common.by import By

    base = portfolio_site["base"]
    _log_in(browser, base, "pat", "procurement rules 123")
    browser.find_element(By.ID, "nav-portfolio").click()
    tiles = browser.find_element(By.ID, "tiles").text
    assert "9\ncontracts" in tiles and "open spend flags" in tiles and "of invoiced spend under a contract" in tiles
    deadlines = browser.find_element(By.ID, "deadlines").text
    assert "licence_quanta" in deadlines and "2026-12-02" in deadlines
    assert browser.find_elements(By.CSS_SELECTOR, "#by-status .bar") and browser.find_elements(By.CSS_SELECTOR, "#coverage .meter")
    screenshot(browser, "portfolio-dashboard")
    browser.find_element(By.LINK_TEXT, "Orion Consulting Group LLC").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Orion Consulting Group LLC"
    assert browser.find_elements(By.CSS_SELECTOR, "#spend svg")  # spend by month against contract value
    flags = browser.find_element(By.ID, "flags").text
    assert "over cap" in flags and "not to exceed USD 250,000" in flags  # the flag quotes the contract clause
    screenshot(browser, "portfolio-counterparty")


def test_an_obligation_marked_missed_in_two_sessions_at_once_keeps_both_marks(portfolio_site, browser, tmp_path):
    from selenium.webdriver.common.by import By

    from portfolio.repository import Repository

    base = portfolio_site["base"]
    page = f"{base}/counterparties/{quote('Orion Consulting Group LLC', safe='')}"
    other = chrome()
    try:
        for driver in (browser, other):
            _log_in(driver, base, "pat", "procurement rules 123")
            driver.get(page)
        row = browser.find_element(By.CSS_SELECTOR, "#obligations tr[data-obligation]")
        obligation_id = row.get_attribute("data-obligation")
        stale_row = other.find_element(By.CSS_SELECTOR, f"tr[data-obligation='{obligation_id}']")
        row.find_element(By.CSS_SELECTOR, "button[value='missed']").click()
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 20).until(_gone(row))
        assert "marked missed by pat" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
        assert obligation_id[:12] in browser.page_source and "marked missed by pat" in browser.find_element(By.ID, "missed").text
        stale_row.find_element(By.CSS_SELECTOR, "button[value='done']").click()  # the other session's older page
        WebDriverWait(other, 20).until(_gone(stale_row))
        assert "marked done by pat" in other.find_element(By.CSS_SELECTOR, "[role=status]").text
    finally:
        other.quit()
    history = Repository(portfolio_site["data"] / "portfolio.sqlite").obligation_history(obligation_id)
    assert [h["status"] for h in history] == ["missed", "done"]  # both saves kept, in order; none lost


def test_plain_english_search_and_who_may_see_the_repository(portfolio_site, browser):
    from selenium.webdriver.common.by import By

    base = portfolio_site["base"]
    _log_in(browser, base, "pat", "procurement rules 123")
    browser.get(base + "/contracts?q=" + quote("contracts governed by Texas law"))
    assert "governing_law = Texas" in browser.find_element(By.ID, "read-as").text
    hits = browser.find_element(By.ID, "contract-hits").text
    assert "msa_orion" in hits and "State of Texas" in hits
    screenshot(browser, "portfolio-search")
    browser.get(base + "/obligations?due=60")
    assert "licence_quanta" in browser.find_element(By.ID, "obligations").text
    screenshot(browser, "portfolio-obligations")
    feed = browser.execute_script("return fetch('/calendar.ics').then(r => r.text())")
    assert feed.startswith("BEGIN:VCALENDAR") and "licence_quanta" in feed
    browser.find_element(By.CSS_SELECTOR, "header form button").click()
    _log_in(browser, base, "sam", "security first 123")  # security only: the repository is not theirs
    assert not browser.find_elements(By.ID, "nav-portfolio")
    browser.get(base + "/portfolio")
    assert "legal, procurement and finance" in browser.page_source


def test_marking_an_obligation_never_redirects_off_the_site(portfolio_site, monkeypatch):
    import re

    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from portfolio.repository import Repository
    from web_app.server import create_app

    monkeypatch.setenv("CLAUSEFLOW_TODAY", "2026-11-23")
    client = TestClient(create_app(ReviewConfig.from_env(portfolio_site["data"], "local")))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "pat", "password": "procurement rules 123", "csrf": token})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/obligations?due=365").text).group(1)
    obligation, _ = Repository(portfolio_site["data"] / "portfolio.sqlite").obligations(date(2026, 11, 23), status="open")[0]
    for back in ("//evil.example", "/\\evil.example", "https://evil.example/x", "javascript:alert(1)"):
        answer = client.post(f"/obligations/{obligation.obligation_id}/mark", follow_redirects=False,
                             data={"csrf": csrf, "status": "open", "back": back})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/obligations?message="), back
