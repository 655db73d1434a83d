"""`closer`: thin commands over the assistant. Library errors become one-line reasons here.

Exit codes: 0 success, 2 bad input (empty question, unknown article id, missing corpus),
1 anything else (an incompatible or damaged index, a model that can't load).
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import click

from index import CorpusIndexError
from ingest import METADATA_FILE, IngestError

from .compose import format_source
from .errors import BadRequest
from .safety import SafetyFileError, SafetyModelError
from .settings import (BACKEND_ENV, BACKENDS, CORPUS_ENV, COUNTRY_ENV, HOME_ENV, MILVUS_COLLECTION_ENV, MILVUS_TOKEN_ENV,
                       MILVUS_URI_ENV, SERVE_CONCURRENCY, Settings)


class BadInput(click.ClickException):
    exit_code = 2


def data_options(command):
    """--home and --corpus on every command that reads the corpus or the index."""

    @click.option("--home", type=click.Path(file_okay=False), envvar=HOME_ENV, show_envvar=True,
                  help="Data folder for everything closer writes (the index lives in HOME/index).")
    @click.option("--corpus", type=click.Path(file_okay=False), envvar=CORPUS_ENV, show_envvar=True,
                  help="Folder of articles (.txt, .md, .html, .pdf). Default: the repository's corpus/.")
    @click.option("--country", metavar="CODE", envvar=COUNTRY_ENV, show_envvar=True,
                  help="This deployment's country (ISO code: US, GB, ...), for the helplines a safety notice "
                       "gives. Default: the international directory.")
    @click.option("--backend", type=click.Choice(BACKENDS, case_sensitive=False), envvar=BACKEND_ENV,
                  show_envvar=True, help="Where passages are searched: in this process (embedded, the default) "
                                         "or in Milvus (pip install -c constraints.txt -e '.[milvus]').")
    @click.option("--milvus-uri", metavar="URI", envvar=MILVUS_URI_ENV, show_envvar=True,
                  help="The Milvus server or cluster (http://host:19530), or a Milvus Lite file (*.db). "
                       "Default: HOME/milvus.db.")
    @click.option("--milvus-token", metavar="TOKEN", envvar=MILVUS_TOKEN_ENV, show_envvar=True,
                  help="user:password or an API key for the Milvus server.")
    @click.option("--milvus-collection", metavar="NAME", envvar=MILVUS_COLLECTION_ENV, show_envvar=True,
                  help="Prefix of the Milvus collections (NAME_passages, NAME_sentences). Default: closer.")
    @functools.wraps(command)
    def wrapper(*args, home=None, corpus=None, country=None, backend=None, milvus_uri=None, milvus_token=None,
                milvus_collection=None, **kwargs):
        try:
            settings = Settings.resolve(home=home, corpus=corpus, country=country, backend=backend,
                                        milvus_uri=milvus_uri, milvus_token=milvus_token,
                                        milvus_collection=milvus_collection)
        except BadRequest as exc:
            raise BadInput(str(exc)) from exc
        try:
            return command(*args, settings=settings, **kwargs)
        except BadRequest as exc:
            raise BadInput(str(exc)) from exc
        except (CorpusIndexError, IngestError, SafetyFileError, SafetyModelError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _notify(message: str) -> None:
    click.echo(message, err=True)


def _open(settings: Settings):
    from .service import Assistant

    if sys.stderr.isatty():  # a person waiting at a terminal is told why nothing shows yet
        click.echo("Loading the model and the index…", err=True)
    return Assistant.open(settings, notify=_notify, show_progress=sys.stderr.isatty())


def _emit_json(record: dict) -> None:
    click.echo(json.dumps(record, ensure_ascii=False))


class OneLineErrors(click.Group):
    """Errors in one line on stderr, a usage error too ("Error: … (see `closer ask --help`)"),
    instead of click's three lines of usage."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `closer` alone: its help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="closer")
def cli():
    """closer: answers about relationships and emotional intimacy, made of exact quotes from articles."""


@cli.command()
@data_options
@click.option("--rebuild", is_flag=True, help="Build from scratch, replacing an index of another model or format.")
def ingest(settings: Settings, rebuild: bool):
    """Read the corpus folder and build (or update) the index, and export the models questions run
    through to ONNX (once) in the data folder."""
    from .models import question_embedder
    from .service import ensure_index

    started = time.perf_counter()
    # No session opened ahead: an index that is up to date is not embedded again, so the model
    # is never run (issue 16: nothing re-done).
    embedder = question_embedder(settings, verify=True, warm=False, notify=_notify)
    index, status = ensure_index(settings, embedder, rebuild=rebuild, show_progress=True, notify=_notify)
    elapsed = time.perf_counter() - started
    if status.synced is not None:
        synced = status.synced
        click.echo(f"Synced to Milvus at {settings.milvus_target} ({settings.milvus_collection}_passages): "
                   f"{synced.inserted_passages} passages and {synced.inserted_sentences} sentences written, "
                   f"{synced.kept_passages} passages kept.")
    if status.report is None:
        click.echo(f"The index at {settings.index_dir} is up to date: {len(index.articles)} articles, "
                   f"{len(index.chunks)} passages.")
        return
    report = status.report
    click.echo(f"Indexed {len(index.articles)} articles, {len(index.chunks)} passages "
               f"({report.embedded_chunks} embedded, {report.reused_chunks} reused) in {elapsed:.1f} s "
               f"into {settings.index_dir}.")
    removed = report.corpus.cleaning.removed
    if removed:
        click.echo("Removed page leftovers: " + ", ".join(f"{n} {rule}" for rule, n in sorted(removed.items())) + ".")
    for skipped in report.corpus.skipped:
        click.echo(f"Skipped {skipped.path}: {skipped.reason}", err=True)


def _read_questions(question: str) -> list[str]:
    if question != "-":
        return [question]
    questions = [line.strip() for line in sys.stdin if line.strip()]
    if not questions:
        raise BadRequest("no questions on standard input; give one question a line")
    return questions


@cli.command()
@data_options
@click.argument("question")
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="How many passages to retrieve.")
@click.option("--article", "article_id", metavar="ID", help="Answer from this article only (see `closer show`).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (one object a line for `-`).")
def ask(settings: Settings, question: str, k: int, article_id: str | None, as_json: bool):
    """Answer QUESTION with quotes from the articles. QUESTION `-` reads one question a line from stdin."""
    if not question.strip():
        raise BadRequest("the question is empty; type a question, e.g. "
                         "closer ask \"Can emotional intimacy be rebuilt after betrayal?\"")
    questions = _read_questions(question)
    assistant = _open(settings)
    for i, q in enumerate(questions):
        answer = assistant.ask(q, k=k, article_id=article_id)
        if as_json:
            _emit_json(answer.to_dict())
            continue
        if len(questions) > 1:
            click.echo(("\n" if i else "") + f"Q: {q}")
        _print_answer(answer)


def _print_answer(answer) -> None:
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources:")
        for citation in answer.citations:
            click.echo(format_source(citation))


@cli.command()
@data_options
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="How many passages to retrieve.")
@click.option("--json", "as_json", is_flag=True, help="Print each answer as JSON, one object a line.")
def chat(settings: Settings, k: int, as_json: bool):
    """A conversation in the terminal: a follow-up ("tell me more", "and in the Remainly
    article?") is read with the questions before it. One question a line; an empty line, `quit`
    or end of input (Ctrl-D) ends it."""
    from .conversation import Conversation

    conversation = Conversation(_open(settings))
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo("Ask about relationships and emotional intimacy; an empty line ends the chat.", err=True)
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        question = line.strip()
        if not question or question.casefold() in ("quit", "exit", "bye"):
            break
        try:
            answer = conversation.ask(question, k=k)
        except BadRequest as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        if as_json:
            _emit_json(answer.to_dict())
        else:
            _print_answer(answer)
            click.echo()


@cli.command()
@data_options
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def add(settings: Settings, files: tuple[str, ...]):
    """Add FILES (.txt, .md, .html, .pdf, up to 10 MB each) to the corpus and the index, with the
    checks of the page's upload: a corrupt, binary, empty, too large or already present file is
    refused with the reason, and nothing in the corpus changes for it. Exit 2 when any is refused."""
    from .documents import check_upload

    assistant, refused = None, 0
    for name in files:
        path = Path(name)
        try:
            if not path.is_file():
                raise BadRequest(f"{name}: no such file")
            check_upload(path.name, path.stat().st_size)  # before reading a too-large file
            assistant = assistant or _open(settings)
            article = assistant.add_document(settings, path.name, path.read_bytes())
        except BadRequest as exc:
            click.echo(f"Error: {exc}", err=True)
            refused += 1
            continue
        passages = sum(c.article_id == article.article_id for c in assistant.index.chunks)
        sections = len(article.sections)
        click.echo(f"Added {article.title} as {article.article_id} ({sections} section{'s' if sections != 1 else ''}"
                   f", {passages} passage{'s' if passages != 1 else ''}) from {settings.corpus / article.source}.")
    if refused:
        sys.exit(2)


@cli.command()
@data_options
@click.argument("topic")
@click.option("--article", "article_id", metavar="ID", help="Look in this article only.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def lookup(settings: Settings, topic: str, article_id: str | None, as_json: bool):
    """Every passage of each article that speaks to TOPIC, in article order."""
    if not topic.strip():
        raise BadRequest("the topic is empty; give a word or phrase, e.g. closer lookup betrayal")
    assistant = _open(settings)
    result = assistant.lookup(topic, article_id=article_id)
    if as_json:
        _emit_json(result.to_dict())
        return
    if result.safety is not None:
        click.echo(result.safety.text() + "\n")
    click.echo(result.lead + "\n")
    for article in result.articles:
        count = len(article.mentions)
        click.echo(f"{article.title} — {article.publisher or 'unknown publisher'} "
                   f"({count} passage{'s' if count != 1 else ''})")
        for mention in article.mentions:
            click.echo(f"  [{mention.section}] “{mention.quote}”")
        click.echo()
    if result.not_covered:
        titles = [f"{assistant.article(a).title} ({a})" for a in result.not_covered]
        click.echo(f"Not covered ({len(titles)}): " + "; ".join(titles))


@cli.command()
@data_options
@click.argument("article_id", metavar="ID", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
def show(settings: Settings, article_id: str | None, as_json: bool):
    """Show article ID's cleaned text and sections (the text every offset points into).
    Without ID, list the articles."""
    assistant = _open(settings)
    if article_id is None:
        rows = [{"article_id": a.article_id, "title": a.title, "publisher": a.publisher,
                 "sections": len(a.sections)} for a in assistant.index.articles.values()]
        if as_json:
            _emit_json({"articles": rows})
        else:
            for row in rows:
                count = row["sections"]
                publisher = row["publisher"] or f"no publisher (give one in {settings.corpus / METADATA_FILE})"
                click.echo(f"{row['article_id']}  {row['title']} — {publisher} "
                           f"({count} section{'s' if count != 1 else ''})")
        return
    article = assistant.article(article_id)
    record = {"article_id": article.article_id, "title": article.title, "publisher": article.publisher,
              "url": article.url, "source": article.source,
              "sections": [{"title": s.title, "path": s.path, "level": s.level, "start": s.start, "end": s.end}
                           for s in article.sections],
              "promotional": [{"start": s, "end": e} for s, e in article.promotional],
              "text": article.text}
    if as_json:
        _emit_json(record)
        return
    click.echo(f"{article.title}\n{article.publisher}\n")
    click.echo("Sections:")
    for s in article.sections:
        click.echo(f"{'  ' * s.level}{s.title}  [{s.start}:{s.end}]")
    if article.promotional:
        click.echo("\nPromotional (kept, never quoted as an answer):")
        for s, e in article.promotional:
            click.echo(f"  [{s}:{e}] {article.text[s:e]}")
    click.echo("\n" + article.text)


@cli.command(name="eval")
@data_options
@click.argument("testset", required=False, type=click.Path(exists=True))
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Passages per question (and the k of hit@k, MRR@k, nDCG@k).")
@click.option("--split", help="Which qrels of a BEIR folder to use (default: train); for a .jsonl or .csv set with "
                             "a `split` column, only that part (e.g. heldout).")
@click.option("--limit", type=click.IntRange(1), help="Evaluate only the first N questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result (per-question rows too) as JSON.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write a report with plots: FILE.html or FILE.md.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False),
              help="Compare with a saved baseline; exit 1 when a metric fell by more than --tolerance.")
@click.option("--save-baseline", type=click.Path(dir_okay=False), help="Save this run's metrics as a baseline.")
@click.option("--tolerance", default=0.02, show_default=True, type=float,
              help="How far a metric may fall below the baseline.")
@click.option("--calibrate", is_flag=True,
              help="Choose the declining thresholds from this test set's scores and keep them in the index.")
@click.option("--max-wrongly", default=0.09, show_default=True, type=click.FloatRange(0, 1),
              help="With --calibrate: the share of answerable questions that may be declined (or given "
                   "the closest passage only) so that more unanswerable ones are declined.")
def evaluate(settings: Settings, testset: str | None, k: int, split: str | None, limit: int | None, as_json: bool,
             report: str | None, baseline: str | None, save_baseline: str | None, tolerance: float,
             calibrate: bool, max_wrongly: float):
    """Evaluate the assistant on TESTSET (default: the built-in test set of the corpus).

    TESTSET: a .jsonl or .csv file of questions, a SQuAD .json file, or a BEIR folder
    (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv). SQuAD and BEIR documents get an index of
    their own in HOME/eval, and their embeddings are cached in HOME/cache.

    --calibrate sets where your index declines: it needs a test set about your corpus with both
    answerable and unanswerable questions. The run is measured again with the new thresholds.
    """
    from index import get_embedder

    from .evaluation import TestSetError, compare, load_testset, open_assistant, run_evaluation
    from .evaluation.calibration import CalibrationError, choose
    from .evaluation.report import declining_table, terminal_table, write_report

    try:
        evalset = load_testset(testset, split=split)
        if calibrate and not evalset.own_corpus:
            raise BadRequest("--calibrate sets the declining thresholds of your index: give it a test set about "
                             "your corpus (.jsonl or .csv), not a BEIR or SQuAD set")
        base = None
        if baseline:
            try:
                base = json.loads(Path(baseline).read_text(encoding="utf-8"))["metrics"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise BadRequest(f"{baseline} is not a baseline saved by --save-baseline ({exc})") from exc
        progress = sys.stderr.isatty()
        assistant = open_assistant(evalset, settings, get_embedder(), show_progress=progress, notify=_notify)
    except TestSetError as exc:
        raise BadInput(str(exc)) from exc
    result = run_evaluation(assistant, evalset, k=k, show_progress=progress, limit=limit)
    if calibrate:
        try:
            calibration = choose(result.rows, max_wrongly=max_wrongly, testset=evalset.name)
        except CalibrationError as exc:
            raise BadInput(str(exc)) from exc
        click.echo(declining_table(result), err=True)
        assistant.index.calibrate(calibration, settings.index_dir)
        click.echo(f"Calibrated on {evalset.name}: declined below {calibration.min_relevance:.3f}, the closest "
                   f"passage only below {calibration.confident_relevance:.3f} (there: unanswerable declined "
                   f"{calibration.declined_unanswerable:.3f}, answerable declined {calibration.wrongly_declined:.3f}). "
                   f"Saved in {settings.index_dir}; measuring again.", err=True)
        result = run_evaluation(assistant, evalset, k=k, show_progress=progress, limit=limit)
    if as_json:
        _emit_json(result.to_dict())
    else:
        click.echo(terminal_table(result, base))
    if report:
        for path in write_report(result, Path(report), base):
            click.echo(f"Wrote {path}", err=True)
    if save_baseline:
        Path(save_baseline).parent.mkdir(parents=True, exist_ok=True)
        Path(save_baseline).write_text(json.dumps({"testset": result.testset, "k": k, "metrics": result.metrics},
                                                  indent=2) + "\n", encoding="utf-8")
        click.echo(f"Saved the baseline to {save_baseline}", err=True)
    failed = False
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
        failed = True
    if base is not None:
        for name, before, now in compare(result.metrics, base, tolerance):
            click.echo(f"Regression: {name} fell from {before:.3f} to {now:.3f} (tolerance {tolerance})", err=True)
            failed = True
    if failed:
        sys.exit(1)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, _, password = value.partition(":")
    if not user or not password:
        raise BadRequest("--auth takes USER:PASSWORD, both non-empty, e.g. --auth ana:correct-horse")
    return user, password


def _share_cores(concurrency: int) -> None:
    """Each of the answers worked on at once gets its share of the cores (CLOSER_THREADS, unless
    set): answers at once x threads each = cores, so that they don't fight for them."""
    import os

    from index.exported import THREADS_ENV

    os.environ.setdefault(THREADS_ENV, str(max(1, (os.cpu_count() or 1) // concurrency)))


@cli.command()
@data_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Beyond this machine (e.g. 0.0.0.0) needs --auth.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--auth", metavar="USER:PASSWORD", envvar="CLOSER_AUTH", show_envvar=True,
              help="Ask for this user name and password before showing the page.")
@click.option("--concurrency", default=SERVE_CONCURRENCY, show_default=True, type=click.IntRange(1, 64),
              help="Requests worked on at once; more wait their turn in the queue.")
@click.option("--share", is_flag=True, help="Ask Gradio for a public share link (needs internet and --auth).")
def serve(settings: Settings, host: str, port: int, auth: str | None, concurrency: int, share: bool):
    """Open the web page: chat, look up, articles, evaluate, feedback, add a document.

    The page is served at once; the model and the index load in the background (the index is
    built from the corpus when there is none) and the first answer waits for them.
    """
    from .service import Assistant, check_corpus
    from .web import AssistantLoader, launch

    check_corpus(settings)  # a missing corpus is bad input now, not a message on the page later
    credentials = _parse_auth(auth)
    _share_cores(concurrency)
    exposed = share or not (host in _LOOPBACK or host.startswith("127."))
    if exposed and credentials is None:
        raise BadRequest(f"serving {'a share link' if share else 'on ' + host} makes the page reachable from "
                         "other machines; add --auth USER:PASSWORD (or set CLOSER_AUTH)")
    def open_assistant() -> Assistant:  # the status line shows how far building the index has got
        return Assistant.open(settings, notify=_notify, progress=loader.report)

    loader = AssistantLoader(open_assistant)  # bound before its thread starts: the thread reads it
    loader.start()
    click.echo(f"closer: http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/ "
               "(the page is up now; it answers once the model and the index have loaded)", err=True)
    launch(loader, settings, host=host, port=port, share=share, auth=credentials, concurrency=concurrency)


@cli.group()
def feedback():
    """Ratings given in the web chat (stored in HOME/feedback.sqlite)."""


@feedback.command(name="export")
@click.option("--home", type=click.Path(file_okay=False), envvar=HOME_ENV, show_envvar=True,
              help="Data folder (the ratings are in HOME/feedback.sqlite).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Write the test-set lines here (- for standard output).")
@click.option("--verdict", type=click.Choice(["up", "down"]), help="Only thumbs-up or only thumbs-down ratings.")
def feedback_export(home: str | None, output: str, verdict: str | None):
    """Write the ratings as test-set lines (JSON Lines) that `closer eval FILE` can hold.

    Thumbs-up on an answer: its quotes are expected again. Thumbs-up on a decline: the question
    must stay declined. Thumbs-down on an answer: those quotes must not be cited again
    (`rejected_quotes`); add the right `expected_quotes` when you know them. Thumbs-down on a
    decline: the question must be answered.
    """
    from .feedback import FeedbackStore

    settings = Settings.resolve(home=home)
    lines = FeedbackStore(settings.feedback_path).export_lines(verdict)
    text = "".join(line + "\n" for line in lines)
    if output == "-":
        click.echo(text, nl=False)
    else:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text, encoding="utf-8")
    click.echo(f"Exported {len(lines)} rating{'s' if len(lines) != 1 else ''} from {settings.feedback_path}.",
               err=True)


def main() -> None:  # pragma: no cover - console script
    cli()
