"""Shared fixtures. No test touches the real data folder: CLOSER_HOME points into tmp_path."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
KMA = "000_bbaf2f0a327db68a"
GUIDE = "001_30510327d2b704d8"
COACHING = "002_b322e63915a6628b"
REMAINLY = "003_8433d8bc51077bda"
RELATIONSHIP_BLOG = "004_f392fb825741823f"


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "closer-home"
    monkeypatch.setenv("CLOSER_HOME", str(home))
    monkeypatch.delenv("CLOSER_CORPUS", raising=False)
    return home


class FakeEmbedder:
    """Deterministic bag-of-words vectors (hashed terms): fast, offline, enough for plumbing tests."""

    def __init__(self, model_id: str = "test/fake-hashing", dimension: int = 64) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts, *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        from index import tokenize

        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, terms in enumerate(tokenize(list(texts)) if texts else []):
            for term in terms:
                out[row, int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


class FakeTokenEmbedder(FakeEmbedder):
    """FakeEmbedder that also gives token vectors (one hashed term a token), for late interaction."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.token_texts_encoded = 0

    def encode_tokens(self, texts, *, question: bool = False, batch_size: int = 32, show_progress: bool = False,
                      dtype=np.float32):
        from index import tokenize

        self.token_texts_encoded += len(texts)
        out = []
        for terms in tokenize(list(texts)) if texts else []:
            vectors = np.zeros((len(terms), self.dimension), dtype=dtype)
            for row, term in enumerate(terms):
                vectors[row, int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dimension] = 1.0
            out.append(vectors)
        return out

    def encode_question(self, text: str):
        return self.encode([text])[0], self.encode_tokens([text], question=True)[0]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the repository's corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """A data folder whose index was built once, with the real model (through torch), from the
    real corpus, and the question path's models exported to ONNX beside it."""
    from assistant.models import export_question_models
    from assistant.service import ensure_index
    from index import get_embedder

    home = tmp_path_factory.mktemp("built-home")
    ensure_index(Settings(home=home, corpus=CORPUS), get_embedder())
    export_question_models(Settings(home=home, corpus=CORPUS))
    return home


@pytest.fixture
def settings(data_home, built_home, corpus_copy) -> Settings:
    """Settings for one test: its own data folder, holding a copy of the session's real index and
    (linked, read only) its exported models."""
    shutil.copytree(built_home / "index", data_home / "index")
    (data_home / "models").symlink_to(built_home / "models", target_is_directory=True)
    return Settings(home=data_home, corpus=corpus_copy)


@pytest.fixture(scope="session")
def assistant_real(built_home):
    from assistant.service import Assistant

    return Assistant.open(Settings(home=built_home, corpus=CORPUS))
