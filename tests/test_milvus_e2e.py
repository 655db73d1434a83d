"""`closer` on the Milvus backend end to end, against a real Milvus Lite file in tmp_path: the
same answers and lookups as the embedded index, a corpus update synced and found, and a sync
killed midway finished by the next command, nothing lost and nothing twice. Each command runs in
a process of its own, as a person runs them (Milvus Lite lets one process at a time open a file)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from tests.conftest import KMA, REMAINLY, REPO  # noqa: E402

pytestmark = pytest.mark.model

QUESTIONS = [
    "Can emotional intimacy be rebuilt after betrayal?",
    "How can I listen better to my partner?",
    "What are the signs of emotional intimacy in a relationship?",
    "my husband shuts down whenever we argue, how do i get him to open up",
    "What is the capital of France?",
]

# The `closer` command; with CLOSER_TEST_KILL_AFTER set, the process kills itself (SIGKILL) after
# that many batches of a Milvus sync, 16 rows a batch.
RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    kill_after = int(os.environ.get("CLOSER_TEST_KILL_AFTER", "0"))
    if kill_after:
        from index import milvus

        sync = milvus.MilvusBackend.sync

        def dying_sync(self, index, *, batch_size=512, progress=None):
            batches = 0

            def counted(done, total):
                nonlocal batches
                batches += 1
                if batches == kill_after:
                    print("killed at", done, total, file=sys.stderr, flush=True)
                    os.kill(os.getpid(), signal.SIGKILL)

            return sync(self, index, batch_size=16, progress=counted)

        milvus.MilvusBackend.sync = dying_sync
    from assistant.cli import main
    sys.exit(main())
""")


def closer(settings, tmp_path: Path, *args: str, milvus: Path | None = None, input: str | None = None,
           kill_after: int = 0) -> subprocess.CompletedProcess:
    script = tmp_path / "closer_run.py"
    script.write_text(RUN.format(repo=str(REPO)), encoding="utf-8")
    backend = ["--backend", "milvus", "--milvus-uri", str(milvus)] if milvus else ["--backend", "embedded"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", CLOSER_TEST_KILL_AFTER=str(kill_after))
    return subprocess.run([sys.executable, str(script), *args, "--home", str(settings.home), "--corpus",
                           str(settings.corpus), *backend], input=input, capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=600)


def answers(run: subprocess.CompletedProcess) -> list[dict]:
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def what_is_said(record: dict) -> tuple:
    """An answer as its reader gets it: declined or not, the safety notice, and each quote with its
    place in its article."""
    return (record["abstained"], record.get("safety"),
            [(c["article_id"], c["section"], c["quote"], c["start"], c["end"]) for c in record["citations"]])


HELD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {repo!r})
    from index import load_index
    from index.milvus import MilvusBackend, MilvusSettings

    index_dir, db = sys.argv[1], sys.argv[2]
    index = load_index(index_dir, model_id="sentence-transformers/all-MiniLM-L6-v2", dimension=384)
    backend = MilvusBackend(MilvusSettings(db), index.dimension, index.model_id)
    keys = []
    iterator = backend._client.query_iterator(backend.passages, batch_size=10_000, output_fields=["chunk_id"])
    while rows := iterator.next():
        keys += [r["chunk_id"] for r in rows]
    iterator.close()
    print(json.dumps({{"counts": backend.counts(), "passages": len(index.chunks),
                      "sentences": len(index.sentence_vectors), "unique": len(keys) == len(set(keys)),
                      "keys": set(keys) == {{c.chunk_id for c in index.chunks}}}}))
""")


def held(settings, db: Path) -> dict:
    """What the Milvus file holds, and whether every key is held once: read in a process of its
    own, which lets the file go when it ends."""
    script = settings.home / "held.py"
    script.write_text(HELD.format(repo=str(REPO)), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(settings.index_dir), str(db)], capture_output=True,
                         text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), cwd=REPO, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def assert_holds_the_index(settings, db: Path) -> None:
    state = held(settings, db)
    assert state["counts"] == {"passages": state["passages"], "sentences": state["sentences"]}
    assert state["unique"] and state["keys"]


def test_ask_and_lookup_through_milvus_say_what_the_embedded_index_says(settings, tmp_path):
    db = tmp_path / "closer.db"
    asked = "\n".join(QUESTIONS) + "\n"
    embedded = answers(closer(settings, tmp_path, "ask", "-", "--json", input=asked))
    first = closer(settings, tmp_path, "ask", "-", "--json", input=asked, milvus=db)
    assert "Syncing" in first.stderr and "to Milvus" in first.stderr
    assert [what_is_said(r) for r in answers(first)] == [what_is_said(r) for r in embedded]
    assert_holds_the_index(settings, db)
    # Opened again, the collections already hold this index: nothing is synced.
    again = closer(settings, tmp_path, "ask", QUESTIONS[0], "--json", "--article", KMA, milvus=db)
    assert "Syncing" not in again.stderr
    alone = answers(closer(settings, tmp_path, "ask", QUESTIONS[0], "--json", "--article", KMA))
    assert [what_is_said(r) for r in answers(again)] == [what_is_said(r) for r in alone]
    assert {c["article_id"] for c in json.loads(again.stdout)["citations"]} == {KMA}

    for topic in ("betrayal", "technology"):
        through = closer(settings, tmp_path, "lookup", topic, "--article", KMA, "--json", milvus=db)
        local = closer(settings, tmp_path, "lookup", topic, "--article", KMA, "--json")
        assert through.returncode == local.returncode == 0, through.stderr + local.stderr
        assert json.loads(through.stdout) == json.loads(local.stdout)
        assert json.loads(through.stdout)["articles"], topic


def test_a_corpus_update_is_synced_by_the_next_command_and_found(settings, tmp_path):
    db = tmp_path / "closer.db"
    answers(closer(settings, tmp_path, "ask", QUESTIONS[0], "--json", milvus=db))
    path = settings.corpus / f"{REMAINLY}.txt"
    added = ("Gardening together on a shared allotment gives a couple an hour a week of side-by-side work, "
             "and many couples find that their easiest conversations of the week happen while weeding.")
    anchor = "why you are together and why you love each other.\n"  # before the page's footer
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + "\n" + added + "\n", 1), encoding="utf-8")
    asked = "\n".join(["Does gardening together on an allotment help a couple talk?", *QUESTIONS]) + "\n"

    updated = closer(settings, tmp_path, "ask", "-", "--json", input=asked, milvus=db)
    assert "Syncing" in updated.stderr, updated.stderr
    said = re.search(r"Milvus: (\d+) passages and \d+ sentences written, \d+ and \d+ removed, (\d+) kept",
                     updated.stderr)
    assert said, updated.stderr
    through = answers(updated)
    local = answers(closer(settings, tmp_path, "ask", "-", "--json", input=asked))
    assert [what_is_said(r) for r in through] == [what_is_said(r) for r in local]
    found = [p for p in through[0]["passages"] if p["article_id"] == REMAINLY and "allotment" in p["text"]]
    assert found and found[0]["rank"] <= 2, through[0]["passages"]
    assert_holds_the_index(settings, db)
    # Only the changed file's passages were written: the other four articles' were kept.
    written, kept = int(said[1]), int(said[2])
    assert written + kept == held(settings, db)["passages"] and 0 < written < kept / 4


def test_a_sync_killed_midway_is_finished_by_the_next_command(settings, tmp_path):
    db = tmp_path / "closer.db"
    killed = closer(settings, tmp_path, "ask", QUESTIONS[0], "--json", milvus=db, kill_after=5)
    assert killed.returncode == -9 and "killed at 80 " in killed.stderr, killed.stderr
    total = int(killed.stderr.split("killed at 80 ")[1].split()[0])
    state = held(settings, db)
    assert 0 < sum(state["counts"].values()) < state["passages"] + state["sentences"]

    resumed = closer(settings, tmp_path, "ingest", milvus=db)
    assert resumed.returncode == 0, resumed.stderr
    # Only what the killed sync had not written is written now, and nothing is removed.
    said = re.search(r"Milvus: (\d+) passages and (\d+) sentences written, 0 and 0 removed", resumed.stderr)
    assert said and int(said[1]) + int(said[2]) == total - 80, resumed.stderr
    assert f"Synced to Milvus at {db}" in resumed.stdout and "is up to date" in resumed.stdout
    assert_holds_the_index(settings, db)
    again = closer(settings, tmp_path, "ingest", milvus=db)
    assert "Synced" not in again.stdout + again.stderr and "is up to date" in again.stdout

    asked = "\n".join(QUESTIONS) + "\n"
    through = closer(settings, tmp_path, "ask", "-", "--json", input=asked, milvus=db)
    assert "Syncing" not in through.stderr
    local = answers(closer(settings, tmp_path, "ask", "-", "--json", input=asked))
    assert [what_is_said(r) for r in answers(through)] == [what_is_said(r) for r in local]
