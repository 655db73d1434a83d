"""`closer serve`: the web page (Gradio Blocks) with its tabs Chat, Look up, Articles, Evaluate,
Feedback and Add a document, each built in its own module of `tabs/`. Handlers are thin: the work is
the assistant's, the HTML is `render`'s.
"""

from __future__ import annotations

import logging
import os

import gradio as gr

from ..conversation import Conversation, questions_of
from ..errors import BadRequest
from ..feedback import FeedbackStore
from ..service import Assistant
from ..settings import SERVE_CONCURRENCY, SERVE_QUEUE, Settings
from . import render
from .loading import AssistantLoader
from .tabs import TABS
from .tabs.page import Page, reason

log = logging.getLogger("closer.web")


def page_theme() -> gr.themes.Base:
    """Gradio's default theme with text and buttons that read at WCAG AA contrast (4.5:1): its
    subdued grey (footer, placeholders, "- or -") and white-on-orange buttons fall short of it.

    Bold text uses Source Sans Pro's Bold face: the SemiBold file Gradio ships holds only a few
    glyphs, so a bold "KMA" drew its "A" from another font."""
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="indigo", font=font).set(
        body_text_color_subdued="*neutral_600", input_placeholder_color="*neutral_600",
        button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white")


def build_app(loader: AssistantLoader, settings: Settings):
    """The page: a header and status line, then each tab of `tabs` (its widgets and handlers live
    in its own module), and the `/ask` endpoint for programs."""
    page = Page(loader, settings, FeedbackStore(settings.feedback_path))
    with gr.Blocks(title="closer", analytics_enabled=False) as app:
        gr.Markdown("# closer\nAnswers about relationships and emotional intimacy, made of exact quotes "
                    "from the articles, each with its source.")
        page.status = gr.Markdown(loader.status(), elem_id="status")
        status_timer = gr.Timer(1.0)
        with gr.Tabs():
            for tab in TABS:
                tab.build(page)
        for tab in TABS:
            if hasattr(tab, "connect"):
                tab.connect(page)

        def show_status():
            return loader.status(), gr.Timer(active=not loader.finished)

        status_timer.tick(show_status, outputs=[page.status, status_timer], concurrency_limit=None,
                          show_progress="hidden", api_visibility="private")
        app.load(page.corpus_views, outputs=page.corpus_outputs(), api_visibility="private")

        # For programs: the answer as the JSON of `closer ask --json`.
        def ask(question: str, article_id: str = "", history: list | None = None) -> dict:
            """Answer a question with quotes from the articles (the JSON of `closer ask --json`).
            `history`: the conversation so far, oldest first (questions, or earlier answers'
            JSON, or chat messages), so that a follow-up keeps its subject."""
            try:
                conversation = Conversation.replay(loader.get(), questions_of(history))
                return conversation.ask(question, article_id=article_id or None).to_dict()
            except BadRequest as exc:  # the caller's mistake: a message for it, one line in the log
                log.warning("/ask refused: %s", exc)
                raise gr.Error(reason(exc), print_exception=False) from None

        gr.api(ask, api_name="ask")
    return app


def launch(source: Assistant | AssistantLoader, settings: Settings, *, host: str = "127.0.0.1", port: int = 7860,
           share: bool = False, auth: tuple[str, str] | None = None, concurrency: int = SERVE_CONCURRENCY,
           block: bool = True):
    """Serve the page; with `block=False` return the running app (for tests and benchmarks).

    The page is up before the assistant has loaded: `source` may be a loader still at work.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Uploads land in the data folder, like everything else closer writes.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.home / "uploads"))
    loader = source if isinstance(source, AssistantLoader) else AssistantLoader.ready(source)
    loader.start()
    app = build_app(loader, settings).queue(default_concurrency_limit=concurrency, max_size=SERVE_QUEUE)
    app.launch(server_name=host, server_port=port, share=share, auth=auth, show_error=True, quiet=not block,
               prevent_thread_lock=not block, css=render.CSS, theme=page_theme(), footer_links=["api"])
    return app
