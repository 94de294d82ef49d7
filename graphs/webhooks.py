"""Webhook delivery: subscriptions per event type, one delivery per (event, subscription), retried with backoff for a
day, each with its attempts and last response, and replay.

Events are rows of the outboxes (graphs/outbox.py) the decision log and the repository write in their own
transactions. `deliver_due` fans new outbox rows out to the subscriptions that existed when the event happened, then
posts what is due. A delivery is claimed for a minute before it is posted, so two deliverers (the web server's
thread and `app.py webhooks deliver`) never post the same one at once; it is marked delivered only on a 2xx answer.
A deliverer killed between a receiver's 2xx and the mark posts that one event again: receivers drop an event id they
have seen (docs/api.md gives the recipe), which makes what they act on exactly once.

Every request: a JSON body {"id", "type", "created_at", "data"}, headers Clauseflow-Event, Clauseflow-Event-Id,
Clauseflow-Timestamp (Unix seconds) and Clauseflow-Signature "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from graphs.database import Store, describe
from graphs.outbox import EVENT_TYPES

RETRY_FOR = timedelta(days=1)
CLAIM_FOR = timedelta(seconds=60)
POST_TIMEOUT_S = 10.0
RESCAN_SEQS = 500  # outbox rows re-read behind the cursor: a transaction that committed late is still fanned out
MAX_RESPONSE_KEPT = 500
FAN_OUT_BATCH = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL,
    created_by TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, event_seq INTEGER NOT NULL, event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
    claimed_until TEXT, last_status INTEGER, last_response TEXT, last_attempt_at TEXT, delivered_at TEXT,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_cursors (source TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class Subscription(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime
    created_by: str
    active: bool = True


class Delivery(BaseModel):
    id: int
    event_id: str
    event: str
    subscription_id: str
    url: str
    status: str = Field(description="pending | delivered | failed (gave up after a day; replay sends it again)")
    attempts: int
    next_attempt_at: datetime
    last_status: int | None = None
    last_response: str | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


class SubscriptionRefused(ValueError):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The Clauseflow-Signature header's value for a body sent at `timestamp` (what a receiver recomputes)."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling to at most an hour: about 30 attempts in the day an event is retried."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class Webhooks(Store):
    """Subscriptions and deliveries, in the decision log's database. `sources`: the stores whose outboxes to read."""

    schema = _SCHEMA
    lock_group = "webhooks"

    def __init__(self, location: Path | str, sources: list[Path | str]) -> None:
        super().__init__(location)
        seen, self.sources = set(), []
        for source in sources:  # on PostgreSQL the decision log and the repository share one outbox: read it once
            if str(source) not in seen:
                seen.add(str(source))
                self.sources.append(_Outbox(source))

    # --- subscriptions ------------------------------------------------------------------------------

    def subscribe(self, url: str, events: list[str], created_by: str) -> tuple[Subscription, str]:
        """A new subscription and its signing secret (shown once; kept to sign, so it is stored as it is)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SubscriptionRefused(f"{url!r}: a webhook URL is http:// or https:// with a host")
        unknown = [e for e in events if e not in EVENT_TYPES]
        if unknown or not events:
            raise SubscriptionRefused(f"unknown event(s) {', '.join(unknown) or '(none given)'}; events: {', '.join(EVENT_TYPES)}")
        subscription = Subscription(id=f"whs_{secrets.token_hex(8)}", url=url, events=sorted(set(events)),
                                    created_at=_now(), created_by=created_by)
        secret = f"whsec_{secrets.token_urlsafe(24)}"
        with self.transaction() as db:
            db.execute("INSERT INTO webhook_subscriptions VALUES (?,?,?,?,?,?,1)",
                       (subscription.id, url, json.dumps(subscription.events), secret, _iso(subscription.created_at),
                        created_by))
        return subscription, secret

    def unsubscribe(self, subscription_id: str) -> bool:
        with self.transaction() as db:
            return db.execute("UPDATE webhook_subscriptions SET active = 0 WHERE id = ? AND active = 1",
                              (subscription_id,)).rowcount == 1

    def subscriptions(self) -> list[Subscription]:
        with self.read() as db:
            rows = db.execute("SELECT * FROM webhook_subscriptions ORDER BY created_at").fetchall()
        return [Subscription(id=r["id"], url=r["url"], events=json.loads(r["events"]),
                             created_at=datetime.fromisoformat(r["created_at"]), created_by=r["created_by"],
                             active=bool(r["active"])) for r in rows]

    # --- deliveries ---------------------------------------------------------------------------------

    def fan_out(self) -> int:
        """New outbox rows to delivery rows, one per subscription that was active and existed at the event; returns
        how many deliveries were added."""
        subscriptions = [s for s in self.subscriptions() if s.active]
        added = 0
        for source in self.sources:
            while True:
                with self.read() as db:
                    row = db.execute("SELECT seq FROM webhook_cursors WHERE source = ?", (source.key,)).fetchone()
                cursor = row["seq"] if row else 0
                events = source.after(max(cursor - RESCAN_SEQS, 0), FAN_OUT_BATCH)
                if not events:
                    break
                with self.transaction() as db:
                    for event in events:
                        for subscription in subscriptions:
                            if event["event"] in subscription.events and event["at"] >= _iso(subscription.created_at):
                                added += db.execute(
                                    "INSERT INTO webhook_deliveries (source, event_seq, event_id, subscription_id, status,"
                                    " next_attempt_at) VALUES (?,?,?,?,'pending',?) ON CONFLICT DO NOTHING",
                                    (source.key, event["seq"], event["event_id"], subscription.id, event["at"])).rowcount
                    newest = max(cursor, max(e["seq"] for e in events))
                    db.execute("INSERT INTO webhook_cursors VALUES (?,?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq",
                               (source.key, newest))
                if len(events) < FAN_OUT_BATCH or newest == cursor:
                    break
        return added

    def deliver_due(self, *, now: datetime | None = None, client=None, limit: int = 100) -> list[Delivery]:
        """Fan out, then post every delivery that is due (claimed first); returns the deliveries attempted."""
        import httpx

        self.fan_out()
        now = now or _now()
        claimed = self._claim(now, limit)
        if not claimed:
            return []
        secrets_by_id = self._secrets()
        events = {s.key: s.events_by_id({c["event_id"] for c in claimed if c["source"] == s.key}) for s in self.sources}
        own_client = client is None
        client = client or httpx.Client(timeout=POST_TIMEOUT_S, follow_redirects=False)
        attempted = []
        try:
            for row in claimed:
                event = events.get(row["source"], {}).get(row["event_id"])
                if event is None:  # the outbox row is gone (a restored database): nothing to send
                    self._settle(row["id"], now, None, "the event is no longer in the outbox", give_up=True)
                    continue
                body = json.dumps({"id": event["event_id"], "type": event["event"], "created_at": event["at"],
                                   "data": json.loads(event["payload"])}, sort_keys=True).encode()
                timestamp = str(int(now.timestamp()))
                headers = {"Content-Type": "application/json", "User-Agent": "Clauseflow-Webhooks/1",
                           "Clauseflow-Event": event["event"], "Clauseflow-Event-Id": event["event_id"],
                           "Clauseflow-Timestamp": timestamp,
                           "Clauseflow-Signature": signature(secrets_by_id.get(row["subscription_id"], ""), timestamp, body)}
                try:
                    response = client.post(row["url"], content=body, headers=headers)
                    code, said = response.status_code, response.text[:MAX_RESPONSE_KEPT]
                except httpx.HTTPError as exc:
                    code, said = None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
                expired = now - datetime.fromisoformat(event["at"]) >= RETRY_FOR
                self._settle(row["id"], now, code, said, give_up=expired)
                attempted.append(self.delivery(row["id"]))
        finally:
            if own_client:
                client.close()
        return attempted

    def replay(self, delivery_id: int) -> bool:
        """Send a delivery again (delivered or given up): it becomes due now, its attempts kept in the count."""
        with self.transaction() as db:
            return db.execute("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, claimed_until = NULL,"
                              " delivered_at = NULL WHERE id = ?", (_iso(_now()), delivery_id)).rowcount == 1

    def deliveries(self, *, subscription_id: str | None = None, status: str | None = None, limit: int = 200) -> list[Delivery]:
        where, args = [], []
        if subscription_id:
            where, args = [*where, "d.subscription_id = ?"], [*args, subscription_id]
        if status:
            where, args = [*where, "d.status = ?"], [*args, status]
        with self.read() as db:
            rows = db.execute("SELECT d.*, s.url FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id ="
                              f" d.subscription_id {('WHERE ' + ' AND '.join(where)) if where else ''} ORDER BY d.id DESC"
                              f" LIMIT {int(limit)}", args).fetchall()
        names = {}
        for source in self.sources:
            names.update({k: v["event"] for k, v in source.events_by_id({r["event_id"] for r in rows}).items()})
        return [_delivery(r, names.get(r["event_id"], "?")) for r in rows]

    def delivery(self, delivery_id: int) -> Delivery:
        with self.read() as db:
            row = db.execute("SELECT d.*, s.url FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id ="
                             " d.subscription_id WHERE d.id = ?", (delivery_id,)).fetchone()
        event = next((s.events_by_id({row["event_id"]}).get(row["event_id"]) for s in self.sources
                      if s.key == row["source"]), None)
        return _delivery(row, event["event"] if event else "?")

    def _claim(self, now: datetime, limit: int) -> list[dict]:
        with self.read() as db:  # nothing due (the usual tick): no write lock taken, decisions never wait on it
            if db.execute("SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1",
                          (_iso(now),)).fetchone() is None:
                return []
        with self.transaction() as db:
            rows = db.execute("SELECT d.id, d.source, d.event_id, d.subscription_id, s.url FROM webhook_deliveries d"
                              " JOIN webhook_subscriptions s ON s.id = d.subscription_id"
                              " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND s.active = 1"
                              " AND (d.claimed_until IS NULL OR d.claimed_until < ?) ORDER BY d.id LIMIT ?",
                              (_iso(now), _iso(now), limit)).fetchall()
            db.executemany("UPDATE webhook_deliveries SET claimed_until = ? WHERE id = ?",
                           [(_iso(now + CLAIM_FOR), r["id"]) for r in rows])
        return [dict(zip(("id", "source", "event_id", "subscription_id", "url"), tuple(r))) for r in rows]

    def _secrets(self) -> dict[str, str]:
        with self.read() as db:
            return {r[0]: r[1] for r in db.execute("SELECT id, secret FROM webhook_subscriptions")}

    def _settle(self, delivery_id: int, now: datetime, code: int | None, said: str, *, give_up: bool) -> None:
        ok = code is not None and 200 <= code < 300
        with self.transaction() as db:
            attempts = db.execute("SELECT attempts FROM webhook_deliveries WHERE id = ?", (delivery_id,)).fetchone()[0] + 1
            status = "delivered" if ok else ("failed" if give_up else "pending")
            db.execute("UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, claimed_until = NULL,"
                       " last_status = ?, last_response = ?, last_attempt_at = ?, delivered_at = ? WHERE id = ?",
                       (status, attempts, _iso(now + backoff(attempts)), code, said, _iso(now), _iso(now) if ok else None,
                        delivery_id))


class _Outbox(Store):
    """A store's outbox, read only (its own store creates the table)."""

    def __init__(self, location: Path | str) -> None:
        from graphs.outbox import OUTBOX_SCHEMA

        self.schema = OUTBOX_SCHEMA  # a source opened before its own store created the table still reads
        super().__init__(location)
        self.key = "outbox:" + describe(location) if not isinstance(location, Path) else f"outbox:{location.name}"

    def after(self, seq: int, limit: int) -> list[dict]:
        with self.read() as db:
            return [dict(zip(r.keys(), tuple(r))) for r in
                    db.execute("SELECT seq, event_id, event, at FROM webhook_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                               (seq, limit))]

    def events_by_id(self, ids: set[str]) -> dict[str, dict]:
        if not ids:
            return {}
        marks = ",".join("?" for _ in ids)
        with self.read() as db:
            return {r["event_id"]: dict(zip(r.keys(), tuple(r))) for r in
                    db.execute(f"SELECT * FROM webhook_outbox WHERE event_id IN ({marks})", sorted(ids))}


def _delivery(row, event: str) -> Delivery:
    def at(value):
        return datetime.fromisoformat(value) if value else None

    return Delivery(id=row["id"], event_id=row["event_id"], event=event, subscription_id=row["subscription_id"],
                    url=row["url"], status=row["status"], attempts=row["attempts"],
                    next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]), last_status=row["last_status"],
                    last_response=row["last_response"], last_attempt_at=at(row["last_attempt_at"]),
                    delivered_at=at(row["delivered_at"]))
