"""Answers and look-ups on the real corpus with the real bundled model."""

from __future__ import annotations

import pytest

from assistant.errors import EmptyQuestion, UnknownArticle
from tests.conftest import COACHING, GUIDE, KMA, RELATIONSHIP_BLOG, REMAINLY

pytestmark = pytest.mark.model


def assert_exact(assistant, answer):
    for citation in answer.citations:
        article = assistant.article(citation.article_id)
        assert article.text[citation.start:citation.end] == citation.quote
        assert citation.title == article.title and citation.publisher == article.publisher
        assert f"[{citation.n}]" in answer.answer and citation.quote in answer.answer
    for hit in answer.passages:
        assert assistant.article(hit.article_id).text[hit.start:hit.end] == hit.text


@pytest.mark.parametrize("question, articles, phrase", [
    ("Can emotional intimacy be rebuilt after betrayal?", {KMA}, "rebuilding emotional intimacy after betrayal is possible"),
    ("Is technology harming our emotional connection?", {KMA}, "Technology can be a double-edged sword"),
    ("What are the signs that emotional intimacy is missing?", {GUIDE, KMA, RELATIONSHIP_BLOG, COACHING}, "sign"),
    ("How can I listen better to my partner?", {GUIDE, COACHING, RELATIONSHIP_BLOG}, "listen"),
    ("What did the Gottman Institute discover about couples?", {COACHING}, "Gottman Institute"),
])
def test_answers_quote_the_right_article_exactly(assistant_real, question, articles, phrase):
    answer = assistant_real.ask(question)
    assert not answer.abstained
    assert answer.citations, question
    assert answer.citations[0].article_id in articles
    assert any(phrase.lower() in c.quote.lower() for c in answer.citations)
    assert_exact(assistant_real, answer)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len({c.quote for c in answer.citations}) == len(answer.citations)


@pytest.mark.parametrize("question", ["What is the capital of France?", "Give me a recipe for pizza dough."])
def test_off_topic_questions_are_declined(assistant_real, question):
    answer = assistant_real.ask(question)
    assert answer.abstained
    assert answer.citations == []
    assert answer.answer == "The articles don't cover this."
    assert answer.relevance < assistant_real.index.settings.search.min_relevance


def test_a_list_item_is_quoted_with_its_lead_in_and_the_rest_of_the_list(assistant_real):
    answer = assistant_real.ask("How do you repair emotional injuries in a relationship?")
    quote = next(c.quote for c in answer.citations if "Allowing space for the hurt partner" in c.quote)
    assert "Repair begins with:\n\n• Taking responsibility" in quote
    assert "Taking responsibility for harm caused" in quote and "Seeking professional support when needed" in quote
    assert_exact(assistant_real, answer)


def test_an_article_filter_keeps_every_passage_and_quote_in_that_article(assistant_real):
    answer = assistant_real.ask("How do couples rebuild trust?", article_id=GUIDE)
    assert answer.passages and all(p.article_id == GUIDE for p in answer.passages)
    assert all(c.article_id == GUIDE for c in answer.citations)


def test_passages_explain_their_rank(assistant_real):
    answer = assistant_real.ask("Can emotional intimacy be rebuilt after betrayal?", k=3)
    assert [p.rank for p in answer.passages] == [1, 2, 3]
    assert answer.passages[0].score >= answer.passages[1].score >= answer.passages[2].score
    top = answer.passages[0]
    assert top.dense_rank == 1 and top.keyword_rank is not None and top.keyword_score > 0


def test_lookup_finds_betrayal_in_the_kma_article_in_article_order(assistant_real):
    result = assistant_real.lookup("betrayal", article_id=KMA)
    assert [a.article_id for a in result.articles] == [KMA]
    mentions = result.articles[0].mentions
    assert any("after betrayal is possible" in m.quote for m in mentions)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    text = assistant_real.article(KMA).text
    assert all(text[m.start:m.end] == m.quote for m in mentions)


def test_lookup_across_articles_says_which_do_not_cover_the_topic(assistant_real):
    result = assistant_real.lookup("technology")
    covered = {a.article_id for a in result.articles}
    assert KMA in covered
    assert set(result.not_covered) == set(assistant_real.article_ids) - covered
    assert REMAINLY in result.not_covered
    kma = next(a for a in result.articles if a.article_id == KMA)
    assert all(m.section for m in kma.mentions)
    assert any("Technology" in m.section for m in kma.mentions)


def test_bad_requests_raise_specific_errors(assistant_real):
    with pytest.raises(EmptyQuestion):
        assistant_real.ask("   ")
    with pytest.raises(UnknownArticle) as err:
        assistant_real.ask("betrayal?", article_id="nope")
    assert KMA in str(err.value) and "nope" in str(err.value)


def test_a_near_miss_names_the_sections_the_articles_have_near_the_question(assistant_real):
    from assistant.compose import NEARBY

    answer = assistant_real.ask("How much does a couples therapy session cost?")
    assert answer.abstained and answer.nearby
    assert all(n.article_id in assistant_real.article_ids for n in answer.nearby)
    assert any("therapy" in n.section.lower() for n in answer.nearby)
    assert NEARBY in answer.answer and answer.nearby[0].section in answer.answer
    record = answer.to_dict()
    assert record["nearby"][0]["section"] == answer.nearby[0].section
    # A question far from every article is declined plainly, without sections that share nothing.
    far = assistant_real.ask("What is the boiling point of water at sea level?")
    assert far.abstained and far.nearby == [] and NEARBY not in far.answer
