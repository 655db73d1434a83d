"""The Add a document tab: an upload checked, ingested and indexed; every tab's article list and
the status line follow it."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from ...documents import MAX_UPLOAD_BYTES, UploadRejected, check_upload
from ...errors import BadRequest
from .. import render
from .page import NotReady, Page, reason


def build(page: Page) -> None:
    with gr.Tab("Add a document", id="add"):
        gr.Markdown(f"Add a `.txt`, `.md`, `.html` or `.pdf` file (up to {MAX_UPLOAD_BYTES // 2**20} MB) to the "
                    "corpus. It is searchable as soon as it is indexed; no restart.")
        page.views["upload"] = gr.File(label="Document", file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
                                       elem_id="upload-file")
        page.views["upload_button"] = gr.Button("Add to the corpus", variant="primary", elem_id="upload-button")
        page.views["upload_status"] = gr.Markdown(elem_id="upload-status")


def added(page: Page, path: str | None) -> str:
    """What the page says of an upload: added (with its sections and passages) or why not."""
    if not path:
        return "Choose a file first."
    try:
        check_upload(Path(path).name, os.path.getsize(path))  # before reading a too-large file
        assistant = page.assistant()
        article = assistant.add_document(page.settings, Path(path).name, Path(path).read_bytes())
    except UploadRejected as exc:
        name = f"{render.as_text(exc.filename)}: " if exc.filename else ""
        return f"**Not added.** {name}{render.as_text(exc.reason)}"
    except (BadRequest, NotReady) as exc:
        return f"**Not added.** {render.as_text(reason(exc))}"
    passages = sum(c.article_id == article.article_id for c in assistant.index.chunks)
    sections = len(article.sections)
    return (f"Added **{render.as_text(article.title)}** ({sections} section{'s' if sections != 1 else ''}, "
            f"{passages} passage{'s' if passages != 1 else ''}). Ask about it in the Chat tab.")


def connect(page: Page) -> None:
    def add_document(path: str | None):
        return (added(page, path),) + page.corpus_views()

    page.views["upload_button"].click(add_document, page.views["upload"],
                                      [page.views["upload_status"]] + page.corpus_outputs(), api_visibility="private")
