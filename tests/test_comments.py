"""A comment thread per suggestion: kept in the log, shown in the report, written as Word comments in the redline."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone

import pytest
from conftest import SAMPLES

from agents.schema import Decision
from graphs.audit_log import AlreadySignedOff
from graphs.configuration import ReviewConfig
from graphs.review_service import ReviewService


def test_comments_reach_the_report_and_the_redlined_docx_as_word_comments(tmp_path):
    import docx

    service = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local"))
    status = service.start(SAMPLES / "msa_orion.docx", tmp_path / "out")
    first, second = status.redlines.suggestions[:2]
    service.comment(status.thread_id, first.id, "ann", "Their counsel asked for Net 60; we hold at 45.")
    service.comment(status.thread_id, first.id, "ben", "Agreed with finance.")
    service.comment(status.thread_id, second.id, "ann", "Fine as proposed.")
    with pytest.raises(ValueError, match="empty comment"):
        service.comment(status.thread_id, first.id, "ann", "   ")
    status = service.status(status.thread_id)
    assert [c.author for c in status.comments[first.id]] == ["ann", "ben"] and status.version == 0  # not decisions
    now = datetime.now(timezone.utc)
    service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="approve", reviewer="ann", decided_at=now)
                                      for s in status.redlines.suggestions])
    done = service.finalise(status.thread_id, "ann")
    with pytest.raises(AlreadySignedOff):
        service.comment(status.thread_id, first.id, "ann", "too late")
    report = open(done.outputs["report_md"], encoding="utf-8").read()
    assert "- ann, " in report and "Their counsel asked for Net 60" in report and "Agreed with finance." in report
    data = open(done.outputs["redlined_docx"], "rb").read()
    word = docx.Document(io.BytesIO(data))
    written = [(c.author, c.text) for c in word.comments]
    assert (("ann", f"{first.id} ({first.title}): Their counsel asked for Net 60; we hold at 45.") in written
            and len(written) == 3)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        body = package.read("word/document.xml").decode()
        assert body.count("commentRangeStart") == 3 and body.count("commentReference") == 3
        assert "w:ins" in body  # the tracked changes are still there beside the comments
    # the comment is anchored on the paragraph the suggestion cites
    from lxml import etree

    from document_io.wordml import body_paragraphs, w

    cited = done.document.paragraph_at(first.citation.start)
    paragraph = body_paragraphs(word.element.find(w("body")))[cited.index]
    assert "commentRangeStart" in etree.tostring(paragraph).decode()
