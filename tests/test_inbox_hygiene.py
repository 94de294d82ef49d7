"""What a batch inbox can hold besides contracts: symbolic links (never followed), FIFOs (never opened), hidden files
(listed, not read), names with terminal escapes or bidi overrides (shown as escapes), names too long for the file
system once suffixed (capped by bytes), a huge text file (refused before it is partitioned), and a failed copy of
a failed file (its own name, and whose bytes it shares)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import SAMPLES
from test_review_cli import cli


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hygiene")
    inbox, data = root / "inbox", root / "data"
    inbox.mkdir()
    secret = root / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" * 50, encoding="utf-8")
    (inbox / "passwd.txt").symlink_to(secret)
    (inbox / "linked folder").symlink_to(root)
    os.mkfifo(inbox / "pipe.txt")
    (inbox / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (inbox / "~$draft.docx").write_bytes(b"owner file")
    shutil.copy(SAMPLES / "nda_bluepeak.docx", inbox / "nda\x1b[2Jcleared\u202excod.exe.docx")
    for copy in ("broken one.docx", "broken two.docx"):
        (inbox / copy).write_bytes((SAMPLES / "msa_orion.docx").read_bytes()[:3000])
    result = cli("batch", str(inbox), "--out", str(root / "triage"), "--workers", "1", data_dir=data, check=False)
    rows = {r["file"]: r for r in json.loads((root / "triage" / "triage.json").read_text())}
    return result, rows, root


def test_links_fifos_and_hidden_files_are_listed_with_a_reason_and_never_read(batch):
    result, rows, root = batch
    assert rows["passwd.txt"]["outcome"] == "skipped" and "symbolic link" in rows["passwd.txt"]["reason"]
    assert rows["linked folder"]["outcome"] == "skipped" and "not followed" in rows["linked folder"]["reason"]
    assert rows["pipe.txt"]["outcome"] == "skipped" and "FIFO" in rows["pipe.txt"]["reason"]
    assert rows[".DS_Store"]["outcome"] == rows["~$draft.docx"]["outcome"] == "skipped"
    assert "root:x:0:0" not in (root / "triage" / "triage.md").read_text()
    assert not any(r.get("counterparty") and "root" in r["counterparty"] for r in rows.values())
    assert "not read" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_control_characters_in_a_name_reach_neither_the_terminal_nor_the_triage(batch):
    result, rows, root = batch
    shown = "nda\\x1b[2Jcleared\\u202excod.exe.docx"
    assert shown in rows and rows[shown]["outcome"] == "awaiting_review"
    for text in (result.stdout, result.stderr, (root / "triage" / "triage.md").read_text()):
        assert "\x1b" not in text and "\u202e" not in text


def test_a_failed_copy_names_itself_and_the_file_whose_bytes_it_shares(batch):
    _, rows, _ = batch
    first, second = rows["broken one.docx"], rows["broken two.docx"]
    assert first["outcome"] == second["outcome"] == "failed"
    copy, original = (second, "broken one.docx") if second["reason"].startswith("same content") else (first, "broken two.docx")
    assert copy["reason"].startswith(f"same content as {original}, which could not be read:")


def test_a_long_japanese_name_is_finalised_under_the_file_systems_limit(tmp_path):
    from datetime import datetime, timezone

    from agents.schema import Decision
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    name = ("業務委託契約書" * 12)[:80] + ".docx"  # 80 characters, 245 bytes: a name no suffix fits after
    shutil.copy(SAMPLES / "nda_bluepeak.docx", tmp_path / name)
    service, out = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local")), tmp_path / "out"
    status = service.start(tmp_path / name, out)
    service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="approve", reviewer="Ann",
                                               decided_at=datetime.now(timezone.utc)) for s in status.redlines.suggestions])
    assert service.finalise(status.thread_id, "Ann").finalised
    written = [p.name for p in out.iterdir() if p.name.endswith(".redlined.docx")]
    assert written and all(len(n.encode()) <= 255 for n in written)


def test_the_text_limit_is_checked_before_a_huge_text_file_is_partitioned(tmp_path, monkeypatch):
    import document_io.loader as loader
    from document_io.errors import DocumentTooLarge

    big = tmp_path / "huge.txt"
    big.write_text("The Supplier shall deliver the goods. " * 600_000, encoding="utf-8")  # about 23 M characters
    monkeypatch.setattr(loader, "_partition", lambda *a: pytest.fail("partitioned before the limit was checked"))
    with pytest.raises(DocumentTooLarge, match="characters of text"):
        loader.load_document(big, max_bytes=100 * 1024 * 1024)


def test_error_messages_are_cut_at_a_word_not_inside_one():
    from document_io.errors import clip

    cut = clip("the zip file's central directory is damaged beyond the point where members can be listed", 40)
    assert cut.endswith(" …") and cut[:-2] in "the zip file's central directory is damaged beyond" and len(cut) <= 42
    assert not cut[:-2].endswith(("directo", "damag"))


def test_a_batch_whose_workers_cannot_start_ends_at_once_with_one_reason(tmp_path):
    """A wrong database URL used to restart workers for a quarter of an hour, with a traceback each time."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for sample in ("nda_bluepeak.docx", "msa_orion.docx"):
        shutil.copy(SAMPLES / sample, inbox / sample)
    result = cli("batch", str(inbox), "--out", str(tmp_path / "out"), "--workers", "2", data_dir=tmp_path / "data",
                 check=False, env={"CLAUSEFLOW_DATABASE_URL": "postgresql://clauseflow@127.0.0.1:9/nosuchdb"})
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "workers cannot start" in errors[0] and "nosuchdb" in errors[0]
    assert len(result.stdout + result.stderr) < 2000
