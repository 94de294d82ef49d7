"""Large state values stored once, by content, outside the checkpoints.

A LangGraph checkpoint holds every channel's value at every super-step, so a 34k-character contract's document and
agent outputs were written six times over (~0.9 MB of checkpoints per contract). The graph puts the document and
each agent's output here and keeps only a reference ({"$blob": sha256}) in its state; readers resolve it. A value is
written once (temporary file, then rename) and never changed, so a reference can never see half a value, and the
same content reviewed twice shares its blobs.

With a shared database (CLAUSEFLOW_DATABASE_URL) every value, and every stored original, is also written there, and
the data folder is this machine's cache of it: a review started on one machine is shown, decided and finalised on
another that has never seen its files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from graphs.database import Store

REFERENCE_KEY = "$blob"
FILE_CHUNK = 4 * 1024 * 1024  # originals and outputs go to and from the database this much at a time


class _SharedBlobs(Store):
    lock_group = "blobs"  # inserts of content-addressed rows never conflict in meaning: no need to wait on decisions


class BlobStore:
    def __init__(self, folder: Path, database_url: str | None = None, originals: Path | None = None) -> None:
        self.folder = folder
        self.originals = originals or folder.parent / "documents"  # where fetched originals are kept on this machine
        self._shared = _SharedBlobs(database_url) if database_url else None
        self._in_database: set[str] = set()  # digests this process has put there itself

    def put(self, value: Any) -> dict[str, str]:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        # the database first: a reference is never shared before its value. Whatever this machine's cache holds: a
        # database restored or re-pointed may lack what the cache has (and then no other machine could resolve it)
        if self._shared is not None and digest not in self._in_database:
            with self._shared.transaction() as db:
                db.execute("INSERT INTO blobs (digest, body) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
                           (digest, data))
            self._in_database.add(digest)
        if not path.exists():
            write_atomically(path, data)
        return {REFERENCE_KEY: digest}

    def get(self, value: Any) -> Any:
        """The value a reference stands for; anything else (a state written before blobs existed) as it is."""
        if isinstance(value, dict) and set(value) == {REFERENCE_KEY}:
            digest = value[REFERENCE_KEY]
            path = self._path(digest)
            if not path.exists() and self._shared is not None:
                write_atomically(path, self._fetch("SELECT body FROM blobs WHERE digest = ?", digest))
            return json.loads(path.read_bytes())
        return value

    def share_file(self, path: Path) -> None:
        """Keep a stored original (named by its content) in the database too."""
        if self._shared is not None:
            self._store_file(path.name, path, replace=False)

    def local_file(self, path: Path) -> Path:
        """A stored original on this machine: `path` where it exists, else fetched from the database."""
        if path.exists() or self._shared is None:
            return path
        local = self.originals / path.name
        if not local.exists():
            self._load_file(path.name, local)
        return local

    def share_output(self, thread_id: str, path: Path) -> None:
        """A finalised output (redline, report) kept in the database too, so every web worker on every machine can
        offer it for download, not only the machine that wrote it."""
        if self._shared is not None:
            self._store_file(_output_name(thread_id, path), path, replace=True)

    def has_output(self, thread_id: str, path: Path) -> bool:
        """Whether `output_file` would find it, without fetching it (listing a review's downloads)."""
        if path.is_file() or self._output_cache(thread_id, path).is_file():
            return True
        if self._shared is None:
            return False
        with self._shared.read() as db:
            return db.execute("SELECT 1 FROM originals WHERE name = ?", (_output_name(thread_id, path),)).fetchone() is not None

    def output_file(self, thread_id: str, path: Path) -> Path | None:
        """A finalised output on this machine: `path` where it exists, else fetched from the database into this
        machine's cache; None where neither has it."""
        if path.is_file():
            return path
        if self._shared is None:
            return None
        local = self._output_cache(thread_id, path)
        if not local.is_file():
            try:
                self._load_file(_output_name(thread_id, path), local)
            except FileNotFoundError:
                return None
        return local

    def _output_cache(self, thread_id: str, path: Path) -> Path:
        return self.folder.parent / "outputs" / thread_id / path.name

    def _store_file(self, name: str, path: Path, *, replace: bool) -> None:
        """The file in FILE_CHUNK pieces, read and sent one at a time, in one transaction (a reader never sees half)."""
        with self._shared.transaction() as db:
            if not replace and db.execute("SELECT 1 FROM originals WHERE name = ?", (name,)).fetchone():
                return  # named by its content: already there
            db.execute("DELETE FROM file_chunks WHERE name = ?", (name,))
            count = 0
            with path.open("rb") as handle:
                while chunk := handle.read(FILE_CHUNK):
                    db.execute("INSERT INTO file_chunks (name, seq, body) VALUES (?, ?, ?)", (name, count, chunk))
                    count += 1
            db.execute("INSERT INTO originals (name, body, chunks) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                       "body = excluded.body, chunks = excluded.chunks", (name, b"", count))

    def _load_file(self, name: str, target: Path) -> None:
        """Written to `target` a chunk at a time (temporary file, then rename)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with self._shared.transaction() as db:  # with the writers' lock: one version of the file, whole
            row = db.execute("SELECT chunks, body FROM originals WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise FileNotFoundError(f"{name} is in neither this data folder nor the shared database")
            with temporary.open("wb") as out:
                if row[0] is None:  # written whole, before chunks
                    out.write(bytes(row[1]))
                for seq in range(row[0] or 0):
                    out.write(bytes(db.execute("SELECT body FROM file_chunks WHERE name = ? AND seq = ?",
                                               (name, seq)).fetchone()[0]))
        os.replace(temporary, target)

    def _fetch(self, sql: str, key: str) -> bytes:
        with self._shared.read() as db:
            row = db.execute(sql, (key,)).fetchone()
        if row is None:
            raise FileNotFoundError(f"{key} is in neither this data folder nor the shared database")
        return bytes(row[0])

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"


def _output_name(thread_id: str, path: Path) -> str:
    """A finalised output's key in the database (beside the originals, which are named by their content)."""
    return f"outputs/{thread_id}/{path.name}"


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class InlineValues:
    """No store: values stay in the state (graphs built without a data folder, e.g. LangGraph Studio)."""

    def put(self, value: Any) -> Any:
        return value

    def get(self, value: Any) -> Any:
        return value

    def share_file(self, path: Path) -> None:
        pass

    def local_file(self, path: Path) -> Path:
        return path

    def share_output(self, thread_id: str, path: Path) -> None:
        pass

    def has_output(self, thread_id: str, path: Path) -> bool:
        return path.is_file()

    def output_file(self, thread_id: str, path: Path) -> Path | None:
        return path if path.is_file() else None
