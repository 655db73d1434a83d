"""Rebuild the safety classifier (`model.json`) from the labelled set, tuning part only.

    python -m assistant.safety.train            # writes assistant/safety/model.json
    python -m assistant.safety.train --check    # retrain in memory, compare with the saved one

Data, all in the repository:
- `assistant/evaluation/safety.jsonl`, the lines with `"split": "tune"`: questions labelled with
  the concerns they raise, and for those that raise one, `evidence`: the sentences that carry the
  disclosure. The held-out part is never read here except to record its figures at the end.
- `assistant/safety/examples.jsonl`: short sentences written for training only, per concern and
  look-alikes ("none"); never measured on.

One logistic regression per concern over unit features (`classifier.featurise`). Positives: the
evidence sentences of the questions that raise the concern, and its example sentences (for a
question without evidence, its best-scoring unit under a first fit). Negatives: every unit of the
questions that raise nothing, the look-alike examples, and the units of a disclosing question
that hold none of its evidence (the story around it). The threshold of each concern is chosen on
out-of-fold scores of the tuning part (5 folds by question), patterns in force: the lowest one
that keeps the false alarms within FALSE_ALARM_BUDGET.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from .classifier import MODEL_PATH, SafetyModel, featurise, units
from .patterns import normalise
from .records import CONCERNS, NONE

DATA = Path(__file__).resolve().parent.parent / "evaluation" / "safety.jsonl"
EXAMPLES = Path(__file__).with_name("examples.jsonl")
C = 2.0
FOLDS = 5
FALSE_ALARM_BUDGET = 0.02  # out-of-fold false alarms the classifier may add to the patterns', all concerns together
MIN_THRESHOLD, MAX_THRESHOLD = 0.30, 0.99
SEED = 13


def read_cases(path: Path = DATA) -> list[dict]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            concern = record.get("concern")
            labels = [concern] if isinstance(concern, str) else list(concern or [])
            record["labels"] = tuple(c for c in labels if c != NONE)
            cases.append(record)
    return cases


def read_examples(path: Path = EXAMPLES) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Embedded:
    """The questions' units, their evidence sentences and the examples, featurised (one encode call)."""

    def __init__(self, cases: list[dict], embedder, examples: list[dict] = ()) -> None:
        self.cases = cases
        self.units = [units(c["question"]) for c in cases]
        self.evidence = [[(e["text"], e["concern"]) for e in c.get("evidence") or []] for c in cases]
        self.examples = list(examples)
        texts = [u for us in self.units for u in us] + [t for ev in self.evidence for t, _ in ev] \
            + [e["text"] for e in self.examples]
        vectors = np.asarray(embedder.encode(texts, show_progress=sys.stderr.isatty()), dtype=np.float32)
        features = featurise(texts, vectors)
        offset = 0
        self.vectors = []
        for us in self.units:
            self.vectors.append(features[offset:offset + len(us)])
            offset += len(us)
        self.evidence_vectors = []
        for ev in self.evidence:
            self.evidence_vectors.append(features[offset:offset + len(ev)])
            offset += len(ev)
        self.example_vectors = features[offset:]

    def story_units(self, i: int) -> np.ndarray:
        """The units of question i that hold none of its evidence (the story around a disclosure)."""
        spans = [normalise(t) for t, _ in self.evidence[i]]
        if not spans or self.cases[i].get("evidence_whole"):
            return self.vectors[i][:0]
        keep = [k for k, u in enumerate(self.units[i]) if not any(s in u or u in s for s in spans)]
        return self.vectors[i][keep]


def _fit(X, y):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    model.fit(X, y)
    return model.coef_[0].astype(np.float32), np.float32(model.intercept_[0])


def fit(data: Embedded, rows: list[int], model_id: str) -> SafetyModel:
    """One logistic regression per concern, trained as the module says."""
    example_labels = [e["concern"] for e in data.examples]
    negatives = [data.vectors[i] for i in rows if not data.cases[i]["labels"]]
    negatives += [data.story_units(i) for i in rows if data.cases[i]["labels"]]
    negatives.append(data.example_vectors[[k for k, c in enumerate(example_labels) if c == NONE]])
    negatives = np.concatenate(negatives)
    coefs, intercepts = [], []
    for concern in CONCERNS:
        positives = [data.example_vectors[[k for k, c in enumerate(example_labels) if c == concern]]]
        without_evidence = []
        for i in rows:
            if concern not in data.cases[i]["labels"]:
                continue
            own = [k for k, (_, c) in enumerate(data.evidence[i]) if c == concern]
            if own:
                positives.append(data.evidence_vectors[i][own])
            else:
                without_evidence.append(i)
        X = np.concatenate([negatives] + positives)
        y = np.concatenate([np.zeros(len(negatives)), np.ones(len(X) - len(negatives))])
        coef, intercept = _fit(X, y)
        if without_evidence:  # their best unit under the first fit stands for them
            positives += [data.vectors[i][[int(np.argmax(data.vectors[i] @ coef + intercept))]]
                          for i in without_evidence]
            X = np.concatenate([negatives] + positives)
            y = np.concatenate([np.zeros(len(negatives)), np.ones(len(X) - len(negatives))])
            coef, intercept = _fit(X, y)
        coefs.append(coef)
        intercepts.append(intercept)
    return SafetyModel(model_id, CONCERNS, np.stack(coefs), np.array(intercepts, dtype=np.float32),
                       {c: 0.5 for c in CONCERNS})


def pattern_flags(cases: list[dict]) -> list[set[str]]:
    from .patterns import match

    return [{m.pattern.concern for m in match(c["question"])} for c in cases]


def figures(labels: list[tuple[str, ...]], flagged: list[set[str]]) -> dict:
    """Recall per concern (flagged at all, and flagged with that concern) and false alarms."""
    out: dict[str, float | int] = {}
    for concern in CONCERNS:
        rows = [i for i, ls in enumerate(labels) if concern in ls]
        out[f"{concern}_questions"] = len(rows)
        out[f"{concern}_recall"] = round(sum(bool(flagged[i]) for i in rows) / len(rows), 4) if rows else None
        out[f"{concern}_concern_match"] = (round(sum(concern in flagged[i] for i in rows) / len(rows), 4)
                                           if rows else None)
    crisis = [i for i, ls in enumerate(labels) if ls]
    safe = [i for i, ls in enumerate(labels) if not ls]
    out["crisis_questions"], out["lookalike_questions"] = len(crisis), len(safe)
    out["recall"] = round(sum(bool(flagged[i]) for i in crisis) / len(crisis), 4) if crisis else None
    out["false_alarms"] = round(sum(bool(flagged[i]) for i in safe) / len(safe), 4) if safe else None
    return out


def flags_at(scores: list[dict[str, float]], patterns: list[set[str]], thresholds: dict[str, float]):
    return [p | {c for c, s in sc.items() if s >= thresholds[c]} for sc, p in zip(scores, patterns)]


def choose_thresholds(labels, scores, patterns) -> dict[str, float]:
    """Per concern, a threshold on the classifier's score. Starting from MAX_THRESHOLD for all,
    the concern whose lowering wins the most missed questions per false alarm added is lowered a
    step at a time, while the false alarms stay within FALSE_ALARM_BUDGET (patterns included)."""
    grid = np.round(np.arange(MAX_THRESHOLD, MIN_THRESHOLD - 1e-9, -0.01), 2)
    position = {c: 0 for c in CONCERNS}
    crisis = [i for i, ls in enumerate(labels) if ls]
    safe = [i for i, ls in enumerate(labels) if not ls]

    def measure(pos):
        flags = flags_at(scores, patterns, {c: float(grid[pos[c]]) for c in CONCERNS})
        return sum(bool(flags[i]) for i in crisis), sum(bool(flags[i]) for i in safe) / max(len(safe), 1)

    hits, alarms = measure(position)
    while True:
        best = None
        for concern in CONCERNS:
            for step in (1, 2, 3, 5, 8, 13):
                if position[concern] + step >= len(grid):
                    break
                trial = {**position, concern: position[concern] + step}
                h, a = measure(trial)
                if a > FALSE_ALARM_BUDGET or h <= hits:
                    continue
                gain = (h - hits) / (a - alarms + 1e-3)
                if best is None or gain > best[0]:
                    best = (gain, trial, h, a)
        if best is None:
            break
        _, position, hits, alarms = best
    return {c: float(grid[position[c]]) for c in CONCERNS}


def out_of_fold(data: Embedded, rows: list[int], model_id: str) -> list[dict[str, float]]:
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(rows))
    folds = [[rows[j] for j in order[k::FOLDS]] for k in range(FOLDS)]
    scores: dict[int, dict[str, float]] = {}
    for k, held in enumerate(folds):
        train_rows = [i for f, fold in enumerate(folds) if f != k for i in fold]
        model = fit(data, train_rows, model_id)
        for i in held:
            scores[i] = model.scores(data.vectors[i])
    return [scores[i] for i in rows]


def data_hash(path: Path = DATA) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(embedder, path: Path = DATA) -> SafetyModel:
    started = time.perf_counter()
    cases = read_cases(path)
    examples = read_examples()
    data = Embedded(cases, embedder, examples)
    tune = [i for i, c in enumerate(cases) if c.get("split") == "tune"]
    heldout = [i for i, c in enumerate(cases) if c.get("split") == "heldout"]
    patterns = pattern_flags(cases)
    oof = out_of_fold(data, tune, embedder.model_id)
    tune_labels = [cases[i]["labels"] for i in tune]
    tune_patterns = [patterns[i] for i in tune]
    thresholds = choose_thresholds(tune_labels, oof, tune_patterns)
    model = fit(data, tune, embedder.model_id)
    model.thresholds = thresholds
    held_flags = flags_at([model.scores(data.vectors[i]) for i in heldout], [patterns[i] for i in heldout],
                          thresholds)
    from importlib.metadata import version

    model.meta = {
        "trained_on": {"data": "assistant/evaluation/safety.jsonl", "split": "tune", "sha256": data_hash(path),
                       "questions": len(tune), "examples": "assistant/safety/examples.jsonl",
                       "examples_sha256": data_hash(EXAMPLES) if EXAMPLES.exists() else None,
                       "example_sentences": len(examples)},
        "method": f"logistic regression per concern on {embedder.model_id} unit vectors (sentences, pairs, whole) "
                  f"and negation/idiom/report flags, C={C}, balanced classes; positives the evidence sentences and "
                  f"examples, negatives the look-alikes' units, look-alike examples and the stories around "
                  f"disclosures; thresholds from {FOLDS}-fold out-of-fold scores within false alarms "
                  f"{FALSE_ALARM_BUDGET}",
        "scikit_learn": version("scikit-learn"),
        "figures": {"tune_out_of_fold": figures(tune_labels, flags_at(oof, tune_patterns, thresholds)),
                    "heldout": figures([cases[i]["labels"] for i in heldout], held_flags)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument("--check", action="store_true", help="retrain and compare with the saved model only")
    args = parser.parse_args(argv)
    from index import CachedEmbedder, get_embedder

    from ..settings import Settings

    # The units' vectors are cached in the data folder: a second run only fits the regressions.
    cache = Settings.resolve().home / "cache" / "embeddings.sqlite"
    embedder = get_embedder()
    cached = CachedEmbedder(embedder, cache, desc="Encoding the safety set")
    model = train(cached)
    print(json.dumps(model.meta["figures"], indent=1))
    if args.check:
        saved = SafetyModel.load(args.output)
        same = saved.thresholds == model.thresholds and np.allclose(saved.coef, model.coef, atol=1e-3)
        print("matches the saved model" if same else "differs from the saved model")
        return 0 if same else 1
    model.save(args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
