"""'Which party are we?': when our names do not settle our side, the CLI and the page ask; the answer is logged under
the reviewer who gave it, the side-dependent agents run again, the redone suggestions get fresh ids (no decision on
an earlier one can land on a new one), a decision on a suggestion that comes back unchanged is carried over, and the
review finalises on the new suggestions."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLES, serving
from test_review_cli import cli
from test_web_decisions import Client


@pytest.fixture
def strangers(monkeypatch):
    """Our configured name is on neither side of the sample contracts."""
    monkeypatch.setenv("CLAUSEFLOW_OUR_NAMES", "Someone Else Ltd")


def _review(data, out) -> tuple[str, str]:
    result = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(out), data_dir=data)
    return re.search(r"thread (\S+) ·", result.stdout).group(1), result.stdout


def test_the_cli_asks_records_the_answer_and_redoes_the_side_dependent_checks(strangers, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    thread, first = _review(data, out)
    assert "our side unknown" in first and "Which party are we?" in first
    assert "liability_cap" not in first  # no side-dependent suggestion before the answer
    governing = re.search(r"(S\d\d)\s+MEDIUM\s+assignment", first).group(1)  # side-neutral: no anti-assignment clause
    cli("decide", thread, "--approve", governing, "--no-finalize", data_dir=data)

    stranger = cli("decide", thread, "--our-party", "Nobody Inc.", data_dir=data, check=False)
    assert stranger.returncode == 2 and stranger.stderr.count("\n") == 1 and "not a party" in stranger.stderr
    mixed = cli("decide", thread, "--our-party", "Customer", "--approve", governing, data_dir=data, check=False)
    assert mixed.returncode == 2

    answered = cli("decide", thread, "--our-party", "northwind systems", "--reviewer", "alice", data_dir=data).stdout
    assert "alice answered that we are Northwind Systems, Inc.; our side customer" in answered
    assert "our side customer" in answered and "counterparty CloudNimbus Inc." in answered
    assert re.search(r"S2-\d\d\s+CRITICAL\s+liability_cap", answered)  # the side-dependent checks ran
    carried = re.search(r"(S2-\d\d)\s+MEDIUM\s+assignment.*\[approve by reviewer\]", answered)
    assert carried, answered  # the unchanged suggestion kept its decision, under its new id

    stale = cli("decide", thread, "--approve", governing, data_dir=data, check=False)
    assert stale.returncode != 0 and governing in stale.stderr  # an old id is refused, never mapped onto a new one
    history = cli("history", thread, data_dir=data).stdout
    assert "alice: our-party (we are Northwind Systems, Inc.: our side customer)" in history
    assert f"carried over from {governing}" in history

    done = cli("decide", thread, "--approve-all", "--reviewer", "alice", data_dir=data).stdout
    assert "finalised" in done
    report = (out / "saas_cloudnimbus.review.md").read_text()
    assert "**Our side:** customer" in report and "S2-" in report and "Which party are we?" not in report
    # what was read and accepted is in the report too: California law is our fallback, noted rather than changed
    noted = report.split("## Noted, nothing to ask", 1)[1].split("\n## ", 1)[0]
    assert "State of California" in noted and "accepted as it stands" in noted
    again = cli("decide", thread, "--our-party", "CloudNimbus Inc.", data_dir=data, check=False)
    assert again.returncode == 2 and "signed off" in again.stderr


def test_the_page_asks_and_only_legal_may_answer(strangers, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    thread, _ = _review(data, out)
    cli("user", "add", "kim", "--functions", "legal", "--password-stdin", data_dir=data, stdin="kim's long password\n")
    cli("user", "add", "sam", "--functions", "security", "--password-stdin", data_dir=data, stdin="security first 123\n")
    with serving(data) as base:
        kim, sam = Client(base), Client(base)
        kim.log_in("kim", "kim's long password")
        sam.log_in("sam", "security first 123")
        _, page = kim.get(f"/reviews/{thread}")
        assert 'id="our-party"' in page and "Which party are we?" in page and "Northwind Systems, Inc." in page
        question = next(card for card in page.split('<div class="card')[1:] if "Which party are we?" in card)
        assert 'name="modified_text"' not in question and 'value="modify"' not in question  # a comment, not a wording

        code, _ = sam.post(f"/reviews/{thread}/our-party", {**sam.form_values(f"/reviews/{thread}"), "party": "CloudNimbus Inc."})
        assert code == 403  # security reviews security terms; which party we are is Legal's question
        code, page = kim.post(f"/reviews/{thread}/our-party", {**kim.form_values(f"/reviews/{thread}"), "party": "Nobody"})
        assert code == 200 and "Not saved" in page and "not a party" in page
        code, page = kim.post(f"/reviews/{thread}/our-party",
                              {**kim.form_values(f"/reviews/{thread}"), "party": "CloudNimbus Inc.", "side": ""})
        assert code == 200 and "we are CloudNimbus Inc., our side supplier" in page
        assert 'id="our-party"' not in page and "our side supplier" in page and 'id="S2-01"' in page
    assert "kim: our-party (we are CloudNimbus Inc.: our side supplier)" in cli("history", thread, data_dir=data).stdout
