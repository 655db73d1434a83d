"""Declining thresholds chosen from answerable and unanswerable questions' top scores."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation.calibration import MARGIN, CalibrationError, choose, frontier, operating_points
from index import load_index


def rows(answerable, unanswerable):
    return ([{"answerable": True, "relevance": s} for s in answerable]
            + [{"answerable": False, "relevance": s} for s in unanswerable])


# Ten answerable questions, four unanswerable; two of the answerable score below two of the others.
CASE = rows([0.30, 0.36, 0.50, 0.55, 0.60, 0.62, 0.70, 0.75, 0.80, 0.90], [0.10, 0.28, 0.40, 0.52])


def test_operating_points_count_the_questions_below_each_cut():
    points = {round(p.threshold, 3): p for p in operating_points(CASE)}
    assert points[round(0.10 - MARGIN, 3)].declined_unanswerable == 0.0  # below every score
    between = points[round((0.36 + 0.40) / 2, 3)]  # declines 0.10, 0.28 and 0.30, 0.36
    assert (between.declined_unanswerable, between.wrongly_declined) == (0.5, 0.2)
    top = points[round(0.90 + MARGIN, 3)]
    assert (top.declined_unanswerable, top.wrongly_declined) == (1.0, 1.0)


def test_the_frontier_keeps_only_cuts_no_other_cut_beats():
    shares = [(p.declined_unanswerable, p.wrongly_declined) for p in frontier(CASE)]
    # declining 0.25 or none of the unanswerable questions costs as much as declining 0.5: dropped
    assert shares == [(0.5, 0.0), (0.75, 0.2), (1.0, 0.3)]


@pytest.mark.parametrize("max_wrongly, declined, wrongly", [(0.0, 0.5, 0.0), (0.2, 0.75, 0.2), (0.25, 0.75, 0.2),
                                                            (0.3, 1.0, 0.3)])
def test_choose_declines_the_most_unanswerable_questions_within_the_allowance(max_wrongly, declined, wrongly):
    calibration = choose(CASE, max_wrongly=max_wrongly, testset="case")
    assert (calibration.declined_unanswerable, calibration.wrongly_declined) == (declined, wrongly)
    # the plain decline starts under the lowest answerable score, never above the near-miss cut
    assert calibration.min_relevance == pytest.approx(min(0.30 - MARGIN, calibration.confident_relevance))
    assert (calibration.answerable, calibration.unanswerable) == (10, 4)


def test_a_test_set_without_unanswerable_questions_cannot_calibrate():
    with pytest.raises(CalibrationError, match="answerable and unanswerable"):
        choose(rows([0.5, 0.6], []), max_wrongly=0.1, testset="only answerable")


@pytest.mark.model
def test_eval_calibrate_keeps_its_thresholds_in_the_index(settings, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import cli
    from assistant.service import Assistant
    from tests.conftest import KMA

    testset = tmp_path / "mine.jsonl"
    testset.write_text("\n".join(json.dumps(case) for case in [
        {"question": "Can emotional intimacy be rebuilt after betrayal?", "expected_articles": [KMA]},
        {"question": "How can technology harm our emotional connection?", "expected_articles": [KMA]},
        {"question": "What is the capital of France?", "answerable": False},
        {"question": "What are the signs of depression in teenagers?", "answerable": False},
    ]) + "\n", encoding="utf-8")

    def run(*args):
        return CliRunner().invoke(cli, ["eval", str(testset), "--home", str(settings.home),
                                        "--corpus", str(settings.corpus), "--json", *args])

    before = json.loads(run("--report", str(tmp_path / "r.md")).stdout)
    assert before["metrics"]["declined_unanswerable"] == 0.5  # the teenage depression one is answered (0.48)
    report = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Declining: operating points" in report and "| in use |" in report
    result = run("--calibrate", "--max-wrongly", "0")
    assert result.exit_code == 0, result.output
    after = json.loads(result.stdout)  # measured again with the calibrated thresholds
    assert after["metrics"]["declined_unanswerable"] == 1.0 and after["metrics"]["wrongly_declined"] == 0.0
    assert "closest passage only below" in result.stderr and "Calibrated on mine" in result.stderr

    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["calibration"]["confident_relevance"] == pytest.approx(after["confident_threshold"])
    index = load_index(settings.index_dir, model_id=manifest["model"]["id"], dimension=manifest["model"]["dimension"])
    assert index.declining == (manifest["calibration"]["min_relevance"], manifest["calibration"]["confident_relevance"])
    assistant = Assistant.open(settings)  # a new process: the thresholds come from the index
    assert assistant.ask("What are the signs of depression in teenagers?").abstained
    assert not assistant.ask("Can emotional intimacy be rebuilt after betrayal?").abstained

    (settings.corpus / "extra.md").write_text("# Walks\n\nEvening walks help couples talk.\n", encoding="utf-8")
    updated = Assistant.open(settings)  # the corpus changed: the index is updated, the calibration kept
    assert "extra" in updated.article_ids and updated.index.calibration == assistant.index.calibration


@pytest.mark.model
def test_calibrate_refuses_a_benchmark_set(settings, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import cli

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"data": [{"title": "T", "paragraphs": [
        {"context": "Small promises rebuild trust.", "qas": [{"id": "s1", "question": "What rebuilds trust?",
                                                              "answers": [{"text": "Small promises"}]}]}]}]}))
    result = CliRunner().invoke(cli, ["eval", str(path), "--calibrate", "--home", str(settings.home)])
    assert result.exit_code == 2 and "not a BEIR or SQuAD set" in result.stderr
