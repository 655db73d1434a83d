"""The web page's parts without a browser: rendering (escaping, highlighting), uploads, the program
API over HTTP, and the rules of `closer serve`."""

from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.compose import NEAR_MISS
from assistant.documents import MAX_UPLOAD_BYTES, UploadRejected, add_document, check_upload, safe_name
from assistant.records import ArticleMentions, LookupResult, Mention
from assistant.web import as_text, launch
from assistant.web import app as app_module
from assistant.web import render
from index.exported import THREADS_ENV
from tests.conftest import KMA

ATTACK = "<img src=x onerror=alert(1)>"


def test_text_is_shown_as_text_not_markup():
    shown = as_text(ATTACK + " **bold** [link](http://x)")
    assert "<img" not in shown and "&lt;img" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[link\\]" in shown


def test_marked_escapes_and_highlights_spans():
    text = "<b>Trust</b> returns. Slowly & surely."
    html = render.marked(text, 100, [(122, 138)])
    assert html == "&lt;b&gt;Trust&lt;/b&gt; returns. <mark>Slowly &amp; surely.</mark>"
    assert render.marked("abc", 0, [(5, 9)]) == "abc"  # a span outside the text marks nothing


@pytest.mark.model
def test_sources_show_the_quote_marked_inside_its_passage(assistant_real):
    answer = assistant_real.ask("Can emotional intimacy be rebuilt after betrayal?")
    html = render.sources_html(answer, assistant_real.index)
    first = answer.citations[0]
    assert "<mark>" + render.esc(first.quote) + "</mark>" in html
    start, end = render.passage_span(assistant_real.index, first.article_id, first.start, first.end)
    assert start <= first.start and first.end <= end  # the passage contains the quote
    assert "KMA Therapy" in html and "Not covered" not in html
    hit = next(h for h in answer.passages if h.article_id == first.article_id and h.start <= first.start <= h.end)
    # Why, in plain words: the question's own words the passage holds, and its closeness in meaning.
    why = render.why_passage(hit, answer.question)
    assert render.esc(why) in html and "rank" not in why
    assert "“betrayal”" in why and "“intimacy”" in why and "closest in meaning" in why
    assert "“Can”" not in why and "“after”" not in why  # function words say nothing
    ranks = render.why_ranks(hit)  # behind the toggle
    assert f"<summary>Ranks</summary>{render.esc(ranks)}</details>" in html
    assert f"ranked {hit.rank}" in ranks and f"score {hit.score:.2f}" in ranks
    assert (f"meaning rank {hit.dense_rank}" if hit.dense_rank else "not among the meaning") in ranks
    assert (f"keyword rank {hit.keyword_rank}" if hit.keyword_rank else "not among the keyword") in ranks
    assert f"word-by-word rank {hit.late_rank}" in ranks
    declined = assistant_real.ask("What is the capital of France?")
    assert render.DECLINED_MARK in render.sources_html(declined, assistant_real.index)
    assert render.chat_message(declined).startswith("<span class='closer-declined'>Not covered</span>")
    # The Sources panel and the chat say a near miss in the same words.
    near = assistant_real.ask("How much does a couples therapy session cost?")
    assert near.abstained and near.citations
    assert render.esc(NEAR_MISS) in render.sources_html(near, assistant_real.index) and NEAR_MISS in near.answer
    # No emoji anywhere the page writes them: they show as empty boxes without an emoji font.
    emoji = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
    sources = [p.read_text(encoding="utf-8") for p in Path(app_module.__file__).parent.rglob("*.py")]
    assert len(sources) >= 8  # app, render, loading and the tabs
    for text in [html, render.sources_html(declined, assistant_real.index), render.chat_message(declined), *sources]:
        assert not emoji.search(text)


def test_the_page_fonts_draw_every_letter_and_the_theme_reads_at_aa_contrast():
    """Every font face the page's theme loads has the glyphs of plain English text (Gradio's own
    SemiBold file has a few, so bold text mixed two fonts), and its buttons and subdued text keep
    WCAG AA contrast on white."""
    from fontTools.ttLib import TTFont

    import gradio

    theme = app_module.page_theme()
    static = Path(gradio.__file__).parent / "templates" / "frontend"
    faces = re.findall(r"url\('(static/fonts/[^']+)'\)", "".join(f.stylesheet()["css"] or "" for f in theme._font
                                                                  if hasattr(f, "stylesheet")))
    assert faces
    for face in faces:
        glyphs = TTFont(static / face).getBestCmap()
        assert all(ord(c) in glyphs for c in "AKMQZakmqz09“”’—"), face

    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def contrast(a: str, b: str) -> float:
        light, dark = sorted((luminance(a), luminance(b)), reverse=True)
        return (light + 0.05) / (dark + 0.05)

    def colour(name: str) -> str:
        value = getattr(theme, name)
        while value.startswith("*"):
            value = getattr(theme, value[1:])
        return "#ffffff" if value == "white" else value

    assert contrast(colour("button_primary_text_color"), colour("button_primary_background_fill")) >= 4.5
    assert contrast(colour("button_primary_text_color"), colour("button_primary_background_fill_hover")) >= 4.5
    assert contrast(colour("body_text_color_subdued"), "#ffffff") >= 4.5


def test_corpus_text_with_markup_is_escaped_everywhere():
    """A document whose title and text carry markup is shown as text in sources, look-up and reading."""
    from types import SimpleNamespace

    from assistant.records import Answer, Citation
    from ingest import ArticleMeta, ingest_text

    text = f"Trust and {ATTACK}\nTrust grows slowly. <script>alert(2)</script> It returns with care."
    doc = ingest_text("evil", text, meta=ArticleMeta(title=ATTACK, publisher="<b>pub</b>"))
    article, chunk = doc.article, doc.chunks[0]
    index = SimpleNamespace(articles={"evil": article}, chunks=doc.chunks)
    start = article.text.index("Trust grows")
    end = article.text.index("It returns")
    quote = article.text[start:end]
    citation = Citation(1, "evil", article.title, article.publisher, chunk.section, quote, start, end, 0.9)
    answer = Answer("q", False, "a", [citation], [], 0.9)
    mention = Mention(quote, chunk.section, start, end, 0.9)
    lookup = LookupResult("trust", [ArticleMentions("evil", article.title, article.publisher, [mention])], [])
    for html in (render.sources_html(answer, index), render.lookup_html(lookup, index), render.article_html(article)):
        assert "<img" not in html and "<script" not in html and "<b>pub" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>" + render.esc(quote) + "</mark>" in render.sources_html(answer, index)


@pytest.mark.model
def test_article_rows_and_reading_by_section(assistant_real):
    rows = render.article_rows(assistant_real.index)
    assert len(rows) == 5
    kma = next(r for r in rows if r[5] == KMA)
    assert kma[1] == "KMA Therapy" and kma[2] == len(assistant_real.article(KMA).sections)
    assert kma[3] == sum(c.article_id == KMA for c in assistant_real.index.chunks)
    html = render.article_html(assistant_real.article(KMA))
    assert html.count("<h3>") + html.count("<h4>") == len(assistant_real.article(KMA).sections)
    assert "Can emotional intimacy be rebuilt after betrayal?</h" in html
    # A file with no articles.toml entry says where its publisher would come from, not a blank.
    unlisted = replace(assistant_real.article(KMA), article_id="mine", publisher="")
    fake = type("Index", (), {"chunks": [], "articles": {"mine": unlisted}})()
    assert render.article_rows(fake)[0][1] == "none yet (give one in articles.toml)"


# ---- uploads --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("notes.txt", "notes.txt"), ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\evil.md", "evil.md"),
    ("my notes (1).md", "my notes _1_.md"),
])
def test_an_upload_name_cannot_leave_the_corpus(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name, size, needle", [
    ("tool.exe", 10, "reads .txt, .md, .html and .pdf"), ("README", 10, "without an extension"),
    ("big.pdf", MAX_UPLOAD_BYTES + 1, "the limit is 10 MB"), ("empty.txt", 0, "is empty"), ("..", 5, "not a usable"),
])
def test_uploads_of_the_wrong_type_or_size_are_refused(name, size, needle):
    with pytest.raises(UploadRejected, match=needle):
        check_upload(name, size)


def test_a_corrupt_or_duplicate_upload_leaves_the_corpus_as_it_was(corpus_copy):
    before = sorted(p.name for p in corpus_copy.iterdir())
    with pytest.raises(UploadRejected, match="broken.pdf was not added") as refused:
        add_document(corpus_copy, "broken.pdf", b"%PDF-1.4 this is not really a pdf")
    assert str(refused.value).count("broken.pdf") == 1 and refused.value.filename == "broken.pdf"  # named once
    with pytest.raises(UploadRejected, match="was not added"):
        add_document(corpus_copy, "binary.txt", bytes(range(256)) * 8)
    with pytest.raises(UploadRejected, match="already has 000_bbaf2f0a327db68a.txt"):
        add_document(corpus_copy, "000_bbaf2f0a327db68a.md", b"# A title\n\nSome text about trust.\n")
    assert sorted(p.name for p in corpus_copy.iterdir()) == before
    path = add_document(corpus_copy, "../trust.md", b"# Trust\n\nTrust grows when promises are kept.\n")
    assert path == corpus_copy / "trust.md" and path.read_bytes().startswith(b"# Trust")


@pytest.mark.model
def test_an_added_document_is_searchable_and_only_it_is_embedded(settings, assistant_real):
    from assistant.service import Assistant

    assistant = Assistant.open(settings, embedder=assistant_real.embedder)
    before = len(assistant.index.chunks)
    article = assistant.add_document(settings, "pottery.md", b"# Pottery nights\n\nCouples who throw clay "
                                     b"together on Thursday evenings talk about their week.\n")
    assert article.title == "Pottery nights" and len(assistant.index.chunks) == before + 1
    answer = assistant.ask("What do couples do on Thursday evenings with clay?")
    assert answer.citations[0].article_id == article.article_id
    reopened = Assistant.open(settings, embedder=assistant_real.embedder)  # saved: a restart finds it
    assert article.article_id in reopened.article_ids


# ---- serving --------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.model
def test_programs_get_the_answer_json_over_http(settings, assistant_real, capfd, caplog):
    from gradio_client import Client

    port = free_port()
    app = launch(assistant_real, settings, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        record = client.predict("Can emotional intimacy be rebuilt after betrayal?", "", api_name="/ask")
        assert not record["abstained"] and record["citations"][0]["article_id"] == KMA
        assert record["citations"][0]["quote"] == assistant_real.article(KMA).text[
            record["citations"][0]["start"]:record["citations"][0]["end"]]
        # A follow-up with the conversation so far keeps its subject.
        follow = client.predict("and what does the Remainly article say?", "",
                                ["How do couples rebuild trust after betrayal?"], api_name="/ask")
        assert follow["kind"] == "follow_up" and follow["article_filter"] == "003_8433d8bc51077bda"
        assert follow["citations"] and all(c["article_id"] == "003_8433d8bc51077bda" for c in follow["citations"])
        # Many users at once: the queue serves each in turn (four at a time), none is dropped.
        questions = ["How can I listen better to my partner?", "Is technology harming our connection?"] * 6
        jobs = [client.submit(q, "", api_name="/ask") for q in questions]
        records = [job.result(timeout=120) for job in jobs]
        assert [r["question"] for r in records] == questions and all(r["citations"] for r in records)
        # A bad call gets a sentence back; the server logs one line for it, no traceback.
        capfd.readouterr()
        with caplog.at_level(logging.WARNING, logger="closer.web"), pytest.raises(Exception, match="question is empty"):
            client.predict("   ", "", api_name="/ask")
        out, err = capfd.readouterr()
        assert "Traceback" not in out + err
        logged = [r.getMessage() for r in caplog.records if r.name == "closer.web"]
        assert len(logged) == 1 and logged[0].startswith("/ask refused: the question is empty")
    finally:
        app.close()


@pytest.mark.parametrize("args, needle", [
    (["--host", "0.0.0.0"], "add --auth USER:PASSWORD"),
    (["--share"], "a share link"),
    (["--auth", "nopassword"], "USER:PASSWORD, both non-empty"),
])
def test_serve_refuses_to_expose_the_page_without_a_password(settings, args, needle):
    result = CliRunner().invoke(cli, ["serve", *args, "--home", str(settings.home), "--corpus", str(settings.corpus)])
    assert result.exit_code == 2 and needle in result.output


def test_serve_without_a_corpus_is_bad_input(data_home, tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--home", str(data_home), "--corpus", str(tmp_path / "none")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_tab_says_why_when_the_model_and_index_could_not_load(tmp_path):
    from assistant.feedback import FeedbackStore
    from assistant.settings import Settings
    from assistant.web import AssistantLoader
    from assistant.web.tabs import add
    from assistant.web.tabs.page import NotReady, Page, reason

    def broken():
        raise OSError("index.faiss: unreadable")

    settings = Settings(home=tmp_path / "home", corpus=tmp_path / "corpus")
    page = Page(AssistantLoader(broken), settings, FeedbackStore(tmp_path / "feedback.sqlite"))
    with pytest.raises(NotReady, match="the model and the index could not load: index.faiss: unreadable"):
        page.assistant()
    document = tmp_path / "notes.md"
    document.write_text("# Notes\n\nSome words about trust.\n", encoding="utf-8")
    assert add.added(page, str(document)) == ("**Not added.** The model and the index could not load: "
                                              "index.faiss: unreadable")
    # A message that opens with a file name keeps its spelling; any other becomes a sentence.
    assert reason(ValueError("mine.csv: no question column")) == "mine.csv: no question column"
    assert reason(ValueError("the question is empty")) == "The question is empty"


def test_the_status_line_says_how_far_building_the_index_has_got():
    import threading

    from assistant.web import AssistantLoader
    from index.encoding import Progress

    release = threading.Event()
    loader = AssistantLoader(lambda: release.wait(10) and None)
    loader.report(Progress(done=30, total=120, elapsed=10.0))
    loader.start()
    try:
        assert loader.status() == "Building the index: 25% embedded, about 30 s left. The first answer waits for it."
    finally:
        release.set()


def test_serve_opens_the_assistant_it_serves(settings, monkeypatch):
    """`closer serve` as a user runs it, up to the point of serving: the loader it hands to the
    page opens the assistant from the data folder (an earlier wiring raised inside the loader's
    thread, so every answer was an error while the page looked fine)."""
    import assistant.web

    served = {}

    def launch(loader, _settings, **options):
        served["assistant"] = loader.get(timeout=120)
        served["options"] = options

    monkeypatch.setattr(assistant.web, "launch", launch)
    monkeypatch.setenv(THREADS_ENV, "")  # recorded, so that the test's undo removes what serve sets
    monkeypatch.delenv(THREADS_ENV)
    result = CliRunner().invoke(cli, ["serve", "--home", str(settings.home), "--corpus", str(settings.corpus),
                                      "--concurrency", "2"])
    assert result.exit_code == 0, result.output
    answer = served["assistant"].ask("How can we rebuild trust after betrayal?")
    assert answer.citations and served["options"]["concurrency"] == 2
    # Two answers at once share the cores: each session gets half of them.
    assert os.environ[THREADS_ENV] == str(max(1, (os.cpu_count() or 1) // 2))
