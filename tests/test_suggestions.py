"""Suggestions a lawyer can accept: units right, our side honoured, rules only on the clauses they govern, "missing"
only when missing, every automatic edit re-checked against its own rule, inserted clauses placed and styled like
the contract's own."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from conftest import SAMPLES
from document_io.wordml import W_NS


def review(document, engine, our_names=("Northwind Systems",), library=None):
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines

    if library is not None:
        from model_backends.local_engine import LocalEngine

        shared = engine
        engine = LocalEngine(shared.data_dir, library=library)  # the same Chroma store: only a rule's values differ
        engine.__dict__["store"] = shared.store
    profile = classify(ClassifierInput(document=document, our_names=list(our_names)))
    extraction = extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    return profile, compliance, redlines


def _load(path: Path):
    from document_io.loader import load_document

    return load_document(path)


def _from_paragraphs(tmp_path: Path, name: str, paragraphs: list[str], table_rows: list[tuple[str, str]] = ()) -> Path:
    word = docx.Document()
    for text in paragraphs:
        if text == "<table>":
            table = word.add_table(rows=0, cols=2)
            for left, right in table_rows:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = left, right
        elif text.isupper() and len(text) < 60:
            word.add_heading(text, level=1)
        else:
            word.add_paragraph(text)
    path = tmp_path / f"{name}.docx"
    word.save(path)
    return path


# --- units --------------------------------------------------------------------------------------------


def test_breach_notice_in_days_is_redlined_to_the_playbooks_48_hours(engine):
    _, _, redlines = review(_load(SAMPLES / "saas_cloudnimbus.docx"), engine)
    breach = next(s for s in redlines.suggestions if s.category == "data_protection")
    assert "forty-eight (48) hours" in breach.proposed_text and "(48) days" not in breach.proposed_text


def test_notice_in_years_and_months_is_measured_and_rewritten_in_days(engine, tmp_path):
    path = _from_paragraphs(tmp_path, "services", [
        "SERVICES AGREEMENT",
        'This Services Agreement is made between Northwind Systems, Inc. (the "Customer") and Acme Works Ltd (the "Supplier").',
        "1. Services. The Supplier shall provide the consulting services described in the statement of work.",
        "2. Term. The Customer may terminate this Agreement for convenience by giving two (2) years written notice to the Supplier.",
        "3. Renewal. This Agreement renews automatically unless either party gives notice of non-renewal at least six (6) months prior to the end of the then-current term.",
        "4. Governing Law. This Agreement is governed by the laws of the State of New York.",
    ])
    _, _, redlines = review(_load(path), engine)
    by_category = {s.category: s for s in redlines.suggestions}
    convenience = by_category["termination_for_convenience"]
    assert "thirty (30) days" in convenience.proposed_text and "years" not in convenience.proposed_text.split("giving")[1][:25]
    renewal = by_category["renewal_notice"]
    assert "sixty (60) days" in renewal.proposed_text and "(60) months" not in renewal.proposed_text


# --- our side ------------------------------------------------------------------------------------------


def test_with_our_names_set_to_the_other_party_no_edit_works_against_us(engine):
    document = _load(SAMPLES / "saas_cloudnimbus.docx")
    profile, compliance, redlines = review(document, engine, our_names=["CloudNimbus Inc."])
    assert profile.our_side == "supplier" and profile.counterparty.startswith("Northwind")
    categories = {s.category for s in redlines.suggestions}
    # as customer the review raises the supplier's cap and adds an indemnity from the supplier; as supplier, never
    assert "liability_cap" not in categories and "indemnification" not in categories
    assert not any(f.rule_id and f.rule_id.endswith(("min_months_fees", "min_days")) for f in compliance.findings)
    customer_view = {s.category for s in review(document, engine)[2].suggestions}
    assert {"liability_cap", "indemnification"} <= customer_view


def test_a_supplier_rule_moves_our_own_cap_down_not_up(engine, tmp_path):
    path = _from_paragraphs(tmp_path, "hosting", [
        "MASTER SERVICES AGREEMENT",
        'This Master Services Agreement is made between Northwind Systems, Inc. (the "Supplier") and Blue Client LLC (the "Customer").',
        "1. Services. The Supplier shall provide hosting services to the Customer as set out in each order.",
        "2. Liability. The Supplier's total aggregate liability shall not exceed the fees paid by the Customer in the forty-eight (48) months preceding the claim.",
        "3. Governing Law. This Agreement is governed by the laws of the State of Delaware.",
    ])
    profile, _, redlines = review(_load(path), engine)
    assert profile.our_side == "supplier"
    cap = next(s for s in redlines.suggestions if s.category == "liability_cap")
    assert "twelve (12) months" in cap.proposed_text  # down from 48, toward the supplier's position


def test_unknown_side_raises_one_question_and_makes_no_side_dependent_edit(engine):
    _, compliance, redlines = review(_load(SAMPLES / "saas_cloudnimbus.docx"), engine, our_names=["Nobody Holdings"])
    assert [f.category for f in compliance.findings].count("our_side") == 1
    from clause_library.playbook import default_library

    side_rules = {r.id for c in default_library().categories.values() for r in c.playbook.rules if r.side != "any"}
    assert not any(f.rule_id in side_rules for f in compliance.findings)
    question = next(s for s in redlines.suggestions if s.category == "our_side")
    assert question.kind == "flag" and not question.edits


# --- a clause is what it governs -------------------------------------------------------------------------


def test_rules_fire_only_on_what_they_govern():
    from clause_library.playbook import default_library
    from clause_library.rule_engine import evaluate

    library = default_library()
    cap = next(r for r in library.get("liability_cap").playbook.rules if r.id == "liability_cap.min_months_fees")
    payment = next(r for r in library.get("payment_terms").playbook.rules if r.id == "payment_terms.min_days")
    claim = "A Party shall pay to the other Party the amount of any paid claim within forty five (45) days of demand."
    assert evaluate(cap, claim) == []  # a payment of a claim is not a cap on liability
    delivery = "Invoices shall be delivered to the address set out in Schedule 2 within three (3) days of shipment."
    assert evaluate(payment, delivery) == []  # delivering an invoice is not a payment term
    assert evaluate(payment, "The Customer shall pay each invoice within ten (10) days of receipt.")[0].position == "walk_away"


@pytest.mark.parametrize("clause, normalised", [
    ("This Agreement shall be construed in accordance with English law.", "england"),
    ("This Agreement is governed by the laws of England and Wales.", "england and wales"),
    ("The validity of this Agreement shall be governed by German law.", "germany"),
    ("governed by and construed under the laws of the State of New York, without regard to conflicts", "new york"),
])
def test_governing_law_is_recognised_however_it_is_phrased(clause, normalised):
    from document_io.legal_text import find_jurisdiction

    assert find_jurisdiction(clause).normalised == normalised


# --- missing only when missing, insertion placed like the contract's own ---------------------------------


def test_english_law_in_a_schedule_is_not_missing_and_royalty_free_needs_no_payment_terms(engine, tmp_path):
    path = _from_paragraphs(tmp_path, "licence", [
        "SOFTWARE LICENSE AGREEMENT",
        'This Software License Agreement is made between Quanta Labs Ltd (the "Licensor") and Northwind Systems, Inc. (the "Licensee").',
        "1. Grant. The Licensor grants the Licensee a perpetual, worldwide, royalty-free licence to use the Software.",
        "2. Fees. No royalty or fees of any kind shall be owed by the Licensee for the licence granted in clause 1.",
        "3. Confidentiality. Each party shall keep the other party's confidential information confidential for five (5) years.",
        "IN WITNESS WHEREOF the parties have signed this Agreement.",
        "SCHEDULE 1 - GENERAL TERMS",
        "This Agreement shall be construed in accordance with English law and the courts of England shall have jurisdiction.",
    ])
    _, compliance, _ = review(_load(path), engine)
    missing = {f.category for f in compliance.findings if f.position == "missing"}
    assert "governing_law" not in missing and "payment_terms" not in missing


def test_an_inserted_clause_goes_after_the_last_body_section_numbered_plain_and_in_the_contracts_terms(engine, tmp_path):
    from graphs.finalization import changes_for
    from agents.schema import Decision
    from datetime import datetime, timezone
    from document_io.docx_redline import write_tracked_changes

    path = _from_paragraphs(tmp_path, "subscription", [
        "SUBSCRIPTION AGREEMENT",
        'This Subscription Agreement is made between CloudCo Ltd (the "Provider") and Northwind Systems, Inc. (the "Subscriber").',
        "1. Subscription. The Provider grants the Subscriber access to the hosted service for its internal business purposes.",
        "2. Fees. The Subscriber shall pay the fees within forty-five (45) days of receipt of a valid invoice.",
        "3. Governing Law. This Agreement is governed by the laws of the State of Delaware.",
        "<table>",
        "Signed for and on behalf of CloudCo Ltd",
        "SCHEDULE 1 - SERVICE DESCRIPTION",
        "The hosted service is available from the Provider's data centres in the European Union at all times.",
    ], table_rows=[("Service", "Hosted analytics platform with a long description of the service levels offered"),
                   ("Support", "Business hours e-mail support with a response within one business day")])
    document = _load(path)
    profile, _, redlines = review(document, engine)
    inserts = [s for s in redlines.suggestions if s.kind == "insert"]
    assert inserts, "the subscription lacks required clauses (e.g. an assignment clause)"
    anchor_text = document.paragraph_at(inserts[0].citation.start).text
    assert anchor_text.startswith("3. Governing Law")  # the last body section: not the table, signature or schedule
    numbers = [int(re.match(r"(\d+)\. [A-Z]", s.insertion.text).group(1)) for s in inserts]
    assert numbers == list(range(4, 4 + len(inserts)))  # continues "1. 2. 3." with 4., 5., …
    assert not any(re.search(r"\b[Tt]he the\b", s.insertion.text) for s in inserts)
    assert not any(re.search(r"\bSupplier\b|\bCustomer\b", s.insertion.text) for s in inserts)
    assert any(re.search(r"\bProvider\b|\bSubscriber\b", s.insertion.text) for s in inserts)

    decisions = {s.id: Decision(suggestion_id=s.id, action="approve" if s.kind == "insert" else "reject", reviewer="Ann",
                                decided_at=datetime.now(timezone.utc)) for s in redlines.suggestions}
    edits, insertions = changes_for(redlines.suggestions, decisions)
    redlined = write_tracked_changes(path.read_bytes(), document, edits, insertions, author="Ann", when=datetime.now(timezone.utc))
    with zipfile.ZipFile(io.BytesIO(redlined)) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    w = f"{{{W_NS}}}"
    body = root.find(f"{w}body")
    inserted = [p for p in root.iter(f"{w}p") if p.find(f"{w}ins") is not None]
    assert len(inserted) == len(inserts)
    for paragraph in inserted:
        assert paragraph.getparent() is body  # never inside a table cell
        assert not paragraph.findall(f".//{w}rPr/{w}b") and not paragraph.findall(f".//{w}vanish")
    order = [("".join(p.itertext()))[:25] for p in body.iter(f"{w}p")]
    first = order.index(("".join(inserted[0].itertext()))[:25])
    assert order[first - 1].startswith("3. Governing Law") and first < order.index("Signed for and on behalf ")


# --- every automatic edit is re-checked ---------------------------------------------------------------


def test_an_edit_that_would_not_improve_the_term_is_withheld_and_counted(engine, monkeypatch):
    """Re-create the old defect (the playbook's number written in the contract's unit: "48 days" for a 48-hour rule)
    and check that the re-check stops it before a human sees it."""
    import clause_library.rule_engine as rule_engine

    written_in_contract_unit = rule_engine.format_duration
    monkeypatch.setattr(rule_engine, "format_duration", lambda value, like, unit=None: written_in_contract_unit(value, like))
    _, _, redlines = review(_load(SAMPLES / "saas_cloudnimbus.docx"), engine)
    breach = next(s for s in redlines.suggestions if s.category == "data_protection")
    assert breach.kind == "flag" and not breach.edits and "withheld" in breach.rationale
    assert "withheld: the revised term 'forty-eight (48) days' is still walk away" in breach.rationale
    assert [d.rule_id for d in redlines.dropped_edits] == ["data_protection.breach_notice_max"]
    assert any(s.kind == "edit" and s.category == "renewal_notice" for s in redlines.suggestions)  # same unit: kept


def test_on_every_sample_each_shown_edit_passes_the_recheck(engine):
    from agents.redlining import _withheld

    for path in sorted(SAMPLES.glob("*.docx")):
        document = _load(path)
        profile, compliance, redlines = review(document, engine)
        findings = {f.id: f for f in compliance.findings}
        for suggestion in redlines.suggestions:
            if suggestion.kind == "edit":
                assert _withheld(suggestion, findings[suggestion.finding_id], engine, document, profile) is None, (path.name, suggestion.id)


def test_a_clause_cut_in_two_by_a_page_break_is_not_split_by_an_insertion(engine, tmp_path):
    path = _from_paragraphs(tmp_path, "hosting", [
        "WEB SITE HOSTING AGREEMENT",
        'This Agreement is made between Hostco Inc. (the "Provider") and Northwind Systems, Inc. (the "Customer").',
        "The Provider shall host the Customer's web site and keep it available at all times during the term.",
        "This Agreement shall be governed by the laws of the State of Delaware.",
        "Neither party shall be deemed in default if its performance is delayed by reason of any act of God, war,",
        "5 fire, earthquake, labor dispute, sickness, accident, civil commotion, epidemic, or any other cause beyond",
        "such party's control.",
        "IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first set forth above.",
    ])
    document = _load(path)
    _, _, redlines = review(document, engine)
    inserts = [s for s in redlines.suggestions if s.kind == "insert"]
    assert inserts
    anchor = document.paragraphs[inserts[0].insertion.after_paragraph].text
    assert anchor.startswith("This Agreement shall be governed")  # before the broken force-majeure clause, not inside it


def test_the_side_swap_from_the_command_line(tmp_path, monkeypatch):
    from test_review_cli import cli

    monkeypatch.setenv("CLAUSEFLOW_OUR_NAMES", "CloudNimbus Inc.")
    supplier = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(tmp_path / "o"), data_dir=tmp_path / "a").stdout
    assert "our side supplier" in supplier and "liability_cap" not in supplier and "indemnification" not in supplier
    monkeypatch.setenv("CLAUSEFLOW_OUR_NAMES", "Someone Else Ltd")
    told = cli("review", "--side", "supplier", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(tmp_path / "o"),
               data_dir=tmp_path / "b").stdout
    assert "our side supplier" in told and "counterparty Northwind Systems" in told and "our_side" not in told
    unknown = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(tmp_path / "o"), data_dir=tmp_path / "c").stdout
    assert "our side unknown" in unknown and "Which party are we?" in unknown


def test_risk_separates_contracts_critical_only_for_core_exposure(engine):
    from agents.compliance import overall_risk

    risks = {}
    for name in ("msa_orion", "saas_cloudnimbus", "nda_bluepeak", "supply_ferrotech", "licence_quanta", "dpa_medisafe"):
        profile, compliance, _ = review(_load(SAMPLES / f"{name}.docx"), engine)
        risks[name] = overall_risk(profile, compliance)
        walk_aways = [f for f in compliance.findings if f.position == "walk_away"]
        for finding in walk_aways:  # critical only where the walk-away is on a core exposure term
            playbook = engine.library.get(finding.category).playbook
            asks_only = any(r.id == finding.rule_id and r.asks_only(finding.measured) for r in playbook.rules)
            expected = "critical" if playbook.core_exposure else "medium" if asks_only else "high"  # Texas law: a question
            assert finding.severity == expected, (name, finding.category, finding.severity)
    # unlimited liability (MSA) and a one-month cap with ten-day breach notice (SaaS) are critical; a Cayman-law NDA,
    # an exclusivity clause or a one-sided termination right are high, not critical
    assert risks["msa_orion"] == risks["saas_cloudnimbus"] == "critical"
    assert risks["nda_bluepeak"] == risks["supply_ferrotech"] == risks["licence_quanta"] == "high"


# --- the fallback rung ---------------------------------------------------------------------------------


def test_a_term_beyond_the_fallback_offers_the_fallback_wording_re_checked(engine):
    from clause_library.rule_engine import evaluate

    _, compliance, redlines = review(_load(SAMPLES / "saas_cloudnimbus.docx"), engine)
    by_category = {s.category: s for s in redlines.suggestions}
    renewal = by_category["auto_renewal"]  # "successive five (5) year periods": preferred 1 year, fallback 2
    assert "one (1) year periods" in renewal.proposed_text
    assert "two (2) year periods" in renewal.fallback_text and "five (5)" not in renewal.fallback_text
    breach = by_category["data_protection"]  # "ten (10) days": preferred 48 hours, fallback 72 hours
    assert "seventy-two (72) hours" in breach.fallback_text
    for suggestion in (renewal, breach):
        finding = next(f for f in compliance.findings if f.id == suggestion.finding_id)
        rule = next(r for r in engine.library.get(suggestion.category).playbook.rules if r.id == finding.rule_id)
        assert [h.position for h in evaluate(rule, suggestion.fallback_text)] == ["fallback"]
        assert "fallback wording can be chosen" in suggestion.rationale
    # a ladder whose fallback is its preferred value offers nothing twice; a name or a deletion has no numeric rung
    assert by_category["payment_terms"].fallback_text is None if "payment_terms" in by_category else True
    assert by_category["price_escalation"].fallback_text is None  # a deletion has no numeric rung


@pytest.mark.parametrize("paragraph, present", [
    # a run-in heading opening a long paragraph, and a numbered title inside a paragraph a filing ran together
    ("11.6 Insurance. Each Party shall keep, through self-insurance or policies placed with insurers, adequate cover. "
     + "It applies throughout the Term and for two years after it. " * 8, True),
    ("18.11 Costs Except as otherwise provided, all costs are for each Party's own account. 18.12 Insurance Philips shall "
     "comply with the Quality Agreement as to the required level of cover.", True),
    # the word alone, in a sentence about something else, is not an insurance clause
    ("The deposit accounts of the Association are insured by the FDIC and no proceedings for the revocation of such "
     "insurance are pending.", False),
    ("See Section 18.12 for the notices address.", False),
])
def test_a_clause_is_present_under_the_headings_real_filings_use(paragraph, present):
    from agents.compliance import _present_anywhere
    from clause_library.playbook import default_library
    from document_io.models import document_from_text

    document = document_from_text(name="t", text="SUPPLY AGREEMENT\n" + paragraph)
    assert _present_anywhere(document, default_library().get("insurance")) is present


@pytest.mark.parametrize("where, asked", [("from its own offices", False),
                                          ("on-site at Customer's premises, with access to Customer's data", True)])
def test_insurance_is_asked_of_a_services_supplier_only_where_it_handles_our_data_or_premises(engine, where, asked):
    """The playbook's walk-away is 'no insurance for a supplier handling our data or premises': a consultant working from
    its own offices was asked for USD 5m of cover on every judged CUAD services contract (trivial each time)."""
    from document_io.models import document_from_text

    text = ("CONSULTING SERVICES AGREEMENT\nThis Consulting Services Agreement is made as of January 1, 2025 between Orion "
            'Consulting Group LLC ("Consultant") and Northwind Systems, Inc. ("Customer").\n'
            f"1. Services. Consultant shall provide the advisory services described in Schedule A {where}.\n"
            "2. Fees. Customer shall pay the fees within forty-five (45) days of invoice.\n")
    _, compliance, _ = review(document_from_text(name="t", text=text), engine)
    assert any(f.rule_id == "insurance.required" for f in compliance.findings) is asked
