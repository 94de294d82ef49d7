"""Dates as contracts write them: "March 9, 2015", "9th day of March, 2015", "9 March 2015", "2015-03-09",
"3/9/2015", "7/1/98", "12-23-2019", "1.4.2011" (day first, as European paper writes dotted dates), with the stray
spaces and OCR-split ordinals filings carry ("April 15 , 2010", "24t h"), read into `datetime.date`."""

from __future__ import annotations

import re
from datetime import date

from dateutil import parser
from pydantic import BaseModel

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
           r"|jan\.?|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sept?\.?|oct\.?|nov\.?|dec\.?")
MONTH_NAMES = _MONTHS  # a regex alternation of month names and abbreviations, for readers that match dates in context
# ordinals as filings print them, OCR splits included: "24th", "24t h", "15 th"
_ORDINAL_SUFFIX = r"(?:\s?(?:s\s?t|n\s?d|r\s?d|t\s?h)\b)?"
DATE = re.compile(
    rf"(?P<dayof>\d{{1,2}}){_ORDINAL_SUFFIX}\s+(?:day\s+)?of\s+(?:[-—_]+\s*)?(?P<dayof_month>{_MONTHS})\s*,?\s+(?:A\.?D\.?\s+)?(?P<dayof_year>\d{{4}})"
    rf"|(?P<mdy>(?<![A-Za-z])(?:{_MONTHS})\.?\s+\d{{1,2}}{_ORDINAL_SUFFIX}\s*[,.]?\s*\d{{4}})|(?P<dmy>(?<![\d/.-])\d{{1,2}}{_ORDINAL_SUFFIX}\s+(?:{_MONTHS}),?\s+\d{{4}})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})|(?P<numeric>\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b(?!/))"
    r"|(?P<dashed>\b\d{1,2}-\d{1,2}-(?:\d{4}|\d{2})\b(?!-))|(?P<dotted>\b\d{1,2}\.\d{1,2}\.\d{4}\b)",
    re.IGNORECASE,
)


def parse_date(match: re.Match) -> date | None:
    if match.group("dayof"):
        text = f"{match.group('dayof')} {match.group('dayof_month')} {match.group('dayof_year')}"
    elif match.group("dotted"):
        day, month, year = (int(x) for x in match.group("dotted").split("."))
        return _safe_date(year, month, day)
    elif match.group("numeric") or match.group("dashed"):
        month, day, year = (int(x) for x in re.split(r"[/-]", match.group("numeric") or match.group("dashed")))
        if month > 12 >= day:
            month, day = day, month  # '13/07/05': written day first
        if year < 100:
            year += 2000 if year < 50 else 1900  # '7/1/98' is 1998, '11/4/10' is 2010
        return _safe_date(year, month, day)
    else:
        text = re.sub(r"(\d)\s?(s\s?t|n\s?d|r\s?d|t\s?h)\b", r"\1", match.group(0)).replace(".", "")
        text = re.sub(r"\s+,", ",", text)
        text = re.sub(r"(\d{1,2})\.\s+(\d{4})$", r"\1, \2", text)
        text = re.sub(r",(?=\d{4})", ", ", text)
    try:
        return parser.parse(text, dayfirst=False).date()
    except (ValueError, OverflowError):
        return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, int, date]]:
    """Every readable date in `text` with its span."""
    return [(m.start(), m.end(), d) for m in DATE.finditer(text) if (d := parse_date(m)) is not None]


# --- dates the filed copy leaves blank ---------------------------------------------------------------------

_BLANK = r"(?:_{2,}|\[\s*[_●•*]*\s*\]|\*{3,}|—{1,3})"
# "February ___, 2017", "[ ], 2020", "this ____ day of ________, 2004", "as of _______ 2004", a cover's "July 2013"
BLANK_DATE = re.compile(
    rf"{_BLANK}\s*(?:(?:st|nd|rd|th)\s+)?(?:day\s+of\s+)?(?:(?P<month_after>{_MONTHS})|{_BLANK})?\s*,?\s*(?P<year>(?:19|20)\d{{2}})\b"
    rf"|(?<![A-Za-z])(?P<month>{_MONTHS})\s*(?:{_BLANK}\s*,?\s*|\s(?=\d{{4}})|\s+,\s*)(?P<year2>(?:19|20)\d{{2}})\b"
    # the blank already stripped, as CUAD's text has it: "made as of , 2013", "dated , 2020", a line ", 2006"
    r"|(?:(?<=\bas of)|(?<=\bdated)|(?<=\bmade on)|(?<=\n))\s*,\s*(?P<year3>(?:19|20)\d{2})\b",
    re.IGNORECASE)


class PartialDate(BaseModel):
    """A date whose day (and perhaps month) the filed copy leaves blank: what is known of it, nothing invented."""

    year: int
    month: int | None = None

    def plus_months(self, months: int) -> "PartialDate | None":
        """The same partial date `months` later; None when the year cannot be known (6 months from an unknown month)."""
        if self.month is None:
            return PartialDate(year=self.year + months // 12) if months % 12 == 0 else None
        total = self.year * 12 + (self.month - 1) + months
        return PartialDate(year=total // 12, month=total % 12 + 1)

    def iso(self) -> str:
        """'2004' or '2017-02'."""
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"


def parse_blank_date(match: re.Match) -> PartialDate:
    month_name = match.group("month_after") or match.group("month")
    month = parser.parse(f"1 {month_name.rstrip('.')} 2000").month if month_name else None
    return PartialDate(year=int(match.group("year") or match.group("year2") or match.group("year3")), month=month)
