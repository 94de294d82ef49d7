"""Write approved edits into a DOCX as real Word tracked changes (w:ins / w:del with author and date).

python-docx cannot write revisions, so the runs are rewritten with lxml: a run that straddles an edit
boundary is split in two (same formatting), runs inside a deletion are wrapped in w:del with their w:t
turned into w:delText, and the new text goes in a w:ins run that copies the neighbouring formatting.
Paragraphs without edits are never touched.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from copy import deepcopy
from datetime import datetime

from lxml import etree
from pydantic import BaseModel, Field

from document_io.models import SourceDocument
from document_io.docx_surgery import edit_light
from document_io.wordml import W_NS, body_paragraphs, live_runs, make_run, paragraph_text, run_text, w


class TextEdit(BaseModel):
    """Replace document characters [start, end) with `new_text` (start == end: pure insertion)."""

    start: int
    end: int
    new_text: str
    author: str | None = Field(default=None, description="who decided this change (default: the document's author)")


class ParagraphInsertion(BaseModel):
    """A whole new paragraph (e.g. a missing clause) inserted after an existing one."""

    after_paragraph: int
    text: str
    author: str | None = None


class RedlineConflict(ValueError):
    """Two edits overlap, or the DOCX no longer matches the reviewed text."""


def docx_from_paragraphs(texts: list[str]) -> bytes:
    """A plain DOCX with one paragraph per text, used as the base for PDF / TXT / HTML input."""
    import docx

    word = docx.Document()
    body = word.element.find(w("body"))
    for existing in body_paragraphs(body):  # the default template may carry an empty paragraph
        existing.getparent().remove(existing)
    for text in texts:
        word.add_paragraph(text)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def write_tracked_changes(
    base_docx: bytes,
    document: SourceDocument,
    edits: list[TextEdit],
    insertions: list[ParagraphInsertion],
    *,
    author: str,
    when: datetime,
) -> bytes:
    """The base DOCX with the edits and insertions as tracked changes; its media and other binary parts are streamed
    across untouched (document_io/docx_surgery.py), so a huge embedded part costs no memory."""
    return edit_light(base_docx, lambda light: _tracked_changes(light, document, edits, insertions, author=author, when=when),
                      name=document.name)


def _tracked_changes(base_docx: bytes, document: SourceDocument, edits: list[TextEdit],
                     insertions: list[ParagraphInsertion], *, author: str, when: datetime) -> bytes:
    import docx

    word = docx.Document(io.BytesIO(base_docx))
    body = word.element.find(w("body"))
    paragraphs = body_paragraphs(body)
    revision = _RevisionStamp(author=author, when=when, first_id=_max_id(word.element) + 1)

    by_paragraph: dict[int, list[TextEdit]] = defaultdict(list)
    for edit in edits:
        para = document.paragraph_at(edit.start)
        if para.part != "body":
            raise RedlineConflict(f"edit {edit.start}-{edit.end} is in the {para.part}; tracked changes go in the body only")
        if edit.end > para.end:
            raise RedlineConflict(f"edit {edit.start}-{edit.end} crosses the end of paragraph {para.index}")
        by_paragraph[para.index].append(
            TextEdit(start=edit.start - para.start, end=edit.end - para.start, new_text=edit.new_text, author=edit.author)
        )
    for index, local_edits in by_paragraph.items():
        element = paragraphs[index]
        expected = document.paragraphs[index].text
        if paragraph_text(element) != expected:
            raise RedlineConflict(f"paragraph {index} of the DOCX does not match the reviewed text")
        _apply_paragraph_edits(element, sorted(local_edits, key=lambda e: (e.start, e.end)), revision)

    # Insert bottom-up so earlier anchors keep their position; several insertions after one anchor keep order.
    grouped: dict[int, list[ParagraphInsertion]] = defaultdict(list)
    for insertion in insertions:
        grouped[insertion.after_paragraph].append(insertion)
    for index in sorted(grouped, reverse=True):
        anchor = paragraphs[index]
        place = _outside_tables(anchor, body)  # a clause inserted after a table cell goes after the table
        for insertion in reversed(grouped[index]):
            place.addnext(_inserted_paragraph(anchor, insertion.text, revision.by(insertion.author)))

    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


class _RevisionStamp:
    def __init__(self, *, author: str, when: datetime, first_id: int) -> None:
        self.author = author
        self.date = when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._shared = [first_id]  # one counter for every author's stamp: revision ids stay unique

    def by(self, author: str | None) -> _RevisionStamp:
        """The same stamp (shared id counter) for another author: each change is signed by who decided it."""
        if not author or author == self.author:
            return self
        other = _RevisionStamp.__new__(_RevisionStamp)
        other.author, other.date, other._shared = author, self.date, self._shared
        return other

    def element(self, tag: str) -> etree._Element:
        node = etree.Element(w(tag))
        node.set(w("id"), str(self._shared[0]))
        node.set(w("author"), self.author)
        node.set(w("date"), self.date)
        self._shared[0] += 1
        return node


def _max_id(root: etree._Element) -> int:
    ids = [int(v) for v in etree.XPath("//@w:id", namespaces={"w": W_NS})(root) if str(v).lstrip("-").isdigit()]
    return max(ids, default=0)


def ensure_disjoint(edits: list[TextEdit]) -> None:
    """Refuse edits that touch the same characters (or insert at the same point): Word cannot show both."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end or (after.start == before.start and after.end == before.end):
            raise RedlineConflict(
                f"two accepted changes touch the same words (characters {after.start}-{before.end}); "
                "reject or modify one of them"
            )


def _apply_paragraph_edits(paragraph: etree._Element, edits: list[TextEdit], revision: _RevisionStamp) -> None:
    ensure_disjoint(edits)
    for cut in sorted({b for e in edits for b in (e.start, e.end)}):
        _split_at(paragraph, cut)
    runs = _runs_with_offsets(paragraph)
    for edit in edits:
        stamp = revision.by(edit.author)
        inside = [run for run, start, end in runs if start >= edit.start and end <= edit.end and end > start]
        last_deleted = None
        for run in inside:
            deletion = stamp.element("del")
            run.addprevious(deletion)
            deletion.append(run)
            for t in run.findall(w("t")):
                t.tag = w("delText")
            last_deleted = deletion
        if not edit.new_text:
            continue
        template = inside[0] if inside else _neighbour_run(runs, edit.start)
        properties = template.find(w("rPr")) if template is not None else None
        insertion = stamp.element("ins")
        insertion.append(make_run(properties, edit.new_text))
        if last_deleted is not None:
            last_deleted.addnext(insertion)
        else:
            _place_insertion(paragraph, runs, edit.start, insertion)


def _runs_with_offsets(paragraph: etree._Element) -> list[tuple[etree._Element, int, int]]:
    result, offset = [], 0
    for run in live_runs(paragraph):
        length = len(run_text(run))
        result.append((run, offset, offset + length))
        offset += length
    return result


def _split_at(paragraph: etree._Element, cut: int) -> None:
    for run, start, end in _runs_with_offsets(paragraph):
        if start < cut < end:
            text = run_text(run)
            properties = run.find(w("rPr"))
            left = make_run(properties, text[: cut - start])
            right = make_run(properties, text[cut - start :])
            run.addprevious(left)
            run.addprevious(right)
            run.getparent().remove(run)
            return


def _neighbour_run(runs: list[tuple[etree._Element, int, int]], offset: int) -> etree._Element | None:
    for run, start, end in runs:
        if end == offset and end > start:
            return run
    for run, start, end in runs:
        if start >= offset:
            return run
    return runs[-1][0] if runs else None


def _place_insertion(paragraph, runs, offset: int, insertion: etree._Element) -> None:
    for run, start, end in runs:
        if start >= offset and end > start:
            _top_level(run, paragraph).addprevious(insertion)
            return
    paragraph.append(insertion)


def _top_level(run: etree._Element, paragraph: etree._Element) -> etree._Element:
    """The ancestor of `run` that is a direct child of the paragraph (e.g. a hyperlink)."""
    node = run
    while node.getparent() is not paragraph:
        node = node.getparent()
    return node


def _outside_tables(paragraph: etree._Element, body: etree._Element) -> etree._Element:
    node = paragraph
    while node.getparent() is not None and node.getparent() is not body:
        node = node.getparent()
    return node if node.tag == w("tbl") else paragraph


# Character formatting a clause of body text must not inherit from its neighbour (a bold lead-in, a hidden run).
_EMPHASIS = ("b", "bCs", "i", "iCs", "u", "caps", "smallCaps", "strike", "dstrike", "highlight", "vanish", "webHidden",
             "specVanish", "color", "shd", "rStyle")


def _inserted_paragraph(anchor: etree._Element, text: str, revision: _RevisionStamp) -> etree._Element:
    paragraph = etree.Element(w("p"))
    anchor_props = anchor.find(w("pPr"))
    props = deepcopy(anchor_props) if anchor_props is not None else etree.Element(w("pPr"))
    # Word list numbering (numPr) is kept so the clause continues the contract's numbering; no section break, heading
    # style, old revision mark or paragraph-mark formatting is carried over.
    for tag in ("sectPr", "pPrChange", "rPr"):
        for element in props.findall(w(tag)):
            props.remove(element)
    style = props.find(w("pStyle"))
    if style is not None and re.match(r"(?i)heading|title", style.get(w("val"), "")):
        props.remove(style)
    mark = props.find(w("rPr"))
    if mark is None:
        mark = etree.SubElement(props, w("rPr"))
    mark.append(revision.element("ins"))  # the paragraph mark itself is a tracked insertion
    paragraph.append(props)
    runs = [r for r in live_runs(anchor) if run_text(r).strip()]
    template = runs[-1] if runs else None  # the body text's run, not a bold heading run at the start
    run_props = deepcopy(template.find(w("rPr"))) if template is not None and template.find(w("rPr")) is not None else None
    if run_props is not None:
        for tag in _EMPHASIS:
            for element in run_props.findall(w(tag)):
                run_props.remove(element)
    insertion = revision.element("ins")
    insertion.append(make_run(run_props, text))
    paragraph.append(insertion)
    return paragraph
