"""Specific failures of reading a document. The CLI and the web page turn them into sentences."""


class IngestError(Exception):
    """Base class: a file could not be turned into an article."""


class UnsupportedFileType(IngestError):
    """The file's extension is not one of the formats ingest reads."""


class UnreadableFile(IngestError):
    """The file exists but could not be decoded or parsed (binary data, a corrupt PDF, ...)."""


class EmptyDocument(IngestError):
    """The file was read but holds no text once cleaned (an image-only PDF, an empty page)."""


class MetadataError(IngestError):
    """The corpus metadata file is not valid TOML or has entries of the wrong shape."""
