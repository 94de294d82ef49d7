-- The decision log: reviews, decisions, comments, sign-offs and security events (graphs/audit_log.py).
-- Decisions, comments, sign-offs and events are insert-only, enforced here, not only by the code that writes them.
CREATE FUNCTION clauseflow_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;

CREATE TABLE reviews (
    thread_id TEXT PRIMARY KEY, name TEXT NOT NULL, source_path TEXT NOT NULL, sha256 TEXT NOT NULL,
    contract_type TEXT, counterparty TEXT, risk TEXT, suggestions INTEGER, created_at TEXT NOT NULL,
    status TEXT NOT NULL, finalised_at TEXT
);
CREATE TABLE decisions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, thread_id TEXT NOT NULL, suggestion_id TEXT NOT NULL,
    action TEXT NOT NULL, reviewer TEXT NOT NULL, decided_at TEXT NOT NULL, modified_text TEXT, comment TEXT,
    escalate_to TEXT
);
CREATE INDEX decisions_by_thread ON decisions (thread_id, seq);
CREATE TABLE sign_offs (
    thread_id TEXT PRIMARY KEY, signed_by TEXT NOT NULL, signed_at TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE TABLE sign_off_steps (
    thread_id TEXT NOT NULL, step INTEGER NOT NULL, function TEXT NOT NULL, signed_by TEXT NOT NULL,
    signed_at TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (thread_id, step)
);
CREATE TABLE comments (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, thread_id TEXT NOT NULL, suggestion_id TEXT NOT NULL,
    author TEXT NOT NULL, at TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX comments_by_thread ON comments (thread_id, seq);
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    thread_id TEXT, detail TEXT
);

CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('the decision log is append-only');
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('the decision log is append-only');
CREATE TRIGGER sign_offs_final BEFORE UPDATE OR DELETE ON sign_offs
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('a sign-off is final');
CREATE TRIGGER sign_offs_no_truncate BEFORE TRUNCATE ON sign_offs
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('a sign-off is final');
CREATE TRIGGER sign_off_steps_final BEFORE UPDATE OR DELETE ON sign_off_steps
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('a sign-off step is final');
CREATE TRIGGER sign_off_steps_no_truncate BEFORE TRUNCATE ON sign_off_steps
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('a sign-off step is final');
CREATE TRIGGER comments_append_only BEFORE UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('comments are append-only');
CREATE TRIGGER comments_no_truncate BEFORE TRUNCATE ON comments
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('comments are append-only');
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('the event log is append-only');
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION clauseflow_refuse_change('the event log is append-only');
