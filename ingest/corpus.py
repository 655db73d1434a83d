"""Read a corpus folder: every supported file becomes an article; what fails is reported, not fatal."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import ChunkSettings, chunk_layout
from .clean import CleanReport, clean_blocks
from .errors import EmptyDocument, IngestError, MetadataError
from .loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_document, load_plain_text
from .promotional import promotional_spans
from .records import Article, Chunk
from .structure import INTRODUCTION, lay_out

METADATA_FILE = "articles.toml"


@dataclass(frozen=True)
class ArticleMeta:
    title: str | None = None
    publisher: str = ""
    url: str | None = None


@dataclass
class IngestedFile:
    article: Article
    chunks: list[Chunk]
    sha256: str


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class CorpusReport:
    """What reading the corpus did: files read, files skipped with why, and what cleaning removed."""

    files: list[IngestedFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    cleaning: CleanReport = field(default_factory=CleanReport)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_metadata(corpus_dir: Path) -> dict[str, ArticleMeta]:
    """Titles, publishers and urls by article id, from `articles.toml` if the folder has one."""
    path = corpus_dir / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{path}: not valid TOML ({exc})") from exc
    meta = {}
    for article_id, entry in data.items():
        if not isinstance(entry, dict):
            raise MetadataError(f"{path}: [{article_id}] must be a table with title, publisher, url")
        meta[article_id] = ArticleMeta(
            title=entry.get("title"), publisher=entry.get("publisher", ""), url=entry.get("url"))
    return meta


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The documents of a corpus folder, in name order; hidden files and the metadata skipped."""
    return sorted(p for p in corpus_dir.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES)


def ingest_file(path: Path, *, meta: ArticleMeta | None = None, settings: ChunkSettings = ChunkSettings(),
                report: CleanReport | None = None, article_id: str | None = None) -> IngestedFile:
    """Load, clean, structure and chunk one file. Raises an `IngestError` if it can't."""
    return _ingest_loaded(load_document(path), article_id or path.stem, source=path.name, meta=meta,
                          sha256=file_sha256(path), settings=settings, report=report)


def ingest_text(article_id: str, text: str, *, meta: ArticleMeta | None = None,
                settings: ChunkSettings = ChunkSettings(), report: CleanReport | None = None) -> IngestedFile:
    """Ingest a document given as plain text (one paragraph a line), e.g. a record of a benchmark
    corpus. Same cleaning, structure and chunking as a `.txt` file."""
    return _ingest_loaded(load_plain_text(text), article_id, source=article_id, meta=meta,
                          sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), settings=settings,
                          report=report)


def _ingest_loaded(doc: LoadedDocument, article_id: str, *, source: str, meta: ArticleMeta | None,
                   sha256: str, settings: ChunkSettings, report: CleanReport | None) -> IngestedFile:
    meta = meta or ArticleMeta()
    blocks = clean_blocks(doc.blocks, title=meta.title or doc.title, report=report)
    if not blocks:
        raise EmptyDocument(f"{source}: nothing left after removing page leftovers")
    layout = lay_out(blocks, title=meta.title or doc.title)
    # No title in articles.toml nor one the layout found: the first heading, else the file's name.
    headings = [s for s in sorted(layout.sections, key=lambda s: (s.start, s.level)) if s.title != INTRODUCTION]
    first_heading = headings[0].title.lstrip("# ").strip() if headings else None
    title = (meta.title or layout.title or first_heading
             or Path(source).stem.replace("_", " ").replace("-", " ").strip())
    chunks = chunk_layout(article_id, layout, settings)
    sentences = sorted({span for chunk in chunks for span in chunk.sentences})
    article = Article(article_id=article_id, title=title, publisher=meta.publisher, text=layout.text,
                      sections=layout.sections, source=source, url=meta.url, pages=layout.pages,
                      promotional=promotional_spans(layout.text, sentences))
    return IngestedFile(article, chunks, sha256)


def read_corpus(corpus_dir: Path, settings: ChunkSettings = ChunkSettings(), *,
                only: set[str] | None = None) -> CorpusReport:
    """Ingest every supported file in `corpus_dir` (or just the names in `only`)."""
    report = CorpusReport()
    meta = read_metadata(corpus_dir)
    seen: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        if only is not None and path.name not in only:
            continue
        if path.stem in seen:
            report.skipped.append(Skipped(path.name, f"same article id as {seen[path.stem]}; rename one of them"))
            continue
        try:
            report.files.append(ingest_file(path, meta=meta.get(path.stem), settings=settings,
                                            report=report.cleaning))
            seen[path.stem] = path.name
        except IngestError as exc:
            report.skipped.append(Skipped(path.name, str(exc)))
        except OSError as exc:
            report.skipped.append(Skipped(path.name, f"{path.name}: cannot be read ({exc.strerror or exc})"))
    return report
