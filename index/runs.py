"""Vectors kept in runs, one run per passage (its sentences, its tokens): run r is
vectors[offsets[r]:offsets[r + 1]]."""

from __future__ import annotations

import numpy as np


def best_in_runs(query: np.ndarray, vectors: np.ndarray, offsets: np.ndarray, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """For the runs of `rows`: which are not empty, and for each of those the best product of
    `query` (a vector, or one vector a row) with a member of the run (one value, or one per query row)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    filled = lengths > 0
    if not filled.any():
        return filled, np.zeros((0,) + np.shape(query)[:-1], dtype=np.float32)
    starts, lengths = starts[filled], lengths[filled]
    firsts = np.cumsum(lengths) - lengths  # where each run begins among the gathered members
    positions = np.arange(int(lengths.sum())) - np.repeat(firsts, lengths) + np.repeat(starts, lengths)
    if isinstance(vectors, np.ndarray) and len(positions) * 2 > len(vectors):
        # most members: one product, then pick (no copy of the rows)
        products = (vectors @ query.T)[positions]
    else:
        products = np.asarray(vectors[positions], dtype=np.float32) @ query.T
    return filled, np.maximum.reduceat(products, firsts, axis=0)
