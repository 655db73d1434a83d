"""`closer serve`: the web page (Gradio Blocks) with its tabs Chat, Look up, Articles, Evaluate,
Feedback and Add a document. Handlers are thin: the work is the assistant's, the HTML is `render`'s.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import gradio as gr

from ..conversation import Conversation, questions_of
from ..documents import MAX_UPLOAD_BYTES, check_upload
from ..errors import BadRequest
from ..feedback import FeedbackStore
from ..reading import Turn
from ..service import Assistant
from ..settings import Settings
from . import render
from .loading import AssistantLoader

EXAMPLES = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "Is technology harming our connection?",
    "What are the signs that emotional intimacy is missing?",
    "How can I listen better to my partner?",
]
LOOKUP_EXAMPLES = ["betrayal", "technology", "vulnerability", "quality time"]
ALL_ARTICLES = ("All articles", "")
DEFAULT_CONCURRENCY = 2  # one answer per core; more users wait their turn in Gradio's queue


def _reason(exc: BaseException) -> str:
    message = str(exc) or exc.__class__.__name__
    return message[:1].upper() + message[1:]


def _article_choices(assistant: Assistant) -> list[tuple[str, str]]:
    return [ALL_ARTICLES] + [(f"{a.title} — {a.publisher}" if a.publisher else a.title, a.article_id)
                             for a in assistant.index.articles.values()]


def build_app(loader: AssistantLoader, settings: Settings):
    from ..evaluation import TestSetError, load_testset, run_evaluation
    from ..evaluation.report import figures, metrics_table, question_rows

    feedback = FeedbackStore(settings.feedback_path)

    with gr.Blocks(title="closer", analytics_enabled=False) as app:
        gr.Markdown("# closer\nAnswers about relationships and emotional intimacy, made of exact quotes "
                    "from the articles, each with its source.")
        status = gr.Markdown(loader.status(), elem_id="status")
        status_timer = gr.Timer(1.0)

        with gr.Tabs():
            # ---- Chat -------------------------------------------------------------------------
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
                            gr.Markdown("Use 👍 or 👎 under an answer. You may add a comment to your last rating:")
                            comment = gr.Textbox(show_label=False, elem_id="feedback-comment",
                                                 placeholder="What was wrong or right about it?")
                            comment_button = gr.Button("Save comment", elem_id="feedback-comment-save", size="sm")
                        feedback_note = gr.Markdown(elem_id="feedback-note")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render.sources_html(None, None), elem_id="sources")
                answers = gr.State({})
                turns = gr.State([])  # the conversation so far, as assistant/reading Turn records
                last_rating = gr.State(None)

            # ---- Look up ----------------------------------------------------------------------
            with gr.Tab("Look up", id="lookup"):
                gr.Markdown("Every passage about a topic, in article order and grouped by section.")
                with gr.Row():
                    topic = gr.Textbox(label="Topic", elem_id="lookup-topic", placeholder="e.g. betrayal", scale=3)
                    lookup_filter = gr.Dropdown(choices=[ALL_ARTICLES], value="", label="Article",
                                                elem_id="lookup-article", interactive=True, scale=2)
                lookup_button = gr.Button("Look up", variant="primary", elem_id="lookup-button")
                gr.Examples(LOOKUP_EXAMPLES, inputs=topic, label="Topics")
                lookup_result = gr.HTML(elem_id="lookup-result")

            # ---- Articles ---------------------------------------------------------------------
            with gr.Tab("Articles", id="articles"):
                articles_table = gr.Dataframe(headers=["Title", "Publisher", "Sections", "Passages", "File", "ID"],
                                              interactive=False, elem_id="articles-table", wrap=True)
                article_picker = gr.Dropdown(choices=[], label="Open an article", elem_id="article-picker",
                                             interactive=True)
                article_view = gr.HTML(elem_id="article-view")

            # ---- Evaluate ---------------------------------------------------------------------
            with gr.Tab("Evaluate", id="evaluate"):
                gr.Markdown("Run the built-in test set, or upload your own (JSON Lines or CSV with a `question` "
                            "column; see the README). The same figures as `closer eval`.")
                testset_file = gr.File(label="Test set (leave empty for the built-in one)",
                                       file_types=[".jsonl", ".csv"], elem_id="eval-file")
                eval_button = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
                eval_status = gr.Markdown(elem_id="eval-status")
                eval_metrics = gr.Dataframe(headers=["metric", "value"], interactive=False, elem_id="eval-metrics")
                failures_only = gr.Checkbox(label="Show failures only", elem_id="eval-failures")
                eval_questions = gr.Dataframe(headers=["result", "id", "question", "expected", "cited or retrieved",
                                                       "top score"], interactive=False, wrap=True,
                                              elem_id="eval-questions")
                eval_plots = gr.HTML(elem_id="eval-plots")
                eval_rows = gr.State([])

            # ---- Feedback ---------------------------------------------------------------------
            with gr.Tab("Feedback", id="feedback"):
                gr.Markdown("Ratings given in the chat, newest first. `closer feedback export -o ratings.jsonl` "
                            "writes them as test-set lines that `closer eval` can hold.")
                feedback_refresh = gr.Button("Refresh", size="sm", elem_id="feedback-refresh")
                feedback_table = gr.Dataframe(headers=["#", "time", "rating", "question", "comment"],
                                              interactive=False, wrap=True, elem_id="feedback-table")

            # ---- Add a document ---------------------------------------------------------------
            with gr.Tab("Add a document", id="add"):
                gr.Markdown(f"Add a `.txt`, `.md`, `.html` or `.pdf` file (up to "
                            f"{MAX_UPLOAD_BYTES // 2**20} MB) to the corpus. It is searchable as soon as it is "
                            "indexed; no restart.")
                upload = gr.File(label="Document", file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
                                 elem_id="upload-file")
                upload_button = gr.Button("Add to the corpus", variant="primary", elem_id="upload-button")
                upload_status = gr.Markdown(elem_id="upload-status")

        # ---- handlers -----------------------------------------------------------------------------
        def show_status():
            return loader.status(), gr.Timer(active=not loader.finished)

        def corpus_views():
            """The article lists of every tab, once the assistant is there."""
            try:
                assistant = loader.get()
            except Exception:
                return (gr.Dropdown(), gr.Dropdown(), gr.Dataframe(), gr.Dropdown(), loader.status())
            choices = _article_choices(assistant)
            return (gr.Dropdown(choices=choices), gr.Dropdown(choices=choices),
                    render.article_rows(assistant.index), gr.Dropdown(choices=choices[1:]), loader.status())

        def respond(message: str, history: list, article_id: str, answers: dict, turns: list):
            history = list(history or [])
            history.append({"role": "user", "content": render.as_text(message or "")})
            shown = gr.HTML()
            try:
                assistant = loader.get()
                # A follow-up is read with the turns before it (assistant/conversation.py).
                conversation = Conversation(assistant, [Turn.from_dict(t) for t in turns or []])
                answer = conversation.ask(message or "", article_id=article_id or None)
                turns = [t.to_dict() for t in conversation.turns]
                reply = render.chat_message(answer)
                shown = render.sources_html(answer, assistant.index)
                answers = {**answers, str(len(history)): {"answer": answer.to_dict(), "filter": article_id or None}}
            except BadRequest as exc:
                reply = render.as_text(_reason(exc))
            except Exception as exc:  # the model or index could not load: say so in the chat
                reply = render.as_text(f"closer could not answer: {_reason(exc)}")
            history.append({"role": "assistant", "content": reply})
            return "", history, shown, answers, turns

        def rate(answers: dict, data: gr.LikeData):
            record = answers.get(str(data.index if isinstance(data.index, int) else data.index[0]))
            if record is None or data.liked not in (True, False):
                return gr.Markdown(), None
            answer = record["answer"]
            verdict = "up" if data.liked else "down"
            rating = feedback.add(answer["question"], answer, verdict, article_filter=record["filter"])
            icon = "👍" if verdict == "up" else "👎"
            return f"Saved your {icon} (rating #{rating}). Thank you.", rating

        def save_comment(text: str, rating):
            if rating is None:
                return "Rate an answer with 👍 or 👎 first; the comment goes with that rating.", text
            if not (text or "").strip():
                return "The comment is empty.", text
            feedback.comment(rating, text)
            return f"Saved your comment on rating #{rating}.", ""

        def look_up(topic_text: str, article_id: str):
            try:
                assistant = loader.get()
                result = assistant.lookup(topic_text, article_id=article_id or None)
            except BadRequest as exc:
                return f"<p>{render.esc(_reason(exc))}</p>"
            return render.lookup_html(result, assistant.index)

        def open_article(article_id: str | None):
            if not article_id:
                return ""
            try:
                return render.article_html(loader.get().article(article_id))
            except BadRequest as exc:
                return f"<p>{render.esc(_reason(exc))}</p>"

        def pick_row(table, event: gr.SelectData):
            row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
            try:
                article_id = table.iloc[row, 5]
            except (AttributeError, IndexError):
                return gr.Dropdown()
            return gr.Dropdown(value=article_id)

        def evaluate(path: str | None, failures: bool, progress=gr.Progress()):
            try:
                evalset = load_testset(path)
                if not evalset.own_corpus:
                    raise TestSetError(path, "the page evaluates questions about the corpus (.jsonl or .csv); "
                                             "run SQuAD or BEIR sets with `closer eval`")
                assistant = loader.get()
                evalset.check_articles(assistant.article_ids)
            except (TestSetError, BadRequest) as exc:
                return (render.esc(_reason(exc)), gr.Dataframe(value=None), [], gr.Dataframe(value=None), "")
            started = time.perf_counter()
            progress(0, desc=f"Evaluating {len(evalset.cases)} questions")
            result = run_evaluation(assistant, evalset)
            rows = [list(r) for r in question_rows(result)]
            passed = sum(r[0] == "pass" for r in rows)
            note = (f"**{render.esc(result.testset)}**: {passed} of {len(rows)} questions passed "
                    f"({time.perf_counter() - started:.1f} s).")
            note += "".join(f"\n\n**Error:** {render.as_text(e)}" for e in result.errors)
            return (note, [list(r) for r in metrics_table(result)], rows, _filtered(rows, failures),
                    render.images_html(figures(result)))

        def _filtered(rows: list, failures: bool):
            return [r for r in rows if r[0] != "pass"] if failures else rows

        def feedback_rows():
            records = feedback.records()[::-1]
            return [[r.id, time.strftime("%Y-%m-%d %H:%M", time.localtime(r.time)),
                     "👍 up" if r.verdict == "up" else "👎 down", r.question, r.comment] for r in records]

        def add_document(path: str | None):
            if not path:
                return ("Choose a file first.",) + corpus_views()[:4]
            try:
                check_upload(Path(path).name, os.path.getsize(path))  # before reading a too-large file
                assistant = loader.get()
                article = assistant.add_document(settings, Path(path).name, Path(path).read_bytes())
                passages = sum(c.article_id == article.article_id for c in assistant.index.chunks)
                sections = len(article.sections)
                note = (f"Added **{render.as_text(article.title)}** ({sections} section{'s' if sections != 1 else ''}, "
                        f"{passages} passage{'s' if passages != 1 else ''}). Ask about it in the Chat tab.")
            except BadRequest as exc:
                note = f"**Not added.** {render.as_text(_reason(exc))}"
            return (note,) + corpus_views()[:4]

        # ---- wiring -------------------------------------------------------------------------------
        status_timer.tick(show_status, outputs=[status, status_timer], concurrency_limit=None,
                          show_progress="hidden", api_visibility="private")
        app.load(corpus_views, outputs=[chat_filter, lookup_filter, articles_table, article_picker, status],
                 api_visibility="private")
        question.submit(respond, [question, chatbot, chat_filter, answers, turns],
                        [question, chatbot, sources, answers, turns], api_visibility="private")
        chatbot.clear(lambda: ([], {}), outputs=[turns, answers], api_visibility="private")
        chatbot.like(rate, [answers], [feedback_note, last_rating], concurrency_limit=None,
                     api_visibility="private")
        comment_button.click(save_comment, [comment, last_rating], [feedback_note, comment], api_visibility="private")
        lookup_button.click(look_up, [topic, lookup_filter], lookup_result, api_visibility="private")
        topic.submit(look_up, [topic, lookup_filter], lookup_result, api_visibility="private")
        article_picker.change(open_article, article_picker, article_view, api_visibility="private")
        articles_table.select(pick_row, articles_table, article_picker, api_visibility="private")
        eval_button.click(evaluate, [testset_file, failures_only],
                          [eval_status, eval_metrics, eval_rows, eval_questions, eval_plots],
                          api_visibility="private")
        failures_only.change(_filtered, [eval_rows, failures_only], eval_questions, api_visibility="private")
        feedback_refresh.click(feedback_rows, outputs=feedback_table, api_visibility="private")
        app.load(feedback_rows, outputs=feedback_table, api_visibility="private")
        upload_button.click(add_document, upload,
                            [upload_status, chat_filter, lookup_filter, articles_table, article_picker],
                            api_visibility="private")

        # For programs: the answer as the JSON of `closer ask --json`.
        def ask(question: str, article_id: str = "", history: list | None = None) -> dict:
            """Answer a question with quotes from the articles (the JSON of `closer ask --json`).
            `history`: the conversation so far, oldest first (questions, or earlier answers'
            JSON, or chat messages), so that a follow-up keeps its subject."""
            assistant = loader.get()
            conversation = Conversation.replay(assistant, questions_of(history))
            return conversation.ask(question, article_id=article_id or None).to_dict()

        gr.api(ask, api_name="ask")
    return app


def launch(source: Assistant | AssistantLoader, settings: Settings, *, host: str = "127.0.0.1", port: int = 7860,
           share: bool = False, auth: tuple[str, str] | None = None, concurrency: int = DEFAULT_CONCURRENCY,
           block: bool = True):
    """Serve the page; with `block=False` return the running app (for tests and benchmarks).

    The page is up before the assistant has loaded: `source` may be a loader still at work.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Uploads land in the data folder, like everything else closer writes.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.home / "uploads"))
    loader = source if isinstance(source, AssistantLoader) else AssistantLoader.ready(source)
    loader.start()
    app = build_app(loader, settings).queue(default_concurrency_limit=concurrency, max_size=256)
    app.launch(server_name=host, server_port=port, share=share, auth=auth, show_error=True, quiet=not block,
               prevent_thread_lock=not block, css=render.CSS, footer_links=["api"])
    return app
