"""Real paper as a reviewer receives it: a CUAD contract (plain text from EDGAR filings) rebuilt as a Word document
with the structure Word users give it - heading styles for section titles and schedule / exhibit headings, Word's
own list numbering for numbered sections (the numbers are no longer in the text), and the signature block as a
two-column table. Used to build regression fixtures (tests/fixtures/cuad_docx.yaml) at test time from ../shared,
so no copy of the dataset is committed.
"""

from __future__ import annotations

import io
import re

_SECTION = re.compile(r"^\s*(?:section\s+|article\s+)?(?P<number>\d{1,2})\.\s+(?P<rest>\S.*)$", re.IGNORECASE)
_SCHEDULE = re.compile(r"^\s*(schedule|exhibit|annex|appendix|attachment)\s+[A-Z0-9]{1,4}\b", re.IGNORECASE)
_SIGNATURE = re.compile(r"^\s*in witness whereof", re.IGNORECASE)
_WITNESS_SENTENCE = re.compile(r"(?P<witness>in witness whereof.*?(?:written|above|below|date|counterparts|representatives|"
                               r"officers|behalf|year)[^.]*\.)\s*(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_SIGNATURE_LINE = re.compile(r"\s(?=(?:By|Name|Title|Date|Its|Signature)\s*:)")


def _is_heading(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 8 and len(text) <= 80 and (text.isupper() or all(w[:1].isupper() for w in words if w.isalpha()))


# a run of 3+ spaces or a line break inside a block is a wrapped line unless the text before it closes a sentence
# or is a heading, and the text after it opens a new one
_WRAP = re.compile(r"[ \t]*\n[ \t]*|[ \t]{3,}")
_CLOSES = re.compile(r"""[.:;?!]["'”’)\]]?$""")
_LABEL = re.compile(r"^(?:(?:section|article|clause)\s+)?(?:\d+(?:\.\d+)*\.?|\(?[a-z0-9]{1,3}[.)]|[ivx]{1,4}[.)])$", re.IGNORECASE)
_OPENS = re.compile(r"""^(?:["“(\[]?[A-Z0-9]|\([a-z0-9]{1,4}\)|[ivx]{1,4}[.)])""")


def reflowed_paragraphs(text: str) -> list[str]:
    """CUAD's text separates paragraphs with blank lines in some filings and with runs of spaces in others, and wraps
    lines with runs of spaces or line breaks: one string per paragraph, wrapped lines joined."""
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text):
        pieces = [" ".join(p.split()) for p in _WRAP.split(block)]
        current = ""
        for piece in (p for p in pieces if p):
            label = _LABEL.match(current)  # "11.1", "(a)", "Section 5." belong to the text that follows
            if current and not label and (_CLOSES.search(current) or _is_heading(current)) and _OPENS.match(piece):
                paragraphs.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
        if current:
            paragraphs.append(current)
    return paragraphs


def cuad_text_to_docx(text: str) -> bytes:
    import docx

    word = docx.Document()
    # style ids looked up once: python-docx re-reads the whole style list for every styled paragraph otherwise
    style_ids = {name: word.styles[name].style_id for name in ("Title", "Heading 1", "Heading 2", "List Number")}

    def styled(text: str, name: str) -> None:
        word.add_paragraph(text)._p.get_or_add_pPr().style = style_ids[name]
    # CUAD's text separates paragraphs with blank lines and wraps lines with runs of spaces: re-flow each paragraph
    # into one, as it was in the original Word document.
    paragraphs = []
    for flowed in reflowed_paragraphs(text):
        witness = re.search(r"\bin witness whereof", flowed, re.IGNORECASE)
        if witness and witness.start() > 0:  # a filing that ran the last clause into the signature block
            paragraphs += [flowed[: witness.start()].strip(), flowed[witness.start():]]
        elif flowed:
            paragraphs.append(flowed)
    signature_rows: list[str] = []
    in_signature = False
    for index, paragraph in enumerate(paragraphs):
        if _SIGNATURE.match(paragraph):
            # "IN WITNESS WHEREOF, ... as of the date first written above. ACME INC. By: ... Name: ..." → the witness
            # sentence as a paragraph, the signature lines as table rows
            split = _WITNESS_SENTENCE.match(paragraph)
            word.add_paragraph(split.group("witness") if split else paragraph)
            if split and split.group("rest").strip():
                signature_rows += [r.strip() for r in _SIGNATURE_LINE.split(split.group("rest")) if r.strip()]
            in_signature = True
            continue
        if in_signature and not _SCHEDULE.match(paragraph) and len(paragraph) < 120:
            signature_rows.append(paragraph)
            continue
        if in_signature:
            _signature_table(word, signature_rows)
            signature_rows, in_signature = [], False
        if _SCHEDULE.match(paragraph) and len(paragraph) < 120:
            styled(paragraph, "Heading 1")
        elif index < 3 and _is_heading(paragraph):
            styled(paragraph, "Title" if index == 0 else "Heading 1")
        elif (section := _SECTION.match(paragraph)) and index > 2:
            rest = section.group("rest")
            # Word's own numbering: the number is rendered by Word, not typed in the text
            styled(rest, "List Number")
        elif _is_heading(paragraph):
            styled(paragraph, "Heading 2")
        else:
            word.add_paragraph(paragraph)
    if signature_rows:
        _signature_table(word, signature_rows)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _signature_table(word, rows: list[str]) -> None:
    if not rows:
        return
    table = word.add_table(rows=0, cols=2)
    for left, right in zip(rows[0::2], rows[1::2] + [""]):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = left, right
