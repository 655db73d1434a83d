"""Test-set formats and the errors bad test sets get (each naming the line)."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import BUILTIN, TestSetError, load_testset
from tests.conftest import KMA

ARTICLES = ["000_bbaf2f0a327db68a", "001_30510327d2b704d8", "002_b322e63915a6628b", "003_8433d8bc51077bda",
            "004_f392fb825741823f"]


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_defaults_and_lists(tmp_path):
    path = write(tmp_path / "set.jsonl", [
        json.dumps({"id": "a", "question": "Betrayal?", "expected_articles": [KMA], "expected_quotes": ["after betrayal"]}),
        "",
        json.dumps({"question": "Capital of France?", "answerable": False, "reference_answer": "Not covered."}),
    ])
    evalset = load_testset(path)
    first, second = evalset.cases
    assert (first.id, first.answerable, first.expected_articles, first.line) == ("a", True, (KMA,), 1)
    assert (second.id, second.answerable, second.reference_answer, second.line) == ("line3", False, "Not covered.", 3)
    assert evalset.own_corpus and evalset.unit == "passage"


def test_csv_with_the_same_columns(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text('id,question,answerable,expected_articles,expected_quotes\n'
                    f'c1,Can intimacy be rebuilt?,true,{KMA},after betrayal|trust takes time\n'
                    'c2,Pizza?,false,,\n', encoding="utf-8")
    cases = load_testset(path).cases
    assert cases[0].expected_quotes == ("after betrayal", "trust takes time")
    assert cases[1].answerable is False and cases[1].expected_articles == ()


@pytest.mark.parametrize("lines, message, line", [
    (['{"question": "ok"}', '{"question": "broken",'], "invalid JSON", 2),
    (['{"question": "ok"}', '{"question": "fine"}', '{"id": "x", "expected_articles": []}'], "missing `question`", 3),
    (['{"question": "  "}'], "missing `question`", 1),
    (['["not", "an", "object"]'], "must be a JSON object", 1),
    (['{"id": "a", "question": "q"}', '{"id": "a", "question": "q2"}'], "duplicate id 'a'", 2),
    (['{"question": "q", "answerable": "maybe"}'], "answerable must be true or false", 1),
    (['{"question": "q", "expected_quotes": "[oops"}'], "not a valid JSON list", 1),
])
def test_bad_jsonl_names_the_line(tmp_path, lines, message, line):
    path = write(tmp_path / "bad.jsonl", lines)
    with pytest.raises(TestSetError, match=message) as err:
        load_testset(path)
    assert err.value.line == line and f"line {line}" in str(err.value)


def test_unknown_article_id_names_the_line_and_the_valid_ids(tmp_path):
    path = write(tmp_path / "set.jsonl", ['{"question": "q1", "expected_articles": ["000_bbaf2f0a327db68a"]}',
                                          '{"question": "q2", "expected_articles": ["999_nope"]}'])
    with pytest.raises(TestSetError, match="unknown article id '999_nope'") as err:
        load_testset(path).check_articles(ARTICLES)
    assert err.value.line == 2 and KMA in str(err.value)


def test_empty_file_and_beir_folder_without_qrels(tmp_path):
    with pytest.raises(TestSetError, match="no questions"):
        load_testset(write(tmp_path / "empty.jsonl", [""]))
    folder = tmp_path / "beir"
    folder.mkdir()
    write(folder / "corpus.jsonl", ['{"_id": "d1", "title": "T", "text": "Some text."}'])
    write(folder / "queries.jsonl", ['{"_id": "q1", "text": "a query"}'])
    with pytest.raises(TestSetError, match=r"no qrels for the 'train' split \(qrels/train.tsv\)"):
        load_testset(folder)
    (folder / "qrels").mkdir()
    write(folder / "qrels" / "test.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t1"])
    with pytest.raises(TestSetError, match="it has: test"):
        load_testset(folder)
    evalset = load_testset(folder, split="test")
    assert evalset.format == "beir" and evalset.unit == "document"
    assert evalset.cases[0].expected_articles == ("d1",) and evalset.documents[0].title == "T"


def test_squad_paragraphs_become_documents_and_answers_expected_quotes(tmp_path):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": [{"title": "Super_Bowl_50", "paragraphs": [
        {"context": "The game was played in 2016. Denver won.", "qas": [
            {"id": "q1", "question": "Who won?", "answers": [{"text": "Denver", "answer_start": 29},
                                                            {"text": "Denver", "answer_start": 29}]}]}]}]}))
    evalset = load_testset(path)
    assert evalset.format == "squad" and not evalset.own_corpus
    assert evalset.documents[0].doc_id == "Super_Bowl_50-00" and evalset.documents[0].title == "Super Bowl 50"
    assert evalset.cases[0].expected_quotes == ("Denver",) and evalset.cases[0].expected_articles == ("Super_Bowl_50-00",)


def test_the_builtin_test_set_is_valid_and_covers_every_article():
    evalset = load_testset(BUILTIN)
    evalset.check_articles(ARTICLES)
    cases = evalset.cases
    assert len(cases) >= 80
    assert sum(not c.answerable for c in cases) >= 15
    assert sum(bool(c.reference_answer) for c in cases) >= len(cases) / 3
    covered = {a for c in cases for a in c.expected_articles}
    assert covered == set(ARTICLES)
    for case in cases:
        if case.answerable:
            assert case.expected_articles and case.expected_quotes, case.id
        else:
            assert not case.expected_articles and not case.expected_quotes, case.id
