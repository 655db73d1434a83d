"""Late interaction: MaxSim arithmetic, token vectors kept in the index, and what retrieval does with them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assistant.retrieval import retrieve
from assistant.service import Assistant, ensure_index
from assistant.settings import Settings
from index import IndexSettings, build_index, load_index
from index.late import maxsim, question_stop_words, token_matrix
from tests.conftest import FakeEmbedder, FakeTokenEmbedder


def test_maxsim_averages_each_query_tokens_best_match():
    q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    tokens, offsets = token_matrix([np.array([[1.0, 0.0], [0.6, 0.8]]), np.zeros((0, 2)), np.array([[0.0, 1.0]])], 2)
    assert list(offsets) == [0, 2, 2, 3] and tokens.dtype == np.float16
    scores = maxsim(q, tokens.astype(np.float32), offsets, np.array([0, 1, 2]))
    assert scores.tolist() == pytest.approx([(1.0 + 0.8) / 2, 0.0, (0.0 + 1.0) / 2], abs=1e-3)  # float16
    reordered = maxsim(q, tokens.astype(np.float32), offsets, np.array([2, 0]))
    assert reordered.tolist() == pytest.approx([0.5, 0.9], abs=1e-3)
    # a few passages of many: their tokens are gathered first (the other way to the same scores)
    assert maxsim(q, tokens.astype(np.float32), offsets, np.array([2])).tolist() == pytest.approx([0.5], abs=1e-3)


def test_question_stop_words_keep_negations():
    stop = question_stop_words()
    assert {"what", "is", "the", "how", "my", "about"} <= stop
    assert not {"not", "no", "don", "doesn"} & stop


def test_token_vectors_are_kept_saved_and_reused(corpus_copy, tmp_path):
    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    assert index.has_token_vectors and len(index.token_offsets) == len(index.chunks) + 1
    assert embedder.token_texts_encoded == len(index.chunks)
    index.save(tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["token_vectors"] is True and manifest["settings"]["search"]["late_weight"] > 0
    loaded = load_index(tmp_path / "index", model_id=embedder.model_id, dimension=embedder.dimension)
    assert np.allclose(loaded.token_vectors, index.token_vectors, atol=1e-3)  # float16 on disk

    changed = sorted(corpus_copy.glob("*.md")) + sorted(corpus_copy.glob("*.txt")) + sorted(corpus_copy.glob("*.html"))
    changed[0].write_text(changed[0].read_text(encoding="utf-8") + "\n\nOne more closing line.\n", encoding="utf-8")
    again = FakeTokenEmbedder()
    updated, report = build_index(corpus_copy, again, previous=loaded)
    assert 0 < again.token_texts_encoded < len(updated.chunks)  # only the changed file's passages
    assert again.token_texts_encoded == report.embedded_chunks


def test_late_interaction_off_keeps_no_token_vectors(corpus_copy):
    settings = IndexSettings()
    settings = replace(settings, search=replace(settings.search, late_weight=0.0))
    index, _ = build_index(corpus_copy, FakeTokenEmbedder(), settings=settings)
    assert not index.has_token_vectors
    index, _ = build_index(corpus_copy, FakeEmbedder())  # an embedder without token vectors
    assert not index.has_token_vectors


def test_an_index_from_before_late_interaction_gains_its_token_vectors(corpus_copy, tmp_path):
    settings = Settings(home=tmp_path / "home", corpus=corpus_copy)
    ensure_index(settings, FakeEmbedder())  # built without token vectors
    embedder = FakeTokenEmbedder()
    index, status = ensure_index(settings, embedder)
    assert status.action == "updated" and index.has_token_vectors
    assert embedder.texts_encoded == 0 and embedder.token_texts_encoded == len(index.chunks)  # vectors reused
    assert ensure_index(settings, embedder)[1].action == "loaded"


def test_retrieval_fuses_the_late_ranking_and_says_so(corpus_copy):
    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    question = "Can emotional intimacy be rebuilt after betrayal?"
    vector, tokens = embedder.encode_question(question)
    hits = retrieve(index, vector, question, k=5, query_tokens=tokens)
    assert all(h.late_rank is not None for h in hits) and hits[0].late_score > 0
    by_rank = sorted(hits, key=lambda h: h.late_rank)
    assert [h.late_score for h in by_rank] == sorted((h.late_score for h in hits), reverse=True)
    assert "late_rank" in hits[0].to_dict() and "late_score" in hits[0].to_dict()
    plain = retrieve(index, vector, question, k=5)  # no question tokens: two rankings, as before
    assert all(h.late_rank is None and h.late_score == 0.0 for h in plain)
    assistant = Assistant(index, embedder)
    assert all(p.late_rank is not None for p in assistant.ask(question).passages)


def test_fused_score_gives_late_weight_its_share(corpus_copy):
    embedder = FakeTokenEmbedder()
    index, _ = build_index(corpus_copy, embedder)
    search = replace(index.settings.search, phrase_weight=0.0, late_weight=1.0)  # the late ranking alone
    index.settings = replace(index.settings, search=search)
    question = "How can technology harm our connection?"
    vector, tokens = embedder.encode_question(question)
    hits = retrieve(index, vector, question, k=len(index.chunks), query_tokens=tokens)
    assert [h.late_score for h in hits] == sorted((h.late_score for h in hits), reverse=True)
    assert hits[0].score == pytest.approx(1.0)  # min-max normalised, whole weight
    low, high = min(h.late_score for h in hits), max(h.late_score for h in hits)
    assert low < high


@pytest.mark.model
def test_paraphrases_reach_the_top_five_with_late_interaction(assistant_real):
    """Questions in other words than the articles' (from the built-in test set) that the dense and
    keyword rankings alone leave out of the first five."""
    cases = {"isn't seeing a couples counsellor basically admitting we've failed?": "Therapy is not a sign of failure",
             "sex has started to feel like a chore": "feel like an obligation instead of a bonding moment"}
    # At issue 4's fusion (dense 0.5, sentence 1.0, phrase 0.4), where it was measured; the
    # dense-heavier defaults of issue 13 find the first of these without late interaction too.
    index = assistant_real.index
    original = index.settings
    search = replace(original.search, dense_weight=0.5, sentence_weight=1.0, phrase_weight=0.4)
    try:
        for question, phrase in cases.items():
            index.settings = replace(original, search=search)
            vector, tokens = assistant_real.embed_question(question)
            assert tokens is not None and len(tokens) < len(question.split()) + 4  # stop words left out
            with_late = retrieve(index, vector, question, k=5, query_tokens=tokens)
            assert any(phrase in h.text for h in with_late), question
            index.settings = replace(original, search=replace(search, late_weight=0.0))
            without = retrieve(index, vector, question, k=5)
            assert not any(phrase in h.text for h in without), question
    finally:
        index.settings = original


@pytest.mark.model
def test_token_vectors_are_the_same_when_encoded_a_slice_at_a_time(monkeypatch, assistant_real):
    from index import embedders

    texts = ["Trust is rebuilt slowly.", "Couples who talk daily feel closer to each other over the years.",
             "Vulnerability", "Shared rituals, like a weekly walk, keep partners connected."]
    embedder = assistant_real.embedder
    whole = embedder.encode_tokens(texts)
    monkeypatch.setattr(embedders, "TOKEN_SLICE", 3)  # two slices: 3 texts, then 1
    sliced = embedder.encode_tokens(texts)
    assert [len(t) for t in sliced] == [len(t) for t in whole] and len(whole[1]) > len(whole[2])
    for a, b in zip(whole, sliced):
        np.testing.assert_allclose(a, b, atol=1e-4)
