"""The repository's commands end to end on files: import (bad files, kill -9 and resume), and renewals,
obligations, alerts, the calendar and spend on the demo portfolio (samples + CUAD contracts as DOCX)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import SAMPLES
from test_review_cli import ROOT, cli


def _contract_count(repository) -> int:
    with repository.read() as db:
        return db.execute("SELECT COUNT(*) FROM contracts").fetchone()[0]


def test_import_files_good_contracts_reports_bad_ones_and_resumes_after_kill_9(tmp_path, store):
    from portfolio.repository import Repository

    folder, data = tmp_path / "executed", tmp_path / "data"
    folder.mkdir()
    for sample in sorted(SAMPLES.glob("*.docx")):
        (folder / sample.name).write_bytes(sample.read_bytes())
    (folder / "copy of msa – signed (final) ✓.docx").write_bytes((SAMPLES / "msa_orion.docx").read_bytes())
    (folder / "scan.docx").write_bytes(b"PK\x03\x04 this is not a real Word file")
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": "2026-11-23"}
    first = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "import", str(folder), "--workers", "1"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # kill -9 once at least one contract is filed and before all are
        line = first.stdout.readline()
        if ": filed" in line:
            break
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    repository = Repository(store.url or data / "portfolio.sqlite")  # on each store: a SQLite file, and PostgreSQL
    filed_before = _contract_count(repository)
    assert 1 <= filed_before < 6
    second = cli("import", str(folder), "--json", "--workers", "2", data_dir=data, check=False)
    assert second.returncode == 2  # one file could not be read: exit 2, the rest filed
    rows = {r["file"]: r for r in json.loads(second.stdout)}
    assert rows["scan.docx"]["outcome"] == "failed" and second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert rows["copy of msa – signed (final) ✓.docx"]["outcome"] in ("duplicate", "already filed")
    assert sum(r["outcome"] == "already filed" for r in rows.values()) >= filed_before
    assert _contract_count(repository) == 6  # every distinct contract once: none lost, none twice
    third = json.loads(cli("import", str(folder), "--json", data_dir=data, check=False).stdout)
    assert {r["outcome"] for r in third if r["file"] != "scan.docx"} == {"already filed"}
    with repository.read() as db:
        per_contract = db.execute("SELECT contract_id, COUNT(*) FROM contract_clauses GROUP BY contract_id").fetchall()
    assert len(per_contract) == 6 and all(n > 0 for _, n in per_contract)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    result = cli("demo", "--cuad", "3", "--workers", "2", data_dir=data)
    assert "9 of 9 contracts filed" in result.stdout
    return data


def _quote_is_in_its_contract(data, contract_id: str, start: int, end: int, quote: str) -> bool:
    from document_io.loader import load_document
    from portfolio.repository import Repository

    record = Repository(data / "portfolio.sqlite").contract(contract_id, with_clauses=False)
    return load_document(record.source_file).text[start:end] == quote


def test_demo_renewals_and_search_answer_over_imported_contracts(demo):
    rows = json.loads(cli("renewals", "--within", "12m", "--json", data_dir=demo).stdout)
    assert [(r["name"], r["notice_deadline"], r["origin"]) for r in rows][:2] == [
        ("licence_quanta", "2026-12-02", "import"), ("saas_cloudnimbus", "2027-03-04", "import")]
    hits = json.loads(cli("search", "contracts governed by Texas law", "--json", data_dir=demo).stdout)
    assert "msa_orion" in {h["contract"]["name"] for h in hits}
    for hit in hits:
        assert hit["contract"]["governing_law"] == "Texas"
        assert _quote_is_in_its_contract(demo, hit["contract"]["contract_id"], hit["start"], hit["end"],
                                         _citation(demo, hit["contract"]["contract_id"], hit["category"]))
    assert "read as:" in cli("search", "audit rights in licence agreements", data_dir=demo).stdout
    # words no clause category kept are searchable too: the whole text is indexed, and the hit quotes the contract
    named = json.loads(cli("search", "named users", "--json", data_dir=demo).stdout)
    assert [h["contract"]["name"] for h in named] == ["saas_cloudnimbus"] and "[named] [users]" in named[0]["snippet"]
    english = json.loads(cli("search", "contracts governed by English law", "--json", data_dir=demo).stdout)
    assert [h["contract"]["name"] for h in english] == ["dpa_medisafe"]  # filed as "England and Wales"


def _citation(data, contract_id: str, field: str) -> str:
    from portfolio.repository import Repository

    return Repository(data / "portfolio.sqlite").contract(contract_id).citations[field].quote


def test_demo_obligations_are_listed_and_marked_with_who_and_when(demo):
    due = json.loads(cli("obligations", "--due", "30d", "--json", data_dir=demo).stdout)
    notice = next(o for o in due if o["contract"] == "licence_quanta" and o["kind"] == "notice to terminate")
    assert notice["due_date"] == "2026-12-02" and notice["owner_side"] == "us"
    nobody = cli("obligations", "--done", notice["obligation_id"], "--by", " ", data_dir=demo, check=False)
    assert nobody.returncode == 2 and "--by" in nobody.stderr
    unknown = cli("obligations", "--done", "no-such-obligation", "--by", "Pat", data_dir=demo, check=False)
    assert unknown.returncode == 2 and "no obligation" in unknown.stderr
    assert "marked done by Pat Buyer" in cli("obligations", "--done", notice["obligation_id"], "--by", "Pat Buyer",
                                             data_dir=demo).stdout
    done = json.loads(cli("obligations", "--status", "done", "--json", data_dir=demo).stdout)
    assert [(o["obligation_id"], o["decided_by"]) for o in done] == [(notice["obligation_id"], "Pat Buyer")]
    assert notice["obligation_id"] not in cli("obligations", "--due", "30d", data_dir=demo).stdout
    # the notice given, the licence ends with this term: no renewal deadline is listed any more
    assert "licence_quanta" not in {r["name"] for r in json.loads(cli("renewals", "--within", "365d", "--json", data_dir=demo).stdout)}


def test_demo_spend_flags_cite_contract_clauses_that_are_in_the_contracts(demo):
    flags = json.loads(cli("spend", "flags", "--json", data_dir=demo).stdout)
    kinds = {f["kind"] for f in flags}
    assert {"no_contract", "paid_early", "over_cap"} <= kinds
    for flag in flags:
        if flag["citation"]:
            c = flag["citation"]
            assert _quote_is_in_its_contract(demo, flag["contract_id"], c["start"], c["end"], c["quote"]), flag
    assert next(f for f in flags if f["kind"] == "no_contract")["supplier"] == "Shadow IT Cloud"


def test_demo_alerts_and_calendar(demo, tmp_path):
    import icalendar

    alerts = json.loads(cli("alerts", "--within", "120d", "--json", data_dir=demo).stdout)
    assert any(a["kind"] == "notice_deadline" and a["contract"] == "saas_cloudnimbus" for a in alerts)
    assert any(a["kind"] == "spend_flag" for a in alerts)
    nowhere = cli("alerts", "--send", data_dir=demo, check=False)
    assert nowhere.returncode == 2 and "nothing to send to" in nowhere.stderr  # asked to send, sent nothing
    dead = cli("alerts", "--send", data_dir=demo, check=False, env={"CLAUSEFLOW_ALERT_WEBHOOK": "http://127.0.0.1:9/hook"})
    assert dead.returncode == 1 and "webhook: failed" in dead.stderr
    assert cli("alerts", "--within", "soon", data_dir=demo, check=False).returncode == 2
    out = tmp_path / "deadlines.ics"
    cli("calendar", "--out", str(out), data_dir=demo)
    events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert "saas_cloudnimbus" in str(events[0]["SUMMARY"])  # licence_quanta's notice was given (test above)


def test_spend_import_reports_bad_rows_by_line_and_files_the_rest(demo, tmp_path):
    erp = tmp_path / "extra.csv"
    erp.write_text("supplier,po_number,invoice_number,date,amount,currency,description\n"
                   "CLOUDNIMBUS INC,,X-1,2026-11-01,10000,USD,extra seats\n"
                   "CLOUDNIMBUS INC,,X-2,not a date,10,USD,broken\n", encoding="utf-8")
    result = cli("spend", "import", str(erp), data_dir=demo, check=False)
    assert result.returncode == 2 and "extra.csv line 3: date" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout.startswith("1 new line(s) of 1 read")
    again = cli("spend", "import", str(erp), data_dir=demo, check=False)
    assert again.stdout.startswith("0 new line(s) of 1 read")  # the same export twice adds nothing
    assert cli("spend", "import", str(tmp_path / "missing.csv"), data_dir=demo, check=False).returncode == 2


def test_service_level_results_are_filed_against_the_counterpartys_contract_in_force(demo, tmp_path):
    from portfolio.repository import Repository

    results = tmp_path / "sla.csv"
    results.write_text("counterparty,period,sla_target,sla_actual,incidents\n"
                       "CloudNimbus Inc.,2026-09,99.9,99.95,0\n"
                       "CLOUDNIMBUS INC,2026-10,99.9,98.7,4\n"
                       "Nobody Ltd,2026-10,99.9,99.0,1\n"
                       "CloudNimbus Inc.,2026-13,99.9,99.0,1\n", encoding="utf-8")
    result = cli("performance", "import", str(results), data_dir=demo, check=False)
    assert result.returncode == 2 and "sla.csv line 5: period" in result.stderr  # a month that does not exist
    assert result.stdout.startswith("2 new service-level result(s) of 3 read")  # Nobody Ltd has no contract
    repository = Repository(demo / "portfolio.sqlite")
    cloud = repository.contracts_of("CloudNimbus Inc.")[0]
    assert [(p["period"], p["sla_actual"]) for p in repository.performance(cloud.contract_id)] == [("2026-09", 99.95), ("2026-10", 98.7)]
