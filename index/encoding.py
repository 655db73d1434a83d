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
    dim = embedder.dimension
    total = sum(map(len, passages)) + sum(map(len, sentences or ())) + sum(map(len, token_only))
    meter = _Meter(total, show_progress, progress)
    one_pass = with_tokens and callable(getattr(embedder, "encode_passages", None))
    bulk = getattr(embedder, "bulk", None)
    try:
        with bulk() if callable(bulk) else nullcontext():
            vectors = np.zeros((len(passages), dim), dtype=np.float32)
            tokens: list[np.ndarray | None] | None = [None] * len(passages) if with_tokens else None
            for rows in _slices(passages):
                part = [passages[i] for i in rows]
                if one_pass:
                    found, found_tokens = embedder.encode_passages(part, dtype=np.float16)
                else:
                    found = embedder.encode(part)
                    found_tokens = embedder.encode_tokens(part, dtype=np.float16) if with_tokens else None
                vectors[rows] = found
                if found_tokens is not None:
                    for i, t in zip(rows, found_tokens):
                        tokens[i] = t
                meter.add(sum(map(len, part)))
            sentence_vectors = None
            if sentences is not None:
                sentence_vectors = np.zeros((len(sentences), dim), dtype=np.float32)
                for rows in _slices(sentences):
                    part = [sentences[i] for i in rows]
                    sentence_vectors[rows] = embedder.encode(part) if part else np.zeros((0, dim), np.float32)
                    meter.add(sum(map(len, part)))
            extra: list[np.ndarray] | None = None
            if token_only:
                extra = [None] * len(token_only)
                for rows in _slices(token_only):
                    part = [token_only[i] for i in rows]
                    for i, t in zip(rows, embedder.encode_tokens(part, dtype=np.float16)):
                        extra[i] = t
                    meter.add(sum(map(len, part)))
    finally:
        meter.close()
    return Encoded(vectors, tokens, sentence_vectors), extra


def wants_tokens(embedder, late_weight: float) -> bool:
    return late_weight > 0 and can_encode_tokens(embedder)
