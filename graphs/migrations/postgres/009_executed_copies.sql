-- Signed PDFs filed as executed (or "signature invalid") with the signatures as checked, and the agreed text of each
-- finalised review, by which a signed copy coming back is matched to its review.
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS signatures TEXT;
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS signature_problem TEXT;
CREATE TABLE IF NOT EXISTS agreed_copies (
    thread_id TEXT PRIMARY KEY, text_sha256 TEXT NOT NULL, shingles TEXT NOT NULL, recorded_at TEXT NOT NULL
);
