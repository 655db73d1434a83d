"""Rebuild the query adapter (seconds on 2 cores).

    python -m assistant.adapter.train        # writes assistant/adapter/adapter.{json,npy}

Data: `assistant/adapter/questions.jsonl`, questions written for training only, the way people ask
(short and colloquial, a story then the question, plain), never measured on: 255 name the passage
that answers them (by its article and its first words, `anchor`); 80 near the articles' topic that
no passage answers are kept for a judge of answerability (not used yet). Neither part of the
real-question test set is read. Each question's vector is mapped by W so that its passage's vector (the index's, with its
title and heading context) is the closest of all passages: cross-entropy over the passages at
temperature 0.05, Adam, weight decay keeping W small. Settings chosen on the tuning parts of the
built-in and real-question sets (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .model import QueryAdapter

DATA = Path(__file__).with_name("questions.jsonl")
STEPS, LEARNING_RATE, WEIGHT_DECAY, TEMPERATURE, SEED = 150, 1e-3, 0.1, 0.05, 13
PROBE = "he just shuts down whenever I try to talk about us"


def main(argv: list[str] | None = None) -> None:
    import torch

    from index import IndexSettings, build_index, get_embedder

    from ..evaluation.metrics import fold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "corpus")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    embedder = get_embedder()
    index, _ = build_index(args.corpus, embedder, settings=IndexSettings())
    folded = [fold(c.text) for c in index.chunks]
    questions, rows = [], []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else None
        if not record or not record["answerable"]:
            continue
        anchor = fold(record["anchor"])
        row = next((i for i, c in enumerate(index.chunks) if c.article_id == record["article_id"]
                    and anchor in folded[i]), None)
        if row is None:
            raise SystemExit(f"no passage of {record['article_id']} starts with {record['anchor']!r}: the corpus "
                             f"changed; update {DATA}")
        questions.append(record["question"])
        rows.append(row)
    torch.manual_seed(SEED)
    vectors = torch.tensor(embedder.encode(questions))
    passages = torch.tensor(index.chunk_vectors)
    target = torch.tensor(rows)
    matrix = torch.zeros(vectors.shape[1], vectors.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([matrix], lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    for _ in range(STEPS):
        adapted = vectors + vectors @ matrix
        adapted = adapted / adapted.norm(dim=1, keepdim=True)
        loss = torch.nn.functional.cross_entropy(adapted @ passages.T / TEMPERATURE, target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    adapter = QueryAdapter(embedder.model_id, matrix.detach().numpy(), {
        "trained_on": {"questions": "assistant/adapter/questions.jsonl",
                       "sha256": hashlib.sha256(DATA.read_bytes()).hexdigest(), "questions_count": len(questions)},
        "settings": {"steps": STEPS, "learning_rate": LEARNING_RATE, "weight_decay": WEIGHT_DECAY,
                     "temperature": TEMPERATURE, "seed": SEED},
        "final_loss": round(float(loss.detach()), 4)})
    probe = embedder.encode([PROBE])[0]
    adapter.meta["probe"] = {"question": PROBE, "vector_head": [round(float(x), 5) for x in adapter.apply(probe)[:8]]}
    adapter.save()
    print(f"saved the adapter ({len(questions)} questions, loss {float(loss.detach()):.3f}) in "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
