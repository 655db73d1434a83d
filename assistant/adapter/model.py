"""The stored adapter: `adapter.npy` (384 x 384, float32, about 0.6 MB) and `adapter.json` (the
model it belongs to, the data it was trained on, its settings and a probe to check it by).
A question's vector v becomes (v + v W) / |v + v W|. `python -m assistant.adapter.train` rebuilds
both from the data in the repository in seconds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

META_PATH = Path(__file__).with_name("adapter.json")
MATRIX_PATH = Path(__file__).with_name("adapter.npy")
REBUILD = "rebuild it with `python -m assistant.adapter.train`"


def manifest_record(matrix_path: Path | None = None, meta_path: Path | None = None) -> dict:
    """What the index manifest says of the adapter: its file's hash and what it was trained on."""
    import hashlib

    matrix_path, meta_path = matrix_path or MATRIX_PATH, meta_path or META_PATH
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return {"file": matrix_path.name, "sha256": hashlib.sha256(matrix_path.read_bytes()).hexdigest(),
            "model_id": meta.get("model_id"), "trained_on": meta.get("trained_on"),
            "rebuild": "python -m assistant.adapter.train"}


class AdapterError(Exception):
    """The adapter can't be read; the message says which file and what to do."""


@dataclass
class QueryAdapter:
    model_id: str
    matrix: np.ndarray
    meta: dict = field(default_factory=dict)

    def apply(self, vector: np.ndarray) -> np.ndarray:
        adapted = vector + vector @ self.matrix
        return (adapted / (np.linalg.norm(adapted) or 1.0)).astype(np.float32)

    def save(self, meta_path: Path = META_PATH, matrix_path: Path = MATRIX_PATH) -> None:
        np.save(matrix_path, self.matrix.astype(np.float32))
        meta_path.write_text(json.dumps({"model_id": self.model_id, "matrix": matrix_path.name, **self.meta},
                                        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, meta_path: Path = META_PATH, matrix_path: Path = MATRIX_PATH) -> "QueryAdapter":
        try:
            meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
            model_id = str(meta.pop("model_id"))
            meta.pop("matrix", None)
        except FileNotFoundError as exc:
            raise AdapterError(f"no query adapter at {meta_path}: {REBUILD}") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AdapterError(f"the query adapter record {meta_path} is damaged ({exc}): {REBUILD}") from exc
        try:
            matrix = np.load(matrix_path, allow_pickle=False)
        except FileNotFoundError as exc:
            raise AdapterError(f"no query adapter matrix at {matrix_path}: {REBUILD}") from exc
        except (ValueError, OSError) as exc:
            raise AdapterError(f"the query adapter matrix {matrix_path} can't be read ({exc}): {REBUILD}") from exc
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise AdapterError(f"the query adapter matrix {matrix_path} has shape {matrix.shape}, not square: "
                               f"{REBUILD}")
        return cls(model_id, matrix.astype(np.float32), meta)
