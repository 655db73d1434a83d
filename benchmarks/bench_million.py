"""A million passages on one machine (issue 17): opening the index, a question's search, memory.

    python benchmarks/bench_million.py --source SRC --out BIG --home H [--passages 1000000]

Building a million passages' vectors with MiniLM would take about 14 hours here, so the large
index is synthesised from a real one (SRC: SciFact's 5,183 abstracts ingested by `closer ingest`,
14,615 passages, 48,975 sentences, 1.8 M tokens) and says so in its manifest (`synthetic`):

- copy 0 of every passage is the real one; copy c > 0 (c < C = ceil(passages / 14,615)) is the
  same passage as a new article, its passage and sentence vectors each moved by a random vector
  of norm `--spread` (0.3: cosine about 0.95 with the original) and made unit length again, so
  the copies crowd the real passage's neighbourhood as near-duplicates do in a large library;
- its keyword terms are the real passage's stemmed terms with a random tenth left out, so the
  BM25 index holds a million different documents of real vocabulary;
- its token codes are the real passage's (one product quantiser learnt from SRC's tokens, each
  real token coded once): late interaction costs what it would, its values repeat;
- its records (chunks.jsonl, articles.jsonl) are the real ones with new ids, so quotes and
  offsets stay exact; the phrase counts are the real ones times C (the texts are the same).

Then, in a fresh process (`--measure`): the time to open the index and the resident memory
after it; SciFact's 809 training questions through the ONNX question path and `retrieve`
(dense approximate search, keyword, late interaction, phrases, fusion: what a question costs
before composing), p50/p95 over them; the peak resident memory; and recall@10 of the approximate
passage and sentence indexes, and of the final dense ranking, against an exact scan.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def perturbed(source: np.ndarray, out: np.ndarray, copies: int, spread: float, seed: int, block: int = 65_536):
    """out[c * n + i] = source[i] moved by a random vector of norm `spread` (none for c = 0)."""
    n = len(source)
    rng = np.random.default_rng(seed)
    for c in range(copies):
        for start in range(0, n, block):
            part = np.asarray(source[start:start + block], dtype=np.float32)
            if c:
                noise = rng.normal(size=part.shape).astype(np.float32)
                noise *= spread / np.linalg.norm(noise, axis=1, keepdims=True)
                part = part + noise
                part /= np.linalg.norm(part, axis=1, keepdims=True)
            out[c * n + start:c * n + start + len(part)] = part


def build(args) -> None:
    from numpy.lib.format import open_memmap

    from index import load_index
    from index.ann import AnnSettings, VectorIndex
    from index.keywords import tokenize
    from index.phrases import HashedPhraseIndex
    from index.table import write_lines
    from index.tokens import encode, train_quantizer

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    src = load_index(args.source, model_id="sentence-transformers/all-MiniLM-L6-v2", dimension=384)
    n, ns = len(src.chunks), len(src.sentence_vectors)
    copies = math.ceil(args.passages / n)
    total, total_s = n * copies, ns * copies
    log = lambda message: print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)  # noqa: E731
    log(f"{n} passages x {copies} copies = {total:,} passages, {total_s:,} sentences")
    timings = {}

    started = time.perf_counter()
    vectors = open_memmap(out / "vectors.npy", mode="w+", dtype=np.float32, shape=(total, 384))
    perturbed(src.chunk_vectors, vectors, copies, args.spread, seed=1)
    vectors.flush()
    sentences = open_memmap(out / "sentences.npy", mode="w+", dtype=np.float32, shape=(total_s, 384))
    perturbed(src.sentence_vectors, sentences, copies, args.spread, seed=2)
    sentences.flush()
    timings["vectors_s"] = time.perf_counter() - started
    log("vectors written")

    started = time.perf_counter()
    tokens = src.token_vectors
    quantizer = train_quantizer(tokens.vectors, 64)
    codes = encode(quantizer, tokens.vectors)
    nt = len(codes)
    all_codes = open_memmap(out / "token_codes.npy", mode="w+", dtype=np.uint8, shape=(nt * copies, 64))
    for c in range(copies):
        all_codes[c * nt:(c + 1) * nt] = codes
    all_codes.flush()
    del all_codes
    offsets = np.concatenate([src.token_offsets[:-1] + c * nt for c in range(copies)] + [[nt * copies]])
    np.save(out / "token_offsets.npy", offsets.astype(np.int64))
    import faiss

    faiss.write_ProductQuantizer(quantizer, str(out / "tokens.pq"))
    timings["tokens_s"] = time.perf_counter() - started
    log(f"{nt * copies:,} token codes written")

    started = time.perf_counter()
    article_ids = [f"{a}~{c}" if c else a for c in range(copies) for a in src.article_ids]
    na = len(src.article_ids)
    sent_off = np.concatenate([src.sentence_offsets[:-1] + c * ns for c in range(copies)] + [[total_s]])
    np.savez(out / "rows.npz", article_ids=np.array(article_ids, dtype=str),
             chunk_article=np.concatenate([src.chunk_article + c * na for c in range(copies)]).astype(np.int32),
             sentence_offsets=sent_off.astype(np.int64),
             sentence_promotional=np.tile(src.sentence_promotional, copies),
             chunk_promotional=np.tile(src.chunk_promotional, copies))
    chunk_dicts = [c.to_dict() for c in src.chunks]
    article_dicts = [a.to_dict() for a in src.articles.values()]

    def chunk_records():
        for c in range(copies):
            for record in chunk_dicts:
                yield record if not c else {**record, "chunk_id": f"{record['chunk_id']}~{c}",
                                            "article_id": f"{record['article_id']}~{c}"}

    def article_records():
        for c in range(copies):
            for record in article_dicts:
                yield record if not c else {**record, "article_id": f"{record['article_id']}~{c}",
                                            "source": f"copy-{c}/{record['source']}"}

    np.save(out / "chunks.offsets.npy", write_lines(out / "chunks.jsonl", chunk_records()))
    np.save(out / "articles.offsets.npy", write_lines(out / "articles.jsonl", article_records()))
    timings["records_s"] = time.perf_counter() - started
    log("records written")

    started = time.perf_counter()
    import bm25s

    terms = tokenize([src.context_text(c) for c in src.chunks])
    rng = np.random.default_rng(3)
    corpus_terms = []
    for c in range(copies):
        for t in terms:
            if c and len(t) > 1:
                keep = rng.random(len(t)) >= 0.1
                t = [w for w, k in zip(t, keep) if k] or t[:1]
            corpus_terms.append(t or ["\x00"])
    retriever = bm25s.BM25()
    retriever.index(corpus_terms, show_progress=False)
    del corpus_terms
    retriever.save(str(out / "keyword"), show_progress=False)
    (out / "keyword" / "size.json").write_text(json.dumps({"documents": total}))
    del retriever
    timings["keyword_s"] = time.perf_counter() - started
    log("keyword index written")

    counts, _ = HashedPhraseIndex.count((c.text for c in src.chunks), buckets=1 << 24)
    np.save(out / "phrases.npy", (counts * copies).astype(np.uint32))

    layout = {}
    for name, array in (("passages", np.load(out / "vectors.npy", mmap_mode="r")),
                        ("sentences", np.load(out / "sentences.npy", mmap_mode="r"))):
        started = time.perf_counter()
        index = VectorIndex.build(array, AnnSettings())
        index.save(out / f"{name}.ann")
        layout[name] = index.describe()
        timings[f"{name}_ann_s"] = time.perf_counter() - started
        log(f"{name}: {layout[name]} in {timings[f'{name}_ann_s']:.0f} s")
    layout["tokens"] = {"kind": "pq", "tokens": int(nt * copies), "bytes_per_token": 64, "sub_vectors": 64}
    layout["phrases"] = "hashed"
    layout["memory_mapped"] = True

    manifest = src.manifest()
    manifest.update(files={}, layout=layout, built_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
                    counts={"articles": len(article_ids), "chunks": total, "sentences": total_s},
                    calibration=None)
    manifest["synthetic"] = {"source": str(args.source), "copies": copies, "spread": args.spread,
                             "method": "benchmarks/bench_million.py: copies of real passages, vectors moved by "
                                       "a random vector of norm `spread`, a tenth of keyword terms dropped, "
                                       "token codes repeated", "timings": timings}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    log(f"built: {json.dumps(timings)}")


def measure(args) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.models import question_embedder
    from assistant.retrieval import retrieve
    from assistant.settings import Settings
    from index import load_index

    embedder = question_embedder(Settings(home=args.home, corpus=REPO / "corpus"))
    embedder.encode_question("warm up")
    before = rss_mb()
    started = time.perf_counter()
    index = load_index(args.out, model_id=embedder.model_id, dimension=embedder.dimension)
    opened = time.perf_counter() - started
    after_open = rss_mb()
    with open(REPO.parent / "shared" / "benchmarks" / "scifact" / "queries.jsonl", encoding="utf-8") as f:
        queries = [json.loads(line)["text"] for line in f if line.strip()][: args.questions]
    retrieve(index, *embedder.encode_question(queries[0])[:1], queries[0], k=5)  # first touch of each part
    whole, search = [], []
    for q in queries:
        t0 = time.perf_counter()
        vector, tokens = embedder.encode_question(q)
        t1 = time.perf_counter()
        hits = retrieve(index, vector, q, k=5, query_tokens=tokens)
        t2 = time.perf_counter()
        whole.append(t2 - t0)
        search.append(t2 - t1)
        assert hits and hits[0].text == index.chunks[hits[0].row].text
    peak_after_questions, rss_after_questions = peak_mb(), rss_mb()

    # Recall against an exact scan (reads every vector: after the memory figures).
    rng = np.random.default_rng(5)
    sample = [queries[i] for i in rng.choice(len(queries), min(args.recall_questions, len(queries)), replace=False)]
    passage_recall, sentence_recall, dense_recall, read_recall = [], [], [], []
    weight = index.settings.search.sentence_weight
    offsets = index.sentence_offsets
    filled = offsets[1:] > offsets[:-1]
    for q in sample:
        vector = embedder.encode_question(q)[0]
        passages = index.chunk_vectors @ vector
        truth = set(np.argsort(-passages)[:10].tolist())
        passage_recall.append(len(truth & set(index.passage_index.search(vector, 10)[0].tolist())) / 10)
        sentences = index.sentence_vectors @ vector
        truth_s = set(np.argsort(-sentences)[:10].tolist())
        sentence_recall.append(len(truth_s & set(index.sentence_index.search(vector, 10)[0].tolist())) / 10)
        # The exact dense ranking (CorpusIndex.passage_similarities over every passage, at once).
        best = np.full(len(passages), -np.inf, dtype=np.float32)
        best[filled] = np.maximum.reduceat(sentences, offsets[:-1][filled])
        exact_dense = (1 - weight) * passages + weight * np.maximum(passages, best)
        truth_d = set(np.argsort(-exact_dense)[:10].tolist())
        dense_recall.append(len(truth_d & {r for r, _ in index.dense_search(vector, 10)}) / 10)
        # As retrieval reads it: the first 10 of the 50 candidates it asks for.
        read_recall.append(len(truth_d & {r for r, _ in index.dense_search(vector, 50)[:10]}) / 10)
    ms = lambda values, p: 1000 * sorted(values)[min(len(values) - 1, int(p * len(values)))]  # noqa: E731
    result = {
        "passages": len(index.chunks), "sentences": int(index.sentence_offsets[-1]), "tokens": len(index.token_vectors),
        "layout": index.layout(), "open_s": round(opened, 3),
        "rss_mb": {"before_open": round(before), "after_open": round(after_open),
                   "after_questions": round(rss_after_questions), "peak": round(peak_after_questions)},
        "questions": len(queries),
        "question_ms": {"p50": round(ms(whole, 0.5), 1), "p95": round(ms(whole, 0.95), 1),
                        "max": round(1000 * max(whole), 1), "mean": round(1000 * statistics.mean(whole), 1)},
        "search_ms": {"p50": round(ms(search, 0.5), 1), "p95": round(ms(search, 0.95), 1)},
        "recall@10": {"passage_index": round(float(np.mean(passage_recall)), 4),
                      "sentence_index": round(float(np.mean(sentence_recall)), 4),
                      "dense_ranking": round(float(np.mean(dense_recall)), 4),
                      "dense_ranking_as_retrieval_reads_it": round(float(np.mean(read_recall)), 4),
                      "questions": len(sample)},
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, help="a real index to copy from (built by `closer ingest`)")
    parser.add_argument("--out", type=Path, required=True, help="where the large index is (or is made)")
    parser.add_argument("--home", type=Path, required=True, help="a data folder holding the exported models")
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--spread", type=float, default=0.3)
    parser.add_argument("--questions", type=int, default=809)
    parser.add_argument("--recall-questions", type=int, default=100)
    parser.add_argument("--measure", action="store_true", help="only measure (in this process)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.measure:
        result = measure(args)
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return
    if not (args.out / "manifest.json").exists():
        if args.source is None:
            parser.error("--source is needed to build the large index")
        build(args)
    # Measured in a fresh process: nothing of the build is in its memory or caches but the OS's.
    command = [sys.executable, __file__, "--measure", "--out", str(args.out), "--home", str(args.home),
               "--questions", str(args.questions), "--recall-questions", str(args.recall_questions)]
    if args.json:
        command += ["--json", str(args.json)]
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
