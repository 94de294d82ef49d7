"""`app.py batch`: a folder of good and bad files to a triage, in worker processes, resumable after kill -9. The tests
of what the batch stores run on both stores (SQLite files, PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import ROOT, SAMPLES
from test_review_cli import cli

_RISK_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _reviews(data_dir, store=None) -> dict[str, str]:
    """thread id -> created_at of every review the batch has logged so far (read around the application, without
    creating a SQLite file the batch has not made yet)."""
    if store is not None and store.kind == "postgres":
        return {r["thread_id"]: r["created_at"] for r in store.audit(data_dir).reviews()}
    path = data_dir / "reviews.sqlite"
    if not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        try:
            return dict(db.execute("SELECT thread_id, created_at FROM reviews").fetchall())
        except sqlite3.OperationalError:
            return {}


def _checkpointed_threads(data_dir, store) -> set[str]:
    with store.raw_connection(data_dir) if store.kind == "postgres" else sqlite3.connect(data_dir / "checkpoints.sqlite") as db:
        return {t for (t,) in db.execute("SELECT DISTINCT thread_id FROM checkpoints")}


def test_mixed_inbox_gives_a_triage_with_every_file_and_a_reason_for_each_failure(tmp_path, store):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for name in ["nda_bluepeak.docx", "saas_cloudnimbus.docx", "licence_quanta.txt", "dpa_medisafe.pdf"]:
        shutil.copy(SAMPLES / name, inbox)
    shutil.copy(SAMPLES / "nda_bluepeak.docx", inbox / "sub" / "bluepeak copy.docx")
    (inbox / "empty.docx").write_bytes(b"")
    (inbox / "corrupt.docx").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (inbox / "prices.xlsx").write_bytes(b"not a contract")
    (inbox / ".DS_Store").write_bytes(b"finder junk")
    out = tmp_path / "triage"

    result = cli("batch", str(inbox), "--workers", "2", "--out", str(out), data_dir=tmp_path / "data", check=False)

    assert result.returncode == 2, result.stderr  # some files failed
    rows = json.loads((out / "triage.json").read_text())
    by_file = {r["file"]: r for r in rows}
    assert sorted(by_file) == sorted(["nda_bluepeak.docx", "saas_cloudnimbus.docx", "licence_quanta.txt", "dpa_medisafe.pdf",
                                      "sub/bluepeak copy.docx", "empty.docx", "corrupt.docx", "prices.xlsx", ".DS_Store"])
    assert by_file[".DS_Store"]["outcome"] == "skipped" and "hidden file" in by_file[".DS_Store"]["reason"]  # listed, not read
    assert "empty" in by_file["empty.docx"]["reason"]
    assert by_file["corrupt.docx"]["outcome"] == "failed" and by_file["corrupt.docx"]["reason"]
    assert "unsupported" in by_file["prices.xlsx"]["reason"]
    assert by_file["sub/bluepeak copy.docx"]["outcome"] == "duplicate"
    assert by_file["sub/bluepeak copy.docx"]["thread_id"] == by_file["nda_bluepeak.docx"]["thread_id"]
    saas = by_file["saas_cloudnimbus.docx"]
    assert saas["risk"] == "critical" and saas["walk_away_hits"] >= 3 and saas["notice_deadline"] == "2027-03-04"
    assert "security" in saas["review_functions"]
    # riskiest first, failures and entries not read last
    reviewed = [r for r in rows if r["outcome"] not in ("failed", "skipped")]
    assert rows[: len(reviewed)] == reviewed
    ranks = [_RISK_RANK[r["risk"]] for r in reviewed]
    assert ranks == sorted(ranks)
    assert (out / "triage.csv").read_text().count("\n") == len(rows) + 1
    assert "Could not be reviewed" in (out / "triage.md").read_text()
    # every pending review is durable and reachable from the ordinary commands
    assert set(_reviews(tmp_path / "data", store)) == {r["thread_id"] for r in reviewed}
    if store.kind == "postgres":  # the records are in the database: the data folder holds no SQLite file
        assert not list((tmp_path / "data").glob("*.sqlite"))
    shown = cli("show", saas["thread_id"], data_dir=tmp_path / "data")
    assert "CloudNimbus" in shown.stdout


def test_a_batch_killed_with_sigkill_resumes_without_losing_or_repeating_contracts(tmp_path, store):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = sorted(SAMPLES.glob("*.docx")) + [SAMPLES / "licence_quanta.txt", SAMPLES / "dpa_medisafe.pdf"]
    for path in files:
        shutil.copy(path, inbox)
    data_dir = tmp_path / "data"
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data_dir), "CLAUSEFLOW_TODAY": "2026-11-23"}
    command = [sys.executable, str(ROOT / "app.py"), "batch", str(inbox), "--workers", "1", "--out", str(tmp_path / "t")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 120
    while len(_reviews(data_dir, store)) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the coordinator and its worker, mid-batch
    process.wait()
    before = _reviews(data_dir, store)
    assert 2 <= len(before) < len(files), f"the kill should land mid-batch; {len(before)} of {len(files)} were done"

    result = cli("batch", str(inbox), "--workers", "2", "--out", str(tmp_path / "t"), data_dir=data_dir)

    rows = json.loads((tmp_path / "t" / "triage.json").read_text())
    assert len(rows) == len(files) and all(r["outcome"] == "awaiting_review" for r in rows)
    after = _reviews(data_dir, store)
    assert len(after) == len(files) == len({r["thread_id"] for r in rows})
    assert {t: after[t] for t in before} == before  # contracts finished before the kill were not redone
    assert _checkpointed_threads(data_dir, store) == set(after)
    assert "0 failed" in result.stdout


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_batch(inbox, out, data):
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": "2026-11-23", "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), "batch", str(inbox), "--workers", "2", "--out", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _workers_of(batch: subprocess.Popen, timeout: float = 60) -> list[int]:
    """The batch's worker processes once they are reviewing (the spawn context also starts a resource tracker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        python = [p for p in _children(batch.pid) if "spawn_main" in open(f"/proc/{p}/cmdline").read()]
        if len(python) >= 2:
            return python
        time.sleep(0.1)
    raise AssertionError("no workers started")


def _inbox_of_distinct_contracts(inbox, copies: int) -> None:
    from docx import Document

    inbox.mkdir()
    for index in range(copies):
        document = Document(str(SAMPLES / "msa_orion.docx"))
        document.add_paragraph(f"Reference: BATCH-{index:03d}")  # new content, so a new review each
        document.save(str(inbox / f"contract-{index:03d}.docx"))


def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_goes_on(tmp_path):
    inbox, out, data = tmp_path / "inbox", tmp_path / "triage", tmp_path / "data"
    _inbox_of_distinct_contracts(inbox, 8)
    batch = _start_batch(inbox, out, data)
    worker = _workers_of(batch)[0]
    while not _reviews(data):  # let it get into its reviews
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    stdout, stderr = batch.communicate(timeout=600)
    assert batch.returncode in (0, 2) and "Traceback" not in stderr, stderr
    rows = json.loads((out / "triage.json").read_text())
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in inbox.iterdir())  # each file exactly once
    failed = [r for r in rows if r["outcome"] == "failed"]
    assert all("worker reviewing it died" in r["reason"] for r in failed)  # nothing else failed
    assert len(failed) <= 2  # at most what the killed pool was reviewing, and only after a second death
    assert f"{len(rows) - len(failed)} reviewed, {len(failed)} failed" in stdout


def test_killing_the_coordinator_leaves_no_worker_running(tmp_path):
    inbox, out, data = tmp_path / "inbox", tmp_path / "triage", tmp_path / "data"
    _inbox_of_distinct_contracts(inbox, 6)
    batch = _start_batch(inbox, out, data)
    workers = _workers_of(batch)
    os.kill(batch.pid, signal.SIGKILL)
    batch.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]  # the kernel ended them with the coordinator (PR_SET_PDEATHSIG)


def test_two_batches_on_one_inbox_run_each_contracts_agents_once(tmp_path, store):
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    _inbox_of_distinct_contracts(inbox, 4)
    first, second = (_start_batch(inbox, tmp_path / f"triage-{n}", data) for n in (1, 2))
    for batch in (first, second):
        stdout, stderr = batch.communicate(timeout=600)
        assert batch.returncode == 0, stderr[-2000:] + stdout[-2000:]
    runs = store.audit(data).events(kind="agents_run")
    per_contract = {}
    for event in runs:
        per_contract[event.thread_id] = per_contract.get(event.thread_id, 0) + 1
    assert len(per_contract) == 4 and set(per_contract.values()) == {1}


def test_checkpoints_hold_references_not_the_contract(tmp_path):
    """The document and the agents' outputs are stored once by content; a long contract's checkpoints stay small."""
    from docx import Document

    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    word = Document(str(SAMPLES / "msa_orion.docx"))
    for number in range(300):  # ~48k characters of further clauses
        word.add_paragraph(f"{number + 10}. Service level {number}. The Supplier shall meet the service level in Schedule "
                           f"{number} and report on it monthly, and the Customer may audit those reports once a year.")
    path = tmp_path / "long_msa.docx"
    word.save(str(path))
    service = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local"))
    status = service.start(path, tmp_path / "out")
    assert len(status.document.text) > 45_000 and status.redlines.suggestions  # the reviewer's view is whole
    with sqlite3.connect(tmp_path / "data" / "checkpoints.sqlite") as db:
        stored = db.execute("SELECT SUM(LENGTH(checkpoint) + LENGTH(metadata)) FROM checkpoints").fetchone()[0]
        stored += db.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes").fetchone()[0]
    assert stored < 100_000, stored
    blobs = list((tmp_path / "data" / "blobs").rglob("*.json"))
    documents = [b for b in blobs if json.loads(b.read_text(encoding="utf-8")).get("text") == status.document.text]
    assert len(documents) == 1  # stored once, outside the checkpoints
