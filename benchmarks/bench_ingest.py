"""Ingest against the one-pass floor: the old three passes beside the new path, in one run.

    python benchmarks/bench_ingest.py [--docs 300] [--home DIR]

A slice of SciFact (its first --docs abstracts, chunked as ingest chunks them) is encoded:

- floor: the passages once, the fastest way this machine has (the ONNX session pool), the
  single-pass time the issue measures against;
- before: what a build did until stop 24, three passes of torch's model: passage vectors,
  sentence vectors, then the passages again for their token vectors;
- after: `index.encoding.encode_corpus` through the ONNX pool, as `closer ingest` runs it now
  (passage and token vectors from one pass, sentences a second);
- and the whole of `closer ingest` on the same abstracts written as .txt files, in its own
  process (reading, cleaning, chunking, the keyword index, saving; the models already exported).

DIR holds the exported models (made there first when missing; default a temporary folder).
`--ways ingest --docs 5183` times `closer ingest` on the whole of SciFact alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SCIFACT = REPO.parent / "shared" / "benchmarks" / "scifact"
CLOSER = str(Path(sys.executable).with_name("closer"))


def slice_texts(docs: int):
    from assistant.evaluation.testsets import load_beir
    from index import IndexSettings
    from index.store import embedding_text
    from ingest import ArticleMeta, CorpusReport, ingest_text

    documents = load_beir(SCIFACT).documents[:docs]
    settings, corpus = IndexSettings(), CorpusReport()
    for doc in documents:
        corpus.files.append(ingest_text(doc.doc_id, doc.text, meta=ArticleMeta(title=doc.title or None),
                                        settings=settings.chunking, report=corpus.cleaning))
    chunks = [(c, item) for item in corpus.files for c in item.chunks]
    passages = [embedding_text(c, item.article.title, settings.context) for c, item in chunks]
    sentences = [item.article.text[a:b] for c, item in chunks for a, b in c.sentences]
    return documents, passages, sentences


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--ways", default="floor,before,after,ingest",
                        help="which of floor, before, after, ingest to run (all SciFact: ingest alone)")
    args = parser.parse_args()
    ways = set(args.ways.split(","))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.models import export_question_models
    from assistant.settings import Settings
    from index.embedders import BundledMiniLM, OnnxMiniLM
    from index.encoding import encode_corpus

    home = args.home or Path(tempfile.mkdtemp(prefix="closer-ingest-"))
    documents, passages, sentences = slice_texts(args.docs)
    onnx = OnnxMiniLM(export_question_models(Settings(home=home, corpus=REPO / "corpus")))
    torch_model = BundledMiniLM()
    onnx.encode(["warm"]), torch_model.encode(["warm"])

    def floor():
        with onnx.bulk():
            return onnx.encode(passages)

    def before():
        return (torch_model.encode(passages), torch_model.encode(sentences),
                torch_model.encode_tokens(passages, dtype=np.float16))

    rows = {}
    if "floor" in ways:
        rows["floor: passages once (ONNX session pool)"], _ = timed(floor)
    if "before" in ways:
        rows["before: three torch passes (passages, sentences, tokens)"], (before_vectors, _, _) = timed(before)
    if "after" in ways:
        rows["after: `encode_corpus`, ONNX pool (passages + tokens, then sentences)"], (encoded, _) = \
            timed(lambda: encode_corpus(onnx, passages, sentences, with_tokens=True))
    if "ingest" in ways:
        corpus = home / "slice"
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.mkdir()
        for number, doc in enumerate(documents):
            (corpus / f"{number:05d}.txt").write_text(f"{doc.title or doc.doc_id}\n\n{doc.text}\n", encoding="utf-8")
        environment = {**os.environ, "CLOSER_HOME": str(home), "CLOSER_CORPUS": str(corpus)}
        rows["after: `closer ingest --rebuild` on the abstracts as .txt, whole process"], _ = \
            timed(lambda: subprocess.run([CLOSER, "ingest", "--rebuild"], env=environment, check=True,
                                         capture_output=True))

    floor_s = next(iter(rows.values())) if "floor" in ways else None
    print(f"SciFact's first {len(documents)} abstracts: {len(passages)} passages, {len(sentences)} sentences; "
          f"{os.cpu_count()} cores\n")
    print("| way | seconds | × floor |")
    print("| --- | --- | --- |")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.1f} | {f'{seconds / floor_s:.2f}' if floor_s else '—'} |")
    if "before" in ways and "after" in ways:
        agreement = float((encoded.passages * before_vectors).sum(axis=1).min())
        print(f"\npassage vectors after vs before: lowest cosine {agreement:.5f}")


if __name__ == "__main__":
    main()
