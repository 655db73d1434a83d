"""Metric arithmetic, kept free of I/O so that each formula can be checked on a hand-made case."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter

_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
                       "–": "-", "—": "-", "‒": "-", "―": "-", "−": "-", "\u00a0": " "})
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case, white space, curly quotes and dashes folded, so an expected phrase matches its text."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_FOLD)).strip().casefold()


def contains_any(text: str, phrases) -> bool:
    folded = fold(text)
    return any(fold(p) and fold(p) in folded for p in phrases)


def hit_at(relevant: list[bool], n: int) -> float:
    """1 when a relevant item is among the first n, else 0."""
    return 1.0 if any(relevant[:n]) else 0.0


def reciprocal_rank(relevant: list[bool], k: int) -> float:
    """1 / rank of the first relevant item within the first k (0 if none)."""
    for rank, rel in enumerate(relevant[:k], start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at(relevant: list[bool], k: int, total_relevant: int) -> float:
    """Binary-gain nDCG@k: DCG = sum over ranks i of rel_i / log2(i + 1), divided by the DCG of an
    ideal list holding min(k, total_relevant) relevant items first."""
    dcg = sum(1.0 / math.log2(i + 1) for i, rel in enumerate(relevant[:k], start=1) if rel)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, total_relevant) + 1))
    return dcg / ideal if ideal else 0.0


def recall(found: set[str], expected: set[str]) -> float:
    return len(found & expected) / len(expected) if expected else 0.0


def _answer_tokens(text: str) -> list[str]:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = fold(text)
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return text.split()


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall (SQuAD's F1)."""
    pred, ref = _answer_tokens(prediction), _answer_tokens(reference)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return 0.0
    precision, rec = common / len(pred), common / len(ref)
    return 2 * precision * rec / (precision + rec)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# Metrics where lower is better; every other metric is better higher. Latency is reported but
# not compared against a baseline: it measures the machine as much as the change.
LOWER_IS_BETTER = {"wrongly_declined", "mid_thought_quotes", "adverts_quoted", "rejected_quoted"}
NOT_COMPARED_PREFIX = "latency_"


def compare(current: dict[str, float | None], baseline: dict[str, float | None], tolerance: float
            ) -> list[tuple[str, float, float]]:
    """Metrics that fell by more than `tolerance` against the baseline: (name, baseline, current)."""
    fell = []
    for name, base in baseline.items():
        now = current.get(name)
        if base is None or now is None or name.startswith(NOT_COMPARED_PREFIX):
            continue
        worse = (now - base) if name in LOWER_IS_BETTER else (base - now)
        if worse > tolerance + 1e-12:
            fell.append((name, base, now))
    return fell
