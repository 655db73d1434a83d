"""Nearest vectors at any size: an exact scan for a small corpus, an approximate FAISS index for a
large one, and the candidates it finds scored exactly again.

The vectors themselves stay in their own array (memory-mapped from the index directory): the
approximate index only proposes candidates, each is then scored by its true cosine, so a score
that reaches the answer is never an approximation. Which index a set of vectors gets is chosen
by its size (`choose_kind`) and recorded in the manifest:

    exact   below 50,000 vectors: one matrix product over all (about 5 ms at 50,000 x 384)
    hnsw    below 500,000: a graph (HNSW, Malkov & Yashunin 2018) over 8-bit scalar-quantised
            copies (384 bytes a vector), searched with efSearch 256
    ivfpq   beyond: an inverted file of sqrt(n) x 2 lists of product-quantised residuals
            (48 bytes a vector; Jegou et al. 2011), 64 lists probed

Both approximate kinds return `refine` (50) times as many candidates as asked (at most 4,096),
re-scored exactly:
product-quantised distances cannot tell near-duplicates apart, their exact cosines can.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

KINDS = ("auto", "exact", "hnsw", "ivfpq")
IVF_AT_LEAST = 10_000  # vectors: fewer cannot train an inverted file's lists and codes
MAX_CANDIDATES = 4096


@dataclass(frozen=True)
class AnnSettings:
    """How passage and sentence vectors are searched. `kind` "auto" chooses by their number."""

    kind: str = "auto"
    exact_below: int = 50_000
    hnsw_below: int = 500_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 256
    ivf_nprobe: int = 64
    pq_bytes: int = 48  # bytes a vector in the IVF-PQ codes (384 / 48 = 8 dimensions a sub-quantiser)
    # Candidates proposed per result asked (at most MAX_CANDIDATES), then scored exactly: at a
    # million passages, 4 gave recall@10 0.68 among near-duplicates, 50 gave 0.96 (benchmarks/README).
    refine: int = 50

    def to_dict(self) -> dict:
        return asdict(self)

    def choose_kind(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        if n < self.exact_below:
            return "exact"
        return "hnsw" if n < self.hnsw_below else "ivfpq"


def top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the `n` largest scores, best first (ties: lower position first), without a
    full sort of a million scores."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n < len(scores):
        part = np.argpartition(-scores, n - 1)[:n]
    else:
        part = np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


class VectorIndex:
    """Search over `vectors` (unit length, one per row; an ndarray or a memory map)."""

    def __init__(self, vectors: np.ndarray, kind: str, faiss_index=None, settings: AnnSettings = AnnSettings()):
        self.vectors = vectors
        self.kind = kind
        self.faiss_index = faiss_index
        self.settings = settings
        if kind != "exact" and faiss_index is None:
            raise ValueError(f"a {kind} index needs its FAISS index")
        self._tune()

    @classmethod
    def build(cls, vectors: np.ndarray, settings: AnnSettings = AnnSettings(), *, seed: int = 7) -> "VectorIndex":
        kind = settings.choose_kind(len(vectors))
        if kind == "exact" or not len(vectors):
            return cls(vectors, "exact", None, settings)
        if kind == "ivfpq" and len(vectors) < IVF_AT_LEAST:
            kind = "hnsw"  # too few vectors to learn lists and codes from; the manifest says which was built
        import faiss

        dim = vectors.shape[1]
        if kind == "hnsw":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.train(_sample(vectors, 100_000, seed))
        elif kind == "ivfpq":
            nlist = int(min(65_536, max(16, 2 * math.sqrt(len(vectors)))))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, settings.pq_bytes, 8, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed
            index.train(_sample(vectors, max(40 * nlist, 65_536), seed))
        else:
            raise ValueError(f"unknown vector index kind {kind!r}; one of {', '.join(KINDS)}")
        for start in range(0, len(vectors), 65_536):
            index.add(np.ascontiguousarray(vectors[start:start + 65_536], dtype=np.float32))
        return cls(vectors, kind, index, settings)

    def _tune(self) -> None:
        if self.kind == "hnsw":
            self.faiss_index.hnsw.efSearch = self.settings.hnsw_ef_search
        elif self.kind == "ivfpq":
            self.faiss_index.nprobe = self.settings.ivf_nprobe

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the `n` vectors closest to `query` and their exact cosines, best first."""
        if not len(self.vectors) or n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32)
        if self.kind == "exact":
            scores = np.asarray(self.vectors @ query, dtype=np.float32)
            order = top(scores, n)
            return order, scores[order]
        wanted = min(len(self.vectors), max(min(n * self.settings.refine, MAX_CANDIDATES), n + 16))
        if self.kind == "hnsw":
            self.faiss_index.hnsw.efSearch = max(self.settings.hnsw_ef_search, wanted)
        _, ids = self.faiss_index.search(query.reshape(1, -1), wanted)
        rows = ids[0][ids[0] >= 0]
        rows = np.unique(rows)  # sorted: the memory map is read in file order
        scores = np.asarray(self.vectors[rows], dtype=np.float32) @ query
        order = top(scores, n)
        return rows[order].astype(np.int64), scores[order]

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """The FAISS index (not the vectors, which are saved on their own), if there is one."""
        if self.faiss_index is not None:
            import faiss

            faiss.write_index(self.faiss_index, str(path))

    @classmethod
    def load(cls, path: Path, vectors: np.ndarray, kind: str, settings: AnnSettings = AnnSettings()) -> "VectorIndex":
        if kind == "exact":
            return cls(vectors, "exact", None, settings)
        import faiss

        index = faiss.read_index(str(path))
        if index.ntotal != len(vectors):
            raise ValueError(f"{path.name} indexes {index.ntotal} vectors, the index holds {len(vectors)}")
        return cls(vectors, kind, index, settings)

    def describe(self) -> dict:
        """What the manifest records of this index."""
        record = {"kind": self.kind, "vectors": int(len(self.vectors))}
        if self.kind == "hnsw":
            record.update(m=self.settings.hnsw_m, ef_search=self.settings.hnsw_ef_search, storage="sq8")
        elif self.kind == "ivfpq":
            record.update(lists=int(self.faiss_index.nlist), nprobe=self.settings.ivf_nprobe,
                          code_bytes=self.settings.pq_bytes)
        if self.kind != "exact":
            record["refine"] = self.settings.refine
        return record


def _sample(vectors: np.ndarray, n: int, seed: int) -> np.ndarray:
    if len(vectors) <= n:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), n, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)
