"""The plain chat of `closer serve`, over HTTP with Gradio's own client."""

from __future__ import annotations

import socket

import pytest

from assistant.web import as_text, launch

pytestmark = pytest.mark.model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chat_url(assistant_real):
    port = free_port()
    app = launch(assistant_real, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_chat_answers_with_quotes_and_sources(chat_url):
    from gradio_client import Client

    client = Client(chat_url, verbose=False)
    reply = client.predict("Can emotional intimacy be rebuilt after betrayal?", api_name="/respond")
    assert "rebuilding emotional intimacy after betrayal is possible" in reply
    assert "[1]" in reply and "KMA Therapy" in reply
    assert "don't cover this" in client.predict("What is the capital of France?", api_name="/respond")
    assert "question is empty" in client.predict("   ", api_name="/respond")


def test_text_is_shown_as_text_not_markup():
    shown = as_text("<img src=x onerror=alert(1)> **bold** [link](http://x)")
    assert "<img" not in shown and "&lt;img" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[link\\]" in shown
