"""Peak memory of encoding late-interaction token vectors for a larger corpus (SciFact abstracts),
as the index build does it (a slice of texts at a time, kept as float16) beside holding the whole
corpus's model output at once as float32 (how it was done before).

    python benchmarks/bench_token_memory.py [--texts 2000] [--corpus ../shared/benchmarks/scifact/corpus.jsonl]

Each way runs in its own process, so each peak (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAYS = {"whole corpus at once, float32": (10**9, "float32"), "512 texts at a time, float16 (shipped)": (512, "float16")}


def measure(corpus: Path, n: int, slice_: int, dtype: str) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from index import embedders
    from index.late import token_matrix

    embedders.TOKEN_SLICE = slice_
    texts = []
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            texts.append(f"{record.get('title', '')}. {record['text']}")
            if len(texts) == n:
                break
    embedder = embedders.BundledMiniLM()
    embedder.load()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    parts = embedder.encode_tokens(texts, dtype=getattr(np, dtype))
    matrix, _ = token_matrix(parts, embedder.dimension)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"texts": len(texts), "tokens": int(len(matrix)), "model_loaded_mb": round(before / 1024),
            "peak_mb": round(peak / 1024), "index_matrix_mb": round(matrix.nbytes / 2**20), "seconds": round(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/benchmarks/scifact/corpus.jsonl")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # slice dtype: measure in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.corpus, args.texts, int(args.one[0]), args.one[1])))
        return
    print(f"{'way':42} {'texts':>6} {'tokens':>8} {'model MB':>9} {'peak MB':>8} {'matrix MB':>9} {'s':>4}")
    for name, (slice_, dtype) in WAYS.items():
        out = subprocess.run([sys.executable, __file__, "--texts", str(args.texts), "--corpus", str(args.corpus),
                              "--one", str(slice_), dtype], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:42} {r['texts']:>6} {r['tokens']:>8} {r['model_loaded_mb']:>9} {r['peak_mb']:>8} "
              f"{r['index_matrix_mb']:>9} {r['seconds']:>4}")


if __name__ == "__main__":
    main()
