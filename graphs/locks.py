"""Locks across processes (flock), with a bounded wait: one per review, one per output folder."""

from __future__ import annotations

import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ReviewBusy(RuntimeError):
    """Another process is finalising this review and did not finish within the wait."""


@contextmanager
def review_lock(directory: Path, thread_id: str, *, wait_s: float = 30.0, doing: str = "finalised") -> Iterator[None]:
    path = directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", thread_id) + ".lock")
    with file_lock(path, wait_s=wait_s, busy=f"review {thread_id} is being {doing} by another process; try again shortly"):
        yield


@contextmanager
def file_lock(path: Path, *, wait_s: float = 30.0, busy: str = "busy; try again shortly") -> Iterator[None]:
    """An exclusive flock on `path` (created if missing), waited for at most `wait_s` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ReviewBusy(busy) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)  # the kernel also drops it if this process is killed
