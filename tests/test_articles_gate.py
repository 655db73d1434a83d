"""The gate on questions about the articles and follow-ups: `closer eval
assistant/evaluation/articles.jsonl --split heldout` may not fall below these floors (nothing is
tuned on the held-out part). Floors are the figures measured when they were set, rounded down."""

from __future__ import annotations

import pytest

from assistant.evaluation import load_testset, run_evaluation
from assistant.evaluation.testsets import BUILTIN

pytestmark = pytest.mark.model

ARTICLES = BUILTIN.with_name("articles.jsonl")
# Measured on the held-out part (42 questions) when issue 14 was built; what must hold exactly is 1.0.
EXACT = ("kind_ok", "filter_ok", "named_only", "not_covered_said", "across_as_lookup", "summary_in_order",
         "citation_exactness", "declined_unanswerable")
FLOORS = {"quote_hit@1": 0.78, "quote_hit@3": 0.85, "pass_rate": 0.92}
CEILINGS = {"adverts_quoted": 0.0, "mid_thought_quotes": 0.0, "wrongly_declined": 0.07}


@pytest.fixture(scope="module")
def heldout(assistant_real):
    evalset = load_testset(ARTICLES, split="heldout")
    evalset.check_articles(assistant_real.article_ids)
    return run_evaluation(assistant_real, evalset, k=5)


def test_the_set_covers_every_kind_and_is_split():
    cases = load_testset(ARTICLES).cases
    assert len(cases) >= 60 and {c.split for c in cases} == {"tune", "heldout"}
    kinds = {c.answer_kind for c in cases}
    assert {"article", "across", "summary", "follow_up", "advice"} <= kinds
    assert sum(bool(c.history) for c in cases) >= 10
    assert sum(c.article_filter is not None and not c.answerable for c in cases) >= 8  # named, not covered


@pytest.mark.parametrize("name", EXACT)
def test_what_must_hold_for_every_question_does(heldout, name):
    assert heldout.metrics[name] == 1.0, [r["id"] for r in heldout.rows if r.get(name) is False]


@pytest.mark.parametrize("name, floor", sorted(FLOORS.items()))
def test_metric_stays_at_or_above_its_floor(heldout, name, floor):
    assert heldout.metrics[name] >= floor, f"{name} fell to {heldout.metrics[name]:.3f} (floor {floor})"


@pytest.mark.parametrize("name, ceiling", sorted(CEILINGS.items()))
def test_metric_stays_at_or_below_its_ceiling(heldout, name, ceiling):
    assert heldout.metrics[name] <= ceiling, f"{name} rose to {heldout.metrics[name]:.3f} (ceiling {ceiling})"
