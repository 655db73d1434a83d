"""The Evaluate tab: the built-in test set or an uploaded one, with the figures of `closer eval`."""

from __future__ import annotations

import time

import gradio as gr

from ...errors import BadRequest
from .. import render
from .page import NotReady, Page, reason

QUESTION_HEADERS = ["result", "id", "question", "expected", "cited or retrieved", "top score"]


def build(page: Page) -> None:
    from ...evaluation import TestSetError, load_testset, run_evaluation
    from ...evaluation.report import figures, metrics_table, question_rows

    with gr.Tab("Evaluate", id="evaluate"):
        gr.Markdown("Run the built-in test set, or upload your own (JSON Lines or CSV with a `question` "
                    "column; see the README). The same figures as `closer eval`.")
        testset = gr.File(label="Test set (leave empty for the built-in one)", file_types=[".jsonl", ".csv"],
                          elem_id="eval-file")
        button = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
        status = gr.Markdown(elem_id="eval-status")
        # Every metric shows without scrolling inside the table (latency rows included).
        metrics = gr.Dataframe(headers=["metric", "value"], interactive=False, elem_id="eval-metrics",
                               elem_classes=["closer-table"], max_height=2000, column_widths=["70%", "30%"])
        failures_only = gr.Checkbox(label="Show failures only", elem_id="eval-failures")
        questions = gr.Dataframe(headers=QUESTION_HEADERS, interactive=False, wrap=True, elem_id="eval-questions",
                                 elem_classes=["closer-table"], column_widths=["8%", "8%", "32%", "20%", "24%", "8%"])
        plots = gr.HTML(elem_id="eval-plots")
        rows_state = gr.State([])

    def evaluate(path: str | None, failures: bool, progress=gr.Progress()):
        try:
            evalset = load_testset(path)
            if not evalset.own_corpus:
                raise TestSetError(path, "the page evaluates questions about the corpus (.jsonl or .csv); "
                                         "run SQuAD or BEIR sets with `closer eval`")
            assistant = page.assistant()
            evalset.check_articles(assistant.article_ids)
        except (TestSetError, BadRequest, NotReady) as exc:
            return render.esc(reason(exc)), gr.Dataframe(value=None), [], gr.Dataframe(value=None), ""
        started = time.perf_counter()
        progress(0, desc=f"Evaluating {len(evalset.cases)} questions")
        result = run_evaluation(assistant, evalset)
        rows = [list(r) for r in question_rows(result)]
        passed = sum(r[0] == "pass" for r in rows)
        note = (f"**{render.esc(result.testset)}**: {passed} of {len(rows)} questions passed "
                f"({time.perf_counter() - started:.1f} s).")
        note += "".join(f"\n\n**Error:** {render.as_text(e)}" for e in result.errors)
        return (note, [list(r) for r in metrics_table(result)], rows, filtered(rows, failures),
                render.images_html(figures(result)))

    button.click(evaluate, [testset, failures_only], [status, metrics, rows_state, questions, plots],
                 api_visibility="private")
    failures_only.change(filtered, [rows_state, failures_only], questions, api_visibility="private")


def filtered(rows: list, failures: bool):
    return [r for r in rows if r[0] != "pass"] if failures else rows
