"""This project against its peers, measured in one run on the same data with `closer eval`'s metrics.

    python benchmarks/compare.py --home /tmp/evalhome [--sets own,xquad,scifact] [--json out.json]

Systems (all on the same bundled all-MiniLM-L6-v2 and the same bm25s tokenizer):
  naive    fixed 800-character windows, no context, dense FAISS only (the naive pipeline)
  haystack windows of 120 words overlapping by 20, no context, dense only (Haystack 2's
           DocumentSplitter split_by="word" and its in-memory embedding retriever)
  bm25     this project's passages, keyword ranking alone
  dense    this project's passages, dense ranking alone
  rrf      this project's passages, plain reciprocal-rank fusion (k = 60) of the two
  project-passages  the project without sentence, phrase and late-interaction scores (ablation)
  project-no-phrases  the project without phrase and late-interaction scores (ablation)
  project-no-late  the project without late interaction (ablation)
  project-no-adapter  the project without the query adapter (ablation)
  project-no-focus  the project without leaning toward a story's asking sentences (ablation)
  previous the defaults before issue 13 (dense 0.5, sentence 1.0, phrase 0.4, no focus, no adapter)
  project  this project's defaults (`IndexSettings()`)
For a BEIR set, also the whole-document peers as published figures are made (title + text, no
chunking): dense-doc, bm25-doc and rrf-doc.

Embeddings are cached in HOME/cache, so a second run encodes nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.evaluation import load_testset, open_assistant, run_evaluation
from assistant.evaluation import metrics as m
from assistant.retrieval import fuse_rankings
from assistant.settings import Settings, default_corpus
from index import CachedEmbedder, IndexSettings, KeywordIndex, SearchSettings, get_embedder
from ingest import ChunkSettings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
REAL = Path(__file__).resolve().parents[1] / "assistant" / "evaluation" / "real.jsonl"
# name: (path, k, split); "own" is the built-in set, "real-*" the two parts of the real-question set
SETS = {"own": (None, 5, None), "real-tune": (REAL, 5, "tune"), "real-heldout": (REAL, 5, "heldout"),
        "xquad": (SHARED / "xquad" / "xquad.en.json", 5, None), "scifact": (SHARED / "scifact", 10, None)}
KEY_METRICS = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@{k}", "ndcg@{k}", "article_recall@{k}", "quote_hit@1",
               "quote_hit@3", "citation_exactness", "declined_unanswerable", "wrongly_declined", "mid_thought_quotes",
               "adverts_quoted", "rejected_quoted", "latency_p50_ms"]


def systems(project: IndexSettings) -> dict[str, IndexSettings]:
    # The peers rank passages by their own vectors (sentence_weight 0), with the question as it is
    # (no focus, no adapter), and use no phrase scores, as a plain pipeline does.
    plain = replace(project.search, sentence_weight=0.0, phrase_weight=0.0, late_weight=0.0, question_focus=0.0,
                    query_adapter=False)
    only = lambda weight: replace(plain, fusion="convex", dense_weight=weight)  # noqa: E731
    return {
        "naive": IndexSettings(chunking=ChunkSettings(max_chars=800, strategy="fixed"), context="none",
                               search=only(1.0)),
        "haystack": IndexSettings(chunking=ChunkSettings(strategy="words", max_words=120, overlap_words=20),
                                  context="none", search=only(1.0)),
        "bm25": replace(project, search=only(0.0)),
        "dense": replace(project, search=only(1.0)),
        "rrf": replace(project, search=replace(plain, fusion="rrf", rrf_k=60)),
        "project-passages": replace(project, search=plain),  # ablation: no sentence, phrase, late, focus, adapter
        "project-no-phrases": replace(project, search=replace(project.search, phrase_weight=0.0, late_weight=0.0)),
        "project-no-late": replace(project, search=replace(project.search, late_weight=0.0)),
        "project-no-adapter": replace(project, search=replace(project.search, query_adapter=False)),
        "project-no-focus": replace(project, search=replace(project.search, question_focus=0.0)),
        # The defaults before issue 13 (chosen on article-worded questions only), on today's passages.
        "previous": replace(project, search=replace(project.search, dense_weight=0.5, sentence_weight=1.0,
                                                    phrase_weight=0.4, question_focus=0.0, query_adapter=False)),
        "project": project,
    }


def evaluate_system(name, index_settings, evalset, home, embedder, k, built):
    """Open (or build) the index for the settings' chunking and context, then apply the search
    settings in memory: search settings change no vector. Token vectors (late interaction) are
    kept only in the indexes of systems that use them."""
    late = index_settings.search.late_weight > 0
    key = (evalset.name, index_settings.chunking, index_settings.context, late)
    if key not in built:
        base = replace(index_settings, search=replace(SearchSettings(), late_weight=SearchSettings().late_weight
                                                      if late else 0.0))
        settings = Settings(home=home / name if evalset.own_corpus else home, corpus=default_corpus())
        built[key] = open_assistant(evalset, settings, embedder, index_settings=base, show_progress=True,
                                    notify=print)
    assistant = built[key]
    assistant.index.settings = index_settings
    result = run_evaluation(assistant, evalset, k=k)
    return result.metrics


def whole_document_peers(evalset, embedder, k) -> dict[str, dict]:
    docs = evalset.documents
    ids = [d.doc_id for d in docs]
    texts = [f"{d.title} {d.text}".strip() for d in docs]
    vectors = embedder.encode(texts, show_progress=True)
    keyword = KeywordIndex.build(texts)
    queries = [c.question for c in evalset.cases]
    query_vectors = embedder.encode(queries)
    depth = 100
    runs = {"dense-doc": [], "bm25-doc": [], "rrf-doc": []}
    for case, qv in zip(evalset.cases, query_vectors):
        dense_scores = vectors @ qv
        dense = [int(i) for i in np.argsort(-dense_scores, kind="stable")[:depth]]
        bm25 = [row for row, _ in keyword.search(case.question, depth)]
        fused = fuse_rankings([dense, bm25], k=60)
        rrf = sorted(fused, key=lambda row: (-fused[row], row))[:depth]
        for name, ranking in (("dense-doc", dense), ("bm25-doc", bm25), ("rrf-doc", rrf)):
            runs[name].append(([ids[i] for i in ranking], set(case.expected_articles)))
    out = {}
    for name, rows in runs.items():
        rel = [[d in expected for d in ranked] for ranked, expected in rows]
        out[name] = {
            "hit@1": m.mean([m.hit_at(r, 1) for r in rel]), "hit@3": m.mean([m.hit_at(r, 3) for r in rel]),
            f"hit@{k}": m.mean([m.hit_at(r, k) for r in rel]),
            f"mrr@{k}": m.mean([m.reciprocal_rank(r, k) for r in rel]),
            f"ndcg@{k}": m.mean([m.ndcg_at(r, k, len(e)) for r, (_, e) in zip(rel, rows)]),
            f"article_recall@{k}": m.mean([m.recall(set(ranked[:k]), e) for ranked, e in rows]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="data folder for indexes and the embedding cache")
    parser.add_argument("--sets", default="own,xquad,scifact")
    parser.add_argument("--systems", default="naive,haystack,bm25,dense,rrf,project-passages,project-no-phrases,"
                                              "project-no-late,project-no-adapter,project-no-focus,previous,project")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    embedder = get_embedder()
    cached = CachedEmbedder(embedder, args.home / "cache" / "embeddings.sqlite", desc="Encoding")
    table: dict[str, dict[str, dict]] = {}
    for set_name in args.sets.split(","):
        path, k, split = SETS[set_name]
        evalset = load_testset(path, split=split)
        built: dict = {}
        table[set_name] = {}
        if evalset.format == "beir":
            table[set_name].update(whole_document_peers(evalset, cached, k))
        for name, index_settings in systems(IndexSettings()).items():
            if name not in args.systems.split(","):
                continue
            started = time.perf_counter()
            table[set_name][name] = evaluate_system(name, index_settings, evalset, args.home, embedder, k, built)
            print(f"{set_name} {name}: {time.perf_counter() - started:.0f} s", flush=True)
        print_table(set_name, table[set_name], k)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=2) + "\n")


def print_table(set_name: str, results: dict[str, dict], k: int) -> None:
    names = [n.format(k=k) for n in KEY_METRICS]
    names = [n for n in dict.fromkeys(names) if any(n in r and r[n] is not None for r in results.values())]
    print(f"\n{set_name}")
    print("| system | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for system, metrics in results.items():
        cells = ["–" if metrics.get(n) is None else (f"{metrics[n]:.1f}" if n.endswith("_ms") else f"{metrics[n]:.3f}")
                 for n in names]
        print(f"| {system} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
