"""The index directory: save -> load -> search, manifest checks, incremental rebuilds."""

from __future__ import annotations

import json

import pytest

from index import (FORMAT_VERSION, CachedEmbedder, CorruptIndex, IncompatibleIndex, IndexNotFound, build_index, corpus_state,
                   indexed_state, load_index)
from tests.conftest import FakeEmbedder


@pytest.fixture
def built(corpus_copy, fake_embedder):
    index, report = build_index(corpus_copy, fake_embedder)
    return index, report


def test_save_load_search_gives_the_same_top_hits(built, tmp_path, fake_embedder):
    index, _ = built
    index.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx", model_id=fake_embedder.model_id, dimension=fake_embedder.dimension)
    query = fake_embedder.encode(["rebuilt after betrayal"])[0]
    before, after = index.dense_search(query, 5), loaded.dense_search(query, 5)
    assert [r for r, _ in before] == [r for r, _ in after]
    assert [s for _, s in before] == pytest.approx([s for _, s in after])
    assert index.keyword_search("betrayal", 5) == loaded.keyword_search("betrayal", 5)
    top = loaded.chunks[loaded.keyword_search("betrayal", 1)[0][0]]
    assert "betrayal" in top.text.lower()
    assert loaded.chunks == index.chunks
    assert {a: x.text for a, x in loaded.articles.items()} == {a: x.text for a, x in index.articles.items()}


def test_manifest_describes_the_index(built, tmp_path):
    index, _ = built
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == {"id": "test/fake-hashing", "dimension": 64, "normalized": True}
    assert manifest["settings"]["chunking"]["max_chars"] > 0
    assert manifest["counts"]["articles"] == 5
    assert manifest["counts"]["chunks"] == sum(1 for _ in open(tmp_path / "idx" / "chunks.jsonl"))
    assert {"faiss-cpu", "bm25s", "sentence-transformers"} <= set(manifest["libraries"])
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
    assert "built_at" in manifest


@pytest.mark.parametrize("model_id, dimension, message", [
    ("sentence-transformers/other-model", 64, "built with the model 'test/fake-hashing'"),
    ("test/fake-hashing", 384, "64-dimensional vectors"),
])
def test_an_index_of_another_model_or_dimension_is_refused_with_how_to_rebuild(built, tmp_path, model_id,
                                                                               dimension, message):
    index, _ = built
    index.save(tmp_path / "idx")
    with pytest.raises(IncompatibleIndex, match=message) as err:
        load_index(tmp_path / "idx", model_id=model_id, dimension=dimension)
    assert "closer ingest --rebuild" in str(err.value)


def test_an_index_of_another_format_version_is_refused(built, tmp_path, fake_embedder):
    index, _ = built
    index.save(tmp_path / "idx")
    path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleIndex, match="format version"):
        load_index(tmp_path / "idx", model_id=fake_embedder.model_id, dimension=fake_embedder.dimension)


@pytest.mark.parametrize("part", ["vectors.npy", "sentences.npy", "chunks.jsonl"])
def test_missing_and_damaged_indexes_are_told_apart(built, tmp_path, fake_embedder, part):
    with pytest.raises(IndexNotFound):
        load_index(tmp_path / "nothing", model_id=fake_embedder.model_id, dimension=64)
    index, _ = built
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / part).unlink()
    with pytest.raises(CorruptIndex, match="rebuild"):
        load_index(tmp_path / "idx", model_id=fake_embedder.model_id, dimension=64)


def test_rebuild_reuses_vectors_of_unchanged_files(corpus_copy, built):
    index, _ = built
    (corpus_copy / "005_new.md").write_text("# Phones at Dinner\n\nPut the phones away at dinner.\n",
                                             encoding="utf-8")
    counting = FakeEmbedder()
    updated, report = build_index(corpus_copy, counting, previous=index)
    assert report.embedded_chunks == 1
    assert report.reused_chunks == len(index.chunks)
    assert len(report.reused_files) == 5
    assert "005_new" in updated.articles
    assert indexed_state(updated) == corpus_state(corpus_copy)
    # Reused vectors are the same vectors.
    row = next(i for i, c in enumerate(updated.chunks) if c.chunk_id == index.chunks[0].chunk_id)
    assert (updated.chunk_vectors[row] == index.chunk_vectors[0]).all()


def test_an_unreadable_file_is_skipped_and_the_rest_indexed(corpus_copy, fake_embedder):
    (corpus_copy / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    (corpus_copy / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    index, report = build_index(corpus_copy, fake_embedder)
    assert len(index.articles) == 5
    reasons = {s.path: s.reason for s in report.corpus.skipped}
    assert set(reasons) == {"broken.pdf", "photo.txt"}
    assert "not a readable PDF" in reasons["broken.pdf"] and "binary" in reasons["photo.txt"]
    # Skipped files are recorded, so an unchanged folder is not re-read on every question.
    assert indexed_state(index) == corpus_state(corpus_copy)


def test_article_filter_limits_both_rankings(built, fake_embedder):
    index, _ = built
    only = "002_b322e63915a6628b"
    query = fake_embedder.encode(["touch and affection"])[0]
    for row, _ in index.dense_search(query, 10, [only]) + index.keyword_search("touch affection", 10, [only]):
        assert index.chunks[row].article_id == only


def test_an_index_from_another_ingest_version_is_rebuilt_without_reusing_vectors(corpus_copy, built):
    from index import IndexSettings, is_current

    index, _ = built
    assert is_current(index, corpus_copy, IndexSettings())
    index.ingest_version = -1  # as if made by a version of ingest that cut text differently
    assert not is_current(index, corpus_copy, IndexSettings())
    counting = FakeEmbedder()
    _, report = build_index(corpus_copy, counting, previous=index)
    assert report.reused_chunks == 0 and report.embedded_chunks == len(index.chunks)


def test_embedding_cache_encodes_each_text_once_per_model(tmp_path):
    inner = FakeEmbedder()
    cached_embedder = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    first = cached_embedder.encode(["a cat", "a dog", "a cat"])
    assert inner.texts_encoded == 2  # the repeated text is encoded once
    again = CachedEmbedder(FakeEmbedder(), tmp_path / "cache.sqlite")  # a new process, same file
    second = again.encode(["a dog", "a cat"])
    assert again.embedder.texts_encoded == 0 and again.hits == 2
    assert (second == first[[1, 0]]).all()
    other_model = CachedEmbedder(FakeEmbedder(model_id="test/other"), tmp_path / "cache.sqlite")
    other_model.encode(["a cat"])
    assert other_model.embedder.texts_encoded == 1  # keyed by model as well as text


def test_retrieval_only_index_saves_and_loads_without_sentence_vectors(corpus_copy, tmp_path, fake_embedder):
    from index import index_documents
    from ingest import read_corpus

    index, _ = index_documents(read_corpus(corpus_copy), fake_embedder, embed_sentences=False)
    assert not index.has_sentence_vectors and fake_embedder.calls == 1
    index.save(tmp_path / "idx")
    assert not (tmp_path / "idx" / "sentences.npy").exists()
    loaded = load_index(tmp_path / "idx", model_id=fake_embedder.model_id, dimension=fake_embedder.dimension)
    assert not loaded.has_sentence_vectors and len(loaded.chunks) == len(index.chunks)


def test_a_passage_is_scored_by_its_best_sentence_as_well_as_by_itself(built, fake_embedder):
    """sentence_weight 1: a passage's dense score is the better of its own cosine and its best
    sentence's; 0: its own cosine, as FAISS gives it; in between (the default 0.5), that share of
    the way from the one to the other. Checked against a direct computation."""
    from dataclasses import replace

    import numpy as np

    from index import SearchSettings

    index, _ = built
    default = index.settings
    index.settings = replace(default, search=replace(default.search, sentence_weight=1.0))
    query = fake_embedder.encode(["rebuilding emotional intimacy after betrayal is possible"])[0]
    own = index.chunk_vectors @ query
    best_sentence = np.array([max((index.sentence_vectors[list(index.sentence_rows(r))] @ query).tolist(),
                                  default=-1.0) for r in range(len(index.chunks))])
    scores = index.passage_similarities(query)
    assert np.allclose(scores, np.maximum(own, best_sentence), atol=1e-6)
    rows = np.array([5, 2, 40])  # any rows, in any order
    assert np.allclose(index.passage_similarities(query, rows), scores[rows], atol=1e-6)
    top_row, top_score = index.dense_search(query, 1)[0]
    assert top_row == int(np.argmax(scores)) and abs(top_score - scores.max()) < 1e-6
    index.settings = replace(index.settings, search=replace(index.settings.search, sentence_weight=0.0))
    assert np.allclose(index.passage_similarities(query), own, atol=1e-6)
    assert [r for r, _ in index.dense_search(query, 5)] == [int(r) for r in np.argsort(-own, kind="stable")[:5]]
    index.settings = default
    assert SearchSettings().sentence_weight == 0.5
    assert np.allclose(index.passage_similarities(query), own + 0.5 * (np.maximum(own, best_sentence) - own),
                       atol=1e-6)


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_phrase_scores_add_a_share_of_the_best_fused_score(built, fake_embedder, fusion):
    """The final score is the fusion of the two rankings plus phrase_weight x phrase score x the
    best fused score a passage can have (1 for convex fusion, 2 / (k + 1) for RRF)."""
    from dataclasses import replace

    from assistant.retrieval import fuse_rankings, fuse_scores, retrieve

    index, _ = built
    index.settings = replace(index.settings, search=replace(index.settings.search, fusion=fusion))
    question = "Can emotional intimacy be rebuilt after betrayal?"
    query = fake_embedder.encode([question])[0]
    search = index.settings.search
    dense = index.dense_search(query, search.candidates)
    keyword = index.keyword_search(question, search.candidates)
    if fusion == "convex":
        fused, best = fuse_scores([dense, keyword], [search.dense_weight, 1 - search.dense_weight]), 1.0
    else:
        fused, best = fuse_rankings([[r for r, _ in dense], [r for r, _ in keyword]], k=search.rrf_k), 2 / 61
    hits = retrieve(index, query, question, k=10)
    assert any(h.phrase_score > 0 for h in hits)
    for hit in hits:
        assert hit.score == pytest.approx(fused[hit.row] + search.phrase_weight * best * hit.phrase_score)
    phrases = index.phrases.scores(question, [h.row for h in hits])
    assert [h.phrase_score for h in hits] == pytest.approx(phrases.tolist())
