"""Run a test set through the assistant and measure retrieval, answers, declining and latency.

Deterministic: the same index and test set give the same numbers on every run (latency aside).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index import CachedEmbedder, Embedder, IndexNotFound, IndexSettings, index_documents, load_index
from ingest import INGEST_VERSION, ArticleMeta, CorpusReport, IngestError, Skipped, ingest_text

from ..compose import leans_back
from ..conversation import Conversation
from ..reading import Turn
from ..safety import CONCERNS
from ..service import Assistant
from ..settings import Settings
from . import metrics as m
from .testsets import EvalCase, EvalSet

CURVE_DEPTH = 10  # hit@n is drawn for n = 1..10 whatever k is


@dataclass
class EvalResult:
    testset: str
    format: str
    unit: str
    k: int
    model: str
    questions: int
    metrics: dict[str, float | None]
    hit_curve: list[float]
    threshold: float  # below this top score: declined
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    confident_threshold: float | None = None  # below this (and above `threshold`): the closest passage only

    def to_dict(self) -> dict:
        return asdict(self)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "testset"


def open_assistant(evalset: EvalSet, settings: Settings, embedder: Embedder, *, show_progress: bool = False,
                   notify=lambda message: None, index_settings: IndexSettings | None = None) -> Assistant:
    """The assistant to evaluate: the user's own index for a test set about the corpus; for a
    BEIR or SQuAD set, an index of its own documents under HOME/eval/, never mixed with the user's.
    Those documents' embeddings are cached in HOME/cache/embeddings.sqlite."""
    index_settings = (index_settings or IndexSettings()).with_layout_from_env()
    if evalset.own_corpus:
        assistant = Assistant.open(settings, embedder=embedder, notify=notify, show_progress=show_progress,
                                   index_settings=index_settings)
        evalset.check_articles(assistant.article_ids)
        return assistant
    described = index_settings.to_dict()
    for part, default in (("ann", IndexSettings().ann), ("tokens", IndexSettings().tokens)):
        if getattr(index_settings, part) == default:  # the tag of an index saved before the layout settings
            described.pop(part)
    tag = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:8]
    directory = settings.home / "eval" / f"{_slug(evalset.name)}-{evalset.fingerprint}-{tag}"
    try:
        index = load_index(directory, model_id=embedder.model_id, dimension=embedder.dimension)
        if index.settings == index_settings and index.ingest_version == INGEST_VERSION:
            _connect(index, settings, directory, notify)
            return Assistant(index, embedder)
    except IndexNotFound:
        pass
    notify(f"Indexing the {len(evalset.documents)} documents of {evalset.name} into {directory}.")
    corpus = CorpusReport()
    for doc in evalset.documents:
        try:
            corpus.files.append(ingest_text(doc.doc_id, doc.text, meta=ArticleMeta(title=doc.title or None),
                                            settings=index_settings.chunking, report=corpus.cleaning))
        except IngestError as exc:
            corpus.skipped.append(Skipped(doc.doc_id, str(exc)))
    cached = CachedEmbedder(embedder, settings.home / "cache" / "embeddings.sqlite", desc=f"Encoding {evalset.name}")
    # Sentences are embedded for a BEIR set too: a passage's dense score uses its best sentence.
    index, _ = index_documents(corpus, cached, settings=index_settings, show_progress=show_progress,
                               extra_files={"source": {"sha256": evalset.fingerprint, "path": str(evalset.source)}})
    index.save(directory)
    _connect(index, settings, directory, notify)
    return Assistant(index, embedder)


def _connect(index, settings: Settings, directory: Path, notify) -> None:
    """A benchmark's index through the backend chosen, in collections of its own."""
    from ..backend import connect

    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{settings.milvus_collection}_{directory.name}")
    connect(index, settings, collection=name, notify=notify)


def run_evaluation(assistant: Assistant, evalset: EvalSet, *, k: int = 5, show_progress: bool = False,
                   limit: int | None = None) -> EvalResult:
    from tqdm import tqdm

    cases = evalset.cases[:limit] if limit else evalset.cases
    index = assistant.index
    folded_chunks = [m.fold(c.text) for c in index.chunks] if evalset.unit == "passage" else []
    rows, errors = [], []
    # Load the model and warm torch up first: latency is the time of an answer, not of start-up.
    for _ in range(3):
        assistant.embed("warm-up question about trust")
    for case in tqdm(cases, desc="Evaluating", unit="question", disable=not show_progress):
        if evalset.unit == "document":
            rows.append(_document_row(assistant, case, k))
        else:
            rows.append(_passage_row(assistant, case, k, folded_chunks))
    exactness = _mean_of(rows, "exact_citations", "citations")
    if exactness is not None and exactness < 1.0:
        bad = [r["id"] for r in rows if r.get("exact_citations", 0) < r.get("citations", 0)]
        errors.append(f"citation exactness is {exactness:.4f}, not 1.0: a quote differs from its article's text "
                      f"(questions {', '.join(bad[:10])})")
    return EvalResult(testset=evalset.name, format=evalset.format, unit=evalset.unit, k=k, model=index.model_id,
                      questions=len(rows), metrics=_aggregate(rows, k, evalset.unit),
                      hit_curve=[_mean([r["curve"][n] for r in rows if "hit@1" in r]) or 0.0
                                 for n in range(CURVE_DEPTH)],
                      threshold=index.declining[0], confident_threshold=index.declining[1], rows=rows, errors=errors)


def _relevant_passage(case: EvalCase, article_id: str, folded_text: str) -> bool:
    if case.expected_quotes:
        return any(m.fold(q) in folded_text for q in case.expected_quotes)
    return article_id in case.expected_articles


def _passage_row(assistant: Assistant, case: EvalCase, k: int, folded_chunks: list[str]) -> dict:
    index = assistant.index
    history = _replay(assistant, case.history, k) if case.history else None
    started = time.perf_counter()
    # The question is read as a person's would be (assistant/reading); the passage ranking is
    # measured for every kind, the answer is the one the reading's composer gives.
    reading = assistant.read(case.question, history=history)
    vector, tokens = assistant.embed_question(case.question)
    hits = assistant.search(case.question, vector, tokens, k=max(k, CURVE_DEPTH))
    if reading.kind == "advice" and not reading.follow_up:
        answer = assistant.compose(case.question, vector, hits[:k], articles_searched=len(index.articles),
                                   reading=reading)
    else:
        answer = assistant.answer(case.question, reading, k=k)
    latency = (time.perf_counter() - started) * 1000
    relevant = [_relevant_passage(case, h.article_id, folded_chunks[h.row]) for h in hits]
    total = sum(_relevant_passage(case, c.article_id, folded_chunks[i]) for i, c in enumerate(index.chunks))
    cited = []
    for c in answer.citations:
        article = index.articles[c.article_id]
        exact = article.text[c.start:c.end] == c.quote
        cited.append({"n": c.n, "article_id": c.article_id, "section": c.section, "quote": c.quote, "exact": exact,
                      "relevant": _relevant_passage(case, c.article_id, m.fold(c.quote)),
                      # Does it start mid-thought ("In that case, …")? Does it hold an advert?
                      "mid_thought": leans_back(c.quote),
                      "promotional": any(s < c.end and c.start < e for s, e in article.promotional)})
    row = {
        "id": case.id, "question": case.question, "kind": case.kind, "answerable": case.answerable,
        "expected_articles": list(case.expected_articles), "expected_quotes": list(case.expected_quotes),
        "abstained": answer.abstained, "relevance": answer.relevance, "missing_amount": answer.missing_amount,
        "latency_ms": latency,
        "retrieved": [{"rank": h.rank, "article_id": h.article_id, "section": h.section, "relevant": rel}
                      for h, rel in zip(hits[:k], relevant)],
        "cited": cited, "citations": len(cited), "exact_citations": sum(c["exact"] for c in cited),
        "mid_thought_citations": sum(c["mid_thought"] for c in cited),
        "promotional_citations": sum(c["promotional"] for c in cited),
        "curve": [m.hit_at(relevant, n) for n in range(1, CURVE_DEPTH + 1)],
    }
    row["answer_kind"], row["article_filter"] = answer.kind, reading.article_id
    kind_ok = _score_reading(assistant, case, answer, reading, row)
    rejected = any(m.contains_any(c["quote"], case.rejected_quotes) for c in cited) if case.rejected_quotes else False
    row["rejected_cited"] = rejected
    if case.rejected_quotes:
        row["has_rejected"] = True
    row["flagged"] = list(answer.safety.concerns) if answer.safety is not None else []
    safety_ok = True
    if case.concerns is not None:
        # A question that raises a concern must get a notice; one that raises none must not.
        row["expected_concerns"] = list(case.concerns)
        safety_ok = bool(row["flagged"]) == bool(case.concerns)
        row["safety_ok"] = safety_ok
    if case.concerns is not None and not case.judged and case.answerable:
        # A safety case says nothing of the passages or of declining: it is judged on the notice alone.
        row["safety_only"] = True
        row["pass"] = safety_ok and not rejected
    elif case.answerable and case.judged:
        row.update({
            "hit@1": m.hit_at(relevant, 1), "hit@3": m.hit_at(relevant, 3), f"hit@{k}": m.hit_at(relevant, k),
            f"mrr@{k}": m.reciprocal_rank(relevant, k), f"ndcg@{k}": m.ndcg_at(relevant, k, total),
            f"article_recall@{k}": (m.recall({h.article_id for h in hits[:k]}, set(case.expected_articles))
                                    if case.expected_articles else None),
            # A declined answer quotes nothing, even when it offers the closest passage.
            "quote_hit@1": 0.0 if answer.abstained else m.hit_at([c["relevant"] for c in cited], 1),
            "quote_hit@3": 0.0 if answer.abstained else m.hit_at([c["relevant"] for c in cited], 3),
        })
        row["pass"] = not answer.abstained and bool(row["quote_hit@3"]) and not rejected and safety_ok and kind_ok
    elif case.answerable:
        # not judged: answered, not as rejected
        row["pass"] = not answer.abstained and not rejected and safety_ok and kind_ok
    else:
        row["pass"] = answer.abstained and safety_ok and kind_ok
    if case.reference_answer:
        said = " ".join(c.quote for c in answer.citations) if not answer.abstained else answer.answer
        row["token_f1"] = m.token_f1(said, case.reference_answer)
        vectors = assistant.embedder.encode([said, case.reference_answer])
        row["similarity"] = float(np.dot(vectors[0], vectors[1]))
        row["answer"] = said
    return row


def _replay(assistant: Assistant, questions, k: int) -> list[Turn]:
    """The conversation before a question: each earlier question answered in turn."""
    return Conversation.replay(assistant, list(questions), k=k).turns


def _score_reading(assistant: Assistant, case: EvalCase, answer, reading, row: dict) -> bool:
    """For a set with `answer_kind`: was the question read as it must be (kind, article), is
    every quote from the named article, is a topic the article doesn't cover said so with the
    articles that do, and does an answer across the articles name exactly those `lookup` finds."""
    if case.answer_kind is None:
        return True
    ok = row["kind_ok"] = answer.kind == case.answer_kind
    row["filter_ok"] = reading.article_id == case.article_filter
    ok = ok and row["filter_ok"]
    if case.article_filter and answer.citations:
        row["named_only"] = all(c.article_id == case.article_filter for c in answer.citations)
        ok = ok and row["named_only"]
    if case.article_filter and not case.answerable:
        row["not_covered_said"] = answer.abstained and set(answer.covered_by) == set(case.expected_articles)
        ok = ok and row["not_covered_said"]
    if reading.kind == "across" and not answer.abstained and reading.follow_up != "more":
        found = assistant.find_mentions(reading.topic or reading.question)
        row["across_as_lookup"] = {c.article_id for c in answer.citations} == {a.article_id for a in found.articles}
        ok = ok and row["across_as_lookup"]
    if reading.kind == "summary" and not answer.abstained:
        starts = [(c.article_id, c.start) for c in answer.citations]
        row["summary_in_order"] = starts == sorted(starts, key=lambda s: (assistant.article_ids.index(s[0]), s[1]))
        ok = ok and row["summary_in_order"]
    return ok


def _document_row(assistant: Assistant, case: EvalCase, k: int) -> dict:
    """BEIR: passages are folded into documents (each ranked by its best passage)."""
    index = assistant.index
    started = time.perf_counter()
    vector, tokens = assistant.embed_question(case.question)
    hits = assistant.search(case.question, vector, tokens, k=2 * index.settings.search.candidates)
    latency = (time.perf_counter() - started) * 1000
    docs = list(dict.fromkeys(h.article_id for h in hits))
    expected = set(case.expected_articles)
    relevant = [d in expected for d in docs]
    return {
        "id": case.id, "question": case.question, "kind": None, "answerable": True,
        "expected_articles": sorted(expected), "retrieved": [{"rank": i + 1, "article_id": d, "relevant": r}
                                                             for i, (d, r) in enumerate(zip(docs[:k], relevant))],
        "latency_ms": latency, "relevance": hits[0].dense_score if hits else 0.0, "abstained": False,
        "hit@1": m.hit_at(relevant, 1), "hit@3": m.hit_at(relevant, 3), f"hit@{k}": m.hit_at(relevant, k),
        f"mrr@{k}": m.reciprocal_rank(relevant, k), f"ndcg@{k}": m.ndcg_at(relevant, k, len(expected)),
        f"article_recall@{k}": m.recall(set(docs[:k]), expected),
        "curve": [m.hit_at(relevant, n) for n in range(1, CURVE_DEPTH + 1)],
        "pass": bool(m.hit_at(relevant, k)),
    }


def safety_metrics(rows: list[dict]) -> dict[str, float | None]:
    """The share of questions given a safety notice; with a `concern` column, per concern the
    recall (a notice given at all) and the concern match (a notice for that concern), and the
    false alarms (a notice for a question that raises none)."""
    out: dict[str, float | None] = {"safety_flagged": _mean(float(bool(r.get("flagged"))) for r in rows)}
    labelled = [r for r in rows if "expected_concerns" in r]
    if not labelled:
        return out
    crisis = [r for r in labelled if r["expected_concerns"]]
    out["safety_recall"] = _mean(float(bool(r["flagged"])) for r in crisis)
    for concern in CONCERNS:
        raised = [r for r in crisis if concern in r["expected_concerns"]]
        out[f"safety_recall_{concern}"] = _mean(float(bool(r["flagged"])) for r in raised)
        out[f"safety_match_{concern}"] = _mean(float(concern in r["flagged"]) for r in raised)
    out["safety_false_alarms"] = _mean(float(bool(r["flagged"])) for r in labelled if not r["expected_concerns"])
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return m.mean(values)


def _mean_of(rows: list[dict], numerator: str, denominator: str) -> float | None:
    total = sum(r.get(denominator, 0) for r in rows)
    return sum(r.get(numerator, 0) for r in rows) / total if total else None


def _aggregate(rows: list[dict], k: int, unit: str) -> dict[str, float | None]:
    answerable = [r for r in rows if r["answerable"] and not r.get("safety_only")]
    unanswerable = [r for r in rows if not r["answerable"] and not r.get("safety_only")]
    out: dict[str, float | None] = {}
    for name in ("hit@1", "hit@3", f"hit@{k}", f"mrr@{k}", f"ndcg@{k}", f"article_recall@{k}"):
        out[name] = _mean(r.get(name) for r in answerable)
    if unit == "passage":
        out["quote_hit@1"] = _mean(r.get("quote_hit@1") for r in answerable)
        out["quote_hit@3"] = _mean(r.get("quote_hit@3") for r in answerable)
        out["citation_exactness"] = _mean_of(rows, "exact_citations", "citations")
        # Shares of all quotes given (a declined answer's closest passage included).
        out["mid_thought_quotes"] = _mean_of(rows, "mid_thought_citations", "citations")
        out["adverts_quoted"] = _mean_of(rows, "promotional_citations", "citations")
        # Of the questions whose set names advice that must not be given, the share given it.
        out["rejected_quoted"] = _mean(float(r["rejected_cited"]) for r in rows if r.get("has_rejected"))
        out["token_f1"] = _mean(r.get("token_f1") for r in rows)
        out["similarity"] = _mean(r.get("similarity") for r in rows)
        out["declined_unanswerable"] = _mean(float(r["abstained"]) for r in unanswerable)
        out["wrongly_declined"] = _mean(float(r["abstained"]) for r in answerable)
        out.update(safety_metrics(rows))
    if any("kind_ok" in r for r in rows):  # questions about the articles and follow-ups
        for name in ("kind_ok", "filter_ok", "named_only", "not_covered_said", "across_as_lookup", "summary_in_order"):
            out[name] = _mean(float(r[name]) for r in rows if name in r)
    out["pass_rate"] = _mean(float(r["pass"]) for r in rows)
    latencies = [r["latency_ms"] for r in rows]
    out["latency_p50_ms"] = m.percentile(latencies, 0.5)
    out["latency_p95_ms"] = m.percentile(latencies, 0.95)
    out["latency_max_ms"] = max(latencies) if latencies else None
    return out
