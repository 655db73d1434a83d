"""Test sets: the project's JSON Lines (or CSV) format, a BEIR folder, or SQuAD JSON.

JSON Lines, one question a line:
    {"id": "q1", "question": "...", "answerable": true, "expected_articles": ["000_..."],
     "expected_quotes": ["a phrase that answers"], "reference_answer": "optional"}
`rejected_quotes` (optional): phrases the answer must not cite, as `closer feedback export` writes
for a thumbs-down. `concern` (optional): the danger a question discloses, "abuse", "self_harm",
"child", "harm_to_others" (a list or "|"-separated when several), or "none"; a set with this column
is scored on the safety layer too (recall per concern, false alarms). `split` (optional): "tune" or
"heldout"; `closer eval FILE --split heldout` keeps only that part.
Questions about the articles themselves and conversations (optional columns): `answer_kind`, the
kind the answer must be ("advice", "article", "across", "summary", "follow_up", "declined");
`article_filter`, the article it must be answered from (null: none); `history`, the questions
asked before it in the same conversation (a list). For a question about one article that the
article doesn't cover (`answerable: false`), `expected_articles` are the articles that do, which
the answer must name. A question with neither expected articles nor quotes is not judged on retrieval,
only on whether it is answered and on what it must not cite.
CSV: the same columns; lists separated by "|" (or written as JSON lists).
BEIR: a folder with corpus.jsonl, queries.jsonl and qrels/<split>.tsv (retrieval metrics only).
SQuAD: each paragraph a document, each answer text an expected quote.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..safety.records import CONCERNS, NONE

BUILTIN = Path(__file__).with_name("testset.jsonl")
SAFETY = Path(__file__).with_name("safety.jsonl")  # the labelled safety set (tune and held-out parts)
SAFETY_MORE = Path(__file__).with_name("safety_more.jsonl")  # later writers' sets, the same fields
SAFETY_NEXT = Path(__file__).with_name("safety_next.jsonl")  # the writers of stops 30-31 (tune, calibrate, held out)


class TestSetError(Exception):
    """A test set that can't be used; the message names the file and, where known, the line."""

    __test__ = False  # not a pytest test class

    def __init__(self, source: Path | str, message: str, line: int | None = None) -> None:
        self.source, self.line = str(source), line
        where = f"{source}, line {line}" if line else str(source)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    answerable: bool = True
    expected_articles: tuple[str, ...] = ()
    expected_quotes: tuple[str, ...] = ()
    rejected_quotes: tuple[str, ...] = ()
    reference_answer: str | None = None
    kind: str | None = None
    line: int | None = None
    concerns: tuple[str, ...] | None = None  # None: the set says nothing of safety; (): no concern
    split: str | None = None
    answer_kind: str | None = None  # the kind the answer must be (assistant/records.py Answer.kind)
    article_filter: str | None = None  # the article the answer must come from
    history: tuple[str, ...] = ()  # the conversation's questions before this one

    @property
    def judged(self) -> bool:
        """True when the case says which passages answer it (retrieval metrics need that)."""
        return bool(self.expected_quotes or self.expected_articles)


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str


@dataclass
class EvalSet:
    name: str
    source: Path
    format: str  # "jsonl" | "csv" | "beir" | "squad"
    cases: list[EvalCase]
    documents: list[Document] | None = None  # the corpus of a BEIR or SQuAD set
    unit: str = "passage"  # what is ranked and judged: "passage", or "document" (BEIR)
    fingerprint: str = ""  # content hash of the sources, names the set's own index
    extra: dict = field(default_factory=dict)

    @property
    def own_corpus(self) -> bool:
        """True when the questions are about the user's corpus (no documents of their own)."""
        return self.documents is None

    def check_articles(self, valid: list[str]) -> None:
        """Refuse expected article ids that the index does not hold, naming the line."""
        known = set(valid)
        for case in self.cases:
            for article_id in case.expected_articles + ((case.article_filter,) if case.article_filter else ()):
                if article_id not in known:
                    raise TestSetError(self.source, f"unknown article id {article_id!r} in question {case.id!r}; "
                                                    f"valid ids: {', '.join(valid)}", case.line)


def load_testset(path: Path | str | None = None, *, split: str | None = None) -> EvalSet:
    """Read a test set, choosing the format from what `path` is (the built-in set when None).
    `split`: a BEIR folder's qrels ("train" when None); for JSON Lines or CSV with a `split`
    column, only the questions of that part (all when None)."""
    path = Path(path) if path is not None else BUILTIN
    if not path.exists():
        raise TestSetError(path, "no such file or folder")
    if path.is_dir():
        return load_beir(path, split=split or "train")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_squad(path)
    if suffix == ".csv":
        return _finish(path, "csv", _read_csv(path), split)
    if suffix in (".jsonl", ".ndjson"):
        return _finish(path, "jsonl", _read_jsonl(path), split)
    raise TestSetError(path, "unknown test set format; use .jsonl, .csv, SQuAD .json, or a BEIR folder")


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


def _finish(path: Path, fmt: str, cases: list[EvalCase], split: str | None = None) -> EvalSet:
    if not cases:
        raise TestSetError(path, "the file holds no questions")
    seen: dict[str, int | None] = {}
    for case in cases:
        if case.id in seen:
            raise TestSetError(path, f"duplicate id {case.id!r} (first on line {seen[case.id]})", case.line)
        seen[case.id] = case.line
    name = path.stem
    if split is not None:
        parts = sorted({c.split for c in cases if c.split})
        if split not in parts:
            hint = f"its parts: {', '.join(parts)}" if parts else "it has no `split` column"
            raise TestSetError(path, f"no questions in the {split!r} part ({hint})")
        cases, name = [c for c in cases if c.split == split], f"{path.stem}-{split}"
    return EvalSet(name, path, fmt, cases, fingerprint=_fingerprint(path), extra={"split": split} if split else {})


def _as_list(value, path: Path, line: int, name: str, *, separator: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise TestSetError(path, f"{name} is not a valid JSON list ({exc.msg})", line) from exc
        else:
            return tuple(v.strip() for v in text.split(separator) if v.strip())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TestSetError(path, f"{name} must be a list of strings", line)
    return tuple(v for v in value if v.strip())


def _as_bool(value, path: Path, line: int) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise TestSetError(path, f"answerable must be true or false, not {value!r}", line)


def _case(record: dict, path: Path, line: int) -> EvalCase:
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise TestSetError(path, "missing `question` (a non-empty string)", line)
    ref = record.get("reference_answer") or None
    concerns = None
    if record.get("concern") not in (None, ""):
        concerns = tuple(c for c in _as_list(record["concern"], path, line, "concern", separator="|") if c != NONE)
        unknown = set(concerns) - set(CONCERNS)
        if unknown:
            raise TestSetError(path, f"unknown concern {sorted(unknown)[0]!r}; use {', '.join(CONCERNS)} or {NONE}",
                               line)
    split = record.get("split") or None
    return EvalCase(
        id=str(record.get("id") or f"line{line}"), question=question.strip(),
        answerable=_as_bool(record.get("answerable"), path, line),
        expected_articles=_as_list(record.get("expected_articles"), path, line, "expected_articles", separator="|"),
        expected_quotes=_as_list(record.get("expected_quotes"), path, line, "expected_quotes", separator="|"),
        rejected_quotes=_as_list(record.get("rejected_quotes"), path, line, "rejected_quotes", separator="|"),
        reference_answer=ref if isinstance(ref, str) else None, kind=record.get("kind") or None, line=line,
        concerns=concerns, split=str(split) if split else None,
        answer_kind=record.get("answer_kind") or None, article_filter=record.get("article_filter") or None,
        history=_as_list(record.get("history"), path, line, "history", separator="|"))


def _read_jsonl(path: Path) -> list[EvalCase]:
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TestSetError(path, f"not UTF-8 text ({exc.reason})") from exc
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TestSetError(path, f"invalid JSON ({exc.msg}, column {exc.colno})", number) from exc
        if not isinstance(record, dict):
            raise TestSetError(path, "each line must be a JSON object", number)
        cases.append(_case(record, path, number))
    return cases


def _read_csv(path: Path) -> list[EvalCase]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "question" not in reader.fieldnames:
                raise TestSetError(path, "the header has no `question` column", 1)
            return [_case(row, path, reader.line_num) for row in reader]
    except UnicodeDecodeError as exc:
        raise TestSetError(path, f"not UTF-8 text ({exc.reason})") from exc


def load_beir(folder: Path, *, split: str = "train") -> EvalSet:
    corpus, queries = folder / "corpus.jsonl", folder / "queries.jsonl"
    for needed in (corpus, queries):
        if not needed.exists():
            raise TestSetError(folder, f"a BEIR folder needs {needed.name}")
    qrels = folder / "qrels" / f"{split}.tsv"
    if not qrels.exists():
        found = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        hint = f"; it has: {', '.join(found)} (choose with --split)" if found else ""
        raise TestSetError(folder, f"no qrels for the {split!r} split (qrels/{split}.tsv){hint}")
    relevant: dict[str, list[str]] = {}
    with open(qrels, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            parts = raw.rstrip("\n").split("\t")
            if number == 1 and parts[0] in ("query-id", "query_id", "qid"):
                continue
            if len(parts) < 3:
                raise TestSetError(qrels, "expected query-id, corpus-id, score separated by tabs", number)
            try:
                score = int(parts[2])
            except ValueError as exc:
                raise TestSetError(qrels, f"score {parts[2]!r} is not a whole number", number) from exc
            if score > 0:
                relevant.setdefault(parts[0], []).append(parts[1])
    documents = [Document(str(r["_id"]), r.get("title", "") or "", r.get("text", "") or "")
                 for r in _jsonl_records(corpus)]
    cases = []
    for number, record in enumerate(_jsonl_records(queries), start=1):
        qid = str(record.get("_id"))
        if qid in relevant:
            cases.append(EvalCase(qid, str(record.get("text", "")).strip(), True, tuple(relevant[qid]), line=number))
    if not cases:
        raise TestSetError(folder, f"no query in queries.jsonl has judgements in qrels/{split}.tsv")
    return EvalSet(f"{folder.name}-{split}", folder, "beir", cases, documents, unit="document",
                   fingerprint=_fingerprint(corpus, queries, qrels), extra={"split": split})


def _jsonl_records(path: Path):
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise TestSetError(path, f"invalid JSON ({exc.msg})", number) from exc


def load_squad(path: Path) -> EvalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise TestSetError(path, f"not SQuAD JSON (a top-level `data` list of articles): {exc}") from exc
    documents, cases = [], []
    for article in data:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", article.get("title", "article")).strip("_")[:60]
        for p_index, paragraph in enumerate(article.get("paragraphs", [])):
            doc_id = f"{slug}-{p_index:02d}"
            documents.append(Document(doc_id, article.get("title", "").replace("_", " "), paragraph["context"]))
            for qa in paragraph.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text")))
                impossible = bool(qa.get("is_impossible")) or not answers
                cases.append(EvalCase(str(qa["id"]), qa["question"].strip(), not impossible,
                                      () if impossible else (doc_id,), () if impossible else answers))
    if not cases:
        raise TestSetError(path, "the file holds no questions")
    return EvalSet(path.stem, path, "squad", cases, documents, fingerprint=_fingerprint(path))
