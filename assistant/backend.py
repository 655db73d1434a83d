"""Where the index's passages are searched: in this process (FAISS and bm25s, the default), or in
Milvus (`--backend milvus`), which the index's passages and sentences are synced to.

Either way the index itself stays here: the articles' text and offsets (so a quote is always the
article's own words), and the vectors and token vectors the candidates are scored with. Milvus
answers the two searches over the whole library (the closest passages and sentences, and BM25
in the engine); the assistant scores, fuses, re-scores word by word, declines, quotes and adds
the safety notice exactly as it does over the embedded index.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable

from index import CorpusIndex

from .settings import Settings


def index_state(index: CorpusIndex) -> str:
    """What identifies a built index's content (its build and counts, model and chunking)."""
    described = {"built_at": index.built_at, "model": index.model_id, "chunks": len(index.chunks),
                 "sentences": int(index.sentence_offsets[-1]), "files": {n: f.get("sha256") for n, f in index.files.items()},
                 "chunking": index.settings.chunking.to_dict(), "context": index.settings.context}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def connect(index: CorpusIndex, settings: Settings, *, collection: str | None = None,
            notify: Callable[[str], None] = lambda message: None, show_progress: bool = False):
    """Attach the backend `settings` choose to `index` (none for the embedded one). For Milvus
    the collections are synced first unless they already hold this very index; a sync that was
    interrupted is finished (index/milvus.py: every step of it is idempotent). Returns the
    sync's `SyncReport`, or None when nothing was synced."""
    if settings.backend != "milvus":
        index.remote = None
        return None
    try:
        from index.milvus import MilvusBackend, MilvusSearch, MilvusSettings
    except ImportError as exc:  # pymilvus is an optional extra
        from .errors import BadRequest

        raise BadRequest("the Milvus backend needs pymilvus: pip install -c constraints.txt -e '.[milvus]' "
                         f"({exc})") from exc
    target = MilvusSettings(uri=settings.milvus_target, token=settings.milvus_token,
                            collection=collection or settings.milvus_collection)
    backend = MilvusBackend(target, index.dimension or 384, index.model_id)
    state = index_state(index)
    report = None
    if backend.synced_state() != state:
        notify(f"Syncing {len(index.chunks)} passages to Milvus at {target.uri} ({target.collection}_passages).")
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(desc="Syncing to Milvus", unit="row", leave=False)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        report = backend.sync(index, progress=progress)
        if bar is not None:
            bar.close()
        backend.mark_synced(state)
        if report.changed:
            notify(f"Milvus: {report.inserted_passages} passages and {report.inserted_sentences} sentences written, "
                   f"{report.deleted_passages} and {report.deleted_sentences} removed, {report.kept_passages} kept.")
    index.remote = MilvusSearch(backend, index)
    return report
