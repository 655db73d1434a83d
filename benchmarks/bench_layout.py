"""The figures of a test set through the exact layout and through the approximate one, on the
same index (issue 17: within 0.005 of the exact search).

    python benchmarks/bench_layout.py --home H                                    # the built-in set
    python benchmarks/bench_layout.py --home H --testset ../shared/benchmarks/scifact \\
        --index H2/eval/scifact-train-…   # a BEIR set's own index, as `closer eval` built it

The index is opened as saved (an exact scan of every vector, float16 token vectors), then laid
out again in memory (`CorpusIndex.relaid`) with the vector index and token storage asked for
(`--vectors ivfpq --tokens pq` by default; a set too small for an inverted file gets HNSW) and
evaluated again with the same questions and the same models. No model is trained on anything
here; the approximate indexes and codes are learnt from the index's own vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEYS = ("hit@1", "hit@3", "hit@5", "mrr@5", "ndcg@10", "recall@10", "quote_hit@1", "quote_hit@3",
        "declined_unanswerable", "wrongly_declined", "token_f1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True, help="data folder: its index and exported models")
    parser.add_argument("--testset", default=None, help="a test set (default: the built-in one)")
    parser.add_argument("--split", default=None)
    parser.add_argument("--index", type=Path, default=None, help="the index the test set is about (default: HOME's)")
    parser.add_argument("--vectors", default="ivfpq")
    parser.add_argument("--tokens", default="pq")
    parser.add_argument("--k", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.evaluation.runner import run_evaluation
    from assistant.evaluation.testsets import load_testset
    from assistant.models import question_embedder
    from assistant.service import Assistant
    from assistant.settings import Settings
    from index import load_index

    settings = Settings(home=args.home, corpus=REPO / "corpus")
    embedder = question_embedder(settings)
    evalset = load_testset(args.testset, split=args.split)
    k = args.k or (10 if evalset.unit == "document" else 5)
    exact = load_index(args.index or settings.index_dir, model_id=embedder.model_id, dimension=embedder.dimension)
    started = time.perf_counter()
    approximate = exact.relaid(exact.settings.with_layout(args.vectors, args.tokens))
    laid = time.perf_counter() - started
    results = {}
    for name, index in (("exact", exact), ("approximate", approximate)):
        assistant = Assistant(index, embedder)
        results[name] = {"layout": index.layout(),
                         "metrics": run_evaluation(assistant, evalset, k=k).metrics}
    print(f"{evalset.name}: {results['exact']['metrics'].get('questions', '')} questions, k = {k}; "
          f"laid out again in {laid:.1f} s")
    for name in results:
        print(f"  {name}: {json.dumps(results[name]['layout'])}")
    print("\n| metric | exact | approximate | difference |\n| --- | --- | --- | --- |")
    worst = 0.0
    for key in KEYS:
        a, b = results["exact"]["metrics"].get(key), results["approximate"]["metrics"].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            worst = max(worst, abs(a - b))
            print(f"| {key} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    print(f"\nlargest difference: {worst:.4f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
