"""Reviewer accounts and login sessions, in the same SQLite file as the audit log.

Passwords are hashed with scrypt (stdlib, per-user salt, constant-time comparison). A session is a random token
in an HttpOnly, SameSite=Strict cookie; each session has its own CSRF token that every form must send back.
A reviewer holds one or more functions (legal, security, finance, procurement) and may decide only on
suggestions owned by a function they hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextlib import closing
from datetime import datetime, timedelta, timezone
from typing import get_args

from pydantic import BaseModel

from clause_library.playbook import ReviewFunction
from graphs.audit_log import SQLiteFile

FUNCTIONS: tuple[str, ...] = get_args(ReviewFunction)
SESSION_HOURS = 12
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, salt TEXT NOT NULL, functions TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username), csrf TEXT NOT NULL, expires_at TEXT NOT NULL
);
"""


class Reviewer(BaseModel):
    username: str
    functions: list[str]
    csrf: str = ""

    def may_decide(self, owner_function: str) -> bool:
        return owner_function in self.functions


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT).hex()


class Accounts(SQLiteFile):
    schema = _SCHEMA

    def add_user(self, username: str, password: str, functions: list[str]) -> None:
        unknown = [f for f in functions if f not in FUNCTIONS]
        if unknown or not functions:
            raise ValueError(f"functions must be some of {', '.join(FUNCTIONS)} (got {functions})")
        if len(password) < 10:
            raise ValueError("passwords need at least 10 characters")
        salt = secrets.token_bytes(16)
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO users VALUES (?,?,?,?,?)",
                       (username, _hash(password, salt), salt.hex(), " ".join(functions),
                        datetime.now(timezone.utc).isoformat(timespec="seconds")))

    def users(self) -> list[Reviewer]:
        with closing(self._connect()) as db:
            return [Reviewer(username=r["username"], functions=r["functions"].split()) for r in db.execute("SELECT * FROM users")]

    def log_in(self, username: str, password: str) -> str | None:
        """A new session token, or None for a wrong name or password (the same answer for both)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
        expected = row["password_hash"] if row else _hash(password, b"\0" * 16)  # same work either way
        given = _hash(password, bytes.fromhex(row["salt"]) if row else b"\0" * 16)
        if not row or not hmac.compare_digest(expected, given):
            return None
        token = secrets.token_urlsafe(32)
        expires = datetime.now(timezone.utc) + timedelta(hours=SESSION_HOURS)
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO sessions VALUES (?,?,?,?)", (token, username, secrets.token_urlsafe(32), expires.isoformat()))
        return token

    def reviewer_for(self, token: str | None) -> Reviewer | None:
        if not token:
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT s.csrf, s.expires_at, u.username, u.functions FROM sessions s JOIN users u USING (username) "
                             "WHERE s.token=?", (token,)).fetchone()
        if not row or datetime.fromisoformat(row["expires_at"]) < datetime.now(timezone.utc):
            return None
        return Reviewer(username=row["username"], functions=row["functions"].split(), csrf=row["csrf"])

    def log_out(self, token: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM sessions WHERE token=?", (token,))
