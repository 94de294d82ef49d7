"""The shared store itself (graphs/database.py): migrations applied once each when processes open a new database at
the same time, SQL written for SQLite run on PostgreSQL as written, and locks held by the database across processes
and dropped when the holder is killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT


def test_the_stores_sql_is_translated_for_psycopg_outside_quoted_text():
    from graphs.database import postgres_sql

    assert postgres_sql("SELECT * FROM t WHERE a = ? AND b LIKE '%?%' AND \"c?\" = ?") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '%%?%%' AND \"c?\" = %s")


def test_four_processes_opening_a_new_database_apply_each_migration_once(postgres_store):
    from graphs.database import migration_files

    opener = ("import sys; sys.path.insert(0, {root!r})\n"
              "from graphs.audit_log import AuditLog; from portfolio.repository import Repository\n"
              "AuditLog({url!r}).record_event('opened', 'test'); Repository({url!r}).contract_ids()")
    processes = [subprocess.Popen([sys.executable, "-c", opener.format(root=str(ROOT), url=postgres_store.url)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert all(p.returncode == 0 for p in processes), errors
    db = postgres_store.raw_connection(None)
    applied = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert applied == [(v, n) for v, n, _ in migration_files()] and len(applied) >= 4
    assert db.execute("SELECT COUNT(*) FROM events WHERE kind = 'opened'").fetchone()[0] == 4
    db.close()


def test_a_rows_columns_are_read_by_name_and_by_position(postgres_store):
    from graphs.audit_log import AuditLog

    log = AuditLog(postgres_store.url)
    log.record_event("login", "kim", detail="from 10.0.0.1 \x00 NUL and all")
    with log.read() as db:
        row = db.execute("SELECT kind, actor, detail FROM events").fetchone()
    assert row[0] == row["kind"] == "login" and dict(row)["actor"] == "kim"
    assert row["detail"] == "from 10.0.0.1 \ufffd NUL and all"  # one character for one: offsets keep


_HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from graphs.locks import review_lock
with review_lock(None, "t-1", database_url={url!r}):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_review_lock_in_the_database_excludes_other_processes_and_dies_with_its_holder(postgres_store, tmp_path):
    from graphs.locks import ReviewBusy, review_lock

    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(root=str(ROOT), url=postgres_store.url)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with pytest.raises(ReviewBusy, match="being finalised by another process"):
        with review_lock(tmp_path, "t-1", wait_s=0.5, database_url=postgres_store.url):
            pass
    assert time.monotonic() - started < 5
    with review_lock(tmp_path, "t-2", wait_s=0.5, database_url=postgres_store.url):
        pass  # another review is not held
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with review_lock(tmp_path, "t-1", wait_s=10, database_url=postgres_store.url):
        pass  # the server dropped the dead holder's lock
    assert not list(tmp_path.iterdir())  # no lock file: the database holds the lock


def test_an_unreachable_or_wrong_database_url_is_one_line_and_no_traceback(tmp_path):
    import os

    from conftest import free_port

    for url, expected in ((f"postgresql://clauseflow@127.0.0.1:{free_port()}/none", "cannot use the database 127.0.0.1"),
                          ("sqlite:///reviews.db", "must be a postgresql:// URL")):
        env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(tmp_path), "CLAUSEFLOW_DATABASE_URL": url}
        result = subprocess.run([sys.executable, str(ROOT / "app.py"), "list"], env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1 and expected in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0  # one line
        assert not list(tmp_path.glob("*.sqlite"))  # never quietly fell back to a local file


def test_two_machines_share_a_review_through_the_database_alone(postgres_store, tmp_path):
    """Two data folders that share nothing but the database (two machines without shared storage): a review started
    on one is shown, decided and finalised on the other, its tracked changes written into the original."""
    import io
    import re
    import zipfile

    from conftest import SAMPLES
    from test_review_cli import cli

    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    started = cli("review", str(SAMPLES / "nda_bluepeak.docx"), "--out", str(tmp_path / "out-a"), data_dir=first)
    thread = re.search(r"thread (\S+) ·", started.stdout).group(1)
    original = next((first / "documents").iterdir()).name
    shutil.rmtree(first)  # machine A and its files are gone; only the database is left
    shown = cli("show", thread, data_dir=second)
    ids = re.findall(r"\b(S\d\d)\b", shown.stdout)
    assert ids and "BluePeak" in shown.stdout
    decided = cli("decide", thread, "--approve", *sorted(set(ids)), "--reviewer", "Ann", data_dir=second)
    assert "finalised" in decided.stdout
    redlined = Path(re.search(r"redlined_docx: (\S+)", decided.stdout).group(1))
    with zipfile.ZipFile(io.BytesIO(redlined.read_bytes())) as package:
        assert b"<w:ins " in package.read("word/document.xml")  # the approved edits, as tracked changes
    assert [p.name for p in (second / "documents").iterdir()] == [original]  # fetched from the database
    assert not list(second.glob("*.sqlite"))

    # a third machine's web worker offers the finalised files, though only machine B wrote them (and B is gone)
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from web_app.accounts import Accounts
    from web_app.server import create_app

    written = redlined.read_bytes()
    shutil.rmtree(redlined.parent)
    shutil.rmtree(second)
    config = ReviewConfig.from_env(tmp_path / "machine-c", "local")
    accounts = Accounts(config.audit_store)
    accounts.add_user("lee", "a long enough password 1", ["legal"], roles=["all-contracts"])
    token = {"Authorization": f"Bearer {accounts.issue_api_token('lee', by='test')}"}
    client = TestClient(create_app(config))
    review = client.get(f"/api/v1/reviews/{thread}", headers=token).json()
    assert {"redlined_docx", "report_md", "report_json"} <= set(review["outputs"])
    download = client.get(f"/api/v1/reviews/{thread}/outputs/redlined_docx", headers=token)
    assert download.status_code == 200 and download.content == written
    assert "BluePeak" in client.get(f"/api/v1/reviews/{thread}/outputs/report_md", headers=token).text


def test_ready_says_what_is_not_ready_while_health_stays_a_liveness_check(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from graphs.database import DatabaseUnreachable
    from graphs.review_service import ReviewService
    from web_app.server import create_app

    config = ReviewConfig.from_env(tmp_path, "local")
    service = ReviewService(config)
    client = TestClient(create_app(config, service))
    service.engine.store.ensure_indexed(service.engine.library)
    assert client.get("/ready").json() == {"ready": True, "database": "ok", "clause_store": "ok", "clause_library": "ok"}

    def down(*args, **kwargs):
        raise DatabaseUnreachable("the database 127.0.0.1:5432/clauseflow cannot be reached; nothing was saved")

    monkeypatch.setattr(service.audit, "review", down)
    answer = client.get("/ready")
    assert answer.status_code == 503 and "cannot be reached" in answer.json()["database"]
    assert client.get("/health").status_code == 200


def test_a_database_that_goes_away_is_a_503_that_says_nothing_was_saved_on_pages_and_api(postgres_store, tmp_path):
    import psycopg
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from web_app.accounts import Accounts
    from web_app.server import create_app

    config = ReviewConfig.from_env(tmp_path, "local")
    assert config.database_url == postgres_store.url
    accounts = Accounts(config.audit_store)
    accounts.add_user("lee", "a long enough password 1", ["legal"])
    token = accounts.issue_api_token("lee", by="test")
    client = TestClient(create_app(config))
    assert client.get("/api/v1/reviews", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    name = postgres_store.url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_store.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")  # every pooled connection is cut, the database is gone
    ready = client.get("/ready")
    assert ready.status_code == 503 and "nothing was saved" in ready.json()["database"]
    api = client.get("/api/v1/reviews", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"
    import re

    form = client.get("/login")  # the login form needs no database; logging in does
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    page = client.post("/login", data={"username": "lee", "password": "a long enough password 1", "csrf": csrf},
                       follow_redirects=False)
    assert page.status_code == 503 and "nothing was saved" in page.text and "Traceback" not in page.text


def test_a_blob_is_written_to_the_database_whatever_this_machines_cache_holds(postgres_store, tmp_path):
    """A database restored from a backup (or re-pointed) lacks a blob this machine has cached: putting the value again
    writes it there, so other machines can resolve the reference."""
    import psycopg

    from graphs.blob_store import BlobStore

    value = {"clause": "governing law", "text": "the laws of Delaware"}
    reference = BlobStore(tmp_path / "blobs", postgres_store.url).put(value)
    with psycopg.connect(postgres_store.url, autocommit=True) as db:
        assert db.execute("DELETE FROM blobs").rowcount == 1  # the restored database never had it
    assert (tmp_path / "blobs" / reference["$blob"][:2] / f"{reference['$blob']}.json").exists()  # the cache has it
    BlobStore(tmp_path / "blobs", postgres_store.url).put(value)  # another process on this machine, same cache
    elsewhere = BlobStore(tmp_path / "machine-b" / "blobs", postgres_store.url)
    assert elsewhere.get(reference) == value


def test_originals_and_outputs_go_to_and_from_the_database_a_chunk_at_a_time(postgres_store, tmp_path):
    """A 40 MB file is stored and fetched without ever being whole in this process's memory; an output written again
    replaces the earlier one; a row stored whole before chunks is still read."""
    import hashlib
    import tracemalloc

    import psycopg

    from graphs.blob_store import FILE_CHUNK, BlobStore

    original = tmp_path / "big.docx"
    original.write_bytes(os.urandom(10 * FILE_CHUNK))
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    store = BlobStore(tmp_path / "a" / "blobs", postgres_store.url)
    tracemalloc.start()
    store.share_file(original)
    stored_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    fetched = BlobStore(tmp_path / "b" / "blobs", postgres_store.url).local_file(tmp_path / "gone" / "big.docx")
    fetched_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == digest
    assert stored_peak < 3 * FILE_CHUNK and fetched_peak < 3 * FILE_CHUNK, (stored_peak, fetched_peak)  # not 40 MB

    report = tmp_path / "out" / "nda.review.md"
    report.parent.mkdir()
    for text in ("first finalisation", "written again after a kill"):
        report.write_text(text)
        store.share_output("nda-1", report)
    shown = BlobStore(tmp_path / "c" / "blobs", postgres_store.url).output_file("nda-1", tmp_path / "x" / report.name)
    assert shown.read_text() == "written again after a kill"

    with psycopg.connect(postgres_store.url, autocommit=True) as db:  # a row from before chunks
        db.execute("INSERT INTO originals (name, body) VALUES ('old.docx', %s)", (b"stored whole",))
    assert BlobStore(tmp_path / "d" / "blobs", postgres_store.url).local_file(tmp_path / "old.docx").read_bytes() == (
        b"stored whole")
