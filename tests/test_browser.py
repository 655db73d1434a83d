"""The web page in a real browser: Debian's Chromium driven by Playwright, against a server each
module starts on a free port (its own data folder and corpus copy). Screenshots of every tab are
kept in `test-artifacts/screenshots/` (CLOSER_TEST_ARTIFACTS moves it), to be looked at.

Every tab is also checked as a person at 1280 × 800 meets it (`check_tab`): no table wider than
its container, no header broken mid-word, no monospace tables, and no serious or critical
accessibility violation found by axe-core (`axe-playwright-python` ships it).

Chromium: `apt-get install -y chromium` (`.ci/run` does it). Without it these tests are skipped,
unless CLOSER_REQUIRE_BROWSER=1 (set by `.ci/run`), where a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.web import AssistantLoader, launch

from tests.conftest import CORPUS, KMA, REMAINLY

pytestmark = pytest.mark.model
CHROMIUM = Path(os.environ.get("CLOSER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ANSWER_TIMEOUT = 60_000  # ms; the first answer may wait for the model
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(os.environ.get("CLOSER_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}; install it with `apt-get install -y chromium`"
        if os.environ.get("CLOSER_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _server_settings(tmp: Path, built_home: Path) -> Settings:
    shutil.copytree(CORPUS, tmp / "corpus")
    shutil.copytree(built_home / "index", tmp / "home" / "index")
    return Settings(home=tmp / "home", corpus=tmp / "corpus")


@pytest.fixture(scope="module")
def server(tmp_path_factory, built_home, assistant_real):
    """A running page over a copy of the corpus and index (uploads land in the copy)."""
    from assistant.service import Assistant

    settings = _server_settings(tmp_path_factory.mktemp("web"), built_home)
    port = free_port()
    loader = AssistantLoader(lambda: Assistant.open(settings, embedder=assistant_real.embedder)).start()
    app = launch(loader, settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", settings
    app.close()


@pytest.fixture
def page(browser, server, tmp_path):
    url, _ = server
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(url)
    page.wait_for_selector("#status")
    wait_text(page, "#status", "Ready", timeout=ANSWER_TIMEOUT)
    yield page
    context.close()


def shot(page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot, kept with the test artefacts."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


# What a person would see as broken in the visible tab: a box whose content is wider than it (cut
# off or scrolling sideways), a one-word table header on two lines, a table in a monospace font.
LAYOUT_PROBLEMS = """() => {
  const panel = [...document.querySelectorAll('[role=tabpanel]')].find(p => p.offsetParent !== null);
  const problems = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                     (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
  for (const el of panel.querySelectorAll('*')) {
    if (el.offsetParent === null || el.clientWidth <= 1) continue;  // hidden, or visually hidden for screen readers
    const overflow = getComputedStyle(el).overflowX;
    if (['auto', 'scroll', 'hidden', 'clip'].includes(overflow) && el.scrollWidth > el.clientWidth + 1)
      problems.push(`${name(el)} is ${el.scrollWidth} px wide in ${el.clientWidth} px`);
  }
  for (const table of panel.querySelectorAll('table')) {
    if (table.offsetParent === null) continue;
    for (const cell of [table.querySelector('th .header'), table.querySelector('td .cell-wrap')].filter(Boolean)) {
      const font = getComputedStyle(cell).fontFamily;
      if (/mono/i.test(font)) problems.push(`${name(table.closest('[id]') || table)} is in ${font}`);
    }
    for (const th of table.querySelectorAll('thead th')) {
      const text = th.innerText.trim();
      if (!text || /\s/.test(text)) continue;
      const range = document.createRange();
      range.selectNodeContents(th.querySelector('.header') || th);  // its text, not its menu button
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) problems.push(`header "${text}" breaks over ${lines.size} lines`);
    }
  }
  return problems;
}"""


EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


def check_tab(page, tmp_path: Path, name: str) -> None:
    """The visible tab as a person meets it at 1280 × 800: laid out without a clipped or sideways
    scrolling box, with no serious or critical axe-core violation; its screenshot is kept."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_timeout(300)  # let the last update settle
    assert page.viewport_size == VIEWPORT
    assert page.evaluate(LAYOUT_PROBLEMS) == [], name
    # No emoji, which draw as empty boxes on a machine without an emoji font.
    assert re.findall(EMOJI, page.inner_text("body")) == [], name
    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == [], name
    shot(page, tmp_path, name)


def ask(page, question: str) -> None:
    before = page.locator("#chatbot [data-testid='bot']").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > {before}",
                           timeout=ANSWER_TIMEOUT)


def wait_text(page, selector: str, text: str, timeout: float = 30_000) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)


def upload(page, component: str, path: Path) -> None:
    """Choose a file as a person does: click the upload area, answer the file chooser, and wait
    until the area offers the uploaded file back (its download link, which exists once the server
    holds the file).

    Not the file's visible name: Gradio writes it as two spans, stem and extension, and about one
    render in four puts a space between them ("broken .pdf"), so a text match on the name missed it.
    """
    area = page.locator(component)
    with page.expect_file_chooser() as chooser:
        area.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(path))
    area.locator(f'a[download="{path.name}"]').wait_for(timeout=30_000)


def choose(page, dropdown: str, option_text: str) -> None:
    page.click(f"{dropdown} input")
    page.get_by_role("option", name=option_text).first.click()


def test_ask_shows_a_citation_and_its_passage_highlighted(page, tmp_path):
    ask(page, "Can emotional intimacy be rebuilt after betrayal?")
    reply = page.locator("#chatbot [data-testid='bot']").last.inner_text()
    assert "[1]" in reply
    source = page.locator("#sources .closer-source").first.inner_text()
    assert source.startswith("[1]") and "KMA Therapy" in source
    why = page.locator("#sources .closer-why").first
    # Why this passage, in plain words (the question's words it holds, no "can" or "after"),
    # with the ranks behind a toggle.
    assert "your words “emotional”, “intimacy”" in why.inner_text() and "“Can”" not in why.inner_text()
    assert not why.locator("details").get_attribute("open") and "meaning rank" in why.locator("details").text_content()
    highlighted = page.locator("#sources mark").first.inner_text()
    assert "rebuilding emotional intimacy after betrayal is possible" in highlighted
    assert highlighted.strip()[:40] in reply  # the highlighted sentence is the quote in the answer
    check_tab(page, tmp_path, "chat")


def test_a_crisis_question_shows_the_safety_notice_first(page, tmp_path):
    ask(page, "My husband hits me when he is angry. How do I get closer to him?")
    reply = page.locator("#chatbot [data-testid='bot']").last
    notice = reply.locator(".closer-safety")
    notice.wait_for(timeout=10_000)
    text = reply.inner_text().strip()
    assert text.startswith("Your safety comes first"), text[:200]  # before anything else
    assert "emergency number" in notice.inner_text() and "findahelpline.com" in notice.inner_text()
    assert "Not covered" not in text  # a notice, not an error or a decline mark
    background = notice.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(254, 226, 226)")  # its own calm box, not the red one
    sources = page.inner_text("#sources").strip()
    assert sources.startswith("Your safety comes first")
    for advert in ("contact us", "discovery call", "book a", "don't hesitate"):
        assert advert not in sources.lower()
    check_tab(page, tmp_path, "chat-safety")


def test_a_look_alike_question_shows_no_notice(page):
    ask(page, "We hit a rough patch after the baby and his jokes used to kill me. How do we reconnect?")
    reply = page.locator("#chatbot [data-testid='bot']").last
    assert reply.locator(".closer-safety").count() == 0
    assert page.locator("#sources .closer-safety").count() == 0
    assert "safety comes first" not in reply.inner_text()


def test_declined_question_is_marked(page):
    ask(page, "What is the capital of France?")
    assert "Not covered" in page.locator("#chatbot [data-testid='bot']").last.inner_text()
    assert "Not covered" in page.inner_text("#sources")


def test_article_filter_answers_from_that_article_only(page, tmp_path):
    choose(page, "#chat-filter", "Remainly")
    ask(page, "How do couples rebuild trust and closeness?")
    sources = page.locator("#sources .closer-source").all_inner_texts()
    assert sources and all("Remainly" in s for s in sources)
    shot(page, tmp_path, "chat-filtered")


def test_questions_about_the_articles_and_a_follow_up_in_the_chat(page, tmp_path):
    ask(page, "What does the KMA Therapy article say about technology?")
    sources = page.locator("#sources .closer-source").all_inner_texts()
    assert sources and all("KMA Therapy" in s for s in sources)
    assert "discovery call" not in page.inner_text("#sources")
    ask(page, "betrayal")
    reply = page.locator("#chatbot [data-testid='bot']").last.inner_text()
    assert "Three of the five articles speak to “betrayal”" in reply
    assert len({s.split("—")[1].split(",")[0].strip() for s in page.locator("#sources .closer-source")
                .all_inner_texts()}) == 3
    ask(page, "Summarize the Remainly article")
    reply = page.locator("#chatbot [data-testid='bot']").last.inner_text()
    assert "What is emotional intimacy?" in reply and "main sections" in reply
    ask(page, "and what about the coaching blog?")
    reply = page.locator("#chatbot [data-testid='bot']").last.inner_text()
    assert "couples-coaching blog" in reply and "main sections" in reply  # the summary, of another article
    sources = page.locator("#sources .closer-source").all_inner_texts()
    assert sources and all("couples-coaching blog" in s for s in sources)
    shot(page, tmp_path, "chat-follow-up")


def test_lookup_betrayal_in_the_kma_article(page, tmp_path):
    page.get_by_role("tab", name="Look up").click()
    page.fill("#lookup-topic textarea", "betrayal")
    choose(page, "#lookup-article", "KMA Therapy")
    page.click("#lookup-button")
    page.wait_for_selector("#lookup-result mark")
    result = page.inner_text("#lookup-result")
    assert "The article speaks to “betrayal”." in result and "in 1 article." in result and "KMA Therapy" in result
    assert any("betrayal" in m.lower() for m in page.locator("#lookup-result mark").all_inner_texts())
    check_tab(page, tmp_path, "lookup")


def test_articles_tab_lists_the_corpus_and_opens_an_article(page, tmp_path, server):
    page.get_by_role("tab", name="Articles").click()
    wait_text(page, "#articles-table", KMA)
    for article_id in (KMA, REMAINLY):
        assert article_id in page.inner_text("#articles-table")
    choose(page, "#article-picker", "What is emotional intimacy?")
    page.wait_for_selector("#article-view h2")
    assert page.inner_text("#article-view h2") == "What is emotional intimacy?"
    assert page.locator("#article-view h3").count() >= 3  # read by section
    check_tab(page, tmp_path, "articles")


def test_evaluate_runs_the_built_in_test_set(page, tmp_path):
    page.get_by_role("tab", name="Evaluate").click()
    page.click("#eval-run")
    page.wait_for_selector("#eval-plots img", timeout=ANSWER_TIMEOUT)
    passed, total = map(int, re.search(r"(\d+) of (\d+) questions passed", page.inner_text("#eval-status")).groups())
    assert total == 118 and 0 < passed < total  # the built-in set still has failures to show
    metrics = page.inner_text("#eval-metrics")
    assert "passage hit@1" in metrics and "citation exactness" in metrics and "latency p95 (ms)" in metrics
    # Every metric shows without scrolling inside the table, the latency rows last.
    scrolled = page.evaluate("""() => [...document.querySelectorAll('#eval-metrics *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight + 1)
        .map(e => e.className)""")
    assert scrolled == []
    # The questions table shows its last column, "cited or retrieved" and "top score", in its box.
    box = page.locator("#eval-questions").bounding_box()
    for header in ("cited or retrieved", "top score"):
        cell = page.locator("#eval-questions th", has_text=header).first.bounding_box()
        assert box["x"] <= cell["x"] and cell["x"] + cell["width"] <= box["x"] + box["width"] + 1, header
    cells = lambda: [line.strip() for line in page.inner_text("#eval-questions").split("\n")]  # noqa: E731
    # The table shows the rows in view (the first questions, which pass); the filter brings the
    # failures up.
    assert "pass" in cells()
    page.check("#eval-failures input")
    page.wait_for_function("!document.querySelector('#eval-questions').innerText.split('\\n')"
                           ".some(line => line.trim() === 'pass')")
    assert "FAIL" in cells()
    check_tab(page, tmp_path, "evaluate")


def test_evaluate_an_uploaded_test_set(page, tmp_path):
    testset = tmp_path / "mine.csv"
    testset.write_text("id,question,answerable,expected_quotes\n"
                       "a,Can emotional intimacy be rebuilt after betrayal?,true,after betrayal is possible\n"
                       "b,What is the capital of France?,false,\n", encoding="utf-8")
    page.get_by_role("tab", name="Evaluate").click()
    upload(page, "#eval-file", testset)
    page.click("#eval-run")
    wait_text(page, "#eval-status", "2 of 2 questions passed", timeout=ANSWER_TIMEOUT)
    assert "mine" in page.inner_text("#eval-status")


def test_thumbs_down_is_stored_with_its_comment(page, tmp_path, server):
    _, settings = server
    question = "What are the signs that emotional intimacy is missing?"
    ask(page, question)
    page.locator("#chatbot button[aria-label='Dislike']").last.click()
    wait_text(page, "#feedback-note", "Saved")
    page.get_by_text("Rate an answer").click()
    page.fill("#feedback-comment textarea", "Too general")
    page.click("#feedback-comment-save")
    wait_text(page, "#feedback-note", "comment")
    with sqlite3.connect(settings.feedback_path) as db:
        rows = db.execute("SELECT question, verdict, comment, citations FROM feedback").fetchall()
    assert (question, "down", "Too general") in [r[:3] for r in rows]
    # The Feedback tab follows the rating and its comment, with no Refresh.
    page.get_by_role("tab", name="Feedback").click()
    wait_text(page, "#feedback-table", "Too general")
    assert question in page.inner_text("#feedback-table")
    check_tab(page, tmp_path, "feedback")


def test_uploaded_document_is_answered_from_without_a_restart(page, tmp_path, server):
    _, settings = server
    document = tmp_path / "pottery-nights.md"
    document.write_text("# Pottery nights for couples\n\n## Why a shared craft helps\n\n"
                        "Couples who throw clay together on Thursday evenings report that the wheel slows "
                        "their conversation down. Working with their hands side by side, partners talk "
                        "about their week without the pressure of eye contact.\n", encoding="utf-8")
    page.get_by_role("tab", name="Add a document").click()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a PDF")
    upload(page, "#upload-file", broken)
    page.click("#upload-button")
    wait_text(page, "#upload-status", "Not added", timeout=ANSWER_TIMEOUT)
    said = page.inner_text("#upload-status")
    assert said.count("broken.pdf") == 1 and "Broken" not in said  # the name once, as it is spelt
    assert not (settings.corpus / "broken.pdf").exists()
    page.locator("#upload-file button[aria-label='Clear']").click()
    page.locator('#upload-file a[download="broken.pdf"]').wait_for(state="detached")
    articles = int(re.search(r"(\d+) articles", page.inner_text("#status")).group(1))
    upload(page, "#upload-file", document)
    page.click("#upload-button")
    wait_text(page, "#upload-status", "Added", timeout=ANSWER_TIMEOUT)
    wait_text(page, "#status", f"Ready: {articles + 1} articles")  # the status line follows the upload
    assert (settings.corpus / "pottery-nights.md").exists()
    check_tab(page, tmp_path, "add-document")
    page.get_by_role("tab", name="Chat").click()
    ask(page, "Why do couples throw clay together on Thursday evenings?")
    assert "Pottery nights for couples" in page.inner_text("#sources")
    assert "wheel slows their conversation down" in page.locator("#chatbot [data-testid='bot']").last.inner_text()


def test_an_empty_question_leaves_no_bubble_and_says_what_to_do(page):
    warnings = """() => [...document.querySelectorAll('body *')]
        .filter(e => e.children.length === 0 && e.textContent.includes('Type a question first')).length"""
    for shown, blank in enumerate(("", "   "), start=1):
        page.fill("#question textarea", blank)
        page.press("#question textarea", "Enter")
        # A new warning each time (the first one may still be on screen when the second comes).
        page.wait_for_function(f"({warnings})() >= {shown}", timeout=10_000)
        page.wait_for_timeout(300)
        assert page.locator("#chatbot [data-testid='user']").count() == 0
        assert page.locator("#chatbot [data-testid='bot']").count() == 0


def test_a_question_with_markup_is_shown_as_text(page):
    attack = "<img src=x onerror=alert(1)>"
    ask(page, attack)
    assert attack in page.locator("#chatbot [data-testid='user']").last.inner_text()
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_page_appears_before_the_model_and_the_first_answer_waits(browser, tmp_path, built_home, assistant_real):
    """The assistant is held back until the page is shown: a status says it is loading, and a
    question asked meanwhile is answered once it has loaded."""
    settings = _server_settings(tmp_path, built_home)
    release = threading.Event()

    def slow_open():
        release.wait(60)
        return assistant_real

    port = free_port()
    app = launch(AssistantLoader(slow_open), settings, port=port, block=False)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#status")
        assert "Loading the model" in page.inner_text("#status")
        page.fill("#question textarea", "Can emotional intimacy be rebuilt after betrayal?")
        page.press("#question textarea", "Enter")
        page.wait_for_timeout(500)
        assert page.locator("#chatbot [data-testid='bot']").count() == 0  # waiting, not failing
        release.set()
        page.locator("#chatbot [data-testid='bot']").first.wait_for(timeout=ANSWER_TIMEOUT)
        assert "[1]" in page.locator("#chatbot [data-testid='bot']").first.inner_text()
        wait_text(page, "#status", "Ready")
        context.close()
    finally:
        release.set()
        app.close()
