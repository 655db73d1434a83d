"""What does an article say about a topic: every sentence that speaks to it, in article order."""

from __future__ import annotations

import numpy as np

from index import CorpusIndex, tokenize

from .records import ArticleMentions, LookupResult, Mention

# A sentence speaks to a topic when it names one of its distinctive terms, or when it is this
# close in meaning to the topic. Terms used in more than this share of all sentences
# ("emotional", "intimacy") don't single out a topic in this corpus and are not matched alone.
LOOKUP_MIN_SIMILARITY = 0.45
COMMON_TERM_SHARE = 0.10
KEYWORD_BONUS = 0.30


class SentenceTerms:
    """Stemmed terms of every sentence in the index, computed once per index."""

    def __init__(self, index: CorpusIndex) -> None:
        texts = []
        for chunk in index.chunks:
            article_text = index.articles[chunk.article_id].text
            texts.extend(article_text[s:e] for s, e in chunk.sentences)
        self.terms = [set(t) for t in tokenize(texts)] if texts else []
        counts: dict[str, int] = {}
        for terms in self.terms:
            for term in terms:
                counts[term] = counts.get(term, 0) + 1
        self.document_frequency = counts
        self.size = len(self.terms)
        sections = sorted({c.section for c in index.chunks if c.section})
        self.section_terms = dict(zip(sections, (set(t) for t in tokenize(sections)))) if sections else {}

    def distinctive(self, terms: set[str]) -> set[str]:
        limit = max(1, COMMON_TERM_SHARE * self.size)
        return {t for t in terms if self.document_frequency.get(t, 0) <= limit}


def lookup_topic(index: CorpusIndex, terms_cache: SentenceTerms, topic_vector: np.ndarray, topic: str, *,
                 article_ids: list[str]) -> LookupResult:
    topic_terms = terms_cache.distinctive(set(tokenize([topic])[0]))
    found: list[ArticleMentions] = []
    not_covered: list[str] = []
    for article_id in article_ids:
        article = index.articles[article_id]
        spans: list[tuple[int, int, float, str, int]] = []  # start, end, score, section, chunk row
        for row in index.rows_of([article_id]):
            chunk = index.chunks[row]
            rows = index.sentence_rows(int(row))
            sims = index.sentence_vectors[rows.start:rows.stop] @ topic_vector if len(rows) else []
            heading_match = bool(topic_terms & terms_cache.section_terms.get(chunk.section, set()))
            for (start, end), sim, sentence_row in zip(chunk.sentences, sims, rows):
                if index.sentence_promotional[sentence_row]:  # an advert says nothing about a topic
                    continue
                keyword = bool(topic_terms & terms_cache.terms[sentence_row])
                score = float(sim) + (KEYWORD_BONUS if keyword or heading_match else 0.0)
                if keyword or sim >= LOOKUP_MIN_SIMILARITY or (heading_match and sim >= LOOKUP_MIN_SIMILARITY / 2):
                    spans.append((start, end, score, chunk.section, int(row)))
        mentions = _merge(article.text, sorted(spans))
        if mentions:
            found.append(ArticleMentions(article_id, article.title, article.publisher, mentions))
        else:
            not_covered.append(article_id)
    return LookupResult(topic=topic, articles=found, not_covered=not_covered)


def _merge(text: str, spans) -> list[Mention]:
    """Consecutive sentences of one passage become one mention."""
    mentions: list[Mention] = []
    last_row = None
    for start, end, score, section, row in spans:
        if mentions and row == last_row and not text[mentions[-1].end:start].strip():
            prev = mentions[-1]
            mentions[-1] = Mention(text[prev.start:end], section, prev.start, end, max(prev.score, score))
        else:
            mentions.append(Mention(text[start:end], section, start, end, score))
        last_row = row
    return mentions
