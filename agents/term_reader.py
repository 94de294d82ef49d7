"""Term reader: when the agreement starts and ends, whether and how it renews, and the notice that stops a renewal,
each read only from a sentence about the agreement's own term, or left empty.

A period in a non-compete ("for six months after termination"), a confidentiality survival clause, a lead time, an
interest rate or the definition of "Year" is not the agreement's term. A renewal at a party's option is not
automatic; a renewal "by mutual agreement" is no renewal term at all; a notice period is the notice to stop a
renewal only when the sentence that carries it ties it to renewal or to the end of the term. A period the filer
redacted ("[*] years") is recorded as redacted, never guessed. An empty fact is better than a wrong one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from dateutil import parser
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

from agents.schema import Span
from document_io.dates import BLANK_DATE, DATE, MONTH_NAMES, PartialDate, parse_blank_date, parse_date
from document_io.legal_text import SentenceUnit, sentence_units
from document_io.models import SourceDocument
from document_io.quantities import Duration, find_durations

FactName = Literal["initial_term", "expiration", "renewal_term", "notice"]


class TermReading(BaseModel):
    agreement_date: date | None = None
    agreement_date_partial: PartialDate | None = Field(default=None, description="the filed copy leaves the day blank")
    effective_date: date | None = None
    effective_date_partial: PartialDate | None = None
    effective_date_citation: Span | None = None
    commencement_date: date | None = Field(default=None, description="a 'Commencement Date' the definitions date")
    expiration_date: date | None = None
    expiration_citation: Span | None = None
    expiration_partial: PartialDate | None = Field(default=None, description="an end counted from a date left blank: "
                                                   "the year (and month) it falls in")
    expiration_may_move: bool = Field(default=False, description="the term ends on the later of this date and an event "
                                      "('the later of the fourth anniversary and completion of the Research')")
    initial_term_months: float | None = None
    term_citation: Span | None = None
    until_terminated: bool = Field(default=False, description="the term runs until a party ends it (no end date)")
    renewal: Literal["automatic", "option", "mutual"] | None = Field(
        default=None, description="automatic: renews unless a party stops it; option: a party may extend it; mutual: "
        "only if both agree (no renewal term)")
    renewal_term_months: float | None = None
    renewal_count: int | None = Field(default=None, description="how many renewals the clause allows (None: successive)")
    renewal_citation: Span | None = None
    notice_days: int | None = Field(default=None, description="notice that stops an automatic renewal")
    notice_months: int | None = Field(default=None, description="the same notice when stated in calendar months or years")
    notice_fixed_day: str | None = Field(default=None, description="'MM-DD': notice due on or before a day of the year")
    notice_citation: Span | None = None
    redacted: list[FactName] = Field(default_factory=list, description="facts the clause states but the filer redacted")


# --- which sentences are about the agreement's term ---------------------------------------------------

_ABOUT_AGREEMENT = re.compile(
    r"\b(?:this|the)\s+(?:[A-Z][\w&-]*\s+){0,5}(?:agreement|contract|amendment|addendum)\b|\bthe\s+(?:initial\s+)?term\b|"
    r"\b(?:initial|original|renewal|then[- ]current|current|first)\s+(?:term|period)\b|[\"“](?:initial\s+)?term[\"”]|"
    r"\bthe\s+[\"“](?:initial\s+)?term[\"”]|[\"“]contract\s+period[\"”]|"
    r"\bterm\s+of\s+(?:this|the)\s+(?:agreement|contract)|\bterm\s+of\s+(?:the\s+)?validity|\bterm\s+hereof\b|"
    r"\b(?:this|the)\s+(?:engagement|arrangement|alliance|promotion|program(?:me)?|venture|joint\s+venture|cooperation)\b|"
    r"\bthe\s+duration\s+of\s+this\b|\bthe\s+effective\s+term\b|^\s*(?:initial\s+)?term\s*[:.]|^\s*agreement\s+(?:shall|will|is)\b", re.IGNORECASE)
_TERM_HEADING = re.compile(r"\b(?:term|duration|period\s+of\s+(?:the\s+)?agreement|effective\s+(?:date|period)|"
                           r"commencement|expiration|renewal)\b", re.IGNORECASE)
# periods that belong to another clause, looked for next to the number
_OTHER_PERIOD = re.compile(
    r"\b(?:compet\w*|solicit\w*|confidential\w*|non-?disclos\w*|surviv\w*|warrant\w*|guarant\w*|lead[- ]?times?|"
    r"interest|royalt\w*|payment|invoice|paid|payable|deliver\w*|ship\w*|orders?|forecast\w*|audit\w*|records?|"
    r"exclusiv\w*|sublicens\w*|lease|employ\w*|wind[- ]down|sell[- ]off|transition\w*|cure|breach|insurance|"
    r"retain|retention|inventory|shelf|notice|notif\w*|"
    r"(?:after|following|upon|from)\s+(?:the\s+)?(?:date\s+of\s+)?(?:any\s+)?(?:termination|expiration|expiry))\b",
    re.IGNORECASE)
_REDACTED = r"(?:\[\s*(?:\*\s*)+\]|\[\s*[●•]\s*\]|\*{2,}|\[\s*\.{3}\s*\*+\s*\.{3}\s*\]|X{3,}|\[\s*X+\s*\])"
_REDACTED_PERIOD = re.compile(_REDACTED + r"\s*(?:\(\s*" + _REDACTED + r"\s*\)\s*)?[\s-]*(?:calendar\s+|business\s+)?"
                              r"(?P<unit>days?|weeks?|months?|years?)\b", re.IGNORECASE)


# the agreement or its term as the subject of a verb of duration: "This Agreement shall continue for ...", "The
# Initial Term shall expire on ...", "the term of validity of this Agreement shall be one year", '"Term" means ...'
# the start of a sentence before its subject: a number, a run-in heading, and an opening clause ("Unless sooner
# terminated as provided herein, ...", "Thereafter, ...", "Subject to Section 11.2, ...")
_LEAD = (r"^\W*(?:(?:section|article|clause)\s+)?(?:\d+(?:\.\d+)*\.?|\([a-z0-9]{1,4}\)|[a-z0-9]{1,3}\)|[A-Z]\.)?\s*(?:[-–—:]\s*)?"
         r"(?:[A-Z][A-Za-z&/ -]{0,40}?(?:\s+\d+(?:\.\d+)*)?(?:[.:]\s+|\s+(?=(?-i:The|This|Unless|Subject|Except|Each)\b)))?"
         r"(?:(?:unless|subject|except|notwithstanding|thereafter|provided|in\s+accordance|as\s+(?:provided|set\s+forth|described|"
         r"specified)|upon|following|after|without|save|other\s+than|except)(?:[^.;]|\.(?=\d))*?,\s+)?")
_DURATION_VERB = (r"\b(?:commence|begin|continue|remain|become\s+effective|extend\s+(?:until|through)|be\s+in\s+(?:full\s+)?(?:force|effect)|be\s+effective|be\s+valid|expire|"
                  r"terminate|end|conclude|run|last|have\s+(?:a|an\s+initial)\s+term|be\s+(?:for\s+)?(?:a\s+period\s+of|one|two|"
                  r"three|four|five|six|seven|eight|nine|ten|\d)|(?:be|is)\s+for\s+(?:a|an\s+initial)\s+(?:term|period)|extended\s+(?:to|until|through))(?![a-z])")
# the agreement or its term as the subject of a verb of duration: "This Agreement shall continue for ...", "The
# Initial Term shall expire on ...", "the term of validity of this Agreement shall be one year", '"Term" means ...'
_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|\d)"
# the agreement or its term as the subject of a verb of duration: "This Agreement shall continue for ...", "The
# Initial Term shall expire on ...", "the term of this Agreement is five (5) years", '"Term" means ...'
_TERM_STATEMENT = re.compile(
    _LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")(?:\s*\([^)]{0,80}\))?(?:[^.;]|\.(?=\d)){0,160}?(?:\b(?:shall|will|is|are|to|and|"
    r"which|that|does|becomes?|comes?)\b[^.;]{0,60}?" + _DURATION_VERB + r"|\b(?:commences|begins|continues|remains|expires|terminates|"
    r"ends|runs|lasts|concludes)\b|\bhas\s+(?:a|an)\s+(?:initial\s+)?term\b|\b(?:is|are|be)\s+(?:for\s+)?(?:an?\s+(?:initial\s+)?(?:period|term)\s+of\s+)?(?:at\s+least\s+)?"
    + _NUMBER_WORD + r")|"
    + _LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")[^.;]{0,220}?\b(?:shall|will|and|to)\s+have\s+a\s+term\s+of\b|"
    + _LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")\s+(?:is|shall\s+be|will\s+be)\s+(?:valid\s+)?for\s+(?:a|an)\s+(?:initial\s+)?(?:term|period)\b|"
    # "The Joint Venture is a fixed term Joint Venture beginning November 27, 2018 and ending November 30th, 2019"
    + _LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")[^.;]{0,80}?\b(?:beginning|commencing|starting|running)\s+(?:on\s+|as\s+of\s+|from\s+)?"
    r"[^.;]{0,30}?\band\s+(?:ending|expiring|terminating|concluding)\b|"
    # 'the initial term of this Agreement ("Term") is the Effective Date through March 15, 2022'
    + _LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")(?:\s*\([^)]{0,40}\))?\s+(?:is|shall\s+be|will\s+be)\s+(?:the\s+period\s+)?(?:from\s+)?"
    r"(?:the\s+)?(?:effective\s+date|date\s+hereof|commencement\s+date)\s+(?:through|to|until)\b|"
    r"[\"“](?:initial\s+)?(?:term|period|initial\s+period|contract\s+period|expiration\s+date|expiry\s+date|termination\s+date)"
    r"[\"”]\s+(?:shall\s+)?mean|^\W*(?:\d+(?:\.\d+)*\.?\s*)?(?:the\s+)?(?:initial\s+)?term\s+(?:shall\s+)?means?\b|"
    r"^\W*(?:\d+(?:\.\d+)*\.?\s*)?(?:the\s+)?(?:initial\s+)?(?:terms?|duration|expiration\s+date|expiry\s+date|termination\s+date)"
    r"(?:\s+of\s+(?:the\s+)?(?:agreement|contract|project|engagement|execution))?(?:\s*[:.\-–]|\s+(?=from\b))|"
    r"\b(?:this|the)\s+(?:\w+\s+){0,4}agreement[^.;]{0,120}\beffective\b[^.;()]{0,80}\b(?:through|until|to)\s+[^.;]{4,30}"
    r"\(\s*(?:the\s+)?[\"“](?:initial\s+)?term[\"”]",
    re.IGNORECASE)


_TERM_HEADING_ONLY = re.compile(r"(?:the\s+)?(?:initial\s+)?(?:terms?|duration|term\s+(?:and|&)\s+(?:termination|renewal)|"
                                r"term\s+of\s+(?:the\s+)?agreement|effective\s+date\s+and\s+term|commencement\s+and\s+term|"
                                r"duration\s+(?:and|&)\s+termination|period\s+of\s+agreement|term\s+of\s+execution)", re.I)


def _has_term_heading(unit: SentenceUnit) -> bool:
    return bool(unit.heading and _TERM_HEADING_ONLY.fullmatch(re.sub(r"[^A-Za-z& ]+", " ", unit.heading).strip()))


def _is_about_term(unit: SentenceUnit) -> bool:
    return bool(_TERM_STATEMENT.search(unit.text)) or (_has_term_heading(unit) and bool(
        re.search(r"\b(?:agreement|term|promotion|engagement|contract|project)\b", unit.text, re.I)))


_DEFINES_THE_TERM = re.compile(r"[\"“](?:initial\s+)?(?:term|expiration\s+date|expiry\s+date)[\"”]\s+(?:shall\s+)?mean", re.IGNORECASE)
_SUBJECT_IS_THE_AGREEMENT = re.compile(_LEAD + r"(?:this|the)\s+(?:(?:initial\s+)?term\s+of\s+(?:this|the)\s+)?(?:\w+\s+){0,4}"
                                       r"(?:agreement|contract)\b|" + _LEAD + r"the\s+(?:initial\s+)?term\b", re.IGNORECASE)


def _term_units(units: list[SentenceUnit]) -> list[SentenceUnit]:
    """The sentences about the agreement's term, strongest first: the agreement or its term as the subject under a
    "Term" heading; a definition of "Term" or "Expiration Date"; the agreement as the subject elsewhere; the rest."""
    def strength(unit: SentenceUnit) -> int:
        subject = bool(_SUBJECT_IS_THE_AGREEMENT.search(unit.text))
        if subject and _has_term_heading(unit):
            return 0
        if _DEFINES_THE_TERM.search(unit.text):
            return 1
        if subject:
            return 2
        return 3 if _TERM_STATEMENT.search(unit.text) else 4
    return sorted((u for u in units if _is_about_term(u)), key=strength)


def _period_is_elsewhere(text: str, start: int, end: int, *, renewal: bool = False) -> bool:
    """A period whose own words (the clause around it, up to the nearest comma or semicolon) are about something else.
    Next to "notice" a period is a notice period, and "upon expiration" starts something after the term: neither is
    the term, though a renewal starts "upon expiration" and runs "unless notice" is given."""
    before = re.split(r"[;:,\]]", text[max(0, start - 90):start])[-1]
    after = re.split(r"[;,:]|\b(?:or|and)\s+\(\w{1,4}\)", text[end:end + 70])[0]  # "... 1999 or (ii) delivery of": the next option
    for words in (before, after):
        for found in _OTHER_PERIOD.finditer(words):
            if not renewal or not re.match(r"notif|notice|(?:after|following|upon|from)\b", found.group(0), re.I):
                return True
    return False


# --- start of the term: the effective and agreement dates -------------------------------------------------

# a date introduced as an end ("shall expire on March 31, 2011") is never the start
_LATER_OF = re.compile(r"\bthe\s+(?:later|latest)\s+(?:of|to\s+occur\s+of)\b", re.IGNORECASE)
_EARLIER_OR_LATER = (r"(?:the\s+(?:earlier|later|earliest|latest)\s+(?:of|to\s+occur\s+of)(?:\s+the\s+(?:below|following)\s+"
                     r"(?:events?|dates?)(?:\s+to)?(?:\s+occurs?)?)?\s*:?\s*(?:\(\w{1,4}\)\s*)?)?")
_EXPIRES = re.compile(r"\b(?:shall|will)\s+(?:expire|terminate|end)\s+(?:on\s+)?" + _EARLIER_OR_LATER + "$|"
                      r"(?:expir\w*|terminat\w*|end\w*|conclud\w*|continu\w*|remain\w* in (?:full )?(?:force|effect)|extend\w*|"
                      r"(?:be|is|remain)\s+(?:in\s+effect|valid|effective))\s+(?:on|until|through|to|at)\s+"
                      r"(?:and including\s+)?(?:the\s+close\s+of\s+business\s+on\s+)?" + _EARLIER_OR_LATER + "$|"
                      r"\b(?:ending|expiring|concluding|terminating)\s+(?:on\s+)?$|\buntil\s+$|\bthrough\s+$|up to and including\s+$|"
                      r"[\"“](?:expiration|expiry|termination|end)\s+date[\"”]\s+(?:shall\s+)?mean\w*\s+$|"
                      r"\b(?:expiration|expiry|termination|end)\s+date\s*:\s*$", re.IGNORECASE)
# "Terms of the project: 12 weeks from February 8, 2018 to May 3, 2018", "TERM: November 01, 2014 to October 31, 2017"
_RANGE_END = re.compile(r"\bfrom\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]{2,8},?\s+\d{4}|"
                        r"\d{1,2}/\d{1,2}/\d{4}|the\s+(?:effective|commencement)\s+date)\s+(?:to|through|until)\s+$|"
                        r"\bterm\s*:\s*(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}/\d{1,2}/\d{4})\s+(?:to|through|-)\s+$",
                        re.IGNORECASE)
_MADE = re.compile(r"dated|made|entered into|executed|signed|agreement[^.]{0,40}(is|dated)|day of|as of", re.IGNORECASE)
# where a date belongs to another document: a filing stamp, or an earlier agreement named in the recitals
_NOT_THIS_AGREEMENTS_DATE = re.compile(
    r"\bsource\s*:[^\n]{0,80}$|,\s*(?:10-[kq]\w*|8-k\w*|s-1\w*|f-1\w*|s-4\w*|10-12[bg]\w*|20-f|n-\d\w*|sb-2\w*|1-a\w*)\s*,\s*$|"
    r"\bfiled\s+(?:with|on)\b[^\n]{0,60}$|"
    r"(?:certain|original|existing|prior|master|underlying|that)\s+[\w\s-]{0,60}?agreement[^.]{0,30}(?:dated|of)\s+(?:as\s+of\s+)?$|"
    r"\bamended\s+(?:and\s+restated\s+)?(?:on|as\s+of)\s+$", re.IGNORECASE)


_OPENING_CHARS = 8000


def _read_dates(document: SourceDocument, reading: TermReading, term_units: list[SentenceUnit]) -> None:
    """The date the agreement is made and the date it takes effect. The effective date, in order: a date defined as
    the "Effective Date"; the date the term sentence says the term begins on ("shall commence on March 15, 2018");
    a date the opening calls effective; the last date signed when the agreement takes effect on signature; the
    date it is made ("dated as of", "this 9th day of March, 2015"); else the first date of the opening. A date a
    filing stamp or a recital gives to another document is not this agreement's date. A date the filed copy leaves
    blank ("dated as of ________, 2004") takes its place in that order and gives only what it shows (the year)."""
    text = document.contract_text()

    def usable(match: re.Match) -> bool:
        before = text[max(0, match.start() - 120):match.start()]
        return (not _EXPIRES.search(text[max(0, match.start() - 60):match.start()])
                and not _NOT_THIS_AGREEMENTS_DATE.search(before) and parse_date(match) is not None)

    def with_blanks(tier: list[re.Match], blanks: list[re.Match]) -> list[re.Match]:
        return sorted([*tier, *blanks], key=lambda m: m.start())

    def made_here(match: re.Match) -> bool:
        return bool(_MADE.search(text[max(0, match.start() - 120):match.start()]))

    # the preamble follows a cover page and a table of contents in some filings: "made" dates are looked for further in
    blank_opening = [m for m in BLANK_DATE.finditer(text[:_OPENING_CHARS])
                     if not _NOT_THIS_AGREEMENTS_DATE.search(text[max(0, m.start() - 120):m.start()])]
    blank_made = [m for m in blank_opening if made_here(m)]
    blank_defined = [m for m in blank_opening if re.match(r"[^.;]{0,40}?\(\s*(?:the\s+|this\s+)?[\"“]\s*effective\s+date",
                                                          text[m.end():m.end() + 80], re.I)]
    opening = [m for m in DATE.finditer(text[:5000]) if usable(m)]
    made = [m for m in DATE.finditer(text[:_OPENING_CHARS]) if usable(m) and made_here(m)]
    witnessed = [m for m in DATE.finditer(text, max(0, len(text) - 6000)) if usable(m) and re.search(
        r"in\s+witness\s+whereof[^.]{0,200}$|\bdated?\s*:?\s*$|\bas\s+of\s+(?:this\s+)?$", text[max(0, m.start() - 220):m.start()], re.I)]
    # a month and year alone ("July 2013") dates the agreement only as a line of its own, as on a cover page
    blank_cover = [m for m in blank_opening if m.start() < 5000 and re.search(r"[_\[*—]", m.group(0)) or m.group("year3") or (
        re.search(r"\n\s*$", text[max(0, m.start() - 5):m.start()]) and re.match(r"\s*(?:\n|$)", text[m.end():m.end() + 5]))]
    if agreement := next(iter(with_blanks(made, blank_made) + witnessed + with_blanks(opening, blank_cover)), None):
        _set_date(reading, "agreement_date", agreement)
    defined = [m for m in DATE.finditer(text[:20000])
               if re.match(r"(?:(?!\d{4})[^.;]){0,40}?\(\s*(?:the\s+|this\s+)?[\"“]\s*effective\s+date", text[m.end():m.end() + 80], re.I)
               or re.search(r"[\"“]effective\s+date[\"”]\s+(?:shall\s+)?(?:mean|be)s?\s+[^.;]{0,40}$", text[max(0, m.start() - 120):m.start()], re.I)]
    term_start = [m for unit in term_units[:3] for m in DATE.finditer(text, unit.start, unit.end)
                  if re.search(r"(?:commenc\w*|begin\w*|start\w*)\s+(?:on|upon|as\s+of|effective\s+as\s+of)\s+(?:the\s+)?$",
                               text[max(unit.start, m.start() - 40):m.start()], re.I) and usable(m)]
    effective_opening = [m for m in opening if re.search(r"effective|commenc", text[max(0, m.start() - 120):m.start()], re.I)]
    introduced = [m for m in DATE.finditer(text) if usable(m) and re.search(
        r"effective|commenc\w*|(?:term|agreement|promotion)[^.;]{0,60}\b(?:begin|start)s?\s+(?:on|as\s+of)\s+$",
        text[max(0, m.start() - 120):m.start()], re.I)]
    signed = _signature_date(text) if _EFFECTIVE_ON_SIGNATURE.search(text[:30_000]) else None
    for match in [*with_blanks(defined, blank_defined), *term_start, *effective_opening, *([signed] if signed else []),
                  *with_blanks(made, blank_made), *introduced, *with_blanks(opening, blank_cover)]:
        if match.re is DATE and parse_date(match) is None:
            continue
        _set_date(reading, "effective_date", match)
        if match.re is DATE:
            reading.effective_date_citation = Span.of(document, match.start(), match.end())
        break
    if reading.effective_date is None and reading.effective_date_partial is None and (
            meant := _date_the_definition_names(text, "effective date", reading)):
        reading.effective_date = meant


def _set_date(reading: TermReading, field: Literal["agreement_date", "effective_date"], match: re.Match) -> None:
    """A full date into the field; a blank one into its partial twin (the field stays empty)."""
    if match.re is BLANK_DATE:
        setattr(reading, f"{field}_partial", parse_blank_date(match))
    else:
        setattr(reading, field, parse_date(match))


def _date_the_definition_names(text: str, term: str, reading: TermReading) -> date | None:
    """'"Effective Date" means the date of this Agreement' / 'Commencement Date means the date of this Agreement'."""
    found = re.search(rf"[\"“]?{term}[\"”]?\s+(?:shall\s+)?means?\s+(?:the\s+)?(?P<what>[^.;]{{0,80}})|"
                      rf"\bthe\s+{term}\s+(?:for|of)\s+this\s+(?:agreement|contract)\s+(?:shall|will)\s+be\s+(?P<what2>[^.;]{{0,60}})", text, re.I)
    # inline: 'commencing on the date first set forth above (the "Commencement Date")'
    inline = re.search(rf"\b(?:on|as\s+of|from)\s+(?:the\s+)?(?P<what>[^.;()]{{0,60}}?)\s*\((?:the\s+|such\s+date,?\s+)?[\"“]{term}[\"”]\)",
                       text, re.I)
    if not (found or inline):
        return None
    what = (found.group("what") or found.group("what2")) if found else inline.group("what")
    if dated := DATE.search(what):
        return parse_date(dated)
    if re.match(r"date\s+(?:hereof|of\s+(?:this|the)\s+agreement|first\s+(?:above\s+)?(?:written|set\s+forth))", what, re.I):
        return reading.agreement_date
    if re.match(r"effective\s+date", what, re.I):
        return reading.effective_date
    return None


# "effective as of the later of the two signature dates below", "the date the last party hereto has executed this
# Agreement", "upon the signatures and seals of both Parties": the date is the last one signed
_EFFECTIVE_ON_SIGNATURE = re.compile(
    r"\beffective\b[^.;]{0,80}\b(?:signature|signed|execut\w+\s+(?:by\s+)?(?:both|all|the\s+last|each))|"
    r"\beffective\s+(?:on|as\s+of)\s+the\s+date\s+of\s+(?:its|their)\s+execution|"
    r"(?:[\"“]effective\s+date[\"”]|\bthe\s+effective\s+date\s+of\s+this\s+agreement)[^.;]{0,60}\b(?:last|later)\b[^.;]{0,60}\b(?:sign|execut)\w*|"
    r"\b(?:takes?|come\s+into)\s+effect\s+upon\s+(?:the\s+)?(?:signature|execution)", re.IGNORECASE)


def _signature_date(text: str) -> re.Match | None:
    """The latest date in the signature block (the last 4,000 characters), filing stamps excluded."""
    tail = max(0, len(text) - 4000)
    dates = [m for m in DATE.finditer(text, tail)
             if parse_date(m) and not _NOT_THIS_AGREEMENTS_DATE.search(text[max(0, m.start() - 120):m.start()])]
    return max(dates, key=lambda m: parse_date(m), default=None)


# --- the initial term -------------------------------------------------------------------------------------

_STAYS = r"(?:continue|remain|extend|be)\s+(?:in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?\s+|valid\s+|effective\s+|in\s+operation\s+)?"
_INITIAL_TERM = re.compile(
    r"(?:term\s+of\s+(?:this|the)\s+(?:\w+\s+){0,5}(?:agreement|contract)\s+(?:shall\s+be|is|will\s+be)\s+(?:for\s+)?(?:a\s+period\s+of\s+)?|"
    r"term\s+of\s+(?:the\s+)?validity\s+of\s+this\s+agreement\s+shall\s+be\s+|"
    r"initial\s+(?:term|period)\s+(?:of|shall\s+be|is|will\s+be)\s+(?:for\s+)?(?:a\s+period\s+of\s+)?|"
    r"(?:shall|will|to|and)\s+have\s+(?:a|an\s+initial)\s+term\s+of\s+|expires?\s+in\s+|^\s*(?:initial\s+)?term\s*[:.]\s*|"
    r"(?:continue|remain)\s+(?:in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?\s+)?until\s+(?:the\s+date\s+(?:that\s+is\s+)?)?|"
    r"(?P<strong>(?:shall|will|and|to)\s+" + _STAYS + r"for\s+(?:at\s+least\s+)?(?:an?\s+(?:initial\s+)?(?:(?:period|term)\s+of\s+)?)?|"
    r"(?:shall|will)\s+(?:be\s+)?(?:remain\s+)?(?:in\s+(?:full\s+)?(?:force|effect)\s+)?for\s+(?:the\s+)?(?:a\s+)?(?:period\s+of\s+)?)|"
    r"for\s+an?\s+(?:initial\s+)?(?:period|term)\s+of\s+|(?:period|term)\s+of\s+|engagement\s+(?:shall\s+be\s+)?for\s+|"
    r"(?P<ends>(?:shall|will)\s+(?:end|expire|terminate|conclude)\s+(?:on\s+the\s+date\s+(?:that\s+is\s+)?)?))$",
    re.IGNORECASE)
_FROM_START = re.compile(r"^\s*(?:\([^)]{0,30}\)\s*)?(?:(?:year\s+)?period\s+)?(?:from|after|following|commencing\s+(?:as\s+of|on))\s+(?:the\s+)?"
                         r"(?P<what>effective\s+date|date\s+(?:hereof|of\s+(?:this|the)\s+(?:agreement|document|contract)|of\s+(?:its\s+)?execution|"
                         r"of\s+(?:the\s+)?effective\s+date|first\s+(?:above\s+|set\s+forth\s+)?(?:written|above)|of\s+signing|"
                         r"of\s+signature)|execution|commencement(?:\s+date)?|(?-i:[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,4}\s+Date))",
                         re.IGNORECASE)
_ANNIVERSARY = re.compile(r"(?:(?:end|expir|terminat|conclud|continu|extend|remain)\w*"
                          r"(?:\s+in\s+(?:full\s+)?(?:force|effect)(?:\s+and\s+effect)?)?\s+(?:on|until|through|upon)|\bthrough|\buntil)\s+"
                          + _EARLIER_OR_LATER
                          + r"(?:\(\w{1,4}\)\s*)?(?:the\s+)?(?:day\s+(?:prior|before)\s+(?:to\s+)?the\s+)?(?:[a-z-]+\s*\(\s*(?P<paren>\d{1,2})\s?(?:s\s?t|n\s?d|r\s?d|t\s?h)?\s*\)|"
                          r"(?P<nth>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+\s?(?:st|nd|rd|t\s?h))(?:\s*\(\w{1,4}\))?|(?:\w+\s+)?\(?(?P<years>\d{1,2})\)?[\s-]+year|(?P<yearword>one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+year)\s+anniversary\s+of\s+(?:the\s+)?"
                          r"(?P<what>effective\s+date|date\s+(?:hereof|of\s+this\s+agreement)|commencement\s+date|this\s+agreement)", re.IGNORECASE)
_CARDINALS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_UNTIL_TERMINATED = re.compile(r"\b(?:until\s+(?:terminated|such\s+time\s+as\s+(?:it\s+is\s+)?terminated)|perpetual(?:ly)?|"
                               r"indefinite(?:ly)?|in\s+perpetuity|no\s+(?:fixed\s+)?(?:expiration|end)\s+date)\b", re.IGNORECASE)
_RENEWING = re.compile(r"\b(?:renew\w*|extend\w*|extension|successive|year[\s-]+to[\s-]+year|month[\s-]+to[\s-]+month|evergreen|"
                       r"(?:additional|further)\s+(?:(?:\w+|\(\d+\))\s+){0,3}?(?:terms?|periods?|years?|months?))\b", re.IGNORECASE)


def _renewal_from(text: str) -> int | None:
    """Where the renewal part of a sentence starts (after a run-in heading such as "Term and Renewal."); "shall extend
    for a period of five years" is how long the agreement runs, not a renewal."""
    heading = re.match(r"^\s*(?:\d+(?:\.\d+)*\.?\s*)?(?:[A-Z][A-Za-z]*\s*(?:and|&)?\s*){1,5}[.:]?\s+(?=[A-Z])", text)
    skip = heading.end() if heading and _RENEWING.search(heading.group(0)) else 0
    for found in _RENEWING.finditer(text, skip):
        if not _runs_the_term(text, found.start(), found.end()):
            return found.start()
    return None


def _runs_the_term(text: str, start: int, end: int) -> bool:
    """"shall extend for a period of five years", "shall extend until the fourth anniversary": how long the agreement
    runs, not a renewal ("shall extend for an additional year" is one). Nor is a passing mention: "unless mutually
    extended by written agreement", "as may be extended", "including any extension"."""
    if re.search(r"\b(?:unless|or|as|including)\s+(?:otherwise\s+|mutually\s+|so\s+|may\s+be\s+|(?:any|such)\s+)?$",
                 text[max(0, start - 30):start], re.I) and not re.match(r"\w+\s+(?:automatically|for\s+(?:an?\s+)?(?:additional|successive))",
                                                                      text[start:end + 40], re.I):
        return True
    return bool(re.match(r"extend\w*\s+(?:for\s+(?!(?:an?\s+)?(?:additional|successive|further|another|one\s+additional))|"
                         r"until\b|through\b|to\s+(?:and\s+including\s+)?the\s+(?!end|expir))", text[start:end + 40], re.I)
                and re.search(r"\b(?:shall|will|and)\s+$", text[max(0, start - 8):start])
                # an amendment: "The Term of the Agreement is hereby extended to January 20, 2012"
                or re.match(r"extended\s+(?:to|until|through)\b", text[start:end + 20], re.I)
                and re.search(r"\b(?:is|are|be)\s+(?:hereby\s+)?$", text[max(0, start - 20):start]))


def _start_of(what: str, reading: TermReading) -> date | PartialDate | None:
    """The date a period is counted from: the effective date, the agreement's date, a "Commencement Date" the
    definitions date, or nothing when it counts from an event this reader does not date ("the Hosting Service Ready
    Date")."""
    what = " ".join(what.lower().split())
    if re.match(r"commencement(?:\s+date)?$", what) and reading.commencement_date is not None:
        return reading.commencement_date
    if re.match(r"effective\s+date|date\s+of\s+(?:the\s+)?effective", what):
        return _effective_start(reading)
    if re.match(r"date\s+(?:hereof|of\s+(?:this|the)\s+(?:agreement|document|contract)|of\s+(?:its\s+)?execution|first|of\s+sign)|"
                r"execution|this\s+agreement", what):
        return reading.agreement_date or reading.agreement_date_partial or reading.effective_date or reading.effective_date_partial
    return None


def _effective_start(reading: TermReading) -> date | PartialDate | None:
    return reading.effective_date or reading.effective_date_partial or reading.agreement_date or reading.agreement_date_partial


def _set_end(reading: TermReading, start: date | PartialDate, months: int, citation: Span, text: str, *, anniversary: bool) -> None:
    """The end of a term of `months` from `start`: the anniversary itself, or the day before it ("for three years");
    from a date left blank, only the year (and month) it falls in."""
    if isinstance(start, PartialDate):
        reading.expiration_partial = start.plus_months(months)
    else:
        reading.expiration_date = start + relativedelta(months=months) - (timedelta(0) if anniversary else timedelta(days=1))
    if reading.expiration_date or reading.expiration_partial:
        reading.expiration_citation = citation
        reading.expiration_may_move = _LATER_OF.search(text) is not None


def _read_initial_term(units: list[SentenceUnit], reading: TermReading, document: SourceDocument) -> None:
    for unit in units:
        text = unit.text
        if not _TERM_STATEMENT.search(text):
            continue  # under a "Term" heading but about something else ("any renewal shall be on the same terms")
        if anniversary := _ANNIVERSARY.search(text):
            nth = (anniversary.group("paren") or anniversary.group("nth") or anniversary.group("years")
                   or anniversary.group("yearword")).lower()
            years = _ORDINALS.get(nth) or _CARDINALS.get(nth) or int(re.match(r"\d+", nth).group(0))
            reading.initial_term_months = 12.0 * years
            reading.term_citation = Span.of(document, unit.start + anniversary.start(), unit.start + anniversary.end())
            if reading.expiration_date is None and (start := _start_of(anniversary.group("what"), reading)):
                _set_end(reading, start, 12 * years, reading.term_citation, text, anniversary=True)
            return
        renewal_at = _renewal_from(text)
        for duration in find_durations(text):
            if renewal_at is not None and duration.start > renewal_at:
                break  # the periods after "renew" / "successive" are the renewal's
            if duration.unit not in ("month", "year") or _period_is_elsewhere(text, duration.start, duration.end):
                continue
            introduced = _INITIAL_TERM.search(text[max(0, duration.start - 90):duration.start])
            from_start = _FROM_START.match(text[duration.end:duration.end + 80])
            # "a period beginning on the Effective Date and ending ten (10) years thereafter": counted from that start
            ends_after_start = (re.search(r"\b(?:begin|commenc|start)\w*\s+(?:on|as\s+of|upon)\b[^.;]{0,60}\band\s+(?:ending|expiring|"
                                          r"terminating|concluding)\s+$", text[max(0, duration.start - 120):duration.start], re.I)
                                and re.match(r"\W*thereafter\b", text[duration.end:duration.end + 20], re.I))
            after_the_term = (re.match(r"\W*(?:thereafter|after|following)\b", text[duration.end:duration.end + 25], re.I)
                              and not from_start and not (introduced and introduced.group("strong")) and not ends_after_start)
            if introduced and introduced.group("ends") and not (from_start or re.match(
                    r"\W*(?:therefrom|thereafter|after\s+(?:the\s+)?(?:effective|commencement)|following\s+(?:the\s+)?effective)",
                    text[duration.end:duration.end + 40], re.I)):
                continue  # "shall end ninety days after the last delivery": counted from something else
            if not (introduced or ends_after_start or (from_start and re.search(r"\bterm\b|\bagreement\b", text, re.I))) or after_the_term:
                continue
            reading.initial_term_months = round(duration.in_unit("months"), 1)
            reading.term_citation = Span.of(document, unit.start + duration.start, unit.start + duration.end)
            counted_from_else = re.match(r"\W*(?:from|after|following|commencing)\s+(?:the\s+)?(?:date|day|time|first|completion|"
                                         r"receipt|launch|installation|acceptance|[A-Z])", text[duration.end:duration.end + 60])
            start = (_start_of(from_start.group("what"), reading) if from_start
                     else None if counted_from_else else _stated_start(text) or _effective_start(reading))
            if reading.expiration_date is None and start is not None:
                _set_end(reading, start, int(round(reading.initial_term_months)), reading.term_citation, text, anniversary=False)
            return
        if redacted := _REDACTED_PERIOD.search(text):
            before = text[max(0, redacted.start() - 90):redacted.start()]
            if _INITIAL_TERM.search(before) and not (renewal_at is not None and redacted.start() > renewal_at):
                reading.redacted.append("initial_term")
                reading.term_citation = Span.of(document, unit.start + redacted.start(), unit.start + redacted.end())
                return


def _stated_start(text: str) -> date | None:
    """'shall commence on April 1, 1999 and shall continue for six (6) months': the date the term sentence starts from."""
    for match in DATE.finditer(text):
        if re.search(r"(?:commenc\w*|begin\w*|start\w*|effective|from|as\s+of)\s+(?:on\s+|upon\s+|as\s+of\s+)?$",
                     text[max(0, match.start() - 30):match.start()], re.I):
            return parse_date(match)
    return None


def _read_end_date(units: list[SentenceUnit], reading: TermReading, document: SourceDocument) -> None:
    """An end date the term sentence states ("shall expire on March 31, 2011", "until December 31, 2022",
    '"Expiration Date" means March 31, 2020', "TERM: November 01, 2014 to October 31, 2017")."""
    for unit in units:
        text = unit.text
        if not _TERM_STATEMENT.search(text):
            continue
        renewal_at = _renewal_from(text)
        for match in DATE.finditer(text):
            before = text[max(0, match.start() - 70):match.start()]
            if not (_EXPIRES.search(before) or _RANGE_END.search(before)):
                continue
            if renewal_at is not None and renewal_at < match.start():
                continue  # "... may renew for one additional period that shall end on December 31, 2009"
            if _period_is_elsewhere(text, match.start(), match.end()):
                continue
            parsed = parse_date(match)
            if parsed and (reading.effective_date is None or parsed > reading.effective_date):
                reading.expiration_date = parsed
                reading.expiration_citation = Span.of(document, unit.start + match.start(), unit.start + match.end())
                return


def _read_calendar_year_end(units: list[SentenceUnit], reading: TermReading, document: SourceDocument) -> None:
    """'shall remain in effect until the end of the current calendar year'."""
    start = _effective_start(reading)
    for unit in units:
        if start and (found := re.search(r"\buntil\s+the\s+end\s+of\s+the\s+(?:current|then[- ]current|first)\s+calendar\s+year\b",
                                         unit.text, re.I)):
            if isinstance(start, PartialDate):
                reading.expiration_partial = PartialDate(year=start.year, month=12)
            else:
                reading.expiration_date = date(start.year, 12, 31)
            reading.expiration_citation = Span.of(document, unit.start + found.start(), unit.start + found.end())
            return


# --- renewal and the notice that stops it ---------------------------------------------------------------

_RENEWS = re.compile(r"\b(?:renew\w*|extend\w*|extension|successive|year[\s-]+to[\s-]+year|month[\s-]+to[\s-]+month|"
                     r"(?:continue|remain)\w*[^.;]{0,40}?\b(?:thereafter|indefinitely|after\s+that)\b[^.;]{0,30}?\buntil\s+terminated|"
                     r"evergreen|(?:continue|remain)\w*\s+(?:in\s+(?:full\s+)?(?:force|effect)\s+)?(?:thereafter\s+)?"
                     r"(?:for|on\s+a)\s+(?:successive|additional|further|subsequent|consecutive|an?\s+additional|one\s+additional))\b",
                     re.IGNORECASE)
_ABOUT_THE_LICENSE_OR_OTHER = re.compile(r"\bextension\s+of\s+(?:the\s+)?(?:time|credit|scope|any\s+deadline)|\brenewals?\s+or\s+replacement|"
                                         r"\bextend\w*\s+(?:the\s+)?(?:time|deadline|date)\b|"
                                         r"\b(?:extend\w*|renew(?:s|ed|ing)?)\s+(?:the\s+)?(?:warranty|license|"
                                         r"licence|lease|insurance|policy|period\s+for|such\s+period|payment|credit|offer|"
                                         r"exclusivity|cure|any\s+period)\b|\brenewal\s+(?:fees?|premiums?|of\s+(?:the\s+)?"
                                         r"(?:license|licence|patent|registration|insurance|lease|permit))\b", re.IGNORECASE)
# where the renewal part of a renewal sentence begins ("shall automatically continue following the Initial Term, for an
# additional period of three (3) years"): periods before it are the initial term's
_RENEWAL_START = re.compile(r"\b(?:renew\w*|extend\w*|extension|successive|automatic\w*|tacit\w*|additional|another|further|"
                            r"year[\s-]+to[\s-]+year|month[\s-]+to[\s-]+month)\b", re.IGNORECASE)
_MUTUAL = re.compile(r"\b(?:by\s+)?mutual(?:ly)?\s+(?:written\s+)?(?:agreement|consent|agreed|agree)|\bupon\s+(?:the\s+)?mutual|"
                     r"\bif\s+(?:both\s+)?(?:the\s+)?parties\s+(?:so\s+)?(?:mutually\s+)?agree|\bas\s+(?:the\s+parties\s+)?(?:may\s+be\s+)?"
                     r"(?:mutually\s+)?agreed|\bunless\s+(?:the\s+parties|both\s+parties)\s+agree\s+to\s+(?:renew|extend)|"
                     r"\bby\s+agreement\s+of\s+(?:the|both)\s+parties|\bupon\s+(?:the\s+)?(?:written\s+)?agreement\s+of\b|"
                     r"\bnegotiat\w*\s+(?:in\s+good\s+faith\s+)?(?:a|an|the)\s+(?:renewal|extension)", re.IGNORECASE)
_OPTION = re.compile(r"\b(?:may|shall\s+have\s+the\s+(?:right|option)\s+to|has\s+the\s+(?:right|option)\s+to|options?\s+to|"
                     r"right\s+to|at\s+(?:its|the)\s+(?:sole\s+)?(?:option|discretion|election)|elect(?:s|ion)?\s+to)\b"
                     r"[^.;]{0,60}?\b(?:renew|extend)", re.IGNORECASE)
_AUTOMATIC = re.compile(r"\bautomatic(?:ally)?\b|\btacit(?:ly)?\b|\b(?:thereafter|indefinitely|after\s+that)\b[^.;]{0,30}?\buntil\s+terminated|\b(?:shall|will)\s+(?:thereafter\s+)?(?:be\s+)?(?:renew|extend)\w*|"
                        r"\b(?:shall|will)\s+(?:thereafter\s+)?(?:continue|remain)\w*\s+(?:in\s+(?:full\s+)?(?:force|effect)\s+)?"
                        r"(?:thereafter\s+)?(?:for|on\s+a)\s+(?:successive|additional|further|subsequent|consecutive|an?\s+additional)|"
                        r"\bunless\s+(?:either|one|a|the)\s+party\b|\bunless\s+(?:and\s+until\s+)?(?:sooner\s+)?terminated|"
                        r"\bunless\s+(?:written\s+)?notice|\byear[\s-]+to[\s-]+year\b|\bmonth[\s-]+to[\s-]+month\b|\bevergreen\b", re.IGNORECASE)
_ONE_OFF = re.compile(r"\b(?:one|1)\s*(?:\(\s*1\s*\)\s*)?(?:additional|further|renewal|extension)\b|\ba\s+(?:single|one[- ]time)\b|"
                      r"\bonce\b|\bone\s+\(1\)\s+time\b|\b(?P<n>two|three|four|five|2|3|4|5)\s*(?:\(\s*\d\s*\)\s*)?"
                      r"(?:additional|further|successive|consecutive|renewal|extension)\b", re.IGNORECASE)
_RHYTHM = ((re.compile(r"\byear[\s-]+to[\s-]+year\b|\bsuccessive\s+annual\b|\bannual\s+(?:periods?|terms?|basis)\b|"
                       r"\byearly\s+basis\b|\b(?:renew\w*|extend\w*)\s+(?:\w+\s+){0,3}?(?:annually|each\s+year|every\s+year)\b|"
                       r"\b(?:each|every)\s+year\s+thereafter\b", re.I), 12.0),
           (re.compile(r"\bmonth[\s-]+to[\s-]+month\b|\bmonthly\s+(?:periods?|basis|terms?)\b|\bsuccessive\s+monthly\b", re.I), 1.0),
           (re.compile(r"\bquarter[\s-]+to[\s-]+quarter\b|\bsuccessive\s+quarterly\b", re.I), 3.0))
_SAME_AS_INITIAL = re.compile(r"\b(?:of\s+)?(?:the\s+)?same\s+(?:duration|length|period)\b|\bequal\s+(?:in\s+length\s+)?to\s+the\s+initial\s+term\b",
                              re.I)
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}


def _renews_the_agreement(text: str) -> bool:
    """The agreement or its term is what renews: named shortly before a renewal word ("this Agreement shall
    automatically renew"), or right after it ("extend the Term", "renew this Agreement", "renew the Franchise")."""
    subject = re.match(_LEAD + r"(?:" + _ABOUT_AGREEMENT.pattern + r")", text, re.IGNORECASE)
    for word in _RENEWING.finditer(text):
        start = word.start()
        # "This agreement shall begin ... and shall be automatically renewed": the sentence's subject, a verb later
        continues_subject = subject and re.search(r"\band\s+(?:shall|will)\s+(?:thereafter\s+)?(?:be\s+)?(?:automatically\s+)?$",
                                                  text[max(0, start - 40):start], re.IGNORECASE)
        if (continues_subject or _ABOUT_AGREEMENT.search(text[max(0, start - 120):start])
                or re.match(r"\w+\s+(?:this|the|its|your|such)\s+(?:\w+\s+){0,3}(?:agreement|term|franchise|contract)\b",
                            text[start:start + 80], re.I)):
            return True
    return False


def _renewal_units(units: list[SentenceUnit]) -> list[tuple[int, SentenceUnit]]:
    """Sentences that renew or extend the agreement or its term (not a licence, a support period or a deadline)."""
    return [(i, u) for i, u in enumerate(units)
            if any(not _runs_the_term(u.text, m.start(), m.end()) for m in _RENEWS.finditer(u.text)) and _renews_the_agreement(u.text)
            and not _ABOUT_THE_LICENSE_OR_OTHER.search(u.text)]


class _RenewalClause(BaseModel):
    index: int
    kind: Literal["automatic", "option", "mutual"]
    months: float | None = None
    count: int | None = None
    citation: Span
    redacted: bool = False


def _renewal_clause(index: int, unit: SentenceUnit, reading: TermReading, document: SourceDocument) -> _RenewalClause | None:
    text = unit.text
    renews = _RENEWS.search(text, _renewal_from(text) or 0) or _RENEWS.search(text)
    kind: Literal["automatic", "option", "mutual"]
    if _MUTUAL.search(text):
        kind = "mutual"
    elif _OPTION.search(text) and not re.search(r"\bautomatic", text, re.I):
        kind = "option"
    elif _AUTOMATIC.search(text):
        kind = "automatic"
    else:
        return None
    clause = _RenewalClause(index=index, kind=kind, citation=Span.of(document, unit.start + renews.start(), unit.start + renews.end()))
    if kind == "mutual":
        return clause  # a renewal only if both agree commits no renewal term: an agreement to agree
    begins = _RENEWAL_START.search(text, _renewal_from(text) or 0)
    from_at = min(renews.start(), begins.start()) if begins else renews.start()
    after, offset = text[from_at:], unit.start + from_at
    if count := _ONE_OFF.search(after):
        n = (count.group("n") or "").lower()
        clause.count = _COUNT_WORDS.get(n) or (int(n) if n.isdigit() else 1)
    for duration in find_durations(after):
        if duration.unit not in ("month", "year") or re.search(r"\bnotice|prior\s+to|before", after[max(0, duration.start - 60):duration.start], re.I):
            continue
        if re.match(r"\W*(?:(?:s|prior|written|advance|calendar|business)\W+){0,2}?(?:prior\s+to|before|in\s+advance|notice)",
                    after[duration.end:duration.end + 40], re.I):
            continue  # "at least six (6) months prior to the expiration": a notice, not the renewal term
        if _period_is_elsewhere(after, duration.start, duration.end, renewal=True):
            continue
        clause.months = round(duration.in_unit("months"), 1)
        clause.citation = Span.of(document, offset + duration.start, offset + duration.end)
        return clause
    for pattern, months in _RHYTHM:
        if found := pattern.search(text):
            clause.months = months
            clause.citation = Span.of(document, unit.start + found.start(), unit.start + found.end())
            return clause
    if (same := _SAME_AS_INITIAL.search(after)) and reading.initial_term_months:
        clause.months = reading.initial_term_months
        clause.citation = Span.of(document, offset + same.start(), offset + same.end())
        return clause
    if redacted := _REDACTED_PERIOD.search(after):
        clause.redacted = True
        clause.citation = Span.of(document, offset + redacted.start(), offset + redacted.end())
    return clause


def _read_renewal(units: list[SentenceUnit], reading: TermReading, document: SourceDocument) -> int | None:
    """The renewal clause: its kind, its term and how many times; of several, an automatic renewal with a stated term
    before one without, before an option, before a renewal by mutual agreement. Returns the index of its sentence."""
    clauses = [c for i, u in _renewal_units(units) if (c := _renewal_clause(i, u, reading, document))]
    if not clauses:
        return None
    rank = {"automatic": 0, "option": 1, "mutual": 2}
    best = min(clauses, key=lambda c: (rank[c.kind], c.months is None and not c.redacted, c.index))
    reading.renewal, reading.renewal_citation = best.kind, best.citation
    reading.renewal_term_months, reading.renewal_count = best.months, best.count
    if best.redacted:
        reading.redacted.append("renewal_term")
    return best.index


_NOTICE_WORD = re.compile(r"\bnotice|\bnotif|\bnotify|\binform|\bin\s+writing|\bterminat\w*\b[^.;]{0,60}\bprior\s+to\s+the\s+(?:expir|end)", re.IGNORECASE)
# the wording that ties a notice to the end of the term or to not renewing
_STOPS_RENEWAL = re.compile(r"\bnon-?renewal|\bnot\s+(?:to\s+)?(?:be\s+)?(?:renew|extend)|\bintent\w*\s+(?:not\s+)?to\s+(?:renew|terminate)|"
                            r"\b(?:prior\s+to|before|in\s+advance\s+of|preceding)\s+(?:the\s+)?(?:end|expiration|expiry|"
                            r"conclusion|close|anniversary|renewal|natural\s+expiry)|\bunless\s+(?:and\s+until\s+)?(?:either|one|a|the)\s+party|"
                            r"\bunless\s+(?:sooner\s+)?terminated|\belect\w*\s+(?:not\s+)?to\s+(?:renew|terminate)|"
                            r"\b(?:at|of)\s+the\s+(?:end|expiration|expiry|conclusion)\s+of\s+(?:the\s+|its\s+|any\s+)?"
                            r"[\w\s-]{0,20}?(?:term|period)|"
                            r"\buntil\s+terminated\s+by", re.IGNORECASE)
# a notice period: "at least ninety (90) days' prior written notice", "notice ... sixty (60) days prior to"
_NOTICE_AFTER = re.compile(r"^\W*(?:(?:calendar|business|days?|months?)\W+)?(?:prior|before|in\s+advance|advance|written|notice|"
                           r"notification|of\s+(?:the\s+)?(?:end|expir|conclusion))", re.IGNORECASE)
_NOTICE_BEFORE = re.compile(r"(?:notice|notify|notifies|notification|notified)\W+(?:\w+\W+){0,5}$", re.IGNORECASE)


# a notice due by a day of the year, not a period before the end: "on or before October 1 of any year"
_FIXED_NOTICE_DAY = re.compile(
    rf"\b(?:(?P<inclusive>on\s+or\s+before|no\s+later\s+than|not\s+later\s+than|by)|before|prior\s+to)\s+"
    rf"(?:the\s+)?(?:(?P<month>{MONTH_NAMES})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?)\b(?!\s*,?\s*(?:19|20)\d{{2}})",
    re.IGNORECASE)


def _notice_in(text: str) -> Duration | None:
    for duration in find_durations(text):
        if duration.unit not in ("day", "business day", "week", "month", "year"):
            continue
        if re.match(r"\W*(?:after|following)\s+(?:the\s+)?(?:receipt|delivery|date\s+of)", text[duration.end:duration.end + 40], re.I):
            continue  # "within 30 days after receipt of notice": a cure period, not the notice
        if _NOTICE_AFTER.match(text[duration.end:duration.end + 40]) or _NOTICE_BEFORE.search(text[max(0, duration.start - 60):duration.start]):
            return duration
    return None


def _read_notice(units: list[SentenceUnit], reading: TermReading, document: SourceDocument, renewal_index: int | None) -> None:
    """The notice tied to renewal: in the renewal sentence or the two after it, else in any sentence that ties a notice
    to not renewing or to the end of the term. With a renewal by mutual agreement there is none."""
    if reading.renewal == "mutual":
        return
    near = list(range(renewal_index, min(len(units), renewal_index + 3))) if renewal_index is not None else []
    # elsewhere only a notice of non-renewal ("notice of its intention not to renew ... 90 days prior to expiration"),
    # or for an option the notice that exercises it; a termination-for-convenience notice is not about renewal
    wording = (r"\bnon-?renewal|\bnot\s+(?:to\s+)?(?:be\s+)?renew|\bintent\w*\s+not\s+to\s+(?:renew|extend)|\belect\w*\s+not\s+to\s+renew|"
               r"\b(?:terminat|cancel)\w*\b[^.;]{0,80}\b(?:at|upon|on|before)\s+the\s+(?:end|expir\w*|conclusion)\s+(?:date\s+)?of\s+(?:the|its|this)\b"
               if reading.renewal != "option" else r"\b(?:renew|extend)\w*")
    anywhere = [i for i, u in enumerate(units) if i not in near and _ABOUT_AGREEMENT.search(u.text) and re.search(wording, u.text, re.I)]
    if reading.renewal is None and not anywhere:
        return
    for index in [*near, *anywhere]:
        text = units[index].text
        if not (_NOTICE_WORD.search(text) and _STOPS_RENEWAL.search(text)):
            continue
        if fixed := _FIXED_NOTICE_DAY.search(text):
            month = parser.parse(f"1 {fixed.group('month').rstrip('.')} 2000").month
            day = int(fixed.group("day"))
            if not fixed.group("inclusive"):  # "prior to October 1": the last day is 30 September
                before = date(2001, month, day) - timedelta(days=1)
                month, day = before.month, before.day
            reading.notice_fixed_day = f"{month:02d}-{day:02d}"
            reading.notice_citation = Span.of(document, units[index].start + fixed.start(), units[index].start + fixed.end())
            return
        if duration := _notice_in(text):
            reading.notice_days = int(round(duration.in_unit("days")))
            if duration.unit in ("month", "year"):
                reading.notice_months = int(round(duration.in_unit("months")))
            reading.notice_citation = Span.of(document, units[index].start + duration.start, units[index].start + duration.end)
            return
        if redacted := next((r for r in _REDACTED_PERIOD.finditer(text) if _NOTICE_AFTER.match(text[r.end():r.end() + 40])
                             or _NOTICE_BEFORE.search(text[max(0, r.start() - 60):r.start()])), None):
            reading.redacted.append("notice")
            reading.notice_citation = Span.of(document, units[index].start + redacted.start(), units[index].start + redacted.end())
            return


# --- the reader -----------------------------------------------------------------------------------------------


def read_term(document: SourceDocument) -> TermReading:
    reading = TermReading()
    every = sentence_units(document)
    units = _term_units(every)
    _read_dates(document, reading, units)
    reading.commencement_date = _date_the_definition_names(document.contract_text(), "commencement date", reading)
    # a sentence that says the agreement lasts until a party ends it has no end date
    for unit in units:
        # a notice period ("until terminated ... upon ninety (90) days' written notice") is not a term's length
        lengths = [d for d in find_durations(unit.text) if not _NOTICE_AFTER.match(unit.text[d.end:d.end + 40])]
        if _UNTIL_TERMINATED.search(unit.text) and not lengths and not DATE.search(unit.text):
            reading.until_terminated = True
            break
    _read_end_date(units, reading, document)
    _read_initial_term(units, reading, document)
    if reading.expiration_date is None and reading.expiration_partial is None:
        _read_calendar_year_end(units, reading, document)
    renewal_index = _read_renewal(every, reading, document)
    _read_notice(every, reading, document, renewal_index)
    return reading
