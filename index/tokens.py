"""Every passage's contextual token vectors for late interaction, kept as float16 rows (768 bytes
a token) or, for a large corpus, as product-quantised codes of 64 bytes a token.

A million passages hold about a hundred million tokens: 77 GB as float16, 6.4 GB as codes. The
codes follow ColBERTv2's point (Santhanam et al. 2022) that late interaction survives heavy
compression of the passage side: each token is cut into 64 sub-vectors of 6 dimensions, each
replaced by the nearest of 256 centroids learnt from the corpus (FAISS's ProductQuantizer), and
only the candidates' tokens are decoded when a question is scored. Either way the array is
memory-mapped from the index directory, so a question reads only the runs it scores.

    float16  below 2,000,000 tokens (about 20,000 passages), or when set
    pq       beyond
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

KINDS = ("auto", "float16", "pq")


@dataclass(frozen=True)
class TokenSettings:
    kind: str = "auto"
    pq_below: int = 2_000_000  # tokens
    code_bytes: int = 64
    train_sample: int = 32_768  # tokens the centroids are learnt from

    def to_dict(self) -> dict:
        return asdict(self)

    def choose_kind(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "float16" if n < self.pq_below else "pq"


class TokenVectors:
    """Token vectors, run by run (passage i's are rows offsets[i]:offsets[i + 1]). Indexing with
    positions gives float32 vectors, decoded when they are kept as codes."""

    def __init__(self, offsets: np.ndarray, *, vectors: np.ndarray | None = None, codes: np.ndarray | None = None,
                 quantizer=None, dimension: int | None = None) -> None:
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.vectors, self.codes, self.quantizer = vectors, codes, quantizer
        if (vectors is None) == (codes is None) or (codes is not None and quantizer is None):
            raise ValueError("token vectors are float16 rows or codes with their quantiser")
        self.kind = "float16" if vectors is not None else "pq"
        self.dimension = int(vectors.shape[1]) if vectors is not None else int(dimension or quantizer.d)
        size = len(vectors if vectors is not None else codes)
        if int(self.offsets[-1]) != size:
            raise ValueError(f"offsets for {int(self.offsets[-1])} tokens, but {size} kept")

    @classmethod
    def build(cls, matrix: np.ndarray, offsets: np.ndarray, settings: TokenSettings = TokenSettings(), *,
              quantizer=None, seed: int = 7) -> "TokenVectors":
        """From every token's float vector (`matrix`, float16 or float32). With `quantizer` (the
        previous index's), its centroids are kept: a reused token's codes come out the same."""
        kind = settings.choose_kind(len(matrix)) if quantizer is None else "pq"
        if kind == "float16":
            return cls(offsets, vectors=np.asarray(matrix, dtype=np.float16))
        if quantizer is None:
            quantizer = train_quantizer(matrix, settings.code_bytes, sample=settings.train_sample, seed=seed)
        return cls(offsets, codes=encode(quantizer, matrix), quantizer=quantizer)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, positions) -> np.ndarray:
        if isinstance(positions, slice) and positions == slice(None):
            positions = slice(0, len(self))
        if self.vectors is not None:
            return np.asarray(self.vectors[positions], dtype=np.float32)
        codes = np.ascontiguousarray(self.codes[positions])
        if not len(codes):
            return np.zeros((0, self.dimension), dtype=np.float32)
        decoded = self.quantizer.decode(codes)
        # Unit length again, as MiniLM's token vectors were when they were coded.
        norms = np.sqrt(np.einsum("ij,ij->i", decoded, decoded))
        decoded /= np.maximum(norms, 1e-6)[:, None]
        return decoded

    def run(self, row: int) -> np.ndarray:
        return self[slice(int(self.offsets[row]), int(self.offsets[row + 1]))]

    @property
    def bytes_per_token(self) -> int:
        return int(self.dimension * 2 if self.vectors is not None else self.codes.shape[1])

    def describe(self) -> dict:
        record = {"kind": self.kind, "tokens": len(self), "bytes_per_token": self.bytes_per_token}
        if self.kind == "pq":
            record["sub_vectors"] = int(self.quantizer.M)
        return record

    # -- persistence --------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        np.save(directory / "token_offsets.npy", self.offsets)
        if self.vectors is not None:
            np.save(directory / "tokens.npy", np.asarray(self.vectors, dtype=np.float16))
        else:
            import faiss

            np.save(directory / "token_codes.npy", self.codes)
            faiss.write_ProductQuantizer(self.quantizer, str(directory / "tokens.pq"))

    @classmethod
    def load(cls, directory: Path, kind: str = "float16", *, mmap: bool = True) -> "TokenVectors":
        directory = Path(directory)
        from .table import open_array

        load = open_array if mmap else np.load
        offsets = np.load(directory / "token_offsets.npy")
        if kind == "pq":
            import faiss

            return cls(offsets, codes=load(directory / "token_codes.npy"),
                       quantizer=faiss.read_ProductQuantizer(str(directory / "tokens.pq")))
        return cls(offsets, vectors=load(directory / "tokens.npy"))


def train_quantizer(matrix: np.ndarray, code_bytes: int = 64, *, sample: int = 32_768, iterations: int = 20,
                    seed: int = 7):
    """A product quantiser of `code_bytes` sub-vectors, 8 bits each, learnt from a sample of
    tokens (32,768: 128 a centroid; about 50 s here, once per index)."""
    import faiss

    dim = matrix.shape[1]
    if dim % code_bytes:
        raise ValueError(f"{dim} dimensions do not split into {code_bytes} sub-vectors")
    rows = np.arange(len(matrix)) if len(matrix) <= sample else \
        np.sort(np.random.default_rng(seed).choice(len(matrix), sample, replace=False))
    if len(rows) < 256:
        raise ValueError(f"{len(rows)} tokens are too few to learn 256 centroids; keep them as float16")
    quantizer = faiss.ProductQuantizer(dim, code_bytes, 8)
    quantizer.cp.niter = iterations
    quantizer.cp.seed = seed
    quantizer.train(np.ascontiguousarray(matrix[rows], dtype=np.float32))
    return quantizer


def encode(quantizer, matrix: np.ndarray, batch: int = 262_144) -> np.ndarray:
    codes = np.zeros((len(matrix), quantizer.code_size), dtype=np.uint8)
    for start in range(0, len(matrix), batch):
        codes[start:start + batch] = quantizer.compute_codes(
            np.ascontiguousarray(matrix[start:start + batch], dtype=np.float32))
    return codes
