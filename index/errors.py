"""Specific index failures; the CLI and the web page say what to do about them."""


class CorpusIndexError(Exception):
    """Base class for index failures."""


class IndexNotFound(CorpusIndexError):
    """There is no index in the folder yet."""


class IncompatibleIndex(CorpusIndexError):
    """The index was built with another model, dimension or format version."""


class CorruptIndex(CorpusIndexError):
    """The index folder is incomplete or its parts disagree (counts, missing files)."""


class ModelUnavailable(CorpusIndexError):
    """The embedding model cannot be loaded here."""


class BadIndexSetting(CorpusIndexError):
    """A setting of how the index is laid out (vector index, token storage) is not one it knows."""
