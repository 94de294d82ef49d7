"""An exclusive lock on a file across processes (flock), with a bounded wait.

The kernel drops the lock when its holder exits, kill -9 included, so a crash never leaves it held.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    """Another process held the lock for longer than the wait."""


def acquire_polling(try_once: Callable[[], bool], *, wait_s: float, busy: str) -> None:
    """Call `try_once` (a non-blocking attempt) until it succeeds, for at most `wait_s` seconds; then LockBusy(busy).
    Polled rather than blocked in the kernel or the database, so a wait is always bounded and never holds anything."""
    deadline = time.monotonic() + wait_s
    while not try_once():
        if time.monotonic() > deadline:
            raise LockBusy(busy)
        time.sleep(0.05)


@contextmanager
def file_lock(path: Path, *, wait_s: float = 30.0, busy: str = "busy; try again shortly") -> Iterator[None]:
    """An exclusive flock on `path` (created if missing), waited for at most `wait_s` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:

        def try_once() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        acquire_polling(try_once, wait_s=wait_s, busy=busy)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
