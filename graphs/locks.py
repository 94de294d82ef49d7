"""A per-review lock across processes (flock on a file under the data directory), with a bounded wait."""

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
def review_lock(directory: Path, thread_id: str, *, wait_s: float = 30.0) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", thread_id) + ".lock")
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ReviewBusy(f"review {thread_id} is being finalised by another process; try again shortly") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)  # the kernel also drops it if this process is killed
