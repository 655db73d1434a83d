"""What the tabs share: the assistant's loader, the settings, the ratings, and the widgets a tab
shows that another tab changes (the article lists, the status line, the ratings table)."""

from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from ...feedback import FeedbackStore
from ...settings import Settings
from ..loading import AssistantLoader

ALL_ARTICLES = ("All articles", "")


def reason(exc: BaseException) -> str:
    """An error's message as a sentence: capitalised, unless it starts with a file name
    ("mine.csv: …" stays as it is spelt)."""
    message = str(exc) or exc.__class__.__name__
    first = message.split(" ", 1)[0].rstrip(":;,")
    if "/" in first or "." in first.rstrip("."):
        return message
    return message[:1].upper() + message[1:]


class NotReady(Exception):
    """The model or the index could not load: a tab says so instead of failing without a word."""


@dataclass
class Page:
    loader: AssistantLoader
    settings: Settings
    feedback: FeedbackStore
    status: gr.Markdown | None = None
    views: dict[str, gr.components.Component] = field(default_factory=dict)  # by name, registered by the tabs

    def assistant(self):
        """The loaded assistant (waiting for it), or NotReady saying why there is none."""
        try:
            return self.loader.get()
        except Exception as exc:
            raise NotReady(f"the model and the index could not load: {reason(exc)}") from exc

    def article_choices(self) -> list[tuple[str, str]]:
        assistant = self.loader.get()
        return [ALL_ARTICLES] + [(f"{a.title} — {a.publisher}" if a.publisher else a.title, a.article_id)
                                 for a in assistant.index.articles.values()]

    # The widgets that show the corpus, in the order `corpus_views` returns their values.
    CORPUS_VIEWS = ("chat_filter", "lookup_filter", "articles_table", "article_picker")

    def corpus_outputs(self) -> list:
        return [self.views[name] for name in self.CORPUS_VIEWS] + [self.status]

    def corpus_views(self) -> tuple:
        """The article lists of every tab and the status line, as the corpus is now."""
        from .. import render

        try:
            assistant = self.loader.get()
        except Exception:
            return gr.Dropdown(), gr.Dropdown(), gr.Dataframe(), gr.Dropdown(), self.loader.status()
        choices = self.article_choices()
        return (gr.Dropdown(choices=choices), gr.Dropdown(choices=choices), render.article_rows(assistant.index),
                gr.Dropdown(choices=choices[1:]), self.loader.status())
