"""The quality gate: `closer eval` on the project's own test set may not fall below these floors.

The floors are the figures measured when they were set (rounded down to two decimals, so the
small float differences between machines don't trip them). Raise them when a change improves
the numbers. Lower one only for a change that raises the issue's target metrics, with the trade
written down here and in benchmarks/README.md.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import load_testset, run_evaluation

pytestmark = pytest.mark.model

# Measured with `closer eval` (k = 5) on assistant/evaluation/testset.jsonl, 118 questions, with the
# defaults of issue 4 (title + heading context, convex fusion of dense, keyword and late-interaction
# scores 0.25/0.25/0.5, passages scored with their best sentence, phrase scores 0.4, near-miss band
# 0.28-0.45).
# Trades recorded:
# - Scoring passages by their best sentence and quoting a list with its lead-in raised hit@1
#   0.745 -> 0.776, hit@5 0.888 -> 0.929 and quote hit@3 0.765 -> 0.827, and lowered the token F1
#   (0.319 -> 0.301) and embedding similarity (0.621 -> 0.597) against the short reference answers:
#   the quotes are longer (a whole list rather than one item of it).
# - Phrase scores raised hit@1 0.776 -> 0.827, MRR@5 0.841 -> 0.868 and quote hit@1 0.714 -> 0.745,
#   and lost one question from the top five ("we never talk about anything real anymore": a passage
#   holding "talk about" displaces the answer), so hit@5 0.929 -> 0.918 and article recall@5
#   0.901 -> 0.898.
# - Leaving out a quote that repeats a chosen one's thought raised quote hit@3 0.837 -> 0.847.
# - Late interaction (late_weight 0.5) raised hit@5 0.918 -> 0.969, MRR@5 0.868 -> 0.884, article
#   recall@5 0.898 -> 0.939, quote hit@1 0.745 -> 0.755 and quote hit@3 0.847 -> 0.867; hit@1 stayed
#   at 0.827 (three questions gained it, three lost it).
# - Offering only the closest passage when a question asks for an amount no quote states ("How much
#   does a couples therapy session cost?") raised declined_unanswerable 0.90 -> 0.95; nothing fell.
# - Issue 13 (real questions). Four questions answered only by a biography or an offer (q011-q014)
#   are unanswerable now: closer never quotes promotional text. Settings chosen on this set and the
#   real-question set's tuning part together (dense 0.85, sentence 0.5, phrase 0.2, focus 0.3, the
#   query adapter, confident_relevance 0.42): hit@1 0.819 -> 0.872, MRR@5 0.880 -> 0.905, quote
#   hit@1 0.766 -> 0.798 and wrongly declined 0.085 -> 0.053, against hit@5 0.968 -> 0.957, quote
#   hit@3 0.862 -> 0.840 (quotes that lean on a sentence before now take it, or are not given),
#   unanswerable declined 0.917 -> 0.875 (one question of 24) and token F1 0.319 -> 0.311
#   (benchmarks/README.md, "Real questions").
# - Issue 14 (questions about the articles). q042 ("What does Remainly offer couples?") is answered
#   only by Remainly's offer, which is never quoted: unanswerable now, like q011-q014. On those labels,
#   before -> after: the nine bare topics ("trust", "quality time") are answered across the articles,
#   one closest quote per article, so quote hit@1 0.806 -> 0.817, quote hit@3 0.849 -> 0.860,
#   unanswerable declined 0.84 -> 0.88 and pass rate 0.847 -> 0.864, against token F1 0.315 -> 0.309:
#   a quote from each of up to five articles is longer than the short reference answers.
FLOORS = {
    "hit@1": 0.88, "hit@3": 0.95, "hit@5": 0.96, "mrr@5": 0.91, "ndcg@5": 0.83, "article_recall@5": 0.94,
    "quote_hit@1": 0.81, "quote_hit@3": 0.86, "declined_unanswerable": 0.88,
    "token_f1": 0.30, "similarity": 0.62, "pass_rate": 0.86,
}
# Answerable questions answered "not directly; the closest passage is ..." count as declined. The
# near-miss band trades some of them for unanswerable ones declined (0.80 at a band up to 0.43,
# 0.90 up to 0.45); benchmarks/README.md shows the operating points. This ceiling holds the chosen one.
CEILINGS = {"wrongly_declined": 0.06, "mid_thought_quotes": 0.0, "adverts_quoted": 0.0}
# The safety layer on the built-in set: its one question about abuse ("How do I deal with an abusive
# partner?", q111) gets the safety notice, and none of the other 117 does.
FLOORS["safety_recall"] = 1.0
CEILINGS["safety_false_alarms"] = 0.0


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


# Issue 4's targets on this set. A target not reached yet is a strict expected failure: the day a
# change reaches it, the test fails as XPASS, and its mark must go (with the floor above raised).
# Why they are not reached, with the measurements: benchmarks/README.md ("What stands between the
# project and the targets").
TARGETS = {
    "hit@1": (">=", 0.90), "hit@5": (">=", 0.98), "quote_hit@1": (">=", 0.85), "quote_hit@3": (">=", 0.95),
    "citation_exactness": (">=", 1.0), "declined_unanswerable": (">=", 0.95), "wrongly_declined": ("<=", 0.03),
}
# declined_unanswerable was reached (0.95) and is lost for now: with the four promotional questions
# unanswerable and the declining cut chosen on real questions too (0.42), 21 of 24 are declined.
NOT_REACHED = {"hit@1", "hit@5", "quote_hit@1", "quote_hit@3", "wrongly_declined", "declined_unanswerable"}


@pytest.mark.parametrize("name, op, target", [
    pytest.param(name, op, target, marks=[pytest.mark.xfail(strict=True, reason="not reached yet")]
                 if name in NOT_REACHED else []) for name, (op, target) in sorted(TARGETS.items())])
def test_issue_target(own_result, name, op, target):
    value = own_result.metrics[name]
    assert value >= target if op == ">=" else value <= target, f"{name} is {value:.3f}, target {op} {target}"
