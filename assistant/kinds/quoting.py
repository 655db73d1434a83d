"""What the composers of every kind share: mentions as citations, quotes not given twice."""

from __future__ import annotations

from ..compose import MAX_LEAN_BACK, MIN_QUOTE_CHARS, leans_back
from ..records import Citation, Mention


def overlaps(article_id: str, start: int, end: int, excluded) -> bool:
    """True when the span was quoted already in this conversation."""
    return any(a == article_id and s < end and start < e for a, s, e in excluded)


def quotable(mention: Mention) -> bool:
    """A mention that stands alone as a quote: long enough, not starting mid-thought."""
    return len(mention.quote) >= MIN_QUOTE_CHARS and not leans_back(mention.quote)


def best_mentions(article_id: str, mentions: list[Mention], limit: int, excluded=(), index=None) -> list[Mention]:
    """The `limit` best-scoring mentions not quoted already, in article order. When none of an
    article's mentions stands alone, its best one is quoted with what it leans on (given `index`),
    so that an article `lookup` finds is never left out of an answer."""
    unquoted = [m for m in mentions if not overlaps(article_id, m.start, m.end, excluded)]
    fresh = [m for m in unquoted if quotable(m)]
    if not fresh and unquoted and index is not None:
        fresh = [with_context(index, article_id, max(unquoted, key=lambda m: m.score))]
    chosen = sorted(fresh, key=lambda m: -m.score)[:limit]
    return sorted(chosen, key=lambda m: m.start)


def with_context(index, article_id: str, mention: Mention) -> Mention:
    """`mention` grown back over the sentences of its passage it leans on, or that lead into it
    (a short list item takes its list's lead-in), up to MAX_LEAN_BACK sentences."""
    text = index.articles[article_id].text
    for row in index.rows_of([article_id]):
        chunk = index.chunks[int(row)]
        if not chunk.start <= mention.start < chunk.end:
            continue
        starts = [s for s, _ in chunk.sentences]
        position = max((i for i, s in enumerate(starts) if s <= mention.start), default=0)
        start = mention.start
        for _ in range(MAX_LEAN_BACK):
            current = text[start:mention.end]
            if position == 0 or (quotable(Mention(current, mention.section, start, mention.end, mention.score))):
                break
            position -= 1
            start = starts[position]
        return Mention(text[start:mention.end], mention.section, start, mention.end, mention.score)
    return mention


def citation(index, n: int, article_id: str, section: str, start: int, end: int, score: float) -> Citation:
    article = index.articles[article_id]
    return Citation(n=n, article_id=article_id, title=article.title, publisher=article.publisher, section=section,
                    quote=article.text[start:end], start=start, end=end, score=score, url=article.url)


def header(article) -> str:
    """The line that opens an article's quotes: "Title (Publisher):"."""
    return f"{article.title} ({article.publisher}):" if article.publisher else f"{article.title}:"
