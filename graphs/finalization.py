"""Turn the reviewer's decisions into the deliverables: the redlined DOCX and the review report.

approve → the suggestion's own edits; modify → a word-level diff of the cited text against the reviewer's
text (or the reviewer's text as the inserted clause); reject / escalate → no change to the document.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from document_io.legal_text import minimal_edits
from agents.redlining import InsertNumbering
from agents.schema import Decision, ReviewComment, Suggestion
from document_io.docx_comments import WordComment, add_word_comments
from document_io.docx_redline import ParagraphInsertion, TextEdit, ensure_disjoint, write_tracked_changes
from document_io.models import SourceDocument
from graphs.review_report import ReviewReport, render_markdown
from graphs.locks import file_lock


class UndecidedSuggestions(RuntimeError):
    pass


class OpenEscalations(RuntimeError):
    pass


def open_escalations(suggestions: list[Suggestion], decisions: dict[str, Decision]) -> list[str]:
    """Suggestions whose latest decision is 'escalate': the function escalated to must decide them first."""
    return [s.id for s in suggestions if s.id in decisions and decisions[s.id].action == "escalate"]


def changes_for(suggestions: list[Suggestion], decisions: dict[str, Decision]) -> tuple[list[TextEdit], list[ParagraphInsertion]]:
    edits: list[TextEdit] = []
    insertions: list[ParagraphInsertion] = []
    undecided = [s.id for s in suggestions if s.id not in decisions]
    if undecided:
        raise UndecidedSuggestions(f"undecided suggestions: {', '.join(undecided)}")
    escalated = open_escalations(suggestions, decisions)
    if escalated:
        owners = ", ".join(f"{sid} → {decisions[sid].escalate_to or 'legal'}" for sid in escalated)
        raise OpenEscalations(f"escalated suggestions must be decided by the function they went to first: {owners}")
    numbering = InsertNumbering([s for s in suggestions if s.kind == "insert"])  # numbered from the approved set
    for suggestion in suggestions:
        decision = decisions[suggestion.id]
        if decision.action not in ("approve", "modify"):
            continue
        if suggestion.kind == "insert":
            text = decision.modified_text if decision.action == "modify" else suggestion.insertion.text
            insertions.append(ParagraphInsertion(after_paragraph=suggestion.insertion.after_paragraph,
                                                 text=numbering.renumbered(suggestion, text), author=decision.reviewer))
        elif decision.action == "modify":
            changed = minimal_edits(suggestion.citation.quote, decision.modified_text or "", suggestion.citation.start)
            edits += [e.model_copy(update={"author": decision.reviewer}) for e in changed]
        else:
            edits += [e.model_copy(update={"author": decision.reviewer}) for e in suggestion.edits]
    ensure_disjoint(edits)  # refuse before resuming the graph, not halfway through writing
    return edits, insertions


def write_outputs(report: ReviewReport, document: SourceDocument, base_docx: Path, output_dir: Path,
                  suggestions: list[Suggestion], decisions: dict[str, Decision], reviewer: str) -> dict[str, str]:
    edits, insertions = changes_for(suggestions, decisions)
    output_dir.mkdir(parents=True, exist_ok=True)
    redlined = write_tracked_changes(
        base_docx.read_bytes(), document, edits, insertions, author=reviewer, when=datetime.now(timezone.utc)
    )
    redlined = add_word_comments(redlined, word_comments(document, suggestions, report.comments))
    with file_lock(output_dir / ".clauseflow.lock", busy=f"{output_dir} is being written by another review; try again"):
        stem = _claim_stem(output_dir, safe_file_stem(document.name), report.thread_id, document.sha256)
        paths = {key: output_dir / f"{stem}{suffix}" for key, suffix in _OUTPUTS.items()}
        for path in paths.values():
            _remove_abandoned_temporaries(path)
        write_atomically(paths["redlined_docx"], redlined)
        write_atomically(paths["report_md"], render_markdown(report).encode("utf-8"))
        write_atomically(paths["report_json"], json.dumps(report.model_dump(mode="json"), indent=2).encode("utf-8"))
    return {k: str(v) for k, v in paths.items()}


def word_comments(document: SourceDocument, suggestions: list[Suggestion],
                  threads: dict[str, list[ReviewComment]]) -> list[WordComment]:
    """Each suggestion's comment thread as Word comments on the body paragraph its citation starts in (a citation
    in a footnote or header is anchored on the first body paragraph), prefixed with the suggestion it is about."""
    comments = []
    for suggestion in suggestions:
        paragraph = document.paragraph_at(suggestion.citation.start)
        index = paragraph.index if paragraph.part == "body" else 0
        if suggestion.kind == "insert" and suggestion.insertion:
            index = suggestion.insertion.after_paragraph
        for comment in threads.get(suggestion.id, []):
            comments.append(WordComment(paragraph=index, author=comment.author, at=comment.at,
                                        text=f"{suggestion.id} ({suggestion.title}): {comment.text}"))
    return comments


_OUTPUTS = {"redlined_docx": ".redlined.docx", "report_md": ".review.md", "report_json": ".review.json"}
_RESERVED = re.compile(r"^(?:con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)


def safe_file_stem(name: str) -> str:
    """A visible, portable file name from whatever the contract was called: no path separators, brackets or control
    characters, no leading dots (".." would give a hidden "..redlined.docx"), no reserved device names."""
    stem = unicodedata.normalize("NFKC", name)
    stem = re.sub(r"[^\w.\- ]+", "_", stem).strip(" ._")
    stem = _within_bytes(re.sub(r"[ _]{2,}", "_", stem), MAX_STEM_BYTES).rstrip(" ._") or "contract"
    return f"{stem}_" if _RESERVED.match(stem) else stem


MAX_STEM_BYTES = 120  # file systems limit a name to 255 bytes: room for "-<hash>-<hash>.redlined.docx" and the like


def _within_bytes(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 form fits in `limit` bytes (80 Japanese characters are 240 bytes)."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _claim_stem(output_dir: Path, base: str, thread_id: str, sha256: str) -> str:
    """The outputs' name: the contract's own, unless another review already wrote (or claimed) it in this folder;
    then the name with the content hash. A marker file records which review owns a name, so a finalisation that is
    redone after a crash writes to the same files. Called under the folder's lock."""
    for stem in (base, f"{base}-{sha256[:8]}", f"{base}-{thread_id[-10:]}-{sha256[8:16]}"):
        marker = output_dir / f".{stem}.owner"
        _remove_abandoned_temporaries(marker)  # a claim a killed finaliser was writing
        if marker.exists():
            if marker.read_text(encoding="utf-8").strip() == thread_id:
                return stem
            continue
        if any((output_dir / f"{stem}{suffix}").exists() for suffix in _OUTPUTS.values()):
            continue  # written before markers existed, by some other review
        write_atomically(marker, thread_id.encode("utf-8"))
        return stem
    raise RuntimeError(f"no free output name for {base!r} in {output_dir}")


def _remove_abandoned_temporaries(path: Path) -> None:
    """Delete temporaries a killed writer left beside `path` (we hold the review's lock; a live pid is left alone)."""
    for temporary in path.parent.glob(f".{path.name}.*.tmp"):
        pid = temporary.name[len(path.name) + 2:-len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid() or _process_alive(int(pid)):
            continue
        temporary.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomically(path: Path, data: bytes) -> None:
    """A killed finalisation leaves the old file or the new one, never half of one (it is redone on restart)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
