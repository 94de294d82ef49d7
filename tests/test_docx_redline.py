"""Tracked changes written into the ORIGINAL sample DOCX, parsed back from the XML."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone

import pytest
from lxml import etree

from conftest import SAMPLES
from document_io.docx_redline import ParagraphInsertion, RedlineConflict, TextEdit, write_tracked_changes
from document_io.loader import load_document
from document_io.wordml import W_NS, body_paragraphs, paragraph_text, w

WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)


def _body(docx_bytes: bytes):
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    return root.find(w("body"))


def _edit(document, old: str, new: str) -> TextEdit:
    start = document.text.rindex(old)  # the last occurrence: "New York" is in the preamble too
    return TextEdit(start=start, end=start + len(old), new_text=new)


def _accepted_text(paragraph) -> str:
    """Paragraph text with all tracked changes accepted."""
    return paragraph_text(paragraph)


def _rejected_text(paragraph) -> str:
    parts = []
    for node in paragraph.iter(w("t"), w("delText")):
        inside_ins = any(a.tag == w("ins") for a in node.iterancestors())
        if not inside_ins:
            parts.append(node.text or "")
    return "".join(parts)


def test_edits_become_w_del_and_w_ins_with_author_and_date():
    path = SAMPLES / "msa_orion.docx"
    document = load_document(path)
    edits = [_edit(document, "ten (10)", "thirty (30)"), _edit(document, "Texas", "Delaware")]
    out = write_tracked_changes(path.read_bytes(), document, edits, [], author="Alice Lee", when=WHEN)
    body = _body(out)
    deletions = body.findall(f".//{{{W_NS}}}del")
    insertions = body.findall(f".//{{{W_NS}}}ins")
    assert ["".join(d.itertext()) for d in deletions] == ["ten (10)", "Texas"]
    assert ["".join(i.itertext()) for i in insertions] == ["thirty (30)", "Delaware"]
    for change in deletions + insertions:
        assert change.get(w("author")) == "Alice Lee"
        assert change.get(w("date")) == "2026-11-23T09:30:00Z"
    ids = [c.get(w("id")) for c in deletions + insertions]
    assert len(set(ids)) == len(ids)
    # deleted text is w:delText, not w:t
    assert all(d.find(f".//{{{W_NS}}}t") is None for d in deletions)


def test_accepting_gives_new_text_rejecting_gives_original_and_other_paragraphs_are_untouched():
    path = SAMPLES / "msa_orion.docx"
    document = load_document(path)
    edits = [_edit(document, "ten (10)", "thirty (30)")]
    out = write_tracked_changes(path.read_bytes(), document, edits, [], author="A", when=WHEN)
    original = body_paragraphs(_body(path.read_bytes()))
    changed = body_paragraphs(_body(out))
    assert len(original) == len(changed)
    target = document.paragraph_at(edits[0].start).index
    for index, (before, after) in enumerate(zip(original, changed)):
        if index == target:
            assert _accepted_text(after) == document.paragraphs[index].text.replace("ten (10)", "thirty (30)")
            assert _rejected_text(after) == document.paragraphs[index].text
        else:
            assert etree.tostring(before) == etree.tostring(after)
    # the bold section heading run keeps its formatting
    heading_run = changed[target].find(w("r"))
    assert heading_run.find(f"{{{W_NS}}}rPr/{{{W_NS}}}b") is not None


def test_inserted_clause_is_a_tracked_new_paragraph():
    path = SAMPLES / "supply_ferrotech.docx"
    document = load_document(path)
    anchor = next(p for p in document.paragraphs if p.text.startswith("8. Governing Law"))
    out = write_tracked_changes(
        path.read_bytes(), document, [], [ParagraphInsertion(after_paragraph=anchor.index, text="New insurance clause.")],
        author="B", when=WHEN,
    )
    paragraphs = body_paragraphs(_body(out))
    new = paragraphs[anchor.index + 1]
    assert paragraph_text(new) == "New insurance clause."
    assert new.find(f"{{{W_NS}}}pPr/{{{W_NS}}}rPr/{{{W_NS}}}ins") is not None  # paragraph mark is tracked
    assert new.find(f"{{{W_NS}}}ins") is not None
    assert len(paragraphs) == len(document.paragraphs) + 1


def test_overlapping_edits_are_refused():
    path = SAMPLES / "msa_orion.docx"
    document = load_document(path)
    start = document.text.index("ten (10)")
    edits = [TextEdit(start=start, end=start + 8, new_text="x"), TextEdit(start=start + 4, end=start + 8, new_text="y")]
    with pytest.raises(RedlineConflict):
        write_tracked_changes(path.read_bytes(), document, edits, [], author="A", when=WHEN)


def test_pdf_and_text_input_get_a_fresh_docx_carrying_the_changes():
    from document_io.docx_redline import docx_from_paragraphs

    document = load_document(SAMPLES / "licence_quanta.txt")
    base = docx_from_paragraphs([p.text for p in document.paragraphs])
    out = write_tracked_changes(base, document, [_edit(document, "ninety (90)", "thirty (30)")], [], author="C", when=WHEN)
    paragraphs = body_paragraphs(_body(out))
    assert [paragraph_text(p) for p in paragraphs][0] == "SOFTWARE LICENSE AGREEMENT"
    assert "".join(_body(out).find(f".//{{{W_NS}}}del").itertext()) == "ninety (90)"
