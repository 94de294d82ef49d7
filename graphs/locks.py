"""Locks across processes, one per review and one per output folder, on the flock helper in document_io."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from document_io.file_locks import LockBusy, file_lock

ReviewBusy = LockBusy  # the name the review service and web app answer to: another process holds the review

__all__ = ["ReviewBusy", "file_lock", "review_lock"]


@contextmanager
def review_lock(directory: Path, thread_id: str, *, wait_s: float = 30.0, doing: str = "finalised") -> Iterator[None]:
    path = directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", thread_id) + ".lock")
    with file_lock(path, wait_s=wait_s, busy=f"review {thread_id} is being {doing} by another process; try again shortly"):
        yield
