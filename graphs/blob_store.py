"""Large state values stored once, by content, outside the checkpoints.

A LangGraph checkpoint holds every channel's value at every super-step, so a 34k-character contract's document and
agent outputs were written six times over (~0.9 MB of checkpoints per contract). The graph puts the document and
each agent's output here and keeps only a reference ({"$blob": sha256}) in its state; readers resolve it. A value is
written once (temporary file, then rename) and never changed, so a reference can never see half a value, and the
same content reviewed twice shares its blobs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

REFERENCE_KEY = "$blob"


class BlobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, value: Any) -> dict[str, str]:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        return {REFERENCE_KEY: digest}

    def get(self, value: Any) -> Any:
        """The value a reference stands for; anything else (a state written before blobs existed) as it is."""
        if isinstance(value, dict) and set(value) == {REFERENCE_KEY}:
            return json.loads(self._path(value[REFERENCE_KEY]).read_bytes())
        return value

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"


class InlineValues:
    """No store: values stay in the state (graphs built without a data folder, e.g. LangGraph Studio)."""

    def put(self, value: Any) -> Any:
        return value

    def get(self, value: Any) -> Any:
        return value
