"""The Look up tab: every passage about a topic, per article and section."""

from __future__ import annotations

import gradio as gr

from ...errors import BadRequest
from .. import render
from .page import ALL_ARTICLES, NotReady, Page, reason

EXAMPLES = ["betrayal", "technology", "vulnerability", "quality time"]


def build(page: Page) -> None:
    with gr.Tab("Look up", id="lookup"):
        gr.Markdown("Every passage about a topic, in article order and grouped by section.")
        with gr.Row():
            topic = gr.Textbox(label="Topic", elem_id="lookup-topic", placeholder="e.g. betrayal", scale=2)
            article = gr.Dropdown(choices=[ALL_ARTICLES], value="", label="Article", elem_id="lookup-article",
                                  interactive=True, scale=3)
        button = gr.Button("Look up", variant="primary", elem_id="lookup-button")
        gr.Examples(EXAMPLES, inputs=topic, label="Topics")
        result = gr.HTML(elem_id="lookup-result")
    page.views["lookup_filter"] = article

    def look_up(topic_text: str, article_id: str):
        try:
            assistant = page.assistant()
            found = assistant.lookup(topic_text, article_id=article_id or None)
        except (BadRequest, NotReady) as exc:
            return f"<p>{render.esc(reason(exc))}</p>"
        return render.lookup_html(found, assistant.index)

    button.click(look_up, [topic, article], result, api_visibility="private")
    topic.submit(look_up, [topic, article], result, api_visibility="private")
