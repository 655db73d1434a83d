"""The Milvus backend against a real Milvus Lite in tmp_path: sync, the four searches, updates
that touch one file, resuming a killed sync, and collections of another model refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from index import build_index  # noqa: E402
from index.milvus import (MilvusBackend, MilvusCollectionMismatch, MilvusSettings, MilvusUnavailable,  # noqa: E402
                          SyncReport)
from ingest import Chunk  # noqa: E402
from tests.conftest import CORPUS, REMAINLY, REPO, FakeEmbedder  # noqa: E402

EMBEDDER = FakeEmbedder()


@pytest.fixture(scope="module")
def index():
    built, _ = build_index(CORPUS, EMBEDDER)
    return built


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("milvus") / "closer.db"


@pytest.fixture(scope="module")
def synced(index, db):
    """A backend synced once with the repository corpus, and the report of that sync."""
    backend = MilvusBackend(MilvusSettings(str(db)), index.dimension, index.model_id)
    calls = []
    report = backend.sync(index, batch_size=100, progress=lambda done, total: calls.append((done, total)))
    yield backend, report, calls
    backend.close()


def question_of(index, row: int) -> str:
    """A question in a passage's own words: a run from the middle of its text."""
    words = index.chunks[row].text.split()
    middle = len(words) // 2
    return " ".join(words[max(0, middle - 12):middle + 12])


def all_keys(backend: MilvusBackend, collection: str, key: str) -> list[str]:
    """Every row's key, a key held twice twice: in one page, since the iterator reads on from the
    key after a page's last and would not see that key's second row in the next page."""
    iterator = backend._client.query_iterator(collection, batch_size=10_000, output_fields=[key])
    keys = []
    while rows := iterator.next():
        keys += [r[key] for r in rows]
    iterator.close()
    return keys


def sentence_count(index) -> int:
    return len(index.sentence_vectors)


def test_sync_puts_every_passage_and_sentence_in_milvus(synced, index):
    backend, report, calls = synced
    n = len(index.chunks)
    assert (report.inserted_passages, report.inserted_sentences, report.kept_passages) == (n, sentence_count(index), 0)
    assert report.deleted_passages == report.deleted_sentences == 0
    assert backend.counts() == {"passages": n, "sentences": sentence_count(index)}
    # Progress after each batch of 100 rows, up to the total.
    total = n + sentence_count(index)
    assert calls[-1] == (total, total) and len(calls) == -(-sentence_count(index) // 100) + -(-n // 100)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert backend.analyzer == "closer-terms"


@pytest.mark.parametrize("question", ["betrayed", "rebuilding trust after someone betrays you",
                                      "phones at the dinner table", "being vulnerable", "forgiving resentments"])
def test_the_engine_ranks_keywords_by_closers_own_terms(synced, index, question):
    """The text field holds the stemmed terms, so the engine's BM25 ranks the words the local
    keyword index ranks: "betrayed" finds "betrayal", and the best passage is the same."""
    backend, _, _ = synced
    engine = backend.keyword(question, 5)
    local = index.keyword_search(question, 5)
    assert engine and local
    assert engine[0][0] == index.chunks[local[0][0]].chunk_id
    assert {c for c, _ in engine[:3]} & {index.chunks[r].chunk_id for r, _ in local[:3]}


@pytest.mark.parametrize("row", [3, 30, 60, 85])
def test_dense_gives_the_exact_cosines_of_the_local_vectors(synced, index, row):
    backend, _, _ = synced
    query = EMBEDDER.encode([question_of(index, row)])[0]
    exact = index.chunk_vectors @ query
    order = np.argsort(-exact, kind="stable")[:10]
    found = backend.dense(query, 10)
    assert found[0][0] == index.chunks[row].chunk_id
    assert [s for _, s in found] == pytest.approx([float(exact[i]) for i in order], abs=1e-4)
    scores = {index.chunks[i].chunk_id: float(exact[i]) for i in range(len(index.chunks))}
    assert all(scores[c] == pytest.approx(s, abs=1e-4) for c, s in found)
    # More than a search may return is capped, not refused.
    assert len(backend.dense(query, 100_000)) == len(index.chunks)


@pytest.mark.parametrize("row", [5, 44])
def test_sentences_give_each_passages_best_sentence_cosine(synced, index, row):
    backend, _, _ = synced
    query = EMBEDDER.encode([question_of(index, row)])[0]
    per_sentence = index.sentence_vectors @ query
    best = {c.chunk_id: float(per_sentence[list(index.sentence_rows(i))].max())
            for i, c in enumerate(index.chunks) if len(index.sentence_rows(i))}
    expected = sorted(best.values(), reverse=True)[:8]
    found = backend.sentences(query, 8)
    assert len({c for c, _ in found}) == len(found) == 8  # one entry a passage
    assert [s for _, s in found] == pytest.approx(expected, abs=1e-4)
    assert all(best[c] == pytest.approx(s, abs=1e-4) for c, s in found)
    assert found[0][0] == max(best, key=best.get)


@pytest.mark.parametrize("row", [2, 47, 70])
def test_keyword_search_finds_the_passage_with_positive_ranked_scores(synced, index, row):
    backend, _, _ = synced
    found = backend.keyword(question_of(index, row), 10)
    assert found[0][0] == index.chunks[row].chunk_id
    scores = [s for _, s in found]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)
    assert len(set(scores)) > 1


def test_keyword_search_leaves_out_passages_sharing_no_term(synced, index):
    backend, _, _ = synced
    assert backend.keyword("zanzibar quokkas", 10) == []
    assert backend.keyword("   ", 10) == []
    # Only passages that hold the word.
    found = backend.keyword("betrayal", 50)
    holding = {c.chunk_id for c in index.chunks if "betrayal" in index.context_text(c).lower()}
    assert found and {c for c, _ in found} <= holding


def test_hybrid_fuses_dense_and_keyword_by_reciprocal_rank_in_one_search(synced, index):
    backend, _, _ = synced
    question = question_of(index, 20)
    query = EMBEDDER.encode([question])[0]
    k, n = 10, 15
    expected: Counter[str] = Counter()
    for ranking in (backend.dense(query, n), backend.keyword(question, n)):
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            expected[chunk_id] += 1.0 / (k + rank)
    found = backend.hybrid(query, question, n, k=k)
    assert found[0][0] == index.chunks[20].chunk_id
    assert found[0][1] == pytest.approx(2.0 / (k + 1), abs=1e-6)
    assert len(found) == n
    assert all(expected[c] == pytest.approx(s, abs=1e-6) for c, s in found)


def test_chunk_ids_restrict_every_search(synced, index):
    backend, _, _ = synced
    row = 30
    article = index.chunks[row].article_id
    allowed = [c.chunk_id for c in index.chunks if c.article_id != article][:12] + [index.chunks[row].chunk_id]
    question = question_of(index, row)
    query = EMBEDDER.encode([question])[0]
    for found in (backend.dense(query, 50, chunk_ids=allowed), backend.sentences(query, 50, chunk_ids=allowed),
                  backend.keyword(question, 50, chunk_ids=allowed)):
        assert found and {c for c, _ in found} <= set(allowed)
        assert found[0][0] == index.chunks[row].chunk_id
    assert len(backend.dense(query, 50, chunk_ids=allowed)) == len(allowed)
    elsewhere = [c.chunk_id for c in index.chunks if c.article_id != article]
    assert index.chunks[row].chunk_id not in {c for c, _ in backend.dense(query, 5, chunk_ids=elsewhere)}
    assert backend.dense(query, 5, chunk_ids=[]) == [] and backend.keyword(question, 5, chunk_ids=[]) == []


def test_a_second_sync_writes_nothing(synced, index):
    backend, _, _ = synced
    calls = []
    report = backend.sync(index, batch_size=7, progress=lambda done, total: calls.append(done))
    assert report == SyncReport(kept_passages=len(index.chunks))
    assert calls == []
    assert backend.counts() == {"passages": len(index.chunks), "sentences": sentence_count(index)}


class Recording:
    """The real Milvus client, with the keys of every write and delete noted."""

    def __init__(self, client) -> None:
        self.client, self.written, self.deleted = client, [], []

    def upsert(self, collection, rows, **kwargs):
        key = "chunk_id" if collection.endswith("_passages") else "id"
        self.written += [r[key] for r in rows]
        return self.client.upsert(collection, rows, **kwargs)

    def delete(self, collection, ids=None, **kwargs):
        self.deleted += list(ids)
        return self.client.delete(collection, ids=ids, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_an_update_of_one_file_touches_only_that_files_rows(corpus_copy, tmp_path):
    old, _ = build_index(corpus_copy, EMBEDDER)
    backend = MilvusBackend(MilvusSettings(str(tmp_path / "update.db")), old.dimension, old.model_id)
    backend.sync(old)
    # One file: its opening reworded with words no other passage has, its second half cut.
    path = corpus_copy / f"{REMAINLY}.txt"
    text = path.read_text(encoding="utf-8")
    text = text.replace("In a relationship, emotional intimacy", "In a quokka marriage, zanzibarish intimacy", 1)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    new, build = build_index(corpus_copy, EMBEDDER, previous=old)
    assert len(build.reused_files) == 4

    recording = Recording(backend._client)
    backend._client = recording
    report = backend.sync(new, batch_size=4)

    assert report.touched_files == {path.name}
    assert recording.written and all(key.startswith(REMAINLY + ":") for key in recording.written + recording.deleted)
    others = sum(1 for c in old.chunks if c.article_id != REMAINLY)
    assert others <= report.kept_passages < len(new.chunks)
    assert report.inserted_passages == len(new.chunks) - report.kept_passages
    gone = {c.chunk_id for c in old.chunks} - {c.chunk_id for c in new.chunks}
    assert gone and report.deleted_passages >= len(gone) and report.deleted_sentences > 0
    assert set(recording.deleted) >= gone
    assert backend.counts() == {"passages": len(new.chunks), "sentences": sentence_count(new)}
    assert sorted(all_keys(backend, backend.passages, "chunk_id")) == sorted(c.chunk_id for c in new.chunks)
    top = backend.keyword("zanzibarish quokka", 3)
    assert len(top) == 1 and top[0][0].startswith(REMAINLY)
    backend.close()


SYNC_THEN_DIE = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    from index import build_index
    from index.milvus import MilvusBackend, MilvusSettings
    from tests.conftest import CORPUS, FakeEmbedder

    db, when = sys.argv[1], sys.argv[2]
    index, _ = build_index(CORPUS, FakeEmbedder())
    backend = MilvusBackend(MilvusSettings(db), index.dimension, index.model_id)
    batches = 0

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def progress(done, total):
        global batches
        batches += 1
        if when.isdigit() and batches == int(when):
            print(done, total, flush=True)
            die()

    backend.sync(index, batch_size=50, progress=progress)
    if when == "closing":
        # Killed inside Milvus Lite's own flush as the process ends: after the flush is committed,
        # before its log is deleted.
        from milvus_lite.storage.wal import WAL
        WAL.close_and_delete = lambda self, *args, **kwargs: die()
    print("synced", flush=True)
""")


def sync_then_die(tmp_path: Path, db: Path, when: str) -> subprocess.CompletedProcess:
    script = tmp_path / "sync_then_die.py"
    script.write_text(SYNC_THEN_DIE.format(repo=str(REPO)), encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", CLOSER_HOME=str(tmp_path / "home"))
    run = subprocess.run([sys.executable, str(script), str(db), when], capture_output=True, text=True, env=env,
                         cwd=REPO, timeout=120)
    assert run.returncode == -9, run.stdout + run.stderr
    return run


def assert_holds_exactly(backend: MilvusBackend, index) -> None:
    assert backend.counts() == {"passages": len(index.chunks), "sentences": sentence_count(index)}
    passages = all_keys(backend, backend.passages, "chunk_id")
    sentences = all_keys(backend, backend.sentence_collection, "id")
    assert len(passages) == len(set(passages)) == len(index.chunks)
    assert len(sentences) == len(set(sentences)) == sentence_count(index)
    assert set(passages) == {c.chunk_id for c in index.chunks}


@pytest.mark.parametrize("kill_after", [3, 10])  # among the sentences; after the first batch of passages
def test_a_sync_killed_midway_is_finished_by_the_next(index, tmp_path, kill_after):
    db = tmp_path / "killed.db"
    done, total = map(int, sync_then_die(tmp_path, db, str(kill_after)).stdout.split())
    assert 0 < done < total == len(index.chunks) + sentence_count(index)

    backend = MilvusBackend(MilvusSettings(str(db)), index.dimension, index.model_id)
    assert sum(backend.counts().values()) == done  # what the killed sync had written is there
    report = backend.sync(index, batch_size=50)
    # Only what was not written before the kill is written now.
    assert report.inserted_passages + report.inserted_sentences == total - done
    assert report.deleted_passages == report.deleted_sentences == 0
    assert_holds_exactly(backend, index)
    assert backend.sync(index) == SyncReport(kept_passages=len(index.chunks))
    backend.close()


def test_keys_milvus_lite_replays_after_a_crash_are_held_once_after_a_sync(index, tmp_path):
    db = tmp_path / "replayed.db"
    sync_then_die(tmp_path, db, "closing")
    backend = MilvusBackend(MilvusSettings(str(db)), index.dimension, index.model_id)
    if backend.counts()["passages"] == len(index.chunks):
        pytest.skip("this Milvus Lite does not replay a flushed log after a crash")
    assert backend.counts()["passages"] == 2 * len(index.chunks)
    query = EMBEDDER.encode([question_of(index, 12)])[0]
    found = [c for c, _ in backend.dense(query, 20)]
    assert len(found) == len(set(found)) and found[0] == index.chunks[12].chunk_id  # a second hit is left out
    # Small pages: the iterator reading the keys skips the second row of a key that ends a page.
    report = backend.sync(index, batch_size=7)
    assert report.inserted_passages == report.deleted_passages == len(index.chunks)
    assert_holds_exactly(backend, index)
    backend.close()


@pytest.mark.parametrize("dimension, model_id, message", [
    (32, "test/fake-hashing", "64-dimensional vectors"),
    (64, "sentence-transformers/other-model", "vectors of the model 'test/fake-hashing'"),
])
def test_collections_of_another_model_or_dimension_are_refused(synced, db, dimension, model_id, message):
    with pytest.raises(MilvusCollectionMismatch, match=message) as err:
        MilvusBackend(MilvusSettings(str(db)), dimension, model_id)
    assert "drop the collections closer_passages and closer_sentences" in str(err.value)


def test_a_collection_not_made_by_closer_is_refused(synced, db):
    backend, _, _ = synced
    backend._client.create_collection("foreign_passages", dimension=64)
    with pytest.raises(MilvusCollectionMismatch, match="foreign_passages .* was not made by closer"):
        MilvusBackend(MilvusSettings(str(db), collection="foreign"), 64, "test/fake-hashing")


def test_an_index_of_another_model_is_not_synced(synced, index, db):
    other = MilvusBackend(MilvusSettings(str(db), collection="other_model"), index.dimension, "test/another")
    with pytest.raises(MilvusCollectionMismatch, match="built with the model 'test/fake-hashing'"):
        other.sync(index)
    assert other.counts() == {"passages": 0, "sentences": 0}
    other.close()


def test_chunk_ids_with_quotes_and_backslashes_are_matched_exactly(db, synced):
    """An index seen through its attributes only, with keys a filter expression must escape."""
    ids = ['a"quoted"', "back\\slash", "it's", "new\nline", "plain"]
    vectors = np.eye(len(ids), 8, dtype=np.float32)
    chunks = [Chunk(chunk_id=i, article_id="odd", section="", start=0, end=4, text=f"word{n} shared", sentences=((0, 4),))
              for n, i in enumerate(ids)]
    odd = SimpleNamespace(chunks=chunks, articles={"odd": SimpleNamespace(source="odd.md")}, chunk_vectors=vectors,
                          sentence_vectors=vectors, has_sentence_vectors=True, sentence_rows=lambda i: range(i, i + 1),
                          context_text=lambda c: c.text, model_id="test/odd", dimension=8)
    backend = MilvusBackend(MilvusSettings(str(db), collection="odd"), 8, "test/odd")
    backend.sync(odd)
    for n, chunk_id in enumerate(ids):
        assert [c for c, _ in backend.dense(vectors[n], 4, chunk_ids=[chunk_id])] == [chunk_id]
        assert backend.dense(vectors[n], 1)[0] == (chunk_id, pytest.approx(1.0))
        assert [c for c, _ in backend.sentences(vectors[n], 4, chunk_ids=[chunk_id, "missing"])] == [chunk_id]
        assert [c for c, _ in backend.keyword("shared", 4, chunk_ids=[chunk_id])] == [chunk_id]
    odd.chunks, odd.chunk_vectors, odd.sentence_vectors = chunks[1:], vectors[1:], vectors[1:]
    report = backend.sync(odd)
    assert (report.deleted_passages, report.deleted_sentences, report.kept_passages) == (1, 1, len(ids) - 1)
    assert sorted(all_keys(backend, backend.passages, "chunk_id")) == sorted(ids[1:])
    backend.close()


HOLDER = textwrap.dedent("""
    import sys, time
    from pymilvus import MilvusClient
    MilvusClient(sys.argv[1])
    print("open", flush=True)
    time.sleep(60)
""")


def test_a_lite_file_open_in_another_process_is_unavailable_with_what_to_do(tmp_path):
    db = tmp_path / "held.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(MilvusUnavailable, match="stop the other process"):
            MilvusBackend(MilvusSettings(str(db)), 8, "test/odd")
    finally:
        holder.kill()
        holder.wait()


def test_a_server_that_is_not_there_is_unavailable():
    with pytest.raises(MilvusUnavailable, match="cannot be reached"):
        MilvusBackend(MilvusSettings("http://127.0.0.1:9"), 8, "test/odd")


SYNC_IN_ITS_OWN_PROCESS = textwrap.dedent("""
    import pickle, sys
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from index import build_index, load_index
    from index.milvus import MilvusBackend, MilvusSettings
    from tests.conftest import FakeEmbedder

    db, corpus, saved = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    embedder = FakeEmbedder()
    previous = (load_index(saved, model_id=embedder.model_id, dimension=embedder.dimension)
                if (saved / "manifest.json").exists() else None)
    index, _ = build_index(corpus, embedder, previous=previous)
    index.save(saved)
    backend = MilvusBackend(MilvusSettings(db), index.dimension, index.model_id)
    print(backend.sync(index).inserted_passages, flush=True)
""")


def sync_in_its_own_process(tmp_path: Path, db: Path, corpus: Path, saved: Path) -> int:
    script = tmp_path / "sync_in_its_own_process.py"
    script.write_text(SYNC_IN_ITS_OWN_PROCESS.format(repo=str(REPO)), encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", CLOSER_HOME=str(tmp_path / "home"))
    run = subprocess.run([sys.executable, str(script), str(db), str(corpus), str(saved)], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return int(run.stdout.split()[-1])


def test_after_updates_synced_by_other_processes_milvus_ranks_as_the_embedded_index(corpus_copy, tmp_path):
    """Milvus Lite keeps BM25 statistics per segment, and each process that writes leaves its own:
    the passages of an updated file, written by a later sync, are ranked in the engine by their
    few rows' statistics. The index scores the engine's candidates with its own, so the keyword
    and dense rankings through Milvus are the embedded index's, passage for passage."""
    from index import load_index
    from index.milvus import MilvusSearch

    db, saved = tmp_path / "updated.db", tmp_path / "index"
    sync_in_its_own_process(tmp_path, db, corpus_copy, saved)
    # Two updates, each synced by a process of its own: a file reworded, then another file cut.
    path = corpus_copy / f"{REMAINLY}.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("emotional intimacy", "closeness and trust", 3), encoding="utf-8")
    assert 0 < sync_in_its_own_process(tmp_path, db, corpus_copy, saved) < 40
    other = sorted(p for p in corpus_copy.glob("*.txt") if p != path)[0]
    other.write_text(other.read_text(encoding="utf-8")[:4000] + "\n\nTrust grows when closeness is kept.\n",
                     encoding="utf-8")
    assert 0 < sync_in_its_own_process(tmp_path, db, corpus_copy, saved) < 40

    index = load_index(saved, model_id=EMBEDDER.model_id, dimension=EMBEDDER.dimension)
    questions = [question_of(index, row) for row in range(0, len(index.chunks), 3)]
    questions += ["closeness and trust", "trust", "rebuilding trust after betrayal", "emotional intimacy"]
    n = index.settings.search.candidates
    embedded = [index.keyword_search(q, n) for q in questions]
    restricted = [index.keyword_search(q, 10, [REMAINLY]) for q in questions[-4:]]
    vectors = EMBEDDER.encode(questions)
    dense = [index.dense_search(v, n) for v in vectors]

    backend = MilvusBackend(MilvusSettings(str(db)), index.dimension, index.model_id)
    assert backend.counts()["passages"] == len(index.chunks)
    index.remote = MilvusSearch(backend, index)
    try:
        # The engine alone does not rank the updated file's passages as the whole library would.
        engine_top = [backend.keyword(q, n)[:1] for q in questions]
        local_top = [[(index.chunks[r].chunk_id, s) for r, s in ranking[:1]] for ranking in embedded]
        assert any([c for c, _ in e] != [c for c, _ in loc] for e, loc in zip(engine_top, local_top))
        for q, expected in zip(questions, embedded):
            assert index.keyword_search(q, n) == expected, q
        for q, expected in zip(questions[-4:], restricted):
            assert index.keyword_search(q, 10, [REMAINLY]) == expected, q
        for v, expected in zip(vectors, dense):  # the same cosines (of a subset's product), ties in any order
            found = index.dense_search(v, n)
            assert np.allclose([s for _, s in found], [s for _, s in expected], atol=1e-6)
            last = expected[-1][1] + 1e-6
            assert {r for r, s in found if s > last} == {r for r, s in expected if s > last}
    finally:
        index.remote = None
        backend.close()
