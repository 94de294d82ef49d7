"""Review every contract in a folder up to the human checkpoint, in parallel worker processes.

Each worker process holds its own engine and its own connections to the shared SQLite files (WAL mode).
Nothing about the batch itself needs saving: a review's thread id comes from the file's content hash and its
state lives in the checkpointer, so a rerun (after a finished batch, or after kill -9) skips contracts already
at the checkpoint, goes on with a contract cut off between agents from its last checkpoint, and starts the
rest. The triage is rebuilt from the durable state every run, so it never loses or repeats a contract.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from pydantic import BaseModel

from document_io.normalise import visible_name
from graphs.configuration import ReviewConfig
from graphs.triage import TriageRow

class BatchSettings(BaseModel):
    inbox: Path
    output_dir: Path
    workers: int
    spend_csv: Path | None = None
    performance_csv: Path | None = None


def inbox_files(inbox: Path) -> list[Path]:
    """The regular files under the inbox that are reviewed (see inbox_entries)."""
    return inbox_entries(inbox)[0]


def inbox_entries(inbox: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """(files to review, entries not reviewed with the reason). Only regular files are read: a symbolic link is never
    followed (`passwd.txt -> /etc/passwd` would file the password list), a FIFO would block the reader, a device is not a
    document; hidden files (.DS_Store, Word's ~$ lock files) are listed, not read. Unsupported kinds of regular file are
    kept, so they appear in the triage with the loader's reason instead of vanishing."""
    if not inbox.is_dir():
        raise NotADirectoryError(f"{inbox} is not a folder")
    files, skipped = [], []
    for folder, folders, names in os.walk(inbox, followlinks=False):
        here = Path(folder)
        for name in sorted(folders):
            path = here / name
            if path.is_symlink():
                skipped.append((visible_name(path.relative_to(inbox)), "a symbolic link to a folder: not followed"))
            elif name.startswith("."):
                skipped.append((visible_name(path.relative_to(inbox)), "a hidden folder: not reviewed"))
        folders[:] = sorted(n for n in folders if not n.startswith(".") and not (here / n).is_symlink())
        for name in sorted(names):
            path = here / name
            shown = visible_name(path.relative_to(inbox))
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                skipped.append((shown, "a symbolic link: not followed"))
            elif not stat.S_ISREG(mode):
                skipped.append((shown, "not a regular file (a FIFO, socket or device): not read"))
            elif name.startswith((".", "~$")):
                skipped.append((shown, "a hidden file: not reviewed"))
            else:
                files.append(path)
    return sorted(files), sorted(skipped)


# --- worker side ------------------------------------------------------------------------------------

_service = None
_extras: dict = {}


def die_with_the_coordinator() -> None:
    """Linux: the kernel kills this worker when the coordinator dies, however it dies (kill -9 included)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the coordinator was already gone before the call
            os._exit(1)
    except (OSError, AttributeError):
        pass  # not Linux: the pool's own shutdown still ends workers when the coordinator exits normally


def open_worker(config_json: str, settings_json: str, onnx_threads: int) -> tuple:
    """What a worker holds for the whole batch, on either engine: its own review service (engine, connections) and
    the spend and performance data every contract is checked against."""
    os.environ["CLAUSEFLOW_ONNX_THREADS"] = str(onnx_threads)
    from agents.compliance import load_spend
    from agents.renewal_leverage import load_performance
    from graphs.review_service import ReviewService

    settings = BatchSettings.model_validate_json(settings_json)
    extras = {
        "spend": load_spend(settings.spend_csv) if settings.spend_csv else None,
        "performance": load_performance(settings.performance_csv) if settings.performance_csv else None,
        "output_dir": settings.output_dir,
    }
    return ReviewService(ReviewConfig.model_validate_json(config_json)), extras


def review_with(service, extras: dict, path: str, display_name: str) -> TriageRow:
    """One file to the human checkpoint, or its one-line reason. A passing outage of the database or the Chroma
    server (a restart, a lock) is waited out with backoff, within a bound, then named in the reason."""
    from graphs.transient import with_outage_retries

    try:
        status = with_outage_retries(lambda: service.start(Path(path), extras["output_dir"], spend=extras["spend"],
                                                           performance=extras["performance"]))
        return TriageRow.from_status(display_name, status)
    except Exception as exc:  # one bad file must never stop the batch
        return TriageRow.failure(display_name, " ".join(str(exc).split()) or type(exc).__name__)


class BatchCannotStart(RuntimeError):
    """The workers cannot start (a wrong database URL, an unreadable data folder): one reason for the whole run."""


def _start_worker(config_json: str, settings_json: str, onnx_threads: int, failure_file: str | None = None) -> None:
    global _service, _extras
    die_with_the_coordinator()
    try:
        _service, _extras = open_worker(config_json, settings_json, onnx_threads)
    except Exception as exc:  # the pool only sees a broken worker: leave the reason where the coordinator looks
        if failure_file:
            Path(failure_file).write_text(" ".join(str(exc).split())[:300] or type(exc).__name__, encoding="utf-8")
            os._exit(3)  # without the pool's traceback on every worker's stderr: the coordinator says why, once
        raise


def review_file(path: str, display_name: str, started_marker: str | None = None) -> TriageRow:
    """Runs in a pool worker. The marker tells the coordinator this contract was under way if the worker dies."""
    if started_marker:
        Path(started_marker).touch()
    return review_with(_service, _extras, path, display_name)


# --- coordinator ------------------------------------------------------------------------------------


class BatchPlan:
    """The inbox as the batch sees it: files refused from their size alone, and the rest grouped by content, so the
    same bytes under two names are reviewed once and both rows appear. Shared by both engines (pool and Ray)."""

    def __init__(self, settings: BatchSettings, config: ReviewConfig,
                 on_result: Callable[[TriageRow, int, int], None]) -> None:
        self.settings, self.on_result = settings, on_result
        self.files, skipped = inbox_entries(settings.inbox)
        self.rows: list[TriageRow] = []
        self.total = len(self.files) + len(skipped)
        for name, reason in skipped:
            self._add(TriageRow(file=name, outcome="skipped", reason=reason))
        self.copies: dict[Path, list[Path]] = {}  # the first file of each content -> its other names
        first_of_content: dict[str, Path] = {}
        for path in self.files:
            if (size := path.stat().st_size) > config.max_bytes:  # refused from its size, never read
                self._add(TriageRow.failure(self.name(path), f"{path.name}: {size / 1_048_576:,.1f} MB is over the "
                                            f"{config.max_bytes / 1_048_576:.0f} MB limit for one contract"))
                continue
            original = first_of_content.setdefault(sha256_of(path), path)
            self.copies.setdefault(original, []).append(path) if original != path else self.copies.setdefault(path, [])

    def name(self, path: Path) -> str:
        return _name(path, self.settings.inbox)

    def record(self, row: TriageRow, original: Path) -> None:
        for copy in self.copies[original]:
            duplicate = row.model_copy(update={"file": self.name(copy)})
            if duplicate.outcome != "failed":
                duplicate.outcome = "duplicate"
            else:  # its own name in the reason, and whose bytes it shares
                duplicate.reason = f"same content as {row.file}, which could not be read: {row.reason}"
            self.rows.append(duplicate)
        self._add(row)

    def died_twice(self, path: Path) -> None:
        self.record(TriageRow.failure(self.name(path), "the worker reviewing it died twice (killed, or out of memory); "
                                      "not retried again"), path)

    def _add(self, row: TriageRow) -> None:
        self.rows.append(row)
        self.on_result(row, len(self.rows), self.total)


def run_batch(settings: BatchSettings, config: ReviewConfig,
              on_result: Callable[[TriageRow, int, int], None] = lambda row, done, total: None) -> list[TriageRow]:
    """The local engine: a pool of worker processes on this machine."""
    plan = BatchPlan(settings, config, on_result)
    index_library_once(config.data_dir)
    workers = max(1, min(settings.workers, len(plan.files) or 1))
    onnx_threads = max(1, (os.cpu_count() or 1) // workers)
    context = get_context("spawn")  # no forked ONNX sessions or database handles
    # A worker that dies (kill -9, the OOM killer) breaks the pool. The contracts that were being reviewed then are
    # retried once in a fresh pool and after that reported as failed; the ones not yet started simply go on.
    remaining, deaths = list(plan.copies), {p: 0 for p in plan.copies}
    with tempfile.TemporaryDirectory(prefix="clauseflow-batch-") as scratch:
        started = {p: Path(scratch) / f"{index}.started" for index, p in enumerate(plan.copies)}
        failure, idle_rounds = Path(scratch) / "worker-failed", 0
        while remaining:
            broken: list[Path] = []
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                     initargs=(config.model_dump_json(), settings.model_dump_json(), onnx_threads,
                                               str(failure))) as pool:
                futures = {pool.submit(review_file, str(p), plan.name(p), str(started[p])): p for p in remaining}
                for future in as_completed(futures):
                    try:
                        plan.record(future.result(), futures[future])
                    except BrokenProcessPool:
                        broken.append(futures[future])
            if broken and not any(started[p].exists() for p in broken):
                # no contract was under way when the pool broke: the workers died starting, and would again
                idle_rounds += 1
                if failure.exists():
                    raise BatchCannotStart(f"the batch's workers cannot start: {failure.read_text(encoding='utf-8')}")
                if idle_rounds >= 2:
                    raise BatchCannotStart("the batch's workers died twice before reviewing anything (out of memory?)")
            remaining = []
            for path in sorted(broken):
                if started[path].exists():
                    deaths[path] += 1
                    started[path].unlink()
                if deaths[path] > 1:
                    plan.died_twice(path)
                else:
                    remaining.append(path)
    return plan.rows


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _name(path: Path, inbox: Path) -> str:
    return visible_name(path.relative_to(inbox))


def index_library_once(data_dir: Path) -> None:
    """Index the clause library before the workers start, so they do not race to build the same Chroma collection."""
    from clause_library.playbook import default_library
    from clause_library.vector_store import ClauseStore

    ClauseStore(data_dir / "chroma").ensure_indexed(default_library())


class Throughput:
    """Contracts per minute since the batch started (for the progress bar)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def per_minute(self, done: int) -> float:
        elapsed = time.perf_counter() - self.started
        return 60.0 * done / elapsed if elapsed > 0 else 0.0
