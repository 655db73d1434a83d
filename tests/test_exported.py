"""The question path without torch: the bundled MiniLM and the safety classifier exported to ONNX
give the vectors, token vectors and probabilities of the torch models, so every answer cites the
same quotes; an export is made once, recorded with its hash, and a stale one is never run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.evaluation import load_testset
from assistant.models import expected_sources, question_embedder
from assistant.service import Assistant
from assistant.settings import Settings
from index import BundledMiniLM
from index.embedders import OnnxMiniLM
from index.exported import MANIFEST, file_sha256, open_models
from tests.conftest import CORPUS

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[1]
TEXTS = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "hi",
    "He takes my phone and my money and won't let me see friends. What do I do?",
    "Ünïcödé, emoji-free — curly “quotes” and dashes – all of it.",
    " ".join(["A long story about a marriage that has drifted apart over many years of work."] * 40),  # > 256 tokens
]


@pytest.fixture(scope="module")
def torch_assistant(assistant_real):
    """The same index, answered through the torch models."""
    return Assistant(assistant_real.index, BundledMiniLM())


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_the_assistant_runs_on_the_exports_recorded_in_the_manifest(assistant_real, built_home):
    assert isinstance(assistant_real.embedder, OnnxMiniLM)
    record = json.loads((built_home / "models" / MANIFEST).read_text(encoding="utf-8"))["models"]
    assert set(record) == {"embedder", "safety"}
    for entry in record.values():
        assert file_sha256(built_home / "models" / entry["file"]) == entry["sha256"]
    assert record["embedder"]["source"] == expected_sources()["embedder"]
    # The index's manifest names the exports its questions run through.
    onnx = assistant_real.index.query_models["onnx"]
    assert {name: e["sha256"] for name, e in onnx.items()} == {name: e["sha256"] for name, e in record.items()}


def test_onnx_vectors_and_token_vectors_match_torch(assistant_real):
    onnx, torch_model = assistant_real.embedder, BundledMiniLM()
    assert cosines(onnx.encode(TEXTS), torch_model.encode(TEXTS)).min() >= 0.9999
    for mine, theirs in zip(onnx.encode_tokens(TEXTS), torch_model.encode_tokens(TEXTS)):
        assert mine.shape == theirs.shape and cosines(mine, theirs).min() >= 0.9999
    for text in TEXTS:
        (vector, tokens), (vector_t, tokens_t) = onnx.encode_question(text), torch_model.encode_question(text)
        assert float(vector @ vector_t) >= 0.9999
        assert tokens.shape == tokens_t.shape and cosines(tokens, tokens_t).min() >= 0.9999


def test_onnx_safety_probabilities_match_torch(assistant_real, torch_assistant):
    questions = [json.loads(line)["question"] for line in
                 (REPO / "assistant/evaluation/safety.jsonl").read_text(encoding="utf-8").splitlines()[::40]]
    onnx_model = assistant_real.safety.detector._classifier()
    torch_model = torch_assistant.safety.detector._classifier()
    assert type(onnx_model).__name__ == "OnnxSafetyModel" and type(torch_model).__name__ == "SafetyModel"
    assert np.abs(onnx_model.probabilities(questions) - torch_model.probabilities(questions)).max() < 1e-3


@pytest.mark.parametrize("testset, split", [("testset.jsonl", None), ("articles.jsonl", None),
                                            ("real.jsonl", "heldout"), ("safety.jsonl", "heldout")])
def test_every_answer_cites_what_the_torch_path_cites(assistant_real, torch_assistant, testset, split):
    cases = load_testset(REPO / "assistant/evaluation" / testset).cases
    cases = [c for c in cases if split is None or getattr(c, "split", None) == split]
    # Every built-in question and question about the articles; a sample of the long real and
    # safety questions (benchmarks/onnx_agreement.py checks every question of every set).
    cases = cases[::{"real.jsonl": 10, "safety.jsonl": 50}.get(testset, 1)]
    assert cases

    def answered(assistant, case):
        answer = assistant.ask(case.question, article_id=getattr(case, "article_filter", None))
        return (answer.abstained, [(c.article_id, c.start, c.end) for c in answer.citations],
                answer.safety.concern if answer.safety else None)

    differ = [c.question for c in cases if answered(assistant_real, c) != answered(torch_assistant, c)]
    assert differ == []


def test_a_question_is_answered_without_importing_torch(settings):
    """`closer ask` on an existing index and exports, in its own process."""
    code = ("import sys\nfrom assistant.cli import cli\n"
            "try:\n    cli(['ask', 'Can emotional intimacy be rebuilt after betrayal?'])\nexcept SystemExit:\n    pass\n"
            "print('torch loaded:', 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    env = {**os.environ, "CLOSER_HOME": str(settings.home), "CLOSER_CORPUS": str(settings.corpus)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert "[1]" in result.stdout, result.stderr
    assert result.stdout.strip().endswith("torch loaded: False False"), result.stdout[-300:]


def test_a_stale_or_changed_export_is_never_run(tmp_path, built_home):
    home = tmp_path / "home"
    shutil.copytree(built_home / "models", home / "models")
    settings = Settings(home=home, corpus=CORPUS)
    assert open_models(settings.models_dir, expected_sources()) is not None
    manifest = settings.models_dir / MANIFEST
    record = json.loads(manifest.read_text(encoding="utf-8"))
    # Exported from other weights (the classifier was retrained): not used.
    stale = json.loads(json.dumps(record))
    stale["models"]["safety"]["source"] = "classifier-sha256:0000"
    manifest.write_text(json.dumps(stale), encoding="utf-8")
    assert open_models(settings.models_dir, expected_sources()) is None
    # A file that changed size since it was recorded: not used.
    manifest.write_text(json.dumps(record), encoding="utf-8")
    with open(settings.models_dir / record["models"]["embedder"]["file"], "ab") as handle:
        handle.write(b"\0")
    assert open_models(settings.models_dir, expected_sources()) is None
    # The assistant exports it again, once, and runs on the new export.
    embedder = question_embedder(settings)
    assert isinstance(embedder, OnnxMiniLM)
    again = json.loads(manifest.read_text(encoding="utf-8"))["models"]["embedder"]
    assert file_sha256(settings.models_dir / again["file"]) == again["sha256"]
    assert float(embedder.encode(["trust"])[0] @ BundledMiniLM().encode(["trust"])[0]) >= 0.9999
    # A file changed in place (same size, another hash) opens, but `closer ingest`'s check
    # (verify) finds it and exports it again.
    path = settings.models_dir / again["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert open_models(settings.models_dir, expected_sources()) is not None
    question_embedder(settings, verify=True)
    assert file_sha256(path) == json.loads(manifest.read_text(encoding="utf-8"))["models"]["embedder"]["sha256"]


def test_the_torch_models_can_be_chosen_and_a_wrong_choice_is_refused(settings, monkeypatch):
    from assistant.errors import BadRequest

    monkeypatch.setenv("CLOSER_QUESTION_MODELS", "torch")
    assert isinstance(question_embedder(settings), BundledMiniLM)
    monkeypatch.setenv("CLOSER_QUESTION_MODELS", "tensorflow")
    with pytest.raises(BadRequest, match="use onnx"):
        question_embedder(settings)


def test_without_onnxruntime_the_torch_models_answer(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime" or name == "onnx":
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    embedder = question_embedder(Settings(home=tmp_path / "home", corpus=CORPUS))
    assert isinstance(embedder, BundledMiniLM)


def test_one_pass_in_a_session_pool_gives_the_vectors_of_separate_passes(assistant_real):
    """Ingest takes passage vectors and token vectors from one pass, run by a pool of
    single-threaded sessions: they are the vectors the question path's own session gives."""
    from index.encoding import encode_corpus

    onnx = assistant_real.embedder
    sentences = ["He shut down.", "We bicker over nothing at all, every single evening."]
    seen = []
    encoded, _ = encode_corpus(onnx, TEXTS, sentences, with_tokens=True, progress=seen.append)
    assert cosines(encoded.passages, onnx.encode(TEXTS)).min() >= 0.9999
    assert cosines(encoded.sentences, onnx.encode(sentences)).min() >= 0.9999
    for mine, theirs in zip(encoded.tokens, onnx.encode_tokens(TEXTS)):
        assert mine.shape == theirs.shape and cosines(mine.astype(np.float32), theirs).min() >= 0.999
    assert seen[-1].done == seen[-1].total == sum(map(len, TEXTS)) + sum(map(len, sentences))
    assert onnx._pool is None  # the pool's sessions are gone after the build


def test_length_batches_keep_padding_small_and_every_row_once():
    from index.exported import length_batches

    lengths = [96, 12, 14, 30, 13, 60, 12, 31, 95, 200, 11]
    work = length_batches(lengths, batch_size=3)
    rows = [row for batch in work for row in batch]
    assert sorted(rows) == list(range(len(lengths)))  # every row once
    assert [lengths[r] for r in rows] == sorted(lengths)  # shortest first
    for batch in work:
        widths = [lengths[r] for r in batch]
        assert len(batch) <= 3 and max(widths) <= max(1.25 * min(widths), min(widths) + 8)
    assert len(work) < len(lengths)  # texts of like length do share batches


def test_batching_by_length_does_not_change_the_safety_probabilities(assistant_real):
    """A question's units (short sentences beside its whole text) in length batches get the
    probabilities each gets alone: padding is masked out."""
    from assistant.safety.classifier import units

    model = assistant_real.safety.detector._classifier()
    story = ("We have been married for nine years and have two kids. Lately he checks my phone every night. "
             "He takes my money and won't let me see my friends. Last week he grabbed me by the throat "
             "when I said I wanted to visit my sister. I don't know what to do. How do we get closer again?")
    texts = units(story)
    together = model.probabilities(texts)
    alone = np.vstack([model.probabilities([text]) for text in texts])
    assert len(texts) > 5 and np.abs(together - alone).max() < 1e-4


def test_ingest_of_an_unchanged_corpus_runs_no_model(settings):
    """`closer ingest` in its own process on an index that is up to date: no torch imported and
    no ONNX session opened (the exports are checked by their hashes, the index by the corpus's)."""
    code = ("import sys\nimport index.exported as exported\nopened = []\nsession = exported._session\n"
            "exported._session = lambda *a, **k: opened.append(a) or session(*a, **k)\n"
            "from assistant.cli import cli\n"
            "try:\n    cli(['ingest'])\nexcept SystemExit:\n    pass\n"
            "print('torch loaded:', 'torch' in sys.modules, 'sessions opened:', len(opened))")
    env = {**os.environ, "CLOSER_HOME": str(settings.home), "CLOSER_CORPUS": str(settings.corpus)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert "is up to date" in result.stdout, result.stdout + result.stderr
    assert result.stdout.strip().endswith("torch loaded: False sessions opened: 0"), result.stdout[-300:]
