-- Webhooks: the outbox every emitting store writes in its own transactions, subscriptions, and one delivery row per
-- (event, subscription) with its attempts and last response.
CREATE TABLE IF NOT EXISTS webhook_outbox (
    seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, at TEXT NOT NULL,
    dedupe_key TEXT UNIQUE, payload TEXT NOT NULL
);
CREATE TRIGGER webhook_outbox_no_update BEFORE UPDATE ON webhook_outbox
    FOR EACH ROW EXECUTE FUNCTION clauseflow_refuse_change('the webhook outbox is append-only');
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL,
    created_by TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL, event_seq BIGINT NOT NULL, event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
    claimed_until TEXT, last_status INTEGER, last_response TEXT, last_attempt_at TEXT, delivered_at TEXT,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_cursors (source TEXT PRIMARY KEY, seq BIGINT NOT NULL);
