-- How far the review index has caught up with the decision log and the events (graphs/review_index.py).
CREATE TABLE index_watermark (
    name TEXT PRIMARY KEY, decisions_seq BIGINT NOT NULL, events_seq BIGINT NOT NULL
);
