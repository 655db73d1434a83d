"""Fusion arithmetic, passage context, fixed-size chunking, and how answers read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.compose import NEAR_MISS, format_answer, lead_line
from assistant.records import Citation
from assistant.retrieval import fuse_rankings, fuse_scores
from index import IndexSettings, embedding_text
from ingest import Chunk, ChunkSettings, read_corpus
from tests.conftest import CORPUS, GUIDE, KMA


def test_reciprocal_rank_fusion_arithmetic():
    fused = fuse_rankings([[7, 3], [3, 9]], k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[7] == pytest.approx(1 / 61) and fused[9] == pytest.approx(1 / 62)


def test_convex_fusion_normalises_each_ranking_then_weighs_them():
    dense = [(1, 0.9), (2, 0.5), (3, 0.1)]  # min-max: 1.0, 0.5, 0.0
    keyword = [(3, 12.0), (4, 6.0), (1, 2.0)]  # min-max: 1.0, 0.4, 0.0
    fused = fuse_scores([dense, keyword], [0.7, 0.3])
    assert fused[1] == pytest.approx(0.7 * 1.0 + 0.3 * 0.0)
    assert fused[2] == pytest.approx(0.7 * 0.5)
    assert fused[3] == pytest.approx(0.7 * 0.0 + 0.3 * 1.0)
    assert fused[4] == pytest.approx(0.3 * 0.4)
    assert fuse_scores([[(5, 0.3)], []], [0.5, 0.5]) == {5: 0.5}  # a lone item counts as the best


def test_passage_context_puts_title_and_real_heading_before_the_text():
    chunk = Chunk("a:000", "a", "Signs › 3. Avoiding", 0, 5, "Body.", ((0, 5),))
    assert embedding_text(chunk, "Title", "title+section") == "Title\nSigns › 3. Avoiding\nBody."
    assert embedding_text(chunk, "Title", "section") == "Signs › 3. Avoiding\nBody."
    assert embedding_text(chunk, "Title", "none") == "Body."
    intro = replace(chunk, section="Introduction")
    assert embedding_text(intro, "Title", "title+section") == "Title\nBody."  # no made-up heading


def test_keyword_index_sees_the_heading(fake_embedder, corpus_copy):
    from index import build_index

    index, _ = build_index(corpus_copy, fake_embedder, settings=IndexSettings(context="section"))
    row = index.keyword_search("How do I know if we need therapy for this?", 1)[0][0]
    assert index.chunks[row].section == "How do I know if we need therapy for this?"


def test_fixed_windows_are_exact_slices_blind_to_structure():
    report = read_corpus(CORPUS, ChunkSettings(max_chars=300, strategy="fixed"))
    for item in report.files:
        text = item.article.text
        for chunk in item.chunks:
            assert text[chunk.start:chunk.end] == chunk.text and len(chunk.text) <= 300
            for start, end in chunk.sentences:
                assert chunk.start <= start < end <= chunk.end


def citation(n, article_id, title="T", publisher="P", quote="q."):
    return Citation(n=n, article_id=article_id, title=title, publisher=publisher, section="S", quote=quote,
                    start=0, end=len(quote), score=0.5)


def test_lead_line_counts_articles():
    assert lead_line([citation(1, KMA), citation(2, KMA)], 5) == "One of the five articles speaks to this."
    assert lead_line([citation(1, KMA), citation(2, GUIDE)], 5) == "Two of the five articles speak to this."
    assert lead_line([citation(1, KMA)], 1) == "The article speaks to this."
    assert lead_line([citation(1, KMA), citation(2, GUIDE)], 2) == "All two articles speak to this."


def test_answer_groups_quotes_under_their_article():
    text = format_answer([citation(1, KMA, "Kma", "KMA Therapy", "First."), citation(2, KMA, "Kma", "KMA Therapy",
                                                                                      "Second."),
                          citation(3, GUIDE, "Guide", "", "Third.")], 5)
    assert text.split("\n\n") == ["Two of the five articles speak to this.", "Kma (KMA Therapy):", "“First.” [1]",
                                  "“Second.” [2]", "Guide:", "“Third.” [3]"]


@pytest.mark.model
def test_quotes_are_numbered_in_reading_order_and_grouped(assistant_real):
    answer = assistant_real.ask("What are the signs that emotional intimacy is missing?")
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    order = [c.article_id for c in answer.citations]
    assert order == sorted(order, key=order.index)  # each article's quotes stand together
    assert answer.answer.startswith(("One of", "Two of", "Three of", "Four of", "All five"))


@pytest.mark.model
def test_a_near_miss_offers_the_closest_passage_and_counts_as_declined(assistant_real):
    search = assistant_real.index.settings.search
    original = assistant_real.index.settings
    try:
        # Widen the near-miss band so that an on-topic question falls inside it.
        assistant_real.index.settings = replace(original, search=replace(search, min_relevance=0.0,
                                                                          confident_relevance=1.01))
        answer = assistant_real.ask("Can emotional intimacy be rebuilt after betrayal?")
    finally:
        assistant_real.index.settings = original
    assert answer.abstained and answer.answer.startswith(NEAR_MISS)
    assert len(answer.citations) == 1 and answer.citations[0].n == 1
    assert "[1]" in answer.answer and answer.citations[0].quote in answer.answer
