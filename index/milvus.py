"""A second search backend on Milvus: the index's passages and sentences, searched in the engine.

The articles' text and offsets stay in the local index (`index.store.CorpusIndex`); Milvus holds
only what a search needs, in two collections:

    {collection}_passages   chunk_id (key), article_id, file, text (title + section + passage,
                            BM25 full-text indexed by a function of the engine), vector, hash
    {collection}_sentences  id = f"{chunk_id}#{k}" (key), chunk_id, file, vector, hash

`hash` is a digest of everything else in the row (and of the model), so `sync` can tell an
unchanged row from a changed one without reading vectors back.

The same code runs against Milvus Lite (a local `*.db` path, in this process) and a Milvus server
or cluster (`http://host:19530` and a token). Where Lite differs, the code does not depend on it:

- BM25 scores come back negated from Lite (smaller is better inside it) and positive from a
  server: `keyword` returns their absolute values, best first.
- The engine's analyzers differ (Lite has no English one): the text field holds closer's own
  stemmed terms (`terms`), which the standard tokenizer splits back into the same words, so
  every engine ranks by them.
- Lite keeps BM25 statistics (document frequencies, average length) per segment, and each
  process that writes leaves one segment when it closes the file; a filtered search (`chunk_ids`)
  takes them from the matching passages only. Scores are comparable within one search, not
  across searches nor with the local keyword index's. So the engine's BM25 search only finds
  the candidates (`MilvusSearch.keyword_candidates`, read deeper than the ranking it feeds) and
  the local index scores them with the whole library's statistics, as it scores the dense
  candidates by their exact cosines: a passage written by a later sync ranks where it should.
- Lite allows one process per `.db` file (a second one cannot open it: MilvusUnavailable) and
  does not enforce the 16384-result limit a server does: every `n` is capped here.
- Lite needs a collection loaded again in every process that opens the file; a server keeps it
  loaded. Both are loaded on opening, and every read asks for strong consistency, so a search
  right after `sync` sees what it wrote (no flush is needed for that, and none is done: on Lite
  each flush would make one more segment with BM25 statistics of its own).
- Milvus does not enforce primary-key uniqueness on insert: every write here is an upsert. Lite
  can still come to hold a key twice: killed while closing the file (between committing a flush
  and deleting its log), it replays the log into rows it already has. `sync` rewrites such keys
  once, and searches leave out a second hit of the same passage.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .errors import CorpusIndexError

SCHEMA_VERSION = "2"  # bump when the collections' fields change: older ones are refused
MAX_RESULTS = 16384  # the most rows one Milvus search or query may return
MAX_TEXT_BYTES = 65535  # a VARCHAR field's largest max_length
KEYWORD_POOL = 4  # the engine's BM25 search reads this many times as deep as the ranking it feeds
# Inner product of unit vectors is their cosine, the score the local index gives; BM25's k1 and b
# as the local keyword index (bm25s) has them.
PASSAGE_INDEXES = [("vector", {"index_type": "AUTOINDEX", "metric_type": "IP"}),
                   ("sparse", {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "BM25",
                               "params": {"bm25_k1": 1.5, "bm25_b": 0.75}})]
SENTENCE_INDEXES = [("vector", {"index_type": "AUTOINDEX", "metric_type": "IP"}),
                    ("chunk_id", {"index_type": "INVERTED"})]  # grouping and restricting by passage


@dataclass(frozen=True)
class MilvusSettings:
    uri: str  # a local file path ending .db runs Milvus Lite in this process; "http://host:19530" a server
    token: str = ""  # "user:password" or an API key, for a server or cluster
    collection: str = "closer"  # prefix of the two collections: f"{collection}_passages", f"{collection}_sentences"

    @property
    def is_lite(self) -> bool:
        return self.uri.endswith(".db")


@dataclass
class SyncReport:
    """What a sync wrote. A passage (or sentence) whose content changed counts as deleted and
    inserted: its row is replaced."""

    inserted_passages: int = 0
    inserted_sentences: int = 0
    deleted_passages: int = 0
    deleted_sentences: int = 0
    kept_passages: int = 0
    touched_files: set[str] = field(default_factory=set)  # files whose rows were written or deleted

    @property
    def changed(self) -> bool:
        return bool(self.inserted_passages or self.inserted_sentences or self.deleted_passages
                    or self.deleted_sentences)


class MilvusError(CorpusIndexError):
    """Base class for failures of the Milvus backend (the CLI and the page say them as they are)."""


class MilvusUnavailable(MilvusError):
    """Milvus cannot be reached, or the Lite file cannot be opened."""


class MilvusCollectionMismatch(MilvusError):
    """The collections were made for another model, dimension or layout than this index's."""


class MilvusRequestFailed(MilvusError):
    """Milvus refused or failed a request."""


@dataclass(frozen=True)
class _Row:
    """A row the index wants in a collection: its key, content hash, and where its data is."""

    key: str
    digest: str
    chunk_row: int
    sentence_row: int = -1  # for a sentence: its row in index.sentence_vectors


@dataclass(frozen=True)
class _Held:
    """A key found in a collection: its row's hash and file, and how many rows hold it."""

    digest: str
    file: str
    rows: int = 1


def _digest(*parts: str | bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def quote(value: str) -> str:
    """A string literal for a Milvus filter expression: double quotes, C-style escapes."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def in_filter(field_name: str, values: Iterable[str]) -> str:
    return f"{field_name} in [{', '.join(quote(v) for v in values)}]"


def _fit_bytes(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`text` cut to `limit` UTF-8 bytes (on a character boundary): the longest a VARCHAR holds.
    Passages are far shorter; a cut one still matches on all but its last words."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


@contextmanager
def _quiet(*loggers: str, level: int = logging.CRITICAL) -> Iterator[None]:
    """pymilvus logs a traceback for every refused request and a warning when Lite gives no
    snapshot timestamp; where that is expected and handled, keep it out of the user's log."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in saved:
            logger.setLevel(old)


# The engine indexes closer's own terms (index/keywords.py: stop words out, Snowball stems),
# written out as words, and a question is searched by its terms the same way: both backends then
# rank by the same words whatever analyzers the engine has ("betrayed" finds "betrayal"; Milvus
# Lite has no English analyzer), and only the BM25 statistics differ.
TERMS_ANALYZER = {"tokenizer": "standard"}  # the terms are words already; Lite has no "whitespace"


def terms(text: str) -> str:
    """The stemmed, stop-word-free terms of `text`, as one space-separated string."""
    from .keywords import tokenize

    return " ".join(tokenize([text])[0])


class MilvusBackend:
    """Search the index's passages and sentences in Milvus. `sync` puts them there."""

    def __init__(self, settings: MilvusSettings, dimension: int, model_id: str) -> None:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        self.settings = settings
        self.dimension = int(dimension)
        self.model_id = model_id
        self.passages = f"{settings.collection}_passages"
        self.sentence_collection = f"{settings.collection}_sentences"
        self.analyzer = ""
        uri = str(Path(settings.uri).expanduser().resolve()) if settings.is_lite else settings.uri
        try:
            if settings.is_lite:
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            self._client = MilvusClient(uri=uri, token=settings.token)
        except MilvusException as exc:
            detail = f" ({exc.message})" if exc.message else ""
            if settings.is_lite:
                raise MilvusUnavailable(
                    f"the Milvus Lite file {uri} cannot be opened{detail}; Milvus Lite lets one process at a time "
                    f"open a file, so stop the other process that has it open, or use a Milvus server") from exc
            raise MilvusUnavailable(f"the Milvus server at {uri} cannot be reached{detail}; check that it is "
                                    f"running and that the URI and token are right") from exc
        try:
            # The English analyzer (stemming, stop words) where the engine has it; Milvus Lite has
            # only the standard tokenizer, so it is given the English stop words by hand.
            self._open(self.passages, [("closer-terms", lambda: self._passage_schema(TERMS_ANALYZER))],
                       PASSAGE_INDEXES)
            self._open(self.sentence_collection, [("", self._sentence_schema)], SENTENCE_INDEXES)
        except BaseException:
            self._client.close()
            raise

    # -- collections --------------------------------------------------------------------------
    def _open(self, name: str, schemas: list[tuple[str, Callable[[], object]]],
              indexes: list[tuple[str, dict]]) -> None:
        """Create the collection if it is missing (with the first of `schemas`, by analyzer,
        that the engine accepts), else check it was made for this model; then make sure its
        indexes exist and it is loaded (a process killed while creating it may have left
        either undone)."""
        with self._request(f"open the collection {name}"):
            if self._client.has_collection(name):
                self._check(name)
            else:
                self._create(name, schemas, indexes)
            missing = [(f, spec) for f, spec in indexes if not self._client.list_indexes(name, field_name=f)]
            if missing:
                self._client.create_index(name, _index_params(missing))
            self._client.load_collection(name)

    def _create(self, name: str, schemas: list[tuple[str, Callable[[], object]]],
                indexes: list[tuple[str, dict]]) -> None:
        from pymilvus.exceptions import MilvusException

        for i, (analyzer, schema) in enumerate(schemas):
            last = i + 1 == len(schemas)
            properties = {"closer.schema": SCHEMA_VERSION, "closer.model_id": self.model_id,
                          "closer.dimension": str(self.dimension), "closer.analyzer": analyzer}
            try:
                # A refusal that is expected (an analyzer this engine lacks) is not logged.
                with nullcontext() if last else _quiet("pymilvus.decorators"):
                    self._client.create_collection(name, schema=schema(), index_params=_index_params(indexes),
                                                   consistency_level="Strong", properties=properties)
            except MilvusException as exc:
                message = (exc.message or "").lower()
                if last or not ("tokenizer" in message or "analyzer" in message):
                    raise
                continue
            if analyzer:
                self.analyzer = analyzer
            return

    def _check(self, name: str) -> None:
        info = self._client.describe_collection(name)
        props = info.get("properties") or {}
        hint = (f"use another collection name (MilvusSettings.collection), or drop the collections "
                f"{self.passages} and {self.sentence_collection} and sync again")
        if props.get("closer.schema") is None:
            raise MilvusCollectionMismatch(f"the collection {name} at {self.settings.uri} was not made by closer; {hint}")
        if props.get("closer.schema") != SCHEMA_VERSION:
            raise MilvusCollectionMismatch(
                f"the collection {name} has closer's layout version {props.get('closer.schema')}, this version of "
                f"closer uses {SCHEMA_VERSION}; {hint}")
        if props.get("closer.model_id") != self.model_id:
            raise MilvusCollectionMismatch(
                f"the collection {name} holds vectors of the model {props.get('closer.model_id')!r}, not "
                f"{self.model_id!r}; {hint}")
        dims = [int(f.get("params", {}).get("dim", 0)) for f in info.get("fields", []) if f.get("name") == "vector"]
        dimension = dims[0] if dims else int(props.get("closer.dimension", 0))
        if dimension != self.dimension:
            raise MilvusCollectionMismatch(
                f"the collection {name} holds {dimension}-dimensional vectors, the model {self.model_id!r} "
                f"makes {self.dimension}; {hint}")
        if props.get("closer.analyzer"):
            self.analyzer = props["closer.analyzer"]

    def _passage_schema(self, analyzer: dict):
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("article_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("file", DataType.VARCHAR, max_length=4096)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
                         analyzer_params=analyzer)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("hash", DataType.VARCHAR, max_length=64)
        schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        return schema

    def _sentence_schema(self):
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1100)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("file", DataType.VARCHAR, max_length=4096)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("hash", DataType.VARCHAR, max_length=64)
        return schema

    @contextmanager
    def _request(self, what: str) -> Iterator[None]:
        """Milvus's exceptions, as ours: unreachable, or refused, with what was being done."""
        from pymilvus.exceptions import MilvusException

        try:
            yield
        except MilvusException as exc:
            if exc.code == 2 or "unavailable" in (exc.message or "").lower():
                raise MilvusUnavailable(f"Milvus at {self.settings.uri} stopped answering while trying to {what} "
                                        f"({exc.message}); check that it is running, then try again") from exc
            raise MilvusRequestFailed(f"Milvus could not {what}: {exc.message} (code {exc.code})") from exc

    # -- sync ---------------------------------------------------------------------------------
    def sync(self, index, *, batch_size: int = 512, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Make the collections hold exactly the index's passages and sentences, writing only
        what differs.

        Every step is idempotent, so a sync killed at any moment is finished by the next one:
        the rows there are read first (key and hash, `batch_size` rows a request, as every
        write), rows the index no longer has are deleted, and rows missing or changed are
        upserted. An upsert replaces the rows with its key, so a sync never makes a key held
        twice, and one found twice (inserted by another program, or replayed by Milvus Lite
        after a crash) is rewritten once. Sentences are written before their passages: a passage
        that is there has its sentences there too. `progress(done, total)` counts rows deleted
        and written, after each batch.
        """
        if index.model_id != self.model_id or (len(index.chunks) and int(index.dimension) != self.dimension):
            raise MilvusCollectionMismatch(
                f"the index was built with the model {index.model_id!r} ({index.dimension} dimensions), but these "
                f"Milvus collections are for {self.model_id!r} ({self.dimension}); open the backend for the index's "
                f"model, or use another collection name (MilvusSettings.collection)")
        batch_size = max(1, int(batch_size))
        passages, sentences, files = self._wanted(index)
        with self._request("read the keys already stored"):
            held_passages = self._held(self.passages, "chunk_id", batch_size)
            held_sentences = self._held(self.sentence_collection, "id", batch_size)

        def current(row: _Row, held: dict[str, _Held]) -> bool:
            found = held.get(row.key)
            return found is not None and found.digest == row.digest and found.rows == 1

        gone_passages = [k for k in held_passages if k not in passages]
        gone_sentences = [k for k in held_sentences if k not in sentences]
        write_sentences = [r for r in sentences.values() if not current(r, held_sentences)]
        write_passages = [r for r in passages.values() if not current(r, held_passages)]
        report = SyncReport(
            inserted_passages=len(write_passages), inserted_sentences=len(write_sentences),
            deleted_passages=len(gone_passages) + sum(1 for r in write_passages if r.key in held_passages),
            deleted_sentences=len(gone_sentences) + sum(1 for r in write_sentences if r.key in held_sentences),
            kept_passages=len(passages) - len(write_passages),
            touched_files={held_passages[k].file for k in gone_passages} | {held_sentences[k].file for k in gone_sentences}
            | {files[r.chunk_row] for r in write_passages + write_sentences})

        total = len(gone_passages) + len(gone_sentences) + len(write_sentences) + len(write_passages)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        for batch in _batches(gone_passages, batch_size):
            with self._request(f"delete {len(batch)} passages"):
                self._client.delete(self.passages, ids=batch)
            advance(len(batch))
        for batch in _batches(gone_sentences, batch_size):
            with self._request(f"delete {len(batch)} sentences"):
                self._client.delete(self.sentence_collection, ids=batch)
            advance(len(batch))
        for batch in _batches(write_sentences, batch_size):
            rows = [{"id": r.key, "chunk_id": index.chunks[r.chunk_row].chunk_id, "file": files[r.chunk_row],
                     "vector": _vector(index.sentence_vectors[r.sentence_row]), "hash": r.digest} for r in batch]
            with self._request(f"write {len(rows)} sentences"):
                self._client.upsert(self.sentence_collection, rows)
            advance(len(batch))
        for batch in _batches(write_passages, batch_size):
            rows = []
            for r in batch:
                chunk = index.chunks[r.chunk_row]
                rows.append({"chunk_id": r.key, "article_id": chunk.article_id, "file": files[r.chunk_row],
                             "text": _fit_bytes(terms(index.context_text(chunk))),
                             "vector": _vector(index.chunk_vectors[r.chunk_row]), "hash": r.digest})
            with self._request(f"write {len(rows)} passages"):
                self._client.upsert(self.passages, rows)
            advance(len(batch))
        return report

    def _wanted(self, index) -> tuple[dict[str, _Row], dict[str, _Row], list[str]]:
        """The rows the index wants in each collection, by key, and each chunk's file."""
        sources: dict[str, str] = {}  # article id -> file name; a saved index reads each article once
        passages: dict[str, _Row] = {}
        sentences: dict[str, _Row] = {}
        files: list[str] = []
        for row in range(len(index.chunks)):
            chunk = index.chunks[row]
            if chunk.article_id not in sources:
                sources[chunk.article_id] = index.articles[chunk.article_id].source
            file = sources[chunk.article_id]
            files.append(file)
            vector = np.ascontiguousarray(index.chunk_vectors[row], dtype=np.float32)
            passages[chunk.chunk_id] = _Row(chunk.chunk_id, _digest(
                self.model_id, chunk.chunk_id, chunk.article_id, file, index.context_text(chunk), vector.tobytes()), row)
            if index.has_sentence_vectors:
                for k, srow in enumerate(index.sentence_rows(row)):
                    key = f"{chunk.chunk_id}#{k}"
                    vector = np.ascontiguousarray(index.sentence_vectors[srow], dtype=np.float32)
                    sentences[key] = _Row(key, _digest(self.model_id, key, chunk.chunk_id, file, vector.tobytes()),
                                          row, srow)
        return passages, sentences, files

    def _held(self, collection: str, key: str, page: int) -> dict[str, _Held]:
        """Every key in the collection: its hash, file and how many rows hold it (2 standing for
        "more than one" where that is all that is known)."""
        found: dict[str, dict] = {}
        seen: Counter[str] = Counter()
        page_ends = []
        for rows in self._scan(collection, [key, "hash", "file"], page):
            for row in rows:
                found[row[key]] = row
                seen[row[key]] += 1
            page_ends.append(rows[-1][key])
        # The iterator reads on from the key after each page's last: a key held twice whose
        # second row did not fit in the page is seen once. If the collection holds more rows
        # than were read, those keys are taken as held twice (rewriting a key is harmless).
        if self._count(collection) > sum(seen.values()):
            for k in page_ends:
                seen[k] = max(seen[k], 2)
        return {k: _Held(row["hash"], row["file"], seen[k]) for k, row in found.items()}

    def _scan(self, collection: str, fields: list[str], page: int):
        """Every row of the collection, `page` rows a request, read with a query iterator: a plain
        query may return at most 16384 rows."""
        with _quiet("pymilvus.client.iterator.query_iterator", level=logging.ERROR):
            iterator = self._client.query_iterator(collection, batch_size=page, output_fields=fields,
                                                   consistency_level="Strong")
        try:
            while True:
                rows = iterator.next()
                if not rows:
                    break
                yield rows
        finally:
            iterator.close()

    # -- search -------------------------------------------------------------------------------
    def dense(self, vector, n: int, chunk_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Passages by cosine with `vector` (inner product of unit vectors), best first; with
        `chunk_ids`, only those."""
        limit, expr = self._limit(n, chunk_ids)
        if not limit:
            return []
        with self._request("search the passages"):
            hits = self._client.search(self.passages, data=[self._query_vector(vector)], anns_field="vector",
                                       limit=limit, filter=expr, output_fields=["chunk_id"],
                                       search_params={"metric_type": "IP"}, consistency_level="Strong")
        return _first_of_each((str(h["chunk_id"]), float(h["distance"])) for h in hits[0])

    def sentences(self, vector, n: int, chunk_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """For each passage, its best sentence's cosine with `vector`, best first (at most `n`
        passages): a grouping search, one sentence a passage."""
        limit, expr = self._limit(n, chunk_ids)
        if not limit:
            return []
        with self._request("search the sentences"):
            hits = self._client.search(self.sentence_collection, data=[self._query_vector(vector)],
                                       anns_field="vector", limit=limit, filter=expr, output_fields=["chunk_id"],
                                       search_params={"metric_type": "IP"}, group_by_field="chunk_id", group_size=1,
                                       consistency_level="Strong")
        found = sorted(((str(h["entity"]["chunk_id"]), float(h["distance"])) for h in hits[0]), key=lambda hit: -hit[1])
        return _first_of_each(found)[:limit]

    def keyword(self, question: str, n: int, chunk_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Passages by BM25 score for the question's terms, computed by the engine, best first;
        only passages sharing a term. Scores are positive whichever sign the engine gives them
        (Milvus Lite negates them)."""
        limit, expr = self._limit(n, chunk_ids)
        asked = terms(question)
        if not limit or not asked:
            return []
        with self._request("search the passages' text"):
            hits = self._client.search(self.passages, data=[asked], anns_field="sparse", limit=limit, filter=expr,
                                       output_fields=["chunk_id"], search_params={"metric_type": "BM25"},
                                       consistency_level="Strong")
        found = _first_of_each((str(h["chunk_id"]), abs(float(h["distance"]))) for h in hits[0])
        return sorted((hit for hit in found if hit[1] > 0), key=lambda hit: -hit[1])

    def hybrid(self, vector, question: str, n: int, k: int = 60) -> list[tuple[str, float]]:
        """One hybrid search in the engine: the `n` best passages by cosine and the `n` best by
        BM25, fused by reciprocal rank (RRFRanker(k)), best first."""
        from pymilvus import AnnSearchRequest, RRFRanker

        limit, _ = self._limit(n, None)
        if not limit:
            return []
        asked = terms(question)
        if not asked:
            return self._rrf_of_one(self.dense(vector, limit), k)
        requests = [AnnSearchRequest([self._query_vector(vector)], "vector", {"metric_type": "IP"}, limit),
                    AnnSearchRequest([asked], "sparse", {"metric_type": "BM25"}, limit)]
        with self._request("run the hybrid search"):
            hits = self._client.hybrid_search(self.passages, requests, RRFRanker(k), limit=limit,
                                              output_fields=["chunk_id"], consistency_level="Strong")
        return _first_of_each((str(h["chunk_id"]), float(h["distance"])) for h in hits[0])

    @staticmethod
    def _rrf_of_one(ranking: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
        """The reciprocal-rank scores one ranking alone gets (an empty question has no terms)."""
        return [(chunk_id, 1.0 / (k + rank)) for rank, (chunk_id, _) in enumerate(ranking, start=1)]

    def _limit(self, n: int, chunk_ids: Sequence[str] | None) -> tuple[int, str]:
        """How many results to ask for, at most 16384, and the filter restricting to `chunk_ids`."""
        limit = min(max(int(n), 0), MAX_RESULTS)
        if chunk_ids is None:
            return limit, ""
        ids = list(dict.fromkeys(str(c) for c in chunk_ids))
        if not ids:
            return 0, ""
        return min(limit, len(ids)) if limit else 0, in_filter("chunk_id", ids)

    def _query_vector(self, vector) -> list[float]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dimension:
            raise ValueError(f"the query vector has {query.shape[0]} dimensions, the collections {self.dimension}")
        return query.tolist()

    # -- state --------------------------------------------------------------------------------
    def synced_state(self) -> str:
        """What `mark_synced` last recorded on the passages collection ("" if nothing)."""
        with self._request(f"read the properties of {self.passages}"):
            return (self._client.describe_collection(self.passages).get("properties") or {}).get("closer.synced", "")

    def mark_synced(self, state: str) -> None:
        """Record that the collections hold the index described by `state` (a sync finished):
        an assistant opening that index again needs no sync."""
        with self._request(f"record the sync on {self.passages}"):
            self._client.alter_collection_properties(self.passages, properties={"closer.synced": state})

    def counts(self) -> dict[str, int]:
        """Rows in each collection (a key held twice counts twice, until a sync mends it)."""
        out = {}
        for label, name in (("passages", self.passages), ("sentences", self.sentence_collection)):
            with self._request(f"count the rows of {name}"):
                out[label] = self._count(name)
        return out

    def _count(self, collection: str) -> int:
        rows = self._client.query(collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def close(self) -> None:
        """Close the connection. Milvus Lite keeps the file open (and locked against other
        processes) until this process ends."""
        self._client.close()

    def __enter__(self) -> "MilvusBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_of_each(hits: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Hits with a chunk id seen before left out: a key held twice (see `sync`) is found twice."""
    seen: set[str] = set()
    return [hit for hit in hits if not (hit[0] in seen or seen.add(hit[0]))]


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _vector(row) -> list[float]:
    return np.asarray(row, dtype=np.float32).tolist()


def _index_params(specs: list[tuple[str, dict]]):
    from pymilvus import MilvusClient

    params = MilvusClient.prepare_index_params()
    for field_name, spec in specs:
        params.add_index(field_name, **spec)
    return params


class MilvusSearch:
    """The index's candidate searches answered by Milvus (`CorpusIndex.remote`): the dense
    candidates (closest passages, and passages of the closest sentences) and the BM25 candidates,
    as rows of the local index, which then scores them (exact cosines, its own BM25 statistics),
    fuses, re-scores word by word and quotes them as it does its own."""

    def __init__(self, backend: MilvusBackend, index) -> None:
        self.backend = backend
        self.index = index
        self._rows: dict[str, int] | None = None

    def row(self, chunk_id: str) -> int | None:
        """The local row of a passage: found from its id (`{article_id}:{n}` is the article's
        n-th passage), else from a table of every id, made once."""
        article_id, _, n = chunk_id.rpartition(":")
        if n.isdigit() and article_id in self.index.articles:
            rows = self.index.rows_of([article_id])
            if int(n) < len(rows) and self.index.chunks[int(rows[int(n)])].chunk_id == chunk_id:
                return int(rows[int(n)])
        if self._rows is None:
            self._rows = {c.chunk_id: i for i, c in enumerate(self.index.chunks)}
        return self._rows.get(chunk_id)

    def _rows_of(self, found: list[tuple[str, float]]) -> list[tuple[int, float]]:
        rows = [(self.row(chunk_id), score) for chunk_id, score in found]
        return [(r, s) for r, s in rows if r is not None]

    def dense_candidates(self, vector, n: int, with_sentences: bool = True) -> np.ndarray:
        found = [r for r, _ in self._rows_of(self.backend.dense(vector, n))]
        if with_sentences:
            found += [r for r, _ in self._rows_of(self.backend.sentences(vector, 2 * n))]
        return np.unique(np.array(found, dtype=np.int64))

    def keyword_candidates(self, question: str, n: int, rows=None) -> np.ndarray:
        """The rows of the engine's `KEYWORD_POOL * n` best passages by BM25 (among `rows`, if
        given). The pool is deeper than the ranking the index then scores from it, because the
        engine's order can differ from the index's: Milvus Lite ranks each segment's passages by
        that segment's statistics, so a passage written by a later sync can come well below where
        the whole library's statistics put it."""
        chunk_ids = None if rows is None else [self.index.chunks[int(r)].chunk_id for r in rows]
        if chunk_ids is not None and not chunk_ids:
            return np.zeros(0, dtype=np.int64)
        found = self._rows_of(self.backend.keyword(question, KEYWORD_POOL * n, chunk_ids))
        return np.unique(np.array([r for r, _ in found], dtype=np.int64))

    def hybrid(self, vector, question: str, n: int, k: int = 60) -> list[tuple[int, float]]:
        return self._rows_of(self.backend.hybrid(vector, question, n, k))
