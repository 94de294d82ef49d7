"""Intake and rounds on the reviewer page, in a real headless Chromium against `app.py serve`: a request with its paper
uploaded through the form, its routing shown with reasons; the other side's reply uploaded on the finalised review and
shown as the next round."""

from __future__ import annotations

import pytest
from conftest import SAMPLES, screenshot, serving
from test_review_cli import cli
from test_rounds import _reply
from test_web_page import _gone, _log_in



@pytest.fixture(scope="module")
def intake_site(tmp_path_factory):
    data = tmp_path_factory.mktemp("intake-web")
    cli("user", "add", "lee", "--functions", "legal", "security", "finance", "procurement", "--roles", "sign-off",
        "--password-stdin", data_dir=data, stdin="correct horse battery\n")
    with serving(data) as base:
        yield {"base": base, "data": data}


def test_a_request_through_the_form_and_a_reply_as_the_next_round(intake_site, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, data = intake_site["base"], intake_site["data"]
    _log_in(browser, base, "lee", "correct horse battery")
    browser.find_element(By.ID, "nav-intake").click()
    form = browser.find_element(By.ID, "intake")
    form.find_element(By.NAME, "requester").clear()
    form.find_element(By.NAME, "requester").send_keys("Dana Ops")
    form.find_element(By.NAME, "supplier").send_keys("Orion Consulting")
    form.find_element(By.NAME, "amount").send_keys("300000")
    form.find_element(By.NAME, "purpose").send_keys("Analytics consulting on our customer data")
    form.find_element(By.NAME, "personal_data").click()
    form.find_element(By.NAME, "paper").send_keys(str(SAMPLES / "msa_orion.docx"))
    screenshot(browser, "intake-form")
    button = browser.find_element(By.ID, "submit-intake")
    button.click()
    WebDriverWait(browser, 120).until(_gone(button))
    request = browser.find_element(By.ID, "request").text
    assert "Requested by Dana Ops" in request and "USD 300,000" in request and "personal data" in request
    assert "sign-off: security → legal → finance" in request
    assert "personal-data: the request says personal data is involved" in browser.find_element(By.ID, "routing").text
    assert any("data_protection" in c.text for c in browser.find_elements(By.CSS_SELECTOR, ".card"))  # DPA terms asked for
    screenshot(browser, "intake-contract")
    thread = browser.current_url.rstrip("/").split("/")[-1]

    assert "signed off for security" in cli("decide", thread, "--reviewer", "lee", "--approve-all", "--password-stdin",
                                            data_dir=data, stdin="correct horse battery\n").stdout
    browser.get(f"{base}/reviews/{thread}")
    steps = browser.find_element(By.ID, "sign-off-steps").text
    assert "security: signed by lee" in steps and "legal: next" in steps and "finance: waiting" in steps
    assert browser.find_element(By.ID, "finalise").text == "Sign off for legal…"
    screenshot(browser, "sign-off-steps")
    for step in ("legal", "finance"):  # lee signs for all three functions, one step at a time
        cli("decide", thread, "--reviewer", "lee", "--password-stdin", data_dir=data, stdin="correct horse battery\n")
    reply = tmp_path / "msa_orion_their_reply.docx"
    _reply(SAMPLES / "msa_orion.docx", reply, {}, added_after="Supplier may assign",
           added="Supplier may subcontract any of its obligations without the consent of Customer.")
    browser.get(f"{base}/reviews/{thread}")
    upload = browser.find_element(By.ID, "reply")
    upload.find_element(By.NAME, "paper").send_keys(str(reply))
    button = upload.find_element(By.CSS_SELECTOR, "button")
    button.click()
    WebDriverWait(browser, 120).until(_gone(button))
    round_box = browser.find_element(By.ID, "round").text
    assert "Round 2: their reply to the version we sent" in round_box and "6 rejected" in round_box  # nothing accepted
    assert "not added" in round_box  # the data-protection clause we asked to add is not in their version
    assert "Requested by Dana Ops" in browser.find_element(By.ID, "request").text  # the request travels with the deal
    other = browser.find_element(By.ID, "other-changes").text
    assert "added: Supplier may subcontract" in other
    assert "Subcontracting without consent: it weighs on us" in other  # their new words, reviewed as new paper
    screenshot(browser, "round-2")


def test_uploads_that_cannot_be_reviewed_answer_with_a_reason(intake_site, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = intake_site["base"]
    _log_in(browser, base, "lee", "correct horse battery")
    broken = tmp_path / "scan.docx"
    broken.write_bytes(b"PK\x03\x04 not really a Word file")
    browser.get(base + "/intake")
    browser.find_element(By.NAME, "paper").send_keys(str(broken))
    button = browser.find_element(By.ID, "submit-intake")
    button.click()
    WebDriverWait(browser, 60).until(_gone(button))
    assert "Not started:" in browser.find_element(By.ID, "error").text and "Traceback" not in browser.page_source
    assert browser.find_element(By.NAME, "requester").get_attribute("value") == "lee"  # the form keeps what was typed
