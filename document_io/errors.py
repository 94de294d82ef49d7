"""Reasons a file cannot be reviewed. Each carries one line a reviewer can act on."""

from __future__ import annotations


class DocumentError(Exception):
    """A file that cannot be reviewed. `str(error)` is the one-line reason shown to the user."""

    kind = "unreadable"

    def __init__(self, reason: str) -> None:
        super().__init__(" ".join(reason.split()))
        self.reason = " ".join(reason.split())


class EmptyDocument(DocumentError):
    kind = "empty"


class UnsupportedFormat(DocumentError):
    kind = "unsupported_format"


class CorruptDocument(DocumentError):
    kind = "corrupt"


class NoTextLayer(DocumentError):
    kind = "no_text_layer"


class DocumentTooLarge(DocumentError):
    kind = "too_large"


class NotEnglish(DocumentError):
    kind = "not_english"


class EncryptedDocument(DocumentError):
    kind = "encrypted"


def clip(text: str, limit: int = 80) -> str:
    """One line of at most about `limit` characters, cut at a word boundary with an ellipsis (never mid-word)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:") + " …"
