"""Reading a question once: its kind, the article it names, its topic and the turn it follows."""

from .names import ArticleNames, Named, short_name
from .reader import Reading, Turn, read_question

__all__ = ["ArticleNames", "Named", "Reading", "Turn", "read_question", "short_name"]
