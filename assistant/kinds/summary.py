"""A summary of an article ("Summarize the Remainly article", "What is the KMA article about?"):
its title and publisher, its main sections in order, each with its key sentence, quoted and cited
like every other answer. Without an article named, each article's key sentence.

The key sentence of a section is the one closest in meaning to the section as a whole (the mean
of its sentences' vectors), among those that stand alone: no advert, no heading, none that starts
mid-thought ("This means …"), none shorter than a quote may be.
"""

from __future__ import annotations

import numpy as np

from ..compose import MIN_QUOTE_CHARS, leans_back
from ..records import Answer, Citation
from ..reading import short_name
from .advice import NOTHING_MORE
from .quoting import citation, overlaps

MAX_SECTIONS = 8  # an article with more main sections is summarised by its longest eight, in order


def _sentences(index, article_id: str):
    """(start, end, vector row) of every sentence of the article that may be quoted alone."""
    article = index.articles[article_id]
    headings = {s.title.strip() for s in article.sections}
    for row in index.rows_of([article_id]):
        chunk = index.chunks[int(row)]
        rows = index.sentence_rows(int(row))
        for (start, end), sentence_row in zip(chunk.sentences, rows):
            text = article.text[start:end].strip()
            if index.sentence_promotional[sentence_row] or text in headings or len(text) < MIN_QUOTE_CHARS:
                continue
            if leans_back(text) or text.endswith((":", "?")):
                continue
            yield start, end, sentence_row


def _closeness(index, sentences) -> np.ndarray:
    """Each sentence's cosine to the mean of their vectors: how central it is to what they say."""
    vectors = index.sentence_vectors[[r for _, _, r in sentences]]
    centre = vectors.mean(axis=0)
    return vectors @ (centre / (np.linalg.norm(centre) or 1.0))


def key_sentences(index, article_id: str, excluded=()) -> list[tuple[str, int, int, float]]:
    """(section title, start, end, score) of each main section's key sentence, in article order."""
    article = index.articles[article_id]
    top = min((s.level for s in article.sections), default=0)
    sections = [s for s in article.sections if s.level == top]
    sentences = list(_sentences(index, article_id))
    found = []
    for section in sections:
        inside = [(s, e, r) for s, e, r in sentences if section.start <= s < section.end]
        if not inside:
            continue
        ranked = sorted(zip(inside, _closeness(index, inside).tolist()), key=lambda item: -item[1])
        fresh = [(item, score) for item, score in ranked if not overlaps(article_id, item[0], item[1], excluded)]
        if fresh:
            (start, end, _), score = fresh[0]
            found.append((section.title, start, end, score, section.end - section.start))
    if len(found) > MAX_SECTIONS:
        longest = sorted(found, key=lambda f: -f[4])[:MAX_SECTIONS]
        found = [f for f in found if f in longest]
    if not sections and sentences:  # no headings: the article's own key sentence
        start, end, _ = sentences[int(np.argmax(_closeness(index, sentences)))]
        found = [("", start, end, 1.0, 0)]
    return [(title, start, end, score) for title, start, end, score, _ in found]


def _article_summary(assistant, article_id: str, excluded, first: int) -> tuple[list[str], list[Citation]]:
    index = assistant.index
    article = index.articles[article_id]
    lines, citations = [], []
    for title, start, end, score in key_sentences(index, article_id, excluded):
        c = citation(index, first + len(citations), article_id, title, start, end, score)
        citations.append(c)
        lines.append(f"{title}: “{c.quote}” [{c.n}]" if title else f"“{c.quote}” [{c.n}]")
    count = len(citations)
    head = f"{short_name(article)}, in {count} main section{'s' if count != 1 else ''}:"
    return [head] + lines, citations


def answer(assistant, reading, *, k: int = 5):
    if reading.article_id is not None:
        lines, citations = _article_summary(assistant, reading.article_id, reading.excluded, 1)
        if not citations:
            return Answer(reading.question, True, NOTHING_MORE if reading.follow_up == "more" else
                          f"{short_name(assistant.article(reading.article_id))} has no passage to summarise.",
                          [], [], 0.0)
        return Answer(reading.question, False, "\n\n".join(lines), citations, [], 1.0)
    # No article named: what each one is about, in a sentence.
    lines = [f"The {len(assistant.article_ids)} articles, each in its key sentence "
             "(name one to have it summarised section by section):"]
    citations = []
    for article_id in assistant.article_ids:
        article = assistant.index.articles[article_id]
        sentences = list(_sentences(assistant.index, article_id))
        sentences = [s for s in sentences if not overlaps(article_id, s[0], s[1], reading.excluded)]
        if not sentences:
            continue
        closeness = _closeness(assistant.index, sentences)
        best = int(np.argmax(closeness))
        start, end, _ = sentences[best]
        section = article.section_at(start)
        c = citation(assistant.index, len(citations) + 1, article_id, section.path if section else "", start, end,
                     float(closeness[best]))
        citations.append(c)
        lines.append(f"{short_name(article)}: “{c.quote}” [{c.n}]")
    return Answer(reading.question, not citations, "\n\n".join(lines), citations, [], 1.0 if citations else 0.0)
