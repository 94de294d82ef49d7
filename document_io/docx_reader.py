"""Read every part of a DOCX a person can see in Word: the body (tables included), text boxes, headers, footers,
footnotes, endnotes and comments. Each paragraph knows its part, so a finding can say "footnote 3" or "header", and
how its text is concealed from a reader (hidden, white, tiny), which is how instructions are planted.

Body paragraphs come first and keep their positions among the body's w:p elements: the tracked-changes writer can
place edits only there. Everything else follows, labelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from document_io.docx_package import LOOK_PARTS, parse_xml, read_parts
from document_io.errors import CorruptDocument
from document_io.models import Revision
from document_io.docx_visibility import Visibility
from document_io.wordml import body_paragraphs, live_runs, paragraph_text, run_text, w

_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


@dataclass
class DocxParagraph:
    text: str
    part: str = "body"  # body | text box | header | footer | footnote N | endnote N | comment N by <author>
    in_table: bool = False
    concealed: str | None = None  # e.g. "white text"; None when a reader sees it
    concealed_spans: list[tuple[int, int, str]] | None = None  # (start, end, how) of each concealed stretch, local
    revisions: list[Revision] | None = None  # the sender's tracked changes, offsets local to the paragraph


def read_docx(name: str, data: bytes) -> list[DocxParagraph]:
    parts = read_parts(name, data)
    root = parse_xml(name, "word/document.xml", parts["word/document.xml"])
    body = root.find(w("body"))
    if body is None:
        raise CorruptDocument(f"{name}: DOCX without a document body")
    looks = Visibility.of(root, parts.get("word/styles.xml"), parts.get("word/theme/theme1.xml"))
    result = [_paragraph(p, "body", looks, in_table=any(a.tag == w("tbl") for a in p.iterancestors())) for p in body_paragraphs(body)]
    for box, paragraphs in _text_boxes(body):
        off_page = _off_page(box)
        for p in paragraphs:
            paragraph = _paragraph(p, "text box", looks)
            paragraph.concealed = paragraph.concealed or (off_page if paragraph.text.strip() else None)
            result.append(paragraph)
    seen: set[tuple[str, str]] = set()
    for part_name in sorted(parts):
        if part_name == "word/document.xml" or part_name in LOOK_PARTS:
            continue
        for paragraph in _side_part(part_name, parse_xml(name, part_name, parts[part_name]), looks):
            key = (paragraph.part, paragraph.text)
            if paragraph.part in ("header", "footer") and key in seen:
                continue  # the same header for first, odd and even pages
            seen.add(key)
            result.append(paragraph)
    return result


def _paragraph(p: etree._Element, part: str, seen: Visibility, in_table: bool = False) -> DocxParagraph:
    spans = _concealed_spans(p, seen)
    return DocxParagraph(text=paragraph_text(p), part=part, in_table=in_table, concealed=spans[0][2] if spans else None,
                         concealed_spans=spans or None, revisions=_revisions(p))


def _concealed_spans(p: etree._Element, seen: Visibility) -> list[tuple[int, int, str]]:
    """Each stretch of the paragraph a reader cannot see, with how it is concealed; runs of one concealment next to each
    other (or with only spaces between them) are one stretch."""
    spans: list[tuple[int, int, str]] = []
    offset, full = 0, None
    for run in live_runs(p):
        text = run_text(run)
        start, offset = offset, offset + len(text)
        if not text.strip():
            continue
        how = seen.concealment(run, p)
        if how is None:
            continue
        full = full if full is not None else paragraph_text(p)
        if spans and spans[-1][2] == how and not full[spans[-1][1]:start].strip():
            spans[-1] = (spans[-1][0], offset, how)
        else:
            spans.append((start, offset, how))
    return spans


_INSERTED, _DELETED = (w("ins"), w("moveTo")), (w("del"), w("moveFrom"))


def _revisions(p: etree._Element) -> list[Revision]:
    """The paragraph's tracked insertions (text it now reads) and deletions (text it no longer reads), each with its
    author and date, at their places in the paragraph's current text. Adjacent runs of one change are merged."""
    live = set(live_runs(p))
    changes: list[Revision] = []
    offset = 0
    for run in p.iter(w("r")):
        if _nearest_paragraph(run) is not p:
            continue  # a text box's runs belong to its own paragraphs
        change = next((a for a in run.iterancestors() if a.tag in _INSERTED + _DELETED or a is p), None)
        if run in live:
            text = run_text(run)
            if change is not None and change.tag in _INSERTED and text:
                _add(changes, "insertion", offset, offset + len(text), text, change)
            offset += len(text)
        elif change is not None and change.tag in _DELETED:
            text = "".join(t.text or "" for t in run.iter(w("delText"), w("t")))
            if text:
                _add(changes, "deletion", offset, offset, text, change)
    return changes


def _add(changes: list[Revision], kind: str, start: int, end: int, text: str, change: etree._Element) -> None:
    author, date = change.get(w("author")) or "unknown", change.get(w("date"))
    last = changes[-1] if changes else None
    if last and last.kind == kind and last.author == author and last.end == start:
        last.end, last.text = end, last.text + text
        return
    changes.append(Revision(kind=kind, start=start, end=end, text=text, author=author, date=date))


def _nearest_paragraph(run: etree._Element) -> etree._Element | None:
    return next((a for a in run.iterancestors() if a.tag == w("p")), None)


def _text_boxes(body: etree._Element) -> list[tuple[etree._Element, list[etree._Element]]]:
    """Each text box (w:txbxContent) with its paragraphs, once: Word stores a VML fallback copy of a modern one."""
    found = []
    for content in body.iter(w("txbxContent")):
        if any(a.tag == f"{{{_MC}}}Fallback" for a in content.iterancestors()):
            continue
        found.append((content, [p for p in content.iter(w("p")) if _nearest_container(p) is content]))
    return found


_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_PAGE_EMU = 9_144_000 * 2  # twice the width of a Letter page: anything further out cannot be on the page


def _off_page(box: etree._Element) -> str | None:
    """A text box positioned where no page shows it (a large or negative offset), as a place to plant text."""
    for ancestor in box.iterancestors():
        if ancestor.tag == f"{{{_WP}}}anchor":
            for offset in ancestor.iter(f"{{{_WP}}}posOffset"):
                if (offset.text or "").lstrip("-").isdigit() and not -914_400 <= int(offset.text) <= _PAGE_EMU:
                    return "text positioned off the page"
        style = ancestor.get("style") or ""
        for value in re.findall(r"(?:margin-left|margin-top|left|top)\s*:\s*(-?[\d.]+)pt", style):
            if not -72 <= float(value) <= 1440:
                return "text positioned off the page"
    return None


def _nearest_container(p: etree._Element) -> etree._Element | None:
    for ancestor in p.iterancestors():
        if ancestor.tag == w("txbxContent"):
            return ancestor
    return None


def _side_part(part_name: str, root: etree._Element, seen: Visibility) -> list[DocxParagraph]:
    kind = part_name.removeprefix("word/").removesuffix(".xml").rstrip("0123456789")
    if kind in ("header", "footer"):
        return [_paragraph(p, kind, seen) for p in root.iter(w("p"))]
    if kind in ("footnotes", "endnotes"):
        label = kind[:-1]
        notes = []
        for note in root.iter(w(label)):
            if note.get(w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            notes += [_paragraph(p, f"{label} {note.get(w('id'))}", seen) for p in note.iter(w("p"))]
        return notes
    if kind == "comments":
        comments = []
        for comment in root.iter(w("comment")):
            label = f"comment {comment.get(w('id'))} by {comment.get(w('author')) or 'unknown'}"
            comments += [_paragraph(p, label, seen) for p in comment.iter(w("p"))]
        return comments
    return []
