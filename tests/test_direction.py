"""No suggestion may help the other side: the three harmful edits a lawyer found (issue #27), and the grammar of the
edits that change a period. Each of the three tests fails on the reading before clause frames: the renewal-notice
rule cut a provider's notice to us, a mutual cap was inserted into a customer's contract that had none, and the law
was changed to Delaware while the courts stayed in Tel Aviv."""

from __future__ import annotations

import pytest

from agents.classifier import ClassifierInput, classify
from agents.compliance import ComplianceInput, check_compliance
from agents.redlining import RedliningInput, propose_redlines
from agents.schema import ExtractedClause, ExtractionResult, Span
from document_io.models import document_from_text

OPENING = ('HOSTING SERVICES AGREEMENT\nThis Hosting Services Agreement is made as of January 1, 2025 between CloudNimbus '
           'Inc., a Delaware corporation ("Provider"), and Northwind Systems, Inc., a Delaware corporation ("Customer").\n')


def review(text: str, engine, clauses: list[tuple[str, str]] | None = None, extract: bool = False):
    from agents.clause_extraction import ExtractionInput, extract_clauses

    document = document_from_text(name="t", text=OPENING + text)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems, Inc."]))
    assert profile.our_side == "customer"
    if extract:
        extraction = extract_clauses(ExtractionInput(document=document), engine)
    else:
        extraction = ExtractionResult(clauses=[])
    for category, sentence in clauses or []:
        start = document.text.index(sentence)
        extraction.clauses.append(ExtractedClause(category=category, span=Span.of(document, start, start + len(sentence)),
                                                  score=0.9, method="rules"))
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    return document, compliance, redlines


def test_a_providers_notice_to_us_is_not_cut(engine):
    change = "Provider may change the terms and prices of the Services upon at least ninety (90) days notice to Customer."
    renewal = ("This Agreement shall renew automatically for successive one (1) year terms unless either party gives notice of "
               "non-renewal at least one hundred twenty (120) days before the end of the then-current term.")
    document, compliance, redlines = review(f"1. Changes. {change}\n2. Term. {renewal}\n", engine,
                                            [("renewal_notice", change), ("renewal_notice", renewal)])
    cut = [f for f in compliance.findings if f.rule_id == "renewal_notice.max_days"]
    assert [document.text[f.citation.start:f.citation.end] for f in cut] == [renewal]  # ours to give, not theirs
    assert not any("ninety" in e.new_text or document.text[e.start:e.end] == "ninety" for s in redlines.suggestions for e in s.edits)


@pytest.mark.parametrize("we_indemnify", [True, False])
def test_no_cap_is_inserted_against_the_customer(engine, we_indemnify):
    """A cap limits what the supplier owes us: never inserted for the customer. It is a question when we carry an
    open-ended liability of our own (an indemnity) a cap would protect; otherwise a note (nothing to ask)."""
    text = ("1. Services. Provider shall provide the outsourced services described in Schedule A.\n"
            "2. Fees. Customer shall pay the fees within forty-five (45) days of invoice.\n"
            "3. Governing Law. This Agreement is governed by the laws of the State of Delaware.\n"
            + ("4. Indemnity. Customer shall indemnify and hold harmless Provider from any and all claims arising out of "
               "Customer's use of the services.\n" if we_indemnify else ""))
    _, compliance, redlines = review(text, engine, extract=True)
    missing = [f for f in compliance.findings if f.category in ("liability_cap", "limitation_of_liability") and f.position == "missing"]
    assert missing
    capped = [s for s in redlines.suggestions if s.category in ("liability_cap", "limitation_of_liability")]
    assert all(s.kind == "flag" and not s.edits and s.proposed_text is None for s in capped)
    if we_indemnify:
        assert capped and any("cap what we can recover" in s.rationale for s in capped)
    else:
        assert not capped and all(f.severity == "info" and "Noted" in f.explanation for f in missing)


@pytest.mark.parametrize("law, forum", [
    ("This Agreement shall be governed by the laws of the State of Israel.", "The courts of Tel Aviv shall have exclusive "
     "jurisdiction over any dispute arising out of this Agreement."),
    ("This Agreement shall be governed by the laws of India.",
     "Any action shall be brought exclusively in the courts located in New Delhi, India."),
    ("This Agreement shall be governed by the laws of Singapore and shall be performed entirely within Singapore.",
     "Any dispute shall be finally resolved by the courts of London."),
    ("This Agreement shall be governed by, construed in accordance with the laws of Ontario, Canada.",
     "Disputes under this Agreement shall be resolved through arbitration in Ontario, Canada by a single arbitrator."),
])
def test_the_law_is_not_changed_without_the_forum(engine, law, forum):
    _, compliance, redlines = review(f"9. Governing Law. {law} {forum}\n", engine, [("governing_law", law)])
    governing = [s for s in redlines.suggestions if s.category == "governing_law"]
    assert governing and all(s.kind == "flag" and not s.edits for s in governing)
    assert any("law and forum" in s.rationale for s in governing)


def test_another_us_states_law_is_a_question_not_a_redline(engine):
    """Texas law with Harris County courts on the other side's paper: a lawyer raises it with Legal, and does not send
    a redline to Delaware (judged trivial every time it was sent on CUAD train contracts)."""
    law = ("This Agreement shall be governed by the laws of the State of Texas and shall be performed entirely within the "
           "State of Texas.")
    forum = "Any action shall be brought exclusively in the courts located in Harris County, Texas."
    _, compliance, redlines = review(f"9. Governing Law. {law} {forum}\n", engine, [("governing_law", law)])
    assert [(f.position, f.severity, f.escalate_to) for f in compliance.findings if f.rule_id == "governing_law.allowed"] == [
        ("walk_away", "medium", "legal")]
    governing = [s for s in redlines.suggestions if s.category == "governing_law"]
    assert [(s.kind, s.edits, s.proposed_text) for s in governing] == [("flag", [], None)]
    assert "A question, not a redline" in governing[0].rationale


def test_a_law_at_our_fallback_is_noted_not_changed(engine):
    """New York law with New York courts is on our fallback rung: a reviewer accepts it on the other side's paper rather
    than spend goodwill on Delaware, so it is a note in the report and no suggestion."""
    law = ("This Agreement shall be governed by the laws of the State of New York and shall be performed entirely within the "
           "State of New York.")
    forum = "Any action shall be brought exclusively in the courts located in New York County."
    _, compliance, redlines = review(f"9. Governing Law. {law} {forum}\n", engine, [("governing_law", law)])
    assert [(f.position, f.severity) for f in compliance.findings if f.rule_id == "governing_law.allowed"] == [("fallback", "info")]
    assert not [s for s in redlines.suggestions if s.category == "governing_law"]


def test_a_law_written_with_a_carve_out_is_read(engine):
    law = "This Agreement shall be governed by the laws, other than choice of law rules, of the state of Florida."
    _, compliance, _ = review(f"9. Governing Law. {law}\n", engine, [("governing_law", law)])
    assert [f.position for f in compliance.findings if f.rule_id == "governing_law.allowed"] == ["walk_away"]


@pytest.mark.parametrize("before, value, unit, after", [
    ("a 12-month period", 5, "years", "5-year"), ("the three year period", 6, "months", "six month"),
    ("a five-year term", 3, None, "three-year"), ("one (1) year", 2, None, "two (2) years"),
])
def test_a_changed_period_keeps_its_grammar(before, value, unit, after):
    from document_io.quantities import find_durations, format_duration

    assert format_duration(value, find_durations(before)[0], unit) == after


def test_two_rules_on_the_same_words_offer_one_edit_and_a_pointer(engine):
    """'180 days' read by the renewal-notice rule and by the termination-notice rule gave two contradictory edits
    (60 and 30 days) that could not both be approved; the more severe keeps its edit, the other points to it."""
    clause = ("Customer may terminate this Agreement for any reason upon providing one hundred eighty (180) days prior "
              "written notice to Provider prior to the expiration of the then-current term.")
    _, _, redlines = review(f"9. Termination. {clause}\n", engine,
                            [("renewal_notice", clause), ("termination_for_convenience", clause)])
    on_it = [s for s in redlines.suggestions if s.category in ("renewal_notice", "termination_for_convenience")]
    edits = [s for s in on_it if s.kind == "edit"]
    assert len(on_it) == 2 and len(edits) == 1
    pointer = next(s for s in on_it if s.kind == "flag")
    assert f"{edits[0].id} changes the same words" in pointer.rationale


@pytest.mark.parametrize("category, clause", [
    # "include, but shall not be limited to" is a list, not unlimited liability (an edit rewrote it as a cap)
    ("limitation_of_liability", "The responsibilities of the committee shall include, but shall not be limited to, "
                                "reviewing the promotion plan."),
    # a one-year non-solicit filed under confidentiality is not a confidentiality period to lengthen
    ("confidentiality", "Provider will not, during the Term and for a period of one (1) year thereafter, solicit any "
                        "customer regarding whom Provider received Confidential Information."),
    # an extension both parties must agree to is not an auto-renewal whose notice to cut
    ("renewal_notice", "The Term shall be extended for one year periods upon the mutual agreement of the parties, set "
                       "out in writing at least one hundred twenty (120) days before the end of the Term."),
])
def test_a_rule_does_not_edit_a_clause_that_is_not_what_it_governs(engine, category, clause):
    """Three wrong edits a reading of CUAD train contracts found (issue #27's 'wrong' column)."""
    _, compliance, redlines = review(f"9. {clause}\n", engine, [(category, clause)])
    assert not [s for s in redlines.suggestions if s.category == category and s.kind == "edit"]
    assert not [f for f in compliance.findings if f.category == category and f.position not in (None, "missing")]


def test_a_restraint_on_them_is_not_shortened_when_a_parenthesis_stands_between_them_and_the_verb(engine):
    """Found judging CUAD train reviews: 'the Distributor (on behalf of itself, each of its affiliates ...) agrees that it
    will not ... solicit' was read as binding nobody, so the supplier was offered an edit cutting the distributor's
    twelve-month non-solicit of the supplier's own staff to six."""
    clause = ("During the Term and for a period of twelve (12) months thereafter, Provider (on behalf of itself, each of its "
              "affiliates and each of their respective representatives) agrees that it will not directly or indirectly "
              "solicit or hire any employee of Customer.")
    _, compliance, redlines = review(f"8. Non-solicitation. {clause}\n", engine, [("non_solicit", clause)])
    assert not [f for f in compliance.findings if f.rule_id == "non_solicit.duration_max"]
    assert not [s for s in redlines.suggestions if s.category == "non_solicit" and s.edits]


def test_a_payment_to_us_by_two_companies_named_together_is_not_extended(engine):
    """'WYZZ, Inc. and WYZZ Licensee, Inc. (collectively "WYZZ")': two parties share one name, so 'WYZZ shall pay' named
    nobody and the customer-side payment rule offered to give WYZZ thirty days instead of ten to pay us (CUAD train)."""
    text = ('OUTSOURCING AGREEMENT\nWYZZ, Inc. and WYZZ Licensee, Inc. (collectively "WYZZ") and Nexstar Broadcasting of '
            'Peoria, L.L.C. ("Nexstar") hereby enter into this Agreement dated November 28, 2001.\n'
            '1. Services. Nexstar shall purchase the station services described in Schedule A from WYZZ.\n'
            '2. Rent. WYZZ shall make all payments due to Nexstar hereunder within ten (10) days following receipt of an '
            'invoice from Nexstar.\n')
    document = document_from_text(name="t", text=text)
    profile = classify(ClassifierInput(document=document, our_names=["Nexstar Broadcasting of Peoria, L.L.C."], side="customer"))
    assert [p.name for p in profile.parties if p.is_us] == ["Nexstar Broadcasting of Peoria, L.L.C."]
    rent = text.index("WYZZ shall make")
    paid = ExtractedClause(category="payment_terms", span=Span.of(document, rent, text.index("Nexstar.\n", rent) + 8),
                           score=0.9, method="rules")
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=ExtractionResult(clauses=[paid])),
                                  engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    assert not [s for s in redlines.suggestions if s.category == "payment_terms" and s.edits]


def test_a_licensees_term_is_not_shortened(engine):
    """For a licensee or a distributor the term is how long its rights last: the customer-side 'initial term at most three
    years' rule cut a distributor's exclusive ten-year term to one year, and the 'renewal at most one year' rule cut a
    distributor's three-year renewals to one (CUAD train): each lets the other side leave sooner."""
    term = ("The term of this Agreement shall be ten (10) years from the Effective Date, and shall renew automatically for "
            "successive renewal terms of three (3) years unless either party gives notice of non-renewal.")
    text = ('LICENSE AGREEMENT\nThis License Agreement is made as of January 1, 2025 between Quanta Software Ltd. '
            '("Licensor") and Northwind Systems, Inc. ("Licensee").\n1. Grant. Licensor grants Licensee an exclusive licence '
            f'to use the Software in the Territory.\n2. Term. {term}\n')
    document = document_from_text(name="t", text=text)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems, Inc."]))
    assert (profile.contract_type, profile.our_side) == ("licence", "customer")
    start = text.index(term)
    extraction = ExtractionResult(clauses=[ExtractedClause(category=category, span=Span.of(document, start, start + len(term)),
                                                           score=0.9, method="rules") for category in ("term", "auto_renewal")])
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    assert not [f for f in compliance.findings if f.rule_id in ("term.initial_max", "auto_renewal.term_max")]


@pytest.mark.parametrize("who, noted", [("neither party", True), ("Customer", False)])
def test_a_mutual_non_solicit_at_our_fallback_is_noted_one_on_us_is_cut(engine, who, noted):
    clause = (f"For a period of twelve (12) months after the termination of this Agreement, {who} shall solicit or hire any "
              "employee of the other party.").replace("Customer shall", "Customer shall not")
    _, compliance, redlines = review(f"8. Non-solicitation. {clause}\n", engine, [("non_solicit", clause)])
    found = [f for f in compliance.findings if f.rule_id == "non_solicit.duration_max"]
    assert [f.severity for f in found] == (["info"] if noted else ["low"])
    assert bool([s for s in redlines.suggestions if s.category == "non_solicit"]) is not noted



@pytest.mark.parametrize("ours, inserted", [("Northwind Systems, Inc.", True), ("CloudNimbus Inc.", False)])
def test_a_supplier_is_not_offered_duties_on_itself(engine, ours, inserted):
    """SaaS paper with no data-protection clause: the approved wording (processing on instructions, 48-hour breach
    notice) protects the customer and is inserted for the customer; reviewing as the provider it would put those duties
    on ourselves, so it is not proposed (found on a CUAD hosting contract reviewed as the supplier)."""
    text = (OPENING.replace("HOSTING SERVICES AGREEMENT", "SOFTWARE AS A SERVICE AGREEMENT")
            + "1. Service. Provider shall make the hosted software available to Customer as a subscription service.\n"
            "2. Fees. Customer shall pay the subscription fees within thirty (30) days of invoice.\n"
            "3. Governing Law. This Agreement is governed by the laws of the State of Delaware.\n")
    document = document_from_text(name="t", text=text)
    profile = classify(ClassifierInput(document=document, our_names=[ours]))
    assert (profile.contract_type, profile.our_side) == ("saas", "customer" if inserted else "supplier")
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=ExtractionResult(clauses=[])),
                                  engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    assert any(s.category == "data_protection" and s.kind == "insert" for s in redlines.suggestions) is inserted


@pytest.mark.parametrize("title", ["NET INVESTMENT INCOME MAINTENANCE AGREEMENT", "EXPENSE LIMITATION AGREEMENT",
                                   "YIELD MAINTENANCE AGREEMENT", "MUTUAL TERMINATION AGREEMENT"])
def test_a_funds_arrangement_with_its_adviser_is_not_a_services_deal(engine, title):
    """A fund's agreement with its adviser to cap the fund's expenses (CUAD train: Securian's) mentions investment
    advisory services but delivers none: no services clauses (warranty, confidentiality, insurance) are missing from it."""
    text = (f"{title}\nThis Agreement is made as of May 1, 2012 by and between Advantus Capital Management, Inc. (the "
            '"Investment Adviser") and Securian Funds Trust (the "Trust").\nWHEREAS, the Investment Adviser renders investment '
            "advisory services to the Fund under an Advisory Agreement;\n1. The Investment Adviser shall waive its fees to the "
            "extent the Fund's net investment income would fall below zero.\n")
    document = document_from_text(name="t", text=text)
    for side in ("customer", "supplier"):
        profile = classify(ClassifierInput(document=document, our_names=[], side=side))
        assert profile.contract_type == "other"
        compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=ExtractionResult(clauses=[])),
                                      engine.library)
        assert not [f for f in compliance.findings if f.position == "missing"]


def test_who_a_non_solicit_exempts_is_not_how_long_it_lasts(engine):
    """'... for three (3) years after the termination ... Provider will not solicit any employee of Customer; provided
    that this Section shall not apply to any employee who has not been employed by Customer for at least one (1) year
    after the end of such employment' (CUAD train): cutting 'one (1) year' to six months frees more of our staff to the
    Provider. Only the restraint's own period is measured."""
    clause = ("Provider agrees that, for a period ending three (3) years after the termination of this Agreement, Provider will "
              "not employ or solicit to employ any of the employees of Customer; provided, however, this Section shall not "
              "apply to any employee who has not been employed by Customer for at least one (1) year after the end of such "
              "employment.")
    document, compliance, redlines = review(f"14. Non-Solicitation by Provider. {clause}\n", engine, [("non_solicit", clause)])
    measured = [f.measured for f in compliance.findings if f.rule_id == "non_solicit.duration_max"]
    assert "one (1) year" not in measured
    assert not [e for s in redlines.suggestions for e in s.edits if "one (1) year" in document.text[e.start:e.end + 8]]



def test_a_cure_period_is_not_a_warranty_period(engine):
    """'A Party shall be in default ... if it fails to perform ... and such default shall continue for a period of sixty
    (60) days following notice' (CUAD train) was 'lengthened' to twelve months by the warranty rule."""
    clause = ("A Party shall be in default hereunder if such Party fails to perform timely any of its material obligations "
              "hereunder and such default shall continue for a period of sixty (60) days following written notice.")
    _, compliance, redlines = review(f"4.2 Default. {clause}\n", engine, [("warranty", clause)])
    assert not [f for f in compliance.findings if f.rule_id == "warranty.duration_min"]


def test_a_lawsuit_mentioned_in_a_representation_is_not_a_forum(engine):
    """'Provider is not aware of any action, arbitration, suit or proceeding ... of Provider' names no place disputes go
    to (CUAD train): the law can still be edited, and no withheld reason quotes it."""
    law = "This Agreement shall be governed by the laws of the State of Israel."
    text = (f"9. Governing Law. {law}\n10. Litigation. Provider is not aware of any action, arbitration, suit or proceeding "
            "pending or, to the knowledge of Provider, threatened against it.\n")
    _, _, redlines = review(text, engine, [("governing_law", law)])
    governing = [s for s in redlines.suggestions if s.category == "governing_law"]
    assert [s.kind for s in governing] == ["edit"] and "Delaware" in governing[0].proposed_text
