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
    """An error's message as a sentence: capitalised, unless it starts with a file name."""
    message = str(exc) or exc.__class__.__name__
    if getattr(exc, "filename", None) and message.startswith(exc.filename):
        return message
    return message[:1].upper() + message[1:]


@dataclass
class Page:
    loader: AssistantLoader
    settings: Settings
    feedback: FeedbackStore
    status: gr.Markdown | None = None
    views: dict[str, gr.components.Component] = field(default_factory=dict)  # by name, registered by the tabs

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
