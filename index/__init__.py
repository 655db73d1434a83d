"""index: chunks -> normalised MiniLM vectors in FAISS plus a bm25s keyword index, saved as a
directory that describes itself."""

from .build import BuildReport, build_index, corpus_state, index_documents, indexed_state, is_current
from .cache import CachedEmbedder
from .embedders import DEFAULT_MODEL, BundledMiniLM, Embedder, can_encode_tokens, get_embedder
from .errors import CorpusIndexError, CorruptIndex, IncompatibleIndex, IndexNotFound, ModelUnavailable
from .keywords import KeywordIndex, tokenize
from .store import (FORMAT_VERSION, Calibration, CorpusIndex, IndexSettings, SearchSettings, check_manifest, embedding_text,
                    load_index, read_manifest)

__all__ = [
    "BuildReport", "BundledMiniLM", "CachedEmbedder", "Calibration", "CorpusIndex", "CorpusIndexError", "CorruptIndex",
    "DEFAULT_MODEL", "Embedder", "FORMAT_VERSION", "IncompatibleIndex", "IndexNotFound", "IndexSettings",
    "KeywordIndex", "ModelUnavailable", "SearchSettings", "build_index", "can_encode_tokens", "check_manifest", "corpus_state",
    "embedding_text", "get_embedder", "index_documents", "indexed_state", "is_current", "load_index", "read_manifest",
    "tokenize",
]
