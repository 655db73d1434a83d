"""The Feedback tab: the ratings given in the chat, newest first (it follows each new rating)."""

from __future__ import annotations

import time

import gradio as gr

from ...feedback import FeedbackStore
from .page import Page


def rows(store: FeedbackStore) -> list[list]:
    return [[r.id, time.strftime("%Y-%m-%d %H:%M", time.localtime(r.time)), r.verdict,
             r.question, r.comment] for r in store.records()[::-1]]


def build(page: Page) -> None:
    with gr.Tab("Feedback", id="feedback"):
        gr.Markdown("Ratings given in the chat, newest first. `closer feedback export -o ratings.jsonl` "
                    "writes them as test-set lines that `closer eval` can hold.")
        refresh = gr.Button("Refresh", size="sm", elem_id="feedback-refresh")
        # value: a function, so every page load shows the ratings as they are then.
        table = gr.Dataframe(value=lambda: rows(page.feedback), headers=["#", "time", "rating", "question", "comment"],
                             interactive=False, wrap=True, elem_id="feedback-table", elem_classes=["closer-table"],
                             column_widths=["6%", "16%", "9%", "44%", "25%"])
    page.views["feedback_table"] = table
    refresh.click(lambda: rows(page.feedback), outputs=table, api_visibility="private")
