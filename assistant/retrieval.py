"""Find the passages that answer a question: a dense ranking and a keyword ranking, fused."""

from __future__ import annotations

import numpy as np

from index import CorpusIndex

from .records import Hit


def fuse_rankings(rankings: list[list[int]], *, k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: each ranking gives an item 1 / (k + rank)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


def fuse_scores(rankings: list[list[tuple[int, float]]], weights: list[float]) -> dict[int, float]:
    """Convex combination of min-max normalised scores; an item missing from a ranking gets 0 there
    (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid Retrieval")."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        if not ranking:
            continue
        scores = [s for _, s in ranking]
        low, high = min(scores), max(scores)
        span = high - low
        for row, score in ranking:
            fused[row] = fused.get(row, 0.0) + weight * ((score - low) / span if span > 0 else 1.0)
    return fused


def retrieve(index: CorpusIndex, query_vector: np.ndarray, question: str, *, k: int = 5,
             article_ids: list[str] | None = None, query_tokens: np.ndarray | None = None) -> list[Hit]:
    """The `k` best passages for a question, best first, each with its dense, keyword and
    word-by-word (late interaction, when `query_tokens` are given and the index keeps token
    vectors) ranks."""
    settings = index.settings.search
    dense = index.dense_search(query_vector, settings.candidates, article_ids)
    keyword = index.keyword_search(question, settings.candidates, article_ids)
    late: list[tuple[int, float]] = []
    if settings.late_weight > 0 and index.has_token_vectors and query_tokens is not None and len(query_tokens):
        # Late interaction re-scores the candidates of the two first rankings, word by word.
        candidates = list(dict.fromkeys([row for row, _ in dense] + [row for row, _ in keyword]))
        late = sorted(zip(candidates, index.late_scores(query_tokens, candidates).tolist()),
                      key=lambda item: (-item[1], item[0]))
    dense_rank = {row: r for r, (row, _) in enumerate(dense, start=1)}
    keyword_rank = {row: r for r, (row, _) in enumerate(keyword, start=1)}
    late_rank = {row: r for r, (row, _) in enumerate(late, start=1)}
    keyword_score, late_score = dict(keyword), dict(late)
    rankings = [dense, keyword] + ([late] if late else [])
    if settings.fusion == "convex":
        share = 1.0 - settings.late_weight if late else 1.0
        weights = [share * settings.dense_weight, share * (1.0 - settings.dense_weight)] + (
            [settings.late_weight] if late else [])
        fused = fuse_scores(rankings, weights)
    else:
        fused = fuse_rankings([[row for row, _ in ranking] for ranking in rankings], k=settings.rrf_k)
    # A passage that only sells (an advert, a biography) is never an answer.
    rows = [row for row in fused if not index.chunk_promotional[row]]
    # A passage holding the question's very word pairs ("not about", "more than just") moves up,
    # by up to `phrase_weight` of the best fused score a passage can have.
    phrase = dict(zip(rows, index.phrases.scores(question, rows).tolist())) if settings.phrase_weight else {}
    best_possible = 1.0 if settings.fusion == "convex" else len(rankings) / (settings.rrf_k + 1)
    for row, score in phrase.items():
        fused[row] += settings.phrase_weight * best_possible * score
    # Ties (same fused score) go to the passage closer in meaning, then to article order.
    cosine = dict(zip(rows, (index.chunk_vectors[rows] @ query_vector).tolist())) if rows else {}
    order = sorted(rows, key=lambda row: (-fused[row], -cosine[row], row))[:k]
    hits = []
    for rank, row in enumerate(order, start=1):
        chunk = index.chunks[row]
        article = index.articles[chunk.article_id]
        hits.append(Hit(rank=rank, chunk_id=chunk.chunk_id, article_id=chunk.article_id, title=article.title,
                        section=chunk.section, text=chunk.text, start=chunk.start, end=chunk.end,
                        score=fused[row], dense_score=float(cosine[row]), dense_rank=dense_rank.get(row),
                        keyword_score=keyword_score.get(row, 0.0), keyword_rank=keyword_rank.get(row),
                        phrase_score=phrase.get(row, 0.0), late_score=late_score.get(row, 0.0),
                        late_rank=late_rank.get(row), row=row))
    return hits
