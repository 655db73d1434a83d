"""The query adapter: it loads, it is what was trained on the data in the repository, it is used
only with the model it was trained for, and a damaged one is refused with how to rebuild it."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from assistant.adapter import AdapterError, QueryAdapter
from assistant.adapter.model import MATRIX_PATH, META_PATH
from assistant.adapter.train import DATA
from assistant.service import Assistant
from assistant.settings import Settings
from conftest import CORPUS


def test_the_adapter_record_names_the_data_it_was_trained_on():
    adapter = QueryAdapter.load()
    assert adapter.meta["trained_on"]["sha256"] == hashlib.sha256(DATA.read_bytes()).hexdigest(), \
        "the training questions changed: rebuild with `python -m assistant.adapter.train`"
    assert adapter.matrix.shape == (384, 384)
    assert MATRIX_PATH.stat().st_size < 2 * 1024 * 1024


def test_applying_it_keeps_a_unit_vector_and_moves_it():
    adapter = QueryAdapter.load()
    v = np.random.default_rng(0).normal(size=384).astype(np.float32)
    v /= np.linalg.norm(v)
    out = adapter.apply(v)
    assert abs(float(np.linalg.norm(out)) - 1.0) < 1e-5
    assert float(out @ v) < 0.9999


def test_a_damaged_or_missing_adapter_is_refused_with_how_to_rebuild(tmp_path):
    with pytest.raises(AdapterError, match="python -m assistant.adapter.train"):
        QueryAdapter.load(meta_path=tmp_path / "missing.json")
    bad = tmp_path / "adapter.npy"
    bad.write_bytes(b"not numpy")
    with pytest.raises(AdapterError, match="python -m assistant.adapter.train"):
        QueryAdapter.load(meta_path=META_PATH, matrix_path=bad)
    np.save(tmp_path / "flat.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(AdapterError, match="not square"):
        QueryAdapter.load(meta_path=META_PATH, matrix_path=tmp_path / "flat.npy")


def test_with_another_model_the_adapter_is_left_out(tmp_path, fake_embedder):
    assistant = Assistant.open(Settings(home=tmp_path / "home", corpus=CORPUS), embedder=fake_embedder)
    settings = assistant.index.settings
    assistant.index.settings = replace(settings, search=replace(settings.search, query_adapter=True))
    assert assistant.adapter is None
    raw = fake_embedder.encode(["he just shuts down"])[0]
    assert np.allclose(assistant.search_vector("he just shuts down", raw), raw, atol=1e-6)


@pytest.mark.model
def test_the_stored_adapter_gives_its_recorded_probe():
    from index import get_embedder

    adapter = QueryAdapter.load()
    probe = adapter.meta["probe"]
    out = adapter.apply(get_embedder().encode([probe["question"]])[0])
    assert np.allclose(out[:8], probe["vector_head"], atol=2e-4)
