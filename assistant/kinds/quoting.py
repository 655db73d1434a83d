"""What the composers of every kind share: mentions as citations, quotes not given twice."""

from __future__ import annotations

from ..compose import MIN_QUOTE_CHARS, leans_back
from ..records import Citation, Mention


def overlaps(article_id: str, start: int, end: int, excluded) -> bool:
    """True when the span was quoted already in this conversation."""
    return any(a == article_id and s < end and start < e for a, s, e in excluded)


def quotable(mention: Mention) -> bool:
    """A mention that stands alone as a quote: long enough, not starting mid-thought."""
    return len(mention.quote) >= MIN_QUOTE_CHARS and not leans_back(mention.quote)


def best_mentions(article_id: str, mentions: list[Mention], limit: int, excluded=()) -> list[Mention]:
    """The `limit` best-scoring mentions not quoted already, in article order."""
    fresh = [m for m in mentions if quotable(m) and not overlaps(article_id, m.start, m.end, excluded)]
    chosen = sorted(fresh, key=lambda m: -m.score)[:limit]
    return sorted(chosen, key=lambda m: m.start)


def citation(index, n: int, article_id: str, section: str, start: int, end: int, score: float) -> Citation:
    article = index.articles[article_id]
    return Citation(n=n, article_id=article_id, title=article.title, publisher=article.publisher, section=section,
                    quote=article.text[start:end], start=start, end=end, score=score, url=article.url)


def header(article) -> str:
    """The line that opens an article's quotes: "Title (Publisher):"."""
    return f"{article.title} ({article.publisher}):" if article.publisher else f"{article.title}:"
