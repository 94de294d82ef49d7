"""Webhooks against a real HTTP server on 127.0.0.1: events are written to the outbox with the change they report,
a receiver that was down while they happened gets every one exactly once after it comes back (retried with backoff),
signatures check with the documented recipe, a day of failures gives up, replay sends again, and two deliverers at
once never post the same delivery twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agents.schema import Decision
from graphs.audit_log import AuditLog
from graphs.webhooks import Webhooks
from portfolio.records import ContractRecord, Filing
from portfolio.repository import Repository


class Receiver:
    """A webhook receiver as the docs describe it: check the signature and the timestamp, drop ids already seen."""

    def __init__(self, port: int, secret: str | None = None) -> None:
        self.port, self.secret = port, secret
        self.received: list[dict] = []
        self.bad_signatures = 0
        self.server = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["Clauseflow-Timestamp"]
                expected = "v1=" + hmac.new(receiver.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["Clauseflow-Signature"]):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                else:
                    event = json.loads(body)
                    assert event["id"] == self.headers["Clauseflow-Event-Id"]
                    receiver.received.append(event)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stores(tmp_path, store):
    """The decision log, the repository and the webhooks: SQLite files, or one shared PostgreSQL database."""
    reviews, portfolio = (store.url, store.url) if store.url else (tmp_path / "reviews.sqlite", tmp_path / "portfolio.sqlite")
    audit = AuditLog(reviews)
    repository = Repository(portfolio)
    hooks = Webhooks(reviews, [reviews, portfolio])
    return audit, repository, hooks


ALL_EVENTS = ["review.ready", "review.escalated", "review.finalised", "contract.executed", "renewal.notice_due",
              "obligation.due", "spend.flagged"]


def _events(audit: AuditLog, repository: Repository) -> None:
    """One event of every type, each committed with the change it reports."""
    from datetime import date

    from portfolio.alerts import Alert, announce
    from portfolio.records import SpendFlag

    audit.record_review(thread_id="t1", name="msa.docx", source_path="msa.docx", sha256="a" * 64, contract_type="msa",
                        counterparty="Orion", risk="high", suggestions=2)
    now = datetime.now(timezone.utc)
    audit.record_decisions("t1", [Decision(suggestion_id="S1", action="escalate", reviewer="lee", decided_at=now,
                                           escalate_to="finance")])
    audit.record_finalised("t1", "lee", "out/msa.redlined.docx")
    record = ContractRecord(contract_id="b" * 64, name="msa.pdf", source_file="msa.pdf", origin="import")
    repository.file_many([Filing(record=record, obligations=[])], events=[("contract.executed", {"contract_id": "b" * 64})])
    due = [Alert(kind="notice_deadline", due=date(2027, 1, 1), days_left=28, contract_id="b" * 64, contract="msa.pdf",
                 text="msa.pdf renews unless notice is given by 2027-01-01"),
           Alert(kind="obligation_due", due=date(2026, 12, 31), days_left=27, contract_id="b" * 64, contract="msa.pdf",
                 obligation_id="bbb-1-report", text="quarterly report")]
    for _ in range(3):  # a scheduler running alerts every hour: each deadline and duty announced once
        announce(repository, due)
    for _ in range(2):  # two matching runs finding the same flag
        repository.replace_flags([SpendFlag(kind="over_cap", detail="spend 120% of the not-to-exceed",
                                            contract_id="b" * 64, supplier="Orion")], [])


def test_a_receiver_down_during_the_events_gets_each_exactly_once_after_it_comes_back(stores):
    audit, repository, hooks = stores
    port = _free_port()
    subscription, secret = hooks.subscribe(f"http://127.0.0.1:{port}/hook", ALL_EVENTS, "ops")
    _events(audit, repository)
    now = datetime.now(timezone.utc)
    first = hooks.deliver_due(now=now)
    assert len(first) == 7 and all(d.status == "pending" and d.attempts == 1 and d.last_status is None for d in first)
    assert "ConnectError" in first[0].last_response

    receiver = Receiver(port, secret)
    receiver.start()
    try:
        assert hooks.deliver_due(now=now + timedelta(seconds=10)) == []  # backing off: not due yet
        second = hooks.deliver_due(now=now + timedelta(seconds=31))
        assert [d.status for d in second] == ["delivered"] * 7 and all(d.last_status == 204 for d in second)
        for later in (1, 2, 30):
            assert hooks.deliver_due(now=now + timedelta(hours=later)) == []
        assert sorted(e["type"] for e in receiver.received) == sorted(ALL_EVENTS)  # each exactly once
        assert len({e["id"] for e in receiver.received}) == 7 and receiver.bad_signatures == 0
        escalated = next(e for e in receiver.received if e["type"] == "review.escalated")
        assert escalated["data"]["escalate_to"] == "finance" and escalated["data"]["thread_id"] == "t1"

        delivered = hooks.deliveries(status="delivered")
        assert hooks.replay(delivered[0].id)
        hooks.deliver_due()
        assert len(receiver.received) == 8 and receiver.received[-1]["id"] == delivered[0].event_id  # the same id:
        # a receiver that drops ids it has seen acts on it once
    finally:
        receiver.stop()


def test_a_wrong_secret_is_refused_by_the_recipe_and_retried_then_given_up_after_a_day(stores):
    audit, repository, hooks = stores
    port = _free_port()
    hooks.subscribe(f"http://127.0.0.1:{port}/", ["review.ready"], "ops")
    receiver = Receiver(port, secret="whsec_not-the-one")
    receiver.start()
    try:
        audit.record_review(thread_id="t2", name="nda.docx", source_path="nda.docx", sha256="c" * 64,
                            contract_type="nda", counterparty=None, risk="low", suggestions=0)
        now = datetime.now(timezone.utc)
        [attempt] = hooks.deliver_due(now=now)
        assert attempt.status == "pending" and attempt.last_status == 401 and receiver.bad_signatures == 1
        [last] = hooks.deliver_due(now=now + timedelta(days=1, seconds=1))
        assert last.status == "failed" and last.attempts == 2
        assert hooks.deliver_due(now=now + timedelta(days=3)) == []
    finally:
        receiver.stop()


def test_events_before_a_subscription_or_of_other_types_are_not_sent_and_a_rerecorded_review_is_ready_once(stores):
    audit, repository, hooks = stores
    audit.record_review(thread_id="old", name="old.docx", source_path="old.docx", sha256="d" * 64, contract_type="nda",
                        counterparty=None, risk="low", suggestions=0)
    port = _free_port()
    hooks.subscribe(f"http://127.0.0.1:{port}/", ["review.ready"], "ops")
    for _ in range(2):  # the same review recorded twice (a rerun): announced once
        audit.record_review(thread_id="new", name="new.docx", source_path="new.docx", sha256="e" * 64,
                            contract_type="nda", counterparty=None, risk="low", suggestions=0)
    audit.record_finalised("new", "lee", "out")
    assert hooks.fan_out() == 1
    [pending] = hooks.deliveries()
    assert pending.event == "review.ready" and pending.status == "pending"


def test_two_deliverers_at_once_post_each_delivery_once(stores):
    audit, repository, hooks = stores
    port = _free_port()
    subscription, secret = hooks.subscribe(f"http://127.0.0.1:{port}/", ["review.ready"], "ops")
    for n in range(12):
        audit.record_review(thread_id=f"t{n}", name=f"c{n}.docx", source_path="x", sha256=f"{n:064d}",
                            contract_type="nda", counterparty=None, risk="low", suggestions=0)
    receiver = Receiver(port, secret)
    receiver.start()
    try:
        workers = [threading.Thread(target=hooks.deliver_due) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(e["data"]["thread_id"] for e in receiver.received) == sorted(f"t{n}" for n in range(12))
    finally:
        receiver.stop()


def test_a_subscription_needs_an_http_url_and_known_events(stores):
    _, _, hooks = stores
    from graphs.webhooks import SubscriptionRefused

    for url, events in (("file:///etc/passwd", ["review.ready"]), ("http://127.0.0.1:9/", ["review.deleted"]),
                        ("http://127.0.0.1:9/", [])):
        with pytest.raises(SubscriptionRefused):
            hooks.subscribe(url, events, "ops")


def test_the_cli_subscribes_a_review_is_announced_and_the_log_shows_the_delivery(tmp_path):
    from conftest import SAMPLES
    from test_review_cli import cli

    port = _free_port()
    added = cli("webhooks", "add", f"http://127.0.0.1:{port}/crm", "--events", "review.ready", data_dir=tmp_path)
    secret = added.stdout.split("signing secret")[1].split(": ", 1)[1].strip()
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    ReviewService(ReviewConfig.from_env(tmp_path, "local")).start(SAMPLES / "nda_bluepeak.docx", tmp_path / "out")
    receiver = Receiver(port, secret)
    receiver.start()
    try:
        sent = cli("webhooks", "deliver", data_dir=tmp_path)
        assert "review.ready" in sent.stdout and "delivered" in sent.stdout
        [event] = receiver.received
        assert event["data"]["name"] == "nda_bluepeak" and receiver.bad_signatures == 0
        log = cli("webhooks", "log", data_dir=tmp_path)
        assert "delivered, 1 attempt(s), last 204" in log.stdout
    finally:
        receiver.stop()
