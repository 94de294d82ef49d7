"""Outages that pass: a database restarting or locked for a moment, a Chroma server briefly away. A batch retries the
contract with backoff (bounded) instead of failing it at the first refused connection; a rerun of a review is safe
(its thread comes from the content, its state from the checkpoint), so a retry resumes where the outage cut it off.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from graphs.database import DatabaseBusy, DatabaseUnreachable, SchemaNotReady

T = TypeVar("T")


def retry_budget_s() -> float:
    """How long one contract may wait out an outage in all (CLAUSEFLOW_OUTAGE_RETRY_S, default 60 s)."""
    return float(os.environ.get("CLAUSEFLOW_OUTAGE_RETRY_S", "60"))


def outage_of(error: BaseException) -> str | None:
    """Which service a passing outage is in ("the database", "the Chroma server"), or None for an error that
    would only happen again (a bad file, a schema this role may not migrate)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, SchemaNotReady):
            return None
        if isinstance(error, (DatabaseUnreachable, DatabaseBusy)):
            return "the database"
        if isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error)):
            return "the database"
        kind = type(error)
        module = kind.__module__ or ""
        if module.startswith(("psycopg", "psycopg_pool")) and kind.__name__ in {
                "OperationalError", "AdminShutdown", "CrashShutdown", "CannotConnectNow", "ConnectionTimeout",
                "PoolTimeout", "TooManyConnections", "SerializationFailure", "DeadlockDetected", "InterfaceError"}:
            return "the database"
        if kind.__name__ == "ChromaUnavailable" or (module.startswith("httpx") and kind.__name__ in {
                "ConnectError", "ConnectTimeout", "ReadTimeout", "ReadError", "RemoteProtocolError"}):
            return "the Chroma server"
        error = error.__cause__ or error.__context__
    return None


def with_outage_retries(work: Callable[[], T], *, budget_s: float | None = None,
                        sleep: Callable[[float], None] = time.sleep) -> T:
    """`work()`, retried while it fails with a passing outage: waits 0.5 s doubling to 8 s (with jitter) until
    `budget_s` is spent, then raises OutageOutlasted naming the service, how long it waited and the last error."""
    budget = retry_budget_s() if budget_s is None else budget_s
    waited, attempt = 0.0, 0
    while True:
        try:
            return work()
        except Exception as error:
            service = outage_of(error)
            if service is None:
                raise
            if waited >= budget:
                reason = " ".join(str(error).split())[:240] or type(error).__name__
                raise OutageOutlasted(f"{service} was unavailable for {waited:.0f} s ({attempt} retries); not reviewed: "
                                      f"{reason}") from error
            delay = min(0.5 * 2 ** attempt, 8.0, budget - waited) * random.uniform(0.8, 1.0)
            sleep(delay)
            waited += delay
            attempt += 1


class OutageOutlasted(RuntimeError):
    """An outage outlasted the retry budget."""
