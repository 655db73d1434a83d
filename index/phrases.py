"""Phrase matching: how many of a question's word pairs a passage holds, in the same order.

BM25 scores words one by one, and both it and the embedding all but ignore small words, so
"What is emotional intimacy *not about*?" and "Is it about *more than just sharing words*?" find
passages that use the same nouns rather than the one that says those very words. Counting the
question's adjacent word pairs (stemmed, stop words kept) found in a passage, each weighted by
its rarity in the corpus, is the term-proximity evidence of the sequential dependence model
(Metzler & Croft 2005), reduced to exact pairs.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from .keywords import stemmer

_WORD = re.compile(r"\w+")


def word_pairs(text: str) -> set[tuple[str, str]]:
    """Adjacent pairs of lower-cased, stemmed words ("sharing words" -> ("share", "word"))."""
    words = stemmer().stemWords(_WORD.findall(text.replace("’", "'").lower()))
    return set(zip(words, words[1:]))


class PhraseIndex:
    """Each passage's set of word pairs, and how many passages hold each pair."""

    def __init__(self, texts: list[str]) -> None:
        self.pairs = [word_pairs(t) for t in texts]
        self.frequency = Counter(pair for pairs in self.pairs for pair in pairs)

    def scores(self, question: str, rows: list[int]) -> np.ndarray:
        """For each of `rows`, the share of the question's pairs the passage holds, each pair
        weighted by log(1 + N / (1 + passages holding it)): 0 (none) to 1 (all)."""
        asked = word_pairs(question)
        if not asked or not rows:
            return np.zeros(len(rows), dtype=np.float32)
        n = len(self.pairs)
        weights = {pair: math.log(1.0 + n / (1.0 + self.frequency[pair])) for pair in asked}
        total = sum(weights.values())
        return np.array([sum(w for pair, w in weights.items() if pair in self.pairs[row]) / total for row in rows],
                        dtype=np.float32)


class HashedPhraseIndex:
    """The same evidence for a corpus too large to hold every passage's pairs: how many passages
    hold each pair is counted into 2^k hashed buckets (CRC-32 of the pair), saved with the index
    and memory-mapped; a candidate's own pairs are read from its text when it is scored.

    A bucket shared by two pairs over-counts the rarer one, which lowers its weight a little
    (log(1 + N / (1 + n)) changes slowly in n); with four buckets a distinct pair that stays rare."""

    def __init__(self, counts: np.ndarray, passages: int, text_of) -> None:
        self.counts = counts
        self.passages = int(passages)
        self.text_of = text_of  # row -> the passage's text
        from functools import lru_cache

        self.pairs_of = lru_cache(maxsize=65_536)(lambda row: word_pairs(self.text_of(row)))
        self.mask = len(counts) - 1
        if len(counts) & self.mask:
            raise ValueError("the bucket count must be a power of two")

    @staticmethod
    def bucket(pair: tuple[str, str]) -> int:
        import zlib

        return zlib.crc32(f"{pair[0]}\x00{pair[1]}".encode("utf-8"))

    @classmethod
    def count(cls, texts, *, buckets: int | None = None) -> tuple[np.ndarray, int]:
        """Bucket counts of the passages' pairs (each passage counts a pair once), and how many
        passages there were."""
        keys: list[np.ndarray] = []
        n = 0
        for text in texts:
            pairs = word_pairs(text)
            keys.append(np.fromiter((cls.bucket(p) for p in pairs), dtype=np.uint32, count=len(pairs)))
            n += 1
        every = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint32)
        if buckets is None:
            distinct = len(np.unique(every)) if len(every) else 1
            buckets = 1 << max(16, min(28, int(np.ceil(np.log2(4 * distinct)))))
        counts = np.bincount(every & np.uint32(buckets - 1), minlength=buckets).astype(np.uint32)
        return counts, n

    def scores(self, question: str, rows: list[int]) -> np.ndarray:
        asked = word_pairs(question)
        if not asked or not rows:
            return np.zeros(len(rows), dtype=np.float32)
        weights = {pair: math.log(1.0 + self.passages / (1.0 + int(self.counts[self.bucket(pair) & self.mask])))
                   for pair in asked}
        total = sum(weights.values())
        out = np.zeros(len(rows), dtype=np.float32)
        for i, row in enumerate(rows):
            held = self.pairs_of(row)
            out[i] = sum(w for pair, w in weights.items() if pair in held) / total
        return out
