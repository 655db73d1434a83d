"""Thumbs up or down on answers, kept in HOME/feedback.sqlite, and exported as test-set lines.

A thumbs-up on an answer becomes a question that must find the same quotes again; a thumbs-up on a
decline, a question that must stay declined. A thumbs-down on an answer becomes a question whose
answer must not cite those quotes again (`rejected_quotes`); a thumbs-down on a decline, a question
that must be answered. A rating of an answer that opened with a safety notice is about the notice:
a thumbs-up keeps its concern (`"concern": [...]`: it must be flagged again), a thumbs-down makes it
a false alarm (`"concern": "none"`: it must not be). The gate (`closer eval FILE`) can then hold
every rating.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    article_filter TEXT,
    concern TEXT
)
"""
# Columns added since the first version of the file, added to an older file when it is opened.
ADDED_COLUMNS = {"concern": "TEXT"}


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    time: float
    question: str
    answer: str
    abstained: bool
    citations: list[dict]  # the answer's citations as in `closer ask --json`
    verdict: str  # "up" | "down"
    comment: str = ""
    article_filter: str | None = None
    concerns: tuple[str, ...] = ()  # the concerns of the answer's safety notice, if it had one

    def to_case(self) -> dict:
        """This rating as a line of the project's JSON Lines test set."""
        case: dict = {"id": f"feedback-{self.id}", "question": self.question}
        if self.concerns:  # a rating of a safety notice: it was right (up) or a false alarm (down)
            case["concern"] = list(self.concerns) if self.verdict == "up" else "none"
            case["kind"] = f"feedback-{self.verdict}"
            if self.comment:
                case["comment"] = self.comment
            return case
        quotes = [c["quote"] for c in self.citations]
        articles = list(dict.fromkeys(c["article_id"] for c in self.citations))
        if self.verdict == "up" and self.abstained:
            case["answerable"] = False
        elif self.verdict == "up":
            case.update(answerable=True, expected_articles=articles, expected_quotes=quotes)
        elif self.abstained:
            case["answerable"] = True  # the user expected an answer; which passage is not known yet
        else:
            case.update(answerable=True, rejected_quotes=quotes)
        case["kind"] = f"feedback-{self.verdict}"
        if self.comment:
            case["comment"] = self.comment
        if self.article_filter:
            case["article_filter"] = self.article_filter
        return case


class FeedbackStore:
    """An SQLite file of ratings. Each call opens its own connection, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(SCHEMA)
        present = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
        for name, kind in ADDED_COLUMNS.items():
            if name not in present:
                connection.execute(f"ALTER TABLE feedback ADD COLUMN {name} {kind}")
        return connection

    def add(self, question: str, answer: dict, verdict: str, *, comment: str = "",
            article_filter: str | None = None) -> int:
        """Store a rating of `answer` (the dict of `Answer.to_dict()`); returns its id."""
        if verdict not in ("up", "down"):
            raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
        citations = [{k: c[k] for k in ("n", "article_id", "section", "quote", "start", "end")}
                     for c in answer.get("citations", [])]
        safety = answer.get("safety") or {}
        concerns = "|".join(safety.get("concerns") or ([safety["concern"]] if safety.get("concern") else []))
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO feedback (time, question, answer, abstained, citations, verdict, comment, article_filter,"
                " concern) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), question, answer.get("answer", ""), int(bool(answer.get("abstained"))),
                 json.dumps(citations, ensure_ascii=False), verdict, comment.strip(), article_filter,
                 concerns or None))
            return int(cursor.lastrowid)

    def comment(self, feedback_id: int, comment: str) -> None:
        with self._connect() as connection:
            connection.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), feedback_id))

    def records(self, verdict: str | None = None) -> list[FeedbackRecord]:
        if not self.path.exists():
            return []
        query = ("SELECT id, time, question, answer, abstained, citations, verdict, comment, article_filter, concern "
                 "FROM feedback")
        params: tuple = ()
        if verdict:
            query, params = query + " WHERE verdict = ?", (verdict,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", params).fetchall()
        return [FeedbackRecord(r[0], r[1], r[2], r[3], bool(r[4]), json.loads(r[5]), r[6], r[7] or "", r[8],
                               tuple(c for c in (r[9] or "").split("|") if c))
                for r in rows]

    def export_lines(self, verdict: str | None = None) -> list[str]:
        return [json.dumps(r.to_case(), ensure_ascii=False) for r in self.records(verdict)]
