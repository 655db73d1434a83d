"""Sweep retrieval settings on one test set: for each chunk size and context an index is built
(embeddings cached in HOME/cache), then fusion settings are varied in memory.

    python benchmarks/tune.py --set scifact --home /tmp/evalhome --chunks 800 --contexts section,title+section

Tune on SciFact's train split; check the winners on the own test set and XQuAD, which they were
not tuned on (benchmarks/README.md records both).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from compare import SETS, evaluate_system

from assistant.evaluation import load_testset
from index import IndexSettings, SearchSettings, get_embedder
from ingest import ChunkSettings

FUSIONS = [("rrf", {"rrf_k": 60}), ("rrf", {"rrf_k": 20})] + [
    ("convex", {"dense_weight": w}) for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, choices=sorted(SETS))
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--chunks", default="800", help="comma-separated max_chars values")
    parser.add_argument("--contexts", default="section,title+section")
    parser.add_argument("--metrics", default="ndcg@{k},hit@1,mrr@{k},quote_hit@1,declined_unanswerable")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    path, k = SETS[args.set]
    evalset = load_testset(path)
    embedder = get_embedder()
    names = [n.format(k=k) for n in args.metrics.split(",")]
    built: dict = {}
    rows = []
    print("| chunk | context | fusion | " + " | ".join(names) + " |", flush=True)
    for max_chars in (int(c) for c in args.chunks.split(",")):
        for context in args.contexts.split(","):
            for fusion, params in FUSIONS:
                settings = IndexSettings(chunking=ChunkSettings(max_chars=max_chars), context=context,
                                         search=replace(SearchSettings(), fusion=fusion, **params))
                metrics = evaluate_system(f"c{max_chars}-{context}", settings, evalset, args.home, embedder, k, built)
                label = f"{fusion} " + " ".join(f"{a}={b}" for a, b in params.items())
                cells = ["–" if metrics.get(n) is None else f"{metrics[n]:.3f}" for n in names]
                print(f"| {max_chars} | {context} | {label} | " + " | ".join(cells) + " |", flush=True)
                rows.append({"max_chars": max_chars, "context": context, "fusion": fusion, **params, **metrics})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
