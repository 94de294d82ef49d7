"""An exclusive lock on a file across processes (flock), with a bounded wait.

The kernel drops the lock when its holder exits, kill -9 included, so a crash never leaves it held.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    """Another process held the lock for longer than the wait."""


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
                    raise LockBusy(busy) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
