"""Reviewer accounts in process: one scrypt for known and unknown names, throttling that even the right password
cannot pass, sessions ended by a password change or removal, and every change in the audit log."""

from __future__ import annotations

import hashlib

import pytest

import web_app.accounts as accounts_module
from web_app.accounts import FAILURES_PER_CLIENT, FAILURES_PER_USER, Accounts


@pytest.fixture
def accounts(tmp_path, store):  # on each store: a SQLite file, and PostgreSQL
    accounts = Accounts(store.audit_store(tmp_path))
    accounts.add_user("kim", "kim's long password", ["legal"], ["sign-off"])
    return accounts


def test_unknown_and_known_user_names_cost_the_same_single_scrypt(accounts, monkeypatch):
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(accounts_module.hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert accounts.log_in("kim", "wrong password!!", client="a").token is None
    known = len(calls)
    assert accounts.log_in("nobody", "wrong password!!", client="b").token is None
    assert known == 1 and len(calls) - known == 1


def test_too_many_failures_lock_the_user_name_even_for_the_right_password(accounts):
    for _ in range(FAILURES_PER_USER):
        assert not accounts.log_in("kim", "guess guess guess", client=f"10.0.0.{_}").locked
    locked = accounts.log_in("kim", "kim's long password", client="10.0.0.99")
    assert locked.locked and locked.token is None
    kinds = [e.kind for e in accounts.audit.events()]
    assert kinds.count("login_failed") == FAILURES_PER_USER and "login_locked" in kinds
    # an unknown name is throttled the same way: lockouts do not reveal which names exist
    for _ in range(FAILURES_PER_USER):
        accounts.log_in("ghost", "guess guess guess", client="10.0.1.1")
    assert accounts.log_in("ghost", "guess guess guess", client="10.0.1.1").locked


def test_one_client_address_is_throttled_across_user_names(accounts):
    accounts.add_user("lee", "lee's long password", ["legal"])
    for n in range(FAILURES_PER_CLIENT):
        accounts.log_in(f"name{n}", "guess guess guess", client="192.0.2.7")
    assert accounts.log_in("lee", "lee's long password", client="192.0.2.7").locked
    assert accounts.log_in("lee", "lee's long password", client="192.0.2.8").token  # another address is not


def test_password_change_and_removal_end_sessions_and_are_audited(accounts):
    token = accounts.log_in("kim", "kim's long password", client="a").token
    assert accounts.reviewer_for(token).may_sign_off
    accounts.set_password("kim", "a brand new password", by="admin")
    assert accounts.reviewer_for(token) is None
    assert accounts.log_in("kim", "kim's long password", client="a").token is None
    token = accounts.log_in("kim", "a brand new password", client="a").token
    accounts.remove_user("kim", by="admin")
    assert accounts.reviewer_for(token) is None and accounts.user("kim") is None
    kinds = [e.kind for e in accounts.audit.events()]
    assert {"user_added", "password_changed", "user_removed", "login"} <= set(kinds)


def test_accounts_refuse_bad_input(accounts):
    with pytest.raises(ValueError, match="exists"):
        accounts.add_user("kim", "another long password", ["legal"])
    with pytest.raises(ValueError, match="roles"):
        accounts.add_user("max", "another long password", ["legal"], ["admin"])
    with pytest.raises(ValueError, match="10 characters"):
        accounts.add_user("max", "short", ["legal"])
    with pytest.raises(ValueError, match="no reviewer"):
        accounts.remove_user("nobody")


def test_the_logs_refuse_updates_and_deletes(tmp_path, store):
    """Enforced by the database itself: a client that goes around the application cannot rewrite the record."""
    log = store.audit(tmp_path)
    log.record_event("login", "kim")
    with log.transaction() as db:
        db.execute("INSERT INTO reviews (thread_id, name, source_path, sha256, created_at, status) VALUES"
                   " ('t', 'a.docx', 'a.docx', 'x', '2026-01-01T00:00:00+00:00', 'awaiting_review')")
        db.execute("INSERT INTO sign_offs VALUES ('t', 'kim', '2026-01-01T00:00:00+00:00', 0)")
        db.execute("INSERT INTO decisions (thread_id, suggestion_id, action, reviewer, decided_at) VALUES"
                   " ('t', 's', 'approve', 'kim', '2026-01-01T00:00:00+00:00')")
    db = store.raw_connection(tmp_path)
    statements = ["UPDATE events SET actor='x'", "DELETE FROM events", "DELETE FROM sign_offs", "UPDATE sign_offs SET"
                  " signed_by='x'", "UPDATE decisions SET action='reject'", "DELETE FROM decisions",
                  "DELETE FROM reviews"]  # a review's status moves on; its row never goes
    if store.kind == "postgres":  # TRUNCATE skips row triggers; statement triggers refuse it
        statements += ["TRUNCATE decisions", "TRUNCATE events", "TRUNCATE reviews CASCADE"]
    for statement in statements:
        with pytest.raises(store.refused):
            db.execute(statement)
    db.close()
    assert [e.actor for e in log.events(kind="login")] == ["kim"] and len(log.history("t")) == 1
    with log.read() as db:
        assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1
