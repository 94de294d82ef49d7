"""Contract metadata agent: the commercial facts a repository files and spend is checked against, each with the
span it was read from. Governing law, contract value and not-to-exceed, payment terms, the liability cap, a
minimum commitment, the price escalator and the purchase-order numbers the contract names.

It reads the clauses the extraction agent found first and the whole text after, and answers None rather than
guessing: a fact without a span in the document is never filed.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agents.schema import ExtractionResult, NegotiationBrief, Span
from document_io.legal_text import sentence_spans
from document_io.models import SourceDocument
from document_io.quantities import find_durations, find_money, find_percents


class ContractMetadata(BaseModel):
    governing_law: str | None = Field(default=None, description="the jurisdiction whose law governs, e.g. 'New York'")
    value: float | None = Field(default=None, description="total or annual contract value stated in the text")
    not_to_exceed: float | None = Field(default=None, description="a ceiling on fees or invoices ('shall not exceed')")
    currency: str | None = None
    payment_terms_days: int | None = Field(default=None, description="days after invoice within which payment is due")
    liability_cap: str | None = Field(default=None, description="the cap as written in short: an amount, a multiple of "
                                      "fees, or 'uncapped'")
    liability_cap_amount: float | None = None
    minimum_commitment: float | None = None
    price_escalator_pct: float | None = Field(default=None, description="the largest yearly increase the contract allows")
    po_numbers: list[str] = Field(default_factory=list)
    citations: dict[str, Span] = Field(default_factory=dict, description="each filled field's source span")


_GOVERNING = re.compile(
    r"(?:governed\s+by|construed\s+(?:in\s+accordance\s+with|under)|interpreted\s+(?:in\s+accordance\s+with|under)|"
    r"subject\s+to)\s+(?:and\s+construed\s+in\s+accordance\s+with\s+)?(?:the\s+)?(?:internal\s+|substantive\s+)?laws?\s+of\s+"
    r"(?:the\s+)?(?:State\s+of\s+|Commonwealth\s+of\s+|Province\s+of\s+|(?:Federal\s+)?Republic\s+of\s+)?"
    r"(?P<place>[A-Z][A-Za-z]+(?:\s+(?:and\s+|of\s+)?[A-Z][A-Za-z]+){0,3})")
# the agreement's value is what the sentence calls its total, aggregate or annual value, price or fees; "a fee of $1,500"
# for one service is not the contract's value
_VALUE = re.compile(r"\b(?:total|aggregate|annual)\s+(?:contract\s+)?(?:value|price|consideration|fees?|compensation|"
                    r"subscription\s+fees?|license\s+fees?|service\s+fees?)\b|\bcontract\s+(?:value|price|sum)\b|"
                    r"\b(?:shall|will|agrees\s+to)\s+pay\s+(?:to\s+(?:the\s+)?[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,3}\s+)?(?:an?\s+|the\s+)?"
                    r"(?:total|aggregate)\s+(?:amount|sum)\b", re.I)
_PER_YEAR = re.compile(r"\s*(?:\([^)]{0,20}\)\s*)?(?:per\s+(?:year|annum|contract\s+year)|annually|each\s+year|a\s+year)\b", re.I)
_NOT_THE_VALUE = re.compile(r"\bliabilit|\bliable\b|\bat\s+least\b|\binsurance|\bminimum\b|\bpenalt|\bliquidated|\binterest\b|\bexceed|\bcap\b|"
                            r"\bmarket\s+value|\bfair\s+value|\bshares?\b|\bstock\b", re.I)
_CEILING = re.compile(r"\b(?:not\s+to\s+exceed|shall\s+not\s+exceed|will\s+not\s+exceed|up\s+to\s+a\s+maximum\s+of|"
                      r"capped\s+at)\b", re.I)
_FEES = re.compile(r"\b(?:fees?|charges?|prices?|compensation|invoic\w*|contract\s+value|purchases?|spend)\b", re.I)
_CAP_CONTEXT = re.compile(r"\bliabilit", re.I)
_CAP_MULTIPLE = re.compile(r"\b(?:the\s+)?(?:total\s+|aggregate\s+)?(?:fees|amounts?|charges)\s+(?:actually\s+)?"
                           r"(?:paid|payable)[^.;]{0,80}?(?:(?:preceding|prior|previous)\s+[^.;]{0,30}?months?|"
                           r"months?\s+(?:preceding|prior|before))", re.I)
_UNCAPPED = re.compile(r"\bunlimited\s+liability\b|\bliability\s+(?:shall\s+be\s+|is\s+)?unlimited\b|"
                       r"\bwithout\s+(?:any\s+)?limit(?:ation)?\s+(?:of|on|as\s+to)\s+(?:its\s+)?liability", re.I)
_MINIMUM = re.compile(r"\bminimum\s+(?:annual\s+|purchase\s+|order\s+|spend\s+|volume\s+)?(?:commitment|purchase|"
                      r"order|spend|fee|quantity|amount)s?\b|\bshall\s+purchase\s+(?:at\s+least|no\s+less\s+than)\b", re.I)
_PAYMENT = re.compile(r"\binvoice|\bpayment|\bpayable|\bpaid\b|\bnet\s*\d", re.I)
_PO_NUMBER = re.compile(r"\b(?:purchase\s+order|P\.?\s?O\.?)\s*(?:No\.?|Number|#)\s*:?\s*(?P<po>[A-Z0-9][A-Z0-9-]{3,19})\b", re.I)


def read_metadata(document: SourceDocument, extraction: ExtractionResult, brief: NegotiationBrief | None = None) -> ContractMetadata:
    text = document.contract_text()
    sentences = [(s, e) for s, e in sentence_spans(text) if e - s > 10]
    meta = ContractMetadata()

    def cite(field: str, start: int, end: int) -> None:
        meta.citations[field] = Span.of(document, start, end)

    def clause_sentences(category: str) -> list[tuple[int, int]]:
        spans = [(c.span.start, c.span.end) for c in extraction.of_category(category)]
        inside = [(s, e) for s, e in sentences if any(cs <= s < ce or s <= cs < e for cs, ce in spans)]
        return inside + [se for se in sentences if se not in inside]  # the category's own clauses first

    for start, end in clause_sentences("governing_law"):
        if match := _GOVERNING.search(text, start, end):
            place = re.sub(r"\s+(?:and|without|excluding|applicable|as|in)$", "", match.group("place"))
            if place.lower() not in {"the", "any", "such", "that"}:
                meta.governing_law = place
                cite("governing_law", start, end)
                break

    for start, end in sentences:
        sentence = text[start:end]
        money = find_money(sentence)
        if not money:
            continue
        ceiling = _CEILING.search(sentence)
        if (meta.not_to_exceed is None and ceiling and not _CAP_CONTEXT.search(sentence)
                and _FEES.search(before := sentence[max(0, ceiling.start() - 60):ceiling.start()])
                and not re.search(r"\bexpenses?\b|\bcosts?\b", before, re.I)):
            meta.not_to_exceed, meta.currency = money[0].value, money[0].currency
            cite("not_to_exceed", start, end)
        elif meta.value is None and not _NOT_THE_VALUE.search(sentence):
            # the amount the value words introduce (the first sum after them), or a fee stated per year
            named = _VALUE.search(sentence)
            stated = [m for m in money if named and named.end() <= m.start <= named.end() + 80] or [
                m for m in money if re.search(r"\bfees?\s+(?:of|shall\s+be|is|are)\s*$", sentence[max(0, m.start - 25):m.start], re.I)
                and _PER_YEAR.match(sentence[m.end:m.end + 20])]
            if stated:
                meta.value, meta.currency = stated[0].value, meta.currency or stated[0].currency
                cite("value", start + stated[0].start, start + stated[0].end)

    for start, end in clause_sentences("payment_terms"):
        sentence = text[start:end]
        if not _PAYMENT.search(sentence):
            continue
        days = [d for d in find_durations(sentence) if d.unit.endswith(("day", "days")) and d.value and d.value <= 180]
        if days and re.search(r"invoice|receipt|net\s*\d", sentence, re.I):
            meta.payment_terms_days = int(days[0].value)
            cite("payment_terms_days", start, end)
            break

    _liability_cap(meta, text, clause_sentences("liability_cap"), cite)

    for start, end in sentences:
        sentence = text[start:end]
        if _MINIMUM.search(sentence) and (money := find_money(sentence)):
            meta.minimum_commitment = money[0].value
            meta.currency = meta.currency or money[0].currency
            cite("minimum_commitment", start, end)
            break

    if brief is not None and brief.terms.price_escalator_citation is not None:
        span = brief.terms.price_escalator_citation  # the escalator's own percentage, from the price reader
        if percents := find_percents(span.quote):
            meta.price_escalator_pct = max(p.value for p in percents)
            cite("price_escalator_pct", span.start, span.end)

    for match in _PO_NUMBER.finditer(text):
        if any(ch.isdigit() for ch in match.group("po")) and match.group("po") not in meta.po_numbers:
            meta.po_numbers.append(match.group("po"))
            cite(f"po_number:{match.group('po')}", match.start(), match.end())
    return meta


def _liability_cap(meta: ContractMetadata, text: str, sentences: list[tuple[int, int]], cite) -> None:
    """The cap: an amount, else a multiple of fees; "uncapped" only when no sentence sets a cap and one says liability
    is unlimited (a carve-out beside a cap leaves the cap as the answer)."""
    unlimited = None
    for start, end in sentences:
        sentence = text[start:end]
        if not _CAP_CONTEXT.search(sentence):
            continue
        if _UNCAPPED.search(sentence):
            unlimited = unlimited or (start, end)
            continue
        if not re.search(r"\bexceed|\blimited\s+to|\bcap|\bmaximum|\bin\s+no\s+event", sentence, re.I):
            continue
        if money := find_money(sentence):
            meta.liability_cap_amount = money[0].value
            meta.liability_cap = f"{money[0].currency} {money[0].value:,.0f}"
            cite("liability_cap", start, end)
            return
        if multiple := _CAP_MULTIPLE.search(sentence):
            meta.liability_cap = " ".join(multiple.group(0).split())[:120]
            cite("liability_cap", start, end)
            return
    if unlimited:
        meta.liability_cap = "uncapped"
        cite("liability_cap", *unlimited)
