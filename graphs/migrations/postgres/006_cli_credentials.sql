-- Personal API tokens for the CLI (stored as SHA-256 hashes) and how each decision's author was authenticated.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
ALTER TABLE decisions ADD COLUMN authenticated_by TEXT;
