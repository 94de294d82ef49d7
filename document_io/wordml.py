"""WordprocessingML helpers shared by the DOCX reader and the tracked-changes writer.

Both sides must agree exactly on which `w:p` elements count as paragraphs and on how a run's children
become characters; otherwise a span found in the text would land on the wrong characters in Word.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


# Run children that stand for characters in the paragraph text.
_CHAR_FOR_ELEMENT = {w("tab"): "\t", w("br"): "\n", w("cr"): "\n", w("noBreakHyphen"): "-", w("softHyphen"): ""}
# Containers whose runs are not part of the current text (existing tracked deletions, moved-away text).
_DEAD_CONTAINERS = {w("del"), w("moveFrom")}


def body_paragraphs(body: etree._Element) -> list[etree._Element]:
    """Every w:p of the body in document order, tables included, text-box paragraphs excluded."""
    result = []
    for p in body.iter(w("p")):
        parent = p.getparent()
        nested = False
        while parent is not None and parent is not body:
            if parent.tag == w("p"):
                nested = True
                break
            parent = parent.getparent()
        if not nested:
            result.append(p)
    return result


def live_runs(paragraph: etree._Element) -> Iterator[etree._Element]:
    """The paragraph's own runs whose text is current (not inside a tracked deletion or a text box)."""
    for run in paragraph.iter(w("r")):
        ancestor = run.getparent()
        alive = True
        while ancestor is not None and ancestor is not paragraph:
            if ancestor.tag in _DEAD_CONTAINERS or ancestor.tag == w("p"):
                alive = False
                break
            ancestor = ancestor.getparent()
        if alive:
            yield run


def run_text(run: etree._Element) -> str:
    parts = []
    for child in run:
        if child.tag == w("t"):
            parts.append(child.text or "")
        elif child.tag in _CHAR_FOR_ELEMENT:
            parts.append(_CHAR_FOR_ELEMENT[child.tag])
    return "".join(parts)


def paragraph_text(paragraph: etree._Element) -> str:
    return "".join(run_text(r) for r in live_runs(paragraph))


def make_run(properties: etree._Element | None, text: str, *, deleted: bool = False) -> etree._Element:
    """A new w:r with copied formatting; tabs and line breaks become their own elements."""
    run = etree.Element(w("r"))
    if properties is not None:
        run.append(_copy(properties))
    text_tag = w("delText") if deleted else w("t")
    buffer = ""

    def flush() -> None:
        nonlocal buffer
        if buffer:
            t = etree.SubElement(run, text_tag)
            t.text = buffer
            t.set(f"{{{XML_NS}}}space", "preserve")
            buffer = ""

    for ch in text:
        if ch == "\t":
            flush()
            etree.SubElement(run, w("tab"))
        elif ch == "\n":
            flush()
            etree.SubElement(run, w("br"))
        else:
            buffer += ch
    flush()
    return run


def _copy(element: etree._Element) -> etree._Element:
    from copy import deepcopy

    return deepcopy(element)
