-- Stored originals and finalised outputs in chunks, written and read a chunk at a time (never whole in memory).
-- `originals` stays the index: `chunks` NULL means a row written before, whole in `body`.
ALTER TABLE originals ADD COLUMN chunks INTEGER;
CREATE TABLE file_chunks (name TEXT NOT NULL, seq INTEGER NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (name, seq));
