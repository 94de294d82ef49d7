"""Alerts across the portfolio for a scheduler to run (cron, a systemd timer): notice deadlines coming up or just
missed, obligations due or overdue, and spend flags; written as JSON or text, and sent to a webhook or by SMTP when
configured. And the notice deadlines as an iCalendar feed (RFC 5545) that a calendar can subscribe to.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import urllib.request
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage

from pydantic import BaseModel

from portfolio.repository import Repository


class Alert(BaseModel):
    kind: str  # notice_deadline | obligation_due | obligation_overdue | spend_flag
    due: date | None
    days_left: int | None
    contract_id: str | None
    contract: str | None
    text: str
    obligation_id: str | None = None


def collect_alerts(repository: Repository, today: date, within_days: int) -> list[Alert]:
    horizon = today + timedelta(days=within_days)
    alerts: list[Alert] = []
    for contract in repository.renewals(today, within_days):
        due = contract.notice_deadline
        left = (due - today).days
        what = "renews automatically" if contract.auto_renews else "ends"
        when = f"in {left} days" if left >= 0 else f"{-left} days ago (missed)"
        alerts.append(Alert(kind="notice_deadline", due=due, days_left=left, contract_id=contract.contract_id,
                            contract=contract.name,
                            text=f"{contract.name} ({contract.counterparty or 'counterparty unknown'}) {what} unless notice is "
                                 f"given by {due} — {when}"))
    for obligation, contract_name in repository.obligations(today, status="open", due_before=horizon, in_force_only=True):
        left = (obligation.due_date - today).days
        alerts.append(Alert(kind="obligation_overdue" if left < 0 else "obligation_due", due=obligation.due_date,
                            days_left=left, contract_id=obligation.contract_id, contract=contract_name,
                            obligation_id=obligation.obligation_id, text=f"{contract_name}: {obligation.summary} — owed by "
                                 f"{'us' if obligation.owner_side == 'us' else 'them' if obligation.owner_side == 'them' else 'both'}, due {obligation.due_date}"))
    for flag in repository.flags():
        alerts.append(Alert(kind="spend_flag", due=None, days_left=None, contract_id=flag.contract_id,
                            contract=flag.supplier, text=f"{flag.kind.replace('_', ' ')}: {flag.detail}"))
    return alerts


def announce(repository: Repository, alerts: list[Alert]) -> None:
    """The notice deadlines and obligations due as webhook events (renewal.notice_due, obligation.due), each deadline
    and each occurrence announced once however often the scheduler runs; spend flags are announced when found."""
    events = []
    for alert in alerts:
        payload = {"contract_id": alert.contract_id, "contract": alert.contract, "due": alert.due.isoformat() if alert.due else None,
                   "days_left": alert.days_left, "text": alert.text}
        if alert.kind == "notice_deadline":
            events.append(("renewal.notice_due", payload, f"renewal:{alert.contract_id}:{alert.due}"))
        elif alert.kind in ("obligation_due", "obligation_overdue"):
            events.append(("obligation.due", {**payload, "obligation_id": alert.obligation_id, "overdue": alert.days_left < 0},
                           f"obligation:{alert.obligation_id}:{alert.due}"))
    repository.announce(events)


class DeliveryResult(BaseModel):
    target: str
    ok: bool
    detail: str = ""


def deliver(alerts: list[Alert], today: date) -> list[DeliveryResult]:
    """Send to CLAUSEFLOW_ALERT_WEBHOOK (JSON POST) and CLAUSEFLOW_SMTP_HOST (+ _PORT, _FROM, _TO, _USER, _PASSWORD)
    when set. A target that fails is reported; it never stops the others or the printed output."""
    results = []
    payload = {"date": today.isoformat(), "alerts": [a.model_dump(mode="json") for a in alerts]}
    if url := os.environ.get("CLAUSEFLOW_ALERT_WEBHOOK"):
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                results.append(DeliveryResult(target="webhook", ok=200 <= response.status < 300, detail=f"HTTP {response.status}"))
        except Exception as exc:  # unreachable, refused, HTTP error: reported, never raised
            results.append(DeliveryResult(target="webhook", ok=False, detail=" ".join(str(exc).split())))
    if host := os.environ.get("CLAUSEFLOW_SMTP_HOST"):
        message = EmailMessage()
        message["Subject"] = f"Clauseflow: {len(alerts)} contract alert(s) for {today}"
        message["From"] = os.environ.get("CLAUSEFLOW_SMTP_FROM", "clauseflow@localhost")
        message["To"] = os.environ.get("CLAUSEFLOW_SMTP_TO", "")
        message.set_content(format_alerts(alerts) or "No alerts.")
        try:
            with smtplib.SMTP(host, int(os.environ.get("CLAUSEFLOW_SMTP_PORT", "25")), timeout=10) as smtp:
                if user := os.environ.get("CLAUSEFLOW_SMTP_USER"):
                    smtp.starttls()
                    smtp.login(user, os.environ.get("CLAUSEFLOW_SMTP_PASSWORD", ""))
                smtp.send_message(message)
            results.append(DeliveryResult(target="smtp", ok=True, detail=f"sent to {message['To']}"))
        except Exception as exc:
            results.append(DeliveryResult(target="smtp", ok=False, detail=" ".join(str(exc).split())))
    return results


def format_alerts(alerts: list[Alert]) -> str:
    return "\n".join(f"[{a.kind.replace('_', ' ')}] {a.text}" for a in alerts)


# --- iCalendar ------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, ';' and ',' escaped, any line break as \\n, other control characters dropped
    (a contract name carrying a bare CR or a NUL must not start a property of its own)."""
    text = re.sub(r"\r\n|\r|\n", "\n", text)
    text = "".join(ch for ch in text if ch == "\n" or ch >= " " and ch != "\x7f")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on the next line after CRLF and one space."""
    out, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not out else 74):
            out.append(current)
            current = b""
        current += piece
    out.append(current)
    return "\r\n ".join(part.decode() for part in out)


def notice_calendar(repository: Repository, today: date, *, host: str = "clauseflow.local",
                    hidden_threads: set[str] = frozenset()) -> str:
    """Every notice deadline from today on (and the last 30 days), one all-day event each, with an alarm a week
    before. UIDs are stable per contract and deadline, so a subscribed calendar updates rather than duplicates."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Clauseflow//Notice deadlines//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Contract notice deadlines"]
    for contract in repository.renewals(today, None):
        if contract.thread_id in hidden_threads:
            continue  # a review the reader may not see
        due, name = contract.notice_deadline, contract.name
        what = "auto-renews" if contract.auto_renews else "ends"
        lines += ["BEGIN:VEVENT", _fold(f"UID:{contract.contract_id}-{due:%Y%m%d}@{host}"), f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{due:%Y%m%d}", f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
                  _fold(f"SUMMARY:{_escape('Notice deadline: ' + name)}"),
                  _fold("DESCRIPTION:" + _escape(f"{name} with {contract.counterparty or 'the counterparty'} {what} unless "
                                                 f"notice is given ({contract.notice_period}) by {due}.")),
                  "TRANSP:TRANSPARENT",
                  "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-P7D", _fold(f"DESCRIPTION:{_escape('Notice due in 7 days: ' + name)}"),
                  "END:VALARM", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
