"""A large corpus's layout (issue 17): approximate vector indexes, token codes, memory maps,
records read when asked for, hashed phrase counts; and that an index saved before it opens."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import FakeTokenEmbedder
from index import CorruptIndex, IndexSettings, build_index, load_index
from index.ann import AnnSettings, VectorIndex
from index.errors import BadIndexSetting
from index.phrases import HashedPhraseIndex, PhraseIndex
from index.table import LazyMapping, LazyRecords
from index.tokens import TokenSettings


def clustered(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Unit vectors around `clusters` centres: real embeddings are clumped, not uniform."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_search_finds_what_the_exact_scan_finds(kind):
    vectors = clustered(30_000, 64, 300, seed=1)
    queries = clustered(200, 64, 300, seed=2)
    settings = AnnSettings(kind=kind, pq_bytes=16)
    approximate = VectorIndex.build(vectors, settings)
    assert approximate.kind == kind and approximate.describe()["kind"] == kind
    exact = VectorIndex.build(vectors, AnnSettings(kind="exact"))
    recall = []
    for q in queries:
        truth, truth_scores = exact.search(q, 10)
        found, scores = approximate.search(q, 10)
        recall.append(len(set(truth) & set(found)) / 10)
        # What is returned is scored exactly, never by the codes.
        assert np.allclose(scores, vectors[found] @ q, atol=1e-5)
        assert list(scores) == sorted(scores, reverse=True)
    assert np.mean(recall) >= 0.95


def test_the_kind_is_chosen_by_size():
    settings = AnnSettings()
    assert settings.choose_kind(1_000) == "exact"
    assert settings.choose_kind(100_000) == "hnsw"
    assert settings.choose_kind(2_000_000) == "ivfpq"
    assert AnnSettings(kind="ivfpq").choose_kind(10) == "ivfpq"
    assert TokenSettings().choose_kind(10_000) == "float16" and TokenSettings().choose_kind(5_000_000) == "pq"


def layout(vectors="auto", tokens="auto") -> IndexSettings:
    settings = IndexSettings().with_layout(vectors, tokens)
    return IndexSettings(settings.chunking, settings.search, settings.context,
                         AnnSettings(kind=settings.ann.kind, pq_bytes=16),
                         TokenSettings(kind=settings.tokens.kind, code_bytes=16, train_sample=4096))


def test_an_approximate_index_ranks_as_the_exact_one_and_says_so(corpus_copy, tmp_path):
    embedder = FakeTokenEmbedder()
    exact, _ = build_index(corpus_copy, embedder, settings=layout("exact"))
    approximate, _ = build_index(corpus_copy, embedder, settings=layout("hnsw"))
    approximate.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["layout"]["passages"]["kind"] == "hnsw" and manifest["layout"]["sentences"]["kind"] == "hnsw"
    assert (tmp_path / "idx" / "passages.ann").exists()
    loaded = load_index(tmp_path / "idx", model_id=embedder.model_id, dimension=embedder.dimension)
    assert loaded.passage_index.kind == "hnsw"
    for question in ["rebuilt after betrayal", "phones at dinner", "how to be vulnerable with a partner",
                     "signs of emotional intimacy", "forgiveness and resentment"]:
        q = embedder.encode([question])[0]
        truth = exact.dense_search(q, 10)
        for index in (approximate, loaded):
            found = index.dense_search(q, 10)
            assert [r for r, _ in found[:5]] == [r for r, _ in truth[:5]]
            assert [s for _, s in found[:5]] == pytest.approx([s for _, s in truth[:5]], abs=1e-5)


def test_token_codes_keep_late_interaction_and_their_centroids_through_an_update(corpus_copy, tmp_path):
    embedder = FakeTokenEmbedder()
    plain, _ = build_index(corpus_copy, embedder, settings=layout(tokens="float16"))
    coded, _ = build_index(corpus_copy, embedder, settings=layout(tokens="pq"))
    assert coded.token_vectors.kind == "pq" and coded.token_vectors.bytes_per_token == 16
    assert plain.token_vectors.bytes_per_token == 2 * embedder.dimension
    rows = list(range(len(coded.chunks)))
    for question in ["rebuilt after betrayal", "phones at dinner", "vulnerable partner"]:
        q = embedder.encode_tokens([question], question=True)[0]
        exact, approx = plain.late_scores(q, rows), coded.late_scores(q, rows)
        assert np.corrcoef(exact, approx)[0, 1] > 0.9
        assert int(np.argmax(approx)) in set(np.argsort(-exact)[:3].tolist())
    coded.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "token_codes.npy").exists() and not (tmp_path / "idx" / "tokens.npy").exists()
    loaded = load_index(tmp_path / "idx", model_id=embedder.model_id, dimension=embedder.dimension)
    assert loaded.token_vectors.kind == "pq"
    assert np.array_equal(np.asarray(loaded.token_vectors.codes), coded.token_vectors.codes)
    # An update keeps the centroids, so an unchanged passage's codes are the same codes.
    (corpus_copy / "005_new.md").write_text("# Phones at Dinner\n\nPut the phones away at dinner.\n",
                                             encoding="utf-8")
    updated, report = build_index(corpus_copy, embedder, settings=layout(tokens="pq"), previous=loaded)
    assert report.embedded_chunks == 1
    old = {c.chunk_id: i for i, c in enumerate(loaded.chunks)}
    for row, chunk in enumerate(updated.chunks):
        if chunk.chunk_id in old:
            o = old[chunk.chunk_id]
            before = loaded.token_vectors.codes[loaded.token_offsets[o]:loaded.token_offsets[o + 1]]
            after = updated.token_vectors.codes[updated.token_offsets[row]:updated.token_offsets[row + 1]]
            assert np.array_equal(before, after)


def test_an_opened_index_maps_its_arrays_and_reads_records_when_asked(corpus_copy, tmp_path):
    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    index.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx", model_id=embedder.model_id, dimension=embedder.dimension)
    assert isinstance(loaded.chunk_vectors, np.memmap) and isinstance(loaded.sentence_vectors, np.memmap)
    assert isinstance(loaded.token_vectors.vectors, np.memmap)
    assert isinstance(loaded.chunks, LazyRecords) and isinstance(loaded.articles, LazyMapping)
    assert loaded.chunks._record.cache_info().currsize == 0  # nothing parsed by opening
    assert loaded.chunks[3] == index.chunks[3] and loaded.chunks[-1] == index.chunks[-1]
    assert list(loaded.articles) == list(index.articles)
    assert loaded.articles[index.chunks[0].article_id].text == index.articles[index.chunks[0].article_id].text
    assert (loaded.chunk_promotional == index.chunk_promotional).all()
    assert (loaded.sentence_promotional == index.sentence_promotional).all()
    article = index.chunks[0].article_id
    assert list(loaded.rows_of([article])) == [i for i, c in enumerate(index.chunks) if c.article_id == article]
    # Saved again from its maps (the manifest changed), it is the same index.
    loaded.save(tmp_path / "idx")
    again = load_index(tmp_path / "idx", model_id=embedder.model_id, dimension=embedder.dimension)
    assert again.chunks == index.chunks and np.array_equal(again.chunk_vectors, index.chunk_vectors)


def test_an_index_saved_before_the_layout_still_opens(corpus_copy, tmp_path):
    import faiss

    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    index.save(tmp_path / "idx")
    folder = tmp_path / "idx"
    # The layout of stop 25: vectors in chunks.faiss; no offsets, rows or layout.
    flat = faiss.IndexFlatIP(embedder.dimension)
    flat.add(np.asarray(index.chunk_vectors))
    faiss.write_index(flat, str(folder / "chunks.faiss"))
    for name in ("vectors.npy", "rows.npz", "chunks.offsets.npy", "articles.offsets.npy"):
        os.unlink(folder / name)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["layout"], manifest["settings"]["ann"], manifest["settings"]["tokens"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    loaded = load_index(folder, model_id=embedder.model_id, dimension=embedder.dimension)
    assert loaded.chunks == index.chunks and loaded.settings == index.settings
    q = embedder.encode(["rebuilt after betrayal"])[0]
    before, after = index.dense_search(q, 5), loaded.dense_search(q, 5)
    assert [r for r, _ in after] == [r for r, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])


def test_a_layout_setting_it_does_not_know_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("CLOSER_VECTOR_INDEX", "annoy")
    with pytest.raises(BadIndexSetting, match="not one of auto, exact, hnsw, ivfpq"):
        IndexSettings().with_layout_from_env()
    monkeypatch.setenv("CLOSER_VECTOR_INDEX", "IVFPQ")
    monkeypatch.setenv("CLOSER_TOKEN_STORAGE", "pq")
    settings = IndexSettings().with_layout_from_env()
    assert settings.ann.kind == "ivfpq" and settings.tokens.kind == "pq"


def test_hashed_phrase_counts_score_as_the_exact_ones(corpus_copy):
    from ingest import ChunkSettings, read_corpus

    texts = [c.text for item in read_corpus(corpus_copy, ChunkSettings()).files for c in item.chunks]
    exact = PhraseIndex(texts)
    counts, n = HashedPhraseIndex.count(texts)
    hashed = HashedPhraseIndex(counts, n, texts.__getitem__)
    rows = list(range(len(texts)))
    for question in ["What is emotional intimacy not about?", "Is it about more than just sharing words?",
                     "how do we rebuild trust after betrayal"]:
        assert hashed.scores(question, rows) == pytest.approx(exact.scores(question, rows), abs=1e-6)
    # Too few buckets over-count a pair's passages, which only lowers its weight.
    crowded = HashedPhraseIndex(HashedPhraseIndex.count(texts, buckets=64)[0], n, texts.__getitem__)
    assert (crowded.scores("more than just sharing words", rows) >= 0).all()


def test_a_truncated_record_file_is_reported_as_damage(corpus_copy, tmp_path, fake_embedder):
    index, _ = build_index(corpus_copy, fake_embedder)
    index.save(tmp_path / "idx")
    path = tmp_path / "idx" / "chunks.jsonl"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptIndex, match="rebuild"):
        load_index(tmp_path / "idx", model_id=fake_embedder.model_id, dimension=fake_embedder.dimension)


def test_rows_read_by_pread_are_the_arrays_rows(tmp_path):
    from index.table import RowFile

    array = np.random.default_rng(3).normal(size=(1000, 24)).astype(np.float32)
    np.save(tmp_path / "a.npy", array)
    rows = RowFile(tmp_path / "a.npy")
    assert len(rows) == 1000 and rows.shape == (1000, 24) and rows.dtype == np.float32
    assert np.array_equal(rows[7], array[7]) and np.array_equal(rows[-1], array[-1])
    assert np.array_equal(rows[10:20], array[10:20]) and np.array_equal(rows[990:2000], array[990:])
    picks = [500, 3, 4, 5, 500, 999, 0]  # unsorted, repeated, runs
    assert np.array_equal(rows[picks], array[picks])
    mask = np.zeros(1000, dtype=bool)
    mask[[1, 2, 800]] = True
    assert np.array_equal(rows[mask], array[mask])
    q = array[42]
    assert np.allclose(rows @ q, array @ q, atol=1e-5)
    assert np.array_equal(np.asarray(rows), array)
    with pytest.raises(IndexError):
        rows[[1000]]


def test_a_large_index_reads_its_arrays_by_row_and_answers_the_same(corpus_copy, tmp_path, monkeypatch):
    import index.table as table
    from index.table import RowFile

    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    index.save(tmp_path / "idx")
    monkeypatch.setattr(table, "LARGE_ARRAY", 1024)  # every array is "large"
    loaded = load_index(tmp_path / "idx", model_id=embedder.model_id, dimension=embedder.dimension)
    assert isinstance(loaded.chunk_vectors, RowFile) and isinstance(loaded.sentence_vectors, RowFile)
    assert isinstance(loaded.token_vectors.vectors, RowFile)
    for question in ["rebuilt after betrayal", "phones at dinner", "signs of emotional intimacy"]:
        q = embedder.encode([question])[0]
        tokens = embedder.encode_tokens([question], question=True)[0]
        before, after = index.dense_search(q, 10), loaded.dense_search(q, 10)
        assert [r for r, _ in after] == [r for r, _ in before]
        assert [s for _, s in after] == pytest.approx([s for _, s in before])
        rows = [r for r, _ in index.dense_search(q, 20)]
        assert np.allclose(loaded.late_scores(tokens, rows), index.late_scores(tokens, rows), atol=1e-6)
