"""Records that ingest produces. Every span is a pair of offsets into its article's cleaned text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SECTION_SEPARATOR = " › "


@dataclass(frozen=True)
class Block:
    """One unit of a loaded document before it becomes text: a heading, a paragraph or a list item.

    `kind` is None when the file format does not say (plain text, PDF); heading detection decides.
    """

    text: str
    kind: str | None = None  # "heading" | "paragraph" | "item" | None
    level: int = 0  # heading level where the format says (1 for <h1> or "#")
    page: int | None = None


@dataclass(frozen=True)
class Section:
    """A heading and the span of text it governs, heading included."""

    title: str
    level: int
    start: int
    end: int
    path: str  # "Parent › Child" for a subsection, the title itself otherwise

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """A passage of one section: `text == article.text[start:end]`.

    `sentences` are (start, end) offsets, in the same coordinates, of each sentence or list item.
    """

    chunk_id: str
    article_id: str
    section: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["sentences"] = [list(span) for span in self.sentences]
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "Chunk":
        record = dict(record)
        record["sentences"] = tuple(tuple(span) for span in record["sentences"])
        return cls(**record)


@dataclass
class Article:
    """A cleaned document: `text` is what every offset of its sections and chunks points into."""

    article_id: str
    title: str
    publisher: str
    text: str
    sections: list[Section]
    source: str  # file name inside the corpus folder
    url: str | None = None
    pages: list[tuple[int, int, int]] = field(default_factory=list)  # (page, start, end) for PDFs
    # Sentences that sell rather than say (adverts, calls to action, biographies): kept in the
    # text, marked where it is shown, never quoted as an answer (ingest/promotional.py).
    promotional: list[tuple[int, int]] = field(default_factory=list)

    def section_at(self, offset: int) -> Section | None:
        """The innermost section whose span holds `offset`."""
        found = None
        for section in self.sections:
            if section.start <= offset < section.end and (found is None or section.level >= found.level):
                found = section
        return found

    def page_at(self, offset: int) -> int | None:
        for page, start, end in self.pages:
            if start <= offset < end:
                return page
        return None

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["pages"] = [list(p) for p in self.pages]
        record["promotional"] = [list(p) for p in self.promotional]
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "Article":
        record = dict(record)
        record["sections"] = [Section(**s) for s in record["sections"]]
        record["pages"] = [tuple(p) for p in record.get("pages", [])]
        record["promotional"] = [tuple(p) for p in record.get("promotional", [])]
        return cls(**record)
