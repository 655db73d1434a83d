"""The assistant: opens (or builds) the index once, then answers, looks up and shows articles."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from index import (BuildReport, CorpusIndex, Embedder, IndexNotFound, IndexSettings, build_index, can_encode_tokens,
                   get_embedder, is_current, load_index)
from index.encoding import Progress, wants_tokens
from ingest import Article, corpus_files

from .adapter import QueryAdapter
from .adapter import manifest_record as adapter_record
from .advice import wrong_advice_for
from .amounts import asks_for_amount, states_amount
from .backend import connect
from .compose import DECLINE, format_answer, format_near_miss, nearby_sections, relevance, select_quotes
from .errors import BadRequest, CorpusMissing, EmptyQuestion, UnknownArticle
from .lookup import SentenceTerms, lookup_topic
from .questions import asking_sentences
from .reading import ArticleNames, Reading, Turn, read_question
from .records import Answer, LookupResult
from .retrieval import retrieve
from .safety import Assessment, SafetyLayer
from .settings import Settings


@dataclass
class IndexStatus:
    """What `ensure_index` did: 'loaded', 'built' (none yet), 'updated' (corpus or settings changed)."""

    action: str
    report: BuildReport | None = None
    synced: object | None = None  # the Milvus backend's SyncReport, when a sync was needed


def ensure_index(settings: Settings, embedder: Embedder, *, index_settings: IndexSettings = IndexSettings(),
                 rebuild: bool = False, show_progress: bool = False,
                 notify: Callable[[str], None] = lambda message: None,
                 progress: Callable[[Progress], None] | None = None) -> tuple[CorpusIndex, IndexStatus]:
    """Load the index of `settings`, building it when there is none and bringing it up to date
    when the corpus or the settings changed. An index of another model or format is refused
    (`IncompatibleIndex`) unless `rebuild` is set: nothing built is replaced unasked."""
    check_corpus(settings)
    # How the index is laid out (vector index, token storage): by its size, unless the deployment
    # sets CLOSER_VECTOR_INDEX / CLOSER_TOKEN_STORAGE.
    index_settings = index_settings.with_layout_from_env()
    previous = None
    if not rebuild:
        try:
            previous = load_index(settings.index_dir, model_id=embedder.model_id, dimension=embedder.dimension)
        except IndexNotFound:
            previous = None
        if previous is not None:
            # An index from before late interaction lacks the token vectors its settings now ask for.
            with_tokens = wants_tokens(embedder, index_settings.search.late_weight)
            if is_current(previous, settings.corpus, index_settings) and (
                    previous.has_token_vectors or not with_tokens):
                models = query_models(index_settings, embedder)
                if previous.query_models != models:  # the adapter or an export changed: the manifest says so
                    previous.query_models = models
                    previous.save(settings.index_dir)
                synced = connect(previous, settings, notify=notify, show_progress=show_progress)
                return previous, IndexStatus("loaded", synced=synced)
            notify(f"The corpus in {settings.corpus} (or closer's settings) changed since the index was built; "
                   "updating it.")
        else:
            notify(f"No index yet at {settings.index_dir}; building it from {settings.corpus}.")
    index, report = build_index(settings.corpus, embedder, settings=index_settings, previous=previous,
                                show_progress=show_progress, progress=progress)
    if previous is not None:  # thresholds calibrated on a test set outlive an update of the corpus
        index.calibration = previous.calibration
    index.query_models = query_models(index_settings, embedder)
    index.save(settings.index_dir)
    synced = connect(index, settings, notify=notify, show_progress=show_progress)
    return index, IndexStatus("built" if previous is None else "updated", report, synced)


def query_models(index_settings: IndexSettings, embedder: Embedder | None = None) -> dict:
    """The trained models the index's settings apply to questions, and the ONNX exports the
    questions run through (file, hash, source), for its manifest."""
    models = {"query_adapter": adapter_record()} if index_settings.search.query_adapter else {}
    exported = getattr(embedder, "exported", None)
    if exported is not None:
        models["onnx"] = exported.record()
    return models


def check_corpus(settings: Settings) -> None:
    if not settings.corpus.is_dir():
        raise CorpusMissing(f"the corpus folder {settings.corpus} does not exist; point --corpus "
                            "(or CLOSER_CORPUS) at a folder of .txt, .md, .html or .pdf files")
    if not corpus_files(settings.corpus):
        raise CorpusMissing(f"the corpus folder {settings.corpus} holds no .txt, .md, .html or .pdf file")


class Assistant:
    def __init__(self, index: CorpusIndex, embedder: Embedder, *, safety: SafetyLayer | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self._adapter: QueryAdapter | None | bool = False  # False: not read yet
        # Every answer and lookup passes through the safety layer (assistant/safety).
        self.safety = safety or SafetyLayer.open(embedder)
        self._terms: SentenceTerms | None = None
        self._names: ArticleNames | None = None
        self._adding = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None, **kwargs) -> "Assistant":
        """The assistant over the index of `settings` (built or updated first when needed). Without
        an `embedder`, questions run through the models exported to ONNX in the data folder
        (exported once, here, when they are not there yet): no torch once they are."""
        if embedder is None:
            from .models import question_embedder

            embedder = question_embedder(settings, notify=kwargs.get("notify", lambda message: None))
        index, _ = ensure_index(settings, embedder, **kwargs)
        return cls(index, embedder, safety=SafetyLayer.open(embedder, corpus=settings.corpus, country=settings.country))

    @property
    def article_ids(self) -> list[str]:
        return list(self.index.articles)

    def article(self, article_id: str) -> Article:
        try:
            return self.index.articles[article_id]
        except KeyError:
            raise UnknownArticle(article_id, self.article_ids) from None

    def _article_filter(self, article_id: str | None) -> list[str] | None:
        if article_id is None:
            return None
        return [self.article(article_id).article_id]

    @property
    def names(self) -> ArticleNames:
        """How questions name the articles (from their titles, publishers, sites and headings)."""
        if self._names is None:
            self._names = ArticleNames(self.index.articles)
        return self._names

    def read(self, question: str, *, history: list[Turn] | None = None, article_id: str | None = None) -> Reading:
        """How `question` is read, with the conversation so far: its kind, article, topic."""
        if article_id is not None:
            self.article(article_id)  # an unknown id is refused, naming the valid ones
        reading = read_question(question, self.names, history, article_id)
        assessment = self.safety.assess(question)
        if not assessment.flagged and reading.follow_up:  # "tell me more" after a disclosure
            assessment = self.safety.assess(reading.question)
        return replace(reading, concerns=assessment.concerns)

    def ask(self, question: str, *, k: int = 5, article_id: str | None = None,
            history: list[Turn] | None = None) -> Answer:
        """Answer with verbatim quotes, or decline when the articles don't answer. The question
        is read once (assistant/reading) and answered by the composer of its kind
        (assistant/kinds); `history`, the turns before it, lets a follow-up keep their subject."""
        question = (question or "").strip()
        if not question:
            raise EmptyQuestion("the question is empty; type a question, e.g. "
                                "\"Can emotional intimacy be rebuilt after betrayal?\"")
        if k < 1:
            raise BadRequest(f"k must be at least 1, not {k}")
        return self.answer(question, self.read(question, history=history, article_id=article_id), k=k)

    def answer(self, question: str, reading: Reading, *, k: int = 5) -> Answer:
        """The answer to a question as read, through the safety layer."""
        from .kinds import compose

        answer = replace(compose(self, reading, k=k), question=question, reading=reading)
        return self.safety.guard(answer, Assessment(concerns=reading.concerns))

    def find_mentions(self, topic: str, *, article_ids: list[str] | None = None) -> LookupResult:
        """Every passage of each article (or of `article_ids`) that speaks to `topic`, before the
        safety layer: what `lookup` and answers across the articles are made of."""
        if self._terms is None:
            self._terms = SentenceTerms(self.index)
        return lookup_topic(self.index, self._terms, self.embed(topic), topic,
                            article_ids=article_ids or self.article_ids)

    def search(self, question: str, vector, tokens=None, *, k: int = 5, article_ids: list[str] | None = None,
               search_vector=None):
        """The `k` best passages for a question, best first. The ranking uses the question's
        vector leaned toward its asking sentences and mapped by the query adapter
        (`search_vector`); declining and quoting use the question's own `vector`."""
        if search_vector is None:
            search_vector = self.search_vector(question, vector)
        return retrieve(self.index, search_vector, question, k=k, article_ids=article_ids, query_tokens=tokens)

    def embed(self, text: str):
        return self.embedder.encode([text])[0]

    def embed_question(self, question: str):
        """The question's vector and, when the index uses late interaction, its token vectors
        (one pass of the model for both); else (vector, None)."""
        if self.index.has_token_vectors and self.index.settings.search.late_weight > 0 \
                and can_encode_tokens(self.embedder):
            return self.embedder.encode_question(question)
        return self.embed(question), None

    def search_vector(self, question: str, vector):
        """The vector the ranking uses: a question told as a story leans toward its asking
        sentences by `question_focus`, then the query adapter maps it (when it is on)."""
        focus = self.index.settings.search.question_focus
        asking = asking_sentences(question) if focus > 0 else None
        if asking:
            blended = (1.0 - focus) * vector + focus * self.embed(asking)
            vector = (blended / (np.linalg.norm(blended) or 1.0)).astype(np.float32)
        adapter = self.adapter if self.index.settings.search.query_adapter else None
        return adapter.apply(vector) if adapter is not None else vector

    @property
    def adapter(self) -> QueryAdapter | None:
        """The query adapter (assistant/adapter) when it was trained for this embedder's model."""
        if self._adapter is False:
            adapter = QueryAdapter.load()
            self._adapter = adapter if adapter.model_id == getattr(self.embedder, "model_id", None) else None
        return self._adapter

    def compose(self, question: str, vector, hits: list, *, articles_searched: int | None = None,
                reading: Reading | None = None) -> Answer:
        """The answer to `question` from retrieved `hits`.

        A question that discloses danger (the safety layer's reading) is answered with a safety
        notice first, and only quotes that are safe after it. Otherwise: below `min_relevance` the
        assistant declines. Between it and `confident_relevance` the
        question is near the articles but not answered by them: the answer says so and offers the
        closest passage (still marked as declined). Above, it answers with quotes, unless the
        question asks for an amount none of them states (then the closest passage too). Thresholds
        calibrated on a test set (`closer eval --calibrate`) take the settings' place.
        """
        assessment = self.safety.assess(question) if reading is None else Assessment(concerns=reading.concerns)
        answer = self.compose_advice(question, vector, hits, articles_searched=articles_searched)
        return self.safety.guard(replace(answer, reading=reading) if reading is not None else answer, assessment)

    def compose_advice(self, question: str, vector, hits: list, *, articles_searched: int | None = None,
                       excluded=()) -> Answer:
        """The advice answer from retrieved `hits`, before the safety layer; `excluded` spans
        (quoted earlier in the conversation) are not quoted again."""
        min_relevance, confident_relevance = self.index.declining
        best = relevance(self.index, vector, hits)
        answers, confident = best >= min_relevance, best >= confident_relevance
        wants_amount = asks_for_amount(question)
        # When the partner is the one behaving badly, no quote tells the asker to forgive or make amends.
        citations = select_quotes(self.index, vector, hits, wants_amount=wants_amount,
                                  avoid=wrong_advice_for(question), excluded=excluded) if answers else []
        if not citations:
            return Answer(question, True, DECLINE, [], hits, best)
        # A question that asks for an amount ("How much does a session cost?") is not answered by
        # quotes that state none, however close they are: the closest passage is offered instead.
        missing_amount = wants_amount and not any(states_amount(c.quote) for c in citations)
        if not confident or missing_amount:
            closest = replace(citations[0], n=1)
            nearby = nearby_sections(self.index, hits)
            return Answer(question, True, format_near_miss(closest, nearby), [closest], hits, best,
                          missing_amount=missing_amount, nearby=nearby)
        searched = articles_searched if articles_searched is not None else len(self.article_ids)
        return Answer(question, False, format_answer(citations, searched), citations, hits, best)

    def add_document(self, settings: Settings, name: str, data: bytes) -> Article:
        """Add an uploaded file to the corpus and to the index (only it is embedded); no restart.
        A file that can't be ingested is refused (`UploadRejected`) and nothing changes."""
        from .documents import add_document

        with self._adding:
            path = add_document(settings.corpus, name, data)
            try:
                index, _ = ensure_index(settings, self.embedder, index_settings=self.index.settings)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            self.index, self._terms, self._names = index, None, None
        return next(a for a in index.articles.values() if a.source == path.name)

    def lookup(self, topic: str, *, article_id: str | None = None) -> LookupResult:
        """Every passage of each article (or one) that speaks to a topic, in article order."""
        topic = (topic or "").strip()
        if not topic:
            raise EmptyQuestion("the topic is empty; give a word or phrase, e.g. \"betrayal\"")
        result = self.find_mentions(topic, article_ids=self._article_filter(article_id))
        return self.safety.guard_lookup(result, self.safety.assess(topic))
