"""Ratings: stored in HOME/feedback.sqlite, exported as test-set lines the evaluation can hold."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.evaluation import load_testset, run_evaluation
from assistant.feedback import FeedbackStore
from tests.conftest import KMA

ANSWER = {"question": "Can intimacy be rebuilt after betrayal?", "abstained": False, "answer": "…",
          "citations": [{"n": 1, "article_id": KMA, "title": "t", "publisher": "p", "section": "s",
                         "quote": "Yes, rebuilding emotional intimacy after betrayal is possible.", "start": 5,
                         "end": 66, "score": 0.8, "url": None}]}
DECLINED = {"question": "What does therapy cost?", "abstained": True, "answer": "The articles don't cover this.",
            "citations": []}


def test_ratings_are_stored_with_question_answer_citations_and_time(data_home):
    store = FeedbackStore(data_home / "feedback.sqlite")
    first = store.add(ANSWER["question"], ANSWER, "down", article_filter=KMA)
    store.comment(first, "  wrong passage ")
    store.add(DECLINED["question"], DECLINED, "up")
    records = store.records()
    assert [r.verdict for r in records] == ["down", "up"]
    assert records[0].comment == "wrong passage" and records[0].article_filter == KMA
    assert records[0].citations[0]["quote"] == ANSWER["citations"][0]["quote"] and records[0].time > 0
    assert records[1].abstained and store.records("up") == records[1:]
    with pytest.raises(ValueError):
        store.add("q", ANSWER, "meh")


def test_export_turns_each_rating_into_a_case_the_gate_can_hold(data_home):
    store = FeedbackStore(data_home / "feedback.sqlite")
    store.add(ANSWER["question"], ANSWER, "up")
    store.add(ANSWER["question"], ANSWER, "down")
    store.add(DECLINED["question"], DECLINED, "up")
    store.add(DECLINED["question"], DECLINED, "down")
    up, down, declined_up, declined_down = [json.loads(line) for line in store.export_lines()]
    quote = ANSWER["citations"][0]["quote"]
    assert up["answerable"] and up["expected_quotes"] == [quote] and up["expected_articles"] == [KMA]
    assert down["rejected_quotes"] == [quote] and "expected_quotes" not in down
    assert declined_up["answerable"] is False
    assert declined_down["answerable"] is True and "expected_quotes" not in declined_down


def test_feedback_export_command_writes_a_loadable_test_set(data_home, tmp_path):
    store = FeedbackStore(data_home / "feedback.sqlite")
    store.add(ANSWER["question"], ANSWER, "down")
    store.add(DECLINED["question"], DECLINED, "up")
    out = tmp_path / "ratings.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "-o", str(out), "--home", str(data_home)])
    assert result.exit_code == 0 and "Exported 2 ratings" in result.output
    cases = load_testset(out).cases
    assert [c.id for c in cases] == ["feedback-1", "feedback-2"]
    assert cases[0].rejected_quotes == (ANSWER["citations"][0]["quote"],) and not cases[1].answerable
    only_down = CliRunner().invoke(cli, ["feedback", "export", "--verdict", "down", "--home", str(data_home)])
    assert only_down.stdout.count("\n") == 1 and "feedback-1" in only_down.stdout


@pytest.mark.model
def test_a_thumbs_down_fails_while_the_same_answer_is_given(assistant_real, data_home, tmp_path):
    """Exported ratings evaluated: the rejected answer fails its case, the liked one passes, and a
    case without expected passages is left out of the retrieval metrics."""
    store = FeedbackStore(data_home / "feedback.sqlite")
    question = "Can emotional intimacy be rebuilt after betrayal?"
    given = assistant_real.ask(question).to_dict()
    store.add(question, given, "up")
    store.add(question, given, "down")
    path = tmp_path / "ratings.jsonl"
    path.write_text("\n".join(store.export_lines()) + "\n", encoding="utf-8")
    result = run_evaluation(assistant_real, load_testset(path))
    liked, disliked = result.rows
    assert liked["pass"] and liked["quote_hit@1"] == 1.0
    assert not disliked["pass"] and disliked["rejected_cited"] and "hit@1" not in disliked
    assert result.metrics["hit@1"] == 1.0  # judged on the liked case alone
