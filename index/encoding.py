"""Encoding a corpus: passage vectors and token vectors from one pass, then sentence vectors.

Ingest needs three things from the model: a vector for each passage, the passage's contextual
token vectors (late interaction) and a vector for each sentence (quotes). The first two come from
the same pass: a passage's vector is the mean of the token states its token vectors are made from.
Sentences are encoded on their own: vectors pooled from the passage's token states instead lost
0.13 of quote hit@1 on the built-in set (benchmarks/README.md, issue 16), so they stay a second,
shorter pass. Texts go to the model longest first in slices of similar length, so that little is
padding and the time left is known early; one bar (and `progress`, for the web page) counts
the work in characters across both passes.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .embedders import can_encode_tokens

SLICE = 256  # texts handed to the embedder at once (a progress step)


@dataclass(frozen=True)
class Progress:
    """How far an index build has got: characters of text encoded, of all it has to encode."""

    done: int
    total: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def seconds_left(self) -> float | None:
        if not self.done or self.elapsed < 1.0:
            return None  # too early to say
        return self.elapsed * (self.total - self.done) / self.done

    def describe(self) -> str:
        """'Building the index: 42 % embedded, about 1 min left.'"""
        left = self.seconds_left
        when = "" if left is None else f", about {_duration(left)} left"
        return f"Building the index: {self.fraction:.0%} embedded{when}."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


class _Meter:
    """One tqdm bar and the `progress` callback, fed in characters."""

    def __init__(self, total: int, show_progress: bool, progress: Callable[[Progress], None] | None) -> None:
        from tqdm import tqdm

        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self.progress = progress
        self.bar = tqdm(total=total, desc="Embedding", unit="char", unit_scale=True, disable=not show_progress)

    def add(self, chars: int) -> None:
        self.done += chars
        self.bar.update(chars)
        if self.progress is not None:
            self.progress(Progress(self.done, self.total, time.perf_counter() - self.started))

    def close(self) -> None:
        self.bar.close()


@dataclass
class Encoded:
    passages: np.ndarray
    tokens: list[np.ndarray] | None  # None: no token vectors asked for
    sentences: np.ndarray | None  # None: no sentences asked for


def _slices(texts: Sequence[str]) -> list[list[int]]:
    """Positions of `texts`, longest first, cut into slices of SLICE."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return [order[start:start + SLICE] for start in range(0, len(order), SLICE)]


def encode_corpus(embedder, passages: Sequence[str], sentences: Sequence[str] | None = None, *,
                  with_tokens: bool = False, token_only: Sequence[str] = (), show_progress: bool = False,
                  progress: Callable[[Progress], None] | None = None) -> tuple[Encoded, list[np.ndarray] | None]:
    """Vectors of `passages` (and, `with_tokens`, their token vectors from the same pass), of
    `sentences`, and the token vectors alone of `token_only` (passages whose vectors are kept
    from before but whose index has no token vectors)."""
    total = sum(map(len, passages)) + sum(map(len, sentences or ())) + sum(map(len, token_only))
    meter = _Meter(total, show_progress, progress)

    def each_slice(texts: Sequence[str], encode: Callable[[list[str]], object]) -> list:
        """`encode` of every slice of `texts`, put back in the texts' order (one result a text)."""
        found: list = [None] * len(texts)
        for rows in _slices(texts):
            part = [texts[i] for i in rows]
            for i, result in zip(rows, encode(part)):
                found[i] = result
            meter.add(sum(map(len, part)))
        return found

    def passage_pass(part: list[str]):  # (vector, token vectors or None) a passage
        if not with_tokens:
            return zip(embedder.encode(part), [None] * len(part))
        if callable(getattr(embedder, "encode_passages", None)):
            return zip(*embedder.encode_passages(part, dtype=np.float16))
        return zip(embedder.encode(part), embedder.encode_tokens(part, dtype=np.float16))

    def tokens_of(part: list[str]):
        return embedder.encode_tokens(part, dtype=np.float16)

    bulk = getattr(embedder, "bulk", None)
    try:
        with bulk() if callable(bulk) else nullcontext():
            found = each_slice(passages, passage_pass)
            sentence_rows = each_slice(sentences, embedder.encode) if sentences is not None else None
            extra = each_slice(token_only, tokens_of) if token_only else None
    finally:
        meter.close()
    vectors = np.array([v for v, _ in found], dtype=np.float32).reshape(len(passages), embedder.dimension)
    sentence_vectors = None if sentence_rows is None else \
        np.array(sentence_rows, dtype=np.float32).reshape(len(sentences), embedder.dimension)
    tokens = [t for _, t in found] if with_tokens else None
    return Encoded(vectors, tokens, sentence_vectors), extra


def wants_tokens(embedder, late_weight: float) -> bool:
    return late_weight > 0 and can_encode_tokens(embedder)
