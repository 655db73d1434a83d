"""Questions that ask for an amount are answered only by quotes that state one."""

from __future__ import annotations

import pytest

from assistant.amounts import asks_for_amount, states_amount
from assistant.compose import NEAR_MISS
from assistant.evaluation.calibration import choose, operating_points


@pytest.mark.parametrize("question, asks", [
    ("How much does a couples therapy session cost?", True),
    ("How many minutes a day should we spend talking?", True),
    ("How long does it take to rebuild trust?", True),
    ("How often should couples have a date night?", True),
    ("What percentage of couples go to therapy?", True),
    ("How much should I share with my partner?", False),  # a degree, not an amount
    ("What does it mean when a couple feels out of sync?", False),
    ("Can emotional intimacy be rebuilt after betrayal?", False),
])
def test_a_question_asking_for_an_amount_is_told_apart(question, asks):
    assert asks_for_amount(question) is asks


@pytest.mark.parametrize("text, states", [
    ("brings over 20 years of experience", True),
    ("Spend five minutes discussing what made you smile", True),
    ("Plan a date night weekly.", True),
    ("Therapy provides a safe space to address challenges.", False),
    ("Someone who listens without judgement.", False),  # "one" inside a word is not a number
])
def test_a_sentence_stating_an_amount_is_told_apart(text, states):
    assert states_amount(text) is states


@pytest.mark.model
def test_an_amount_no_quote_states_gets_the_closest_passage_only(assistant_real):
    answer = assistant_real.ask("How much does a couples therapy session cost?")
    assert answer.abstained and answer.missing_amount and answer.answer.startswith(NEAR_MISS)
    assert len(answer.citations) == 1 and "therapy" in answer.citations[0].quote.lower()
    assert "missing_amount" not in answer.to_dict()  # the JSON record keeps its shape


@pytest.mark.model
def test_an_amount_question_is_answered_by_the_sentence_stating_it(assistant_real):
    answer = assistant_real.ask("How many minutes a day should we spend talking to stay connected?")
    assert not answer.abstained and not answer.missing_amount
    assert states_amount(answer.citations[0].quote) and "minutes" in answer.citations[0].quote


def test_calibration_counts_an_answer_declined_for_its_amount_at_every_cut():
    rows = [{"answerable": True, "relevance": s} for s in (0.5, 0.7)] + [
        {"answerable": False, "relevance": 0.3}, {"answerable": False, "relevance": 0.9, "missing_amount": True}]
    points = operating_points(rows)
    assert all(p.declined_unanswerable >= 0.5 for p in points)
    assert [round(p.threshold, 2) for p in points] == [0.28, 0.4, 0.6, 0.72]  # cuts only between real scores
    calibration = choose(rows, max_wrongly=0.0, testset="case")
    assert (calibration.declined_unanswerable, calibration.wrongly_declined) == (1.0, 0.0)
    assert calibration.min_relevance == pytest.approx(0.4)  # under the lowest answerable score less the margin
