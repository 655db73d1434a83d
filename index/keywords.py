"""Keyword search with bm25s: English stop words removed, Snowball stems (PyStemmer)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def stemmer():
    """The Snowball English stemmer (PyStemmer), one per process."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed terms of each text ("betrayals" -> "betray")."""
    import bm25s

    # Curly apostrophes split words the way straight ones do ("isn’t" -> "isn", "t").
    texts = [t.replace("’", "'") for t in texts]
    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False)


class KeywordIndex:
    def __init__(self, retriever, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> "KeywordIndex":
        import bm25s

        retriever = bm25s.BM25()
        tokens = tokenize(texts) if texts else []
        # bm25s cannot index an empty corpus or all-empty documents; keep a placeholder term.
        tokens = [t or ["\x00"] for t in tokens] or [["\x00"]]
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        terms = tokenize([query])[0]
        if not terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(terms, weight_mask=mask), dtype=np.float32)[: self.size]

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        from .ann import top

        scores = self.scores(query, mask)
        order = top(scores, n)
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory), show_progress=False)
        (Path(directory) / "size.json").write_text(json.dumps({"documents": self.size}))

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        import bm25s

        size = json.loads((Path(directory) / "size.json").read_text())["documents"]
        # Memory-mapped: a large corpus's term matrix is read where a question's terms are.
        return cls(bm25s.BM25.load(str(directory), mmap=True, show_progress=False), size)
