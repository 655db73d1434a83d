"""An embedding cache on disk, keyed by model and text, so a benchmark corpus is encoded once.

SQLite holds one row per (model, text) hash with the vector as float32 bytes. Texts not in the
cache are encoded in batches under a progress bar that shows the time left.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

from .embedders import Embedder, can_encode_tokens

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"


class CachedEmbedder:
    """Wraps an embedder; same `model_id` and `dimension`, vectors served from the cache when known."""

    def __init__(self, embedder: Embedder, path: Path, *, batch_size: int = 64, desc: str = "Encoding") -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension
        self.path = Path(path)
        self.batch_size = batch_size
        self.desc = desc
        self.hits = 0
        self.misses = 0
        if can_encode_tokens(embedder):  # token vectors (late interaction) are not cached: passed through
            self.encode_tokens, self.encode_question = embedder.encode_tokens, embedder.encode_question
            if callable(getattr(embedder, "encode_passages", None)):
                self.encode_passages = self._encode_passages
        if callable(getattr(embedder, "bulk", None)):
            self.bulk = embedder.bulk
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path) as db:
            db.execute(_SCHEMA)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\x00{text}".encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None, show_progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with sqlite3.connect(self.path) as db:
            unique = list(dict.fromkeys(keys))
            for i in range(0, len(unique), 500):
                part = unique[i:i + 500]
                rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
            missing = [i for i, k in enumerate(keys) if k not in found]
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
            todo = list(dict.fromkeys(keys[i] for i in missing))
            text_of = {keys[i]: texts[i] for i in missing}
            step = batch_size or self.batch_size
            with tqdm(total=len(todo), desc=self.desc, unit="text", disable=not show_progress or not todo) as bar:
                for i in range(0, len(todo), step):
                    batch = todo[i:i + step]
                    vectors = self.embedder.encode([text_of[k] for k in batch])
                    db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                   [(k, v.astype(np.float32).tobytes()) for k, v in zip(batch, vectors)])
                    db.commit()
                    found.update(zip(batch, vectors))
                    bar.update(len(batch))
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out

    def _encode_passages(self, texts: Sequence[str], **kwargs) -> tuple[np.ndarray, list[np.ndarray]]:
        """The model runs for the token vectors anyway: the vectors of the same pass are kept in
        the cache too."""
        vectors, tokens = self.embedder.encode_passages(texts, **kwargs)
        with sqlite3.connect(self.path) as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                           [(self._key(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors)])
        self.misses += len(texts)
        return vectors, tokens

