"""Reviewer accounts and login sessions, in the same database as the decision log (a SQLite file or PostgreSQL).

Passwords are hashed with scrypt (stdlib, per-user salt, constant-time comparison); an unknown user name costs the
same single scrypt as a known one, so answers do not reveal which names exist. A session is a random token in an
HttpOnly, SameSite=Strict cookie with its own CSRF token; changing a password or removing a user ends all of that
user's sessions.

Login throttling: after FAILURES_PER_USER wrong passwords for one user name (known or not) within
THROTTLE_WINDOW, or FAILURES_PER_CLIENT from one client address, further attempts are refused - even with the
right password - until the window has passed. Every failure, lockout, login and account change is an event in the
audit log.

A reviewer holds functions (legal, security, finance, procurement) - they decide suggestions owned by those - and
roles: `sign-off` may finalise a review; `all-contracts` sees every contract, not only those routed to their
functions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Literal, get_args

from pydantic import BaseModel

from agents.schema import Decision, Suggestion
from clause_library.playbook import ReviewFunction
from graphs.audit_log import AuditLog
from graphs.database import Store

FUNCTIONS: tuple[str, ...] = get_args(ReviewFunction)
Role = Literal["sign-off", "all-contracts"]
ROLES: tuple[str, ...] = get_args(Role)
SESSION_HOURS = 12
THROTTLE_WINDOW = timedelta(minutes=15)
FAILURES_PER_USER = 5
FAILURES_PER_CLIENT = 20
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_DUMMY_SALT = b"\0" * 16
_DUMMY_HASH = hashlib.scrypt(b"no such user", salt=_DUMMY_SALT, **_SCRYPT).hex()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, salt TEXT NOT NULL, functions TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username), csrf TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, client TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_by_user ON login_failures (username, at);
CREATE INDEX IF NOT EXISTS login_failures_by_client ON login_failures (client, at);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE, created_at TEXT NOT NULL
);
"""
API_TOKEN_PREFIX = "cfk_"


class Reviewer(BaseModel):
    username: str
    functions: list[str]
    roles: list[str] = []
    csrf: str = ""

    def may_decide(self, owner_function: str) -> bool:
        return owner_function in self.functions

    @property
    def may_sign_off(self) -> bool:
        return "sign-off" in self.roles

    def sees(self, routed_to: list[str], owners: list[str]) -> bool:
        """A contract is visible when it is routed to one of the reviewer's functions, or one of its suggestions
        is owned by one, or the reviewer holds the all-contracts role."""
        return "all-contracts" in self.roles or bool(set(self.functions) & (set(routed_to) | set(owners)))

    @property
    def sees_portfolio(self) -> bool:
        """The repository (executed contracts, spend, obligations) is for legal, procurement and finance, and for
        anyone who sees all contracts; a reviewer who only reviews security terms sees the contracts routed to them."""
        return "all-contracts" in self.roles or bool(set(self.functions) & {"legal", "procurement", "finance"})

    @property
    def visible_functions(self) -> list[str] | None:
        """The functions whose contracts the reviewer sees, for index queries (None: every contract), as `sees`."""
        return None if "all-contracts" in self.roles else list(self.functions)


def owner_function(suggestion: Suggestion, decision: Decision | None = None) -> str:
    """The function that must decide a suggestion: once escalated, the function it went to; else the one the
    playbook escalates it to; else Legal. The page and the CLI both ask this."""
    if decision is not None and decision.action == "escalate":
        return decision.escalate_to or suggestion.escalate_to or "legal"
    return suggestion.escalate_to or "legal"


def owners_of(status) -> list[str]:
    """The functions that own a review's suggestions (as decided so far) and the ones it is escalated to."""
    return [owner_function(s, status.decisions.get(s.id)) for s in status.redlines.suggestions] + status.escalated_to


class LoginResult(BaseModel):
    token: str | None = None
    locked: bool = False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, **_SCRYPT).hex()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Accounts(Store):
    schema = _SCHEMA
    migrations = {"users": {"roles": "TEXT NOT NULL DEFAULT ''"}}

    def __init__(self, path) -> None:
        super().__init__(path)
        self.audit = AuditLog(path)

    # --- administration (the CLI) --------------------------------------------------------------------

    def add_user(self, username: str, password: str, functions: list[str], roles: list[str] | None = None,
                 *, by: str = "cli") -> None:
        roles = roles or []
        _check(username, password, functions, roles)
        salt = secrets.token_bytes(16)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
                raise ValueError(f"reviewer {username} exists; use `user passwd` or `user remove` first")
            db.execute("INSERT INTO users (username, password_hash, salt, functions, created_at, roles) VALUES (?,?,?,?,?,?)",
                       (username, _hash(password, salt), salt.hex(), " ".join(functions),
                        _now().isoformat(timespec="seconds"), " ".join(roles)))
            self.audit._event(db, "user_added", by, None,
                              f"{username}: functions {' '.join(functions)}; roles {' '.join(roles) or 'none'}")

    def set_password(self, username: str, password: str, *, by: str = "cli") -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
        salt = secrets.token_bytes(16)
        with self.transaction() as db:
            if not db.execute("UPDATE users SET password_hash=?, salt=? WHERE username=?",
                              (_hash(password, salt), salt.hex(), username)).rowcount:
                raise ValueError(f"no reviewer {username}")
            ended = db.execute("DELETE FROM sessions WHERE username=?", (username,)).rowcount
            self.audit._event(db, "password_changed", by, None, f"{username}: {ended} session(s) ended")

    def remove_user(self, username: str, *, by: str = "cli") -> None:
        with self.transaction() as db:
            ended = db.execute("DELETE FROM sessions WHERE username=?", (username,)).rowcount
            db.execute("DELETE FROM api_tokens WHERE username=?", (username,))
            if not db.execute("DELETE FROM users WHERE username=?", (username,)).rowcount:
                raise ValueError(f"no reviewer {username}")
            self.audit._event(db, "user_removed", by, None, f"{username}: {ended} session(s) ended")

    def users(self) -> list[Reviewer]:
        with self.read() as db:
            return [Reviewer(username=r["username"], functions=r["functions"].split(), roles=r["roles"].split())
                    for r in db.execute("SELECT * FROM users ORDER BY username")]

    def user(self, username: str) -> Reviewer | None:
        return next((u for u in self.users() if u.username == username), None)

    # --- logging in ----------------------------------------------------------------------------------

    def log_in(self, username: str, password: str, *, client: str = "unknown") -> LoginResult:
        """A new session, or no token: wrong name or password (the same answer and the same work for both), or
        `locked` while too many recent failures stand against the user name or the client address."""
        checked = self.check_password(username, password, client=client)
        if checked.token is None:
            return checked
        token = secrets.token_urlsafe(32)
        expires = _now() + timedelta(hours=SESSION_HOURS)
        with self.transaction() as db:
            db.execute("INSERT INTO sessions VALUES (?,?,?,?)", (token, username, secrets.token_urlsafe(32), expires.isoformat()))
            self.audit._event(db, "login", username, None, f"from {client}")
        return LoginResult(token=token)

    def check_password(self, username: str, password: str, *, client: str = "unknown") -> LoginResult:
        """The password check of a login, throttled the same way, without a session (the CLI signs each command with
        it): `token` is the user name when it is right."""
        since = (_now() - THROTTLE_WINDOW).isoformat()
        with self.read() as db:
            row = db.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
            by_user = db.execute("SELECT COUNT(*) FROM login_failures WHERE username=? AND at>?", (username, since)).fetchone()[0]
            by_client = db.execute("SELECT COUNT(*) FROM login_failures WHERE client=? AND at>?", (client, since)).fetchone()[0]
        expected = row["password_hash"] if row else _DUMMY_HASH
        given = _hash(password, bytes.fromhex(row["salt"]) if row else _DUMMY_SALT)  # one scrypt either way
        correct = row is not None and hmac.compare_digest(expected, given)
        if by_user >= FAILURES_PER_USER or by_client >= FAILURES_PER_CLIENT:
            # logged, but not counted: tries during a lockout must not extend it (a named signer kept out for good)
            with self.transaction() as db:
                self.audit._event(db, "login_locked", username[:200], None, f"from {client}")
            return LoginResult(locked=True)
        if not correct:
            self._failed(username, client, locked=False)
            return LoginResult()
        return LoginResult(token=username)

    # --- personal API tokens (the CLI) ----------------------------------------------------------------

    def issue_api_token(self, username: str, *, by: str) -> str:
        """A new personal token for `username`, shown once; only its SHA-256 is kept (it is random, so no salt or
        slow hash is needed to keep it from being guessed from the database)."""
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.transaction() as db:
            if not db.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
                raise ValueError(f"no reviewer {username}")
            db.execute("INSERT INTO api_tokens (token_hash, username, created_at) VALUES (?,?,?)",
                       (_token_hash(token), username, _now().isoformat(timespec="seconds")))
            self.audit._event(db, "api_token_issued", by, None, f"for {username}")
        return token

    def revoke_api_tokens(self, username: str, *, by: str) -> int:
        with self.transaction() as db:
            revoked = db.execute("DELETE FROM api_tokens WHERE username=?", (username,)).rowcount
            self.audit._event(db, "api_tokens_revoked", by, None, f"{username}: {revoked} token(s)")
        return revoked

    def reviewer_for_api_token(self, token: str) -> Reviewer | None:
        if not token.startswith(API_TOKEN_PREFIX):
            return None
        with self.read() as db:
            row = db.execute("SELECT u.username, u.functions, u.roles FROM api_tokens t JOIN users u USING (username) "
                             "WHERE t.token_hash=?", (_token_hash(token),)).fetchone()
        return Reviewer(username=row["username"], functions=row["functions"].split(), roles=row["roles"].split()) if row else None

    def _failed(self, username: str, client: str, *, locked: bool) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO login_failures (username, client, at) VALUES (?,?,?)", (username, client, _now().isoformat()))
            self.audit._event(db, "login_locked" if locked else "login_failed", username[:200], None, f"from {client}")

    def unlock(self, username: str, *, by: str) -> int:
        """An administrator's word: forget the failed logins against a user name, so its owner can log in now."""
        with self.transaction() as db:
            cleared = db.execute("DELETE FROM login_failures WHERE username=?", (username,)).rowcount
            self.audit._event(db, "login_unlocked", by, None, f"{username}: {cleared} failed login(s) cleared")
        return cleared

    def reviewer_for(self, token: str | None) -> Reviewer | None:
        if not token:
            return None
        with self.read() as db:
            row = db.execute("SELECT s.csrf, s.expires_at, u.username, u.functions, u.roles FROM sessions s "
                             "JOIN users u USING (username) WHERE s.token=?", (token,)).fetchone()
        if not row or datetime.fromisoformat(row["expires_at"]) < _now():
            return None
        return Reviewer(username=row["username"], functions=row["functions"].split(), roles=row["roles"].split(),
                        csrf=row["csrf"])

    def log_out(self, token: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE token=?", (token,))


def _check(username: str, password: str, functions: list[str], roles: list[str]) -> None:
    if not username or len(username) > 100 or any(c.isspace() or not c.isprintable() for c in username):
        raise ValueError("a user name is 1-100 printable characters without spaces")
    unknown = [f for f in functions if f not in FUNCTIONS]
    if unknown or not functions:
        raise ValueError(f"functions must be some of {', '.join(FUNCTIONS)} (got {functions})")
    if bad := [r for r in roles if r not in ROLES]:
        raise ValueError(f"roles must be some of {', '.join(ROLES)} (got {bad})")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
