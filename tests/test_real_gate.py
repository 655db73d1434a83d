"""The gate on real questions: `closer eval assistant/evaluation/real.jsonl --split heldout` may not
fall below these floors (nothing is tuned or trained on the held-out part).

The floors are the figures measured when they were set, rounded down to two decimals (ceilings
rounded up). Issue 13's targets on this part are strict expected failures until reached.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import load_testset, run_evaluation
from assistant.evaluation.testsets import BUILTIN

pytestmark = pytest.mark.model

REAL = BUILTIN.with_name("real.jsonl")
# Measured on the held-out part (149 questions: 41 answerable, 108 not) with the defaults of issue 13.
FLOORS = {"hit@1": 0.41, "hit@3": 0.60, "hit@5": 0.70, "mrr@5": 0.52, "quote_hit@1": 0.19, "quote_hit@3": 0.21,
          "declined_unanswerable": 0.82}
# The safety classifier of stop 34 gives 8 of these 149 ordinary questions a notice (0.054; stop
# 32's gave 6, 0.040; stop 28's 12, 0.081, and was trained on 36 of them), and after a notice only
# safe quotes may follow: wrongly declined 0.439 (0.415 with stop 32's, 0.463 with stop 28's). The
# ceilings were raised in stop 34 for a classifier that finds 7 more of 663 held-out disclosures
# with 6 fewer false alarms on 889 look-alikes; benchmarks/README.md has both sides.
CEILINGS = {"wrongly_declined": 0.44, "rejected_quoted": 0.11, "mid_thought_quotes": 0.0, "adverts_quoted": 0.0,
            # real relationship questions that get a safety notice although they disclose no danger
            "safety_false_alarms": 0.06}
TARGETS = {
    "hit@1": (">=", 0.75), "quote_hit@3": (">=", 0.80), "wrongly_declined": ("<=", 0.10),
    "declined_unanswerable": (">=", 0.90), "mid_thought_quotes": ("<=", 0.0), "adverts_quoted": ("<=", 0.0),
}


@pytest.fixture(scope="module")
def heldout(assistant_real):
    evalset = load_testset(REAL, split="heldout")
    evalset.check_articles(assistant_real.article_ids)
    return run_evaluation(assistant_real, evalset, k=5)


def test_the_set_is_split_and_large_enough():
    cases = load_testset(REAL).cases
    assert len(cases) >= 200
    assert sum(c.answerable for c in cases) >= 70 and sum(not c.answerable for c in cases) >= 70
    parts = {c.split for c in cases}
    assert parts == {"tune", "heldout"}
    assert all(c.concerns == () for c in cases)  # disclosures of danger are set aside


@pytest.mark.parametrize("name, floor", sorted(FLOORS.items()))
def test_metric_stays_at_or_above_its_floor(heldout, name, floor):
    assert heldout.metrics[name] >= floor, f"{name} fell to {heldout.metrics[name]:.3f} (floor {floor})"


@pytest.mark.parametrize("name, ceiling", sorted(CEILINGS.items()))
def test_metric_stays_at_or_below_its_ceiling(heldout, name, ceiling):
    assert heldout.metrics[name] <= ceiling, f"{name} rose to {heldout.metrics[name]:.3f} (ceiling {ceiling})"


def test_every_quote_is_exact_and_none_is_an_advert(heldout):
    assert heldout.metrics["citation_exactness"] == 1.0
    assert heldout.metrics["adverts_quoted"] == 0.0


REACHED = {"mid_thought_quotes", "adverts_quoted"}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_issue_13_targets(heldout, name, request):
    if name not in REACHED:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason="issue 13's target, not reached yet"))
    op, target = TARGETS[name]
    value = heldout.metrics[name]
    assert value >= target if op == ">=" else value <= target
