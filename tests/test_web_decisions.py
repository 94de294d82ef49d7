"""The web page as the place decisions are made, with two browser sessions, hostile requests and a locked database:
stale decisions refused with who decided meanwhile (409), no accidental approval, sign-off only by the role and only
with no open escalation, login CSRF and throttling, a request size limit, routing-based visibility, and a server
that keeps answering while a decision waits on a lock. On both stores: SQLite files, and PostgreSQL."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import SAMPLES, chrome, records_on, write_lock_held
from test_review_cli import cli
from test_web_page import _log_in, open_site

USERS = {  # name: (password, functions, roles)
    "lee": ("correct horse battery", ["legal", "finance"], ["sign-off"]),
    "kim": ("kim's long password", ["legal"], []),
    "sam": ("security first 123", ["security"], []),
    "ops": ("sees everything 42", ["procurement"], ["all-contracts"]),
    "vic": ("victim's password 1", ["legal"], []),
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(request, tmp_path_factory):
    data, out = tmp_path_factory.mktemp("web-data"), tmp_path_factory.mktemp("web-out")
    records_on(request, data)
    with open_site(data, out) as opened:
        for name, (password, functions, roles) in USERS.items():
            if name in ("lee", "sam"):
                continue  # open_site adds these two
            cli("user", "add", name, "--functions", *functions, *(["--roles", *roles] if roles else []),
                "--password-stdin", data_dir=data, stdin=password + "\n")
        yield opened


class Client:
    """A browser-less session: cookies, the login form's CSRF token, form posts."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str] | bytes) -> tuple[int, str]:
        data = fields if isinstance(fields, bytes) else urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, method="POST",
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"}))

    def log_in(self, name: str, password: str | None = None) -> tuple[int, str]:
        _, form = self.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        return self.post("/login", {"csrf": token, "username": name, "password": password or USERS[name][0]})

    def form_values(self, path: str) -> dict[str, str]:
        _, page = self.get(path)
        return {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1),
                "version": (re.search(r'name="version" value="(\d+)"', page) or re.search("()", "")).group(1)}

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _review(site, sample: str) -> str:
    result = cli("review", str(SAMPLES / sample), "--out", str(site["out"]), data_dir=site["data"])
    return re.search(r"thread (\S+) ·", result.stdout).group(1)


def test_two_browser_sessions_on_one_suggestion_the_second_is_told_who_decided(site, browser, tmp_path):
    from selenium.webdriver.common.by import By

    thread = _review(site, "licence_quanta.docx")
    second = chrome()
    try:
        _log_in(browser, site["base"], "lee", USERS["lee"][0])
        _log_in(second, site["base"], "kim", USERS["kim"][0])
        for driver in (browser, second):
            driver.get(f"{site['base']}/reviews/{thread}")
        legal = [c.get_attribute("id") for c in second.find_elements(By.CSS_SELECTOR, ".card") if "decided by legal" in c.text]
        sid = legal[0]
        browser.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, "button[value='approve']").click()
        time.sleep(0.5)
        second.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, "button[value='reject']").click()  # a stale page
        banner = second.find_element(By.ID, "error").text
        assert f"{sid} approve by lee" in banner and "Not saved" in banner
        assert "approve by lee" in second.find_element(By.ID, sid).text  # the page now shows the current decision
        # the refusal is said on the card she is looking at, announced to screen readers, inside the window
        note = second.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, ".card-error")
        assert "Not saved" in note.text and note.get_attribute("role") == "alert"
        assert second.execute_script("var r = arguments[0].getBoundingClientRect();"
                                     " return r.top >= 0 && r.bottom <= window.innerHeight;", note)
        # kim can now decide with the page she sees, after confirming she replaces lee's decision
        second.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, "button[value='reject']").click()
        confirm = second.switch_to.alert
        assert f"{sid} was decided by lee" in confirm.text
        confirm.dismiss()  # not replaced
        time.sleep(0.3)
        assert "approve by lee" in second.find_element(By.ID, sid).text
        second.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, "button[value='reject']").click()
        second.switch_to.alert.accept()  # her change supersedes, the log keeps both
        time.sleep(0.5)
        assert "reject by kim" in second.find_element(By.ID, sid).text
        history = cli("history", thread, data_dir=site["data"]).stdout
        assert f"lee: approve {sid}" in history and f"kim: reject {sid}" in history

        # Enter in the comment box decides nothing; edited text with Approve is saved as the reviewer's text
        other = legal[1]
        card = second.find_element(By.ID, other)
        card.find_element(By.CSS_SELECTOR, "details.more summary").click()  # the note and escalation fold away
        card.find_element(By.NAME, "comment").send_keys("looks fine\n")
        card.find_element(By.NAME, "modified_text").send_keys("\n")
        time.sleep(0.5)
        assert "approve by" not in second.find_element(By.ID, other).text
        assert f" {other}" not in cli("history", thread, data_dir=site["data"]).stdout
        area = second.find_element(By.ID, other).find_element(By.NAME, "modified_text")
        area.clear()
        area.send_keys("The Licensee may assign this Agreement only with prior written consent.")
        second.find_element(By.ID, other).find_element(By.CSS_SELECTOR, "button[value='approve']").click()
        time.sleep(0.5)
        decided = second.find_element(By.ID, other).text
        assert "modify by kim" in decided and "only with prior written consent" in decided
    finally:
        second.quit()


def test_use_fallback_in_the_browser_records_the_fallback_wording(site, browser):
    from selenium.webdriver.common.by import By

    thread = _review(site, "saas_cloudnimbus.docx")
    _log_in(browser, site["base"], "ops", USERS["ops"][0])  # sees every contract: finds who owns the suggestion
    browser.get(f"{site['base']}/reviews/{thread}")
    card = next(c for c in browser.find_elements(By.CSS_SELECTOR, ".card") if "\ndata_protection · edit" in c.text)
    sid, owner = card.get_attribute("id"), re.search(r"decided by (\w+)", card.text).group(1)
    assert "Fallback wording, if the preferred is refused:" in card.text and "seventy-two (72) hours" in card.text
    name = next(n for n, (_, functions, _) in USERS.items() if owner in functions)
    browser.delete_all_cookies()
    _log_in(browser, site["base"], name, USERS[name][0])
    browser.get(f"{site['base']}/reviews/{thread}")
    browser.find_element(By.ID, sid).find_element(By.CSS_SELECTOR, "button[value='fallback']").click()
    time.sleep(0.5)
    decided = browser.find_element(By.ID, sid).text
    assert f"modify by {name}" in decided and "seventy-two (72) hours" in decided and "playbook fallback" in decided
    history = cli("history", thread, data_dir=site["data"]).stdout
    assert f"{name}: modify {sid}" in history and "seventy-two (72) hours" in history
    # a suggestion with no numeric rung (a deletion) has no such button
    price = next(c for c in browser.find_elements(By.CSS_SELECTOR, ".card") if "\nprice_escalation · edit" in c.text)
    assert "Fallback wording" not in price.text and not price.find_elements(By.CSS_SELECTOR, "button[value='fallback']")


def test_sign_off_needs_the_role_no_open_escalation_and_names_the_signer(site):
    thread = _review(site, "nda_bluepeak.docx")
    kim, lee, sam = Client(site["base"]), Client(site["base"]), Client(site["base"])
    for client, name in ((kim, "kim"), (lee, "lee"), (sam, "sam")):
        assert client.log_in(name)[0] == 200
    _, page = lee.get(f"/reviews/{thread}")
    ids = re.findall(r'<div class="card[^"]*" id="(S\d+)"', page)
    for sid in ids:
        values = lee.form_values(f"/reviews/{thread}")
        assert lee.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": sid, "action": "reject"})[0] == 200
    values = lee.form_values(f"/reviews/{thread}")
    lee.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": ids[0], "action": "escalate", "escalate_to": "security"})
    status, page = lee.get(f"/reviews/{thread}/finalise")
    assert "Escalated and not yet decided" in page and "confirm-finalise" not in page
    # the escalated suggestion now belongs to security: legal may not decide it, security may
    values = kim.form_values(f"/reviews/{thread}")
    assert kim.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": ids[0], "action": "approve"})[0] == 403
    sam_values = sam.form_values(f"/reviews/{thread}")
    assert sam.post(f"/reviews/{thread}/decide", {**sam_values, "suggestion_id": ids[0], "action": "reject"})[0] == 200
    # kim has no sign-off role
    _, page = kim.get(f"/reviews/{thread}/finalise")
    assert "do not hold the sign-off role" in page
    assert kim.post(f"/reviews/{thread}/finalise", kim.form_values(f"/reviews/{thread}/finalise"))[0] == 403
    # a confirmation page opened before a later decision is stale
    stale = lee.form_values(f"/reviews/{thread}/finalise")
    values = lee.form_values(f"/reviews/{thread}")
    lee.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": ids[-1], "action": "reject", "comment": "again"})
    code, page = lee.post(f"/reviews/{thread}/finalise", stale)
    assert code == 409 and "decisions changed since you confirmed" in page
    code, page = lee.post(f"/reviews/{thread}/finalise", lee.form_values(f"/reviews/{thread}/finalise"))
    assert code == 200 and "Signed off by <strong>lee</strong>" in page
    history = cli("history", thread, data_dir=site["data"]).stdout
    assert "lee: sign-off" in history and "lee: finalised" in history and f"sam: reject {ids[0]}" in history


def test_login_form_csrf_throttle_body_limit_and_error_pages(site):
    client = Client(site["base"])
    code, page = client.post("/login", {"username": "vic", "password": USERS["vic"][0]})
    assert code == 403 and "login form expired" in page and "<html" in page  # a page, not raw JSON
    for _ in range(5):
        code, page = client.log_in("vic", "not the password")
        assert code == 401 and "Wrong user name or password" in page
    code, page = client.log_in("vic")  # the right password, too late
    assert code == 429 and "Too many failed attempts" in page
    assert client.get("/")[1].count("Log in") >= 1  # still logged out
    assert _declared_body(site["base"], 2 * 1024 * 1024) == 413  # refused from the header, before reading a byte


def _declared_body(base: str, length: int) -> int:
    import http.client

    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/login")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_reviewers_see_only_contracts_routed_to_their_functions(site):
    sam, ops = Client(site["base"]), Client(site["base"])
    sam.log_in("sam")
    ops.log_in("ops")
    msa = site["thread"]  # legal, finance and procurement; nothing for security
    assert sam.get(f"/reviews/{msa}")[0] == 404
    assert sam.get(f"/reviews/{msa}/download/report_md")[0] == 404
    assert f'data-thread="{msa}"' not in sam.get("/")[1]
    assert ops.get(f"/reviews/{msa}")[0] == 200 and f'data-thread="{msa}"' in ops.get("/")[1]


def test_password_change_ends_the_browser_session(site):
    client = Client(site["base"])
    assert client.log_in("kim")[0] == 200 and "Log out" in client.get("/")[1]
    cli("user", "passwd", "kim", "--password-stdin", data_dir=site["data"], stdin=USERS["kim"][0] + "\n")
    assert "Log out" not in client.get("/")[1]


def test_a_decision_waiting_on_a_locked_database_does_not_block_the_server(site):
    thread = _review(site, "supply_ferrotech.docx")
    lee = Client(site["base"])
    lee.log_in("lee")
    _, page = lee.get(f"/reviews/{thread}")
    sid = re.findall(r'<div class="card[^"]*" id="(S\d+)"[^>]*>\s*<h3>(?:<span class="swatch[^"]*"></span>)?[^<]*<span[^>]*>[^<]*</span></h3>\s*'
                     r'<p class="muted">[^<]*decided by (?:legal|finance)', page)[0]
    values = lee.form_values(f"/reviews/{thread}")
    answer: dict = {}
    decide = threading.Thread(target=lambda: answer.update(
        result=lee.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": sid, "action": "approve"}),
        done=time.monotonic()))
    with write_lock_held(site["data"]):  # another process is writing
        decide.start()
        time.sleep(0.5)
        health = urllib.request.urlopen(site["base"] + "/health", timeout=10).read()
        health_done = time.monotonic()
        decide.join(timeout=60)
    assert health.startswith(b"ok") and health_done < answer["done"]  # the server answered while the decision waited
    code, page = answer["result"]
    assert code == 503 and "locked by another process; nothing was saved" in page
    assert f"approve {sid}" not in cli("history", thread, data_dir=site["data"]).stdout
