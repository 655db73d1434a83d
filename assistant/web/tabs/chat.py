"""The Chat tab: a conversation (follow-ups read with the turns before), the Sources panel beside
it, ratings and a comment on the last rating."""

from __future__ import annotations

import logging

import gradio as gr

from ...conversation import Conversation
from ...errors import BadRequest
from ...reading import Turn
from .. import render
from .feedback import rows
from .page import ALL_ARTICLES, NotReady, Page, reason

log = logging.getLogger("closer.web")

EXAMPLES = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "Is technology harming our connection?",
    "What does the KMA Therapy article say about technology?",
    "How can I listen better to my partner?",
]
EMPTY_QUESTION = "Type a question first, e.g. “Can emotional intimacy be rebuilt after betrayal?”"


def build(page: Page) -> None:
    with gr.Tab("Chat", id="chat"):
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chatbot", height=430,
                                     feedback_options=("Like", "Dislike"), buttons=["copy"],
                                     placeholder="Ask a question below, or click an example.")
                question = gr.Textbox(show_label=False, elem_id="question", submit_btn="Ask",
                                      placeholder="Ask about relationships and emotional intimacy…")
                chat_filter = gr.Dropdown(choices=[ALL_ARTICLES], value="", label="Answer from",
                                          elem_id="chat-filter", interactive=True)
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
                with gr.Accordion("Rate an answer", open=False):
                    gr.Markdown("Use the thumbs-up or thumbs-down button under an answer. You may add a comment "
                                "to your last rating:")
                    comment = gr.Textbox(show_label=False, elem_id="feedback-comment",
                                         placeholder="What was wrong or right about it?")
                    comment_button = gr.Button("Save comment", elem_id="feedback-comment-save", size="sm")
                note = gr.Markdown(elem_id="feedback-note")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.sources_html(None, None), elem_id="sources")
        answers = gr.State({})
        turns = gr.State([])  # the conversation so far, as assistant/reading Turn records
        last_rating = gr.State(None)
    page.views.update(chat_filter=chat_filter, chatbot=chatbot, chat_answers=answers, last_rating=last_rating,
                      feedback_note=note, feedback_comment=comment, feedback_comment_save=comment_button)

    def respond(message: str, history: list, article_id: str, answers: dict, turns: list):
        if not (message or "").strip():  # no empty bubble: say what to do, change nothing
            gr.Warning(EMPTY_QUESTION)
            return message, history, gr.HTML(), answers, turns
        history = list(history or [])
        history.append({"role": "user", "content": render.as_text(message)})
        shown = gr.HTML()
        try:
            assistant = page.assistant()
            # A follow-up is read with the turns before it (assistant/conversation.py).
            conversation = Conversation(assistant, [Turn.from_dict(t) for t in turns or []])
            answer = conversation.ask(message, article_id=article_id or None)
            turns = [t.to_dict() for t in conversation.turns]
            reply = render.chat_message(answer)
            shown = render.sources_html(answer, assistant.index)
            answers = {**answers, str(len(history)): {"answer": answer.to_dict(), "filter": article_id or None}}
        except (BadRequest, NotReady) as exc:
            reply = render.as_text(reason(exc))
        except Exception as exc:  # a fault while answering: say so in the chat (and the log)
            log.exception("answering a question failed")  # the question itself stays out of the log
            reply = render.as_text(f"closer could not answer: {reason(exc)}")
        history.append({"role": "assistant", "content": reply})
        return "", history, shown, answers, turns

    question.submit(respond, [question, chatbot, chat_filter, answers, turns],
                    [question, chatbot, sources, answers, turns], api_visibility="private")
    chatbot.clear(lambda: ([], {}), outputs=[turns, answers], api_visibility="private")


def connect(page: Page) -> None:
    """A rating, and a comment on it, are saved and show in the Feedback tab at once."""
    views = page.views

    def rate(answers: dict, data: gr.LikeData):
        record = answers.get(str(data.index if isinstance(data.index, int) else data.index[0]))
        if record is None or data.liked not in (True, False):
            return gr.Markdown(), None, gr.Dataframe()
        answer = record["answer"]
        verdict = "up" if data.liked else "down"
        rating = page.feedback.add(answer["question"], answer, verdict, article_filter=record["filter"])
        word = "thumbs-up" if verdict == "up" else "thumbs-down"
        return f"Saved your {word} (rating #{rating}). Thank you.", rating, rows(page.feedback)

    def save_comment(text: str, rating):
        if rating is None:
            return ("Rate an answer with the thumbs-up or thumbs-down button first; the comment goes with it.", text,
                    gr.Dataframe())
        if not (text or "").strip():
            return "The comment is empty.", text, gr.Dataframe()
        page.feedback.comment(rating, text)
        return f"Saved your comment on rating #{rating}.", "", rows(page.feedback)

    views["chatbot"].like(rate, [views["chat_answers"]], [views["feedback_note"], views["last_rating"],
                                                          views["feedback_table"]],
                          concurrency_limit=None, api_visibility="private")
    views["feedback_comment_save"].click(save_comment, [views["feedback_comment"], views["last_rating"]],
                                         [views["feedback_note"], views["feedback_comment"], views["feedback_table"]],
                                         api_visibility="private")
