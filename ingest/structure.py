"""From cleaned blocks to an article's text: find the title and the headings, lay the blocks out
as one string and record where every block and section starts and ends in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .loaders import BULLET_RE
from .records import SECTION_SEPARATOR, Block, Section

NUMBERED_RE = re.compile(r"^\d{1,2}[.)]\s+\S")
INTRODUCTION = "Introduction"
_NO_HEADING_END = (".", ",", ";", "…", "”", '"', "'")


@dataclass(frozen=True)
class PlacedBlock:
    """A block and its span in the article text."""

    start: int
    end: int
    kind: str  # "title" | "heading" | "paragraph" | "item"
    level: int
    section: str  # path of the section it belongs to ("" before any heading)
    page: int | None


@dataclass
class Layout:
    text: str
    title: str | None
    blocks: list[PlacedBlock]
    sections: list[Section]
    pages: list[tuple[int, int, int]]


def _heading_like(text: str) -> bool:
    words = text.split()
    return (0 < len(words) <= 14 and len(text) <= 100 and not text.endswith(_NO_HEADING_END)
            and (text[0].isupper() or text[0].isdigit() or not text[0].isalpha()))


def detect_heading(block: Block, nxt: Block | None) -> int:
    """Heading level of a block whose format did not say (0: not a heading).

    Scraped articles mark headings as short lines without closing punctuation. A line ending in
    a colon is a subheading when prose follows ("Practice gratitude:") and a list's lead-in when
    items follow ("Try:"). A short numbered line followed by prose is a numbered subheading
    ("3. Avoiding Difficult Conversations"); a long one is a list item.
    """
    if nxt is None:
        return 0
    text = block.text
    next_is_item = nxt.kind == "item" or bool(BULLET_RE.match(nxt.text))
    if block.kind == "item":
        if NUMBERED_RE.match(text) and _heading_like(text) and not text.endswith(":") and not next_is_item:
            return 2
        return 0
    if block.kind is not None or not _heading_like(text):
        return 0
    if text.endswith(":"):
        return 2 if not next_is_item and len(text.split()) <= 8 else 0
    return 1


def lay_out(blocks: list[Block], *, title: str | None) -> Layout:
    """Join blocks into the article text: a blank line between blocks, one newline between the
    items of a list. Returns every span, so that offsets can be checked against the text."""
    if not blocks:
        return Layout("", title, [], [], [])
    kinds: list[tuple[str, int]] = []
    first = blocks[0]
    title_index = None
    if title and first.text.casefold() == title.strip().casefold():
        title_index = 0
    elif not title and len(blocks) > 1 and _heading_like(first.text) and first.kind in (None, "heading") \
            and not first.text.endswith(":"):
        title, title_index = first.text, 0
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if i == title_index:
            kinds.append(("title", 0))
        elif block.kind == "heading":
            kinds.append(("heading", block.level or 1))
        else:
            level = detect_heading(block, nxt)
            kinds.append(("heading", level) if level else (block.kind or "paragraph", 0))
    # Formats that give levels (Markdown, HTML) may start below 1 or use the title's h1 again:
    # map the levels in use onto 1 and 2, the depth citations show.
    used = sorted({lvl for kind, lvl in kinds if kind == "heading"})
    remap = {lvl: min(rank + 1, 2) for rank, lvl in enumerate(used)}
    kinds = [(k, remap[lvl]) if k == "heading" else (k, lvl) for k, lvl in kinds]

    parts: list[str] = []
    offset = 0
    placed: list[PlacedBlock] = []
    parent = ""
    current = ""
    prev_kind = None
    for block, (kind, level) in zip(blocks, kinds):
        sep = "" if not parts else ("\n" if kind == "item" and prev_kind == "item" else "\n\n")
        parts.append(sep)
        offset += len(sep)
        start, end = offset, offset + len(block.text)
        parts.append(block.text)
        offset = end
        if kind == "heading":
            name = block.text.rstrip(":").rstrip()
            if level == 1:
                parent, current = name, name
            else:
                current = f"{parent}{SECTION_SEPARATOR}{name}" if parent else name
        elif kind != "title" and not current:
            current = INTRODUCTION
        placed.append(PlacedBlock(start, end, kind, level, current if kind != "title" else "", block.page))
        prev_kind = kind
    text = "".join(parts)
    return Layout(text, title, placed, _sections(placed, text), _pages(placed))


def _sections(placed: list[PlacedBlock], text: str) -> list[Section]:
    sections: list[Section] = []
    heads = [b for b in placed if b.kind == "heading"]
    body = [b for b in placed if b.kind not in ("title", "heading")]
    if body and (not heads or body[0].start < heads[0].start):
        intro_end = heads[0].start if heads else len(text)
        intro_end = max(b.end for b in body if b.start < intro_end)
        sections.append(Section(INTRODUCTION, 1, body[0].start, intro_end, INTRODUCTION))
    for i, head in enumerate(heads):
        later = [h for h in heads[i + 1:] if h.level <= head.level]
        limit = later[0].start if later else len(text) + 1
        end = max(b.end for b in placed if head.start <= b.start < limit)
        title = text[head.start:head.end]
        sections.append(Section(title, head.level, head.start, end, head.section))
    return sections


def _pages(placed: list[PlacedBlock]) -> list[tuple[int, int, int]]:
    pages: list[tuple[int, int, int]] = []
    for b in placed:
        if b.page is None:
            continue
        if pages and pages[-1][0] == b.page:
            pages[-1] = (b.page, pages[-1][1], b.end)
        else:
            pages.append((b.page, b.start, b.end))
    return pages
