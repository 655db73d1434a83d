"""Sweep the weights of the quote score on the own test set (passage ranking is not affected).

    python benchmarks/quote_weights.py --home /tmp/cmp

Weights: (sentence similarity, passage similarity, 1/rank of the passage).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import assistant.compose as compose
from assistant.evaluation import load_testset, run_evaluation
from assistant.service import Assistant
from assistant.settings import Settings, default_corpus

WEIGHTS = [(0.75, 0.25, 0.0), (0.6, 0.4, 0.0), (0.5, 0.5, 0.0), (0.75, 0.25, 0.1), (0.6, 0.2, 0.2),
           (0.5, 0.25, 0.25), (0.4, 0.3, 0.3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    assistant = Assistant.open(Settings(home=args.home, corpus=default_corpus()))
    evalset = load_testset()
    print("| sentence | passage | rank | passage hit@1 | quote hit@1 | quote hit@3 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for weights in WEIGHTS:
        compose.SENTENCE_WEIGHT, compose.PASSAGE_WEIGHT, compose.RANK_WEIGHT = weights
        m = run_evaluation(assistant, evalset, k=5).metrics
        print("| " + " | ".join(str(w) for w in weights) +
              f" | {m['hit@1']:.3f} | {m['quote_hit@1']:.3f} | {m['quote_hit@3']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
