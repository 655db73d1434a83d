"""Build the corpus index from a folder of documents, re-embedding only what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ingest import INGEST_VERSION, METADATA_FILE, CorpusReport, corpus_files, file_sha256, read_corpus

from .embedders import Embedder
from .encoding import Progress, encode_corpus, wants_tokens
from .late import token_matrix
from .store import CorpusIndex, IndexSettings, embedding_text


@dataclass
class BuildReport:
    corpus: CorpusReport
    embedded_chunks: int = 0
    reused_chunks: int = 0
    reused_files: list[str] = field(default_factory=list)


def corpus_state(corpus_dir: Path) -> dict[str, str]:
    """Content hash of every document and of the metadata file: what an index was built from."""
    state = {p.name: file_sha256(p) for p in corpus_files(corpus_dir)}
    meta = corpus_dir / METADATA_FILE
    if meta.exists():
        state[METADATA_FILE] = file_sha256(meta)
    return state


def indexed_state(index: CorpusIndex) -> dict[str, str]:
    return {name: entry["sha256"] for name, entry in index.files.items()}


def is_current(index: CorpusIndex, corpus_dir: Path, settings: IndexSettings) -> bool:
    """Was `index` built from this corpus, with these settings, by this version of ingest?"""
    return (index.ingest_version == INGEST_VERSION and index.settings == settings
            and indexed_state(index) == corpus_state(Path(corpus_dir)))


def build_index(corpus_dir: Path, embedder: Embedder, *, settings: IndexSettings = IndexSettings(),
                previous: CorpusIndex | None = None, show_progress: bool = False,
                progress: Callable[[Progress], None] | None = None) -> tuple[CorpusIndex, BuildReport]:
    """Read, clean and chunk the corpus folder, then `index_documents`.

    With `previous` (an index of the same model, chunking and ingest version), the vectors of
    files whose content hash has not changed are reused instead of encoded again.
    """
    corpus_dir = Path(corpus_dir)
    corpus = read_corpus(corpus_dir, settings.chunking)
    # Skipped files and the metadata are recorded too, so that a later run can tell whether
    # anything in the folder changed since this build.
    extra: dict[str, dict] = {}
    for s in corpus.skipped:
        path = corpus_dir / s.path
        extra[s.path] = {"sha256": file_sha256(path) if path.exists() else "", "skipped": s.reason}
    if (corpus_dir / METADATA_FILE).exists():
        extra[METADATA_FILE] = {"sha256": file_sha256(corpus_dir / METADATA_FILE), "role": "metadata"}
    return index_documents(corpus, embedder, settings=settings, previous=previous, show_progress=show_progress,
                           extra_files=extra, progress=progress)


def index_documents(corpus: CorpusReport, embedder: Embedder, *, settings: IndexSettings = IndexSettings(),
                    previous: CorpusIndex | None = None, show_progress: bool = False,
                    embed_sentences: bool = True, extra_files: dict[str, dict] | None = None,
                    progress: Callable[[Progress], None] | None = None) -> tuple[CorpusIndex, BuildReport]:
    """Embed the chunks (and, unless `embed_sentences` is off, their sentences) of ingested
    documents and index their terms. Without sentence vectors the index serves retrieval only."""
    report = BuildReport(corpus)
    # A chunk keeps its vectors when the text that was embedded for it is the same text now.
    reusable: dict[str, tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = {}
    if previous is not None and previous.model_id == embedder.model_id and previous.has_sentence_vectors \
            and previous.ingest_version == INGEST_VERSION:
        for row, chunk in enumerate(previous.chunks):
            rows = previous.sentence_rows(row)
            reusable[chunk.chunk_id] = (previous.context_text(chunk), previous.chunk_vectors[row],
                                        previous.sentence_vectors[rows.start:rows.stop], previous.token_rows(row))
    # Token vectors are kept for late interaction when it is on and the embedder gives them.
    with_tokens = wants_tokens(embedder, settings.search.late_weight)

    titles = {item.article.article_id: item.article.title for item in corpus.files}
    chunks, texts, chunk_vecs, sent_vecs, token_vecs = [], [], [], [], []
    to_embed: list[int] = []  # positions in `chunks` that need encoding
    files: dict[str, dict] = {}
    for item in corpus.files:
        name = item.article.source
        old = previous.files.get(name) if previous is not None else None
        item_texts = [embedding_text(c, titles[c.article_id], settings.context) for c in item.chunks]
        same = old is not None and old.get("sha256") == item.sha256 and all(
            c.chunk_id in reusable and reusable[c.chunk_id][0] == text for c, text in zip(item.chunks, item_texts))
        if same:
            report.reused_files.append(name)
        for chunk, text in zip(item.chunks, item_texts):
            chunks.append(chunk)
            texts.append(text)
            _, vec, sents, tokens = reusable[chunk.chunk_id] if same else (None, None, None, None)
            chunk_vecs.append(vec)
            sent_vecs.append(sents)
            token_vecs.append(tokens)
            if not same:
                to_embed.append(len(chunks) - 1)
        files[name] = {"sha256": item.sha256, "article_id": item.article.article_id, "chunks": len(item.chunks)}
    files.update(extra_files or {})

    # Token vectors: for the chunks embedded now (from the same pass), and for reused ones whose
    # index kept none.
    embedding_now = set(to_embed)
    missing = [i for i, tokens in enumerate(token_vecs) if tokens is None and i not in embedding_now] \
        if with_tokens else []
    sentence_texts = None
    if to_embed and embed_sentences:
        article_texts = {item.article.article_id: item.article.text for item in corpus.files}
        sentence_texts = [article_texts[chunks[i].article_id][s:e] for i in to_embed for s, e in chunks[i].sentences]
    if to_embed or missing:
        encoded, extra = encode_corpus(embedder, [texts[i] for i in to_embed], sentence_texts,
                                       with_tokens=with_tokens, token_only=[texts[i] for i in missing],
                                       show_progress=show_progress, progress=progress)
        cursor = 0
        for n, i in enumerate(to_embed):
            chunk_vecs[i] = encoded.passages[n]
            if encoded.tokens is not None:
                token_vecs[i] = encoded.tokens[n]
            if encoded.sentences is not None:
                count = len(chunks[i].sentences)
                sent_vecs[i] = encoded.sentences[cursor:cursor + count]
                cursor += count
        for i, tokens in zip(missing, extra or []):
            token_vecs[i] = tokens
    token_parts = token_vecs if with_tokens else None
    report.embedded_chunks = len(to_embed)
    report.reused_chunks = len(chunks) - len(to_embed)

    dim = embedder.dimension
    chunk_matrix = np.vstack(chunk_vecs).astype(np.float32) if chunks else np.zeros((0, dim), np.float32)
    sent_matrix = None
    if embed_sentences:
        sent_parts = [s for s in sent_vecs if s is not None and len(s)]
        sent_matrix = np.vstack(sent_parts).astype(np.float32) if sent_parts else np.zeros((0, dim), np.float32)
    tokens, offsets = token_matrix(token_parts, dim) if token_parts is not None else (None, None)
    # Token codes keep the previous index's centroids, so a reused passage's codes are unchanged.
    quantizer = None
    if tokens is not None and previous is not None and previous.has_token_vectors \
            and previous.token_vectors.kind == "pq" and settings.tokens.choose_kind(len(tokens)) == "pq":
        quantizer = previous.token_vectors.quantizer
    index = CorpusIndex(articles=[f.article for f in corpus.files], chunks=chunks, chunk_vectors=chunk_matrix,
                        sentence_vectors=sent_matrix, model_id=embedder.model_id, settings=settings, files=files,
                        token_vectors=tokens, token_offsets=offsets, token_quantizer=quantizer)
    return index, report
