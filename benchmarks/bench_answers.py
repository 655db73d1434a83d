"""What one answer costs in a warm process, and how much of it is the safety layer.

    CLOSER_THREADS=1 python benchmarks/bench_answers.py --home DIR

Every question of the built-in and real test sets (426, most of the real ones long stories) is
answered once by an assistant on DIR's index and exported models (the question path `closer
serve` runs, no torch), one at a time; then each is only assessed by the safety layer. Reported:
mean, p50, p95 and max of an answer, and the mean of the safety assessment alone. With
CLOSER_THREADS=1 a session uses one core, as each of `closer serve`'s answers at once does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def questions() -> list[str]:
    found = []
    for name in ("testset.jsonl", "real.jsonl"):
        with open(REPO / "assistant" / "evaluation" / name, encoding="utf-8") as lines:
            found += [json.loads(line)["question"] for line in lines if line.strip()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.service import Assistant
    from assistant.settings import Settings

    assistant = Assistant.open(Settings(home=args.home, corpus=REPO / "corpus"))
    pool = questions()
    assistant.ask(pool[0])  # sessions open, caches warm
    answers, safety = [], []
    for question in pool:
        started = time.perf_counter()
        assistant.ask(question)
        answers.append(time.perf_counter() - started)
    for question in pool:
        started = time.perf_counter()
        assistant.safety.assess(question)
        safety.append(time.perf_counter() - started)
    answers.sort()
    ms = lambda seconds: f"{1000 * seconds:.0f}"  # noqa: E731
    print(f"{len(pool)} questions, {os.environ.get('CLOSER_THREADS') or os.cpu_count()} thread(s) a session, "
          f"{type(assistant.embedder).__name__}\n")
    print("| answer mean ms | p50 | p95 | max | safety assessment alone, mean ms |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {ms(statistics.mean(answers))} | {ms(statistics.median(answers))} | "
          f"{ms(answers[int(0.95 * len(answers))])} | {ms(answers[-1])} | {ms(statistics.mean(safety))} |")


if __name__ == "__main__":
    main()
