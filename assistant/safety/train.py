"""Rebuild the safety classifier from the labelled set's tuning part (about 15 minutes on 2 cores).

    python -m assistant.safety.train            # writes assistant/safety/classifier.{json,safetensors}

Data, all in the repository:
- `assistant/evaluation/safety.jsonl`, the lines with `"split": "tune"`: questions labelled with
  the concerns they raise, and for those that raise one, `evidence`: the sentences that carry the
  disclosure. The held-out part is never read here except to record its figures at the end.
- `assistant/safety/examples.jsonl`: short sentences written for training only, per concern and
  look-alikes ("none"); never measured on.

Training units: positives are the evidence sentences (labelled with their concern; the question's
other concerns are left unknown for them) and the examples of each concern; negatives are every
unit of the questions that raise nothing, the look-alike examples, and the units of a disclosing
question that hold none of its evidence (the story around it). The network (`classifier.py`) is
trained with a weighted binary cross-entropy per concern (positives weighted up to the negatives,
at most 10x).

Thresholds: a first network is trained on four fifths of the tuning questions and scores the
fifth it has not seen; on that fifth, with the patterns in force, each concern's threshold is
chosen (`choose_thresholds`: the most disclosures found for false alarms within
FALSE_ALARM_BUDGET). The network that is kept is then trained on the whole tuning part.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from .classifier import META_PATH, WEIGHTS_PATH, SafetyModel, build_network, units
from .patterns import normalise
from .records import CONCERNS, NONE

DATA = Path(__file__).resolve().parent.parent / "evaluation" / "safety.jsonl"
EXAMPLES = Path(__file__).with_name("examples.jsonl")
EPOCHS = 2
LEARNING_RATE, HEAD_LEARNING_RATE = 3e-5, 1e-3
MAX_POSITIVE_WEIGHT = 10.0
VALIDATION_SHARE = 5  # one question in five scores the first network
FALSE_ALARM_BUDGET = 0.03  # on that fifth, patterns and classifier together
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
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def instances(cases: list[dict], rows: list[int], examples: list[dict]):
    """(texts, targets, weights): targets 0/1 per concern, weight 0 where a target is unknown."""
    index = {c: k for k, c in enumerate(CONCERNS)}
    texts, targets, weights = [], [], []

    def add(text: str, positive=(), unknown=()):
        target, weight = np.zeros(len(CONCERNS), np.float32), np.ones(len(CONCERNS), np.float32)
        for concern in positive:
            target[index[concern]] = 1.0
        for concern in unknown:
            if concern not in positive:
                weight[index[concern]] = 0.0
        texts.append(text)
        targets.append(target)
        weights.append(weight)

    for i in rows:
        case = cases[i]
        if not case["labels"]:
            for unit in units(case["question"]):
                add(unit)
            continue
        spans: dict[str, set[str]] = {}
        for e in case.get("evidence") or []:
            spans.setdefault(e["text"], set()).add(e["concern"])
        for text, concerns in spans.items():
            add(text, concerns, case["labels"])
        if spans and not case.get("evidence_whole"):  # the story around the disclosure
            held = [normalise(t) for t in spans]
            for unit in units(case["question"]):
                if not any(s in unit or unit in s for s in held):
                    add(unit)
        elif not spans:  # no evidence marked: the whole question stands for it
            add(units(case["question"])[-1], case["labels"], case["labels"])
    for e in examples:
        add(e["text"], () if e["concern"] == NONE else (e["concern"],))
    targets, weights = np.stack(targets), np.stack(weights)
    positives, negatives = (targets * weights).sum(0), ((1 - targets) * weights).sum(0)
    boost = np.minimum(negatives / np.maximum(positives, 1.0), MAX_POSITIVE_WEIGHT)
    weights = weights * np.where(targets > 0, boost, 1.0)
    return texts, targets, weights.astype(np.float32)


def fit(sentence_transformer, texts, targets, weights, *, show_progress: bool = False):
    import torch
    from tqdm import tqdm

    from .classifier import MAX_TOKENS

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    network = build_network(sentence_transformer, len(CONCERNS))
    tokenizer = sentence_transformer[0].tokenizer
    trainable = [p for p in network.encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": trainable, "lr": LEARNING_RATE},
                                   {"params": network.head.parameters(), "lr": HEAD_LEARNING_RATE}],
                                  weight_decay=0.01)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length
    batches = [order[i:i + 32] for i in range(0, len(order), 32)]
    for epoch in range(EPOCHS):
        network.train()
        for b in tqdm(rng.permutation(len(batches)), desc=f"Safety classifier, epoch {epoch + 1}/{EPOCHS}",
                      disable=not show_progress):
            rows = batches[b]
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                              return_tensors="pt")
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                network(dict(batch)), torch.from_numpy(targets[rows]), weight=torch.from_numpy(weights[rows]),
                reduction="sum") / max(float(weights[rows].sum()), 1.0)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    network.eval()
    return network


def pattern_flags(cases: list[dict]) -> list[set[str]]:
    from .patterns import match

    return [{m.pattern.concern for m in match(c["question"])} for c in cases]


def figures(labels: list[tuple[str, ...]], flagged: list[set[str]]) -> dict:
    """Recall per concern (flagged at all, and flagged with that concern) and false alarms."""
    out: dict[str, float | int | None] = {}
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


def choose_thresholds(labels, scores, patterns, budget: float = FALSE_ALARM_BUDGET) -> dict[str, float]:
    """Per concern, a threshold on the classifier's score. Starting from MAX_THRESHOLD for all,
    the concern whose lowering finds the most missed questions per false alarm added is lowered,
    a few steps at a time, while the false alarms stay within `budget` (patterns included)."""
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
            for step in (1, 2, 3, 5, 8, 13, 21):
                if position[concern] + step >= len(grid):
                    break
                trial = {**position, concern: position[concern] + step}
                h, a = measure(trial)
                if a > budget or h <= hits:
                    continue
                gain = (h - hits) / (a - alarms + 1e-3)
                if best is None or gain > best[0]:
                    best = (gain, trial, h, a)
        if best is None:
            break
        _, position, hits, alarms = best
    return {c: float(grid[position[c]]) for c in CONCERNS}


def data_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores(model: SafetyModel, cases: list[dict], rows: list[int]) -> list[dict[str, float]]:
    return [model.scores(cases[i]["question"]) for i in rows]


def train(embedder, *, show_progress: bool = False) -> SafetyModel:
    started = time.perf_counter()
    st = embedder.load()
    cases, examples = read_cases(), read_examples()
    tune = [i for i, c in enumerate(cases) if c.get("split") == "tune"]
    heldout = [i for i, c in enumerate(cases) if c.get("split") == "heldout"]
    patterns = pattern_flags(cases)
    order = np.random.default_rng(SEED).permutation(len(tune))
    validation = sorted(tune[j] for j in order[::VALIDATION_SHARE])
    first_rows = sorted(set(tune) - set(validation))

    first = SafetyModel(embedder.model_id, CONCERNS, {c: 0.5 for c in CONCERNS},
                        network=fit(st, *instances(cases, first_rows, examples), show_progress=show_progress),
                        tokenizer=st[0].tokenizer)
    val_scores = _scores(first, cases, validation)
    val_labels, val_patterns = [cases[i]["labels"] for i in validation], [patterns[i] for i in validation]
    thresholds = choose_thresholds(val_labels, val_scores, val_patterns)

    texts, targets, weights = instances(cases, tune, examples)
    model = SafetyModel(embedder.model_id, CONCERNS, thresholds,
                        network=fit(st, texts, targets, weights, show_progress=show_progress),
                        tokenizer=st[0].tokenizer)
    held_flags = flags_at(_scores(model, cases, heldout), [patterns[i] for i in heldout], thresholds)
    from importlib.metadata import version

    model.meta = {
        "trained_on": {"data": "assistant/evaluation/safety.jsonl", "split": "tune", "sha256": data_hash(DATA),
                       "questions": len(tune), "units": len(texts), "examples": "assistant/safety/examples.jsonl",
                       "examples_sha256": data_hash(EXAMPLES), "example_sentences": len(examples)},
        "base_model": f"{embedder.model_id} ({getattr(embedder, 'source', '')})",
        "method": f"MiniLM's 6 layers fine-tuned (word embeddings frozen), mean pooling, a linear head per concern; "
                  f"{EPOCHS} epochs, AdamW {LEARNING_RATE} (head {HEAD_LEARNING_RATE}), weighted BCE; thresholds "
                  f"on a fifth of the tuning questions scored by a network trained on the rest, false alarms "
                  f"within {FALSE_ALARM_BUDGET}",
        "versions": {"torch": version("torch"), "transformers": version("transformers")},
        "figures": {"tune_validation_fifth": figures(val_labels, flags_at(val_scores, val_patterns, thresholds)),
                    "heldout": figures([cases[i]["labels"] for i in heldout], held_flags)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    from index import get_embedder

    model = train(get_embedder(), show_progress=sys.stderr.isatty())
    model.save()
    print(json.dumps(model.meta["figures"], indent=1))
    print(f"wrote {META_PATH} and {WEIGHTS_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
