"""A question across the articles ("What do the articles say about betrayal?", "Which articles
talk about technology?", a bare topic): per article, as `closer lookup` finds them, with the same
count in the lead line (one code path: `Assistant.find_mentions`). The articles come best first
(by their closest mention), each with its best quotes, best first."""

from __future__ import annotations

from ..records import Answer
from .advice import NOTHING_MORE
from .quoting import best_mentions, citation, header

PER_ARTICLE = 1  # the closest quote of each article that speaks to the topic; `lookup` shows them all


def answer(assistant, reading, *, k: int = 5):
    topic = reading.topic or reading.question
    found = assistant.find_mentions(topic)
    lines = [found.lead]
    citations = []
    # The article that speaks to the topic most closely comes first, and its closest quote, as in
    # every answer.
    ranked = sorted(found.articles, key=lambda a: -max((m.score for m in a.mentions), default=0.0))
    for article_mentions in ranked:
        article = assistant.article(article_mentions.article_id)
        chosen = best_mentions(article.article_id, article_mentions.mentions, PER_ARTICLE, reading.excluded,
                                assistant.index)
        if not chosen:
            continue
        lines.append(header(article))
        for m in sorted(chosen, key=lambda m: -m.score):
            c = citation(assistant.index, len(citations) + 1, article.article_id, m.section, m.start, m.end, m.score)
            citations.append(c)
            lines.append(f"“{c.quote}” [{c.n}]")
    if reading.follow_up == "more" and not citations:
        return Answer(reading.question, True, NOTHING_MORE, [], [], 0.0)
    if not citations:
        return Answer(reading.question, True, found.lead if not found.articles else NOTHING_MORE, [], [], 0.0)
    best = max(c.score for c in citations)
    if reading.follow_up == "more":
        lines[0] = f"More on “{topic}”:"
    return Answer(reading.question, False, "\n\n".join(lines), citations, [], best,
                  covered_by=[a.article_id for a in found.articles])
