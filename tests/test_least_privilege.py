"""Least privilege on PostgreSQL (graphs/db_admin.py, scripts/postgres.sh): the owner migrates, the application's role
reviews, decides and finalises, and cannot get around the append-only triggers however it tries."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from conftest import POSTGRES_ROLES, ROOT, as_role, new_database

SAMPLE = ROOT / "samples" / "msa_orion.docx"


def _app(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def least_privilege(tmp_path, postgres_server):
    if "app" not in POSTGRES_ROLES:
        pytest.skip("CLAUSEFLOW_TEST_POSTGRES_URL names a server without the script's application role")
    owner_url = new_database(postgres_server)
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(tmp_path / "data"), "CLAUSEFLOW_TODAY": "2026-11-23",
           "CLAUSEFLOW_REVIEWER": "dana", "CLAUSEFLOW_DATABASE_URL": as_role(owner_url, POSTGRES_ROLES["app"])}
    env.pop("CLAUSEFLOW_DATABASE_OWNER_URL", None)
    return owner_url, env


def test_the_application_role_works_but_cannot_bypass_the_append_only_triggers(least_privilege, tmp_path):
    owner_url, env = least_privilege
    # before the owner has migrated, the application's role is told who must, in one line; nothing is created
    early = _app(env, "list")
    assert early.returncode != 0 and "run `app.py db migrate`" in early.stderr and len(early.stderr.splitlines()) == 1
    refused_without_owner = _app(env, "db", "migrate")
    assert refused_without_owner.returncode == 2 and "CLAUSEFLOW_DATABASE_OWNER_URL" in refused_without_owner.stderr

    migrated = _app({**env, "CLAUSEFLOW_DATABASE_OWNER_URL": owner_url}, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "role clauseflow: reads and writes only" in migrated.stdout and "decisions" in migrated.stdout
    assert owner_url.split("@")[0].split(":")[-1] not in migrated.stdout + migrated.stderr  # no password shown

    # the application does its whole job as that role: review, decide, finalise (outputs and repository filing)
    reviewed = _app(env, "review", str(SAMPLE), "--out", str(tmp_path / "out"))
    assert reviewed.returncode == 0, reviewed.stderr
    thread = next(word for word in reviewed.stdout.split() if word.startswith("msa-orion-"))
    decided = _app(env, "decide", thread, "--approve-all")
    assert decided.returncode == 0 and f"finalised {thread}" in decided.stdout, decided.stderr

    app = psycopg.connect(env["CLAUSEFLOW_DATABASE_URL"], autocommit=True)
    assert app.info.user == "clauseflow"
    before = app.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    assert before >= 5
    bypasses = {
        "SET session_replication_role = replica": psycopg.errors.InsufficientPrivilege,  # skip every trigger
        "ALTER TABLE decisions DISABLE TRIGGER ALL": psycopg.errors.InsufficientPrivilege,
        "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only": psycopg.errors.InsufficientPrivilege,
        "DROP TRIGGER decisions_append_only ON decisions": psycopg.errors.InsufficientPrivilege,
        "DROP TABLE decisions": psycopg.errors.InsufficientPrivilege,
        "TRUNCATE decisions": psycopg.errors.InsufficientPrivilege,
        "UPDATE decisions SET action = 'reject'": psycopg.errors.InsufficientPrivilege,
        "DELETE FROM decisions": psycopg.errors.InsufficientPrivilege,
        "DELETE FROM sign_off_steps": psycopg.errors.InsufficientPrivilege,
        "DELETE FROM reviews": psycopg.errors.InsufficientPrivilege,
        "DELETE FROM schema_migrations": psycopg.errors.InsufficientPrivilege,
        "CREATE TABLE decisions_copy (seq int)": psycopg.errors.InsufficientPrivilege,
        "CREATE OR REPLACE FUNCTION clauseflow_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN OLD; END $$": psycopg.errors.InsufficientPrivilege,
    }
    for statement, refusal in bypasses.items():
        with pytest.raises(refusal):
            app.execute(statement)
    assert app.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == before
    assert app.execute("SELECT status FROM reviews WHERE thread_id = %s", (thread,)).fetchone()[0] == "finalised"
    app.close()

    # the owner can change the schema, but is no superuser either: the triggers still hold for it
    with psycopg.connect(owner_url, autocommit=True) as owner:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            owner.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RestrictViolation):
            owner.execute("DELETE FROM decisions")
