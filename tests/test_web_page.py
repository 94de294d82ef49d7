"""The reviewer web page in a real headless Chromium (Debian's chromium + chromium-driver), against a real
`app.py serve` process: log in, approve one suggestion, modify another, finalise, download, check the DOCX."""

from __future__ import annotations

import io
import re
import time
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager

import pytest
from conftest import SAMPLES, serving
from test_review_cli import cli

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with open_site(tmp_path_factory.mktemp("web-data"), tmp_path_factory.mktemp("web-out")) as opened:
        yield opened


@contextmanager
def open_site(data, out):
    """One reviewed contract, two reviewers (lee: legal, finance, sign-off; sam: security) and a server over them."""
    review = cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(out), data_dir=data)
    thread = re.search(r"thread (\S+) ·", review.stdout).group(1)
    cli("user", "add", "lee", "--functions", "legal", "finance", "--roles", "sign-off", "--password-stdin", data_dir=data,
        stdin="correct horse battery\n")
    cli("user", "add", "sam", "--functions", "security", "--password-stdin", data_dir=data, stdin="security first 123\n")
    with serving(data) as base:
        yield {"base": base, "thread": thread, "data": data, "out": out}


def _log_in(driver, base, username, password):
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    button = driver.find_element(By.ID, "login")
    button.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(_gone(button))  # the answer page has loaded


def _decide(driver, suggestion_id, action, text=None):
    """Submit one decision and wait for the page the server redirects to."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    card = driver.find_element(By.ID, suggestion_id)
    if text is not None:
        area = card.find_element(By.NAME, "modified_text")
        area.clear()
        area.send_keys(text)
    card.find_element(By.CSS_SELECTOR, f"button[value='{action}']").click()
    WebDriverWait(driver, 20).until(_gone(card))
    WebDriverWait(driver, 20).until(lambda d: f"{action} by" in d.find_element(By.ID, suggestion_id).text)


def _gone(element):
    """Staleness that also accepts chromium's other answer for a node of an unloaded page ("Node with given id
    does not belong to the document", a WebDriverException rather than a StaleElementReferenceException)."""
    from selenium.common.exceptions import WebDriverException

    def check(_driver) -> bool:
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    return check


def test_log_in_decide_finalise_and_download_the_redline(site, browser):
    from selenium.webdriver.common.by import By

    _log_in(browser, site["base"], "lee", "wrong password!")
    assert "Wrong user name or password" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    _log_in(browser, site["base"], "lee", "correct horse battery")

    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-thread='{site['thread']}']")
    assert "Orion Consulting Group LLC" in row.text and "critical" in row.text
    browser.get(site["base"] + "/?function=security")  # the MSA is not for security reviewers
    assert not browser.find_elements(By.CSS_SELECTOR, f"tr[data-thread='{site['thread']}']")
    browser.get(site["base"] + "/?function=legal")
    browser.find_element(By.LINK_TEXT, "msa_orion").click()

    marks = browser.find_elements(By.CSS_SELECTOR, "#contract-text mark")
    cards = browser.find_elements(By.CSS_SELECTOR, ".card")
    assert len(cards) >= 3 and len(marks) >= 3
    assert "disabled" in browser.find_element(By.ID, "finalise").get_attribute("class")
    ids = [c.get_attribute("id") for c in cards]
    first = browser.find_element(By.ID, ids[0])
    assert first.find_elements(By.CSS_SELECTOR, ".diff del, .diff ins") and "Playbook position" in first.text

    _decide(browser, ids[0], "approve")
    assert "approve by lee" in browser.find_element(By.ID, ids[0]).text
    _decide(browser, ids[1], "modify", "This Agreement shall continue for an initial term of one (1) year.")
    assert "modify by lee" in browser.find_element(By.ID, ids[1]).text
    for sid in ids[2:]:
        _decide(browser, sid, "reject")
    finalise = browser.find_element(By.ID, "finalise")
    assert "disabled" not in finalise.get_attribute("class")
    finalise.click()  # a confirmation page lists what will be written
    changes = browser.find_element(By.ID, "changes").text
    assert f"{ids[1]}" in changes and "initial term of one (1) year" in changes and "reject by lee" in changes
    browser.find_element(By.ID, "confirm-finalise").click()
    assert "Finalised" in browser.find_element(By.ID, "finalised").text
    assert "Signed off by lee" in browser.find_element(By.ID, "signed-off").text

    browser.find_element(By.ID, "download-docx").click()
    deadline = time.time() + 20
    while time.time() < deadline and not list(browser.download_dir.glob("*.docx")):
        time.sleep(0.2)
    (docx,) = browser.download_dir.glob("*.docx")
    with zipfile.ZipFile(io.BytesIO(docx.read_bytes())) as package:
        xml = package.read("word/document.xml").decode()
    assert 'w:author="lee"' in xml and "<w:ins " in xml and "<w:del " in xml
    accepted = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))  # w:delText is left out: the text once accepted
    assert "initial term of one (1) year" in accepted and "two (2) years" not in accepted

    history = cli("history", site["thread"], data_dir=site["data"]).stdout
    assert "lee" in history and "modify" in history and "approve" in history


def test_forms_need_the_session_csrf_token_and_the_right_function(site, browser):
    from selenium.webdriver.common.by import By

    thread = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(site["out"]), data_dir=site["data"])
    saas = re.search(r"thread (\S+) ·", thread.stdout).group(1)
    _log_in(browser, site["base"], "sam", "security first 123")
    browser.get(f"{site['base']}/reviews/{saas}")
    assert "Only legal reviewers can decide this" in browser.page_source
    cookie = browser.get_cookie("clauseflow_session")["value"]
    csrf = browser.find_element(By.NAME, "csrf").get_attribute("value")
    legal_card = next(c for c in browser.find_elements(By.CSS_SELECTOR, ".card") if "decided by legal" in c.text)

    answers: list[str] = []

    def post(fields: str) -> int:
        request = urllib.request.Request(f"{site['base']}/reviews/{saas}/decide", data=fields.encode(), method="POST",
                                         headers={"Cookie": f"clauseflow_session={cookie}",
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        try:
            return urllib.request.urlopen(request).status
        except urllib.error.HTTPError as refused:
            answers.append(refused.read().decode())
            return refused.code

    sid = legal_card.get_attribute("id")
    assert post(f"suggestion_id={sid}&action=approve") == 403  # no CSRF token
    assert post(f"suggestion_id={sid}&action=approve&csrf=forged") == 403
    # a page from an earlier session is answered with the review page, current, and a message; not a bare error
    assert "Not saved: this page was opened in an earlier session" in answers[-1] and 'id="contract-text"' in answers[-1]
    assert post(f"suggestion_id={sid}&action=approve&csrf={csrf}") == 403  # right token, wrong function
    assert "approve by" not in browser.find_element(By.ID, sid).text


def _waits_for(driver, suggestion_id: str, text: str):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d) -> bool:
        try:
            return text in d.find_element(By.ID, suggestion_id).text
        except WebDriverException:  # the part of the page that holds it is being swapped
            return False

    WebDriverWait(driver, 20).until(shown)


def test_a_whole_contract_decided_with_keys_only_after_a_bulk_approval_and_without_a_page_reload(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    data = site["data"]
    review = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(site["out"]), data_dir=data)
    thread = re.search(r"thread (\S+) ·", review.stdout).group(1)
    cli("user", "add", "kim", "--functions", "legal", "finance", "procurement", "security", "--roles", "sign-off",
        "--password-stdin", data_dir=data, stdin="kim keeps the keys 42\n")
    _log_in(browser, site["base"], "kim", "kim keeps the keys 42")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-thread='{thread}']")
    assert "saas_cloudnimbus" in row.text and "awaiting review" in row.text
    browser.get(f"{site['base']}/reviews/{thread}/preview")
    not_applied = browser.find_element(By.ID, "not-applied").text  # a preview before anything is decided
    assert "Not applied yet" in not_applied and "S01" in not_applied and "S08" in not_applied
    assert not browser.find_element(By.ID, "tracked").find_elements(By.TAG_NAME, "ins")
    browser.get(f"{site['base']}/reviews/{thread}")

    # a comment on a suggestion joins its thread (who and when), without a page reload either
    thread_form = browser.find_element(By.CSS_SELECTOR, "#comments-S01 textarea[name=text]")
    thread_form.send_keys("Finance wants this one checked against the PO.")
    browser.find_element(By.CSS_SELECTOR, "#comments-S01 button[value=comment]").click()
    _waits_for(browser, "comments-S01", "kim")
    assert "Finance wants this one checked against the PO." in browser.find_element(By.ID, "comments-S01").text

    # assigned to kim: counted as waiting for kim, and found with "assigned to me"
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.CSS_SELECTOR, "#assign select")).select_by_value("kim")
    button = browser.find_element(By.CSS_SELECTOR, "#assign button")
    button.click()
    WebDriverWait(browser, 20).until(_gone(button))
    browser.get(site["base"] + "/?mine=1")
    assert [r.get_attribute("data-thread") for r in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")] == [thread]
    assert browser.find_element(By.ID, "waiting").text.endswith("1")
    browser.get(f"{site['base']}/reviews/{thread}")

    # bulk approve: the low-severity suggestions that passed every check, after one confirmation
    browser.find_element(By.ID, "approve-low").click()
    listed = browser.find_element(By.ID, "bulk-list").text
    assert "S02" in listed and "S01" not in listed and "S03" not in listed
    browser.find_element(By.ID, "confirm-bulk").click()
    _waits_for(browser, "S02", "approve by kim")
    _waits_for(browser, "S02", "approved in bulk")
    assert not browser.find_elements(By.ID, "approve-low")

    browser.execute_script("window.__notReloaded = true;")  # a full page load would lose this
    keys = ActionChains(browser)
    keys.send_keys("?").perform()
    assert browser.find_element(By.ID, "keys-help").is_displayed()
    keys.send_keys("?").perform()
    assert browser.find_element(By.CSS_SELECTOR, ".card.focused").get_attribute("id") == "S01"  # the first pending
    assert "current" in browser.find_element(By.ID, "cite-S01").get_attribute("class")  # shown in the contract pane
    keys.send_keys("a").perform()
    _waits_for(browser, "S01", "approve by kim")
    assert "decided-approve" in browser.find_element(By.ID, "cite-S01").get_attribute("class")  # marked in the pane
    assert "decided" not in browser.find_element(By.ID, "cite-S04").get_attribute("class")
    assert browser.find_element(By.CSS_SELECTOR, ".card.focused").get_attribute("id") == "S03"  # moved on by itself
    keys.send_keys("r").perform()
    _waits_for(browser, "S03", "reject by kim")
    keys.send_keys("k").perform()  # back to the one just rejected, and on again
    assert browser.find_element(By.CSS_SELECTOR, ".card.focused").get_attribute("id") == "S03"
    keys.send_keys("j").perform()
    assert browser.find_element(By.CSS_SELECTOR, ".card.focused").get_attribute("id") == "S04"
    keys.send_keys("m").perform()  # edit the wording, save it as Modify with Ctrl+Enter
    area = browser.switch_to.active_element
    assert area.get_attribute("name") == "modified_text"
    area.send_keys(Keys.END, " (as agreed on the call)")
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    _waits_for(browser, "S04", "modify by kim")
    assert "as agreed on the call" in browser.find_element(By.ID, "S04").text
    for _ in range(5):  # S05-S08 approved with one key each (the focus follows the next pending suggestion)
        pending = browser.find_elements(By.CSS_SELECTOR, ".card[data-pending='1']")
        if not pending:
            break
        focused = browser.find_element(By.CSS_SELECTOR, ".card.focused").get_attribute("id")
        ActionChains(browser).send_keys("a").perform()
        _waits_for(browser, focused, "approve by kim")
    assert not browser.find_elements(By.CSS_SELECTOR, ".card[data-pending='1']")
    assert browser.execute_script("return window.__notReloaded === true;")
    assert "disabled" not in browser.find_element(By.ID, "finalise").get_attribute("class")
    assert "0 pending" in browser.find_element(By.TAG_NAME, "main").text
    assert "sign off" in browser.find_element(By.ID, "all-decided").text  # the page says what comes next

    # before finalising: the redlined document as Word will show it, and the changed paragraphs side by side
    browser.get(f"{site['base']}/reviews/{thread}/preview")
    tracked = browser.find_element(By.ID, "tracked")
    assert tracked.find_elements(By.TAG_NAME, "del") and tracked.find_elements(By.TAG_NAME, "ins")
    rows = browser.find_elements(By.CSS_SELECTOR, "#side-by-side tbody tr")
    assert len(rows) >= 5 and any("as agreed on the call" in r.text for r in rows)
