"""Small, exact text tools the local engine relies on: sentences, durations, percentages, jurisdictions,
and word-level minimal diffs. Every function returns character offsets into the text it was given."""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass

from document_io.docx_redline import TextEdit
from document_io.models import SourceDocument

# --- sentences --------------------------------------------------------------------------------------

_ABBREVIATIONS = r"(?<!\bInc)(?<!\bLtd)(?<!\bCo)(?<!\bNo)(?<!\bCorp)(?<!\bU\.S)(?<!\be\.g)(?<!\bi\.e)(?<!\bSt)(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bvs)(?<!\bSec)"
_SENTENCE_END = re.compile(_ABBREVIATIONS + r"[.;!?](?=\s+[\"'(]?[A-Z0-9(])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries, trimmed of surrounding whitespace; section numbers like '4.2' are not ends."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if re.search(r"(^|\s)\d+(\.\d+)*\.$", text[start:end]) and end - start < 12:
            continue  # "4.2." heading number on its own
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    result = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            result.append((s, e))
    return result


_HEADING = re.compile(
    r"^\s*(?:(?:section|article|clause)\s+)?(?:\d+(?:\.\d+)*\.?|[A-Z]\.|\([a-z0-9]+\))?\s*(?P<heading>[A-Z][A-Za-z ,&/'-]{2,60}?)\s*[.:—–-]\s",
    re.IGNORECASE,
)
_HEADING_ONLY = re.compile(
    r"^\s*(?:(?:section|article|clause)\s+)?(?:\d+(?:\.\d+)*\.?|[A-Z]\.|\([a-z0-9]+\))?\s*(?P<heading>[A-Z][A-Za-z ,&/'-]{2,60}?)\s*[.:]?\s*$",
    re.IGNORECASE,
)
MIN_UNIT_CHARS = 15


@dataclass
class SentenceUnit:
    """One sentence of the document, with the section heading it sits under (if any)."""

    paragraph_start: int
    start: int
    end: int
    text: str
    heading: str | None


def _looks_like_heading(text: str) -> bool:
    """'Governing Law', 'TERM AND TERMINATION': few words, mostly capitalised. A short sentence such as
    'This Agreement is governed by the laws of England.' is not a heading."""
    words = [w for w in text.split() if w.isalpha()]
    small = {"and", "of", "the", "to", "for", "in", "on", "or", "a", "an"}
    return 0 < len(words) <= 8 and all(w[0].isupper() or w.lower() in small for w in words)


def sentence_units(document: SourceDocument) -> list[SentenceUnit]:
    """The sentences the clause detectors score. A heading is taken from the paragraph's own opening
    ("7. Governing Law. This Agreement ...") or from a heading-only paragraph just before it."""
    units: list[SentenceUnit] = []
    carried: str | None = None
    for paragraph in document.paragraphs:
        text = paragraph.text
        alone = _HEADING_ONLY.match(text)
        if alone and _looks_like_heading(alone.group("heading")):
            carried = alone.group("heading").strip()
            continue
        if len(text.strip()) < MIN_UNIT_CHARS:
            continue
        match = _HEADING.match(text)
        heading = match.group("heading").strip() if match else carried
        carried = None
        for start, end in sentence_spans(text):
            if end - start >= MIN_UNIT_CHARS:
                units.append(SentenceUnit(paragraph.start, paragraph.start + start, paragraph.start + end, text[start:end], heading))
    return units


# --- numbers ----------------------------------------------------------------------------------------

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


# --- durations --------------------------------------------------------------------------------------

_UNIT_WORD = r"(?P<unit>(?:business |calendar |working )?(?:hours?|days?|weeks?|months?|years?))(?:'|’)?"
_DURATION = re.compile(
    r"\b(?:(?P<words>" + _WORD_NUMBER + r")\s*\(\s*(?P<digits>\d{1,4})\s*\)|(?P<bare>\d{1,4})|(?P<only_words>" + _WORD_NUMBER + r"))"
    + r"[\s-]*" + _UNIT_WORD + r"(?![a-z])",
    re.IGNORECASE,
)
_NET = re.compile(r"\bnet\s*(?P<bare>\d{1,3})\b", re.IGNORECASE)
_TO_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 365.25 / 12, "year": 365.25}


@dataclass(frozen=True)
class Duration:
    start: int
    end: int
    value: float
    unit: str  # singular base unit: hour, day, week, month, year
    unit_text: str
    style: str  # "words_digits" | "digits" | "words" | "net"

    def in_unit(self, unit: str) -> float:
        return convert(self.value, self.unit, unit)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between hours/days/weeks/months/years (singular or plural names)."""
    return value * _TO_DAYS[from_unit.rstrip("s")] / _TO_DAYS[to_unit.rstrip("s")]


def find_durations(text: str) -> list[Duration]:
    found = []
    for m in _DURATION.finditer(text):
        if m.group("digits"):
            value, style = int(m.group("digits")), "words_digits"
        elif m.group("bare"):
            value, style = int(m.group("bare")), "digits"
        else:
            parsed = words_to_number(m.group("only_words"))
            if parsed is None:
                continue
            value, style = parsed, "words"
        unit_text = m.group("unit")
        base = re.sub(r"^(business|calendar|working) ", "", unit_text.lower()).rstrip("s")
        found.append(Duration(m.start(), m.end("unit"), value, base, unit_text, style))
    for m in _NET.finditer(text):
        if not any(d.start <= m.start() < d.end for d in found):
            found.append(Duration(m.start(), m.end(), int(m.group("bare")), "day", "", "net"))
    return sorted(found, key=lambda d: d.start)


def format_duration(value: float, like: Duration) -> str:
    """Write `value` (in `like`'s unit) in the same style as the original, e.g. 'thirty (30) days'."""
    number = int(round(value))
    if like.style == "net":
        return f"net {number}"
    unit_text = like.unit_text
    if number == 1 and unit_text.lower().endswith("s"):
        unit_text = unit_text[:-1]
    elif number != 1 and not unit_text.lower().endswith("s"):
        unit_text = unit_text + "s"
    words = number_to_words(number)
    if like.style == "words_digits":
        return f"{words} ({number}) {unit_text}"
    if like.style == "words":
        return f"{words} {unit_text}"
    return f"{number} {unit_text}"


# --- percentages ------------------------------------------------------------------------------------

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


# --- jurisdictions ----------------------------------------------------------------------------------

_JURISDICTION = re.compile(
    r"laws? of (?P<name>(?:the )?(?:State of |Commonwealth of |Province of |Republic of |Kingdom of )?"
    r"[A-Z][A-Za-z]+(?:[ -](?:and |of |the )?[A-Z][A-Za-z]+)*)",
)


@dataclass(frozen=True)
class Jurisdiction:
    start: int
    end: int
    name: str

    @property
    def normalised(self) -> str:
        return re.sub(r"^(the )?(state|commonwealth|province|republic|kingdom) of ", "", self.name.lower()).strip()


def find_jurisdiction(text: str) -> Jurisdiction | None:
    match = _JURISDICTION.search(text)
    if not match:
        return None
    return Jurisdiction(match.start("name"), match.end("name"), match.group("name"))


# --- minimal edits ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def minimal_edits(old: str, new: str, offset: int = 0) -> list[TextEdit]:
    """Word-level diff of `old` → `new` as edits in document coordinates (`offset` is where `old` starts)."""
    old_tokens = _TOKEN.findall(old)
    new_tokens = _TOKEN.findall(new)
    starts, position = [], 0
    for token in old_tokens:
        starts.append(position)
        position += len(token)
    starts.append(position)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(TextEdit(start=offset + starts[i1], end=offset + starts[i2], new_text="".join(new_tokens[j1:j2])))
    return edits


# --- quotes -----------------------------------------------------------------------------------------

_SPACE_RUN = re.compile(r"\s+")


def _squeezed(text: str) -> tuple[str, list[int]]:
    """`text` with each whitespace run as one space, and for each kept character its offset in `text`."""
    kept: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if previous_space:
                continue
            kept.append(" ")
            previous_space = True
        else:
            kept.append(char)
            previous_space = False
        offsets.append(index)
    return "".join(kept), offsets


class QuoteLocator:
    """Finds quoted text in a document exactly, or else with whitespace normalised (a model or a dataset
    may re-flow line breaks), and returns the span in the document's own characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._squeezed, self._offsets = _squeezed(text)

    def find(self, quote: str, start_at: int = 0) -> tuple[int, int] | None:
        quote = quote.strip()
        if not quote:
            return None
        exact = self.text.find(quote, start_at)
        if exact >= 0:
            return exact, exact + len(quote)
        needle = _SPACE_RUN.sub(" ", quote)
        begin = bisect.bisect_left(self._offsets, start_at)
        found = self._squeezed.find(needle, begin)
        if found < 0:
            return None
        return self._offsets[found], self._offsets[found + len(needle) - 1] + 1

    def find_all(self, quote: str) -> list[tuple[int, int]]:
        spans, position = [], 0
        while (span := self.find(quote, position)) is not None:
            spans.append(span)
            position = span[1]
        return spans
