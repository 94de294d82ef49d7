"""Candidate spans for clause extraction, above and below the sentence.

CUAD labels are rarely one sentence: a licence grant runs over a paragraph, an agreement date is three words
inside the preamble, a party is a name in parentheses. A prediction only counts when it overlaps its label at
word-set Jaccard >= 0.5, so the extractor proposes spans at several sizes and a trained model picks among them:

  - passages: a sentence, two or three adjacent sentences of one paragraph, a whole paragraph of 4-15
    sentences, and pieces of a long sentence cut at ";", "(a)" enumerations and ", provided that";
  - phrases: dates, sentences that start the term, title-like runs ("MASTER SUPPLY AGREEMENT"), company names,
    quoted defined terms and capitalised runs, each with a small bag of context features (words either side,
    position, shape).

Pure text tooling: no model here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from document_io.legal_text import SentenceUnit

PassageKind = str  # "S" sentence, "C" piece of a sentence, "S2"/"S3" adjacent sentences, "P" paragraph
PASSAGE_KINDS = ("S", "C", "S2", "S3", "P")
PARAGRAPH_SENTENCES = (4, 15)  # a whole paragraph is a candidate when it has this many sentences
MIN_PIECE_CHARS = 40


@dataclass(frozen=True)
class Passage:
    kind: PassageKind
    start: int
    end: int
    rows: tuple[int, ...]  # the sentence units it covers (for a piece: the sentence it is cut from)


_PIECE_BREAK = re.compile(r";\s+|\s+(?=\([a-z0-9]{1,4}\)\s)|,\s+(?=provided(?:,)? (?:however, )?that)", re.IGNORECASE)


def sentence_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A long sentence cut at ';', '(a)'-style enumerations and ', provided that' (two pieces at least)."""
    pieces, piece_start = [], start
    for match in _PIECE_BREAK.finditer(text, start, end):
        if match.start() - piece_start > MIN_PIECE_CHARS:
            pieces.append((piece_start, match.start()))
        piece_start = match.end()
    if pieces and end - piece_start > MIN_PIECE_CHARS:
        pieces.append((piece_start, end))
    return pieces if len(pieces) >= 2 else []


def passages(text: str, units: list[SentenceUnit]) -> list[Passage]:
    """Every passage candidate once (the first kind to claim a span keeps it), in document order."""
    found: dict[tuple[int, int], Passage] = {}

    def add(kind: str, start: int, end: int, rows: tuple[int, ...]) -> None:
        found.setdefault((start, end), Passage(kind, start, end, rows))

    by_paragraph: dict[int, list[int]] = {}
    for row, unit in enumerate(units):
        add("S", unit.start, unit.end, (row,))
        for piece_start, piece_end in sentence_pieces(text, unit.start, unit.end):
            add("C", piece_start, piece_end, (row,))
        by_paragraph.setdefault(unit.paragraph_start, []).append(row)
    low, high = PARAGRAPH_SENTENCES
    for rows in by_paragraph.values():
        for width, kind in ((2, "S2"), (3, "S3")):
            for first in range(len(rows) - width + 1):
                covered = tuple(rows[first : first + width])
                add(kind, units[covered[0]].start, units[covered[-1]].end, covered)
        if low <= len(rows) <= high:
            add("P", units[rows[0]].start, units[rows[-1]].end, tuple(rows))
    return sorted(found.values(), key=lambda p: (p.start, p.end))


# --- phrases -----------------------------------------------------------------------------------------

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_DAY = r"(?:\d{1,2}|_+)\s*(?:st|nd|rd|th|t\s?h)?"  # "6t h": an ordinal a scanner split
_YEAR = r"(?:\d{4}|(?:19|20)?_+)"  # 2019 / ____ / 20__
_BLANK = r"_{2,}"  # a month or day left blank in a form
DATE = re.compile(
    rf"\b{_MONTH}(?:\s+{_DAY}\s*,?\s*{_YEAR}"  # March 1, 2019 / November ___, 2006 / March 9th 2015
    r"|\s*,?\s+\d{4}\b)"  # April 2013 / June , 2010 (the day left out)
    rf"|(?<![\w/]){_DAY}\s+(?:day\s+)?(?:of\s+)?(?:{_MONTH}|{_BLANK})\s*,?\s*{_YEAR}"  # 1st day of March, 2019 / 19 DAY OF MAY , 2010 / ___ day of ____, 20__
    rf"|\bday\s+of\s+(?:{_MONTH}|{_BLANK})\s*,?\s*{_YEAR}"  # (this) day of ______, 19__
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}-\d{1,2}-\d{2,4}\b"
    r"|_{3,}\s*_*,?\s*\d{4}"  # ___________ __, 2000
    r"|(?<=\s),\s*(?:19|20)\d\d\b"  # "dated            , 2006": the whole date left blank but the year
    r"|\[\s*(?:●|•|date)\s*\]",  # [●] / [Date]: a placeholder
    re.IGNORECASE,
)
_TITLE_WORD = (r"(?:AGREEMENT|CONTRACT|LICEN[CS]E|AMENDMENT|ADDENDUM|MEMORANDUM|LETTER|TERMS|ARRANGEMENT|PLAN|"
               r"CHARTER|DEED|NOTE|BYLAWS|PROTOCOL|UNDERSTANDING)")
TITLE = re.compile(
    # within one line: "Exhibit 10.4\nMASTER SUPPLY AGREEMENT" is titled by its second line only
    rf"\b(?:[A-Z0-9][A-Z0-9&,.'’\-/]*[ \t]+){{0,9}}{_TITLE_WORD}(?:[ \t]+NO\.[ \t]*\d+)?\b(?:[ \t]+(?:OF|FOR|TO|AND|ON)[ \t]+(?:[A-Z][A-Z&\-']*[ \t]*){{1,5}})?"
    r"|\b(?:[A-Z][a-zA-Z&\-']+[ \t]+){0,8}(?:Agreement|Contract|Licen[cs]e|Amendment|Addendum)\b"
)
_COMPANY_SUFFIX = (r"(?:Inc\.?|Incorporated|Corp\.?|Corporation|LLC|L\.L\.C\.|Ltd\.?|Limited|Company|Co\.,?\s*Ltd\.?|Co\.|"
                   r"L\.P\.|LP|N\.A\.|GmbH|S\.A\.|SA|plc|PLC|AG|B\.V\.|N\.V\.|LLP|S\.p\.A\.|Pty\.?\s+Ltd\.?|Trust|Bank|Group|Holdings)")
COMPANY = re.compile(rf"\b(?:[A-Z][\w&'’.\-]*,?\s+){{0,6}}{_COMPANY_SUFFIX}(?![a-z])")
DEFINED_TERM = re.compile(r"[\"“”]([A-Z][^\"“”\n]{1,50}?)[\"“”]")
CAPITALISED_RUN = re.compile(r"\b[A-Z][A-Z0-9&'’.\-]+(?:\s+[A-Z][A-Z0-9&'’.\-]+){1,6}\b")

# A sentence that says when the agreement starts or defines its start: CUAD labels such a sentence, not a date, as
# the Effective Date about half the time ("This Agreement shall commence on 1 January 1998.", "'Effective Date' means
# the Closing Date."), so it competes with the dates in the phrase scorer, on one scale.
START_CUE = re.compile(
    r"\b(?:shall|will|to)\s+(?:commence|begin|start|become\s+effective|be\s+effective|enter\s+into\s+(?:force|effect)"
    r"|come\s+into\s+(?:force|effect)|take\s+effect)"
    r"|[\"“]?(?:Effective|Commencement)\s+Date[\"”]?\s+(?:shall\s+)?(?:mean|be)s?\b"
    r"|\bis\s+effective\s+(?:as\s+of|on|from)|\beffective\s+term\b",
    re.IGNORECASE,
)
MAX_START_SENTENCE = 400  # characters either side of the cue


def enclosing_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end]: from after the last '. ' or line break before it to the next '. ',
    '.' at a line end or line break after it, within MAX_START_SENTENCE characters either side."""
    left = max(text.rfind(". ", 0, start) + 2, text.rfind("\n", 0, start) + 1, start - MAX_START_SENTENCE, 0)
    stops = [i for i in (text.find(". ", end), text.find(".\n", end), text.find("\n", end)) if i != -1]
    right = min([*stops, len(text), end + MAX_START_SENTENCE])
    if text.startswith(".", right):
        right += 1
    while left < right and text[left].isspace():
        left += 1
    return left, right


TITLE_REGION = 6_000  # a contract's name is near its top
PARTY_REGIONS = (8_000, 4_000)  # parties: the opening and the signature blocks at the end
FIRST_LINES = 15


@dataclass(frozen=True)
class Phrase:
    kind: str  # date, start, title, line, name, term, caps
    start: int
    end: int


def phrases(text: str) -> list[Phrase]:
    """Short-answer candidates (dates, sentences that start the term, names of the document and of the parties),
    each span once per kind."""
    found: set[tuple[str, int, int]] = set()
    for match in DATE.finditer(text):
        found.add(("date", match.start(), match.end()))
    for match in START_CUE.finditer(text):
        found.add(("start", *enclosing_sentence(text, match.start(), match.end())))
    head = text[:TITLE_REGION]
    for match in TITLE.finditer(head):
        found.add(("title", match.start(), match.end()))
    position = 0
    for line in head.split("\n")[:FIRST_LINES]:
        stripped = line.strip()
        if 3 <= len(stripped) <= 100:
            begin = position + line.index(stripped)
            found.add(("line", begin, begin + len(stripped)))
        position += len(line) + 1
    opening, closing = PARTY_REGIONS
    for offset, region in ((0, text[:opening]), (max(0, len(text) - closing), text[-closing:])):
        for match in COMPANY.finditer(region):
            found.add(("name", offset + match.start(), offset + match.end()))
        for match in DEFINED_TERM.finditer(region):
            found.add(("term", offset + match.start(1), offset + match.end(1)))
        for match in CAPITALISED_RUN.finditer(region):
            found.add(("caps", offset + match.start(), offset + match.end()))
    return [Phrase(*f) for f in sorted(found, key=lambda f: (f[1], f[2], f[0]))]


_WORD = re.compile(r"\w\w+")
# Words near a date that tell an agreement date from an effective, expiry or signature date.
_DATE_CUES = frozenset(
    "effective commence commencement dated made entered executed signed signature term expire expiration terminate "
    "until through amendment agreement date witness whereof hereof begin start shall renew initial period as of by "
    "between among".split()
)


def phrase_features(text: str, phrase: Phrase, index_in_kind: int) -> list[str]:
    """Sparse string features of one phrase: its words, shape, position and the words around it."""
    start, end, kind = phrase.start, phrase.end, phrase.kind
    body = text[start:end]
    words = _WORD.findall(body.lower())
    position_bucket = min(int(math.log2(1 + start / 200)), 10)
    features = [f"k={kind}", f"k={kind}|pos={position_bucket}", f"k={kind}|idx={min(index_in_kind, 8)}"]
    features += [f"w={w}" for w in words[:12]]
    features += [f"nw={min(len(words), 12)}", "upper" if body.isupper() else "notupper"]
    left = _WORD.findall(text[max(0, start - 80) : start].lower())[-6:]
    right = _WORD.findall(text[end : end + 60].lower())[:5]
    features += [f"L={w}" for w in left] + [f"R={w}" for w in right]
    if left:
        features.append(f"L1={left[-1]}")
    if len(left) > 1:
        features.append(f"L2={left[-2]}_{left[-1]}")
    if right:
        features.append(f"R1={right[0]}")
    features.append(f"lch={text[max(0, start - 3) : start].strip()[-1:] or 'sp'}")
    features.append(f"rch={text[end : end + 3].strip()[:1] or 'sp'}")
    features.append("startline" if start == 0 or text[start - 1] == "\n" else "midline")
    if kind == "date":
        nearby = set(_WORD.findall(text[max(0, start - 250) : end + 150].lower()))
        features += sorted(f"W={w}" for w in nearby & _DATE_CUES)
    return features


def indexed_phrases(text: str) -> list[tuple[Phrase, int]]:
    """Phrases with their rank among phrases of the same kind (the first date, the second name...)."""
    counts: dict[str, int] = {}
    out = []
    for phrase in phrases(text):
        index = counts.get(phrase.kind, 0)
        counts[phrase.kind] = index + 1
        out.append((phrase, index))
    return out
