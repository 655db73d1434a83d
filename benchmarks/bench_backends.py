"""A test set through both search backends on the same index: embedded (FAISS and bm25s in
this process) and Milvus (issue 17: figures within 0.01 of each other, or the difference explained).

    python benchmarks/bench_backends.py --home H                                   # the built-in set
    python benchmarks/bench_backends.py --home H --testset ../shared/benchmarks/scifact \\
        --index H2/eval/scifact-train-…   # a BEIR set's own index, as `closer eval` built it
    ... --milvus-uri http://host:19530 --milvus-token user:password   # a Milvus server

The index is opened once and evaluated as it is, then synced to Milvus (Milvus Lite in
H/bench-milvus.db unless a URI is given; collections `bench_<name>`) and evaluated again with
Milvus answering its candidate searches. Sync time and answer latencies are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEYS = ("hit@1", "hit@3", "hit@5", "mrr@5", "ndcg@10", "recall@10", "quote_hit@1", "quote_hit@3",
        "declined_unanswerable", "wrongly_declined", "token_f1", "latency_p50_ms", "latency_p95_ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True, help="data folder: its index and exported models")
    parser.add_argument("--testset", default=None, help="a test set (default: the built-in one)")
    parser.add_argument("--split", default=None)
    parser.add_argument("--index", type=Path, default=None, help="the index the test set is about (default: HOME's)")
    parser.add_argument("--milvus-uri", default=None)
    parser.add_argument("--milvus-token", default="")
    parser.add_argument("--k", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.backend import connect
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
    index = load_index(args.index or settings.index_dir, model_id=embedder.model_id, dimension=embedder.dimension)
    runs = {"embedded": run_evaluation(Assistant(index, embedder), evalset, k=k)}
    milvus = replace(settings, backend="milvus", milvus_uri=args.milvus_uri or str(args.home / "bench-milvus.db"),
                     milvus_token=args.milvus_token)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"bench_{(args.index or settings.index_dir).name}")
    started = time.perf_counter()
    connect(index, milvus, collection=name, notify=print)
    synced = time.perf_counter() - started
    runs["milvus"] = run_evaluation(Assistant(index, embedder), evalset, k=k)
    results = {backend: run.metrics for backend, run in runs.items()}
    differ = [a["id"] for a, b in zip(runs["embedded"].rows, runs["milvus"].rows) if said(a) != said(b)]
    print(f"\n{evalset.name}: k = {k}; {len(index.chunks)} passages synced to Milvus ({milvus.milvus_target}) "
          f"in {synced:.1f} s (0 if they were there already)")
    print(f"questions answered differently (retrieved passages, declining, citations): {len(differ)} of "
          f"{len(runs['embedded'].rows)}" + (f": {differ[:20]}" if differ else ""))
    print("\n| metric | embedded | Milvus | difference |\n| --- | --- | --- | --- |")
    for key in KEYS:
        a, b = results["embedded"].get(key), results["milvus"].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            print(f"| {key} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"sync_s": synced, "answered_differently": differ, **results}, indent=2,
                                        default=str))


def said(row: dict) -> tuple:
    """What a question's evaluation row says the reader got: the passages retrieved, in order,
    whether it was declined, and each quote cited."""
    retrieved = [(r.get("article_id"), r.get("section")) for r in row.get("retrieved", [])]
    cited = [(c["article_id"], c["quote"]) for c in row.get("cited", [])]
    return retrieved, row.get("abstained"), cited


if __name__ == "__main__":
    main()
