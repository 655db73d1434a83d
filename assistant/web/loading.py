"""The assistant, loaded once per process in the background, so that the page appears first."""

from __future__ import annotations

import threading
import time
from typing import Callable

from index.encoding import Progress

from ..service import Assistant


class AssistantLoader:
    """Opens the assistant (model and index) on a thread; `get()` waits for it.

    The page is served at once; a status line tells the user the model is loading, and the first
    question simply waits. An error while loading is kept and raised by every `get()`.
    """

    def __init__(self, open_assistant: Callable[[], Assistant]) -> None:
        self._open = open_assistant
        self._ready = threading.Event()
        self._assistant: Assistant | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.started: float | None = None
        self.seconds: float | None = None  # how long loading took
        self.progress: Progress | None = None  # how far building the index has got, while it is built

    @classmethod
    def ready(cls, assistant: Assistant) -> "AssistantLoader":
        loader = cls(lambda: assistant)
        loader.start()
        loader._ready.wait()
        return loader

    def start(self) -> "AssistantLoader":
        with self._lock:
            if self._thread is None:
                self.started = time.perf_counter()
                self._thread = threading.Thread(target=self._run, name="closer-load", daemon=True)
                self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._assistant = self._open()
        except BaseException as exc:  # kept and shown: the page must say why nothing answers
            self._error = exc
        finally:
            self.seconds = time.perf_counter() - (self.started or time.perf_counter())
            self._ready.set()

    @property
    def finished(self) -> bool:
        """True once loading has ended, with the assistant or with an error."""
        return self._ready.is_set()

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set() and self._error is None

    @property
    def error(self) -> BaseException | None:
        return self._error if self._ready.is_set() else None

    def get(self, timeout: float | None = None) -> Assistant:
        self.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the model and index are still loading")
        if self._error is not None:
            raise self._error
        assert self._assistant is not None
        return self._assistant

    def report(self, progress: Progress) -> None:
        """Where building the index has got (passed as `progress` to `Assistant.open`)."""
        self.progress = progress

    def status(self) -> str:
        if not self._ready.is_set():
            if self.progress is not None:
                return f"{self.progress.describe()} The first answer waits for it."
            return "Loading the model and the index… the first answer waits for it."
        if self._error is not None:
            return f"closer could not start: {self._error}"
        index = self._assistant.index
        return (f"Ready: {len(index.articles)} articles, {len(index.chunks)} passages "
                f"(loaded in {self.seconds:.1f} s).")
