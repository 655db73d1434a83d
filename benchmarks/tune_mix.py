"""Choose the search settings on a mix of article-worded and real questions, so that neither kind is
traded away silently: the built-in set and the tuning part of the real-question set, never its
held-out part.

    python benchmarks/tune_mix.py --home /tmp/evalhome [--json out.json]

Each setting is scored by passage hit@1 and hit@3 on each set (the project's passages and
vectors, search settings varied in memory); the table is sorted by the mean hit@1 of the two sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from compare import REAL

from assistant.evaluation import load_testset, open_assistant
from assistant.evaluation import metrics as m
from assistant.questions import asking_sentences
from assistant.settings import Settings, default_corpus
from index import IndexSettings, get_embedder

GRID = {
    "dense_weight": [0.5, 0.6, 0.7, 0.85],
    "sentence_weight": [0.5, 1.0],
    "phrase_weight": [0.0, 0.2, 0.4],
    "late_weight": [0.25, 0.5, 0.75],
    "question_focus": [0.0, 0.3],
    "query_adapter": [False, True],
}

def prepared(assistant, evalset):
    """Each answerable question's vectors (encoded once: the whole text, its token vectors, its
    asking sentences) and which passages answer it."""
    index = assistant.index
    folded = [m.fold(c.text) for c in index.chunks]
    cases = []
    for case in evalset.cases:
        if not (case.answerable and case.judged):
            continue
        vector, tokens = assistant.embedder.encode_question(case.question)
        asking = asking_sentences(case.question)
        asking_vector = assistant.embed(asking) if asking else None
        relevant = [any(m.fold(q) in f for q in case.expected_quotes) if case.expected_quotes
                    else c.article_id in case.expected_articles for c, f in zip(index.chunks, folded)]
        cases.append((case, vector, asking_vector, tokens, relevant))
    return cases


def score(assistant, cases) -> dict[str, float]:
    index = assistant.index
    hit1 = hit3 = 0.0
    focus = index.settings.search.question_focus
    for case, whole, asking, tokens, relevant in cases:
        vector = whole
        if asking is not None and focus > 0:  # as Assistant.search_vector blends them
            vector = (1.0 - focus) * whole + focus * asking
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        if index.settings.search.query_adapter and assistant.adapter is not None:
            vector = assistant.adapter.apply(vector)
        hits = assistant.search(case.question, whole, tokens, k=3, search_vector=vector)
        ranked = [relevant[h.row] for h in hits]
        hit1 += m.hit_at(ranked, 1)
        hit3 += m.hit_at(ranked, 3)
    return {"hit@1": hit1 / len(cases), "hit@3": hit3 / len(cases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    embedder = get_embedder()
    own, real = load_testset(None), load_testset(REAL, split="tune")
    assistant = open_assistant(own, Settings(home=args.home / "project", corpus=default_corpus()), embedder,
                               index_settings=IndexSettings(), notify=print)
    sets = {"own": prepared(assistant, own), "real-tune": prepared(assistant, real)}
    base = assistant.index.settings
    rows = []

    def measure(search) -> dict:
        assistant.index.settings = replace(base, search=search)
        row = {g: getattr(search, g) for g in GRID}
        for name, cases in sets.items():
            for metric, value in score(assistant, cases).items():
                row[f"{name} {metric}"] = value
        row["mean hit@1"] = (row["own hit@1"] + row["real-tune hit@1"]) / 2
        return row

    for values in itertools.product(*GRID.values()):
        rows.append(measure(replace(base.search, **dict(zip(GRID, values)))))
    order = lambda r: (-r["mean hit@1"], -(r["own hit@3"] + r["real-tune hit@3"]))  # noqa: E731
    rows.sort(key=order)
    assistant.index.settings = base
    names = list(GRID) + ["own hit@1", "own hit@3", "real-tune hit@1", "real-tune hit@3",
                          "mean hit@1"]
    print("| " + " | ".join(names) + " |\n|" + " --- |" * len(names))
    for row in rows[:25]:
        print("| " + " | ".join(f"{row[n]:.3f}" if isinstance(row[n], float) and "hit" in n else str(row[n])
                                for n in names) + " |")
    defaults = next(r for r in rows if all(r[g] == getattr(base.search, g) for g in GRID))
    print("defaults:", {n: round(defaults[n], 3) for n in names})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
