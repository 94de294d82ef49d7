"""Turning agents' outputs into a repository filing: the contract's metadata with spans, its clauses (the library's
categories and, where the clause model is confident, CUAD's) and its obligations."""

from __future__ import annotations

import re
from datetime import date

from agents.contract_metadata import read_metadata
from agents.obligations import ObligationsInput, find_obligations
from agents.schema import ContractProfile, ExtractionResult, IntakeRequest, NegotiationBrief
from document_io.models import SourceDocument
from document_io.legal_text import sentence_spans
from portfolio.records import WHOLE_TEXT, ClauseRecord, ContractRecord, Filing, Obligation

CUAD_CLAUSE_FLOOR = 0.5  # the clause model's estimated chance of a CUAD label above which a clause is filed
CUAD_CLAUSES_PER_CATEGORY = 5  # the most likely few: "Parties" alone would otherwise file every mention of a name
_COMPANY = re.compile(r"\b(?:Inc|Incorporated|LLC|L\.L\.C|Ltd|Limited|Corp|Corporation|Company|Co|plc|GmbH|AG|S\.A|SA|"
                      r"N\.V|B\.V|LP|L\.P|LLP|Association|Bank|Trust|Group|Holdings|Partners)\b\.?", re.I)


def filing_for(document: SourceDocument, profile: ContractProfile, extraction: ExtractionResult, brief: NegotiationBrief,
               today: date, *, origin: str, status: str, thread_id: str | None = None, risk: str | None = None,
               cuad_clauses: ExtractionResult | None = None, review_version: str | None = None,
               request: IntakeRequest | None = None, previous_version: str | None = None) -> Filing:
    meta = read_metadata(document, extraction, brief)
    terms = brief.terms
    clauses = [ClauseRecord(category=c.category, start=c.span.start, end=c.span.end, text=c.span.quote)
               for c in extraction.clauses]
    if cuad_clauses is not None:
        kept: dict[str, int] = {}
        for c in sorted(cuad_clauses.clauses, key=lambda c: -c.score):
            if c.score >= CUAD_CLAUSE_FLOOR and kept.get(c.category, 0) < CUAD_CLAUSES_PER_CATEGORY:
                kept[c.category] = kept.get(c.category, 0) + 1
                clauses.append(ClauseRecord(category=c.category, start=c.span.start, end=c.span.end, text=c.span.quote))
    # every other sentence too, so a word search finds what no category kept ("a 99 percent server uptime guarantee")
    covered = [(c.start, c.end) for c in clauses]
    clauses += [ClauseRecord(category=WHOLE_TEXT, start=start, end=end, text=document.text[start:end])
                for start, end in sentence_spans(document.text)
                if end - start >= 20 and not any(s <= start and end <= e for s, e in covered)]
    counterparty = profile.counterparty if _looks_like_a_company(profile.counterparty) else None
    if counterparty is None and cuad_clauses is not None:
        counterparty = _counterparty_from_parties(cuad_clauses, profile)
    citations = dict(meta.citations)
    for field, span in (("effective_date", terms.effective_date_citation), ("expiration_date", terms.expiration_citation),
                        ("term_end", terms.term_citation), ("notice_days", terms.notice_citation),
                        ("auto_renews", terms.renewal_citation)):
        if span is not None:
            citations[field] = span
    record = ContractRecord(
        contract_id=document.sha256, name=document.name, source_file=document.source_path, origin=origin,
        thread_id=thread_id, title=profile.title, contract_type=profile.contract_type,
        parties=[p.name for p in profile.parties], counterparty=counterparty, our_side=profile.our_side,
        risk=risk or profile.inherent_risk, status=status, effective_date=terms.effective_date,
        expiration_date=terms.expiration_date, term_end=terms.current_term_end, auto_renews=terms.auto_renews,
        renewal_kind=terms.renewal_kind, renewal_count=terms.renewal_count, until_terminated=terms.until_terminated,
        renewal_term_months=terms.renewal_term_months, notice_days=terms.notice_days, notice_months=terms.notice_months,
        notice_fixed_day=terms.notice_fixed_day,
        notice_deadline=terms.notice_deadline, governing_law=meta.governing_law, value=meta.value,
        not_to_exceed=meta.not_to_exceed, currency=meta.currency, payment_terms_days=meta.payment_terms_days,
        liability_cap=meta.liability_cap, liability_cap_amount=meta.liability_cap_amount,
        minimum_commitment=meta.minimum_commitment, price_escalator_pct=meta.price_escalator_pct,
        po_numbers=meta.po_numbers, recommended_action=brief.recommended_action, citations=citations, clauses=clauses,
        request=request, previous_version=previous_version,
    )
    found = find_obligations(ObligationsInput(document=document, profile=profile, brief=brief, today=today))
    obligations = [Obligation(obligation_id=f"{document.sha256[:12]}-{o.citation.start}-{o.kind.replace(' ', '_')}",
                              contract_id=document.sha256, kind=o.kind, owner_side=o.owner_side, owner_name=o.owner_name or None,
                              summary=o.summary,
                              citation=o.citation, due_date=o.due_date, recurrence=o.recurrence,
                              offset_days=o.offset_days, anchor=o.anchor) for o in found]
    return Filing(record=record, obligations=obligations, review_version=review_version)


_ROLE_WORDS = {"company", "customer", "supplier", "provider", "vendor", "licensor", "licensee", "buyer", "seller",
               "client", "contractor", "consultant", "distributor", "party", "parties", "purchaser", "recipient"}


# words that show a "name" is a phrase the classifier caught ("effective as of February 1", "WHEREAS, Bioeq is …")
_NOT_A_NAME = re.compile(r"\b(?:effective|as of|dated|between|herein\w*|hereafter|referred|whereas|is|are|agreement|"
                         r"contract|exhibit|schedule)\b", re.I)


def _looks_like_a_company(name: str | None) -> bool:
    """A name, not a defined role ("Company") or a phrase."""
    return (bool(name) and name.strip().lower() not in _ROLE_WORDS and name[0].isupper() and len(name.split()) <= 8
            and not _NOT_A_NAME.search(name))


def _counterparty_from_parties(cuad_clauses: ExtractionResult, profile: ContractProfile) -> str | None:
    """When the classifier named no counterparty: the clause model's most likely party name that reads as a company
    and is not one of ours."""
    ours = {p.name.lower() for p in profile.parties if p.is_us}
    for clause in sorted(cuad_clauses.of_category("Parties"), key=lambda c: -c.score):
        name = " ".join(clause.span.quote.split()).strip(" ,.;:\"“”")
        if _COMPANY.search(name) and _looks_like_a_company(name) and name.lower() not in ours and len(name) <= 80:
            return name
    return None
