"""Outages that pass (graphs/transient.py): a PostgreSQL restart or a SQLite lock held past the busy timeout in the
middle of a batch costs time, not rows; an outage that outlasts the bound is a failed row naming the service."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from conftest import POSTGRES_SCRIPT, ROOT, free_port
from test_batch import _inbox_of_distinct_contracts


def _batch(inbox: Path, out: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), "batch", str(inbox), "--workers", "2", "--out",
                             str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, timeout_s: float = 180) -> None:
    deadline = time.time() + timeout_s
    while not condition() and time.time() < deadline:
        time.sleep(0.1)
    assert condition(), "timed out"


def test_a_postgres_restart_mid_batch_loses_no_row(tmp_path):
    folder = tempfile.mkdtemp(prefix="clauseflow-pg-restart-")  # a server of its own: this test stops it
    os.chmod(folder, 0o755)
    data, port = f"{folder}/data", str(free_port())
    try:
        started = subprocess.run([str(POSTGRES_SCRIPT), "start", data, port], capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stderr
        url = dict(line.split("=", 1) for line in started.stdout.split())["CLAUSEFLOW_DATABASE_OWNER_URL"]
        inbox = tmp_path / "inbox"
        _inbox_of_distinct_contracts(inbox, 6)
        env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(tmp_path / "data"), "CLAUSEFLOW_TODAY": "2026-11-23",
               "CLAUSEFLOW_DATABASE_URL": url}

        def reviews() -> int:
            try:
                with psycopg.connect(url, connect_timeout=2) as db:
                    return db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
            except psycopg.Error:
                return 0

        batch = _batch(inbox, tmp_path / "t", env)
        _wait_for(lambda: reviews() >= 2 or batch.poll() is not None)
        subprocess.run([str(POSTGRES_SCRIPT), "stop", data], check=True, timeout=120)  # mid-batch: fast shutdown
        time.sleep(4)
        subprocess.run([str(POSTGRES_SCRIPT), "start", data, port], check=True, capture_output=True, timeout=120)
        stdout, stderr = batch.communicate(timeout=300)

        rows = json.loads((tmp_path / "t" / "triage.json").read_text())
        assert batch.returncode == 0, stderr[-2000:] + stdout[-2000:]
        assert len(rows) == 6 and all(r["outcome"] == "awaiting_review" for r in rows), rows
        assert reviews() == 6
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", data], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_sqlite_lock_held_past_the_busy_timeout_mid_batch_loses_no_row(tmp_path):
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    _inbox_of_distinct_contracts(inbox, 4)
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": "2026-11-23"}
    env.pop("CLAUSEFLOW_DATABASE_URL", None)
    log = data / "reviews.sqlite"

    def reviews() -> int:
        if not log.exists():
            return 0
        with sqlite3.connect(log, timeout=30) as db:
            return db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]

    batch = _batch(inbox, tmp_path / "t", env)
    _wait_for(lambda: reviews() >= 1 or batch.poll() is not None)
    holder = sqlite3.connect(log, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock for longer than the 5 s busy timeout
    time.sleep(6.5)
    holder.execute("ROLLBACK")
    holder.close()
    stdout, stderr = batch.communicate(timeout=300)
    rows = json.loads((tmp_path / "t" / "triage.json").read_text())
    assert batch.returncode == 0 and all(r["outcome"] == "awaiting_review" for r in rows), stderr[-2000:] + str(rows)
    assert len(rows) == 4 and reviews() == 4


def test_an_outage_is_retried_with_backoff_then_named(monkeypatch):
    from graphs.database import DatabaseUnreachable, SchemaNotReady
    from graphs.transient import OutageOutlasted, with_outage_retries

    waits: list[float] = []
    calls = iter([DatabaseUnreachable("the database db cannot be reached"), DatabaseUnreachable("still down"), "done"])

    def work():
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_outage_retries(work, budget_s=30, sleep=waits.append) == "done"
    assert len(waits) == 2 and 0.4 <= waits[0] <= 0.5 and 0.8 <= waits[1] <= 1.0  # backing off

    def down():
        raise DatabaseUnreachable("the database db cannot be reached; nothing was saved")

    waits.clear()
    with pytest.raises(OutageOutlasted, match=r"^the database was unavailable for \d+ s \(\d+ retries\)"):
        with_outage_retries(down, budget_s=10, sleep=waits.append)
    assert 9 <= sum(waits) <= 10.5 and max(waits) <= 8

    def not_passing():  # would only happen again: not retried
        raise SchemaNotReady("needs migrations")

    with pytest.raises(SchemaNotReady):
        with_outage_retries(not_passing, budget_s=10, sleep=waits.append)
