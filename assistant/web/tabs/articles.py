"""The Articles tab: the corpus at a glance, and each article to read section by section."""

from __future__ import annotations

import gradio as gr

from ...errors import BadRequest
from .. import render
from .page import NotReady, Page, reason

HEADERS = ["Title", "Publisher", "Sections", "Passages", "File", "ID"]


def build(page: Page) -> None:
    with gr.Tab("Articles", id="articles"):
        table = gr.Dataframe(headers=HEADERS, interactive=False, elem_id="articles-table", wrap=True,
                             elem_classes=["closer-table"],
                             column_widths=["30%", "19%", "9%", "9%", "17%", "16%"])
        picker = gr.Dropdown(choices=[], label="Open an article", elem_id="article-picker", interactive=True)
        view = gr.HTML(elem_id="article-view")
    page.views.update(articles_table=table, article_picker=picker)

    def open_article(article_id: str | None):
        if not article_id:
            return ""
        try:
            return render.article_html(page.assistant().article(article_id))
        except (BadRequest, NotReady) as exc:
            return f"<p>{render.esc(reason(exc))}</p>"

    def pick_row(rows, event: gr.SelectData):
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        try:
            article_id = rows.iloc[row, HEADERS.index("ID")]
        except (AttributeError, IndexError):
            return gr.Dropdown()
        return gr.Dropdown(value=article_id)

    picker.change(open_article, picker, view, api_visibility="private")
    table.select(pick_row, table, picker, api_visibility="private")
