"""The quality gate: `closer eval` on the project's own test set may not fall below these floors.

The floors are the figures measured when they were set (rounded down to two decimals, so the
small float differences between machines don't trip them). Raise them when a change improves
the numbers; never lower them to let a change through.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import load_testset, run_evaluation

pytestmark = pytest.mark.model

# Measured with `closer eval` (k = 5) on assistant/evaluation/testset.jsonl, 118 questions, with the
# defaults of issue 4 (title + heading context, convex fusion 0.5, near-miss band 0.28-0.43).
FLOORS = {
    "hit@1": 0.74, "hit@3": 0.84, "hit@5": 0.88, "mrr@5": 0.80, "ndcg@5": 0.71, "article_recall@5": 0.86,
    "quote_hit@1": 0.67, "quote_hit@3": 0.76, "declined_unanswerable": 0.90,
    "token_f1": 0.31, "similarity": 0.62, "pass_rate": 0.78,
}
# Answerable questions answered "not directly; the closest passage is ..." count as declined. The
# near-miss band trades 6 of them (0.031 -> 0.092) for 4 more unanswerable ones declined (0.70 ->
# 0.90); benchmarks/README.md shows both operating points. This ceiling holds the chosen one.
CEILINGS = {"wrongly_declined": 0.10}


@pytest.fixture(scope="module")
def own_result(assistant_real):
    evalset = load_testset()
    evalset.check_articles(assistant_real.article_ids)
    return run_evaluation(assistant_real, evalset, k=5)


@pytest.mark.parametrize("name, floor", sorted(FLOORS.items()))
def test_metric_stays_at_or_above_its_floor(own_result, name, floor):
    assert own_result.metrics[name] >= floor, f"{name} fell to {own_result.metrics[name]:.3f} (floor {floor})"


@pytest.mark.parametrize("name, ceiling", sorted(CEILINGS.items()))
def test_metric_stays_at_or_below_its_ceiling(own_result, name, ceiling):
    assert own_result.metrics[name] <= ceiling


def test_every_citation_is_an_exact_slice(own_result):
    assert own_result.metrics["citation_exactness"] == 1.0
    assert own_result.errors == []
