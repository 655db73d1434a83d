"""Evaluation reports: a terminal table, and an HTML or Markdown report with plots.

Plots: hit@n for n = 1..10 (how deep the right passage sits), and the distributions of the top
similarity for answerable and unanswerable questions with the declining thresholds drawn in,
which shows where the thresholds should sit. Beside them, the operating points of declining: for
each cut, the shares of unanswerable and answerable questions it declines (`closer eval
--calibrate` picks one).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from .calibration import CalibrationError, frontier, point_at
from .runner import EvalResult

METRIC_LABELS = {
    "quote_hit@1": "quote hit@1", "quote_hit@3": "quote hit@3",
    "citation_exactness": "citation exactness", "token_f1": "token F1 vs reference",
    "similarity": "embedding similarity vs reference", "declined_unanswerable": "unanswerable declined",
    "wrongly_declined": "answerable wrongly declined", "pass_rate": "questions passed",
    "safety_flagged": "given a safety notice", "safety_recall": "safety recall (all concerns)",
    "safety_false_alarms": "safety false alarms",
    "kind_ok": "read as the right kind", "filter_ok": "read with the right article",
    "named_only": "quotes only from the named article", "not_covered_said": "not covered: said, and who covers it",
    "across_as_lookup": "across: the articles lookup finds", "summary_in_order": "summary: sections in order",
    "latency_p50_ms": "latency p50 (ms)", "latency_p95_ms": "latency p95 (ms)", "latency_max_ms": "latency max (ms)",
}


def label(name: str, unit: str = "passage") -> str:
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    for prefix, text in (("safety_recall_", "safety recall: "), ("safety_match_", "safety concern match: "),
                         ("hit@", f"{unit} hit@"), ("mrr@", "MRR@"), ("ndcg@", "nDCG@"),
                         ("article_recall@", "article recall@")):
        if name.startswith(prefix):
            return text + name[len(prefix):]
    return name


def format_value(value: float | None, name: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}"


def metrics_table(result: EvalResult, baseline: dict[str, float | None] | None = None) -> list[tuple[str, ...]]:
    rows = []
    for name, value in result.metrics.items():
        row = (label(name, result.unit), format_value(value, name))
        if baseline is not None:
            base = baseline.get(name)
            delta = "" if base is None or value is None else f"{value - base:+.3f}"
            row += (format_value(base, name), delta)
        rows.append(row)
    return rows


def terminal_table(result: EvalResult, baseline=None) -> str:
    header = ("metric", "value") + (("baseline", "change") if baseline is not None else ())
    rows = [header] + metrics_table(result, baseline)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [f"{result.testset}: {result.questions} questions, k = {result.k}, model {result.model}"]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    failed = [r for r in result.rows if not r["pass"]]
    lines.append(f"{len(result.rows) - len(failed)} of {len(result.rows)} questions passed.")
    return "\n".join(lines)


def declining_rows(result: EvalResult) -> list[tuple[str, str, str, str]]:
    """The operating points worth choosing between (threshold, unanswerable declined, answerable
    declined, which one is in use); none when the test set lacks either kind of question."""
    try:
        points = frontier(result.rows)
    except CalibrationError:
        return []
    in_use = None
    if result.confident_threshold is not None:
        in_use = point_at(result.rows, result.confident_threshold)
        same = (in_use.declined_unanswerable, in_use.wrongly_declined)
        points = [p for p in points if (p.declined_unanswerable, p.wrongly_declined) != same] + [in_use]
    return [(f"{p.threshold:.3f}", f"{p.declined_unanswerable:.3f}", f"{p.wrongly_declined:.3f}",
             "in use" if p is in_use else "") for p in sorted(points, key=lambda p: p.threshold)]


DECLINING_HEADER = ("closest passage only below", "unanswerable declined", "answerable declined", "")


def declining_table(result: EvalResult) -> str:
    rows = [DECLINING_HEADER] + declining_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(DECLINING_HEADER))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def figures(result: EvalResult) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = {}
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=110)
    ns = list(range(1, len(result.hit_curve) + 1))
    ax.plot(ns, result.hit_curve, marker="o")
    ax.set_xticks(ns)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"n ({result.unit}s read)")
    ax.set_ylabel("share of answerable questions")
    ax.set_title(f"hit@n: a relevant {result.unit} among the first n")
    ax.grid(alpha=0.3)
    plots["hit_at_n"] = _png(fig)

    answerable = [r["relevance"] for r in result.rows if r["answerable"]]
    unanswerable = [r["relevance"] for r in result.rows if not r["answerable"]]
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=110)
    bins = [i / 40 for i in range(-4, 41)]
    ax.hist(answerable, bins=bins, alpha=0.6, label=f"answerable ({len(answerable)})")
    if unanswerable:
        ax.hist(unanswerable, bins=bins, alpha=0.6, label=f"unanswerable ({len(unanswerable)})")
    ax.axvline(result.threshold, color="black", linestyle="--", label=f"declined below {result.threshold:.2f}")
    if result.confident_threshold is not None and result.confident_threshold > result.threshold:
        ax.axvline(result.confident_threshold, color="black", linestyle=":",
                   label=f"closest passage only below {result.confident_threshold:.2f}")
    ax.set_xlabel("top similarity of question and corpus")
    ax.set_ylabel("questions")
    ax.set_title("Top scores: where to decline")
    ax.legend(fontsize=8)
    plots["top_scores"] = _png(fig)
    plt.close("all")
    return plots


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def question_rows(result: EvalResult) -> list[tuple[str, ...]]:
    rows = []
    for r in result.rows:
        expected = ("; ".join(r.get("expected_quotes") or r.get("expected_articles") or [])
                    or ("(an answer)" if r["answerable"] else "(decline)"))
        if r.get("cited"):
            got = " | ".join(f"[{c['n']}] {c['article_id']}: {c['quote'][:120]}" for c in r["cited"][:3])
        elif r["abstained"]:
            got = "(declined)"
        else:
            got = ", ".join(x["article_id"] for x in r.get("retrieved", [])[:3])
        if r.get("rejected_cited"):
            got = "cites a rejected quote: " + got
        if r.get("expected_concerns"):
            expected = "safety notice: " + ", ".join(r["expected_concerns"])
        elif r.get("flagged"):  # a notice nobody expected: say so beside what was
            expected += "; no safety notice"
        if r.get("flagged"):
            got = f"safety notice ({', '.join(r['flagged'])}); " + got
        rows.append(("pass" if r["pass"] else "FAIL", r["id"], r["question"], expected, got,
                     f"{r['relevance']:.3f}"))
    return rows


def write_report(result: EvalResult, path: Path, baseline=None) -> list[Path]:
    """Write an HTML report (one file, plots inline) or, for a .md path, Markdown with PNGs beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plots = figures(result)
    if path.suffix.lower() in (".md", ".markdown"):
        written = [path]
        images = []
        for name, data in plots.items():
            image = path.with_name(f"{path.stem}-{name}.png")
            image.write_bytes(data)
            written.append(image)
            images.append(f"![{name}]({image.name})")
        table = metrics_table(result, baseline)
        header = "| metric | value |" + (" baseline | change |" if baseline is not None else "")
        lines = [f"# Evaluation: {result.testset}", "",
                 f"{result.questions} questions, k = {result.k}, model `{result.model}`.", "",
                 header, "|" + " --- |" * (4 if baseline is not None else 2)]
        lines += ["| " + " | ".join(row) + " |" for row in table]
        lines += [""] + [f"**Error:** {e}" for e in result.errors] + [""] + images
        declining = declining_rows(result)
        if declining:
            lines += ["", "## Declining: operating points", "", "| " + " | ".join(DECLINING_HEADER) + " |",
                      "| --- | --- | --- | --- |"] + ["| " + " | ".join(row) + " |" for row in declining]
        lines += ["", "## Questions", "",
                  "| result | id | question | expected | cited or retrieved | top score |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |"
                  for row in question_rows(result)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return written
    esc = html.escape
    table = metrics_table(result, baseline)
    head = "<tr><th>metric</th><th>value</th>" + ("<th>baseline</th><th>change</th>" if baseline else "") + "</tr>"
    metric_rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table)
    rows_html = "".join(
        f"<tr class='{'pass' if row[0] == 'pass' else 'fail'}'>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for row in question_rows(result))
    images = "".join(f"<img alt='{name}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
                     for name, data in plots.items())
    errors = "".join(f"<p class='error'>Error: {esc(e)}</p>" for e in result.errors)
    points = declining_rows(result)
    declining = ("<h2>Declining: operating points</h2><table><tr>"
                 + "".join(f"<th>{esc(h)}</th>" for h in DECLINING_HEADER) + "</tr>"
                 + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in points)
                 + "</table>") if points else ""
    path.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>Evaluation: {esc(result.testset)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;vertical-align:top;font-size:13px}}tr.fail td:first-child{{color:#b00;font-weight:bold}}
.error{{color:#b00}}img{{margin:1em 1em 0 0}}</style></head><body>
<h1>Evaluation: {esc(result.testset)}</h1><p>{result.questions} questions, k = {result.k}, model {esc(result.model)}.</p>
{errors}<table>{head}{metric_rows}</table>{images}{declining}
<h2>Questions</h2><table><tr><th>result</th><th>id</th><th>question</th><th>expected</th><th>cited or retrieved</th>
<th>top score</th></tr>{rows_html}</table></body></html>
""", encoding="utf-8")
    return [path]
