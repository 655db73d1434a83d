"""ingest: files -> clean article text, sections and chunks with exact character offsets."""

# Bump when cleaning, structure or chunking changes what a file becomes: indexes made by another
# version are rebuilt and none of their vectors reused.
INGEST_VERSION = 3  # 2: promotional sentences marked; 3: a title from the first heading

from .chunking import ChunkSettings, chunk_layout, sentence_spans
from .clean import CleanReport, clean_blocks
from .corpus import (METADATA_FILE, ArticleMeta, CorpusReport, IngestedFile, Skipped, corpus_files,
                     file_sha256, ingest_file, ingest_text, read_corpus, read_metadata)
from .errors import EmptyDocument, IngestError, MetadataError, UnreadableFile, UnsupportedFileType
from .loaders import SUPPORTED_SUFFIXES, load_document
from .records import SECTION_SEPARATOR, Article, Block, Chunk, Section
from .structure import INTRODUCTION

__all__ = [
    "Article", "ArticleMeta", "Block", "Chunk", "ChunkSettings", "CleanReport", "CorpusReport",
    "EmptyDocument", "INGEST_VERSION", "INTRODUCTION", "IngestError", "IngestedFile", "METADATA_FILE", "MetadataError", "SECTION_SEPARATOR",
    "SUPPORTED_SUFFIXES", "Section", "Skipped", "UnreadableFile", "UnsupportedFileType", "chunk_layout",
    "clean_blocks", "corpus_files", "file_sha256", "ingest_file", "ingest_text", "load_document", "read_corpus",
    "read_metadata", "sentence_spans",
]
