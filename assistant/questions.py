"""The question inside a story: people write a few sentences of their situation, then ask.

The whole text keeps the situation as context; the sentences that ask (ending in "?", or the last
one when none does) say what is wanted. The vector a search uses blends the two
(`SearchSettings.question_focus` of the asking sentences, the rest the whole text).
"""

from __future__ import annotations

import re

_SPLIT = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+|\n+")
MIN_STORY_SENTENCES = 2  # a one- or two-sentence question is its own focus


def asking_sentences(text: str) -> str | None:
    """The sentences of `text` that ask, joined; None when the text is short or all question."""
    parts = [p.strip() for p in _SPLIT.split(text or "") if p and p.strip()]
    if len(parts) <= MIN_STORY_SENTENCES:
        return None
    asking = [p for p in parts if p.rstrip("\"”’')] ").endswith("?")] or [parts[-1]]
    if len(asking) == len(parts):
        return None
    return " ".join(asking)
