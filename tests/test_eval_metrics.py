"""Each metric's arithmetic on tiny hand-made cases whose right numbers are worked out by hand."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation import metrics as m
from assistant.evaluation.runner import _aggregate


def test_fold_ignores_case_space_curly_quotes_and_dashes():
    assert m.fold("A general sense of being “Out  of\nSync”—it’s") == 'a general sense of being "out of sync"-it\'s'
    assert m.contains_any("You feel like ROOMMATES instead of partners.", ["roommates instead"])
    assert not m.contains_any("roommate", ["roommates"])


def test_ranking_metrics_on_a_known_list():
    relevant = [False, True, False, True, False]  # relevant at ranks 2 and 4; 3 exist in all
    assert m.hit_at(relevant, 1) == 0.0
    assert m.hit_at(relevant, 3) == 1.0
    assert m.reciprocal_rank(relevant, 5) == 0.5
    assert m.reciprocal_rank(relevant, 1) == 0.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # 0.6309 + 0.4307
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant in the first three ranks
    assert m.ndcg_at(relevant, 5, total_relevant=3) == pytest.approx(dcg / ideal)
    assert m.ndcg_at(relevant, 5, total_relevant=3) == pytest.approx(0.49819, abs=1e-5)
    assert m.ndcg_at([True, False], 2, total_relevant=1) == 1.0
    assert m.ndcg_at([False, False], 2, total_relevant=0) == 0.0


def test_recall_f1_and_percentiles():
    assert m.recall({"a", "b", "x"}, {"a", "b", "c", "d"}) == 0.5
    # SQuAD normalisation drops articles and punctuation: pred {cat, sat, on, mat}, ref {cat, on, mat}
    assert m.token_f1("The cat sat on the mat.", "a cat on a mat") == pytest.approx(2 * 0.75 * 1 / 1.75)
    assert m.token_f1("nothing shared", "other words") == 0.0
    assert m.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert m.percentile([1, 2, 3, 4], 0.95) == pytest.approx(3.85)
    assert m.percentile([7], 0.95) == 7


def test_aggregate_averages_each_metric_over_the_right_questions():
    def row(answerable, abstained, hit1, qh1, latency, f1=None, cited=0, exact=0):
        r = {"answerable": answerable, "abstained": abstained, "latency_ms": latency, "citations": cited,
             "exact_citations": exact, "pass": (not abstained) if answerable else abstained}
        if answerable:
            r.update({"hit@1": hit1, "hit@3": hit1, "hit@5": 1.0, "mrr@5": hit1, "ndcg@5": hit1,
                      "article_recall@5": 1.0, "quote_hit@1": qh1, "quote_hit@3": qh1})
        if f1 is not None:
            r.update({"token_f1": f1, "similarity": f1})
        return r

    rows = [row(True, False, 1.0, 1.0, 10, f1=0.5, cited=2, exact=2),
            row(True, False, 0.0, 1.0, 20, cited=1, exact=1),
            row(True, True, 1.0, 0.0, 30),
            row(False, True, None, None, 40, f1=1.0),
            row(False, False, None, None, 50, cited=1, exact=0)]
    out = _aggregate(rows, 5, "passage")
    assert out["hit@1"] == pytest.approx(2 / 3)  # answerable only
    assert out["quote_hit@1"] == pytest.approx(2 / 3)
    assert out["wrongly_declined"] == pytest.approx(1 / 3)
    assert out["declined_unanswerable"] == pytest.approx(1 / 2)
    assert out["citation_exactness"] == pytest.approx(3 / 4)  # over all citations, not questions
    assert out["token_f1"] == pytest.approx(0.75)  # over questions with a reference answer
    assert out["pass_rate"] == pytest.approx(3 / 5)
    assert out["latency_p50_ms"] == 30 and out["latency_max_ms"] == 50
    assert out["latency_p95_ms"] == pytest.approx(48)


def test_baseline_comparison_flags_only_falls_beyond_the_tolerance():
    baseline = {"hit@1": 0.90, "quote_hit@1": 0.80, "wrongly_declined": 0.02, "latency_p50_ms": 10.0, "new": None}
    current = {"hit@1": 0.885, "quote_hit@1": 0.70, "wrongly_declined": 0.05, "latency_p50_ms": 99.0, "new": 0.5}
    fell = {name for name, _, _ in m.compare(current, baseline, tolerance=0.02)}
    assert fell == {"quote_hit@1", "wrongly_declined"}  # a rise in wrong declines is a fall in quality


def test_question_rows_show_what_was_expected_and_a_safety_notice_only_where_it_counts():
    from types import SimpleNamespace

    from assistant.evaluation.report import question_rows

    base = {"abstained": False, "relevance": 0.7, "pass": True,
            "cited": [{"n": 1, "article_id": "a", "quote": "Trust takes time."}]}
    rows = question_rows(SimpleNamespace(rows=[
        {**base, "id": "q1", "question": "trust?", "answerable": True, "expected_quotes": ["takes time"],
         "expected_concerns": []},
        {**base, "id": "s1", "question": "he hits me", "answerable": True, "expected_concerns": ["abuse"],
         "flagged": ["abuse"]},
        {**base, "id": "s2", "question": "his jokes kill me", "answerable": True, "expected_concerns": [],
         "flagged": ["self_harm"], "pass": False},
    ]))
    assert rows[0][3] == "takes time"  # the quote it should cite, not "safety notice: none"
    assert rows[1][3] == "safety notice: abuse" and rows[1][4].startswith("safety notice (abuse); [1] a:")
    assert rows[2][0] == "FAIL" and rows[2][3] == "(an answer); no safety notice"
