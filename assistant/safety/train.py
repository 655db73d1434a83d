"""Rebuild the safety classifier from the labelled sets' tuning parts (about 95 minutes on 2 cores:
two networks of about 47 minutes each, averaged).

    python -m assistant.safety.train            # writes assistant/safety/classifier.{json,safetensors}
    python -m assistant.safety.train --out DIR  # writes them in DIR instead (to compare with the shipped one)
    python -m assistant.safety.train --recalibrate  # the stored network, its operating point chosen again

Data, all in the repository:
- `assistant/evaluation/safety.jsonl`, `safety_more.jsonl` and `safety_next.jsonl`, the lines with
  `"split": "tune"`: questions labelled with the concerns they raise, and for those that raise one,
  `evidence`: the sentences that carry the disclosure. The lines with `"split": "calibrate"` choose
  the operating point (below); the held-out parts are never read here except to record their
  figures at the end.
- `real.jsonl`'s tuning part: real relationship questions (Counsel Chat and written), none a
  disclosure, as negatives; its held-out part measures the notices real questions get.
- A question held out in any set (real.jsonl's included) is left out of training even where
  another set has it in its tuning part (`trained_rows`).
- `assistant/safety/examples.jsonl` and `examples_stop33.jsonl`: short sentences written for
  training only, per concern and look-alikes ("none"); never measured on.

Two networks are fitted the same way (INGREDIENTS): one with `examples.jsonl`, one with both
example files; the shipped network is the mean of their weights (`soup`).

Training units: positives are the evidence sentences (labelled with their concern; the question's
other concerns are left unknown for them) and the examples of each concern; negatives are every
unit of the questions that raise nothing, the look-alike examples, and the units of a disclosing
question that hold none of its evidence (the story around it). The network (`classifier.py`) is
trained with a weighted binary cross-entropy per concern (positives weighted up to the negatives,
at most 10x).

The operating point: the network is trained on the whole tuning part; it then scores the
calibration part (`"split": "calibrate"`: sets Q and Z, writers none of the tuning data came
from, never trained on), and there (`choose_operating_point`) one threshold for every concern
and a pattern floor (a pattern's match counts only where the classifier gives some concern at
least that score) are chosen: the most disclosures found with false alarms, patterns included,
within FALSE_ALARM_BUDGET. Tried before and dropped: thresholds chosen on a fifth of the tuning
part scored by a network trained on the other four fifths (a second network's scores near 0.99
are not the first's: one threshold and a floor chosen so gave 0.53 recall at 0.04 false alarms
on the fresh set R, where the fifth promised 0.77 at 0.06), and a threshold per concern chosen on
the calibration part (stop 32: it fits those 500 questions; 0.088 false alarms on safety.jsonl's
held-out part where calibration promised 0.06).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from .classifier import META_PATH, WEIGHTS_PATH, SafetyModel, SafetyModelError, build_network, units
from .patterns import counted, match, normalise
from .records import CONCERNS, NONE

EVALUATION = Path(__file__).resolve().parent.parent / "evaluation"
REAL = EVALUATION / "real.jsonl"
# What the shipped classifier is trained on, read in this order. real.jsonl's questions (issue 13's
# real set) raise no concern: its tuning part adds real relationship questions as negatives, its
# held-out part measures the notices they get.
DATA = (EVALUATION / "safety.jsonl", EVALUATION / "safety_more.jsonl", EVALUATION / "safety_next.jsonl", REAL)
EXAMPLES = Path(__file__).with_name("examples.jsonl")
# Written in stop 33 aimed at the kinds of disclosure missed (consent, coercive control, stalking,
# passive suicidal thoughts, harm told by the one who did it, grooming...) and their look-alikes.
MORE_EXAMPLES = Path(__file__).with_name("examples_stop33.jsonl")
# Stop 34: two networks are trained with the same seed and settings, one on EXAMPLES and one on
# EXAMPLES and MORE_EXAMPLES, and their weights averaged (a "model soup": both start from the same
# MiniLM weights, so their average is a network). The network with the stop 33 examples alone found
# more abuse with a third fewer false alarms and lost self-harm and harm to others (stop 33); the
# average found more disclosures than either with fewer false alarms than stop 32's, though it
# misses 15 held-out disclosures stop 32's found (self-harm and harm to others among them;
# benchmarks/README.md, stop 34).
INGREDIENTS = ((EXAMPLES,), (EXAMPLES, MORE_EXAMPLES))
# Stop 32: three epochs at 6e-5, and the weights after epochs 2 and 3 averaged (as stochastic weight
# averaging does). Two epochs (at 3e-5 or 6e-5) underfit self-harm on this data: the network scored
# some of its own training disclosures 0.70-0.92 and lost self-harm on every held-out part; the
# third epoch's weights alone won it back in part and lost abuse; their average found more
# disclosures than either (self-harm back at the level of the classifier before), with fewer false
# alarms than epoch 2's (benchmarks/README.md, stops 31 and 32).
EPOCHS = 3
AVERAGE_FROM = 2  # the weights at the end of this epoch and of every later one are averaged
LEARNING_RATE, HEAD_LEARNING_RATE = 6e-5, 1e-3
MAX_POSITIVE_WEIGHT = 10.0
# On the calibration part, patterns and classifier together. Twice the target: a person in
# danger missed costs more than a calm notice shown above an ordinary answer, and on the
# calibration part recall rises steeply up to about this point (a sweep before `named-abuse` was
# exempt from the floor: 0.77 at 0.03, 0.855 at 0.055, then 0.86 at 0.08). Its cost on real
# questions: 0.054 of real.jsonl's held-out relationship questions get a notice (stop 34; 0.040 in
# stop 32).
# Budgets of 0.045 and 0.03 were measured afterwards (benchmarks/README.md) and not taken: they
# halve the false alarms but lose abuse, child and harm-to-others disclosures the layer found before.
FALSE_ALARM_BUDGET = 0.06
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
PATTERN_FLOORS = (0.0, 0.05, 0.2, 0.5, 0.7, 0.9)
SEED = 13


def read_cases(path: Path = DATA[0]) -> list[dict]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            concern = record.get("concern")
            labels = [concern] if isinstance(concern, str) else list(concern or [])
            record["labels"] = tuple(c for c in labels if c != NONE)
            cases.append(record)
    return cases


def read_all(paths=DATA) -> list[dict]:
    """The cases of every labelled set, in order, each with the `file` it came from."""
    return [dict(case, file=path) for path in paths for case in read_cases(path)]


def read_examples(*paths: Path) -> list[dict]:
    """The example sentences of `paths` (EXAMPLES when none), in order."""
    return [json.loads(line) for path in (paths or (EXAMPLES,))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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


def fit(sentence_transformer, texts, targets, weights, *, show_progress: bool = False,
        learning_rate: float = LEARNING_RATE, epochs: int = EPOCHS, average_from: int = AVERAGE_FROM):
    """The network trained for `epochs`, its weights averaged over the ends of epochs `average_from`
    to `epochs` (one epoch's weights when `average_from` >= `epochs`)."""
    import torch
    from tqdm import tqdm

    from .classifier import MAX_TOKENS

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    network = build_network(sentence_transformer, len(CONCERNS))
    tokenizer = sentence_transformer[0].tokenizer
    trainable = [p for p in network.encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": trainable, "lr": learning_rate},
                                   {"params": network.head.parameters(), "lr": HEAD_LEARNING_RATE}],
                                  weight_decay=0.01)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length
    batches = [order[i:i + 32] for i in range(0, len(order), 32)]
    total, snapshots = {}, 0
    for epoch in range(epochs):
        network.train()
        for b in tqdm(rng.permutation(len(batches)), desc=f"Safety classifier, epoch {epoch + 1}/{epochs}",
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
        if epoch + 1 >= min(average_from, epochs):
            for key, value in network.trained_state().items():
                total[key] = total.get(key, 0) + value.detach().double()
            snapshots += 1
    if snapshots > 1:
        state = network.trained_state()
        network.load_state_dict({k: (total[k] / snapshots).to(state[k].dtype) for k in total}, strict=False)
    network.eval()
    return network


def averaged(epochs: int, average_from: int) -> str:
    """How `fit` made the weights, for the classifier's record."""
    first = min(average_from, epochs)
    return f"weights averaged over epochs {first}-{epochs}" if first < epochs else "the last epoch's weights"


def pattern_matches(cases: list[dict]) -> list[list]:
    """The patterns' matches in each case (`patterns.match`), read once."""
    return [match(c["question"]) for c in cases]


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


def flags_at(scores: list[dict[str, float]], matches: list[list], thresholds: dict[str, float],
             pattern_floor: float = 0.0) -> list[set[str]]:
    """What is flagged, as `Detector.assess` flags it: each concern whose score reaches its
    threshold, and the concerns of the pattern matches that count (`patterns.counted`)."""
    return [{m.pattern.concern for m in counted(found, sc, pattern_floor)} | {c for c, s in sc.items() if s >= thresholds[c]}
            for sc, found in zip(scores, matches)]


def choose_operating_point(labels, scores, matches, budget: float = FALSE_ALARM_BUDGET) -> tuple[float, float]:
    """(threshold, pattern floor): of THRESHOLDS x PATTERN_FLOORS, the pair that finds the most
    disclosures with false alarms within `budget`; fewer false alarms, then the higher threshold
    and floor, break ties. With nothing within the budget, the strictest pair."""
    crisis = [i for i, ls in enumerate(labels) if ls]
    safe = [i for i, ls in enumerate(labels) if not ls]
    best = None
    for threshold in THRESHOLDS:
        for floor in PATTERN_FLOORS:
            flags = flags_at(scores, matches, {c: threshold for c in CONCERNS}, floor)
            hits, alarms = sum(bool(flags[i]) for i in crisis), sum(bool(flags[i]) for i in safe)
            key = (alarms <= budget * len(safe), hits if alarms <= budget * len(safe) else -alarms, -alarms,
                   threshold, floor)
            if best is None or key > best[0]:
                best = (key, threshold, floor)
    return best[1], best[2]


def held_out_questions(cases: list[dict]) -> set[str]:
    """Every question held out in `cases` or in real.jsonl (whether training reads it or not)."""
    held = {c["question"] for c in cases if c.get("split") == "heldout"}
    return held | {c["question"] for c in read_cases(REAL) if c.get("split") == "heldout"}


def trained_rows(cases: list[dict]) -> list[int]:
    """The tuning lines trained on: every `"split": "tune"` line except a question that another
    set holds out (Counsel Chat's questions are in both real.jsonl and safety.jsonl, in either part).
    The classifier of stops 28-31 was trained before this rule, on 36 of real.jsonl's held-out
    questions (as look-alikes); the one shipped since stop 32 is not."""
    held = held_out_questions(cases)
    return [i for i, c in enumerate(cases) if c.get("split") == "tune" and c["question"] not in held]


def data_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def relative(path: Path) -> str:
    """`path` from the repository's top (as it is when outside the repository)."""
    try:
        return path.relative_to(EVALUATION.parent.parent).as_posix()
    except ValueError:
        return path.as_posix()


def tune_hash(paths=DATA) -> str:
    """The hash of the tuning lines of every labelled set, in order: what the classifier is made
    from (held-out lines added later don't make it stale)."""
    digest = hashlib.sha256()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line).get("split") == "tune":
                digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def soup(networks) -> object:
    """The first of `networks` with its trained weights replaced by the mean of all of theirs."""
    states = [network.trained_state() for network in networks]
    first = networks[0]
    first.load_state_dict({k: (sum(state[k].detach().double() for state in states) / len(states)).to(v.dtype)
                           for k, v in states[0].items()}, strict=False)
    first.eval()
    return first


def train(embedder, *, show_progress: bool = False, data=DATA, learning_rate: float = LEARNING_RATE,
          epochs: int = EPOCHS, average_from: int = AVERAGE_FROM, ingredients=INGREDIENTS) -> SafetyModel:
    """Fit one network per set of example files in `ingredients` on the tuning part of `data`,
    average their weights (`soup`), then `calibrate` the result."""
    started = time.perf_counter()
    st = embedder.load()
    cases = read_all(data)
    tune = trained_rows(cases)
    networks, trained = [], []
    for paths in ingredients:
        examples = read_examples(*paths)
        texts, targets, weights = instances(cases, tune, examples)
        networks.append(fit(st, texts, targets, weights, show_progress=show_progress, learning_rate=learning_rate,
                            epochs=epochs, average_from=average_from))
        trained.append({"examples": [relative(path) for path in paths],
                        "examples_sha256": [data_hash(path) for path in paths],
                        "example_sentences": len(examples), "units": len(texts)})
    model = SafetyModel(embedder.model_id, CONCERNS, {c: 0.5 for c in CONCERNS}, network=soup(networks),
                        tokenizer=st[0].tokenizer)
    from importlib.metadata import version

    model.meta = {
        "trained_on": {"data": [relative(path) for path in data], "split": "tune", "tune_sha256": tune_hash(data),
                       "questions": len(tune), "networks": trained},
        "base_model": f"{embedder.model_id} ({getattr(embedder, 'source', '')})",
        "method": f"MiniLM's 6 layers fine-tuned (word embeddings frozen), mean pooling, a linear head per concern; "
                  f"{epochs} epochs, AdamW {learning_rate} (head {HEAD_LEARNING_RATE}), weighted BCE, "
                  f"{averaged(epochs, average_from)}; "
                  + (f"the weights of {len(networks)} such networks (one per set of examples) averaged; "
                     if len(networks) > 1 else "")
                  + f"one threshold and a pattern floor chosen on the calibration part, false alarms within "
                    f"{FALSE_ALARM_BUDGET}",
        "versions": {"torch": version("torch"), "transformers": version("transformers")},
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    return calibrate(model, cases, data)


def calibrate(model: SafetyModel, cases: list[dict] | None = None, data=DATA) -> SafetyModel:
    """Choose the operating point on the calibration part and record every part's figures."""
    cases = cases if cases is not None else read_all(data)
    part = {split: [i for i, c in enumerate(cases) if c.get("split") == split] for split in ("calibrate", "heldout")}
    matches = pattern_matches(cases)
    scored = {i: model.scores(cases[i]["question"]) for i in part["calibrate"] + part["heldout"]}
    calibration = part["calibrate"]
    threshold, floor = choose_operating_point([cases[i]["labels"] for i in calibration],
                                              [scored[i] for i in calibration], [matches[i] for i in calibration])
    model.thresholds = {c: threshold for c in CONCERNS}

    def measured(rows):
        return figures([cases[i]["labels"] for i in rows],
                       flags_at([scored[i] for i in rows], [matches[i] for i in rows], model.thresholds, floor))

    model.meta.update({
        "pattern_floor": floor,
        "figures": {"calibrate": measured(calibration),
                    "heldout": {relative(path): measured([i for i in part["heldout"] if cases[i]["file"] == path])
                                for path in data}},
    })
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recalibrate", action="store_true", help="keep the stored network (in --out DIR when "
                        "given); choose its "
                        "operating point again and record the figures (minutes, not the training's 95)")
    parser.add_argument("--out", type=Path, help="write classifier.json and classifier.safetensors here "
                        "instead of assistant/safety/")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help="the encoder's learning rate")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the training units")
    parser.add_argument("--average-from", type=int, default=AVERAGE_FROM, help="average the weights at the "
                        "end of this epoch and every later one (--epochs or more: the last epoch's weights)")
    args = parser.parse_args(argv)
    from index import get_embedder

    meta, weights = ((args.out / META_PATH.name, args.out / WEIGHTS_PATH.name) if args.out
                     else (META_PATH, WEIGHTS_PATH))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    if args.recalibrate:  # the classifier in --out DIR when given (meta, weights), else the shipped one
        try:
            stored = SafetyModel.load(get_embedder().load(), meta, weights)
        except SafetyModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        model = calibrate(stored)
    else:
        model = train(get_embedder(), show_progress=sys.stderr.isatty(), learning_rate=args.learning_rate,
                      epochs=args.epochs, average_from=args.average_from)
    model.save(meta, weights)
    print(json.dumps(model.meta["figures"], indent=1))
    print(f"wrote {meta} and {weights}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
