"""Time from pressing Enter to the answer shown in the browser, beside the in-process `ask` time.

    python benchmarks/bench_browser.py [--per-page 10] [--repeat 1]

Starts `closer serve`'s page on a free port (a temporary data folder and a copy of corpus/), then
asks every question of the built-in test set in Debian's Chromium through Playwright: the clock
starts when Enter is pressed and stops when the answer's message is in the page. The page is
reloaded every --per-page questions (a conversation of that length); --per-page 0 keeps one
conversation for all questions. The same questions are then timed with `Assistant.ask` in process.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.evaluation import load_testset  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.web import launch  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BOT = "#chatbot [data-testid='bot']"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(name: str, values: list[float]) -> str:
    return (f"| {name} | {len(values)} | {percentile(values, 0.5):.0f} | {percentile(values, 0.95):.0f} | "
            f"{max(values):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-page", type=int, default=10, help="questions per page load (0: one conversation)")
    parser.add_argument("--repeat", type=int, default=1, help="ask the test set this many times")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    questions = [c.question for c in load_testset().cases] * args.repeat
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(home=Path(scratch) / "home", corpus=Path(scratch) / "corpus")
        shutil.copytree(REPO / "corpus", settings.corpus)
        assistant = Assistant.open(settings)
        for _ in range(3):
            assistant.ask("warm-up question about trust")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = launch(assistant, settings, port=port, block=False)
        browser_ms: list[float] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                for i, question in enumerate(questions):
                    if i == 0 or (args.per_page and i % args.per_page == 0):
                        page.goto(f"http://127.0.0.1:{port}/")
                        page.wait_for_function("(document.querySelector('#status')?.innerText || '').includes('Ready')")
                    before = page.locator(BOT).count()
                    page.fill("#question textarea", question)
                    started = time.perf_counter()
                    page.press("#question textarea", "Enter")
                    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}",
                                           polling=5, timeout=60_000)
                    browser_ms.append((time.perf_counter() - started) * 1000)
                browser.close()
        finally:
            app.close()
        ask_ms = []
        for question in questions:
            started = time.perf_counter()
            assistant.ask(question)
            ask_ms.append((time.perf_counter() - started) * 1000)
    print(f"{len(questions)} questions, page reloaded every {args.per_page or 'never'}")
    print("| measured | questions | p50 ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- |")
    print(summary("Enter → answer shown in Chromium", browser_ms))
    print(summary("`Assistant.ask` in process", ask_ms))
    print(f"mean browser overhead: {statistics.mean(browser_ms) - statistics.mean(ask_ms):.0f} ms")


if __name__ == "__main__":
    main()
