"""Sweep retrieval settings on one test set: for each chunk size and context an index is built
(embeddings cached in HOME/cache), then fusion settings are varied in memory.

    python benchmarks/tune.py --set scifact --home /tmp/evalhome --chunks 800 --contexts section,title+section
    python benchmarks/tune.py --set own --home /tmp/evalhome --contexts title+section --sentence-weights 0,0.5,0.7,1
    python benchmarks/tune.py --set own --home /tmp/evalhome --contexts title+section --phrase-weights 0,0.2,0.4
    python benchmarks/tune.py --set scifact --home /tmp/evalhome --contexts title+section --late-weights 0,0.3,0.5,0.7

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


def sweep_documents(assistant, evalset, k: int) -> list[tuple[str, dict, float]]:
    """BEIR only: each query's dense and keyword candidates are read once, then every fusion is
    scored from them (what `retrieve` does, without recomputing the rankings per variant)."""
    from assistant.evaluation import metrics as m
    from assistant.retrieval import fuse_rankings, fuse_scores

    index = assistant.index
    depth = index.settings.search.candidates
    vectors = assistant.embedder.encode([c.question for c in evalset.cases], batch_size=64)
    lists = [(index.dense_search(v, depth), index.keyword_search(c.question, depth), set(c.expected_articles))
             for c, v in zip(evalset.cases, vectors)]
    out = []
    for fusion, params in FUSIONS:
        ndcgs = []
        for dense, keyword, expected in lists:
            if fusion == "rrf":
                fused = fuse_rankings([[r for r, _ in dense], [r for r, _ in keyword]], k=params["rrf_k"])
            else:
                w = params["dense_weight"]
                fused = fuse_scores([dense, keyword], [w, 1 - w])
            ranked = sorted(fused, key=lambda row: -fused[row])
            docs = list(dict.fromkeys(index.chunks[r].article_id for r in ranked))
            ndcgs.append(m.ndcg_at([d in expected for d in docs], k, len(expected)))
        out.append((fusion, params, m.mean(ndcgs)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, choices=sorted(SETS))
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--chunks", default="800", help="comma-separated max_chars values")
    parser.add_argument("--contexts", default="section,title+section")
    parser.add_argument("--metrics", default="ndcg@{k},hit@1,mrr@{k},quote_hit@1,declined_unanswerable")
    parser.add_argument("--sentence-weights", help="instead of the fusions, sweep search.sentence_weight "
                        "(comma-separated, e.g. 0,0.5,0.7,1) with the default fusion")
    parser.add_argument("--phrase-weights", help="instead of the fusions, sweep search.phrase_weight "
                        "(comma-separated, e.g. 0,0.2,0.4) with the default fusion")
    parser.add_argument("--late-weights", help="instead of the fusions, sweep search.late_weight "
                        "(comma-separated, e.g. 0,0.3,0.5,0.7) with the default fusion")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    path, k, split = SETS[args.set]
    evalset = load_testset(path, split=split)
    embedder = get_embedder()
    names = [n.format(k=k) for n in args.metrics.split(",")]
    built: dict = {}
    rows = []
    print("| chunk | context | fusion | " + " | ".join(names) + " |", flush=True)
    for max_chars in (int(c) for c in args.chunks.split(",")):
        for context in args.contexts.split(","):
            swept = next(((name, values) for name, values in (
                ("sentence_weight", args.sentence_weights), ("phrase_weight", args.phrase_weights),
                ("late_weight", args.late_weights)) if values), None)
            if swept:
                setting, values = swept
                for weight in (float(w) for w in values.split(",")):
                    settings = IndexSettings(chunking=ChunkSettings(max_chars=max_chars), context=context,
                                             search=replace(SearchSettings(), **{setting: weight}))
                    metrics = evaluate_system(f"c{max_chars}-{context}", settings, evalset, args.home, embedder, k,
                                              built)
                    cells = ["–" if metrics.get(n) is None else f"{metrics[n]:.3f}" for n in names]
                    print(f"| {max_chars} | {context} | {setting}={weight} | " + " | ".join(cells) + " |",
                          flush=True)
                    rows.append({"max_chars": max_chars, "context": context, setting: weight, **metrics})
                continue
            if evalset.format == "beir":
                settings = IndexSettings(chunking=ChunkSettings(max_chars=max_chars), context=context)
                evaluate_system(f"c{max_chars}-{context}", settings, evalset, args.home, embedder, k, built)
                assistant = built[(evalset.name, settings.chunking, context, settings.search.late_weight > 0)]
                for fusion, params, ndcg in sweep_documents(assistant, evalset, k):
                    label = f"{fusion} " + " ".join(f"{a}={b}" for a, b in params.items())
                    print(f"| {max_chars} | {context} | {label} | {ndcg:.3f} |", flush=True)
                    rows.append({"max_chars": max_chars, "context": context, "fusion": fusion, **params,
                                 f"ndcg@{k}": ndcg})
                continue
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
