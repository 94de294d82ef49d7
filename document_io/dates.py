"""Dates as contracts write them: "March 9, 2015", "9th day of March, 2015", "9 March 2015", "2015-03-09",
"3/9/2015", OCR-split ordinals included ("24t h"), read into `datetime.date`."""

from __future__ import annotations

import re
from datetime import date

from dateutil import parser

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
           r"|jan\.?|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sept?\.?|oct\.?|nov\.?|dec\.?")
# ordinals as filings print them, OCR splits included: "24th", "24t h", "15 th"
_ORDINAL_SUFFIX = r"(?:\s?(?:s\s?t|n\s?d|r\s?d|t\s?h)\b)?"
DATE = re.compile(
    rf"(?P<dayof>\d{{1,2}}){_ORDINAL_SUFFIX}\s+(?:day\s+)?of\s+(?P<dayof_month>{_MONTHS}),?\s+(?:A\.?D\.?\s+)?(?P<dayof_year>\d{{4}})"
    rf"|(?P<mdy>\b(?:{_MONTHS})\.?\s+\d{{1,2}}{_ORDINAL_SUFFIX},?\s*\d{{4}})|(?P<dmy>\b\d{{1,2}}{_ORDINAL_SUFFIX}\s+(?:{_MONTHS}),?\s+\d{{4}})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})|(?P<numeric>\b\d{1,2}/\d{1,2}/\d{4}\b)",
    re.IGNORECASE,
)


def parse_date(match: re.Match) -> date | None:
    if match.group("dayof"):
        text = f"{match.group('dayof')} {match.group('dayof_month')} {match.group('dayof_year')}"
    else:
        text = re.sub(r"(\d)\s?(s\s?t|n\s?d|r\s?d|t\s?h)\b", r"\1", match.group(0)).replace(".", "")
        text = re.sub(r",(?=\d{4})", ", ", text)
    try:
        return parser.parse(text, dayfirst=False).date()
    except (ValueError, OverflowError):
        return None


def find_dates(text: str) -> list[tuple[int, int, date]]:
    """Every readable date in `text` with its span."""
    return [(m.start(), m.end(), d) for m in DATE.finditer(text) if (d := parse_date(m)) is not None]
