"""Every question of every evaluation set answered through the ONNX exports and through torch's
models, on the same index: how many answers differ (citations, declining, safety notice).

    python benchmarks/onnx_agreement.py [--home DIR] [--sets testset,articles,real,safety] [--split heldout]

DIR is a data folder whose index and exports are built (a temporary one is built otherwise).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.evaluation import load_testset  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index import BundledMiniLM  # noqa: E402


def answered(assistant, case):
    answer = assistant.ask(case.question, article_id=case.article_filter)
    return (answer.abstained, [(c.article_id, c.start, c.end) for c in answer.citations],
            answer.safety.concerns if answer.safety else ())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path)
    parser.add_argument("--sets", default="testset,articles,real,safety")
    parser.add_argument("--split", help="only this split of each set (tune or heldout)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="closer-agree-"))
    settings = Settings(home=home, corpus=REPO / "corpus")
    onnx = Assistant.open(settings)
    torch = Assistant(onnx.index, BundledMiniLM())
    print(f"ONNX: {type(onnx.embedder).__name__}; torch: {type(torch.embedder).__name__}")
    print("| set | questions | answers that differ | ONNX s | torch s |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.sets.split(","):
        cases = [c for c in load_testset(REPO / "assistant/evaluation" / f"{name}.jsonl").cases
                 if args.split is None or c.split in (None, args.split)]
        timings, results = [], []
        for assistant in (onnx, torch):
            started = time.perf_counter()
            results.append([answered(assistant, c) for c in cases])
            timings.append(time.perf_counter() - started)
        differ = [c.id for c, a, b in zip(cases, *results) if a != b]
        print(f"| {name} | {len(cases)} | {len(differ)}{' ' + ', '.join(differ[:10]) if differ else ''} "
              f"| {timings[0]:.1f} | {timings[1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
