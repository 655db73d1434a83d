"""The `closer` command end to end: JSON contract, stdin mode, exit codes, first-use build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from tests.conftest import KMA

pytestmark = pytest.mark.model


def run(settings, *args, input=None):
    result = CliRunner().invoke(cli, [*args, "--home", str(settings.home), "--corpus", str(settings.corpus)],
                                input=input, catch_exceptions=False)
    return result


def test_ask_json_follows_the_contract(settings):
    result = run(settings, "ask", "Can emotional intimacy be rebuilt after betrayal?", "--json", "--k", "4")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert {"question", "abstained", "answer", "citations", "passages"} <= set(record)
    assert record["abstained"] is False and "[1]" in record["answer"]
    assert len(record["passages"]) == 4
    citation = record["citations"][0]
    assert set(citation) >= {"n", "article_id", "title", "publisher", "section", "quote", "start", "end", "score"}
    assert citation["article_id"] == KMA and citation["publisher"] == "KMA Therapy"
    assert set(record["passages"][0]) >= {"rank", "chunk_id", "article_id", "title", "section", "text",
                                          "start", "end", "score"}
    shown = json.loads(run(settings, "show", KMA, "--json").stdout)
    assert shown["text"][citation["start"]:citation["end"]] == citation["quote"]


def test_ask_reads_one_question_a_line_from_stdin(settings):
    result = run(settings, "ask", "-", "--json",
                 input="Can emotional intimacy be rebuilt after betrayal?\n\nWhat is the capital of France?\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in lines] == ["Can emotional intimacy be rebuilt after betrayal?",
                                              "What is the capital of France?"]
    assert [r["abstained"] for r in lines] == [False, True]


def test_human_output_lists_sources(settings):
    result = run(settings, "ask", "Can emotional intimacy be rebuilt after betrayal?")
    assert result.exit_code == 0
    assert "Sources:" in result.stdout and "[1] The Importance of Emotional Intimacy" in result.stdout


@pytest.mark.parametrize("args, needle", [
    (["ask", "   "], "the question is empty"),
    (["ask", "betrayal?", "--article", "nope"], "valid ids: 000_bbaf2f0a327db68a"),
    (["lookup", "betrayal", "--article", "nope"], "valid ids:"),
    (["show", "nope"], "unknown article id 'nope'"),
    (["lookup", ""], "the topic is empty"),
])
def test_bad_input_exits_2_with_one_line_reason(settings, args, needle):
    result = run(settings, *args)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5", "²"])
def test_a_bad_threads_setting_is_refused_with_what_to_set(settings, monkeypatch, value):
    """CLOSER_THREADS that is not a whole number of at least 1 was ignored silently (every core
    used); now every command that opens the data folder says what to set, before doing anything."""
    monkeypatch.setenv("CLOSER_THREADS", value)
    result = run(settings, "ask", "how do we rebuild trust?")
    assert result.exit_code == 2 and result.stdout == ""
    assert f"CLOSER_THREADS is '{value}'" in result.stderr and "CLOSER_THREADS=2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, needle", [
    (["ask", "trust?", "--k", "0"], "Invalid value for '--k'"),
    (["ask"], "Missing argument 'QUESTION'"),
    (["nosuch"], "No such command 'nosuch'"),
    (["add"], "Missing argument 'FILES...'"),
])
def test_usage_errors_are_one_line_with_where_to_read_more(settings, args, needle):
    result = run(settings, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "--help`)" in lines[0], result.stderr


@pytest.mark.parametrize("args", [[], ["feedback"]])
def test_a_group_alone_shows_its_help_not_an_error(args):
    result = CliRunner().invoke(cli, args, prog_name="closer")
    assert result.exit_code == 2 and result.stderr.startswith("Usage: ") and "Error" not in result.stderr
    assert "Commands:" in result.stderr


def test_add_puts_documents_in_the_corpus_and_refuses_bad_ones_changing_nothing(settings, tmp_path):
    good = tmp_path / "kindness.html"
    good.write_text("<p>Some words before the first heading, long enough to be a paragraph.</p>"
                    "<h2>Small kindnesses every day</h2><p>Thank your partner for the small things they do.</p>",
                    encoding="utf-8")
    broken, binary = tmp_path / "broken.pdf", tmp_path / "binary.txt"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    binary.write_bytes(bytes(range(256)) * 8)
    before = sorted(p.name for p in settings.corpus.iterdir())
    result = run(settings, "add", str(good), str(broken), str(binary), str(tmp_path / "missing.md"))
    assert result.exit_code == 2
    assert "Added Small kindnesses every day as kindness" in result.stdout  # the title from its first heading
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1].strip() for e in errors[:2]] == ["broken.pdf was not added", "binary.txt was not added"]
    assert "missing.md: no such file" in errors[2] and len(errors) == 3
    assert sorted(p.name for p in settings.corpus.iterdir()) == sorted(before + ["kindness.html"])
    asked = run(settings, "ask", "How do I thank my partner for the small things?", "--json")
    assert "kindness" in {c["article_id"] for c in json.loads(asked.stdout)["citations"]}
    shown = run(settings, "show")
    line = next(x for x in shown.stdout.splitlines() if x.startswith("kindness"))
    assert "Small kindnesses every day — no publisher (give one in" in line and "(2 sections)" in line
    again = run(settings, "add", str(good))
    assert again.exit_code == 2 and again.stderr.count("kindness.html") == 1  # named once
    assert "already has a file of that name" in again.stderr
    odd = tmp_path / "Notes (draft).md"
    odd.write_bytes(b"")
    refused = run(settings, "add", str(odd))
    assert refused.stderr.strip() == "Error: Notes (draft).md was not added: the file is empty"  # as the user spelt it


def test_empty_stdin_is_bad_input(settings):
    result = run(settings, "ask", "-", input="\n  \n")
    assert result.exit_code == 2 and "no questions" in result.stderr


def test_lookup_and_show_json(settings):
    result = run(settings, "lookup", "betrayal", "--json")
    record = json.loads(result.stdout)
    assert record["topic"] == "betrayal"
    assert set(record["articles"][0]) == {"article_id", "title", "publisher", "mentions"}
    assert set(record["articles"][0]["mentions"][0]) == {"quote", "section", "start", "end", "score"}
    ids = {a["article_id"] for a in record["articles"]} | set(record["not_covered"])
    assert len(ids) == 5
    shown = json.loads(run(settings, "show", KMA, "--json").stdout)
    assert set(shown) >= {"article_id", "title", "publisher", "sections", "text"}
    for section in shown["sections"]:
        assert 0 <= section["start"] < section["end"] <= len(shown["text"])


def test_first_use_builds_the_index_and_skips_a_corrupt_file(data_home, corpus_copy):
    (corpus_copy / "broken.pdf").write_bytes(b"%PDF-1.4 not a pdf at all")
    (corpus_copy / "extra.md").write_text("# Phones at Dinner\n\nWe agreed to leave our phones in a basket "
                                          "at dinner, and we talk much more now.\n", encoding="utf-8")
    env = {"home": str(data_home), "corpus": str(corpus_copy)}
    assert not (data_home / "index").exists()
    result = CliRunner().invoke(cli, ["ingest", "--home", env["home"], "--corpus", env["corpus"]])
    assert result.exit_code == 0, result.output
    assert "Indexed 6 articles" in result.stdout
    assert "Skipped broken.pdf" in result.stderr and "not a readable PDF" in result.stderr
    assert "1 comment form" in result.stdout  # what cleaning removed is summarised
    answer = CliRunner().invoke(cli, ["ask", "What do we do with our phones at dinner?", "--json",
                                      "--home", env["home"], "--corpus", env["corpus"]])
    record = json.loads(answer.stdout)
    assert record["citations"][0]["article_id"] == "extra"
    again = CliRunner().invoke(cli, ["ingest", "--home", env["home"], "--corpus", env["corpus"]])
    assert "up to date" in again.stdout


def test_ask_builds_the_index_when_there_is_none(data_home, corpus_copy):
    result = CliRunner().invoke(cli, ["ask", "Can emotional intimacy be rebuilt after betrayal?", "--json",
                                      "--home", str(data_home), "--corpus", str(corpus_copy)])
    assert result.exit_code == 0, result.output
    assert "No index yet" in result.stderr
    assert (data_home / "index" / "manifest.json").exists()


def test_an_index_of_another_model_is_refused_and_kept(settings):
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["id"] = "someone/other-model"
    manifest_path.write_text(json.dumps(manifest))
    result = run(settings, "ask", "betrayal?")
    assert result.exit_code == 1
    assert "closer ingest --rebuild" in result.stderr
    assert json.loads(manifest_path.read_text())["model"]["id"] == "someone/other-model"  # nothing lost
    rebuilt = run(settings, "ingest", "--rebuild")
    assert rebuilt.exit_code == 0 and "Indexed 5 articles" in rebuilt.stdout


def test_missing_corpus_folder_is_bad_input(data_home, tmp_path):
    result = CliRunner().invoke(cli, ["ask", "betrayal?", "--home", str(data_home),
                                      "--corpus", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_console_script_exit_codes(settings):
    """The installed `closer` command, in its own process."""
    exe = Path(sys.executable).with_name("closer")
    if not exe.exists():
        pytest.skip("closer is not installed in this environment's bin folder")
    env = {**os.environ, "CLOSER_HOME": str(settings.home), "CLOSER_CORPUS": str(settings.corpus)}
    empty = subprocess.run([str(exe), "ask", ""], capture_output=True, text=True, env=env)
    assert empty.returncode == 2 and "question is empty" in empty.stderr
    declined = subprocess.run([str(exe), "ask", "What is the capital of France?", "--json"],
                              capture_output=True, text=True, env=env, timeout=300)
    assert declined.returncode == 0, declined.stderr
    assert json.loads(declined.stdout)["abstained"] is True
    assert declined.stderr == ""  # no "Loading weights" bar, nothing else to a program reading it
    # At a terminal, a person is told why nothing shows yet, and still sees no progress bar.
    import pty

    terminal, stderr = pty.openpty()
    asked = subprocess.run([str(exe), "ask", "How can I listen better to my partner?"], stdout=subprocess.PIPE,
                           stderr=stderr, text=True, env=env, timeout=300)
    os.close(stderr)
    said = os.read(terminal, 65536).decode()
    os.close(terminal)
    assert asked.returncode == 0 and "[1]" in asked.stdout
    assert said.strip() == "Loading the model and the index…", said


def test_a_disclosure_is_answered_with_the_safety_notice_first(settings):
    question = "My partner left me and I want to kill myself."
    record = json.loads(run(settings, "ask", question, "--json").stdout)
    assert record["safety"]["concern"] == "self_harm"
    assert record["answer"].startswith(record["safety"]["message"])
    assert record["citations"] == []  # nothing from the articles after thoughts of suicide
    assert all(set(r) == {"name", "contact", "region", "source"} for r in record["safety"]["resources"])
    text = run(settings, "ask", question, "--country", "US").stdout
    assert text.startswith("It sounds like") and "call 911" in text and "988" in text
    assert json.loads(run(settings, "ask", "How can I listen better to my partner?", "--json").stdout)["safety"] is None


def test_lookup_of_a_disclosure_opens_with_the_notice(settings):
    result = run(settings, "lookup", "my boyfriend hits me")
    assert result.exit_code == 0 and result.stdout.startswith("It sounds like")
    assert json.loads(run(settings, "lookup", "my boyfriend hits me", "--json").stdout)["safety"]["concern"] == "abuse"


def test_a_broken_safety_file_is_one_line_saying_what_is_wrong(settings, tmp_path, monkeypatch):
    bad = tmp_path / "safety.toml"
    bad.write_text("[messages\n", encoding="utf-8")
    monkeypatch.setenv("CLOSER_SAFETY_FILE", str(bad))
    result = run(settings, "ask", "How can I listen better?")
    assert result.exit_code == 1 and "is not valid TOML" in result.output


def test_help_of_every_command_is_plain_text_with_no_emoji():
    """A terminal without an emoji font draws an emoji as an empty box."""
    import re

    import click

    emoji = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")

    def paths(group: click.Group, prefix: list[str]):
        yield prefix
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from paths(command, prefix + [name])
            else:
                yield prefix + [name]

    helps = {" ".join(p) or "closer": CliRunner().invoke(cli, p + ["--help"]) for p in paths(cli, [])}
    assert {"add", "ask", "serve", "feedback export"} <= set(helps)
    for name, result in helps.items():
        assert result.exit_code == 0 and emoji.findall(result.output) == [], name
