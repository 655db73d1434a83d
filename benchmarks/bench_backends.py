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
    results = {"embedded": run_evaluation(Assistant(index, embedder), evalset, k=k).metrics}
    milvus = replace(settings, backend="milvus", milvus_uri=args.milvus_uri or str(args.home / "bench-milvus.db"),
                     milvus_token=args.milvus_token)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"bench_{(args.index or settings.index_dir).name}")
    started = time.perf_counter()
    connect(index, milvus, collection=name, notify=print)
    synced = time.perf_counter() - started
    results["milvus"] = run_evaluation(Assistant(index, embedder), evalset, k=k).metrics
    print(f"\n{evalset.name}: k = {k}; {len(index.chunks)} passages synced to Milvus ({milvus.milvus_target}) "
          f"in {synced:.1f} s (0 if they were there already)")
    print("\n| metric | embedded | Milvus | difference |\n| --- | --- | --- | --- |")
    for key in KEYS:
        a, b = results["embedded"].get(key), results["milvus"].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            print(f"| {key} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"sync_s": synced, **results}, indent=2, default=str))


if __name__ == "__main__":
    main()
