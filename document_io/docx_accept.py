"""The agreed text as Word shows it after "Accept All Changes": every tracked insertion kept, every tracked deletion
gone, formatting changes settled, comments detached. The execution copy is made from it, and its text is what a
signed PDF coming back is matched against.

Only the parts that carry text are rewritten; every other part of the package is copied as it is, member by member.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from document_io.docx_package import read_parts
from document_io.wordml import XML_NS, w

_REMOVED = {w("del"), w("moveFrom"), w("moveFromRangeStart"), w("moveFromRangeEnd"), w("moveToRangeStart"),
            w("moveToRangeEnd"), w("rPrChange"), w("pPrChange"), w("sectPrChange"), w("tblPrChange"), w("trPrChange"),
            w("tcPrChange"), w("tblGridChange"), w("numberingChange"), w("commentRangeStart"), w("commentRangeEnd"),
            w("cellDel")}
_UNWRAPPED = {w("ins"), w("moveTo")}
_REWRITTEN = ("word/document.xml", "word/header", "word/footer", "word/footnotes", "word/endnotes")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def accept_all_changes(docx: bytes, *, signature_lines: list[str] | None = None) -> bytes:
    """`docx` with every tracked change accepted and no comment anchors; `signature_lines`, when given, on a page of
    their own at the end (the signature page the signature blocks are placed on)."""
    parts = read_parts("agreed.docx", docx)  # bounded: a package over the reading limits is refused here
    rewritten = {}
    for name, data in parts.items():
        if not name.startswith(_REWRITTEN):
            continue
        root = etree.fromstring(data, _PARSER)
        _accept(root)
        if name == "word/document.xml" and signature_lines:
            _append_signature_page(root, signature_lines)
        rewritten[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename in rewritten:
                target.writestr(member.filename, rewritten[member.filename])
                continue
            copied = zipfile.ZipInfo(member.filename, member.date_time)
            copied.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo is stored uncompressed unless told otherwise
            with source.open(member) as reader, target.open(copied, "w", force_zip64=member.file_size > (1 << 31)) as writer:
                while chunk := reader.read(1 << 20):
                    writer.write(chunk)
    return out.getvalue()


def _accept(root: etree._Element) -> None:
    # paragraphs whose mark was deleted join the paragraph after them (noted before the markers go)
    joined = [p for p in root.iter(w("p")) if p.find(f"{w('pPr')}/{w('rPr')}/{w('del')}") is not None]
    for element in [e for e in root.iter() if e.tag in _REMOVED]:
        if element.getparent() is not None:
            element.getparent().remove(element)
    for run in [r for r in root.iter(w("r")) if r.find(w("commentReference")) is not None]:
        run.getparent().remove(run)
    for element in [e for e in root.iter() if e.tag in _UNWRAPPED]:
        parent = element.getparent()
        if parent is None:
            continue
        at = parent.index(element)
        for offset, child in enumerate(list(element)):
            parent.insert(at + offset, child)
        parent.remove(element)
    for deleted_text in list(root.iter(w("delText"))):  # a deletion marker outside w:del (malformed): its text goes too
        deleted_text.getparent().remove(deleted_text)
    for mark in root.iter(w("rPr")):
        if mark.getparent() is not None and mark.getparent().tag == w("pPr"):
            for inserted in mark.findall(w("ins")):
                mark.remove(inserted)
    for paragraph in joined:
        following = paragraph.getnext()
        if following is None or following.tag != w("p"):
            continue  # the last paragraph of a cell or the body keeps its mark
        content = [c for c in paragraph if c.tag != w("pPr")]
        at = 1 if following.find(w("pPr")) is not None else 0
        for offset, child in enumerate(content):
            following.insert(at + offset, child)
        paragraph.getparent().remove(paragraph)


def _append_signature_page(root: etree._Element, lines: list[str]) -> None:
    body = root.find(w("body"))
    if body is None:
        return
    section = body.find(w("sectPr"))
    new = []
    first = etree.Element(w("p"))
    run = etree.SubElement(first, w("r"))
    etree.SubElement(run, w("br")).set(w("type"), "page")
    new.append(first)
    for line in lines:
        paragraph = etree.Element(w("p"))
        run = etree.SubElement(paragraph, w("r"))
        text = etree.SubElement(run, w("t"))
        text.text = "".join(c for c in line if c.isprintable())
        text.set(f"{{{XML_NS}}}space", "preserve")
        new.append(paragraph)
    for paragraph in new:
        if section is not None:
            section.addprevious(paragraph)
        else:
            body.append(paragraph)
