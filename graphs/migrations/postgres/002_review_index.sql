-- The review index (graphs/review_index.py): derived data, rebuilt from the reviews when behind the log.
CREATE TABLE review_index (
    thread_id TEXT PRIMARY KEY, name TEXT NOT NULL, short_id TEXT NOT NULL, contract_type TEXT, counterparty TEXT,
    risk TEXT, risk_rank INTEGER, findings INTEGER, suggestions INTEGER, pending INTEGER, functions TEXT NOT NULL,
    owners TEXT NOT NULL, status TEXT NOT NULL, status_rank INTEGER NOT NULL, notice_deadline TEXT,
    assigned_to TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0,
    auto_renews INTEGER, term_end TEXT, notice_days INTEGER, recommended_action TEXT
);
CREATE INDEX review_index_queue ON review_index (status_rank, risk_rank, created_at);
CREATE INDEX review_index_deadline ON review_index (notice_deadline);
CREATE INDEX review_index_assigned ON review_index (assigned_to, status_rank);
-- Clause search: English stemming, as SQLite's porter tokenizer does; the vector is kept by the database.
CREATE TABLE clause_search (
    thread_id TEXT NOT NULL, category TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    words tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE INDEX clause_search_words ON clause_search USING GIN (words);
CREATE INDEX clause_search_thread ON clause_search (thread_id);
