"""End-to-end timings: ingest of the corpus, and `ask` latency in a warm process beside the time
of encoding the question alone.

    python benchmarks/bench_e2e.py [--repeat 5] [--json results.json]

Everything is written to a temporary data folder; the real one is not touched.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "Is technology harming our emotional connection?",
    "What are the signs that emotional intimacy is missing?",
    "How can I listen better to my partner?",
    "What did the Gottman Institute discover about couples?",
    "we just live like flatmates now",
    "Why does emotional intimacy fade?",
    "Does physical touch help rebuild closeness?",
    "How can therapy help improve emotional intimacy?",
    "What daily habits build emotional intimacy?",
    "Is it normal to lose emotional intimacy over time?",
    "How do I show appreciation to my partner?",
    "What is the capital of France?",
    "How do I file for divorce?",
    "What is emotional intimacy?",
    "How does a lack of intimacy affect mental health?",
    "What does vulnerability mean in a relationship?",
    "How do we stop arguing all the time?",
    "What are signs of a healthy emotional connection?",
    "Can we fix this without a counsellor?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the questions")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()

    started = time.perf_counter()
    from assistant.service import Assistant, ensure_index
    from assistant.settings import Settings, default_corpus
    from index import get_embedder

    embedder = get_embedder()
    embedder.load()
    model_load = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), corpus=default_corpus())
        t = time.perf_counter()
        index, _ = ensure_index(settings, embedder)
        ingest_cold = time.perf_counter() - t
        t = time.perf_counter()
        ensure_index(settings, embedder)
        ingest_unchanged = time.perf_counter() - t
        assistant = Assistant(index, embedder)
        assistant.ask(QUESTIONS[0])  # warm-up
        ask_ms, encode_ms = [], []
        for _ in range(args.repeat):
            for q in QUESTIONS:
                t = time.perf_counter()
                assistant.ask(q)
                ask_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                embedder.encode([q])
                encode_ms.append((time.perf_counter() - t) * 1000)

    figures = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "articles": len(index.articles), "passages": len(index.chunks),
        "sentences": int(len(index.sentence_vectors)),
        "model_load_s": round(model_load, 2),
        "ingest_build_s": round(ingest_cold, 2),
        "ingest_unchanged_s": round(ingest_unchanged, 3),
        "questions": len(ask_ms),
        "ask_p50_ms": round(statistics.median(ask_ms), 1), "ask_p95_ms": round(percentile(ask_ms, 0.95), 1),
        "encode_p50_ms": round(statistics.median(encode_ms), 1),
        "encode_p95_ms": round(percentile(encode_ms, 0.95), 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
