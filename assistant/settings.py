"""Where closer reads and writes. Everything it writes lives under one data folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "CLOSER_HOME"
CORPUS_ENV = "CLOSER_CORPUS"
COUNTRY_ENV = "CLOSER_COUNTRY"  # the deployment's country, for the safety notice's resources
BACKEND_ENV = "CLOSER_BACKEND"  # embedded (FAISS + bm25s, in this process) | milvus
MILVUS_URI_ENV = "CLOSER_MILVUS_URI"
MILVUS_TOKEN_ENV = "CLOSER_MILVUS_TOKEN"
MILVUS_COLLECTION_ENV = "CLOSER_MILVUS_COLLECTION"
BACKENDS = ("embedded", "milvus")

# `closer serve`, chosen with benchmarks/bench_load.py (32 clients on 2 cores; benchmarks/README):
# four answers at once, each with its share of the cores, answered 17 % more a second than two
# and as many as eight with less memory; a queue of 64 is about six seconds of answers at that
# rate, and a request beyond it is refused at once rather than left waiting.
SERVE_CONCURRENCY = 4
SERVE_QUEUE = 64


def default_home() -> Path:
    """The platform's user data folder (~/.local/share/closer on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("closer", appauthor=False))


def default_corpus() -> Path:
    """The repository's corpus/ folder (the package is installed from a checkout), else ./corpus."""
    repo_corpus = Path(__file__).resolve().parent.parent / "corpus"
    return repo_corpus if repo_corpus.is_dir() else Path.cwd() / "corpus"


COUNTRY_ALIASES = {"UK": "GB"}


def country_setting(value: str | None = None) -> str | None:
    """An ISO country code from `value`, else CLOSER_COUNTRY (upper case, UK read as GB); None if unset."""
    raw = (value or os.environ.get(COUNTRY_ENV) or "").strip().upper()
    return COUNTRY_ALIASES.get(raw, raw) or None


# The name index/exported.py reads (its THREADS_ENV; not imported from there, which would load the
# index package, FAISS and bm25s, before the page is up): threads of a question-path session.
THREADS_ENV = "CLOSER_THREADS"


def check_threads() -> None:
    """CLOSER_THREADS, where set, is a whole number of at least 1 (`index.exported.question_threads`
    reads it; unset or empty, every core); anything else is refused with what to set."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
        from .errors import BadRequest

        raise BadRequest(f"{THREADS_ENV} is {raw!r}: set it to a whole number of threads, at least 1 "
                         f"(e.g. {THREADS_ENV}=2), or unset it to use every core")


@dataclass(frozen=True)
class Settings:
    home: Path
    corpus: Path
    country: str | None = None  # ISO 3166 code (US, GB, ...); None: the international directory
    # Where passages are searched: "embedded" (FAISS and bm25s in this process) or "milvus" (the
    # engine at `milvus_uri`: a server or cluster, or a Milvus Lite file; default HOME/milvus.db).
    backend: str = "embedded"
    milvus_uri: str | None = None
    milvus_token: str = ""
    milvus_collection: str = "closer"

    @classmethod
    def resolve(cls, home: str | Path | None = None, corpus: str | Path | None = None,
                country: str | None = None, backend: str | None = None, milvus_uri: str | None = None,
                milvus_token: str | None = None, milvus_collection: str | None = None) -> "Settings":
        """Explicit values first, then CLOSER_HOME / CLOSER_CORPUS / CLOSER_COUNTRY / CLOSER_BACKEND /
        CLOSER_MILVUS_URI / CLOSER_MILVUS_TOKEN / CLOSER_MILVUS_COLLECTION, then the defaults; a bad
        CLOSER_THREADS is refused here (`check_threads`)."""
        home = home or os.environ.get(HOME_ENV) or default_home()
        corpus = corpus or os.environ.get(CORPUS_ENV) or default_corpus()
        check_threads()
        backend = (backend or os.environ.get(BACKEND_ENV) or "embedded").strip().lower()
        if backend not in BACKENDS:
            from .errors import BadRequest

            raise BadRequest(f"the backend {backend!r} is not one of {', '.join(BACKENDS)}")
        return cls(Path(home).expanduser().resolve(), Path(corpus).expanduser().resolve(), country_setting(country),
                   backend, milvus_uri or os.environ.get(MILVUS_URI_ENV) or None,
                   milvus_token or os.environ.get(MILVUS_TOKEN_ENV) or "",
                   milvus_collection or os.environ.get(MILVUS_COLLECTION_ENV) or "closer")

    @property
    def milvus_target(self) -> str:
        """The Milvus URI: as set, else a Milvus Lite file in the data folder."""
        return self.milvus_uri or str(self.home / "milvus.db")

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.sqlite"

    @property
    def models_dir(self) -> Path:
        """The models the question path runs, exported to ONNX (index/exported.py)."""
        return self.home / "models"
