-- What the data folder held that every machine needs (graphs/blob_store.py): the checkpoints' large values by
-- content, and the originals that finalising writes tracked changes into. A machine's data folder becomes a cache.
CREATE TABLE blobs (digest TEXT PRIMARY KEY, body BYTEA NOT NULL);
CREATE TABLE originals (name TEXT PRIMARY KEY, body BYTEA NOT NULL);
