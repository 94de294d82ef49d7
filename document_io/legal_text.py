"""Small, exact text tools the local engine relies on: sentences, jurisdictions,
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
        if re.search(r"(?i:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2}\.$",
                     text[max(start, end - 14):end]) and re.match(r"\s+\d{4}\b", text[end:end + 6]):
            continue  # "March 18. 2021": a date typed with a period
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
    """The sentences of the contract text the clause detectors score (comments, headers and footers are not). A heading
    is taken from the paragraph's own opening
    ("7. Governing Law. This Agreement ...") or from a heading-only paragraph just before it."""
    units: list[SentenceUnit] = []
    carried: str | None = None
    for paragraph in document.paragraphs:
        if not paragraph.is_contract_text:  # a comment or a running header is not a clause of the contract
            continue
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


# Numbers, durations, percentages, money: document_io/quantities.py (one quantity model for every rule).

# --- jurisdictions ----------------------------------------------------------------------------------

_JURISDICTION = re.compile(
    # "the laws, other than choice of law rules, of the state of Florida": a carve-out between "laws" and "of"
    r"(?i:laws?)(?:\s*,\s*[^,;]{1,60}?,)?(?:\s+and\s+[a-z ]{1,40}?)?\s+(?i:of)\s+(?P<name>(?:(?i:the)\s+)?(?:(?i:state|commonwealth|province|republic|kingdom)\s+(?i:of)\s+)?"
    r"[A-Z][A-Za-z'’]+(?:(?:\s+|-)(?:(?i:and|of|the)\s+)?[A-Z][A-Za-z'’]+)*)",
)
# "construed in accordance with English law", "governed by German law", "New York law shall apply"
_ADJECTIVES = {
    "English and Welsh": "England and Wales", "English": "England", "Welsh": "Wales", "Scottish": "Scotland",
    "Irish": "Ireland", "German": "Germany", "French": "France", "Swiss": "Switzerland", "Dutch": "the Netherlands",
    "Swedish": "Sweden", "Danish": "Denmark", "Norwegian": "Norway", "Finnish": "Finland", "Belgian": "Belgium",
    "Spanish": "Spain", "Italian": "Italy", "Austrian": "Austria", "Luxembourg": "Luxembourg", "Singapore": "Singapore",
    "Hong Kong": "Hong Kong", "Indian": "India", "Japanese": "Japan", "Chinese": "China", "Australian": "Australia",
    "Canadian": "Canada", "Israeli": "Israel", "PRC": "People's Republic of China", "P.R.C.": "People's Republic of China", "Delaware": "Delaware", "New York": "New York",
    "Californian": "California", "California": "California", "Texas": "Texas", "Ontario": "Ontario",
}
_ADJECTIVE_LAW = re.compile(
    r"\b(?P<adjective>" + "|".join(sorted(map(re.escape, _ADJECTIVES), key=len, reverse=True)) + r")\s+(?:substantive\s+)?(?i:laws?)\b"
)
# "made in the State of California and shall be governed by ... the laws thereof"
_LAWS_THEREOF = re.compile(
    r"\b(?P<name>(?i:the)\s+(?i:state|commonwealth|province)\s+(?i:of)\s+[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+)?)"
    r"[^.;]{0,160}?\b(?i:laws\s+(?:thereof|of\s+(?:said|such|that)\s+(?:state|commonwealth|province)))")
# "a company incorporated under the laws of France" names where a party is organised, not the governing law
_INCORPORATION = re.compile(r"(incorporated|organi[sz]ed|existing|formed|registered|chartered|constituted)\s+(and\s+\w+\s+)?"
                            r"(under|pursuant to|in accordance with)\s+(the\s+)?$", re.IGNORECASE)


_NOT_A_PLACE = {"state", "the state", "commonwealth", "province", "country", "jurisdiction", "any", "such", "the",
                "the agreement", "this agreement", "agreement", "the contract", "the parties", "the party", "the company"}


@dataclass(frozen=True)
class Jurisdiction:
    start: int
    end: int
    name: str

    @property
    def normalised(self) -> str:
        name = _ADJECTIVES.get(self.name, self.name)
        return re.sub(r"^(the )?(state|commonwealth|province|republic|kingdom) of ", "", " ".join(name.lower().split())).strip()


def find_jurisdiction(text: str) -> Jurisdiction | None:
    """The governing-law jurisdiction a clause names: "the laws of the State of New York" or "English law"."""
    candidates = []
    for pattern, group in ((_JURISDICTION, "name"), (_ADJECTIVE_LAW, "adjective"), (_LAWS_THEREOF, "name")):
        for match in pattern.finditer(text):
            if _INCORPORATION.search(text[max(0, match.start() - 50):match.start()]):
                continue
            found = Jurisdiction(match.start(group), match.end(group), match.group(group))
            if found.normalised in _NOT_A_PLACE:
                continue  # "the laws of the State." / "the laws of the United States" with no state named
            candidates.append(found)
            break
    return min(candidates, key=lambda j: j.start) if candidates else None


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
