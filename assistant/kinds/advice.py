"""Advice: the question answered from every article (or the one chosen), the assistant's first
kind (assistant/compose.py chooses the quotes)."""

from __future__ import annotations

from dataclasses import replace

from ..compose import DECLINE

MORE_DEPTH = 5  # "tell me more" reads this many passages past the first k
NOTHING_MORE = "The articles say nothing more on this than what was quoted already."


def retrieve_and_compose(assistant, question: str, *, k: int, article_ids=None, excluded=()):
    """Retrieve for `question` (within `article_ids`) and compose the advice answer, leaving out
    what `excluded` spans hold."""
    vector, tokens = assistant.embed_question(question)
    hits = assistant.search(question, vector, tokens, k=k + MORE_DEPTH if excluded else k, article_ids=article_ids)
    searched = len(article_ids) if article_ids else len(assistant.article_ids)
    return assistant.compose_advice(question, vector, hits, articles_searched=searched, excluded=excluded)


def answer(assistant, reading, *, k: int = 5):
    result = retrieve_and_compose(assistant, reading.question, k=k, excluded=reading.excluded)
    if reading.follow_up == "more":
        if result.abstained and not result.citations:
            return replace(result, answer=NOTHING_MORE)
        return replace(result, answer=f"More on “{reading.question}”:\n\n{result.answer}")
    if reading.follow_up and not result.abstained:
        return replace(result, answer=f"On “{reading.subject}”:\n\n{result.answer}")
    return result if result.answer else replace(result, answer=DECLINE)
