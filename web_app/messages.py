"""A message carried in a redirect's URL (`?error=`, `?notice=`) is shown only when the server wrote it, for this
reviewer and this page: the URL carries an HMAC of (reviewer, page, kind, text) under a key kept in the data folder
(shared by every worker). A link someone crafts, or a message signed for someone else, shows nothing."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

KEY_FILE = "web-messages.key"


class MessageSigner:
    def __init__(self, data_dir: Path) -> None:
        self._key = _key(Path(data_dir))

    def url(self, path: str, reviewer: str, *, error: str | None = None, notice: str | None = None) -> str:
        kind, text = ("error", error) if error is not None else ("notice", notice or "")
        return f"{path}?{kind}={quote(text)}&sig={self._sign(path, reviewer, kind, text)}"

    def verified(self, path: str, reviewer: str, kind: str, text: str | None, sig: str | None) -> str | None:
        if not text or not sig:
            return None
        return text if hmac.compare_digest(sig, self._sign(path, reviewer, kind, text)) else None

    def _sign(self, path: str, reviewer: str, kind: str, text: str) -> str:
        message = "\0".join((reviewer, path, kind, text)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


def _key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:  # the first worker writes it; the others read the same one
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_bytes()
            if len(key) == 32:
                return key
            time.sleep(0.01)  # written a moment ago by another worker
        raise RuntimeError(f"{path} is not a message key; delete it and restart")
    key = secrets.token_bytes(32)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key
