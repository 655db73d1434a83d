"""A question about one article ("What does the KMA Therapy article say about technology?", "In
the coaching blog, how do I listen better?"): answered from that article only. When it doesn't
cover the topic the answer says so and names the articles that do."""

from __future__ import annotations

from dataclasses import replace

from ..records import Answer
from ..reading import short_name
from .advice import NOTHING_MORE, retrieve_and_compose
from .quoting import best_mentions, citation

MAX_QUOTES = 3
MAX_TOPIC_WORDS = 4  # a topic this short is looked up ("technology"); a longer one is asked


def _names(assistant, article_ids) -> str:
    names = [short_name(assistant.article(a)) for a in article_ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _not_covered(assistant, reading, label: str, others: list[str], what: str) -> Answer:
    text = f"{label} doesn't {what}."
    if others:
        verb = "does" if len(others) == 1 else "do"
        text += f" {'This article' if len(others) == 1 else 'These articles'} {verb}: {_names(assistant, others)}."
    else:
        text += " Nor do the other articles."
    return Answer(reading.question, True, text, [], [], 0.0, covered_by=others)


def answer(assistant, reading, *, k: int = 5):
    article = assistant.article(reading.article_id)
    label = short_name(article)
    more = reading.follow_up == "more"
    topic = reading.topic
    if topic and len(topic.split()) <= MAX_TOPIC_WORDS:
        found = assistant.find_mentions(topic)
        here = next((a for a in found.articles if a.article_id == article.article_id), None)
        mentions = best_mentions(article.article_id, here.mentions, MAX_QUOTES, reading.excluded,
                                  assistant.index) if here else []
        if not mentions:
            if more and here is not None:
                return Answer(reading.question, True, NOTHING_MORE, [], [], 0.0)
            others = [a.article_id for a in found.articles if a.article_id != article.article_id]
            return _not_covered(assistant, reading, label, others, f"say anything about “{topic}”")
        citations = [citation(assistant.index, n, article.article_id, m.section, m.start, m.end, m.score)
                     for n, m in enumerate(mentions, start=1)]
        lead = f"{'More on' if more else 'On'} “{topic}”, in {label}:"
        return Answer(reading.question, False, _with_quotes(lead, citations), citations, [],
                      max(m.score for m in mentions))
    # Asked as written (the article's name included): the filter, not the wording, keeps it to one article.
    asked = reading.question
    result = retrieve_and_compose(assistant, asked, k=k, article_ids=[article.article_id],
                                  excluded=reading.excluded)
    if result.abstained:
        if more:
            return replace(result, answer=NOTHING_MORE, citations=[], nearby=[])
        elsewhere = retrieve_and_compose(assistant, asked, k=k)
        others = [] if elsewhere.abstained else list(dict.fromkeys(
            c.article_id for c in elsewhere.citations if c.article_id != article.article_id))
        declined = _not_covered(assistant, reading, label, others, "answer this")
        return replace(declined, passages=result.passages, relevance=result.relevance)
    if more:
        lead = f"More on “{reading.subject}”, in {label}:"
    elif reading.follow_up:
        lead = f"On “{reading.subject}”, in {label}:"
    else:
        lead = f"In {label}:"
    return replace(result, answer=_with_quotes(lead, result.citations))


def _with_quotes(lead: str, citations) -> str:
    """The lead line naming the article, then its quotes (one article: no header per quote group)."""
    return "\n\n".join([lead] + [f"“{c.quote}” [{c.n}]" for c in citations])
