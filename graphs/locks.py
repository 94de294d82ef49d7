"""Locks across processes, one per review and one per output folder: flock on a file in the data folder, or, with a
shared database, an advisory lock in it, so that processes on different machines exclude each other too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from document_io.file_locks import LockBusy, file_lock
from graphs.database import advisory_lock

ReviewBusy = LockBusy  # the name the review service and web app answer to: another process holds the review

__all__ = ["ReviewBusy", "file_lock", "review_lock"]


@contextmanager
def review_lock(directory: Path, thread_id: str, *, wait_s: float = 30.0, doing: str = "finalised",
                database_url: str | None = None) -> Iterator[None]:
    busy = f"review {thread_id} is being {doing} by another process; try again shortly"
    if database_url:
        held = advisory_lock(database_url, f"review:{thread_id}", wait_s=wait_s, busy=busy)
    else:
        held = file_lock(directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", thread_id) + ".lock"), wait_s=wait_s, busy=busy)
    with held:
        yield
