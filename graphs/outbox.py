"""The webhook outbox: an event for other systems is a row written in the same transaction as the change it reports
(a decision, a finalisation, a filing), so an event is never announced for a change that rolled back and never lost
for one that committed. Delivery (graphs/webhooks.py) reads the outbox afterwards, from any process.

Stores that emit events (the decision log, the repository) include OUTBOX_SCHEMA in their SQLite schema; on
PostgreSQL the table is created once by migration 010 and shared."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Literal

EventType = Literal["review.ready", "review.escalated", "review.finalised", "contract.executed", "renewal.notice_due",
                    "obligation.due", "spend.flagged"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, at TEXT NOT NULL,
    dedupe_key TEXT UNIQUE, payload TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS webhook_outbox_no_update BEFORE UPDATE ON webhook_outbox
BEGIN SELECT RAISE(ABORT, 'the webhook outbox is append-only'); END;
"""


def emit(db, event: EventType, payload: dict, *, dedupe_key: str | None = None) -> None:
    """Append one event on the caller's open transaction. `dedupe_key`: an event that must be announced once however
    often its cause is seen (a notice deadline found by every `alerts` run); a second emit with the same key is
    dropped."""
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event!r}")
    at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    db.execute("INSERT INTO webhook_outbox (event_id, event, at, dedupe_key, payload) VALUES (?,?,?,?,?)"
               " ON CONFLICT DO NOTHING",
               (f"evt_{uuid.uuid4().hex}", event, at, dedupe_key, json.dumps(payload, sort_keys=True, default=str)))
