"""One quantity model for contract text: durations, percentages, money, multiples and counts, each parsed into a value
with a unit and the exact characters it came from, and written back in the contract's own style.

Every playbook rule compares in a common unit (`Duration.in_unit`), and a redline writes the playbook's value in the
unit the playbook means ("within ten (10) days" against a 48-hour rule becomes "within forty-eight (48) hours", not
"forty-eight (48) days"). Business days count as 7/5 calendar days; months as 365.25/12 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- numbers written as words ---------------------------------------------------------------------

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: 10 * i for i, w in enumerate(_TENS) if w}
_NUMBER_WORD = r"(?:" + "|".join(sorted(_WORD_VALUES, key=len, reverse=True)) + r"|hundred|thousand)"
_WORD_NUMBER = _NUMBER_WORD + r"(?:(?:[\s-]+|\s+and\s+)" + _NUMBER_WORD + r")*"


def words_to_number(words: str) -> int | None:
    total, current = 0, 0
    for token in re.split(r"[\s-]+", words.lower()):
        if token == "and" or not token:
            continue
        if token == "hundred":
            current = max(current, 1) * 100
        elif token == "thousand":
            total += max(current, 1) * 1000
            current = 0
        elif token in _WORD_VALUES:
            current += _WORD_VALUES[token]
        else:
            return None
    return total + current


def number_to_words(value: int) -> str:
    if value < 20:
        return _UNITS[value]
    if value < 100:
        tens, units = divmod(value, 10)
        return _TENS[tens] + (f"-{_UNITS[units]}" if units else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_UNITS[hundreds]} hundred" + (f" and {number_to_words(rest)}" if rest else "")
    thousands, rest = divmod(value, 1000)
    return f"{number_to_words(thousands)} thousand" + (f" {number_to_words(rest)}" if rest else "")


# --- durations ----------------------------------------------------------------------------------------

# "one (I) year": OCR reads the digit 1 as a capital I or a small l
_NUMBER = (r"(?:(?P<words>" + _WORD_NUMBER + r")\s*\(\s*(?P<digits>\d{1,4}|[Il])\s*\)|(?P<bare>\d{1,4}(?:\.\d+)?)|(?P<only_words>"
           + _WORD_NUMBER + r"))")
_UNIT_WORD = r"(?P<unit>(?:business |calendar |working |banking )?(?:hours?|days?|weeks?|months?|years?))(?:'s?|’s?)?"
_DURATION = re.compile(r"\b" + _NUMBER + r"[\s~-]*" + _UNIT_WORD + r"(?![a-z])", re.IGNORECASE)
_NET = re.compile(r"\bnet\s*(?P<bare>\d{1,3})\b", re.IGNORECASE)
# Calendar days per unit. A business day is 7/5 of a calendar day on average (weekends; holidays ignored).
_TO_DAYS = {"hour": 1 / 24, "business day": 7 / 5, "day": 1, "week": 7, "month": 365.25 / 12, "year": 365.25}


def unit_key(unit: str) -> str:
    """'Business Days' → 'business day', 'hours' → 'hour', 'calendar days' → 'day'."""
    unit = re.sub(r"\s+", " ", unit.lower().strip())
    unit = re.sub(r"^(calendar) ", "", unit)
    unit = re.sub(r"^(working|banking) ", "business ", unit)
    return unit[:-1] if unit.endswith("s") else unit


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between hours / business days / days / weeks / months / years (any spelling `unit_key` reads)."""
    return value * _TO_DAYS[unit_key(from_unit)] / _TO_DAYS[unit_key(to_unit)]


def _number(match: re.Match) -> tuple[float | None, str]:
    if match.group("digits"):
        return float(match.group("digits").replace("I", "1").replace("l", "1")), "words_digits"
    if match.group("bare"):
        return float(match.group("bare")), "digits"
    return words_to_number(match.group("only_words")), "words"


@dataclass(frozen=True)
class Duration:
    start: int
    end: int
    value: float
    unit: str  # unit_key: hour, business day, day, week, month, year
    unit_text: str  # as written ("calendar days", "Business Days")
    style: str  # "words_digits" | "digits" | "words" | "net"
    hyphenated: bool = False  # "a 12-month period", "a five-year term"

    @property
    def attributive(self) -> bool:
        """Used as an adjective ("a 12-month period", "the three year period"): the unit stays singular."""
        return self.hyphenated or (self.value != 1 and not self.unit_text.lower().endswith("s") and self.style != "net")

    def in_unit(self, unit: str) -> float:
        return convert(self.value, self.unit, unit)


def find_durations(text: str) -> list[Duration]:
    found = []
    for m in _DURATION.finditer(text):
        value, style = _number(m)
        if value is None:
            continue
        found.append(Duration(m.start(), m.end("unit"), value, unit_key(m.group("unit")), m.group("unit"), style,
                              hyphenated="-" in text[m.start():m.start("unit")][-3:]))
    for m in _NET.finditer(text):
        if not any(d.start <= m.start() < d.end for d in found):
            found.append(Duration(m.start(), m.end(), int(m.group("bare")), "day", "", "net"))
    return sorted(found, key=lambda d: d.start)


def format_duration(value: float, like: Duration, unit: str | None = None) -> str:
    """Write `value` in `unit` (default: `like`'s own unit) in `like`'s style: 'forty-eight (48) hours'.

    When the unit changes, the unit is written plainly ("hours"), keeping the original's capitalisation."""
    number = int(round(value))
    if like.style == "net" and (unit is None or unit_key(unit) == "day"):
        return f"net {number}"
    if unit is None or unit_key(unit) == like.unit:
        unit_text = like.unit_text or "days"
    else:
        unit_text = unit_key(unit) + "s"
        if like.unit_text[:1].isupper():
            unit_text = unit_text.title()
    if like.attributive:
        # "a 12-month period" → "a six-month period", "the three year period" → "the six month period"
        unit_text = unit_text[:-1] if unit_text.lower().endswith("s") else unit_text
        joint = "-" if like.hyphenated else " "
        words = number_to_words(number)
        if like.style == "words_digits":
            return f"{words} ({number}){joint}{unit_text}"
        return f"{words if like.style == 'words' else number}{joint}{unit_text}"
    if number == 1 and unit_text.lower().endswith("s"):
        unit_text = unit_text[:-1]
    elif number != 1 and not unit_text.lower().endswith("s") and like.value == 1:
        unit_text = unit_text + "s"  # "one (1) year" → "two (2) years"
    words = number_to_words(number)
    if like.style == "words_digits":
        return f"{words} ({number}) {unit_text}"
    if like.style == "words":
        return f"{words} {unit_text}"
    return f"{number} {unit_text}"


# --- percentages --------------------------------------------------------------------------------------

_PERCENT = re.compile(
    r"\b(?:(?P<words>" + _WORD_NUMBER + r")\s+(?:percent|per cent)\s*\(\s*(?P<digits>\d{1,3}(?:\.\d+)?)\s*%\s*\)"
    r"|(?P<bare>\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per cent))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Percent:
    start: int
    end: int
    value: float
    style: str


def find_percents(text: str) -> list[Percent]:
    result = []
    for m in _PERCENT.finditer(text):
        if m.group("digits"):
            result.append(Percent(m.start(), m.end(), float(m.group("digits")), "words_digits"))
        else:
            result.append(Percent(m.start(), m.end(), float(m.group("bare")), "digits"))
    return result


def format_percent(value: float, like: Percent) -> str:
    number = int(value) if float(value).is_integer() else value
    if like.style == "words_digits" and isinstance(number, int):
        return f"{number_to_words(number)} percent ({number}%)"
    return f"{number}%"


# --- money ----------------------------------------------------------------------------------------------

_CURRENCY_CODES = {"usd": "USD", "us$": "USD", "$": "USD", "eur": "EUR", "€": "EUR", "gbp": "GBP", "£": "GBP",
                   "chf": "CHF", "cad": "CAD", "aud": "AUD", "jpy": "JPY", "¥": "JPY", "inr": "INR", "rmb": "CNY", "cny": "CNY"}
_CURRENCY_NAMES = {"dollars": "USD", "us dollars": "USD", "u.s. dollars": "USD", "euros": "EUR", "euro": "EUR",
                   "pounds sterling": "GBP", "pounds": "GBP", "swiss francs": "CHF"}
_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(?P<scale>million|billion|thousand|m\b|bn\b|k\b))?"
_MONEY = re.compile(
    r"(?P<code>USD|US\$|EUR|GBP|CHF|CAD|AUD|JPY|INR|RMB|CNY|\$|€|£|¥)\s?" + _AMOUNT
    + r"|" + _AMOUNT.replace("amount", "amount2").replace("scale", "scale2")
    + r"\s*(?P<name>U\.S\. [Dd]ollars|US [Dd]ollars|[Dd]ollars|[Ee]uros?|[Pp]ounds [Ss]terling|[Pp]ounds|Swiss [Ff]rancs|USD|EUR|GBP)\b",
)
_SCALE = {"million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "thousand": 1e3, "k": 1e3}


@dataclass(frozen=True)
class Money:
    start: int
    end: int
    value: float
    currency: str


def find_money(text: str) -> list[Money]:
    found = []
    for m in _MONEY.finditer(text):
        amount = m.group("amount") or m.group("amount2")
        scale = (m.group("scale") or m.group("scale2") or "").lower()
        value = float(amount.replace(",", "")) * _SCALE.get(scale, 1)
        if m.group("code"):
            currency = _CURRENCY_CODES[m.group("code").lower()]
        else:
            name = m.group("name").lower()
            currency = _CURRENCY_CODES.get(name) or _CURRENCY_NAMES.get(name, name.upper())
        found.append(Money(m.start(), m.end(), value, currency))
    return found


# --- multiples ("2x the fees", "two times the fees", "twice the fees") and counts --------------------------

_MULTIPLE = re.compile(
    r"\b(?:(?P<bare>\d+(?:\.\d+)?)\s*(?:x|×|times)|(?P<words>" + _WORD_NUMBER + r")\s*(?:\(\s*(?P<digits>\d+)\s*\)\s*)?times"
    r"|(?P<twice>twice))\s+(?:the\s+)?(?P<base>(?:total\s+|annual\s+|aggregate\s+)?(?:fees|amounts?|charges|price|contract value)\b)",
    re.IGNORECASE,
)
_COUNT = re.compile(r"\b" + _NUMBER + r"\s+(?P<noun>[a-z]{3,20})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Multiple:
    start: int
    end: int
    value: float
    base: str  # what it multiplies: "fees", "annual fees", ...


def find_multiples(text: str) -> list[Multiple]:
    found = []
    for m in _MULTIPLE.finditer(text):
        if m.group("twice"):
            value = 2.0
        elif m.group("bare"):
            value = float(m.group("bare"))
        else:
            value = float(m.group("digits") or words_to_number(m.group("words")) or 0)
        if value:
            found.append(Multiple(m.start(), m.end(), value, m.group("base").lower()))
    return found


@dataclass(frozen=True)
class Count:
    start: int
    end: int
    value: float
    noun: str


def find_counts(text: str) -> list[Count]:
    """Numbers of things ("three (3) instances", "5 users") that are not durations, percentages, money or multiples."""
    taken = [(q.start, q.end) for q in (*find_durations(text), *find_percents(text), *find_money(text), *find_multiples(text))]
    found = []
    for m in _COUNT.finditer(text):
        value, _ = _number(m)
        noun = m.group("noun").lower()
        if value is None or noun in ("percent", "per", "times", "and", "or") or any(s < m.end() and m.start() < e for s, e in taken):
            continue
        found.append(Count(m.start(), m.end(), value, noun))
    return found
