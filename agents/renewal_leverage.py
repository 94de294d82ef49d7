"""Renewal leverage agent: effective date, term, auto-renewal, notice period, the notice deadline, price
escalators, and a negotiation brief from spend and vendor-performance data.

The deadline arithmetic: the current term ends at effective date + initial term, rolled forward by the
renewal term while that end is in the past and the contract renews automatically; the notice deadline
is that end minus the notice period.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from typing import Annotated

from pydantic import BaseModel, Field

from agents.schema import ExtractionResult, NegotiationBrief, RenewalTerms, Span, SpendRecord
from document_io.dates import DATE as _DATE, parse_date as _parse_date
from document_io.legal_text import sentence_spans
from document_io.quantities import convert, find_durations, find_percents
from clause_library.playbook import default_library
from clause_library.rule_engine import evaluate
from document_io.models import SourceDocument
from model_backends.llm_client import LLMClient
from model_backends.prompt_templates import load_prompt

# "until the earlier of (i) December 31, 2022, (ii) ...": the date that bounds the term
_EARLIER_OR_LATER = r"(?:the\s+(?:earlier|later|earliest|latest)\s+(?:of|to\s+occur\s+of)\s*:?\s*(?:\(\w{1,4}\)\s*)?)?"
_EXPIRES = re.compile(r"\b(?:shall|will)\s+(?:expire|terminate|end)\s+(?:on\s+)?" + _EARLIER_OR_LATER + "$|"
                      r"(?:expir\w*|terminat\w*|end\w*|conclud\w*|continu\w*|remain\w* in (?:full )?(?:force|effect)|extend\w*|"
                      r"(?:be|is|remain)\s+(?:in\s+effect|valid|effective))\s+(?:on|until|through|to|at)\s+"
                      r"(?:and including\s+)?(?:the\s+close\s+of\s+business\s+on\s+)?" + _EARLIER_OR_LATER + "$|"
                      r"\b(?:ending|expiring|concluding|terminating)\s+(?:on\s+)?$|\buntil\s+$|\bthrough\s+$|up to and including\s+$|"
                      r"[\"“](?:expiration|expiry|termination|end)\s+date[\"”]\s+(?:shall\s+)?mean\w*\s+$", re.IGNORECASE)
# "Terms of the project: 12 weeks from February 8, 2018 to May 3, 2018"
_RANGE_END = re.compile(r"\bfrom\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]{2,8},?\s+\d{4}|"
                        r"\d{1,2}/\d{1,2}/\d{4})\s+(?:to|through|until)\s+$")
_ABOUT_THE_TERM = re.compile(r"\b(?:this\s+agreement|the\s+term|initial\s+term|term\s+of\s+(?:this|the)\s+(?:agreement|contract)|"
                             r"this\s+contract|the\s+(?:rights|licen[cs]es?)\s+granted)\b", re.IGNORECASE)
_IN_EFFECT = re.compile(r"\b(?:this\s+agreement|the\s+term)\b[^.]{0,250}\b(?:shall|will)\s+(?:(?:remain|continue|be)\s+in\s+"
                        r"(?:full\s+)?(?:force|effect)|remain\s+valid|have\s+(?:a|an\s+initial)\s+term\s+of)|"
                        r"\bterm\s+of\s+(?:this|the)\s+(?:agreement|contract)\s+(?:is|will\s+be|shall\s+be)\b", re.IGNORECASE)
_MADE = re.compile(r"dated|made|entered into|executed|signed|agreement[^.]{0,40}(is|dated)|day of|as of", re.IGNORECASE)


class PerformanceRecord(BaseModel):
    """Vendor performance per period (CSV: period,sla_target,sla_actual,incidents)."""

    period: str
    sla_target: float
    sla_actual: float
    incidents: int = 0


class RenewalInput(BaseModel):
    document: SourceDocument
    extraction: ExtractionResult
    today: date
    spend: list[SpendRecord] = Field(default_factory=list)
    performance: list[PerformanceRecord] = Field(default_factory=list)


def load_performance(path: Path) -> list[PerformanceRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [PerformanceRecord.model_validate(row) for row in csv.DictReader(handle)]


def analyse_renewal(data: RenewalInput) -> NegotiationBrief:
    document, extraction = data.document, data.extraction
    terms = RenewalTerms(effective_date=None, initial_term_months=None, auto_renews=False, renewal_term_months=None, notice_days=None)
    end_stated_in_term = _effective_date(document, terms)
    sentences = _sentences(document)
    term, renewal, notice = (_clauses(sentences, extraction, c) for c in ("term", "auto_renewal", "renewal_notice"))
    seen = {offset for offset, _ in term}
    # "This Agreement shall be in full force and effect commencing on ... and shall remain in effect for one (1) year"
    term += [(offset, text) for offset, text in sentences if offset not in seen and _IN_EFFECT.search(text)]
    _initial_term(terms, term, keep_end=end_stated_in_term)  # the term's own phrasings first; the playbook rule's reading after
    if terms.initial_term_months is None:
        _measure(terms, term, "term.initial_max", "initial_term_months", "term_citation", "months")
    terms.auto_renews = any(re.search(r"automatic|renew", quote, re.IGNORECASE) for _, quote in renewal)
    _measure(terms, renewal, "auto_renewal.term_max", "renewal_term_months", "renewal_citation", "months")
    rhythms = [(o, q) for o, q in sentences if _CARRIES_ON.search(q) and any(p.search(q) for p, _ in _PERIODIC)]
    if terms.renewal_term_months is None:
        _periodic_renewal(terms, renewal + sentences)  # it reads only those that renew, extend or continue
    # the notice inside a renewal clause ("shall renew ... unless terminated by either Party upon ninety (90) days
    # written notice") is the notice to stop the renewal, whatever the notice clause's own signals caught
    known = {offset for offset, _ in notice}
    notice += [(o, q) for o, q in renewal + rhythms if o not in known and re.search(r"\bnotice|\bnotif", q, re.I)]
    # a notice tied to renewal or expiry before any other notice period
    notice = sorted(notice, key=lambda c: 0 if re.search(r"renew|extended term|expiration of (the|this)|end of the (then|initial|current)",
                                                         c[1], re.I) else 1)
    _measure(terms, notice, "renewal_notice.max_days", "notice_days", "notice_citation", "days")
    _escalator(terms, extraction)
    _deadline(terms, data.today, _term_start(document, terms))
    return _brief(terms, data)


# renewals stated as a rhythm rather than a number: "on a year to year basis", "successive annual periods", "renew
# annually", "continue on a month to month basis", "for successive terms of the same duration"
_PERIODIC = (
    (re.compile(r"\byear[\s-]+to[\s-]+year\b|\bfrom\s+year\s+to\s+year\b|\bsuccessive\s+annual\b|\bannual\s+(?:periods?|terms?|basis)\b|"
                r"\byearly\s+basis\b|\brenew\w*\s+(?:\w+\s+){0,3}?(?:annually|each\s+year|every\s+year)\b|"
                r"\b(?:each|every)\s+year\s+thereafter\b|\bannual(?:ly)?\b[^.]{0,30}renew", re.I), 12.0),
    (re.compile(r"\bmonth[\s-]+to[\s-]+month\b|\bmonthly\s+(?:periods?|basis|terms?)\b|\badditional\s+month\b|\bsuccessive\s+monthly\b", re.I), 1.0),
    (re.compile(r"\bquarter[\s-]+to[\s-]+quarter\b|\bsuccessive\s+quarterly\b", re.I), 3.0),
)
_SAME_AS_INITIAL = re.compile(r"\b(?:renew|extend)\w*[^.]{0,60}\b(?:of\s+)?the\s+same\s+(?:duration|length|period)\b", re.I)
_CARRIES_ON = re.compile(r"\b(?:renew\w*|extend\w*|extension|continu\w*|prolong\w*)\b", re.I)


def _periodic_renewal(terms: RenewalTerms, clauses: list[tuple[int, str]]) -> None:
    for offset, quote in clauses:
        if not _CARRIES_ON.search(quote):
            continue
        found = [(match, months) for pattern, months in _PERIODIC if (match := pattern.search(quote))]
        if not found and (same := _SAME_AS_INITIAL.search(quote)) and terms.initial_term_months:
            found = [(same, terms.initial_term_months)]
        if found:
            match, months = found[0]
            terms.renewal_term_months = months
            terms.renewal_citation = Span(start=offset + match.start(), end=offset + match.end(), quote=match.group(0))
            # an evergreen rhythm renews by itself unless a party stops it; an option to renew does not
            terms.auto_renews = terms.auto_renews or not re.search(r"\b(?:may|option|right\s+to|elect)\b", quote, re.I)
            return


def _effective_date(document: SourceDocument, terms: RenewalTerms) -> bool:
    """The date the agreement is made or takes effect: a date the opening introduces as such ("dated as of",
    "effective", "this 9th day of March, 2015"), else the first date of the opening; and its stated end, if any.
    True when that end date is stated in a sentence about the agreement's term."""
    text = document.text
    # a date introduced as an end ("shall expire on March 31, 2011") is never the start
    starts = lambda found: [m for m in found if not _EXPIRES.search(text[max(0, m.start() - 60):m.start()])]  # noqa: E731
    opening = starts(m for m in _DATE.finditer(text[:5000]) if _parse_date(m))
    made = [m for m in opening if _MADE.search(text[max(0, m.start() - 120):m.start()])]
    if agreement := next(iter(made + opening), None):
        terms.agreement_date = _parse_date(agreement)
    defined = [m for m in _DATE.finditer(text[:20000])
               if re.match(r"[^.;]{0,40}?\(\s*(?:the\s+|this\s+)?[\"“]\s*effective\s+date", text[m.end():m.end() + 80], re.I)
               or re.search(r"[\"“]effective\s+date[\"”]\s+(?:shall\s+)?(?:mean|be)s?\s+[^.;]{0,40}$", text[max(0, m.start() - 120):m.start()], re.I)]
    effective_opening = [m for m in opening if re.search(r"effective|commenc", text[max(0, m.start() - 120):m.start()], re.I)]
    introduced = starts(m for m in _DATE.finditer(text) if re.search(r"effective|commenc", text[max(0, m.start() - 120):m.start()], re.I))
    for match in [*defined, *effective_opening, *made, *introduced, *opening]:
        if (parsed := _parse_date(match)) is None:
            continue
        terms.effective_date = parsed
        terms.effective_date_citation = Span.of(document, match.start(), match.end())
        break
    ends = [m for m in _DATE.finditer(text) if _EXPIRES.search(text[max(0, m.start() - 60):m.start()])
            or _RANGE_END.search(text[max(0, m.start() - 60):m.start()])]
    # an end date in a sentence about the term ("the initial term ... shall continue up to and including 28 February
    # 2000") before one elsewhere ("orders placed until 30 June 1998")
    def rank(match: re.Match) -> int:
        before = text[max(0, match.start() - 200):match.start()]
        sentence = re.split(r"[.;]\s", text[max(0, match.start() - 300):match.start()])[-1]
        if _ABOUT_THE_TERM.search(sentence) and re.search(r"expir|terminat|\bend|conclu|continu|remain|extend|from", sentence, re.I):
            return 0  # "This Agreement ... shall terminate on December 31, 2020" beats "use ... at no cost, until ..."
        if re.search(r"initial\s+term|term\s+of\s+this\s+agreement|this\s+agreement\s+(shall|will)\s+(continue|remain|expire|terminate)|"
                     r"shall\s+expire|\bterm\b[^.]{0,60}(expire|end|continue)", before, re.I):
            return 0
        return 1 if re.search(r"\bterm\b|this agreement shall|agreement will", before, re.I) else 2

    ends.sort(key=rank)
    for match in ends:
        parsed = _parse_date(match)
        if parsed and (terms.effective_date is None or parsed > terms.effective_date):
            terms.expiration_date = parsed
            terms.expiration_citation = Span.of(document, match.start(), match.end())
            return rank(match) == 0
    return False


def _sentences(document: SourceDocument) -> list[tuple[int, str]]:
    """Every sentence of the document with its offset, split once for all the lookups below."""
    return [(paragraph.start + start, paragraph.text[start:end])
            for paragraph in document.paragraphs for start, end in sentence_spans(paragraph.text)]


def _clauses(sentences: list[tuple[int, str]], extraction: ExtractionResult, category_id: str) -> list[tuple[int, str]]:
    """The category's extracted clauses first, then the sentences anywhere in the document that carry one of the
    category's signals (a renewal the extractor missed, or one buried in a definitions section, is still the renewal)."""
    found = [(c.span.start, c.span.quote) for c in extraction.of_category(category_id)]
    category = default_library().get(category_id)
    signals = [re.compile(signal, re.IGNORECASE) for signal in (*category.signals, *category.presence)]
    seen = {start for start, _ in found}
    found += [(offset, text) for offset, text in sentences
              if offset not in seen and any(signal.search(text) for signal in signals)]
    return found


_STAYS = r"(?:continue|remain|extend|be)\s+(?:in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?\s+|valid\s+|effective\s+)?"
_INITIAL_TERM = re.compile(
    r"(?:term\s+of\s+(?:this|the)\s+(?:agreement|contract)\s+(?:shall\s+be|is|will\s+be)\s+(?:for\s+)?(?:a\s+period\s+of\s+)?|"
    r"initial\s+term\s+of\s+|(?:shall|will|to|and)\s+have\s+(?:a|an\s+initial)\s+term\s+of\s+|expires?\s+in\s+|"
    # "shall continue until five (5) years following the Effective Date" (counted from the start: checked below)
    r"(?:continue|remain)\s+(?:in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?\s+)?until\s+(?:the\s+date\s+(?:that\s+is\s+)?)?|"
    r"(?P<strong>(?:shall|will|and)\s+" + _STAYS + r"for\s+(?:an?\s+(?:initial\s+)?(?:(?:period|term)\s+of\s+)?)?)|"
    r"for\s+an?\s+(?:initial\s+)?(?:period|term)\s+of\s+)$",
    re.IGNORECASE)


def _term_start(document: SourceDocument, terms: RenewalTerms) -> date | None:
    """The date the term clause itself starts from ("shall commence upon April 1, 1999 and shall continue for six
    (6) months"), when it names one."""
    if terms.term_citation is None:
        return None
    sentence = document.text[max(0, terms.term_citation.start - 250):terms.term_citation.start]
    starts = [m for m in _DATE.finditer(sentence) if re.search(r"commenc\w*|begin\w*|start\w*|from", sentence[max(0, m.start() - 40):m.start()], re.I)]
    return _parse_date(starts[-1]) if starts else None


_FROM_START = re.compile(r"^\s*(?:\([^)]{0,30}\)\s*)?(?:year\s+period\s+)?(?:from|after|following|commencing\s+(?:as\s+of|on))\s+(?:the\s+)?"
                         r"(?:effective\s+date|date\s+(?:hereof|of\s+this\s+agreement|of\s+execution|of\s+(?:the\s+)?effective\s+date)|"
                         r"execution|commencement)", re.IGNORECASE)
_ANNIVERSARY = re.compile(r"(?:end|expire|terminate|conclude|continue|extend|remain)\w*"
                          r"(?:\s+in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?)?\s+(?:on|until|through|upon)\s+" + _EARLIER_OR_LATER + r"(?:\(\w{1,4}\)\s*)?the\s+(?:(?P<nth>first|second|third|fourth|fifth|sixth|seventh|eighth|"
                          r"ninth|tenth|\d+(?:st|nd|rd|th))(?:\s*\(\w{1,4}\))?|(?:\w+\s+)?\(?(?P<years>\d{1,2})\)?[\s-]+year|(?P<yearword>one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+year)\s+anniversary\s+of\s+(?:the\s+)?"
                          r"(?:effective\s+date|date\s+(?:hereof|of\s+this\s+agreement)|commencement\s+date)", re.IGNORECASE)
_CARDINALS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}


def _initial_term(terms: RenewalTerms, clauses: list[tuple[int, str]], keep_end: bool = False) -> None:
    """The initial term in the phrasings the playbook rule does not measure: "the term of this Agreement shall be two
    (2) years", "shall continue for a term of one (1) year", "three (3) years from the Effective Date", "end on the
    first anniversary of the Effective Date"."""
    for offset, quote in clauses:
        if anniversary := _ANNIVERSARY.search(quote):
            nth = (anniversary.group("nth") or anniversary.group("years") or anniversary.group("yearword")).lower()
            years = _ORDINALS.get(nth) or _CARDINALS.get(nth) or int(re.match(r"\d+", nth).group(0))
            terms.initial_term_months = 12.0 * years
            terms.term_citation = Span(start=offset + anniversary.start(), end=offset + anniversary.end(), quote=anniversary.group(0))
            # the anniversary of the date it names: "of the date of this Agreement" is not the term's start date
            base = terms.effective_date if re.search(r"effective|commencement", anniversary.group(0), re.I) else terms.agreement_date
            if base is not None and (terms.expiration_date is None or not keep_end):
                terms.expiration_date = base + relativedelta(years=years)
                terms.expiration_citation = terms.term_citation
            return
        for duration in find_durations(quote):
            introduced = _INITIAL_TERM.search(quote[max(0, duration.start - 90):duration.start])
            from_start = _FROM_START.match(quote[duration.end:duration.end + 60])
            counted_from_start = from_start and re.search(r"\bterm\b", quote, re.I)
            # "and for a period of one year thereafter" follows the term; "shall continue for three (3) years thereafter"
            # is the term, counted from the start just named, and so is "five (5) years following the Effective Date"
            after_the_term = (re.match(r"\W*(thereafter|after|following)\b", quote[duration.end:duration.end + 25], re.I)
                              and not from_start and not (introduced and introduced.group("strong")))
            if duration.unit in ("month", "year") and (introduced or counted_from_start) and not after_the_term:
                terms.initial_term_months = round(duration.in_unit("months"), 1)
                terms.term_citation = Span(start=offset + duration.start, end=offset + duration.end,
                                           quote=quote[duration.start:duration.end])
                return


def _measure(terms, clauses: list[tuple[int, str]], rule_id: str, field: str, citation_field: str, unit: str) -> None:
    """Measure with the playbook rule that defines this number, so compliance and renewal agree on it."""
    category_id = rule_id.split(".")[0]
    rule = next(r for r in default_library().get(category_id).playbook.rules if r.id == rule_id)
    for offset, quote in clauses:
        for hit in evaluate(rule, quote, offset):
            if hit.value is None:
                continue
            value = convert(hit.value, rule.unit, unit)
            setattr(terms, field, int(round(value)) if unit == "days" else round(value, 1))
            setattr(terms, citation_field, Span(start=hit.start, end=hit.end, quote=hit.measured))
            return


def _escalator(terms: RenewalTerms, extraction: ExtractionResult) -> None:
    for clause in extraction.of_category("price_escalation"):
        percents = find_percents(clause.span.quote)
        if percents:
            p = percents[0]
            terms.price_escalator = f"up to {p.value:g}% increase"
            terms.price_escalator_citation = Span(start=clause.span.start + p.start, end=clause.span.start + p.end,
                                                  quote=clause.span.quote[p.start : p.end])
            return
        if re.search(r"\bCPI\b|consumer price index|inflation", clause.span.quote, re.IGNORECASE):
            terms.price_escalator = "CPI-linked increase"
            terms.price_escalator_citation = clause.span
            return
        if re.search(r"(increase|change) (the )?(fees|prices)", clause.span.quote, re.IGNORECASE):
            terms.price_escalator = "uncapped increase right"
            terms.price_escalator_citation = clause.span
            return


def _deadline(terms: RenewalTerms, today: date, term_start: date | None = None) -> None:
    start = term_start or terms.effective_date
    if terms.expiration_date is None and start and terms.initial_term_months:
        terms.expiration_date = start + relativedelta(months=int(round(terms.initial_term_months))) - timedelta(days=1)
    if terms.expiration_date is None:
        return
    end = terms.expiration_date
    step = terms.renewal_term_months if terms.auto_renews and terms.renewal_term_months else None
    while step and end < today:
        end = end + relativedelta(months=int(round(step)))
    terms.current_term_end = end
    if terms.notice_days is not None:
        terms.notice_deadline = end - timedelta(days=terms.notice_days)
        terms.days_until_deadline = (terms.notice_deadline - today).days


def _brief(terms: RenewalTerms, data: RenewalInput) -> NegotiationBrief:
    points: list[str] = []
    if terms.auto_renews and terms.renewal_term_months and terms.renewal_term_months > 12:
        points.append(f"Auto-renews for {terms.renewal_term_months:g} months at a time: ask for 12-month renewals.")
    if terms.notice_days and terms.notice_days > 90:
        points.append(f"{terms.notice_days}-day non-renewal notice is long: ask for 60 days.")
    if terms.price_escalator:
        points.append(f"Price escalator ({terms.price_escalator}): ask for a cap of 3% or CPI, whichever is lower.")
    annual_spend = None
    invoices = [r for r in data.spend if r.kind == "invoice"]
    if invoices:
        latest = max(r.date for r in invoices)
        annual_spend = round(sum(r.amount for r in invoices if (latest - r.date).days < 365), 2)
        points.append(f"Annual spend of {annual_spend:,.2f} gives volume leverage: ask for a 5–10% renewal discount.")
    sla = None
    if data.performance:
        sla = round(sum(p.sla_actual for p in data.performance) / len(data.performance), 2)
        misses = [p.period for p in data.performance if p.sla_actual < p.sla_target]
        if misses:
            points.append(f"SLA missed in {len(misses)} period(s) ({', '.join(misses)}): claim service credits before renewing.")
    if terms.days_until_deadline is None:
        action = "Confirm the effective date, term and notice period by hand: the contract does not state them all."
    elif terms.days_until_deadline < 0:
        action = f"The notice deadline for this term passed on {terms.notice_deadline}; plan for the next term or negotiate an exit."
    elif terms.days_until_deadline <= 120:
        action = f"Decide now: notice of non-renewal is due by {terms.notice_deadline} ({terms.days_until_deadline} days)."
    else:
        action = f"Diary the notice deadline {terms.notice_deadline} ({terms.days_until_deadline} days) and start talks 60 days before."
    return NegotiationBrief(terms=terms, leverage_points=points, recommended_action=action, annual_spend=annual_spend, sla_attainment=sla)


# --- LLM backend ------------------------------------------------------------------------------------

_RENEWAL_CATEGORIES = ("term", "auto_renewal", "renewal_notice", "price_escalation", "payment_terms")


class BriefAnswer(BaseModel):
    leverage_points: list[Annotated[str, Field(max_length=400)]] = Field(min_length=1, max_length=6)
    recommended_action: str = Field(max_length=600)


def analyse_renewal_with_llm(data: RenewalInput, llm: LLMClient) -> NegotiationBrief:
    """Dates and deadlines are computed here, in code; the model writes the negotiation brief from the
    renewal clauses, those computed terms and the spend and performance figures."""
    brief = analyse_renewal(data)
    clauses = [c.span.quote for c in data.extraction.clauses if c.category in _RENEWAL_CATEGORIES]
    if not clauses:
        return brief
    answer = llm.structured("renewal_leverage", load_prompt("renewal_leverage"), {
        "today": data.today.isoformat(), "clauses": "\n".join(dict.fromkeys(clauses)),
        "terms": brief.terms.model_dump_json(exclude={"effective_date_citation", "term_citation", "renewal_citation",
                                                      "notice_citation", "price_escalator_citation"}),
        "spend": f"{brief.annual_spend:.2f}" if brief.annual_spend is not None else "not given",
        "performance": f"SLA attainment {brief.sla_attainment:.1%}" if brief.sla_attainment is not None else "not given",
    }, BriefAnswer)
    return brief.model_copy(update={"leverage_points": answer.leverage_points, "recommended_action": answer.recommended_action})


def analyse_renewal_hybrid(data: RenewalInput, llm: LLMClient) -> tuple[NegotiationBrief, list[str]]:
    """The local brief (dates and deadlines computed in code) with the model's negotiation points added after the
    local ones; the recommended action stays the computed one. No model answer leaves the local brief."""
    local = analyse_renewal(data)
    model, error = llm.second_opinion("renewal_leverage", lambda: analyse_renewal_with_llm(data, llm))
    if model is None:
        return local, [f"renewal: no usable answer from the model ({error}); the local brief is used"]
    added = [f"(model) {p}" for p in model.leverage_points if p not in local.leverage_points]
    if model.recommended_action != local.recommended_action:
        added.append(f"(model) {model.recommended_action}")
    return local.model_copy(update={"leverage_points": local.leverage_points + added}), \
        [f"renewal: the model added {len(added)} negotiation point(s) to the local brief"]
