"""The contract repository's parts: metadata and obligations read from contracts, search, contract-to-spend matching
and every flag kind, alerts with delivery, and the iCalendar feed."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
import pytest
from conftest import SAMPLES, run_agents

from agents.schema import ContractProfile, Party, Span
from document_io.models import Paragraph, SourceDocument
from portfolio.records import ClauseRecord, ContractRecord, Filing, Obligation, SpendLine, Supplier
from portfolio.repository import Repository

TODAY = date(2026, 11, 26)


def _document(text: str, name: str = "contract") -> SourceDocument:
    return SourceDocument(name=name, source_path=f"{name}.txt", format="txt", sha256=f"{abs(hash(text)):064d}"[:64],
                          text=text, paragraphs=[Paragraph(index=0, start=0, end=len(text), text=text)])


def _profile(our_side: str = "customer") -> ContractProfile:
    return ContractProfile(title="Services Agreement", contract_type="services", type_confidence=0.9,
                           parties=[Party(name="Acme Hosting Inc.", role="Provider"), Party(name="Northwind Systems", role="Customer", is_us=True)],
                           counterparty="Acme Hosting Inc.", our_side=our_side, inherent_risk="medium",
                           review_functions=["legal"], reasons=[])


# --- metadata -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample, expected", [
    ("msa_orion.docx", {"governing_law": "Texas", "not_to_exceed": 250000.0, "payment_terms_days": 10}),
    ("licence_quanta.docx", {"governing_law": "Germany", "value": 80000.0, "payment_terms_days": 30}),
    ("nda_bluepeak.docx", {"governing_law": "Cayman Islands", "value": None, "payment_terms_days": None}),
])
def test_metadata_is_read_from_real_sentences_and_each_fact_cites_its_span(sample, expected, engine):
    from agents.contract_metadata import read_metadata

    document, _, extraction, *_ = run_agents(SAMPLES / sample, engine)
    meta = read_metadata(document, extraction)
    for field, value in expected.items():
        assert getattr(meta, field) == value, field
        if value is not None:
            span = meta.citations[field]
            assert document.text[span.start:span.end] == span.quote  # every quote is in the source
    if sample == "msa_orion.docx":
        assert meta.liability_cap.startswith("the fees paid in the twelve (12) months")


def test_a_ceiling_on_expenses_is_not_the_not_to_exceed_and_a_carve_out_is_not_the_cap():
    from agents.contract_metadata import read_metadata
    from agents.schema import ExtractionResult

    carve_out = "Either party's liability is unlimited for breach of confidentiality."
    text = ("Customer shall reimburse the reasonable costs or expenses of the transfer agent, not to exceed $5,000. "
            "Total fees under this Agreement shall not exceed USD 90,000 in any contract year. " + carve_out)
    meta = read_metadata(_document(text), ExtractionResult(clauses=[]))
    assert meta.not_to_exceed == 90000.0 and meta.currency == "USD"
    assert meta.liability_cap == "uncapped" and meta.citations["liability_cap"].quote == carve_out
    capped = read_metadata(_document(text + " In no event shall Provider's aggregate liability exceed USD 1,000,000."),
                           ExtractionResult(clauses=[]))
    assert capped.liability_cap == "USD 1,000,000" and capped.liability_cap_amount == 1e6  # a carve-out beside a cap


# --- obligations ----------------------------------------------------------------------------------------


def test_obligations_name_who_owes_them_and_when_they_are_next_due():
    from agents.obligations import ObligationsInput, find_obligations
    from agents.schema import NegotiationBrief, RenewalTerms

    text = ("Provider shall make the Service available 99.9% of each calendar month. "
            "Provider shall deliver a service level report within ten (10) days after the end of each calendar quarter. "
            "Provider shall deliver certificates of insurance to Customer each year. "
            "Provider may invoice monthly and Customer shall pay each invoice within thirty (30) days of receipt. "
            "Provider shall notify Customer of any security breach within forty-eight (48) hours of becoming aware of it. "
            "Each party shall keep the other's Confidential Information secret. "
            "Provider warrants that the deliverables will conform to the specifications.")
    document = _document(text)
    terms = RenewalTerms(effective_date=date(2025, 3, 1), initial_term_months=24, auto_renews=True, renewal_term_months=12,
                         notice_days=60, notice_deadline=date(2026, 12, 31), notice_citation=Span.of(document, 0, 8))
    brief = NegotiationBrief(terms=terms, leverage_points=[], recommended_action="")
    found = {o.kind: o for o in find_obligations(ObligationsInput(document=document, profile=_profile(), brief=brief, today=TODAY))}
    assert found["sla"].owner_side == "them" and found["sla"].recurrence == "continuous" and found["sla"].due_date == date(2026, 11, 30)
    assert found["report"].recurrence == "quarterly" and found["report"].due_date == date(2027, 1, 10)  # Q4 ends 31 Dec, + 10 days
    assert found["insurance"].recurrence == "yearly" and found["insurance"].due_date == date(2027, 3, 1)  # the next anniversary
    assert found["payment"].owner_side == "us"  # "Provider may invoice … and Customer shall pay": the customer owes it
    assert found["notice"].due_date is None and found["notice"].recurrence == "on event"  # never dated by guesswork
    assert found["notice to terminate"].due_date == date(2026, 12, 31) and found["notice to terminate"].owner_side == "us"
    assert "deliverable" not in found  # a warranty is not a deliverable to chase
    for obligation in found.values():
        assert text[obligation.citation.start:obligation.citation.end] == obligation.citation.quote


# --- the repository and its search ----------------------------------------------------------------------


def _record(n: int, **fields) -> ContractRecord:
    text = fields.pop("clause_text", "The Provider's aggregate liability shall not exceed the fees paid in the prior twelve months.")
    base = dict(contract_id=f"{n:064d}", name=f"contract_{n}", source_file=f"contract_{n}.docx", origin="import",
                contract_type="saas", counterparty=f"Vendor {n} Inc.", status="executed", effective_date=date(2025, 1, 1),
                term_end=date(2027, 1, 15), auto_renews=True, notice_days=30, notice_deadline=date(2026, 12, 16),
                governing_law="New York", value=100000.0, currency="USD",
                clauses=[ClauseRecord(category="liability_cap", start=100, end=100 + len(text), text=text)],
                citations={"governing_law": Span(start=5, end=30, quote="governed by New York law.")})
    return ContractRecord.model_validate(base | fields)


@pytest.fixture
def repository(tmp_path, store) -> Repository:  # on each store: a SQLite file, and PostgreSQL
    return Repository(store.url or tmp_path / "portfolio.sqlite")


def test_a_plain_english_query_is_read_into_filters_and_clause_words():
    from portfolio.search import parse_query

    query = parse_query("uncapped liability in SaaS contracts renewing next quarter", TODAY)
    assert query.uncapped and query.contract_type == "saas" and query.words is None
    assert (query.term_end_from, query.term_end_to) == (date(2027, 1, 1), date(2027, 3, 31))
    query = parse_query("audit rights in licence agreements governed by Delaware law over $250k with Acme Corp", TODAY)
    assert (query.contract_type, query.governing_law, query.value_min, query.counterparty) == ("licence", "Delaware", 250000, "Acme Corp")
    assert query.topics == ["audit rights"] and query.words is None  # a clause kind: its words and its categories
    assert parse_query("expired NDAs", TODAY).status == "expired"


@pytest.mark.parametrize("text, read_as", [
    # a name is capitalised: "with applicable law" and "with respect to" are words, not a counterparty
    ("compliance with applicable law", {"words": "compliance applicable law"}),
    ("indemnification with respect to third party claims", {"topics": ["indemnification"], "words": "third party claims"}),
    ("governed by English law", {"governing_law": "England"}),  # filed as "England and Wales"
    ("UK law NDAs", {"governing_law": "England", "contract_type": "nda"}),
    ("NY law contracts", {"governing_law": "New York"}),
    ("contracts with IBM", {"counterparty": "IBM"}),
    ("MFN clauses", {"topics": ["most favoured nation"]}),
    ("change of control in supply agreements", {"topics": ["change of control"], "contract_type": "supply"}),
    ("Governing law clauses", {"topics": ["governing law"]}),
])
def test_a_query_reads_filters_only_from_their_real_forms(text, read_as):
    from portfolio.search import parse_query

    assert parse_query(text, TODAY).read_as() == read_as


def test_a_counterparty_is_found_by_short_name_initials_and_the_supplier_masters_aliases(repository):
    from portfolio.search import ContractQuery, search_contracts

    repository.file_many([Filing(record=_record(31, counterparty="International Business Machines Corporation")),
                          Filing(record=_record(32, counterparty="Acme Hosting Inc.")),
                          Filing(record=_record(33, counterparty="Acmeco Ltd"))])
    repository.upsert_suppliers([Supplier(supplier_id="S9", name="Acme Hosting Inc.", aliases=["Roadrunner Cloud"])])
    names = lambda who: {h.contract.name for h in search_contracts(repository, ContractQuery(counterparty=who), TODAY)}  # noqa: E731
    assert names("IBM") == {"contract_31"} and names("International Business Machines") == {"contract_31"}
    assert names("Acme") == {"contract_32"}  # a short name is whole words: not "Acmeco"
    assert names("Roadrunner Cloud") == {"contract_32"}  # the supplier master's alias
    assert names("Machines") == {"contract_31"} and names("Globex") == set()


def test_search_filters_and_words_find_the_right_contracts_and_cite_clause_spans(repository):
    from portfolio.search import ContractQuery, parse_query, search_contracts

    repository.file_many([Filing(record=r) for r in [
        _record(1),
        _record(2, contract_type="nda", term_end=date(2027, 2, 20), governing_law="Delaware", value=20000.0),
        _record(3, liability_cap="uncapped", term_end=date(2027, 2, 1), citations={
            "liability_cap": Span(start=0, end=20, quote="liability: unlimited")}),
        _record(4, term_end=date(2024, 6, 30), auto_renews=False, clause_text="Audit rights once a year on notice."),
        _record(5, liability_cap="uncapped", term_end=date(2028, 5, 1)),
    ]])
    hits = search_contracts(repository, parse_query("uncapped liability in SaaS contracts renewing next quarter", TODAY), TODAY)
    assert [h.contract.name for h in hits] == ["contract_3"]
    assert (hits[0].category, hits[0].start, hits[0].end) == ("liability_cap", 0, 20)
    words = search_contracts(repository, ContractQuery(words="liabilities aggregate"), TODAY)
    assert {h.contract.name for h in words} == {"contract_1", "contract_2", "contract_3", "contract_5"}
    assert all("[liability]" in h.snippet.lower() and h.category == "liability_cap" for h in words)
    assert [h.contract.name for h in search_contracts(repository, ContractQuery(status="expired"), TODAY)] == ["contract_4"]
    assert [h.contract.name for h in search_contracts(repository, ContractQuery(governing_law="delaware"), TODAY)] == ["contract_2"]
    assert {h.contract.name for h in search_contracts(repository, ContractQuery(value_max=50000), TODAY)} == {"contract_2"}
    assert {h.contract.name for h in search_contracts(repository, ContractQuery(counterparty="vendor 4"), TODAY)} == {"contract_4"}
    assert search_contracts(repository, ContractQuery(words='liability" OR NEAR('), TODAY) == []  # words, never FTS syntax
    assert len(search_contracts(repository, ContractQuery(words='"liability" aggregate*'), TODAY)) == 4
    assert search_contracts(repository, ContractQuery(words="teleportation"), TODAY) == []


def test_refiling_replaces_clauses_and_open_obligations_but_keeps_what_people_decided(repository):
    record = _record(7)
    span = Span(start=0, end=10, quote="Provider s")
    obligations = [Obligation(obligation_id=f"o{n}", contract_id=record.contract_id, kind="report", owner_side="them",
                              summary=f"report {n}", citation=span, due_date=date(2026, 12, n + 1)) for n in range(3)]
    repository.file(Filing(record=record, obligations=obligations))
    repository.mark_obligation("o0", "missed", "Pat Buyer", "no report in November")
    repository.set_status(record.contract_id, "terminated")
    repository.file(Filing(record=record, obligations=obligations[1:2]))  # re-filed: o2 is no longer found
    assert [c.category for c in repository.contract(record.contract_id).clauses] == ["liability_cap"]  # not doubled
    assert {o.obligation_id: o.status for o, _ in repository.obligations(TODAY, status=None)} == {"o0": "missed", "o1": "open"}
    assert repository.contract(record.contract_id).status == "terminated"  # a person's status survives re-filing
    history = repository.obligation_history("o0")
    assert history[0]["who"] == "Pat Buyer" and history[0]["status"] == "missed" and history[0]["note"] == "no report in November"
    with pytest.raises(ValueError):
        repository.mark_obligation("o1", "forgotten", "Pat Buyer")


# --- contract-to-spend -----------------------------------------------------------------------------------


def _spend_portfolio(repository: Repository) -> dict[str, str]:
    cite = lambda field, quote: {field: Span(start=0, end=len(quote), quote=quote)}  # noqa: E731
    records = {
        "hosting": _record(11, counterparty="Acme Hosting Inc.", effective_date=date(2025, 1, 1), term_end=date(2026, 12, 31),
                           auto_renews=False, not_to_exceed=50000.0, payment_terms_days=45, price_escalator_pct=3.0,
                           po_numbers=["PO-7731"], citations=cite("not_to_exceed", "fees shall not exceed USD 50,000")
                           | cite("payment_terms_days", "within forty-five (45) days") | cite("price_escalator_pct", "3% a year")),
        "old": _record(12, counterparty="Globex Ltd", effective_date=date(2023, 1, 1), term_end=date(2025, 12, 31),
                       auto_renews=False, citations=cite("expiration_date", "until December 31, 2025")),
        "minimum": _record(13, counterparty="Initech GmbH", effective_date=date(2024, 1, 1), term_end=date(2027, 12, 31),
                           minimum_commitment=100000.0, citations=cite("minimum_commitment", "minimum purchase of USD 100,000")),
    }
    sla = Span(start=0, end=26, quote="available 99.9% each month")
    repository.file_many([Filing(record=r, obligations=[Obligation(
        obligation_id=f"{r.contract_id[:6]}-sla", contract_id=r.contract_id, kind="sla", owner_side="them", summary="sla",
        citation=sla, recurrence="continuous")] if key == "hosting" else []) for key, r in records.items()])
    repository.upsert_suppliers([Supplier(supplier_id="S1", name="Acme Hosting Inc.", aliases=["ACME HOSTING", "Acme Cloud Services"]),
                                 Supplier(supplier_id="S2", name="Globex Ltd", aliases=["GLOBEX"])])
    repository.set_performance(records["hosting"].contract_id, [("2026-09", 99.9, 99.95, 0), ("2026-10", 99.9, 99.2, 3)])
    return {k: r.contract_id for k, r in records.items()}


def test_spend_lines_match_contracts_by_po_number_alias_and_dates_and_every_flag_kind_is_raised(repository):
    from portfolio.spend import match_and_flag

    ids = _spend_portfolio(repository)
    line = lambda **f: SpendLine.model_validate({"kind": "invoice", "currency": "USD", "amount": 1000.0} | f)  # noqa: E731
    lines = [
        line(supplier="ACME CLOUD SERVICES", invoice_number="A-1", date=date(2025, 2, 1), amount=30000.0, paid_date=date(2025, 2, 10),
             item="hosting units", unit_price=10.0),  # alias; paid 9 days after invoice on 45-day terms
        line(supplier="Someone Else", po_number="PO-7731", invoice_number="A-2", date=date(2025, 6, 1), amount=25000.0,
             item="hosting units", unit_price=10.0),  # the PO number the contract names wins over the supplier name
        line(supplier="Acme Hosting", invoice_number="A-3", date=date(2026, 3, 1), item="hosting units", unit_price=11.5),  # > 3%
        line(supplier="GLOBEX", invoice_number="G-1", date=date(2026, 2, 1), amount=4000.0),  # after the contract ended
        line(supplier="Initech GmbH", invoice_number="I-1", date=date(2025, 5, 1), amount=40000.0),  # 2025 under 100,000
        line(supplier="Umbrella Corp", invoice_number="U-1", date=date(2026, 1, 5), amount=700.0),  # no contract at all
    ]
    assert repository.add_spend(lines) == 6 and repository.add_spend(lines) == 0  # the same export twice adds nothing
    total, matched, flags = match_and_flag(repository, TODAY)
    assert (total, matched) == (6, 5)
    kinds = {f.kind: f for f in flags}
    assert set(kinds) == {"no_contract", "after_expiry", "over_cap", "price_above_escalator", "paid_early", "under_minimum", "sla_miss"}
    assert kinds["no_contract"].supplier == "Umbrella Corp"
    assert kinds["after_expiry"].contract_id == ids["old"] and "ended on 2025-12-31" in kinds["after_expiry"].detail
    assert kinds["over_cap"].contract_id == ids["hosting"] and "55,000.00" in kinds["over_cap"].detail
    assert "allows 3% a year" in kinds["price_above_escalator"].detail
    assert "paid 9 days after invoice; the contract gives 45 days" in kinds["paid_early"].detail
    assert "2025: invoiced USD 40,000.00, under the minimum commitment" in kinds["under_minimum"].detail
    assert "2026-10: 99.2% against 99.9%" in kinds["sla_miss"].detail
    for kind in ("after_expiry", "over_cap", "price_above_escalator", "paid_early", "under_minimum", "sla_miss"):
        assert kinds[kind].citation is not None, kind  # each flag cites the clause that sets the term
    with repository.read() as db:
        reasons = dict(db.execute("SELECT invoice_number, match_reason FROM spend_lines").fetchall())
    assert reasons["A-2"].startswith("PO PO-7731") and "in force" in reasons["A-1"] and reasons["U-1"] is None


def test_an_erp_export_with_bad_rows_reports_each_by_line_and_keeps_the_good_ones(tmp_path):
    from portfolio.spend import read_erp_csv

    path = tmp_path / "erp.csv"
    path.write_text("supplier,po_number,invoice_number,date,amount,currency,description\n"
                    "Acme,PO-1,INV-1,2026-01-05,\"1,250.00\",USD,hosting\n"
                    "Acme,PO-1,INV-2,05/01/2026x,100,USD,bad date\n"
                    "Acme,PO-1,INV-3,2026-02-05,lots,USD,bad amount\n", encoding="utf-8")
    lines, problems = read_erp_csv(path)
    assert [l.invoice_number for l in lines] == ["INV-1"] and lines[0].amount == 1250.0 and lines[0].kind == "invoice"
    assert [p.line for p in problems] == [3, 4] and "date" in problems[0].reason and "amount" in problems[1].reason


def test_spend_flags_hold_up_whatever_matched_the_line_and_never_add_two_currencies(repository, tmp_path):
    """Each case a contract manager found: a PO-matched invoice after expiry, the export's own line and invoice
    numbers, an invoice booked twice in one file, EUR added into a USD total, a currency with no stated rate."""
    from portfolio.spend import match_and_flag, read_erp_csv, reporting_rates

    ids = _spend_portfolio(repository)
    path = tmp_path / "erp.csv"
    path.write_text("supplier,po_number,invoice_number,date,amount,currency,description\n"
                    "Acme Hosting Inc.,PO-7731,H-1,2026-03-01,30000,USD,hosting\n"             # line 2
                    "Acme Hosting Inc.,PO-7731,H-2,2026-04-01,20000,EUR,hosting (EUR)\n"       # line 3: 21,600 USD
                    "Someone Else,PO-7731,H-9,2027-02-01,1000,USD,after the end, by PO\n"      # line 4
                    "Umbrella Corp,,U-7,2026-05-01,500,USD,no contract\n"                      # line 5
                    "Umbrella Corp,,U-8,2026-05-02,3200,EUR,no contract (EUR)\n"               # line 6
                    "Initech GmbH,,I-5,2026-06-01,800,USD,twice\n"                             # line 7
                    "Initech GmbH,,I-5,2026-06-01,800,USD,twice\n"                             # line 8
                    "Initech GmbH,,I-6,2026-06-03,5000000,SEK,no rate\n", encoding="utf-8")    # line 9
    lines, problems = read_erp_csv(path, reporting_rates())
    assert [p.line for p in problems] == [9] and "'SEK' has no stated rate" in problems[0].reason
    assert repository.add_spend(lines, reporting_rates()) == 7  # the identical pair is kept, not collapsed
    assert repository.add_spend(lines, reporting_rates()) == 0  # and the same export again adds nothing
    _, _, flags = match_and_flag(repository, TODAY)
    by_kind: dict[str, list] = {}
    for flag in flags:
        by_kind.setdefault(flag.kind, []).append(flag)
    late = next(f for f in by_kind["after_expiry"] if f.contract_id == ids["hosting"])  # matched by its PO number
    assert late.source == "erp.csv line 4, invoice H-9" and "ended on 2026-12-31" in late.detail
    duplicate = by_kind["duplicate_line"][0]
    assert duplicate.source == "erp.csv line 7, invoice I-5" and "lines 7, 8" in duplicate.detail
    over = next(f for f in by_kind["over_cap"] if f.contract_id == ids["hosting"])  # 30,000 USD + 20,000 EUR > 50,000 USD
    assert "USD 51,600.00 at the stated rates" in over.detail and over.source == "erp.csv line 3, invoice H-2"
    stray = next(f for f in by_kind["no_contract"] if f.supplier == "Umbrella Corp")
    assert "USD 3,956.00 at the stated rates (from EUR, USD)" in stray.detail and "3,700" not in stray.detail
    assert all("ERP line" not in f.detail for f in flags)


# --- alerts and the calendar feed ------------------------------------------------------------------------


def _alerting(repository: Repository) -> None:
    _spend_portfolio(repository)
    record = _record(21, name="hosting renewal", notice_deadline=date(2026, 12, 10), term_end=date(2027, 1, 9))
    due = Obligation(obligation_id="rep-1", contract_id=record.contract_id, kind="report", owner_side="them",
                     summary="report: quarterly service report", citation=Span(start=0, end=4, quote="Prov"), due_date=date(2026, 12, 1))
    late = due.model_copy(update={"obligation_id": "ins-1", "kind": "insurance", "summary": "insurance: certificate",
                                  "due_date": date(2026, 11, 1)})
    repository.file(Filing(record=record, obligations=[due, late]))


def test_alerts_list_deadlines_obligations_and_flags_and_reach_a_webhook(repository, monkeypatch):
    from portfolio.alerts import collect_alerts, deliver
    from portfolio.spend import match_and_flag

    _alerting(repository)
    repository.add_spend([SpendLine(kind="invoice", supplier="Umbrella Corp", invoice_number="U-1", date=date(2026, 1, 5), amount=700.0)])
    match_and_flag(repository, TODAY)
    alerts = collect_alerts(repository, TODAY, 30)
    kinds = [(a.kind, a.contract) for a in alerts]
    assert ("notice_deadline", "hosting renewal") in kinds and ("obligation_due", "hosting renewal") in kinds
    assert ("obligation_overdue", "hosting renewal") in kinds and any(k == "spend_flag" for k, _ in kinds)
    assert next(a for a in alerts if a.kind == "notice_deadline").days_left == 14

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("CLAUSEFLOW_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    results = deliver(alerts, TODAY)
    server.server_close()
    assert [(r.target, r.ok) for r in results] == [("webhook", True)]
    assert received[0]["date"] == "2026-11-26" and len(received[0]["alerts"]) == len(alerts)
    monkeypatch.setenv("CLAUSEFLOW_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    failed = deliver(alerts, TODAY)
    assert failed[0].ok is False and failed[0].detail  # reported, never raised


def test_the_notice_calendar_is_valid_icalendar_with_one_event_per_deadline(repository):
    import icalendar

    from portfolio.alerts import notice_calendar

    _alerting(repository)
    repository.file(Filing(record=_record(22, name="Ünïcødé, Ltd; long name " + "x" * 80, term_end=date(2027, 3, 3))))
    feed = notice_calendar(repository, TODAY)
    assert feed.endswith("\r\n") and "\n" not in feed.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in feed.split("\r\n"))  # folded at 75 octets (RFC 5545 3.1)
    calendar = icalendar.Calendar.from_ical(feed)
    events = [c for c in calendar.walk("VEVENT")]
    # the two above and one of _spend_portfolio's three: Globex's contract expired and Acme's ends without renewing,
    # so neither has a notice to give; Initech's renews at the end of 2027 (30 days' notice)
    assert [e.decoded("DTSTART") for e in events] == [date(2026, 12, 10), date(2027, 2, 1), date(2027, 12, 1)]
    assert str(events[1]["SUMMARY"]) == "Notice deadline: Ünïcødé, Ltd; long name " + "x" * 80  # escaped and unfolded back
    assert len({str(e["UID"]) for e in events}) == 3 and all(e.walk("VALARM") for e in events)
    assert notice_calendar(repository, TODAY).split("DTSTAMP")[0] == feed.split("DTSTAMP")[0]  # stable UIDs and order
    # a name from a hostile file cannot start a property of its own: a bare CR, a NUL, a planted line
    repository.file(Filing(record=_record(23, name="evil\rATTENDEE:mailto:x@example.com\x00\nEND:VCALENDAR",
                                          term_end=date(2027, 3, 31))))
    hostile = notice_calendar(repository, TODAY)
    assert "\r" not in hostile.replace("\r\n", "") and "\x00" not in hostile
    assert not any(line.startswith(("ATTENDEE", "END:VCALENDAR")) for line in hostile.split("\r\n")[:-2])
    assert len(icalendar.Calendar.from_ical(hostile).walk("VEVENT")) == 4


def test_the_demo_data_is_deterministic(tmp_path):
    from portfolio.demo import write_erp_export

    records = [_record(31, counterparty="Acme Hosting Inc.", not_to_exceed=60000.0, payment_terms_days=30),
               _record(32, counterparty="Globex Ltd", term_end=date(2023, 1, 1), auto_renews=False)]
    for run in ("a", "b"):
        write_erp_export(records, tmp_path / f"{run}.csv", TODAY)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    text = (tmp_path / "a.csv").read_text()
    assert "extra work billed (planted)" in text and "Shadow IT Cloud" in text and "GLOBEX LTD" in text



# --- search by meaning ---------------------------------------------------------------------------------------

_FILE_ONE = """
import sys
from datetime import date
from pathlib import Path
from portfolio.clause_vectors import ClauseVectors
from portfolio.records import ClauseRecord, ContractRecord, Filing
from portfolio.repository import Repository
folder = Path(sys.argv[1])
repository = Repository(folder / "portfolio.sqlite")
text = "Licensee shall own all improvements and derivative works it develops to the licensed software."
repository.file(Filing(record=ContractRecord(contract_id="f" * 64, name="licence_from_another_process", source_file="x.docx",
    origin="import", contract_type="licence", counterparty="Other Process GmbH",
    clauses=[ClauseRecord(category="ip_ownership", start=0, end=len(text), text=text)])))
print(ClauseVectors(folder / "portfolio_chroma").catch_up(repository))
"""


def test_search_by_meaning_finds_paraphrases_applies_filters_and_sees_other_processes_writes(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    from portfolio.clause_vectors import ClauseVectors
    from portfolio.search import ContractQuery, search_by_meaning

    repository = Repository(tmp_path / "portfolio.sqlite")
    repository.file_many([Filing(record=r) for r in [
        _record(41, clause_text="In no event shall the Supplier's total liability exceed the fees paid in the prior year."),
        _record(42, contract_type="nda", clause_text="The Recipient shall keep the Discloser's information strictly confidential."),
        _record(43, contract_type="nda", clause_text="Either party may terminate this Agreement for convenience on ninety days notice."),
    ]])
    vectors = ClauseVectors(tmp_path / "portfolio_chroma")  # long-lived, like the web server's
    hits = search_by_meaning(repository, vectors, ContractQuery(words="maximum financial exposure of the vendor"), TODAY)
    assert hits[0].contract.name == "contract_41" and hits[0].similarity > 0.35
    assert hits[0].snippet == repository.contract(hits[0].contract.contract_id).clauses[0].text  # cites the clause itself
    ndas = search_by_meaning(repository, vectors, ContractQuery(words="secrecy of shared information", contract_type="nda"), TODAY)
    assert ndas[0].contract.name == "contract_42" and {h.contract.contract_type for h in ndas} == {"nda"}
    assert repository.stale_vectors() == []
    another = subprocess.run([sys.executable, "-c", _FILE_ONE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert another.returncode == 0 and another.stdout.split()[-1] == "1", another.stderr[-2000:]
    owned = search_by_meaning(repository, vectors, ContractQuery(words="who owns enhancements to licensed software"), TODAY)
    assert owned[0].contract.name == "licence_from_another_process"  # the earlier reader sees the other process's write
    refiled = _record(43, contract_type="nda", clause_text="Payment is due within thirty days of the invoice date.")
    repository.file(Filing(record=refiled))  # re-filed with other clauses: its old vectors go
    again = search_by_meaning(repository, vectors, ContractQuery(words="terminate for convenience"), TODAY)
    assert "contract_43" not in [h.contract.name for h in again if "terminate" in h.snippet.lower()]


# --- renewal leverage from the portfolio ------------------------------------------------------------------------


def test_the_leverage_brief_draws_on_spend_flags_service_levels_escalators_and_alternatives(repository):
    from portfolio.leverage import leverage_brief
    from portfolio.spend import match_and_flag

    ids = _spend_portfolio(repository)
    hosting = repository.contract(ids["hosting"])
    repository.file(Filing(record=hosting.model_copy(update={"title": "Managed cloud hosting services agreement"})))
    repository.file_many([Filing(record=_record(51, counterparty="Hooli Cloud Inc.", contract_type="saas", price_escalator_pct=2.0,
                                                title="Cloud hosting agreement for managed web servers")),
                          Filing(record=_record(52, counterparty="Expired Host Ltd", term_end=date(2024, 1, 1), auto_renews=False,
                                                title="Cloud hosting agreement")),
                          # the same contract type, another trade: no alternative to a hosting provider
                          Filing(record=_record(53, counterparty="Green Leaf Naturopathy Ltd", contract_type="saas",
                                                title="Naturopathic clinic appointment booking subscription"))])
    repository.add_spend([SpendLine(kind="invoice", supplier="ACME HOSTING", invoice_number=f"H-{n}", date=day, amount=amount)
                          for n, (day, amount) in enumerate([(date(2025, 3, 1), 10000.0), (date(2026, 3, 1), 30000.0)])])
    match_and_flag(repository, TODAY)
    brief = leverage_brief(repository, repository.contract(ids["hosting"]), TODAY)
    assert (brief.spend_last_12m, brief.spend_prior_12m, brief.spend_trend_pct) == (30000.0, 10000.0, 200.0)
    assert (brief.sla_misses_12m, brief.sla_periods_12m) == (1, 2)
    assert brief.escalator_pct == 3.0 and brief.escalator_median_same_type == 2.5  # the saas contracts: 3% and 2%
    names = [a.counterparty for a in brief.alternatives]
    assert "Hooli Cloud Inc." in names and "Expired Host Ltd" not in names and "Acme Hosting Inc." not in names
    assert "Green Leaf Naturopathy Ltd" not in names
    text = " ".join(brief.points)
    assert "missed in 1 of the last 2 months" in text and "up 200%" in text and "above the median" in text
    assert "Hooli Cloud Inc." in text


def test_alerts_are_mailed_through_an_smtp_server(repository, monkeypatch):
    """A real SMTP conversation over TCP (a minimal server in a thread) with the standard library's client."""
    import socketserver

    from portfolio.alerts import collect_alerts, deliver

    received: list[str] = []

    class Smtp(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 test ESMTP\r\n")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    self.wfile.write(b"354 go ahead\r\n")
                    body = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        body += chunk
                    received.append(body.decode())
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.TCPServer(("127.0.0.1", 0), Smtp)
    threading.Thread(target=server.handle_request, daemon=True).start()
    _alerting(repository)
    for name, value in {"CLAUSEFLOW_SMTP_HOST": "127.0.0.1", "CLAUSEFLOW_SMTP_PORT": str(server.server_address[1]),
                        "CLAUSEFLOW_SMTP_TO": "legal-ops@example.com"}.items():
        monkeypatch.setenv(name, value)
    results = deliver(collect_alerts(repository, TODAY, 30), TODAY)
    server.server_close()
    assert [(r.target, r.ok) for r in results] == [("smtp", True)]
    assert "To: legal-ops@example.com" in received[0] and "hosting renewal" in received[0]
    assert "Subject: Clauseflow:" in received[0] and "contract alert(s) for 2026-11-26" in received[0]
