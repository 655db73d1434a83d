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
