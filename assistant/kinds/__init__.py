"""One composer per kind of question (assistant/reading): advice, one article, across the
articles, a summary. Each takes the assistant and a `Reading` and returns an `Answer` before the
safety layer (the assistant passes every answer through it). A new kind is a new module here."""

from __future__ import annotations

from . import across, advice, article, summary

COMPOSERS = {"advice": advice.answer, "article": article.answer, "across": across.answer, "summary": summary.answer}


def compose(assistant, reading, *, k: int = 5):
    """The answer to `reading`, by the composer of its kind."""
    return COMPOSERS[reading.kind](assistant, reading, k=k)


__all__ = ["COMPOSERS", "compose"]
