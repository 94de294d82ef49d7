-- Reviewer accounts, login sessions and failed logins (web_app/accounts.py).
CREATE TABLE users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, salt TEXT NOT NULL, functions TEXT NOT NULL,
    created_at TEXT NOT NULL, roles TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sessions (
    token TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username), csrf TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE login_failures (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, username TEXT NOT NULL, client TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE INDEX login_failures_by_client ON login_failures (client, at);
