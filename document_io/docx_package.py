"""Open a DOCX package without trusting it: bounded before anything is parsed.

A DOCX is a ZIP of XML parts. A hostile one can declare small members that inflate to gigabytes (a zip bomb), carry
thousands of members, or lie about its sizes. Every member's declared size is checked first, then each part we read
is inflated in chunks with a hard cap, so no more than the limits are ever held in memory. XML is parsed with
entities, DTDs and network access off.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from document_io.errors import CorruptDocument, DocumentTooLarge, clip

MAX_MEMBERS = 2_000
MAX_PART_BYTES = 48 * 1024 * 1024  # one inflated XML part (a 1,000-page contract's document.xml is ~30 MB)
MAX_TOTAL_BYTES = 96 * 1024 * 1024  # all the parts we read, inflated
_CHUNK = 1024 * 1024

# the parts whose text a reviewer sees in Word, in reading order after the body
TEXT_PARTS = ("word/document.xml",)
SIDE_PART_PREFIXES = ("word/header", "word/footer", "word/footnotes", "word/endnotes", "word/comments")
# the parts that decide how text looks (styles, theme colours): read to tell whether a reader can see it
LOOK_PARTS = ("word/styles.xml", "word/theme/theme1.xml")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def open_package(name: str, data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The DOCX as a ZIP and its members, refused (one line) when it is not a ZIP or has too many members."""
    if not data.startswith(b"PK"):
        raise CorruptDocument(f"{name}: not a DOCX file (it is not a ZIP package); was it renamed from another format?")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorruptDocument(f"{name}: corrupt DOCX ({type(exc).__name__}: {clip(exc, 80)})") from None
    if len(members) > MAX_MEMBERS:
        raise DocumentTooLarge(f"{name}: the DOCX package has {len(members):,} parts (limit {MAX_MEMBERS:,}); not a normal contract")
    return package, members


def read_parts(name: str, data: bytes) -> dict[str, bytes]:
    """The document, header, footer, footnote, endnote and comment parts of a DOCX, and its styles and theme, each
    inflated under the caps."""
    package, members = open_package(name, data)
    wanted = [m for m in members if m.filename in TEXT_PARTS or m.filename in LOOK_PARTS or
              (m.filename.startswith(SIDE_PART_PREFIXES) and m.filename.endswith(".xml") and "/" not in m.filename[5:])]
    if not any(m.filename == "word/document.xml" for m in wanted):
        raise CorruptDocument(f"{name}: ZIP package without word/document.xml, so not a Word document")
    declared = sum(m.file_size for m in wanted)
    if declared > MAX_TOTAL_BYTES or any(m.file_size > MAX_PART_BYTES for m in wanted):
        raise DocumentTooLarge(f"{name}: the DOCX declares {declared / 1_048_576:,.0f} MB of text XML when unpacked "
                               f"(limit {MAX_TOTAL_BYTES // 1_048_576} MB); refused before unpacking")
    parts: dict[str, bytes] = {}
    total = 0
    for member in sorted(wanted, key=lambda m: (m.filename != "word/document.xml", m.filename)):
        inflated = _inflate(name, package, member, min(MAX_PART_BYTES, MAX_TOTAL_BYTES - total))
        total += len(inflated)
        parts[member.filename] = inflated
    return parts


def _inflate(name: str, package: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int) -> bytes:
    """Inflate one member in chunks, stopping at `cap` bytes whatever the header declared."""
    buffer = bytearray()
    try:
        with package.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                buffer += chunk
                if len(buffer) > cap:
                    raise DocumentTooLarge(f"{name}: {member.filename} inflates past {cap // 1_048_576} MB (its header "
                                           f"declared {member.file_size:,} bytes); refused")
    except DocumentTooLarge:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise CorruptDocument(f"{name}: corrupt DOCX ({type(exc).__name__}: {clip(exc, 80)})") from None
    return bytes(buffer)


def parse_xml(name: str, part: str, data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"{name}: corrupt DOCX ({part}: {clip(exc, 80)})") from None
