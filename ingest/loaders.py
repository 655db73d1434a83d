"""Turn a file into a list of blocks, by format. What the format says (headings, list items,
pages) is kept; what it doesn't is left to heading detection in `structure`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .errors import EmptyDocument, UnreadableFile, UnsupportedFileType
from .records import Block

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
BULLET_RE = re.compile(r"^\s*(?:[•▪◦●‣∙·\-–*+]|\d{1,2}[.)])\s+")


@dataclass
class LoadedDocument:
    """What a loader found: blocks in reading order and, where the file says, a title."""

    blocks: list[Block]
    title: str | None = None
    pages: int = 0
    meta: dict = field(default_factory=dict)


def load_document(path: Path) -> LoadedDocument:
    """Read `path` with the loader for its extension."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if suffix == ".pdf":
        doc = load_pdf(path)
    else:
        text = read_text(path)
        if suffix == ".md":
            doc = load_markdown(text)
        elif suffix in (".html", ".htm"):
            doc = load_html(text)
        else:
            doc = load_plain_text(text)
    if not any(b.text.strip() for b in doc.blocks):
        raise EmptyDocument(f"{path.name}: no text found in the file")
    return doc


def read_text(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else Windows-1252; refuse binary data."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"{path.name}: looks like binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name}: not UTF-8 or Windows-1252 text ({exc.reason})") from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 100):
        raise UnreadableFile(f"{path.name}: looks like binary data, not text")
    return text


def load_plain_text(text: str) -> LoadedDocument:
    """Each non-empty line is a block: scraped pages put one paragraph, heading or item a line."""
    blocks = []
    for line in text.splitlines():
        if line.strip():
            kind = "item" if BULLET_RE.match(line) and len(line.split()) > 1 else None
            blocks.append(Block(line, kind=kind))
    return LoadedDocument(blocks=blocks)


def load_markdown(text: str) -> LoadedDocument:
    """Parse Markdown with markdown-it: headings, paragraphs and list items, markup removed."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    title = None
    in_item = 0
    pending_heading = None
    for i, tok in enumerate(tokens):
        if tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        elif tok.type == "heading_open":
            pending_heading = int(tok.tag[1])
        elif tok.type == "inline":
            content = _inline_text(tok)
            if not content.strip():
                continue
            if pending_heading is not None:
                blocks.append(Block(content, kind="heading", level=pending_heading))
                if pending_heading == 1 and title is None:
                    title = content.strip()
                pending_heading = None
            else:
                kind = "item" if in_item else "paragraph"
                for line in content.split("\n"):
                    if line.strip():
                        blocks.append(Block(line, kind=kind))
    return LoadedDocument(blocks=blocks, title=title)


def _inline_text(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "image":
            continue  # alt text of an image is a caption, not prose
    return "".join(parts)


class _HTMLBlocks(HTMLParser):
    """Collect text by block element; skip what is never prose (scripts, navigation, forms)."""

    SKIP = {"script", "style", "noscript", "nav", "footer", "header", "aside", "form", "svg",
            "button", "select", "iframe", "template", "figcaption"}
    BLOCK = {"p", "div", "section", "article", "main", "li", "blockquote", "pre", "br", "tr",
             "td", "th", "dd", "dt", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._buf: list[str] = []
        self._skip = 0
        self._kind: str | None = None
        self._level = 0
        self._in_title = False
        self._title_buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self._flush()
            if tag[0] == "h" and tag[1:].isdigit():
                self._kind, self._level = "heading", int(tag[1:])
            elif tag == "li":
                self._kind = "item"

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
            self.title = " ".join("".join(self._title_buf).split()) or None
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data):
        if self._in_title:
            self._title_buf.append(data)
        elif not self._skip:
            self._buf.append(data)

    def _flush(self):
        text = " ".join("".join(self._buf).split())
        if text:
            self.blocks.append(Block(text, kind=self._kind or "paragraph", level=self._level))
        self._buf, self._kind, self._level = [], None, 0

    def close(self):
        super().close()
        self._flush()


def load_html(text: str) -> LoadedDocument:
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    h1 = next((b.text for b in parser.blocks if b.kind == "heading" and b.level == 1), None)
    return LoadedDocument(blocks=parser.blocks, title=h1 or parser.title)


_PAGE_NUMBER_RE = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s+(?:of|/)\s+\d{1,4})?$", re.I)


def load_pdf(path: Path) -> LoadedDocument:
    """Extract text page by page with pypdf; rejoin lines that the page layout wrapped."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs or can't ("EOF marker not found"); the error below says it once.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise UnreadableFile(f"{path.name}: not a readable PDF ({exc})") from exc
    blocks: list[Block] = []
    for number, page_text in enumerate(pages, start=1):
        for paragraph in _pdf_paragraphs(page_text):
            if _PAGE_NUMBER_RE.match(paragraph):
                continue
            kind = "item" if BULLET_RE.match(paragraph) else None
            blocks.append(Block(paragraph, kind=kind, page=number))
    if not blocks:
        raise EmptyDocument(f"{path.name}: the PDF has no extractable text (scanned images?)")
    return LoadedDocument(blocks=blocks, title=title, pages=len(pages))


def _pdf_paragraphs(page_text: str) -> list[str]:
    """Join wrapped lines: a line continues the previous one unless that one ended a sentence
    or was short (a heading), or this one starts a list item."""
    paragraphs: list[str] = []
    current = ""
    for raw in page_text.splitlines():
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if not current:
            current = line
            continue
        prev_short = len(current.split()) <= 12 and not current.endswith((".", ",", ";"))
        starts_item = bool(BULLET_RE.match(line))
        ended = current.endswith((".", "!", "?", ":", "”", '"')) and line[:1].isupper()
        if starts_item or ended or (prev_short and line[:1].isupper()):
            paragraphs.append(current)
            current = line
        elif current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
    if current:
        paragraphs.append(current)
    return paragraphs
