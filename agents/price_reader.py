"""Price reader: the price escalator, read only from a sentence that changes the contract's prices over time, or
left empty.

An escalator is one of three things a lawyer would call one: a party's right to raise its prices or fees ("Company
may change the prices of the Products from time to time"), an increase the contract makes itself ("the Annual Fee
shall be increased on each anniversary by the increase in the CPI"), or a cap on such increases ("shall not increase
by more than ten percent (10%) per year"). Not an escalator: an interest rate on late payment (LIBOR + 3.5%), a revenue
share or royalty ("30% of advertising sales"), a discount ("20% off standard fees"), a mark-up ("cost plus 10%"), a
formula ("0.025% of impressions"), a one-off uplift for an extra item ("increased by 25% for each additional
processor"), a price a party may not change, and a percentage the filer redacted, which is "redacted", not a guess.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.schema import Span
from document_io.legal_text import SentenceUnit, sentence_units
from document_io.models import SourceDocument
from document_io.quantities import Percent, find_percents

_PRICE = (r"(?:prices?|pricing|fees?|rates?|charges?|tariffs?|compensation|"
          r"(?-i:(?:[A-Z][\w-]*\s+){1,3}(?:Fee|Price|Rate|Charge|Fees|Prices|Rates|Charges)\b))")
# a party's right to change its prices: "may increase the rates", "reserves the right to change its prices"
_RIGHT = re.compile(r"\b(?P<modal>may|shall\s+(?:have\s+the\s+right|be\s+entitled)\s+to|reserves?\s+the\s+right\s+to|"
                    r"(?:is|are)\s+entitled\s+to)\s+(?P<gap>(?:(?:\w+ly|not|also|then|thereafter|further|at\s+any\s+time)\s+){0,2})"
                    r"(?:increase|raise|adjust|change|revise|modify)(?:\s+(?:and|or|and/or)\s+(?:decrease|reduce|lower))?\s+"
                    r"(?:its\s+|the\s+|such\s+|any\s+|their\s+)?(?:\w+\s+){0,2}?" + _PRICE, re.IGNORECASE)
# an increase the contract makes itself: "the Minimum Fee shall be increased on January 1 of each year"
_AUTOMATIC = re.compile(_PRICE + r"[^.;]{0,120}?\b(?:shall|will)\s+(?:only\s+)?(?:be\s+)?(?:automatically\s+)?(?:increased?|adjusted|escalated?|"
                        r"subject\s+to\s+(?:an?\s+)?(?:annual\s+)?(?:increase|adjustment))\b", re.IGNORECASE)
_PERIODIC = re.compile(r"\bannual(?:ly)?\b|\beach\s+(?:calendar\s+|contract\s+)?year\b|\bper\s+(?:year|annum|calendar\s+year|contract\s+year)\b|"
                       r"\banniversar|\byear[\s-]+over[\s-]+year\b|\bJanuary\s+1\b|\bevery\s+(?:twelve|12)\s+months\b", re.IGNORECASE)
_CPI = re.compile(r"\bCPI\b|\bconsumer\s+price\s+index\b|\bcost[\s-]+of[\s-]+living\b|\binflation\b|\bretail\s+price\s+index\b|\bRPI\b|"
                  r"\bproducer\s+price\s+index\b|\bPPI\b|\bemployment\s+cost\s+index\b", re.IGNORECASE)
# a cap on increases: "not increase by more than 10%", "not to exceed 5% per year", "increases of no more than 3%"
_CAP = re.compile(r"\b(?:increase\w*|rais\w*|adjust\w*|escalat\w*)\b[^.;]{0,80}?\b(?:by\s+)?(?:more\s+than|in\s+excess\s+of|exceed\w*|"
                  r"no\s+more\s+than|not\s+more\s+than|up\s+to|a\s+maximum\s+of|at\s+most|capped\s+at)\s+"
                  r"(?:the\s+[^.;]{0,50}?\s+or\s+)?$", re.IGNORECASE)  # "more than the [CPI change] for such period or 3%"
_FIXED = re.compile(r"\b(?:increase\w*|rais\w*|adjust\w*|escalat\w*)\b[^.;]{0,60}?\bby\s*$|\bincrease\s+of\s*$", re.IGNORECASE)
_NOT_AN_ESCALATOR = re.compile(
    r"\b(?:interest|libor|sofr|euribor|prime\s+rate|late\s+(?:payment|charge|fee)|overdue|past\s+due|delay\s+(?:of|in)\s+payment|"
    r"revenue\s+share|share\s+of|royalt(?:y|ies)|commission|discount(?:ed)?\s+(?:of|off|from|by)|(?:%|percent)\s+discount|rebate|"
    r"margin|mark-?up|cost\s+plus|tax(?:es)?|penalt\w*|liquidated|withhold\w*|exchange\s+rate|credits?|service\s+level|uptime|"
    r"availability|factor|formula|for\s+each\s+additional|percent(?:age)?\s+of\s+(?:the\s+)?(?:net|gross)|of\s+(?:the\s+)?(?:net|gross)\s+"
    r"(?:sales|revenue|receipts)|off\s+(?:its|the|our|\w+'s)?\s*(?:standard|list)|insurance)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|never|no)\b", re.IGNORECASE)
_REDACTED_PERCENT = re.compile(r"(?:\[\s*(?:\*\s*)+\]|\*{2,}|\[\s*[●•]\s*\]|\[\s*…?\*+…?\s*\])\s*(?:%|percent)", re.IGNORECASE)
# "0.025% of impressions", "5% of Net Sales": a percentage of some base; "3% of the then-current price" is an increase
_SHARE_OF = re.compile(r"\s*\)?\s*of\s+(?!(?:the\s+|such\s+|its\s+)?(?:(?:then[- ]current|current|existing|prior|previous|preceding|"
                       r"applicable|base|list)(?:\s+(?:year|period|term)(?:'s|’s)?)?\s+)?(?:prices?|fees?|rates?|charges?|pricing|"
                       r"amounts?\s+(?:then\s+)?in\s+effect)\b)", re.IGNORECASE)


class Escalator(BaseModel):
    kind: Literal["capped", "fixed", "cpi", "right", "unstated", "redacted"] = Field(
        description="capped: increases up to a percentage; fixed: a set yearly increase; cpi: tied to an index; right: a "
        "party may raise prices with no stated cap; unstated: prices increase periodically by an amount the sentence does "
        "not state; redacted: the percentage is blacked out")
    percent: float | None = None
    citation: Span

    def summary(self) -> str:
        if self.kind == "capped":
            return f"up to {self.percent:g}% increase"
        if self.kind == "fixed":
            return f"{self.percent:g}% increase"
        if self.kind == "cpi":
            return "CPI-linked increase" + (f", capped at {self.percent:g}%" if self.percent else "")
        return {"right": "uncapped increase right", "unstated": "periodic increase, amount not stated",
                "redacted": "redacted increase"}[self.kind]


def read_escalator(document: SourceDocument) -> Escalator | None:
    """The first sentence, in document order, that changes prices over time."""
    for unit in sentence_units(document):
        if found := _escalator_in(unit, document):
            return found
    return None


def _escalator_in(unit: SentenceUnit, document: SourceDocument) -> Escalator | None:
    text = unit.text
    if _NOT_AN_ESCALATOR.search(text):
        return None
    right = next((m for m in _RIGHT.finditer(text) if not _NEGATED.search(m.group("gap"))
                  and not _NEGATED.search(text[max(0, m.start() - 25):m.start()])), None)
    automatic = _AUTOMATIC.search(text)
    if automatic and not (_PERIODIC.search(text) or _CPI.search(text)):
        automatic = None  # "the fee shall be adjusted to reflect the change in scope": not an increase over time
    # a cap on increases over time ("per year", "during any Renewal Term"), not a one-off bound on some adjustment
    over_time = _PERIODIC.search(text) or re.search(r"\brenewal|\bextension|\bcontract\s+year|\bduring\s+the\s+term\b", text, re.I)
    capped = _tied_percent(text, _CAP) if over_time else None
    redacted_cap = next((r for r in _REDACTED_PERCENT.finditer(text)
                         if over_time and _ties(text[:r.start()], _CAP)), None)
    if not (right or automatic or capped or redacted_cap):
        return None

    def span(start: int, end: int) -> Span:
        return Span.of(document, unit.start + start, unit.start + end)

    cpi = _CPI.search(text)
    if cpi and (automatic or right or capped):
        cap = capped[0] if capped else None
        return Escalator(kind="cpi", percent=cap.value if cap else None, citation=span(cpi.start(), cpi.end()))
    if capped:
        percent, start, end = capped
        return Escalator(kind="capped", percent=percent.value, citation=span(start, end))
    if redacted := redacted_cap or _REDACTED_PERCENT.search(text):
        return Escalator(kind="redacted", citation=span(redacted.start(), redacted.end()))
    if (fixed := _tied_percent(text, _FIXED)) and (automatic or right):
        percent, start, end = fixed
        return Escalator(kind="fixed", percent=percent.value, citation=span(start, end))
    if right:
        limited = re.search(r"\b(?:provided|in\s+no\s+event|not\s+to\s+exceed|no\s+more\s+than|shall\s+not\s+exceed|subject\s+to)\b"
                            r"[^.;]*?(?P<mark>\[\s*(?:\*\s*)+\]|\*{3,})", text[right.end():])
        if limited:  # a limit the filer blacked out: not uncapped
            at = right.end() + limited.start("mark")
            return Escalator(kind="redacted", citation=span(at, right.end() + limited.end("mark")))
        return Escalator(kind="right", citation=span(right.start(), right.end()))
    return Escalator(kind="unstated", citation=span(automatic.start(), automatic.end()))


def _tied_percent(text: str, before: re.Pattern) -> tuple[Percent, int, int] | None:
    """A percentage the wording right before it ties to an increase ("by more than ten percent (10%)"), not a share of
    some base ("30% of advertising sales"); with its span."""
    for percent in find_percents(text):
        if not 0 < percent.value <= 50 or _SHARE_OF.match(text[percent.end:percent.end + 60]):
            continue
        if _ties(text[:percent.start], before):
            return percent, percent.start, percent.end
    return None


def _ties(lead: str, before: re.Pattern) -> bool:
    """The words right before a percentage make it an increase, the sentence up to it is about a price, and it is not a
    threshold ("If ... an increase ... of more than 2%, then ...")."""
    lead = re.sub(r"(?:\b[a-z-]+\s*)?\(\s*$", "", lead)  # "ten ( 10% ) percent": the number in words before the figure
    near = lead[-120:].rstrip() + " "
    tied = before.search(near)
    return bool(tied and re.search(_PRICE, lead, re.IGNORECASE)
                and not re.search(r"\b(?:if|in\s+the\s+event|should|where|whether)\b", near[:tied.start()], re.IGNORECASE))
