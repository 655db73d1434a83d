"""`closer eval` end to end: output, report, baselines, bad test sets, separate benchmark indexes."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.evaluation import load_testset, open_assistant
from assistant.settings import Settings
from tests.conftest import FakeEmbedder

SQUAD = {"data": [{"title": "Trust", "paragraphs": [
    {"context": "Couples who keep small promises rebuild trust faster. Consistency matters more than grand gestures.",
     "qas": [{"id": "s1", "question": "What rebuilds trust faster?", "answers": [{"text": "small promises"}]}]},
    {"context": "Laughing together eases stress and creates joyful memories for partners.",
     "qas": [{"id": "s2", "question": "What does laughing together do?", "answers": [{"text": "eases stress"}]}]},
]}]}


def run(settings, *args):
    return CliRunner().invoke(cli, ["eval", *args, "--home", str(settings.home), "--corpus", str(settings.corpus)])


@pytest.mark.model
def test_eval_json_has_metrics_and_per_question_rows(settings):
    result = run(settings, "--limit", "6", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["questions"] == 6 and record["testset"] == "testset"
    assert {"hit@1", "hit@3", "hit@5", "mrr@5", "ndcg@5", "quote_hit@1", "citation_exactness",
            "latency_p95_ms"} <= set(record["metrics"])
    row = record["rows"][0]
    assert {"id", "question", "expected_quotes", "cited", "pass", "retrieved"} <= set(row)
    assert len(record["hit_curve"]) == 10


@pytest.mark.model
def test_table_report_and_baselines(settings, tmp_path):
    baseline = tmp_path / "baseline.json"
    first = run(settings, "--limit", "8", "--report", str(tmp_path / "r.html"), "--save-baseline", str(baseline))
    assert first.exit_code == 0, first.output
    assert "passage hit@1" in first.stdout and "of 8 questions passed" in first.stdout
    page = (tmp_path / "r.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "<table>" in page
    same = run(settings, "--limit", "8", "--baseline", str(baseline))
    assert same.exit_code == 0 and "baseline" in same.stdout
    saved = json.loads(baseline.read_text())
    # Token F1 of whole-sentence quotes against short reference answers stays far below 1, so a
    # baseline 0.5 higher is one this run must fall short of.
    assert saved["metrics"]["token_f1"] < 0.5
    saved["metrics"]["token_f1"] += 0.5
    baseline.write_text(json.dumps(saved))
    worse = run(settings, "--limit", "8", "--baseline", str(baseline))
    assert worse.exit_code == 1 and "Regression: token_f1 fell" in worse.stderr
    md = run(settings, "--limit", "3", "--report", str(tmp_path / "r.md"))
    assert md.exit_code == 0 and (tmp_path / "r-hit_at_n.png").exists() and (tmp_path / "r-top_scores.png").exists()


@pytest.mark.model
def test_bad_test_sets_exit_2_naming_the_line(settings, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": \n', encoding="utf-8")
    result = run(settings, str(bad))
    assert result.exit_code == 2 and "line 2: invalid JSON" in result.stderr
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"question": "q", "expected_articles": ["nope"]}\n', encoding="utf-8")
    result = run(settings, str(unknown))
    assert result.exit_code == 2 and "line 1: unknown article id 'nope'" in result.stderr


def test_a_squad_set_gets_its_own_index_and_cached_embeddings(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD))
    settings = Settings(home=tmp_path / "home", corpus=tmp_path / "unused-corpus")
    evalset = load_testset(path)
    first = FakeEmbedder()
    assistant = open_assistant(evalset, settings, first)
    assert set(assistant.article_ids) == {"Trust-00", "Trust-01"}
    assert first.texts_encoded > 0
    assert not (settings.home / "index").exists()  # the user's index is never touched
    assert list((settings.home / "eval").iterdir())
    again = FakeEmbedder()
    open_assistant(evalset, settings, again)  # the saved index is loaded
    assert again.texts_encoded == 0
    shutil.rmtree(settings.home / "eval")
    rebuilt = FakeEmbedder()
    open_assistant(evalset, settings, rebuilt)  # rebuilt from the embedding cache, nothing re-encoded
    assert rebuilt.texts_encoded == 0
