"""Late interaction: each word of the question looks for its closest word in the passage.

A passage's single vector averages its words away: "we bicker over the tiniest things" finds
passages about couples in general before the one about "arguments over seemingly trivial
matters". Scoring word against word keeps them: MiniLM's contextual token vectors of the passage
are kept (float16), and a passage scores the mean, over the question's tokens, of each token's
best cosine with a passage token (MaxSim, the scoring of ColBERT: Khattab & Zaharia 2020). The
question's stop words and punctuation are left out (the NLTK English list that bm25s ships as
"en_plus"): they would find their twins in any passage. Its negations stay ("not", "no", "don"
of "don't", ...): "What is emotional intimacy *not* about?" asks something else without them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .runs import best_in_runs


NEGATIONS = frozenset({"no", "nor", "not", "ain", "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven",
                       "isn", "mightn", "mustn", "needn", "shan", "shouldn", "wasn", "weren", "won", "wouldn"})


@lru_cache(maxsize=1)
def question_stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(w for w in STOPWORDS_EN_PLUS if w not in NEGATIONS and not w.endswith("n't"))


def token_matrix(parts: list[np.ndarray], dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """Each passage's token vectors stacked (float16), and where passage i's run starts: offsets[i]
    to offsets[i + 1]."""
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    matrix = np.zeros((int(offsets[-1]), dimension), dtype=np.float16)  # filled in place: no float32 copy
    for part, start, end in zip(parts, offsets[:-1], offsets[1:]):
        matrix[start:end] = part
    return matrix, offsets


def maxsim(query_tokens: np.ndarray, tokens: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each passage of `rows`, the mean over the query's tokens of their best cosine with one
    of the passage's tokens (all vectors of unit length). A passage without tokens scores 0."""
    rows = np.asarray(rows, dtype=np.int64)
    scores = np.zeros(len(rows), dtype=np.float32)
    if not len(rows) or not len(query_tokens):
        return scores
    filled, best = best_in_runs(np.asarray(query_tokens, dtype=np.float32), tokens, offsets, rows)  # runs x query
    scores[filled] = best.mean(axis=1)
    return scores
