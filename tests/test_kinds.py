"""Answers by kind, with the real model and corpus: a question naming an article is answered from
it only (or says it doesn't cover the topic and names those that do), a question across the
articles lists exactly the articles `lookup` finds, a summary goes through the sections in order,
and a follow-up keeps its subject. No advert is quoted in any of them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.conversation import Conversation, questions_of
from assistant.errors import BadRequest
from conftest import KMA

pytestmark = pytest.mark.model

REMAINLY, COACHING = "003_8433d8bc51077bda", "002_b322e63915a6628b"


def _no_adverts(assistant, answer):
    for c in answer.citations:
        article = assistant.article(c.article_id)
        assert c.quote == article.text[c.start:c.end]
        assert not any(s < c.end and c.start < e for s, e in article.promotional), c.quote


def test_a_question_naming_an_article_is_answered_from_it_only(assistant_real):
    answer = assistant_real.ask("What does the KMA Therapy article say about technology?")
    assert answer.kind == "article" and not answer.abstained
    assert {c.article_id for c in answer.citations} == {KMA}
    assert "Technology can be a double-edged sword" in answer.citations[0].quote
    assert "discovery call" not in answer.answer
    assert answer.answer.startswith("On “technology”, in “The Importance of Emotional Intimacy")
    _no_adverts(assistant_real, answer)


def test_an_article_that_does_not_cover_the_topic_says_so_and_names_those_that_do(assistant_real):
    answer = assistant_real.ask("Does the Remainly article say anything about technology?")
    assert answer.kind == "article" and answer.abstained and not answer.citations
    found = assistant_real.lookup("technology")
    covering = [a.article_id for a in found.articles if a.article_id != REMAINLY]
    assert answer.covered_by == covering and covering
    assert "doesn't say anything about “technology”" in answer.answer
    assert all(assistant_real.article(a).title in answer.answer for a in covering)


@pytest.mark.parametrize("question, topic", [("Which articles talk about betrayal?", "betrayal"),
                                             ("betrayal", "betrayal"),
                                             ("What do the articles say about quality time?", "quality time")])
def test_across_the_articles_the_count_and_the_articles_are_those_lookup_finds(assistant_real, question, topic):
    answer = assistant_real.ask(question)
    found = assistant_real.lookup(topic)
    assert answer.kind == "across" and not answer.abstained
    assert {c.article_id for c in answer.citations} == {a.article_id for a in found.articles}
    assert answer.answer.splitlines()[0] == found.lead  # one count, one code path
    assert found.lead.startswith(("Three of the five", "All five", "Two of the five", "Four of the five"))
    _no_adverts(assistant_real, answer)


def test_a_summary_gives_title_publisher_and_each_main_section_in_order(assistant_real):
    answer = assistant_real.ask("Summarize the Remainly article")
    article = assistant_real.article(REMAINLY)
    assert answer.kind == "summary" and not answer.abstained
    assert answer.answer.startswith(f"“{article.title}” ({article.publisher})")
    assert [c.start for c in answer.citations] == sorted(c.start for c in answer.citations)
    sections = [c.section for c in answer.citations]
    assert len(sections) == len(set(sections)) >= 5
    assert all(c.article_id == REMAINLY for c in answer.citations)
    _no_adverts(assistant_real, answer)


def test_a_follow_up_keeps_the_topic_for_another_article_and_more_gives_new_passages(assistant_real):
    chat = Conversation(assistant_real)
    first = chat.ask("How do couples rebuild trust after betrayal?")
    assert first.kind == "advice" and not first.abstained
    other = chat.ask("and what does the Remainly article say?")
    assert other.kind == "follow_up" and other.reading.article_id == REMAINLY
    assert other.answer.startswith("On “How do couples rebuild trust after betrayal?”, in “What is emotional")
    assert other.citations and all(c.article_id == REMAINLY for c in other.citations)
    more = chat.ask("tell me more")
    assert more.kind == "follow_up" and more.reading.article_id == REMAINLY
    said = {(c.article_id, c.start) for c in other.citations}
    assert more.citations and not said & {(c.article_id, c.start) for c in more.citations}


def test_an_article_named_earlier_stays_until_the_topic_changes(assistant_real):
    chat = Conversation(assistant_real)
    chat.ask("What does the KMA article say about betrayal?")
    tech = chat.ask("and about technology?")
    assert tech.reading.article_id == KMA and tech.reading.topic == "technology"
    assert "Technology can be a double-edged sword" in tech.citations[0].quote
    fresh = chat.ask("What are the signs that emotional intimacy is missing?")
    assert fresh.kind == "advice" and fresh.reading.article_id is None


def test_the_json_says_the_kind_the_filter_and_the_topic(assistant_real):
    record = assistant_real.ask("What does the KMA Therapy article say about technology?").to_dict()
    assert (record["kind"], record["article_filter"], record["topic"]) == ("article", KMA, "technology")
    assert record["reading"]["named"] == "the KMA Therapy article"
    assert assistant_real.ask("What is the capital of France?").to_dict()["kind"] == "declined"


def test_a_disclosure_in_a_follow_up_gets_the_notice_first(assistant_real):
    chat = Conversation(assistant_real)
    chat.ask("What does the KMA article say about betrayal?")
    answer = chat.ask("what does it say about my husband hitting me when he is angry?")
    assert answer.safety is not None and answer.answer.startswith(answer.safety.message)


def test_history_from_a_program_is_read_as_questions():
    assert questions_of(["a?", {"question": "b?"}, {"role": "user", "content": "c?"},
                         {"role": "assistant", "content": "x"}]) == ["a?", "b?", "c?"]
    with pytest.raises(BadRequest, match="history must be a list"):
        questions_of("just a string")
    with pytest.raises(BadRequest, match="each item of history"):
        questions_of([3])


def test_closer_chat_reads_follow_ups_in_the_terminal(settings):
    result = CliRunner().invoke(cli, ["chat", "--json"], input="Which articles talk about betrayal?\n"
                                                             "and in the coaching blog?\n\n",
                                env={"CLOSER_HOME": str(settings.home), "CLOSER_CORPUS": str(settings.corpus)})
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert first["kind"] == "across"
    assert second["kind"] == "follow_up" and second["article_filter"] == COACHING
    assert second["abstained"] and set(second["covered_by"]) == set(first["covered_by"])
