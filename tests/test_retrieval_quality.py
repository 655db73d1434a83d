"""Fusion arithmetic, passage context, fixed-size chunking, and how answers read."""

from __future__ import annotations

import math
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


def test_phrase_score_counts_the_questions_word_pairs_weighted_by_rarity():
    from index.phrases import PhraseIndex, word_pairs

    # Stemmed, lower-cased, stop words kept, curly apostrophes read as straight ones.
    assert word_pairs("Sharing Words isn’t easy") == {("share", "word"), ("word", "isn"), ("isn", "t"),
                                                     ("t", "easi")}
    phrases = PhraseIndex(["it is not about perfection", "intimacy is about trust", "about trust and about time"])
    scores = phrases.scores("is it not about trust?", [0, 1, 2])
    # Pairs: (is, it) and (it, not) in no passage, (not, about) in passage 0 only, (about, trust)
    # in passages 1 and 2; the rarer pair weighs more.
    weight = lambda held: math.log(1 + 3 / (1 + held))  # noqa: E731
    total = 2 * weight(0) + weight(1) + weight(2)
    assert scores == pytest.approx([weight(1) / total, weight(2) / total, weight(2) / total])
    assert scores[0] > scores[1]
    assert phrases.scores("perfection", [0, 1]).tolist() == [0.0, 0.0]  # one word makes no pair
    assert phrases.scores("trust it", []).shape == (0,)


@pytest.mark.model
@pytest.mark.parametrize("question, words", [
    ("What is emotional intimacy not about?", "Emotional intimacy is not about perfection"),
    ("Where does reconnection begin?", "Reconnection begins with one conversation"),
])
def test_a_passage_saying_the_questions_very_words_comes_first(assistant_real, question, words):
    """Without phrase scores these passages rank second (own test set, q018 and q028; compared with
    late interaction off on both sides, which finds "begins" for "begin" on its own)."""
    # The mechanism at issue 4's weight (0.4); the defaults give phrases 0.2 since issue 13, where
    # the first of these questions ranks the definition passage first.
    original = assistant_real.index.settings
    search = replace(original.search, phrase_weight=0.4)
    try:
        assistant_real.index.settings = replace(original, search=search)
        top = assistant_real.ask(question).passages[0]
        assert words in top.text and top.phrase_score > 0
        assistant_real.index.settings = replace(original, search=replace(search, late_weight=0.0))
        with_phrases = assistant_real.ask(question).passages
        assistant_real.index.settings = replace(original, search=replace(search, late_weight=0.0, phrase_weight=0.0))
        without = assistant_real.ask(question).passages
    finally:
        assistant_real.index.settings = original
    assert words in with_phrases[0].text
    assert words not in without[0].text and without[0].phrase_score == 0.0


def test_a_thought_said_again_in_another_article_is_quoted_once(fake_embedder, tmp_path, monkeypatch):
    import assistant.compose as compose
    from assistant.service import Assistant
    from index import build_index

    corpus = tmp_path / "dupes"
    corpus.mkdir()
    said = "Gratitude spoken aloud each evening keeps partners close."
    again = "Each evening, gratitude spoken aloud keeps partners close."  # other words, same thought
    (corpus / "a.md").write_text(f"# Habits\n\n{said}\n\nWalks after dinner help too.\n", encoding="utf-8")
    (corpus / "b.md").write_text(f"# Rituals\n\n{again}\n\nJournals help some partners.\n", encoding="utf-8")
    index, _ = build_index(corpus, fake_embedder)
    assistant = Assistant(index, fake_embedder)
    question = "Does gratitude spoken aloud each evening keep partners close?"

    quotes = {c.quote for c in assistant.ask(question).citations}
    assert len(quotes & {said, again}) == 1

    monkeypatch.setattr(compose, "NEAR_DUPLICATE", 1.01)  # with the check off, both are quoted
    assert {c.quote for c in assistant.ask(question).citations} >= {said, again}
