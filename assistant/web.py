"""`closer serve`: a plain Gradio chat over the assistant (the full web page is its own issue)."""

from __future__ import annotations

import html
import os
import re

from .compose import format_source
from .errors import BadRequest
from .records import Answer
from .service import Assistant

EXAMPLES = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "Is technology harming our connection?",
    "What are the signs that emotional intimacy is missing?",
    "How can I listen better to my partner?",
]
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def as_text(value: str) -> str:
    """Corpus or user text shown as text: HTML escaped, Markdown markup neutralised."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(value, quote=False))


def render_answer(answer: Answer) -> str:
    if answer.abstained:
        return f"**{as_text(answer.answer)}**"
    quotes = [f"> “{as_text(c.quote)}” [{c.n}]" for c in answer.citations]
    sources = [as_text(format_source(c)) for c in answer.citations]
    return "\n\n".join(quotes) + "\n\n**Sources**\n\n" + "\n\n".join(sources)


def build_chat(assistant: Assistant):
    import gradio as gr

    def respond(message: str, history: list) -> str:
        try:
            return render_answer(assistant.ask(message))
        except BadRequest as exc:
            message = str(exc)
            return as_text(message[:1].upper() + message[1:])

    return gr.ChatInterface(respond, title="closer", examples=EXAMPLES, analytics_enabled=False,
                            description="Answers about relationships and emotional intimacy, "
                                        "made of exact quotes from the articles.")


def launch(assistant: Assistant, *, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           block: bool = True):
    """Serve the chat; with `block=False` return the running app (for tests)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = build_chat(assistant).queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, share=share, show_error=True, quiet=not block,
               prevent_thread_lock=not block)
    return app
